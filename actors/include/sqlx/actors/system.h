// The in-process actor system (docs/actors.md): the connection, learner and
// snapshot actors under a supervisor, behind a small blocking API for the
// CLI. No CAF type appears here: CAF stays in actors/src.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sqlx/actors/plan_runner.h"
#include "sqlx/messages/ir.h"
#include "sqlx/messages/result.h"
#include "sqlx/storage/store.h"
#include "sqlx/transports/url.h"

namespace sqlx::actors {

struct SystemOptions {
  // CAF scheduler threads for the event-based actors (connections and
  // snapshot writes have threads of their own). Default 2.
  size_t scheduler_threads = 2;
  // Not owned; must outlive the System. Null: learned databases are not
  // stored. Default: null.
  storage::Store* store = nullptr;
  // Runs of one job at most, the first included: a job whose actor exits
  // mid-job, or that fails with a retryable error (jobs::IsRetryable), runs
  // again until then. Default 3.
  uint32_t max_attempts = 3;
  // Wire pack search (transports::SessionOptions::pack_dir). Default: empty.
  std::string pack_dir;
  uint32_t connect_timeout_ms = 10000;  // default 10 s
  // Runs ApplyPlan's plans on the connection actor's session; the caller
  // that links the driver supplies it (plan_runner.h). Default: empty
  // (ApplyPlan fails with kUnsupported).
  PlanRunner plan_runner;
};

// One database as the actors learned (and, with a store, stored) it.
struct LearnedDatabase {
  std::string name;
  std::string profile_hash;              // lowercase hex SHA-256
  ir::Database schema;                   // canonical, read back from the message's SQIR buffer
  std::vector<std::string> not_visible;  // non-empty: a partial snapshot
  uint64_t stored_version = 0;           // 0: not stored (no store, or an error)
  std::string change;                    // "new", "changed", "unchanged"; empty: not stored
  std::optional<Error> error;            // set: not learned (the server does not show it)
};

struct LearnedDatabases {
  std::string connection;  // "user@host:port"
  std::vector<LearnedDatabase> databases;  // one per requested name, in order
  uint32_t attempts = 0;   // runs the job took (1 unless one was retried)
};

// Thread-safety: the calls may be made from several threads; each blocks
// until its job is answered.
class System {
 public:
  explicit System(const SystemOptions& options = {});
  ~System();
  System(const System&) = delete;
  System& operator=(const System&) = delete;

  // Learns `names` on the server behind `url` (connection → learner →
  // snapshot when a store is set): the same IR and profile hashes as
  // flo::LearnDatabases. A database the server does not show is an entry
  // with `error`; the call fails when the whole job does (connect, auth,
  // a lost connection after max_attempts, an actor exiting every attempt).
  Result<LearnedDatabases> LearnDatabases(const transports::ConnectionUrl& url, const std::vector<std::string>& names);

  // The capability matrix of the server behind `url` (flo::LearnServer),
  // canonical JSON as the store keeps it; `fingerprint_salt` empty: none.
  Result<std::string> LearnServerCapabilities(const transports::ConnectionUrl& url,
                                              const std::string& fingerprint_salt);

  // Runs a plan on the server behind `url` (supervisor → apply actor →
  // connection → plan_runner). A retryable failure (a lost connection) runs
  // the job again; the driver's runner learns the live schema first, so a
  // repeat after some operations ran stops at drift or already-applied
  // instead of applying twice.
  Result<ApplySummary> ApplyPlan(const transports::ConnectionUrl& url, const ApplyRequest& request);

  // What the caller of RunEnvelope adds to one job's run.
  struct RunHooks {
    // An apply job's fence: ApplyRequest::before_change. Default: none.
    std::function<Status()> before_change;
  };

  // Runs one job given in its wire form (a jobs envelope, as a worker takes
  // it off the bus) on the server behind `url`, and returns the answer in
  // its wire form: the job's result kind, or an Error envelope (with the
  // job's id) when the job failed. Fails only when `job` is not a job
  // envelope (kInvalidArgument naming what is wrong).
  Result<std::string> RunEnvelope(const transports::ConnectionUrl& url, std::string_view job,
                                  const RunHooks& hooks = {});

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sqlx::actors
