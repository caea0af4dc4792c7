// `sqlx apply URL --plan plan.json [--dry-run] [--allow-destructive]
// [--allow-blocking] [online options]`: runs a plan on a live database
// (docs/cli.md) as an apply job of the actors (supervisor → apply actor →
// connection actor), whose plan runner is the driver's ApplyPlan
// (sqlx/apply.h) with this command's store, audit log and hooks; this file
// reads the plan, opens the store and the replicas, and prints the report as
// it grows: text on stdout (errors on stderr), or one JSON document.
#include <iostream>
#include <optional>

#include "audit_trail.h"
#include "commands.h"
#include "connection_learning.h"
#include "files.h"
#include "online_runner.h"
#include "driver_plan_runner.h"
#include "sqlx/actors/system.h"
#include "sqlx/planner/guardrails.h"
#include "sqlx/planner/plan.h"

namespace sqlx::cli {

namespace {

// The plan file's reverse plan: NAME.json -> NAME.reverse.json.
std::string ReversePlanFile(std::string path) {
  if (path.size() > 5 && path.compare(path.size() - 5, 5, ".json") == 0) path.resize(path.size() - 5);
  return path + ".reverse.json";
}

std::string OperationLabel(const planner::Operation& op) {
  return op.kind + (op.object.empty() ? "" : " " + op.object);
}

// Prints a report in text as it grows (each part once), then its outcome.
class ApplyPrinter {
 public:
  ApplyPrinter(const GlobalOptions& g, const planner::Plan& plan) : g_(g), plan_(plan) {}

  bool text() const { return g_.format != "json"; }

  // What is new in `report`: warnings (stderr, any format); in text, the
  // checks once, and each operation applied.
  void Progress(const ApplyReport& report) {
    for (; warnings_ < report.warnings.size(); ++warnings_)
      std::cerr << "sqlx: warning: " << report.warnings[warnings_] << "\n";
    if (!text()) return;
    if (!checks_printed_) PrintChecks(report);
    for (; applied_ < report.applied.size(); ++applied_) {
      const AppliedOperation& step = report.applied[applied_];
      const planner::Operation& op = Operation(step.id);
      std::cout << "applied " << op.id << ". " << OperationLabel(op) << " [" << planner::StrategyName(op.strategy)
                << "] " << step.elapsed.count() << " ms\n";
    }
  }

  // Prints the outcome and returns the exit code.
  int Finish(const ApplyReport& report) {
    const bool checked = report.result != ApplyResult::kDrift && report.result != ApplyResult::kAlreadyApplied &&
                         report.result != ApplyResult::kNothingToDo;
    if (!checked) checks_printed_ = true;
    Progress(report);
    switch (report.result) {
      case ApplyResult::kDrift:
      case ApplyResult::kAlreadyApplied:
        return Drift(report);
      case ApplyResult::kNothingToDo:
        if (text()) std::cout << "nothing to do: the plan is empty\n";
        return kExitOk;
      case ApplyResult::kHashMismatch:
        return ReportError(g_, *report.error);
      case ApplyResult::kWouldApply:
      case ApplyResult::kWouldRefuse:
        if (text()) PrintDryRun(report.database);
        break;
      case ApplyResult::kFailed:
        if (text()) PrintFailure(report);
        break;
      case ApplyResult::kApplied:
        if (text()) std::cout << "done: " << report.database << " now has the plan's schema " << plan_.to_hash << "\n";
        break;
      case ApplyResult::kRefused:
        break;
      case ApplyResult::kCopied:
        if (text()) {
          std::cout << "copied, waiting for the cut-over:";
          for (const MigrationOutcome& m : report.migrations)
            if (m.phase == "copied") std::cout << " sqlx migrations cutover " << m.id << ";";
          std::cout << " (the plan's to_hash is reached after every cut-over)\n";
        }
        break;
      case ApplyResult::kPaused:
        if (text()) std::cout << report.error->message << "\n";
        break;
    }
    if (!text()) std::cout << ApplyReportToJson(report, 2) << "\n";
    const bool ok = report.result == ApplyResult::kApplied || report.result == ApplyResult::kWouldApply ||
                    report.result == ApplyResult::kCopied;
    return ok ? kExitOk : kExitError;
  }

 private:
  const planner::Operation& Operation(int id) const {
    for (const planner::Operation& op : plan_.operations)
      if (op.id == id) return op;
    return plan_.operations.front();  // not reached: the report's ids are the plan's
  }

  void PrintChecks(const ApplyReport& report) {
    checks_printed_ = true;
    for (const std::string& table : report.empty_tables)
      std::cout << "table `" << table << "` is empty: its destructive changes lose no data\n";
    if (!report.refusals.empty()) {
      std::cerr << "sqlx: error: " << report.refusals.size() << " operation" << (report.refusals.size() == 1 ? "" : "s")
                << " may not run without consent:\n";
      for (const std::string& r : report.refusals) std::cerr << "  " << r << "\n";
    }
    for (int id : report.online)
      std::cout << "operation " << id << " (" << Operation(id).object << "): runs as an online copy\n";
    bool found = false;
    for (const PreCheckCount& c : report.prechecks) {
      std::cout << "pre-check " << c.operation << ": " << (c.count == 0 ? "ok   " : "FAIL ") << c.count << " " << c.what
                << "\n";
      found = found || c.count > 0;
    }
    if (found) std::cerr << "sqlx: error: pre-checks found rows the plan cannot take: nothing was changed\n";
  }

  int Drift(const ApplyReport& report) {
    if (text()) {
      std::cerr << "sqlx: error: " << report.error->message << "\n";
      if (!report.drift.empty()) std::cerr << "changed since the plan's starting schema (stored snapshot -> live):\n";
      for (const std::string& c : report.drift) std::cerr << "  " << c << "\n";
      std::cerr << "re-create the plan from the live database\n";
    } else {
      std::cout << ApplyReportToJson(report, 2) << "\n";
    }
    return kExitDrift;
  }

  void PrintDryRun(const std::string& database) const {
    std::cout << "dry run: nothing was changed. Would run on " << database << ":\n";
    for (const planner::Operation& op : plan_.operations) {
      std::cout << "\n-- " << op.id << ". " << OperationLabel(op) << " [" << planner::OpClassName(op.op_class) << ", "
                << planner::StrategyName(op.strategy) << "]\n";
      if (!op.sql_mode.empty()) std::cout << "-- sql_mode " << op.sql_mode << "\n";
      for (const std::string& s : planner::OperationStatements(op)) std::cout << s << ";\n";
    }
  }

  void PrintFailure(const ApplyReport& report) const {
    const planner::Operation& op = Operation(report.failed_operation);
    std::cerr << "sqlx: error: operation " << op.id << " (" << OperationLabel(op)
              << ") failed: " << report.error->ToString() << "\n";
    std::cerr << "applied before it: " << report.applied.size() << " of " << plan_.operations.size()
              << " operations\n";
    if (!report.reverse_plan_file.empty())
      std::cerr << "reverse plan of the applied operations: " << report.reverse_plan_file
                << "\n  (sqlx apply URL --plan " << report.reverse_plan_file << " --allow-blocking)\n";
  }

  const GlobalOptions& g_;
  const planner::Plan& plan_;
  bool checks_printed_ = false;
  size_t warnings_ = 0;
  size_t applied_ = 0;
};

// The plan file: its text (as the apply job carries it) and the plan.
struct PlanFile {
  std::string text;
  planner::Plan plan;
};

Result<PlanFile> ReadPlan(const std::string& file) {
  SQLX_ASSIGN_OR_RETURN(std::string text, ReadTextFile(file));
  auto plan = planner::PlanFromJson(text);
  if (!plan.ok()) {
    Error e = plan.error();
    e.message = file + ": " + e.message;
    return e;
  }
  return PlanFile{std::move(text), std::move(plan).value()};
}

}  // namespace

int RunApply(const GlobalOptions& g, const ApplyArgs& args) {
  auto read = ReadPlan(args.plan_file);
  if (!read.ok()) return ReportError(g, read.error());
  const planner::Plan* plan = &read->plan;
  auto url = ResolveConnection(args.connect);
  if (!url.ok()) return ReportError(g, url.error());
  ApplyOptions options;
  options.database = url->database.empty() ? plan->database : url->database;
  if (options.database.empty())
    return ReportError(g, MakeError(ErrorCode::kInvalidArgument,
                                    "the plan names no database: give it as the URL's path"));
  url->database.clear();  // connect without it: a missing database is then the learn's kNotFound
  auto store = OpenStore(g);
  if (!store.ok()) return ReportError(g, store.error());
  auto audit = OpenAuditLog(g, **store);
  if (!audit.ok()) return ReportError(g, audit.error());
  auto online = OnlineOptionsOf(g, args.online, args.connect.url, *url);  // replicas are reached before any change
  if (!online.ok()) return ReportError(g, online.error());

  ApplyPrinter printer(g, *plan);
  options.plan_name = args.plan_file;
  options.store = store->get();
  options.audit = audit->get();
  options.reverse_plan_file = ReversePlanFile(args.plan_file);
  options.on_progress = [&printer](const ApplyReport& so_far) { printer.Progress(so_far); };
  options.online = std::move(*online);
  MigrationTerminal terminal(printer.text());
  MigrationHooks hooks = terminal.Hooks();
  options.on_migration_event = hooks.on_event;
  options.on_migration_progress = hooks.on_progress;
  options.stop_requested = hooks.stop_requested;
  actors::ApplyRequest request;
  request.database = options.database;
  request.plan_json = std::move(read->text);
  request.dry_run = args.dry_run;
  request.allow_destructive = args.allow_destructive;
  request.allow_blocking = args.allow_blocking;
  std::optional<ApplyReport> report;
  actors::SystemOptions system_options = SystemOptionsFor(g);
  system_options.plan_runner = DriverPlanRunner(std::move(options), [&report](const ApplyReport& r) { report = r; });
  // One attempt: a run that lost its connection is not repeated behind the
  // user's back (an online migration it started is resumed with `sqlx
  // migrations resume`, a plan applied again finds where it stopped).
  system_options.max_attempts = 1;
  Result<actors::ApplySummary> ran = MakeError(ErrorCode::kInternal, "not run");
  {
    actors::System system(system_options);
    ran = system.ApplyPlan(*url, request);
  }
  if (!ran.ok()) return ReportError(g, ran.error());
  if (!report) return ReportError(g, MakeError(ErrorCode::kInternal, "the apply job answered without its report"));
  return printer.Finish(*report);
}

}  // namespace sqlx::cli
