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
#include <utility>

#include <nlohmann/json.hpp>

#include "files.h"
#include "first_value.h"
#include "plan_run.h"
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

}  // namespace

json StepDetails(const planner::Operation& op, std::chrono::milliseconds elapsed) {
  return {{"id", op.id},   {"kind", op.kind}, {"class", planner::OpClassName(op.op_class)},
          {"sql", op.sql}, {"strategy", planner::StrategyName(op.strategy)},
          {"elapsed_ms", elapsed.count()}};
}

PlanRun::PlanRun(transports::Session& session, const transports::ConnectionUrl& url, const planner::Plan& plan,
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

Result<ApplyReport> PlanRun::Run() {
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

Result<flo::LearnedDatabase> PlanRun::LearnLive() {
  SQLX_ASSIGN_OR_RETURN(std::vector<flo::LearnedDatabase> learned, flo::LearnDatabases(session_, {report_.database}));
  if (learned.front().error) return *learned.front().error;
  for (const std::string& line : learned.front().not_visible) report_.warnings.push_back("not learned: " + line);
  return std::move(learned.front());
}

void PlanRun::StoreSnapshot(const flo::LearnedDatabase& learned) {
  if (options_.store == nullptr) return;
  storage::SchemaRecord record{url_.ConnectionName(), report_.database, learned.profile_hash, learned.json,
                               learned.not_visible.empty() ? "learned" : "partial", 0, UnixNowNs()};
  auto put = options_.store->PutSchema(record);
  if (!put.ok()) report_.warnings.push_back("the learned schema was not stored: " + put.error().ToString());
}

std::vector<std::string> PlanRun::DriftChanges(const ir::Database& live) const {
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

ApplyReport PlanRun::Drift(const flo::LearnedDatabase& live) {
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

Status PlanRun::CheckConsent() {
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

Status PlanRun::Execute(const planner::Operation& op, const std::string& session_sql_mode) {
  if (std::find(report_.online.begin(), report_.online.end(), op.id) != report_.online.end()) return RunOnline(op);
  return RunOperation(session_, op, session_sql_mode);
}

Status PlanRun::RunPreChecks() {
  for (size_t i = resume_at_; i < plan_.operations.size(); ++i) {
    const planner::Operation& op = plan_.operations[i];
    for (const planner::PreCheck& check : op.prechecks) {
      SQLX_ASSIGN_OR_RETURN(uint64_t count, CountOf(session_, check.sql));
      report_.prechecks.push_back({op.id, check.what, check.sql, count});
    }
  }
  return Status::Ok();
}

Result<ApplyReport> PlanRun::RunOperations() {
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

Result<ApplyReport> PlanRun::Finish(const std::string& expected) {
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

ApplyReport PlanRun::Fail(const planner::Operation& op, const Error& error, std::chrono::milliseconds elapsed) {
  Record("apply.step", op.object, &error, StepDetails(op, elapsed).dump());
  ReversePlan();
  report_.result = ApplyResult::kFailed;
  report_.failed_operation = op.id;
  report_.error = error;
  Record("apply.failed", "", &error, ApplyReportToJson(report_));
  return std::move(report_);
}

void PlanRun::ReversePlan() {
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

void PlanRun::Record(const std::string& action, const std::string& table, const Error* error, const std::string& details) {
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

Result<ApplyReport> ApplyPlan(transports::Session& session, const transports::ConnectionUrl& url,
                              const planner::Plan& plan, const ApplyOptions& options) {
  return PlanRun(session, url, plan, options).Run();
}

}  // namespace sqlx
