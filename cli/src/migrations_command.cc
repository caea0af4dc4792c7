// `sqlx migrations list | status ID | cutover ID | revert ID [--force] |
// finalize ID | resume ID [online options]`: online migrations started by
// `sqlx apply` (docs/cli.md; state format docs/formats/migrations.md).
#include <iostream>

#include <nlohmann/json.hpp>

#include "audit_trail.h"
#include "commands.h"
#include "connection_learning.h"
#include "online_runner.h"
#include "sqlx/actors/system.h"

namespace sqlx::cli {

namespace {

using nlohmann::json;

json Summary(const planner::MigrationState& s) {
  json j = json::parse(planner::MigrationToJson(s));
  j.erase("format_version");
  const double seconds = s.updated_at_ns > s.started_at_ns ? (s.updated_at_ns - s.started_at_ns) / 1e9 : 0;
  j["progress"] = s.rows_estimate > 0 ? std::min(1.0, static_cast<double>(s.rows_copied) / s.rows_estimate) : 0.0;
  if (s.phase == "copying" && seconds > 0 && s.rows_copied > 0 && s.rows_estimate > s.rows_copied)
    j["eta_seconds"] = static_cast<uint64_t>((s.rows_estimate - s.rows_copied) / (s.rows_copied / seconds));
  return j;
}

Result<planner::MigrationState> Load(storage::Store& store, const std::string& id) {
  SQLX_ASSIGN_OR_RETURN(std::optional<storage::MigrationRecord> record, store.GetMigration(id));
  if (!record)
    return MakeError(ErrorCode::kNotFound, "no migration " + id + " in store " + store.dir() +
                                               " (`sqlx migrations list` shows them)");
  return planner::MigrationFromJson(record->json);
}

// A migration as a list shows it, with the apply job that runs it when it
// comes from an orchestrator.
struct Listed {
  planner::MigrationState state;
  std::string job, worker;
};

int List(const GlobalOptions& g, const std::vector<Listed>& migrations) {
  json all = json::array();
  if (g.format != "json") std::cout << "ID        PHASE      CONNECTION / DATABASE.TABLE                ROWS COPIED\n";
  for (const Listed& m : migrations) {
    const planner::MigrationState& s = m.state;
    json j = Summary(s);
    if (!m.job.empty()) {
      j["job"] = m.job;
      j["worker"] = m.worker;
    }
    all.push_back(j);
    if (g.format != "json") {
      char line[512];
      std::snprintf(line, sizeof line, "%-9s %-10s %-42s %llu of ~%llu%s\n", s.id.c_str(), s.phase.c_str(),
                    (s.connection + " " + s.database + "." + s.table).c_str(),
                    static_cast<unsigned long long>(s.rows_copied), static_cast<unsigned long long>(s.rows_estimate),
                    m.job.empty() ? "" : ("  job " + m.job + " on " + m.worker).c_str());
      std::cout << line;
    }
  }
  if (g.format == "json") std::cout << all.dump(2) << "\n";
  return kExitOk;
}

Result<std::vector<Listed>> FromStore(storage::Store& store) {
  SQLX_ASSIGN_OR_RETURN(std::vector<storage::MigrationRecord> records, store.ListMigrations());
  std::vector<Listed> out;
  for (const storage::MigrationRecord& r : records) {
    auto s = planner::MigrationFromJson(r.json);
    if (!s.ok()) {
      std::cerr << "sqlx: warning: migration " << r.id << ": " << s.error().ToString() << "\n";
      continue;
    }
    out.push_back({std::move(s).value(), "", ""});
  }
  return out;
}

// One migration as the orchestrator answers it: {job, worker, migration}.
Result<Listed> ListedOf(const json& m) {
  if (!m.is_object() || !m.contains("migration"))
    return MakeError(ErrorCode::kProtocol, "the orchestrator's answer is not a migration");
  auto s = planner::MigrationFromJson(m["migration"].dump());
  if (!s.ok()) {
    Error e = s.error();
    e.message = "a migration of job " + m.value("job", "?") + ": " + e.message;
    return e;
  }
  return Listed{std::move(s).value(), m.value("job", ""), m.value("worker", "")};
}

// The apply jobs' migrations of a running orchestrator, as their last
// checkpoints left them (GET /v1/migrations; docs/cluster.md).
Result<std::vector<Listed>> FromOrchestrator(const MigrationsArgs& args) {
  SQLX_ASSIGN_OR_RETURN(std::string answer, OrchestratorGet(args.orchestrator, args.orchestrator_ca, "/v1/migrations"));
  const json doc = json::parse(answer, nullptr, false);
  if (!doc.is_object() || !doc.contains("migrations") || !doc["migrations"].is_array())
    return MakeError(ErrorCode::kProtocol, "the orchestrator's answer holds no migrations");
  std::vector<Listed> out;
  for (const json& m : doc["migrations"]) {
    auto listed = ListedOf(m);
    if (!listed.ok()) {
      std::cerr << "sqlx: warning: " << listed.error().ToString() << "\n";
      continue;
    }
    out.push_back(std::move(listed).value());
  }
  return out;
}

int Status_(const GlobalOptions& g, const planner::MigrationState& s) {
  const json j = Summary(s);
  if (g.format == "json") {
    std::cout << j.dump(2) << "\n";
    return kExitOk;
  }
  std::cout << "migration " << s.id << ": " << s.phase << "\n"
            << "  table        " << s.connection << " " << s.database << "." << s.table << " (operation "
            << s.operation_id << ")\n"
            << "  key          " << s.key_index << " (" << j["key_columns"].dump() << ")\n"
            << "  copied       " << s.rows_copied << " of ~" << s.rows_estimate << " rows in " << s.chunks
            << " chunks";
  if (j.contains("eta_seconds")) std::cout << ", ETA " << j["eta_seconds"].get<uint64_t>() << " s";
  std::cout << "\n  shadow       " << s.ShadowTable() << ", old " << s.OldTable() << "\n";
  if (!s.error.empty()) std::cout << "  last error   " << s.error << "\n";
  const std::string next = s.phase == "copying" || s.phase == "preparing" ? "resume (or finalize to abandon)"
                           : s.phase == "copied"                          ? "cutover (or finalize to abandon)"
                           : s.phase == "cut-over"                        ? "finalize (or revert)"
                           : s.phase == "reverted"                        ? "finalize (drops the copy) or cutover"
                                                                          : "nothing: done";
  std::cout << "  next         sqlx migrations " << next << "\n";
  return kExitOk;
}

}  // namespace

int RunMigrations(const GlobalOptions& g, const MigrationsArgs& args) {
  if (!args.orchestrator.empty()) {
    if (args.action != "list" && args.action != "status")
      return ReportError(g, MakeError(ErrorCode::kInvalidArgument,
                                      "--orchestrator shows a cluster's migrations (list, status); to " + args.action +
                                          " one, stop the orchestrator and use its store (--store DIR)"));
    if (args.action == "list") {
      auto listed = FromOrchestrator(args);
      if (!listed.ok()) return ReportError(g, listed.error());
      return List(g, *listed);
    }
    auto answer = OrchestratorGet(args.orchestrator, args.orchestrator_ca, "/v1/migrations/" + args.id);
    if (!answer.ok()) return ReportError(g, answer.error());
    auto one = ListedOf(json::parse(*answer, nullptr, false));
    if (!one.ok()) return ReportError(g, one.error());
    return Status_(g, one->state);
  }
  auto store = OpenStore(g);
  if (!store.ok()) return ReportError(g, store.error());
  if (args.action == "list") {
    auto listed = FromStore(**store);
    if (!listed.ok()) return ReportError(g, listed.error());
    return List(g, *listed);
  }
  auto loaded = Load(**store, args.id);
  if (!loaded.ok()) return ReportError(g, loaded.error());
  planner::MigrationState s = std::move(*loaded);
  if (args.action == "status") return Status_(g, s);

  auto audit = OpenAuditLog(g, **store);
  if (!audit.ok()) return ReportError(g, audit.error());
  auto url = ResolveConnection(args.connect);
  if (!url.ok()) return ReportError(g, url.error());
  if (url->ConnectionName() != s.connection)
    return ReportError(g, MakeError(ErrorCode::kInvalidArgument,
                                    "migration " + s.id + " runs on " + s.connection + ", the URL names " +
                                        url->ConnectionName() + ": give the URL of " + s.connection));
  url->database.clear();
  if (args.action != "resume" && args.action != "cutover" && args.action != "revert" && args.action != "finalize")
    return ReportError(g, MakeError(ErrorCode::kInvalidArgument, "unknown migrations action '" + args.action + "'"));
  MigrationTerminal terminal(g.format != "json");
  StoreMigrationObserver observer(**store, audit->get(), terminal.Hooks());
  auto online = OnlineOptionsOf(g, args.online, args.connect.url, *url);  // resume's replicas, reached before it continues
  if (!online.ok()) return ReportError(g, online.error());
  const planner::OnlineOptions& options = *online;
  if (args.action == "resume") {
    (void)RecordAudit(**audit, "migration.resumed", {s.connection, s.database, s.table}, nullptr,
                      json{{"migration", s.id}, {"phase", s.phase}, {"rows_copied", s.rows_copied}}.dump());
  }
  // The action runs as a migration job on a connection actor, on its
  // session; the store, audit log and terminal stay this command's.
  actors::SystemOptions system_options = SystemOptionsFor(g);
  system_options.migration_runner = [&](transports::Session& session, const transports::ConnectionUrl&,
                                        const actors::MigrationRequest& request) -> Result<actors::MigrationOutcome> {
    SQLX_ASSIGN_OR_RETURN(planner::MigrationState m, planner::MigrationFromJson(request.migration_json));
    Status done = Status::Ok();
    if (request.action == "resume") {
      done = planner::ContinueOnlineMigration(session, m, options, observer);
    } else if (request.action == "cutover") {
      done = planner::CutOverMigration(session, m, options, observer);
    } else if (request.action == "revert") {
      done = planner::RevertMigration(session, m, options, observer, request.force);
    } else if (request.action == "finalize") {
      done = planner::FinalizeMigration(session, m, observer);
    } else {
      return MakeError(ErrorCode::kInvalidArgument, "unknown migrations action '" + request.action + "'");
    }
    actors::MigrationOutcome outcome{planner::MigrationToJson(m), std::nullopt};
    if (!done.ok()) outcome.error = done.error();
    return outcome;
  };
  actors::System system(system_options);
  auto outcome = system.RunMigration(*url, {planner::MigrationToJson(s), args.action, args.force});
  if (!outcome.ok()) return ReportError(g, outcome.error());
  auto after = planner::MigrationFromJson(outcome->migration_json);
  if (!after.ok()) return ReportError(g, after.error());
  s = std::move(after).value();
  Status st = outcome->error ? Status(*outcome->error) : Status::Ok();
  if (!st.ok()) {
    const int code = ReportError(g, st.error());
    // A refused revert is a failed verification: rows differ.
    return args.action == "revert" && s.phase == "cut-over" && !s.error.empty() ? kExitDrift : code;
  }
  if (g.format == "json") {
    std::cout << Summary(s).dump(2) << "\n";
  } else if (terminal.paused() && s.phase == "copying") {
    std::cout << "paused: migration " << s.id << " copied " << s.rows_copied << " rows; `sqlx migrations resume "
              << s.id << "` continues\n";
  } else {
    std::cout << "migration " << s.id << ": " << s.phase << "\n";
  }
  if (!observer.audit_failure().empty())
    std::cerr << "sqlx: warning: the audit event " << observer.audit_failure() << " was not recorded\n";
  return terminal.paused() && s.phase == "copying" ? kExitError : kExitOk;
}

}  // namespace sqlx::cli
