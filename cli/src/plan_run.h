// PlanRun: one plan run on a live database (ApplyPlan's body). Its main path
// is in apply_plan.cc; its online-migration actions (online copies, resuming,
// cut-over and abandon jobs) in plan_run_online.cc. Internal to the cli library.
#pragma once

#include <chrono>
#include <cstddef>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "sqlx/apply.h"
#include "sqlx/flo/learn_database.h"
#include "sqlx/messages/result.h"
#include "sqlx/planner/online.h"
#include "sqlx/planner/plan.h"
#include "sqlx/transports/session.h"
#include "sqlx/transports/url.h"

namespace sqlx {

// The details of an apply.step audit event (apply_plan.cc).
nlohmann::json StepDetails(const planner::Operation& op, std::chrono::milliseconds elapsed);

// One run: its inputs, the session, and the report built as it goes.
class PlanRun {
 public:
  PlanRun(transports::Session& session, const transports::ConnectionUrl& url, const planner::Plan& plan,
          const ApplyOptions& options);

  Result<ApplyReport> Run();

 private:
  // The main path (apply_plan.cc).

  Result<flo::LearnedDatabase> LearnLive();

  // Stores the learned schema as `sqlx learn` does (history for later drift reports).
  void StoreSnapshot(const flo::LearnedDatabase& learned);

  // What changed since the plan was made, when the store holds the schema
  // the plan starts from (a `sqlx learn` of it): Diff(stored from, live).
  std::vector<std::string> DriftChanges(const ir::Database& live) const;

  ApplyReport Drift(const flo::LearnedDatabase& live);

  // Refuses operations without consent (report_.refusals). Destructive
  // changes of tables that hold no row lose nothing: they need no
  // allow_destructive (checked live, just before the run).
  Status CheckConsent();

  // Every operation of a run is executed here and only here: the online
  // migration for the online-copy operations CheckOnline chose, the
  // operation's statements otherwise.
  Status Execute(const planner::Operation& op, const std::string& session_sql_mode);

  // Every pre-check of the plan, before any change.
  Status RunPreChecks();

  // Runs the operations in order; then re-learns and checks the to_hash.
  Result<ApplyReport> RunOperations();

  // Every change made: re-learn, and the live hash must be `expected` (the
  // plan's to_hash; its from_hash after abandoned copies).
  Result<ApplyReport> Finish(const std::string& expected);

  ApplyReport Fail(const planner::Operation& op, const Error& error, std::chrono::milliseconds elapsed);

  // After a failed operation: the reverse of the operations applied, from
  // the live hash now to the plan's starting one (written when asked).
  void ReversePlan();

  // Appends one audit event when a log is configured. A failed append does
  // not stop the run (it would leave the database half-changed).
  void Record(const std::string& action, const std::string& table, const Error* error, const std::string& details);

  // Online migrations (plan_run_online.cc).

  // Online copies: checked on the live table; one that cannot run online
  // runs only with allow_blocking (as a blocking ALGORITHM=COPY).
  Status CheckOnline();

  // An operation chosen to run online (CheckOnline): an online migration,
  // to its cut-over unless postponed. A server refusal of the copy (a value
  // the new definition cannot hold) abandons it: the table is unchanged.
  Status RunOnline(const planner::Operation& op);

  // Whether `earlier` (options_.resume) is this run's migration for `op`.
  bool Carries(const planner::MigrationState& earlier, const planner::Operation& op) const;

  // A database that learns to `live` instead of the plan's from_hash may be
  // an earlier delivery's half-way point: the plan's operations before an
  // unfinished online migration of options_.resume ran, and that migration
  // recorded the hash it started from (its table's foreign keys under their
  // own names). Then the run starts at its operation (resume_at_); the
  // to_hash check at the end stands.
  bool ResumesMidPlan(const flo::LearnedDatabase& live);

  // The migration an earlier run left for `op` (options_.resume), taken up
  // from its checkpoint; else a new one, which records the database's hash
  // before it (learned again when an earlier operation of this run changed
  // it).
  Result<planner::MigrationState> StartOrResume(const planner::Operation& op, planner::MigrationObserver& observer);

  // stop_requested paused an online copy: resumable; the later operations
  // did not run.
  ApplyReport Paused(const planner::Operation& op);

  // options_.migration_action on options_.migrations, handed over in
  // options_.resume: their swaps ("cutover"; one cut over by a run that
  // died before its result is left as it is) or their shadows dropped
  // ("abandon"); then the hash check.
  Result<ApplyReport> MigrationAction();

  // Whether a migration of this job is past its copy: recorded so, or
  // swapped on the server by a delivery that died before its checkpoint.
  Result<bool> AnySwapped();

  // After an abandon: the job that copied ran the plan's other operations
  // (only its online copies waited for their cut-over), so they are undone
  // by their reverse, newest first, online (undo_operations.h). Nothing
  // when the database is back at the plan's from_hash (a redelivery).
  Status UndoOtherOperations(const std::set<int>& copied);

  transports::Session& session_;
  const transports::ConnectionUrl& url_;
  const planner::Plan& plan_;
  const ApplyOptions& options_;
  ApplyReport report_;
  size_t resume_at_ = 0;        // the first operation this run executes (ResumesMidPlan)
  std::string hash_before_op_;  // the database's hash before the next operation; empty: unknown
};

}  // namespace sqlx
