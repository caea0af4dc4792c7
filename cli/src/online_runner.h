// Online migrations from the command line: the MigrationObserver over the
// store (checkpoints), the audit log (one event per phase) and the terminal
// (a progress line on a TTY, JSON progress lines on stderr otherwise), and
// SIGINT/SIGTERM as a pause (the copy stops at its next checkpoint).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "commands.h"
#include "progress_line.h"
#include "sqlx/planner/online.h"
#include "sqlx/storage/audit_log.h"
#include "sqlx/storage/store.h"

namespace sqlx::cli {

class CliMigrationObserver final : public planner::MigrationObserver {
 public:
  // `text`: human output (else --format json). Installs the pause signals
  // for its lifetime.
  CliMigrationObserver(storage::Store& store, storage::AuditLog& audit, bool text);
  ~CliMigrationObserver() override;

  Status Checkpoint(const planner::MigrationState& state) override;
  void Event(const planner::MigrationState& state, std::string_view event, const Error* error,
             const std::string& details_json) override;
  void Progress(const planner::MigrationState& state, double rows_per_second, std::string_view throttled) override;
  bool StopRequested() override;

  bool paused() const;

 private:
  storage::Store& store_;
  storage::AuditLog& audit_;
  bool text_;
  ProgressLine line_;
  std::chrono::steady_clock::time_point last_json_{};
};

// "12.3k rows/s, 45% (450000 of ~1000000 rows), ETA 1m05s".
std::string MigrationProgressText(const planner::MigrationState& state, double rows_per_second);

// The engine's options from the command line (apply, migrations resume).
planner::OnlineOptions OnlineOptionsOf(bool postpone_cutover, double chunk_time, uint64_t max_threads_running);

}  // namespace sqlx::cli
