// PlanRun's online migrations (plan_run.h): the online-copy checks and runs,
// resuming an earlier delivery's migration, and the cut-over and abandon
// jobs (docs/rollouts.md).
#include <algorithm>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "first_value.h"
#include "plan_run.h"
#include "store_migration_observer.h"
#include "undo_operations.h"
#include "sqlx/messages/clock.h"

namespace sqlx {

using nlohmann::json;

Status PlanRun::CheckOnline() {
  std::set<std::string> online_tables;
  for (const planner::Operation& op : plan_.operations) {
    const std::string name = std::to_string(op.id) + ". " + op.kind + " " + op.object;
    if (online_tables.count(op.object) && options_.online.postpone_cutover)
      report_.refusals.push_back(name + ": follows an online copy of the same table, which --postpone-cutover "
                                        "leaves before its cut-over");
    if (op.strategy != planner::Strategy::kOnlineCopy) continue;
    SQLX_ASSIGN_OR_RETURN(std::string obstacle, planner::OnlineCopyObstacle(session_, report_.database, op));
    if (obstacle.empty() && !options_.checkpoint && options_.store == nullptr)
      obstacle = "an online copy keeps its checkpoints in a store, and none is given";
    if (obstacle.empty()) {
      report_.online.push_back(op.id);
      online_tables.insert(op.object);
    } else if (!options_.allow_blocking) {
      report_.refusals.push_back(name + ": needs a table copy (" + op.strategy_reason +
                                 ") and cannot be copied online (" + obstacle +
                                 "): --allow-blocking runs it as a blocking ALGORITHM=COPY");
    }
  }
  return Status::Ok();
}

Status PlanRun::RunOnline(const planner::Operation& op) {
  MigrationHooks hooks{options_.on_migration_event, options_.on_migration_progress, options_.stop_requested};
  StoreMigrationObserver observer(options_.checkpoint ? options_.checkpoint : StoreCheckpoints(*options_.store),
                                  options_.audit, hooks);
  SQLX_ASSIGN_OR_RETURN(planner::MigrationState state, StartOrResume(op, observer));
  Status st = planner::ContinueOnlineMigration(session_, state, options_.online, observer);
  if (!observer.audit_failure().empty())
    report_.warnings.push_back("the audit event " + observer.audit_failure() + " was not recorded");
  if (!st.ok()) {
    Error e = st.error();
    // The server refused the copy, or the copy would change values: the
    // data or the definition must change first; resuming cannot help.
    const bool data = e.code == ErrorCode::kServer || e.code == ErrorCode::kUnsupported;
    if (data && state.phase != "cut-over") {
      Status dropped = planner::FinalizeMigration(session_, state, observer);
      e.message += dropped.ok() ? " (the online copy was abandoned: " + op.object + " is unchanged)"
                                : " (abandoning the online copy failed too: " + dropped.error().ToString() +
                                      "; `sqlx migrations finalize " + state.id + "` drops it)";
    } else if (state.phase != "cut-over") {
      e.message += " (migration " + state.id + " stopped at its checkpoint: `sqlx migrations resume " + state.id +
                   "` continues it, `sqlx migrations finalize " + state.id + "` abandons it)";
    }
    report_.migrations.push_back({op.id, state.id, state.table, state.phase, state.rows_copied});
    return e;
  }
  report_.migrations.push_back({op.id, state.id, state.table, state.phase, state.rows_copied});
  SQLX_RETURN_IF_ERROR(session_.Execute("SET SESSION lock_wait_timeout = DEFAULT"));
  return Status::Ok();
}

bool PlanRun::Carries(const planner::MigrationState& earlier, const planner::Operation& op) const {
  return earlier.operation_id == op.id && earlier.database == report_.database && earlier.table == op.object &&
         earlier.connection == url_.ConnectionName() && !earlier.Done();
}

bool PlanRun::ResumesMidPlan(const flo::LearnedDatabase& live) {
  for (size_t i = 0; i < plan_.operations.size(); ++i) {
    for (const planner::MigrationState& earlier : options_.resume) {
      if (!Carries(earlier, plan_.operations[i]) || earlier.database_hash.empty() ||
          (earlier.database_hash != live.profile_hash &&
           earlier.database_hash != planner::HashWithOwnKeyNames(live.schema, earlier)))
        continue;
      resume_at_ = i;
      if (i > 0) {
        report_.warnings.push_back("operations 1-" + std::to_string(i) + " ran in an earlier delivery of this plan; "
                                   "it goes on at migration " + earlier.id + " (operation " +
                                   std::to_string(plan_.operations[i].id) + ")");
      }
      return true;
    }
  }
  return false;
}

Result<planner::MigrationState> PlanRun::StartOrResume(const planner::Operation& op, planner::MigrationObserver& observer) {
  for (const planner::MigrationState& earlier : options_.resume) {
    if (!Carries(earlier, op)) continue;
    observer.Event(earlier, "migration.resumed", nullptr,
                   json{{"rows_copied", earlier.rows_copied}, {"chunks", earlier.chunks}}.dump());
    return earlier;
  }
  if (hash_before_op_.empty()) {
    SQLX_ASSIGN_OR_RETURN(flo::LearnedDatabase now, LearnLive());
    hash_before_op_ = now.profile_hash;
    SQLX_RETURN_IF_ERROR(session_.InitDb(report_.database));
  }
  SQLX_ASSIGN_OR_RETURN(planner::MigrationState state, planner::StartOnlineMigration(
                                                          session_, url_.ConnectionName(), report_.database, op, observer));
  state.database_hash = hash_before_op_;
  // Kept with the next checkpoint anyway; a failure here (a lost lease)
  // fails that one, on the copy's own error path.
  if (Status saved = observer.Checkpoint(state); !saved.ok())
    report_.warnings.push_back("migration " + state.id + ": its starting hash was not stored yet: " +
                               saved.error().ToString());
  return state;
}

Result<ApplyReport> PlanRun::MigrationAction() {
  const std::string& action = options_.migration_action;
  if (action != "cutover" && action != "abandon")
    return MakeError(ErrorCode::kInvalidArgument, "unknown migration action '" + action + "': cutover or abandon");
  if (options_.migrations.empty())
    return MakeError(ErrorCode::kInvalidArgument, "a " + action + " job names no migration");
  if (!options_.checkpoint && options_.store == nullptr)
    return MakeError(ErrorCode::kInvalidArgument, "a " + action + " keeps its checkpoints in a store, and none is given");
  Record("apply.started", "", nullptr,
         json{{"plan", options_.plan_name}, {"to_hash", plan_.to_hash}, {action, options_.migrations}}.dump());
  // The cut-over window closed before this job began its swaps: none
  // starts, all stay copied. Decided once: a job that began (a delivery
  // before this one swapped any, by the server) swaps them all.
  std::vector<std::string> late;
  if (action == "cutover" && options_.cutover_before_ns > 0 && UnixNowNs() >= options_.cutover_before_ns) {
    SQLX_ASSIGN_OR_RETURN(bool began, AnySwapped());
    if (!began) late = options_.migrations;
  }
  for (const std::string& id : options_.migrations) {
    auto it = std::find_if(options_.resume.begin(), options_.resume.end(),
                           [&](const planner::MigrationState& m) { return m.id == id; });
    Status st = Status::Ok();
    if (!late.empty() && it != options_.resume.end()) {
      report_.migrations.push_back({it->operation_id, id, it->table, it->phase, it->rows_copied});
      continue;
    }
    if (it == options_.resume.end() || it->database != report_.database ||
        it->connection != url_.ConnectionName()) {
      st = MakeError(ErrorCode::kNotFound, "migration " + id + " of " + report_.database +
                                               " was not handed over with the job's lease: nothing to " + action);
    } else if (options_.before_change) {
      st = options_.before_change();
    }
    planner::MigrationState state = it == options_.resume.end() ? planner::MigrationState{} : *it;
    if (st.ok()) {
      MigrationHooks hooks{options_.on_migration_event, options_.on_migration_progress, options_.stop_requested};
      StoreMigrationObserver observer(options_.checkpoint ? options_.checkpoint : StoreCheckpoints(*options_.store),
                                      options_.audit, hooks);
      st = action == "cutover" ? planner::CutOverMigration(session_, state, options_.online, observer)
           : state.phase == "cut-over"
               ? MakeError(ErrorCode::kUnsupported, "migration " + id + " was cut over already: revert it instead")
               : planner::FinalizeMigration(session_, state, observer);
    }
    report_.migrations.push_back({state.operation_id, id, state.table, state.phase, state.rows_copied});
    if (!st.ok()) {
      report_.result = ApplyResult::kFailed;
      report_.failed_operation = state.operation_id;
      report_.error = st.error();
      Record("apply.failed", state.table, &*report_.error, ApplyReportToJson(report_));
      return std::move(report_);
    }
  }
  SQLX_RETURN_IF_ERROR(session_.Execute("SET SESSION lock_wait_timeout = DEFAULT"));
  if (action == "abandon") {
    std::set<int> copied;
    for (const planner::MigrationState& m : options_.resume)
      if (std::find(options_.migrations.begin(), options_.migrations.end(), m.id) != options_.migrations.end())
        copied.insert(m.operation_id);
    if (Status undone = UndoOtherOperations(copied); !undone.ok()) {
      report_.result = ApplyResult::kFailed;
      report_.error = undone.error();
      Record("apply.failed", "", &*report_.error, ApplyReportToJson(report_));
      return std::move(report_);
    }
  }
  if (!late.empty()) {
    // Between the plan's two hashes: the next window's cut-over goes on.
    std::string ids;
    for (const std::string& id : late) ids += (ids.empty() ? "" : ", ") + id;
    report_.result = ApplyResult::kCopied;
    report_.warnings.push_back("the cut-over window closed at " + Rfc3339(options_.cutover_before_ns) +
                               " before the swap of " + ids + ": left copied (change capture running) for the "
                               "next window");
    Record("apply.finished", "", nullptr, ApplyReportToJson(report_));
    return std::move(report_);
  }
  return Finish(action == "cutover" ? plan_.to_hash : plan_.from_hash);
}

Result<bool> PlanRun::AnySwapped() {
  for (const planner::MigrationState& m : options_.resume) {
    if (std::find(options_.migrations.begin(), options_.migrations.end(), m.id) == options_.migrations.end()) continue;
    if (m.phase == "cut-over" || m.phase == "reverting" || m.phase == "finalized") return true;
    SQLX_ASSIGN_OR_RETURN(bool swapped, planner::MigrationSwapped(session_, m));
    if (swapped) return true;
  }
  return false;
}

Status PlanRun::UndoOtherOperations(const std::set<int>& copied) {
  SQLX_ASSIGN_OR_RETURN(flo::LearnedDatabase now, LearnLive());
  SQLX_RETURN_IF_ERROR(session_.InitDb(report_.database));
  if (now.profile_hash == plan_.from_hash) return Status::Ok();
  planner::Plan ran = plan_;
  std::erase_if(ran.operations, [&](const planner::Operation& op) { return copied.count(op.id) > 0; });
  SQLX_ASSIGN_OR_RETURN(std::string session_sql_mode, FirstValue(session_, "SELECT @@SESSION.sql_mode"));
  Status undone = UndoOperations(
      session_, planner::ReversePlan(ran), session_sql_mode,
      [this](const planner::Operation& op, std::chrono::milliseconds elapsed) {
        Record("apply.step", op.object, nullptr, StepDetails(op, elapsed).dump());
      },
      &report_.warnings);
  if (undone.ok()) return undone;
  Error e = undone.error();
  e.message = "the copies were abandoned, but undoing the plan's other operations failed: " + e.message + "; " +
              report_.database + " is between the plan's hashes: undo the rest by hand (`sqlx plan:diff` from it "
              "to the schema it had)";
  return e;
}

ApplyReport PlanRun::Paused(const planner::Operation& op) {
  const MigrationOutcome& m = report_.migrations.back();
  report_.result = ApplyResult::kPaused;
  report_.error = MakeError(ErrorCode::kCancelled, "paused: migration " + m.id + " (operation " +
                                                       std::to_string(op.id) + ") copied " +
                                                       std::to_string(m.rows_copied) + " rows; `sqlx migrations resume " +
                                                       m.id + "` continues it (the rest of the plan did not run)");
  Record("apply.paused", op.object, nullptr, ApplyReportToJson(report_));
  return std::move(report_);
}

}  // namespace sqlx
