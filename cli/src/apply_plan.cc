// A plan run on a live database, in the order docs/cli.md (sqlx apply)
// gives: learn the database and stop on drift; refuse operations without the
// consent they need; run every pre-check before any change; then each
// operation (RunOperation), with an audit event each; re-learn and require
// the plan's to_hash. On a failed operation: stop and build the reverse plan
// of what was applied.
#include "apply_plan.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>

#include "files.h"
#include "first_value.h"
#include "undo_operations.h"
#include "store_migration_observer.h"
#include "sqlx/messages/clock.h"
#include "sqlx/flo/learn_database.h"
#include "sqlx/planner/guardrails.h"
#include "sqlx/planner/render_sql.h"

namespace sqlx {

namespace {

using nlohmann::json;

// Runs one operation's statements under its sql_mode (PlanRun::Execute
// chooses between this and an online migration).
Status RunOperation(transports::Session& session, const planner::Operation& op, const std::string& session_sql_mode) {
  const std::string mode = op.sql_mode.empty() ? session_sql_mode : op.sql_mode;
  SQLX_RETURN_IF_ERROR(session.Execute("SET SESSION sql_mode = " + planner::QuoteString(mode)));
  for (const std::string& statement : planner::OperationStatements(op)) SQLX_RETURN_IF_ERROR(session.Execute(statement));
  return Status::Ok();
}

json StepDetails(const planner::Operation& op, std::chrono::milliseconds elapsed) {
  return {{"id", op.id},   {"kind", op.kind}, {"class", planner::OpClassName(op.op_class)},
          {"sql", op.sql}, {"strategy", planner::StrategyName(op.strategy)},
          {"elapsed_ms", elapsed.count()}};
}

// One run: its inputs, the session, and the report built as it goes.
class PlanRun {
 public:
  PlanRun(transports::Session& session, const transports::ConnectionUrl& url, const planner::Plan& plan,
          const ApplyOptions& options)
      : session_(session), url_(url), plan_(plan), options_(options) {
    report_.database = !options.database.empty() ? options.database
                       : !url.database.empty()   ? url.database
                                                 : plan.database;
    report_.plan_name = options.plan_name;
    report_.from_hash = plan.from_hash;
    report_.to_hash = plan.to_hash;
    report_.dry_run = options.dry_run;
  }

  Result<ApplyReport> Run() {
    if (report_.database.empty())
      return MakeError(ErrorCode::kInvalidArgument, "the plan names no database: give it as the URL's path");
    if (!options_.migration_action.empty()) return MigrationAction();
    SQLX_ASSIGN_OR_RETURN(flo::LearnedDatabase live, LearnLive());
    StoreSnapshot(live);
    if (live.profile_hash != plan_.from_hash && !ResumesMidPlan(live)) return Drift(live);
    hash_before_op_ = live.profile_hash;
    SQLX_RETURN_IF_ERROR(session_.InitDb(report_.database));
    if (plan_.operations.empty()) {
      report_.result = ApplyResult::kNothingToDo;
      return std::move(report_);
    }
    SQLX_RETURN_IF_ERROR(CheckConsent());
    SQLX_RETURN_IF_ERROR(RunPreChecks());
    if (!report_.checks_passed()) {
      report_.error = MakeError(ErrorCode::kInvalidArgument, !report_.refusals.empty()
                                                                 ? "operations refused without consent"
                                                                 : "pre-checks found offending rows");
    }
    if (options_.dry_run) {
      report_.result = report_.checks_passed() ? ApplyResult::kWouldApply : ApplyResult::kWouldRefuse;
      return std::move(report_);
    }
    if (!report_.checks_passed()) {
      report_.result = ApplyResult::kRefused;
      Record("apply.failed", "", &*report_.error, ApplyReportToJson(report_));
      return std::move(report_);
    }
    return RunOperations();
  }

 private:
  Result<flo::LearnedDatabase> LearnLive() {
    SQLX_ASSIGN_OR_RETURN(std::vector<flo::LearnedDatabase> learned, flo::LearnDatabases(session_, {report_.database}));
    if (learned.front().error) return *learned.front().error;
    for (const std::string& line : learned.front().not_visible) report_.warnings.push_back("not learned: " + line);
    return std::move(learned.front());
  }

  // Stores the learned schema as `sqlx learn` does (history for later drift reports).
  void StoreSnapshot(const flo::LearnedDatabase& learned) {
    if (options_.store == nullptr) return;
    storage::SchemaRecord record{url_.ConnectionName(), report_.database, learned.profile_hash, learned.json,
                                 learned.not_visible.empty() ? "learned" : "partial", 0, UnixNowNs()};
    auto put = options_.store->PutSchema(record);
    if (!put.ok()) report_.warnings.push_back("the learned schema was not stored: " + put.error().ToString());
  }

  // What changed since the plan was made, when the store holds the schema
  // the plan starts from (a `sqlx learn` of it): Diff(stored from, live).
  std::vector<std::string> DriftChanges(const ir::Database& live) const {
    if (options_.store == nullptr) return {};
    auto versions = options_.store->ListSchemaVersions(url_.ConnectionName(), report_.database);
    if (!versions.ok()) return {};
    for (const storage::SchemaRecord& r : *versions) {
      if (r.profile_hash != plan_.from_hash) continue;
      auto from = ir::FromJson(r.profile_json);
      if (!from.ok()) return {};
      auto diff = planner::Diff(*from, live);
      if (!diff.ok()) return {};
      std::vector<std::string> out;
      for (const planner::Operation& op : diff->operations)
        for (const std::string& c : op.changes) out.push_back(op.object.empty() ? c : op.object + ": " + c);
      return out;
    }
    return {};
  }

  ApplyReport Drift(const flo::LearnedDatabase& live) {
    const bool applied_already = live.profile_hash == plan_.to_hash;
    report_.result = applied_already ? ApplyResult::kAlreadyApplied : ApplyResult::kDrift;
    report_.live_hash = live.profile_hash;
    if (!applied_already) report_.drift = DriftChanges(live.schema);
    report_.error = MakeError(
        ErrorCode::kInvalidArgument,
        "drift: " + report_.database + " learns to " + live.profile_hash + ", the plan starts from " +
            plan_.from_hash +
            (applied_already           ? " (the database already has the plan's desired schema)"
             : report_.drift.empty()   ? " (no stored snapshot of the plan's starting schema to compare with: "
                                         "`sqlx learn` it before planning)"
                                       : ""));
    if (!options_.dry_run) Record("apply.failed", "", &*report_.error, ApplyReportToJson(report_));
    return std::move(report_);
  }

  // Refuses operations without consent (report_.refusals). Destructive
  // changes of tables that hold no row lose nothing: they need no
  // allow_destructive (checked live, just before the run).
  Status CheckConsent() {
    planner::ApplyConsent consent{options_.allow_destructive, options_.allow_blocking, {}};
    if (!consent.allow_destructive) {
      for (const std::string& table : planner::DestructiveTables(plan_)) {
        SQLX_ASSIGN_OR_RETURN(uint64_t empty, CountOf(session_, planner::EmptyTableCheck(table)));
        if (empty != 1) continue;
        consent.empty_tables.insert(table);
        report_.empty_tables.push_back(table);
      }
    }
    report_.refusals = planner::Refusals(plan_, consent);
    return CheckOnline();
  }

  // Online copies: checked on the live table; one that cannot run online
  // runs only with allow_blocking (as a blocking ALGORITHM=COPY).
  Status CheckOnline() {
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

  // An operation chosen to run online (CheckOnline): an online migration,
  // to its cut-over unless postponed. A server refusal of the copy (a value
  // the new definition cannot hold) abandons it: the table is unchanged.
  Status RunOnline(const planner::Operation& op) {
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

  // Whether `earlier` (options_.resume) is this run's migration for `op`.
  bool Carries(const planner::MigrationState& earlier, const planner::Operation& op) const {
    return earlier.operation_id == op.id && earlier.database == report_.database && earlier.table == op.object &&
           earlier.connection == url_.ConnectionName() && !earlier.Done();
  }

  // A database that learns to `live` instead of the plan's from_hash may be
  // an earlier delivery's half-way point: the plan's operations before an
  // unfinished online migration of options_.resume ran, and that migration
  // recorded the hash it started from (its table's foreign keys under their
  // own names). Then the run starts at its operation (resume_at_); the
  // to_hash check at the end stands.
  bool ResumesMidPlan(const flo::LearnedDatabase& live) {
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

  // The migration an earlier run left for `op` (options_.resume), taken up
  // from its checkpoint; else a new one, which records the database's hash
  // before it (learned again when an earlier operation of this run changed
  // it).
  Result<planner::MigrationState> StartOrResume(const planner::Operation& op, planner::MigrationObserver& observer) {
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

  // Every operation of a run is executed here and only here: the online
  // migration for the online-copy operations CheckOnline chose, the
  // operation's statements otherwise.
  Status Execute(const planner::Operation& op, const std::string& session_sql_mode) {
    if (std::find(report_.online.begin(), report_.online.end(), op.id) != report_.online.end()) return RunOnline(op);
    return RunOperation(session_, op, session_sql_mode);
  }

  // Every pre-check of the plan, before any change.
  Status RunPreChecks() {
    for (size_t i = resume_at_; i < plan_.operations.size(); ++i) {
      const planner::Operation& op = plan_.operations[i];
      for (const planner::PreCheck& check : op.prechecks) {
        SQLX_ASSIGN_OR_RETURN(uint64_t count, CountOf(session_, check.sql));
        report_.prechecks.push_back({op.id, check.what, check.sql, count});
      }
    }
    return Status::Ok();
  }

  // Runs the operations in order; then re-learns and checks the to_hash.
  Result<ApplyReport> RunOperations() {
    SQLX_ASSIGN_OR_RETURN(std::string session_sql_mode, FirstValue(session_, "SELECT @@SESSION.sql_mode"));
    json started = {{"plan", options_.plan_name},
                    {"from_hash", plan_.from_hash},
                    {"to_hash", plan_.to_hash},
                    {"operations", plan_.operations.size()}};
    Record("apply.started", "", nullptr, started.dump());
    if (options_.on_progress) options_.on_progress(report_);
    for (size_t i = 0; i < plan_.operations.size(); ++i) {
      const planner::Operation& op = plan_.operations[i];
      if (i < resume_at_) {
        report_.applied.push_back({op.id, std::chrono::milliseconds(0)});  // by an earlier delivery
        continue;
      }
      const auto start = std::chrono::steady_clock::now();
      if (options_.before_change) {
        Status allowed = options_.before_change();
        if (!allowed.ok()) return Fail(op, allowed.error(), std::chrono::milliseconds(0));
      }
      Status st = Execute(op, session_sql_mode);
      hash_before_op_.clear();  // the operation (may have) changed it
      const auto elapsed =
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start);
      if (!st.ok()) return Fail(op, st.error(), elapsed);
      if (!report_.migrations.empty() && report_.migrations.back().operation == op.id &&
          report_.migrations.back().phase == "copying")
        return Paused(op);
      report_.applied.push_back({op.id, elapsed});
      Record("apply.step", op.object, nullptr, StepDetails(op, elapsed).dump());
      if (options_.on_progress) options_.on_progress(report_);
    }
    bool postponed = false;
    for (const MigrationOutcome& m : report_.migrations) postponed = postponed || m.phase == "copied";
    if (postponed) {
      // The plan's to_hash comes with the last cut-over (sqlx migrations cutover).
      report_.result = ApplyResult::kCopied;
      Record("apply.finished", "", nullptr, ApplyReportToJson(report_));
      return std::move(report_);
    }
    return Finish(plan_.to_hash);
  }

  // options_.migration_action on options_.migrations, handed over in
  // options_.resume: their swaps ("cutover"; one cut over by a run that
  // died before its result is left as it is) or their shadows dropped
  // ("abandon"); then the hash check.
  Result<ApplyReport> MigrationAction() {
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

  // Whether a migration of this job is past its copy: recorded so, or
  // swapped on the server by a delivery that died before its checkpoint.
  Result<bool> AnySwapped() {
    for (const planner::MigrationState& m : options_.resume) {
      if (std::find(options_.migrations.begin(), options_.migrations.end(), m.id) == options_.migrations.end()) continue;
      if (m.phase == "cut-over" || m.phase == "reverting" || m.phase == "finalized") return true;
      SQLX_ASSIGN_OR_RETURN(bool swapped, planner::MigrationSwapped(session_, m));
      if (swapped) return true;
    }
    return false;
  }

  // After an abandon: the job that copied ran the plan's other operations
  // (only its online copies waited for their cut-over), so they are undone
  // by their reverse, newest first, online (undo_operations.h). Nothing
  // when the database is back at the plan's from_hash (a redelivery).
  Status UndoOtherOperations(const std::set<int>& copied) {
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

  // Every change made: re-learn, and the live hash must be `expected` (the
  // plan's to_hash; its from_hash after abandoned copies).
  Result<ApplyReport> Finish(const std::string& expected) {
    SQLX_ASSIGN_OR_RETURN(flo::LearnedDatabase after, LearnLive());
    StoreSnapshot(after);
    report_.live_hash = after.profile_hash;
    if (after.profile_hash != expected) {
      report_.result = ApplyResult::kHashMismatch;
      report_.error = MakeError(ErrorCode::kInternal, "every operation ran, but " + report_.database +
                                                          " now learns to " + after.profile_hash + ", not " +
                                                          (expected == plan_.to_hash ? "the plan's to_hash " : "the plan's from_hash ") + expected);
      Record("apply.failed", "", &*report_.error, ApplyReportToJson(report_));
      return std::move(report_);
    }
    report_.result = ApplyResult::kApplied;
    Record("apply.finished", "", nullptr, ApplyReportToJson(report_));
    return std::move(report_);
  }

  // stop_requested paused an online copy: resumable; the later operations
  // did not run.
  ApplyReport Paused(const planner::Operation& op) {
    const MigrationOutcome& m = report_.migrations.back();
    report_.result = ApplyResult::kPaused;
    report_.error = MakeError(ErrorCode::kCancelled, "paused: migration " + m.id + " (operation " +
                                                         std::to_string(op.id) + ") copied " +
                                                         std::to_string(m.rows_copied) + " rows; `sqlx migrations resume " +
                                                         m.id + "` continues it (the rest of the plan did not run)");
    Record("apply.paused", op.object, nullptr, ApplyReportToJson(report_));
    return std::move(report_);
  }

  ApplyReport Fail(const planner::Operation& op, const Error& error, std::chrono::milliseconds elapsed) {
    Record("apply.step", op.object, &error, StepDetails(op, elapsed).dump());
    ReversePlan();
    report_.result = ApplyResult::kFailed;
    report_.failed_operation = op.id;
    report_.error = error;
    Record("apply.failed", "", &error, ApplyReportToJson(report_));
    return std::move(report_);
  }

  // After a failed operation: the reverse of the operations applied, from
  // the live hash now to the plan's starting one (written when asked).
  void ReversePlan() {
    planner::Plan prefix = plan_;
    prefix.operations.resize(report_.applied.size());
    planner::Plan back = planner::ReversePlan(prefix);
    back.to_hash = plan_.from_hash;
    auto now = LearnLive();
    back.from_hash = now.ok() ? now->profile_hash : "";
    if (!options_.reverse_plan_file.empty()) {
      Status st = cli::WriteFileAtomically(options_.reverse_plan_file, planner::PlanToJson(back));
      if (st.ok()) report_.reverse_plan_file = options_.reverse_plan_file;
      else report_.warnings.push_back("the reverse plan could not be written: " + st.error().ToString());
    }
    report_.reverse_plan = std::move(back);
  }

  // Appends one audit event when a log is configured. A failed append does
  // not stop the run (it would leave the database half-changed).
  void Record(const std::string& action, const std::string& table, const Error* error, const std::string& details) {
    if (options_.audit == nullptr) return;
    storage::AuditEvent event = storage::NewAuditEvent(action);
    event.object = {url_.ConnectionName(), report_.database, table};
    event.details_json = details;
    if (error != nullptr) {
      event.outcome = storage::AuditOutcome::kFailed;
      event.error = error->ToString();
    }
    auto appended = options_.audit->Append({std::move(event)});
    if (!appended.ok()) report_.warnings.push_back("the audit event " + action + " was not recorded: " +
                                                   appended.error().ToString());
  }

  transports::Session& session_;
  const transports::ConnectionUrl& url_;
  const planner::Plan& plan_;
  const ApplyOptions& options_;
  ApplyReport report_;
  size_t resume_at_ = 0;        // the first operation this run executes (ResumesMidPlan)
  std::string hash_before_op_;  // the database's hash before the next operation; empty: unknown
};

}  // namespace

Result<ApplyReport> ApplyPlan(transports::Session& session, const transports::ConnectionUrl& url,
                              const planner::Plan& plan, const ApplyOptions& options) {
  return PlanRun(session, url, plan, options).Run();
}

}  // namespace sqlx
