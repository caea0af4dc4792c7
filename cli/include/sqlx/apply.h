// What Driver::Apply (sqlx/driver.h) takes and returns: running a plan on a
// live database, as `sqlx apply` does (docs/driver.md, docs/cli.md). The
// report is data; ApplyReportToJson is its one JSON form (the CLI's
// `--format json` document and the audit events' details).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sqlx/messages/result.h"
#include "sqlx/planner/online.h"
#include "sqlx/planner/plan.h"
#include "sqlx/storage/audit_log.h"
#include "sqlx/storage/store.h"

namespace sqlx {

struct ApplyReport;

struct ApplyOptions {
  // The database to change. Default "": the driver URL's database, else the
  // plan's.
  std::string database;
  bool dry_run = false;            // learn, check drift, consent and pre-checks; change nothing. Default: false
  bool allow_destructive = false;  // operations of class destructive may run. Default: false
  bool allow_blocking = false;     // copy / online-copy (run as ALGORITHM=COPY) and unknown ALTERs may run. Default: false
  // Names the plan in the report and the audit events ("plan": the CLI
  // passes the plan file). Default: empty.
  std::string plan_name;
  // Not owned; must outlive the call. When set, every learned schema is
  // stored as a snapshot (as `sqlx learn` does) and drift is explained from
  // the stored snapshot with the plan's from_hash. Default: null.
  storage::Store* store = nullptr;
  // Not owned; must outlive the call. When set, the audit events
  // apply.started, apply.step (one per operation run), apply.finished and
  // apply.failed are appended (none on a dry run), and the online
  // migrations' phase events. The CLI gives its audit log; a cluster worker
  // a forwarder to the orchestrator's chain. Default: null.
  storage::AuditSink* audit = nullptr;
  // When an operation fails, the reverse plan of the applied ones is
  // written here (atomically) as plan.json. Default "": not written (it is
  // still in the report).
  std::string reverse_plan_file;
  // Called with the report so far once the checks have passed (before the
  // first change) and after each operation that ran, on the calling thread;
  // its `result` is meaningful only in the report Apply returns. Default: none.
  std::function<void(const ApplyReport&)> on_progress;
  // Operations of strategy online-copy run as online migrations
  // (sqlx/planner/online.h) with these options; they need somewhere to keep
  // their checkpoints: `checkpoint`, else `store` (without either they are
  // refused unless allow_blocking).
  planner::OnlineOptions online;
  // Stores an online migration's record durably (synced) at each of its
  // checkpoints; the copy stops when it fails. Called on the calling
  // thread. A cluster worker sends it to the orchestrator, which persists
  // it only for the job's current lease holder. Default: none (the record
  // goes to `store`'s migrations).
  std::function<Status(const planner::MigrationState&)> checkpoint;
  // Online migrations an earlier run of the same plan left unfinished (a
  // cluster job redelivered after its worker died): an online-copy
  // operation whose operation_id, database and table match one continues it
  // from its checkpoint (ContinueOnlineMigration: chunks copied before are
  // not copied again) instead of starting a new one. Default: none.
  std::vector<planner::MigrationState> resume;
  // "cutover" or "abandon": nothing of the plan runs but that, on the
  // online `migrations` (ids; each must be in `resume`, copied by an earlier
  // run of the same plan with online.postpone_cutover): their swaps, then
  // the re-learn must give the plan's to_hash; or their shadow tables and
  // change capture dropped and the plan's other operations (which the
  // copying run ran) undone by their reverse, then it must give from_hash (a rollout's
  // postponed cut-over and its revert, docs/rollouts.md). No drift check
  // before: the tables are between the two hashes. Default: empty (apply
  // the plan).
  std::string migration_action;
  std::vector<std::string> migrations;
  // With "cutover": no swap starts at or after this time (UTC ns since the
  // epoch: a rollout's cut-over window closing); the migrations left stay
  // copied and the run ends kCopied. Default: 0 (no limit).
  int64_t cutover_before_ns = 0;
  // A migration's phase events (also recorded in `audit`), its progress, and
  // whether to pause it (polled between chunks; a paused run ends kPaused).
  // Default: none.
  std::function<void(const planner::MigrationState&, std::string_view event, const Error* error)> on_migration_event;
  std::function<void(const planner::MigrationState&, double rows_per_second, std::string_view throttled)>
      on_migration_progress;
  std::function<bool()> stop_requested;
  // Called before each operation that changes the server, after the checks:
  // an error stops the run there (the operation reported as failed with that
  // error, nothing of it run). The cluster's workers check their lease here,
  // so that a worker whose job went to another one changes nothing more
  // (docs/cluster.md, "Leases"). Default: none.
  std::function<Status()> before_change;
};

// How a run ended.
enum class ApplyResult {
  kNothingToDo,     // the plan is empty (and the database is where it starts)
  kApplied,         // every operation ran and the database learns to the plan's to_hash
  kAlreadyApplied,  // the live hash is already the plan's to_hash: nothing ran
  kDrift,           // the live hash is neither from_hash nor to_hash: nothing ran
  kRefused,         // consent missing or a pre-check found rows: nothing ran
  kFailed,          // an operation failed: the ones before it ran (reverse_plan undoes them)
  kHashMismatch,    // every operation ran, but the result does not learn to to_hash
  kWouldApply,      // dry run: the checks pass
  kWouldRefuse,     // dry run: consent missing or a pre-check found rows
  kCopied,          // online copies stopped before their cut-over (online.postpone_cutover): `sqlx migrations cutover`
  kPaused,          // stop_requested paused an online copy at a checkpoint: `sqlx migrations resume`; later operations did not run
};
// "nothing-to-do", "applied", "already-applied", "drift", "refused",
// "failed", "hash-mismatch", "would-apply", "would-refuse", "copied", "paused".
const char* ApplyResultName(ApplyResult result);

struct PreCheckCount {
  int operation = 0;    // the operation's id
  std::string what;     // planner::PreCheck::what
  std::string sql;      // the query that counted
  uint64_t count = 0;   // offending rows; 0: the operation may run
};

struct AppliedOperation {
  int id = 0;
  std::chrono::milliseconds elapsed{0};
};

// An online migration the run started (sqlx migrations status ID).
struct MigrationOutcome {
  int operation = 0;
  std::string id, table, phase;
  uint64_t rows_copied = 0;
};

struct ApplyReport {
  ApplyResult result = ApplyResult::kNothingToDo;
  std::string database;
  std::string plan_name;
  std::string from_hash, to_hash;  // the plan's
  bool dry_run = false;
  // The live hash: before the run (drift, already applied) or after it
  // (applied, hash mismatch); "" otherwise.
  std::string live_hash;
  std::vector<std::string> drift;  // changes from the stored starting schema to the live one ("table: change")
  std::vector<std::string> empty_tables;  // found empty live, in plan order: their destructive changes need no consent
  std::vector<std::string> refusals;      // planner::Refusals: one line per operation refused
  std::vector<PreCheckCount> prechecks;   // every pre-check of the plan, in order
  std::vector<int> online;                // online-copy operations that run as online migrations
  std::vector<MigrationOutcome> migrations;  // the online migrations started, in order
  std::vector<AppliedOperation> applied;  // operations run to their end, in order
  int failed_operation = 0;               // the id of the operation that failed (kFailed)
  // Why the run did not apply: the failed operation's error, the drift, the
  // refusal or the hash mismatch. Unset for applied, would-apply, nothing-to-do.
  std::optional<Error> error;
  std::optional<planner::Plan> reverse_plan;  // kFailed: undoes `applied`, from the live hash to from_hash
  std::string reverse_plan_file;              // where it was written ("" when not)
  // What the caller should show but did not stop the run: objects not
  // visible to the user (a partial learn), a snapshot or reverse plan that
  // could not be written.
  std::vector<std::string> warnings;

  // True when the checks passed: no refusal and no pre-check found rows.
  bool checks_passed() const;
};

// The report as one JSON object with the keys of its stage (docs/cli.md,
// `sqlx apply --format json`): always database, plan, from_hash, to_hash,
// dry_run, result; drift and already-applied add live_hash and drift; later
// results add empty_tables, refusals and prechecks ([{operation, what, sql,
// count}]); failed adds failed_operation, error, applied (ids) and
// reverse_plan (the file, "" when not written); applied and hash-mismatch
// add applied and live_hash. Pretty-printed with `indent` >= 0, else compact.
std::string ApplyReportToJson(const ApplyReport& report, int indent = -1);

}  // namespace sqlx
