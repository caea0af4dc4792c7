// `sqlx migrations list | status ID | cutover ID | revert ID [--force] |
// finalize ID | resume ID [online options]`: online migrations started by
// `sqlx apply` (docs/cli.md; state format docs/formats/migrations.md).
#include <iostream>

#include <nlohmann/json.hpp>

#include "audit_trail.h"
#include "commands.h"
#include "connection_learning.h"
#include "online_runner.h"

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

int List(const GlobalOptions& g, storage::Store& store) {
  auto records = store.ListMigrations();
  if (!records.ok()) return ReportError(g, records.error());
  json all = json::array();
  if (g.format != "json") std::cout << "ID        PHASE      CONNECTION / DATABASE.TABLE                ROWS COPIED\n";
  for (const storage::MigrationRecord& r : *records) {
    auto s = planner::MigrationFromJson(r.json);
    if (!s.ok()) {
      std::cerr << "sqlx: warning: migration " << r.id << ": " << s.error().ToString() << "\n";
      continue;
    }
    all.push_back(Summary(*s));
    if (g.format != "json") {
      char line[512];
      std::snprintf(line, sizeof line, "%-9s %-10s %-42s %llu of ~%llu\n", s->id.c_str(), s->phase.c_str(),
                    (s->connection + " " + s->database + "." + s->table).c_str(),
                    static_cast<unsigned long long>(s->rows_copied), static_cast<unsigned long long>(s->rows_estimate));
      std::cout << line;
    }
  }
  if (g.format == "json") std::cout << all.dump(2) << "\n";
  return kExitOk;
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
  auto store = OpenStore(g);
  if (!store.ok()) return ReportError(g, store.error());
  if (args.action == "list") return List(g, **store);
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
  auto session = OpenSession(g, *url, /*learning=*/true);
  if (!session.ok()) return ReportError(g, session.error());
  MigrationTerminal terminal(g.format != "json");
  StoreMigrationObserver observer(**store, audit->get(), terminal.Hooks());
  auto online = OnlineOptionsOf(g, args.online, args.connect.url);  // resume's replicas, reached before it continues
  if (!online.ok()) return ReportError(g, online.error());
  const planner::OnlineOptions& options = *online;
  Status st = Status::Ok();
  if (args.action == "resume") {
    (void)RecordAudit(**audit, "migration.resumed", {s.connection, s.database, s.table}, nullptr,
                      json{{"migration", s.id}, {"phase", s.phase}, {"rows_copied", s.rows_copied}}.dump());
    st = planner::ContinueOnlineMigration(**session, s, options, observer);
  } else if (args.action == "cutover") {
    st = planner::CutOverMigration(**session, s, options, observer);
  } else if (args.action == "revert") {
    st = planner::RevertMigration(**session, s, options, observer, args.force);
  } else if (args.action == "finalize") {
    st = planner::FinalizeMigration(**session, s, observer);
  } else {
    return ReportError(g, MakeError(ErrorCode::kInvalidArgument, "unknown migrations action '" + args.action + "'"));
  }
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
