// What the apply actor needs and cannot link: running a plan over a session
// is the driver's (cli/, sqlx::driver: ApplyPlan), and cli/ sits above
// actors/ (docs/architecture.md). So actors/ declares the function it calls
// and the caller that links the driver passes it in (SystemOptions), as
// planner/ declares the interfaces it needs.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "sqlx/messages/result.h"
#include "sqlx/storage/audit_log.h"
#include "sqlx/transports/session.h"
#include "sqlx/transports/url.h"

namespace sqlx::actors {

// What a cluster worker adds to an apply job's run, beyond the job's bytes
// (System::RunEnvelope's hooks; the driver's ApplyOptions of the same
// names). Defaults: none.
struct ApplyHooks {
  // Checked before each operation that changes the server: the job's lease.
  std::function<Status()> before_change;
  // Stores an online migration's checkpoint (planner MigrationToJson)
  // durably: the worker sends it to the orchestrator.
  std::function<Status(const std::string& migration_json)> checkpoint;
  // Online migrations (MigrationToJson) an earlier delivery of the job left
  // unfinished, to continue rather than start again.
  std::vector<std::string> resume;
  // Where the run's audit events go (the orchestrator's chain, through the
  // bus). Not owned; must outlive the run.
  storage::AuditSink* audit = nullptr;
};

// An ApplyPlanJob's fields (jobs.fbs) as the runner gets them.
struct ApplyRequest {
  std::string database;   // empty: the URL's, else the plan's
  std::string plan_json;  // docs/formats/plan.md
  bool dry_run = false;
  bool allow_destructive = false;
  bool allow_blocking = false;
  bool postpone_cutover = false;  // online copies stop before their swap: the run ends "copied"
  // "cutover" or "abandon": only that, on these online migrations (handed
  // over in hooks.resume), then the hash check. Empty: apply the plan.
  std::string migration_action;
  std::vector<std::string> migrations;
  // With "cutover": no swap starts at or after this time (UTC ns since the
  // epoch; the cut-over window's end); those left stay copied and the run
  // ends "copied". 0: no limit.
  int64_t cutover_before_ns = 0;
  ApplyHooks hooks;  // not part of the job's bytes: RunEnvelope's hooks set them
};

// The server's load while a run went on, as the runner sampled it (jobs.fbs
// ApplyReport's health fields; a rollout's health gate, docs/rollouts.md).
struct ServerHealth {
  bool sampled = false;              // false: nothing measured (a runner that does not sample)
  uint32_t max_threads_running = 0;  // the most Threads_running seen (the sampling session counts: at least 1)
  uint32_t replicas = 0;             // replicas whose lag was read; 0 and no error: the server lists none
  double max_replica_lag_s = 0;      // with replicas > 0: the worst Seconds_Behind_Master seen
  std::string replica_lag_error;     // set: the lag is unknown, and why

  bool operator==(const ServerHealth&) const = default;
};

// What the run ended with: the fields of jobs.fbs's ApplyReport.
struct ApplySummary {
  std::string database;
  std::string result;  // ApplyResultName: "applied", "drift", ...
  std::string from_hash, to_hash, live_hash;
  uint32_t applied = 0;
  int failed_operation = 0;
  std::string report_json;  // ApplyReportToJson
  ServerHealth health;
};

// Runs a plan over `session` (the connection actor's, on its thread). An
// Error only when the run could not be carried out; outcomes are `result`.
using PlanRunner = std::function<Result<ApplySummary>(transports::Session& session,
                                                      const transports::ConnectionUrl& url,
                                                      const ApplyRequest& request)>;

// A MigrationJob's fields (jobs.fbs) as the runner gets them.
struct MigrationRequest {
  std::string migration_json;  // planner MigrationToJson: the record the action starts from
  std::string action;          // "resume", "cutover", "revert", "finalize"
  bool force = false;          // revert: even when rows differ
};

// What the action left: the record after it, and its error when it failed.
struct MigrationOutcome {
  std::string migration_json;
  std::optional<Error> error;
};

// Runs a migration action over `session` (the connection actor's, on its
// thread); the caller that links the planner's online engine and its store
// supplies it (SystemOptions::migration_runner). An Error only when the
// action could not be started (a record that does not parse, an unknown
// action); the action's own failure is the outcome's `error`.
using MigrationRunner = std::function<Result<MigrationOutcome>(
    transports::Session& session, const transports::ConnectionUrl& url, const MigrationRequest& request)>;

}  // namespace sqlx::actors
