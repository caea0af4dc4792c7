// `sqlx apply URL --plan plan.json [--dry-run] [--allow-destructive]
// [--allow-blocking]`: runs a plan on a live database (docs/cli.md). In
// order: learn the database and refuse on drift (exit 3); refuse operations
// without the consent they need; run every pre-check before any change;
// then each operation, with an audit event each; re-learn and require the
// plan's to_hash. On a failed operation: stop, write the reverse plan of
// what was applied, print its path.
#include <chrono>
#include <set>
#include <iostream>

#include <nlohmann/json.hpp>

#include "audit_trail.h"
#include "commands.h"
#include "connection_learning.h"
#include "files.h"
#include "online_runner.h"
#include "sqlx/flo/learn_database.h"
#include "sqlx/planner/guardrails.h"
#include "sqlx/planner/online.h"
#include "sqlx/planner/plan.h"
#include "sqlx/planner/render_sql.h"

namespace sqlx::cli {

namespace {

using nlohmann::json;

// One run of the command: its inputs, the session and store, and what was
// done so far (for the report and the JSON document).
struct ApplyRun {
  const GlobalOptions& g;
  const ApplyArgs& args;
  planner::Plan plan;
  transports::ConnectionUrl url;
  std::string database;
  std::unique_ptr<transports::Session> session;
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<storage::AuditLog> audit;
  json report = json::object();
  std::vector<int> applied;  // ids of the operations run to their end
  std::set<int> online;      // online-copy operations that run as online migrations
  std::vector<std::string> postponed;  // migrations copied and waiting for their cut-over

  bool text() const { return g.format != "json"; }
  storage::AuditObject Object(const std::string& table = "") const { return {url.ConnectionName(), database, table}; }
};

Result<flo::LearnedDatabase> LearnLive(ApplyRun& run) {
  SQLX_ASSIGN_OR_RETURN(std::vector<flo::LearnedDatabase> learned, flo::LearnDatabases(*run.session, {run.database}));
  if (learned.front().error) return *learned.front().error;
  for (const std::string& line : learned.front().not_visible)
    std::cerr << "sqlx: warning: not learned: " << line << "\n";
  return std::move(learned.front());
}

// Stores the learned schema as `sqlx learn` does (history for later drift reports).
void StoreSnapshot(ApplyRun& run, const flo::LearnedDatabase& learned) {
  storage::SchemaRecord record{run.url.ConnectionName(), run.database, learned.profile_hash, learned.json,
                               learned.not_visible.empty() ? "learned" : "partial", 0, NowNs()};
  auto put = run.store->PutSchema(record);
  if (!put.ok()) std::cerr << "sqlx: warning: the learned schema was not stored: " << put.error().ToString() << "\n";
}

// What changed since the plan was made, when the store holds the schema the
// plan starts from (a `sqlx learn` of it): Diff(stored from, live).
std::vector<std::string> DriftChanges(ApplyRun& run, const ir::Database& live) {
  auto versions = run.store->ListSchemaVersions(run.url.ConnectionName(), run.database);
  if (!versions.ok()) return {};
  for (const storage::SchemaRecord& r : *versions) {
    if (r.profile_hash != run.plan.from_hash) continue;
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

int ReportDrift(ApplyRun& run, const flo::LearnedDatabase& live) {
  const bool applied_already = live.profile_hash == run.plan.to_hash;
  std::vector<std::string> changes = applied_already ? std::vector<std::string>{} : DriftChanges(run, live.schema);
  run.report["result"] = applied_already ? "already-applied" : "drift";
  run.report["live_hash"] = live.profile_hash;
  run.report["drift"] = changes;
  Error e = MakeError(ErrorCode::kInvalidArgument,
                      "drift: " + run.database + " learns to " + live.profile_hash + ", the plan starts from " +
                          run.plan.from_hash +
                          (applied_already ? " (the database already has the plan's desired schema)"
                                           : changes.empty() ? " (no stored snapshot of the plan's starting schema to "
                                                               "compare with: `sqlx learn` it before planning)"
                                                             : ""));
  if (!run.args.dry_run) (void)RecordAudit(*run.audit, "apply.failed", run.Object(), &e, run.report.dump());
  if (run.text()) {
    std::cerr << "sqlx: error: " << e.message << "\n";
    if (!changes.empty()) std::cerr << "changed since the plan's starting schema (stored snapshot -> live):\n";
    for (const std::string& c : changes) std::cerr << "  " << c << "\n";
    std::cerr << "re-create the plan from the live database\n";
  } else {
    std::cout << run.report.dump(2) << "\n";
  }
  return kExitDrift;
}

// Runs a query returning one number.
Result<uint64_t> CountOf(transports::Session& session, const std::string& sql) {
  SQLX_ASSIGN_OR_RETURN(auto stream, session.Query(sql));
  SQLX_ASSIGN_OR_RETURN(bool has, stream->NextResult());
  uint64_t value = 0;
  bool seen = false;
  while (has) {
    SQLX_ASSIGN_OR_RETURN(const transports::RowBatch* batch, stream->NextBatch());
    if (batch == nullptr) break;
    if (!seen && batch->rows() > 0 && batch->columns() > 0) {
      value = std::strtoull(std::string(batch->value(0, 0)).c_str(), nullptr, 10);
      seen = true;
    }
  }
  if (!seen) return MakeError(ErrorCode::kInternal, "pre-check returned no row: " + sql);
  return value;
}

// Every pre-check of the plan, before any change. False when one found rows.
Result<bool> RunPreChecks(ApplyRun& run) {
  bool ok = true;
  json results = json::array();
  for (const planner::Operation& op : run.plan.operations) {
    for (const planner::PreCheck& check : op.prechecks) {
      SQLX_ASSIGN_OR_RETURN(uint64_t count, CountOf(*run.session, check.sql));
      results.push_back({{"operation", op.id}, {"what", check.what}, {"sql", check.sql}, {"count", count}});
      if (count > 0) ok = false;
      if (run.text())
        std::cout << "pre-check " << op.id << ": " << (count == 0 ? "ok   " : "FAIL ") << count << " " << check.what << "\n";
    }
  }
  run.report["prechecks"] = results;
  return ok;
}

json StepDetails(const planner::Operation& op, int64_t elapsed_ms) {
  return {{"id", op.id},     {"kind", op.kind}, {"class", planner::OpClassName(op.op_class)},
          {"sql", op.sql},   {"strategy", planner::StrategyName(op.strategy)},
          {"elapsed_ms", elapsed_ms}};
}

// An online-copy operation as an online migration (planner/online.h):
// shadow copy, change capture, checkpoints in the store, cut-over unless
// postponed. A pause (SIGINT/SIGTERM) stops the plan here: resumable.
Status RunOnlineOperation(ApplyRun& run, const planner::Operation& op) {
  CliMigrationObserver observer(*run.store, *run.audit, run.text());
  SQLX_ASSIGN_OR_RETURN(planner::MigrationState state,
                        planner::StartOnlineMigration(*run.session, run.url.ConnectionName(), run.database, op, observer));
  if (run.text()) std::cout << "migration " << state.id << ": online copy of " << op.object << " started\n";
  const planner::OnlineOptions options =
      OnlineOptionsOf(run.args.postpone_cutover, run.args.chunk_time, run.args.max_threads_running);
  Status st = planner::ContinueOnlineMigration(*run.session, state, options, observer);
  if (!st.ok()) {
    Error e = st.error();
    if (e.code == ErrorCode::kServer && state.phase != "cut-over") {
      // The server refused the copy (a value the new definition cannot
      // hold, a duplicate for a new unique key): abandon it, the table is
      // as it was.
      Status dropped = planner::FinalizeMigration(*run.session, state, observer);
      e.message += dropped.ok() ? " (the online copy was abandoned: " + op.object + " is unchanged)"
                                : " (abandoning the online copy failed too: " + dropped.error().ToString() +
                                      "; `sqlx migrations finalize " + state.id + "` drops it)";
    } else if (state.phase != "cut-over") {
      e.message += " (migration " + state.id + " stopped at its checkpoint: `sqlx migrations resume " + state.id +
                   "` continues it, `sqlx migrations finalize " + state.id + "` abandons it)";
    }
    return e;
  }
  auto reset = run.session->Execute("SET SESSION lock_wait_timeout = DEFAULT");
  if (!reset.ok()) return reset.error();
  run.report["migrations"].push_back({{"id", state.id}, {"table", state.table}, {"phase", state.phase},
                                      {"rows_copied", state.rows_copied}});
  if (state.phase == "copying")
    return MakeError(ErrorCode::kCancelled, "paused: migration " + state.id + " copied " +
                                                std::to_string(state.rows_copied) + " rows; `sqlx migrations resume " +
                                                state.id + "` continues it (the rest of the plan was not run)");
  if (state.phase == "copied") run.postponed.push_back(state.id);
  return Status::Ok();
}

// Runs one operation's statements under its sql_mode.
Status RunOperation(ApplyRun& run, const planner::Operation& op, const std::string& session_sql_mode) {
  if (run.online.count(op.id)) return RunOnlineOperation(run, op);
  const std::string mode = op.sql_mode.empty() ? session_sql_mode : op.sql_mode;
  SQLX_RETURN_IF_ERROR(run.session->Execute("SET SESSION sql_mode = " + planner::QuoteString(mode)));
  for (const std::string& statement : planner::OperationStatements(op))
    SQLX_RETURN_IF_ERROR(run.session->Execute(statement));
  return Status::Ok();
}

// After a failed operation: the reverse of the operations applied, from the
// live hash now to the plan's starting one, written beside the plan.
std::string WriteReversePlan(ApplyRun& run) {
  planner::Plan prefix = run.plan;
  prefix.operations.resize(run.applied.size());
  planner::Plan back = planner::ReversePlan(prefix);
  back.to_hash = run.plan.from_hash;
  auto now = LearnLive(run);
  back.from_hash = now.ok() ? now->profile_hash : "";
  std::string path = run.args.plan_file;
  if (path.size() > 5 && path.compare(path.size() - 5, 5, ".json") == 0) path.resize(path.size() - 5);
  path += ".reverse.json";
  Status st = WriteFileAtomically(path, planner::PlanToJson(back));
  if (!st.ok()) {
    std::cerr << "sqlx: error: the reverse plan could not be written: " << st.error().ToString() << "\n";
    return "";
  }
  return path;
}

int FailStep(ApplyRun& run, const planner::Operation& op, const Error& error, int64_t elapsed_ms) {
  (void)RecordAudit(*run.audit, "apply.step", run.Object(op.object), &error, StepDetails(op, elapsed_ms).dump());
  const std::string reverse = WriteReversePlan(run);
  run.report["result"] = "failed";
  run.report["failed_operation"] = op.id;
  run.report["error"] = error.ToString();
  run.report["applied"] = run.applied;
  run.report["reverse_plan"] = reverse;
  (void)RecordAudit(*run.audit, "apply.failed", run.Object(), &error, run.report.dump());
  if (run.text()) {
    std::cerr << "sqlx: error: operation " << op.id << " (" << op.kind << " " << op.object
              << ") failed: " << error.ToString() << "\n";
    std::cerr << "applied before it: " << run.applied.size() << " of " << run.plan.operations.size()
              << " operations\n";
    if (!reverse.empty())
      std::cerr << "reverse plan of the applied operations: " << reverse << "\n  (sqlx apply URL --plan " << reverse
                << " --allow-blocking)\n";
  } else {
    std::cout << run.report.dump(2) << "\n";
  }
  return kExitError;
}

// Runs the operations in order; then re-learns and checks the to_hash.
int RunOperations(ApplyRun& run) {
  std::string session_sql_mode;
  {
    auto mode = run.session->Query("SELECT @@SESSION.sql_mode");
    if (!mode.ok()) return ReportError(run.g, mode.error());
    auto has = (*mode)->NextResult();
    auto batch = has.ok() && *has ? (*mode)->NextBatch() : Result<const transports::RowBatch*>(nullptr);
    if (batch.ok() && *batch != nullptr && (*batch)->rows() > 0) session_sql_mode = std::string((*batch)->value(0, 0));
  }
  json started = {{"plan", run.args.plan_file}, {"from_hash", run.plan.from_hash}, {"to_hash", run.plan.to_hash},
                  {"operations", run.plan.operations.size()}};
  (void)RecordAudit(*run.audit, "apply.started", run.Object(), nullptr, started.dump());
  for (const planner::Operation& op : run.plan.operations) {
    const auto start = std::chrono::steady_clock::now();
    Status st = RunOperation(run, op, session_sql_mode);
    const int64_t ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
    if (!st.ok()) return FailStep(run, op, st.error(), ms);
    run.applied.push_back(op.id);
    (void)RecordAudit(*run.audit, "apply.step", run.Object(op.object), nullptr, StepDetails(op, ms).dump());
    if (run.text())
      std::cout << "applied " << op.id << ". " << op.kind << (op.object.empty() ? "" : " " + op.object) << " ["
                << planner::StrategyName(op.strategy) << "] " << ms << " ms\n";
  }
  run.report["applied"] = run.applied;
  if (!run.postponed.empty()) {
    run.report["result"] = "copied";
    run.report["postponed"] = run.postponed;
    (void)RecordAudit(*run.audit, "apply.finished", run.Object(), nullptr, run.report.dump());
    if (run.text()) {
      std::cout << "copied, waiting for the cut-over:";
      for (const std::string& id : run.postponed) std::cout << " sqlx migrations cutover " << id << ";";
      std::cout << " (the plan's to_hash is reached after every cut-over)\n";
    } else {
      std::cout << run.report.dump(2) << "\n";
    }
    return kExitOk;
  }
  auto after = LearnLive(run);
  if (!after.ok()) return ReportError(run.g, after.error());
  StoreSnapshot(run, *after);
  run.report["live_hash"] = after->profile_hash;
  if (after->profile_hash != run.plan.to_hash) {
    Error e = MakeError(ErrorCode::kInternal, "every operation ran, but " + run.database + " now learns to " +
                                                  after->profile_hash + ", not the plan's to_hash " + run.plan.to_hash);
    run.report["result"] = "hash-mismatch";
    (void)RecordAudit(*run.audit, "apply.failed", run.Object(), &e, run.report.dump());
    return ReportError(run.g, e);
  }
  run.report["result"] = "applied";
  (void)RecordAudit(*run.audit, "apply.finished", run.Object(), nullptr, run.report.dump());
  if (run.text()) std::cout << "done: " << run.database << " now has the plan's schema " << run.plan.to_hash << "\n";
  else std::cout << run.report.dump(2) << "\n";
  return kExitOk;
}

void PrintDryRun(const ApplyRun& run) {
  if (!run.text()) return;
  std::cout << "dry run: nothing was changed. Would run on " << run.database << ":\n";
  for (const planner::Operation& op : run.plan.operations) {
    std::cout << "\n-- " << op.id << ". " << op.kind << (op.object.empty() ? "" : " " + op.object) << " ["
              << planner::OpClassName(op.op_class) << ", " << planner::StrategyName(op.strategy) << "]\n";
    if (!op.sql_mode.empty()) std::cout << "-- sql_mode " << op.sql_mode << "\n";
    for (const std::string& s : planner::OperationStatements(op)) std::cout << s << ";\n";
  }
}

Status Prepare(ApplyRun& run) {
  SQLX_ASSIGN_OR_RETURN(std::string text, ReadTextFile(run.args.plan_file));
  auto plan = planner::PlanFromJson(text);
  if (!plan.ok()) {
    Error e = plan.error();
    e.message = run.args.plan_file + ": " + e.message;
    return e;
  }
  run.plan = std::move(*plan);
  SQLX_ASSIGN_OR_RETURN(run.url, ResolveConnection(run.args.connect));
  run.database = run.url.database.empty() ? run.plan.database : run.url.database;
  if (run.database.empty())
    return MakeError(ErrorCode::kInvalidArgument, "the plan names no database: give it as the URL's path");
  run.url.database.clear();
  SQLX_ASSIGN_OR_RETURN(run.store, OpenStore(run.g));
  SQLX_ASSIGN_OR_RETURN(run.audit, OpenAuditLog(run.g, *run.store));
  SQLX_ASSIGN_OR_RETURN(run.session, OpenSession(run.g, run.url, /*learning=*/true));
  run.report = {{"database", run.database}, {"plan", run.args.plan_file}, {"from_hash", run.plan.from_hash},
                {"to_hash", run.plan.to_hash}, {"dry_run", run.args.dry_run}};
  return Status::Ok();
}

// Refuses operations without consent; false (and reported) when any is.
Result<bool> CheckConsent(ApplyRun& run) {
  planner::ApplyConsent consent{run.args.allow_destructive, run.args.allow_blocking, {}};
  // Destructive changes of tables that hold no row lose nothing: they need
  // no --allow-destructive (checked live, just before the run).
  if (!consent.allow_destructive) {
    for (const std::string& table : planner::DestructiveTables(run.plan)) {
      SQLX_ASSIGN_OR_RETURN(uint64_t empty, CountOf(*run.session, planner::EmptyTableCheck(table)));
      if (empty == 1) {
        consent.empty_tables.insert(table);
        if (run.text()) std::cout << "table `" << table << "` is empty: its destructive changes lose no data\n";
      }
    }
  }
  run.report["empty_tables"] = consent.empty_tables;
  std::vector<std::string> refusals = planner::Refusals(run.plan, consent);
  // Online copies: checked on the live table; where one cannot run online,
  // only --allow-blocking runs it (as a blocking ALGORITHM=COPY).
  std::set<std::string> online_tables;
  for (const planner::Operation& op : run.plan.operations) {
    if (online_tables.count(op.object) && run.args.postpone_cutover)
      refusals.push_back(std::to_string(op.id) + ". " + op.kind + " " + op.object +
                         ": follows an online copy of the same table, which --postpone-cutover leaves uncut");
    if (op.strategy != planner::Strategy::kOnlineCopy) continue;
    SQLX_ASSIGN_OR_RETURN(std::string obstacle, planner::OnlineCopyObstacle(*run.session, run.database, op));
    if (obstacle.empty()) {
      run.online.insert(op.id);
      online_tables.insert(op.object);
      if (run.text()) std::cout << "operation " << op.id << " (" << op.object << "): runs as an online copy\n";
    } else if (!run.args.allow_blocking) {
      refusals.push_back(std::to_string(op.id) + ". " + op.kind + " " + op.object + ": needs a table copy (" +
                         op.strategy_reason + ") and cannot be copied online (" + obstacle +
                         "): --allow-blocking runs it as a blocking ALGORITHM=COPY");
    }
  }
  run.report["online"] = run.online;
  run.report["refusals"] = refusals;
  if (refusals.empty()) return true;
  if (run.text()) {
    std::cerr << "sqlx: error: " << refusals.size() << " operation" << (refusals.size() == 1 ? "" : "s")
              << " may not run without consent:\n";
    for (const std::string& r : refusals) std::cerr << "  " << r << "\n";
  }
  return false;
}

}  // namespace

int RunApply(const GlobalOptions& g, const ApplyArgs& args) {
  ApplyRun run{g, args, {}, {}, {}, nullptr, nullptr, nullptr, json::object(), {}};
  if (Status st = Prepare(run); !st.ok()) return ReportError(g, st.error());
  auto live = LearnLive(run);
  if (!live.ok()) return ReportError(g, live.error());
  StoreSnapshot(run, *live);
  if (live->profile_hash != run.plan.from_hash) return ReportDrift(run, *live);
  if (Status st = run.session->InitDb(run.database); !st.ok()) return ReportError(g, st.error());
  if (run.plan.operations.empty()) {
    if (run.text()) std::cout << "nothing to do: the plan is empty\n";
    return kExitOk;
  }
  auto consented = CheckConsent(run);
  if (!consented.ok()) return ReportError(g, consented.error());
  const bool consent = *consented;
  auto prechecks = RunPreChecks(run);
  if (!prechecks.ok()) return ReportError(g, prechecks.error());
  if (!*prechecks && run.text())
    std::cerr << "sqlx: error: pre-checks found rows the plan cannot take: nothing was changed\n";
  if (args.dry_run) {
    PrintDryRun(run);
    run.report["result"] = consent && *prechecks ? "would-apply" : "would-refuse";
    if (!run.text()) std::cout << run.report.dump(2) << "\n";
    return consent && *prechecks ? kExitOk : kExitError;
  }
  if (!consent || !*prechecks) {
    run.report["result"] = "refused";
    Error e = MakeError(ErrorCode::kInvalidArgument,
                        !consent ? "operations refused without consent" : "pre-checks found offending rows");
    (void)RecordAudit(*run.audit, "apply.failed", run.Object(), &e, run.report.dump());
    if (!run.text()) std::cout << run.report.dump(2) << "\n";
    return kExitError;
  }
  return RunOperations(run);
}

}  // namespace sqlx::cli
