// Online migrations on the terminal: what `sqlx apply` and `sqlx migrations`
// show of a migration (phase events on stderr; progress as a line on a TTY,
// else one JSON line a second on stderr) and SIGINT/SIGTERM as a pause (the
// copy stops at its next checkpoint).
#pragma once

#include <chrono>
#include <string>

#include "commands.h"
#include "progress_line.h"
#include "sqlx/planner/online.h"
#include "sqlx/transports/url.h"
#include "store_migration_observer.h"

namespace sqlx::cli {

class MigrationTerminal {
 public:
  // `text`: human output (else --format json: events are not echoed).
  // Installs the pause signals for its lifetime.
  explicit MigrationTerminal(bool text);
  ~MigrationTerminal();
  MigrationTerminal(const MigrationTerminal&) = delete;
  MigrationTerminal& operator=(const MigrationTerminal&) = delete;

  // Hooks for StoreMigrationObserver / ApplyOptions that report here.
  MigrationHooks Hooks();
  bool paused() const;

 private:
  void OnEvent(const planner::MigrationState& state, std::string_view event, const Error* error);
  void OnProgress(const planner::MigrationState& state, double rows_per_second, std::string_view throttled);

  bool text_;
  ProgressLine line_;
  std::chrono::steady_clock::time_point last_json_{};
};

// "migration ID t: 12.3k rows/s, 450000 of ~1000000 rows (45%), ETA 1m05s".
std::string MigrationProgressText(const planner::MigrationState& state, double rows_per_second);

// The engine's options from the command line (apply, migrations resume):
// with --replica, a session to each replica is opened here (an unreachable
// one, or one that is not a replica, is the error) and kept for the
// options' replica_lag.
// `--replica discover` stands for every replica the primary lists (SHOW
// REPLICA HOSTS: each must report its address with report_host and
// report_port), reached as `primary_url` with that host and port.
// `primary`: the resolved URL the engine's session is opened with; the
// engine's second session (open_session: indexes built beside the copy)
// is opened the same way.
Result<planner::OnlineOptions> OnlineOptionsOf(const GlobalOptions& g, const OnlineArgs& args,
                                               const std::string& primary_url,
                                               const transports::ConnectionUrl& primary);

}  // namespace sqlx::cli
