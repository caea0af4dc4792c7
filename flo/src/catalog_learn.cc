// ListDatabases and LearnDatabases: the learn pack's catalog queries run
// once each for every requested database together (catalog_batch.cc), then
// the user's privileges decide what may be missing.
#include <algorithm>
#include <chrono>
#include <optional>

#include "catalog.h"
#include "catalog_batch.h"
#include "sqlx/flo/learn_database.h"

namespace sqlx::flo {

namespace {

struct Server {
  LearnPack pack;
  ServerVersion version;
};

Result<Server> ServerOf(const transports::Session& session, const LearnDatabaseOptions& options) {
  Server server;
  SQLX_ASSIGN_OR_RETURN(server.pack, LocateLearnPack(session.server().greeting.pack, options.learn_pack_dir));
  server.version = ParseServerVersion(server.pack.version, session.server().greeting.server_version);
  return server;
}

// How names are quoted: backslashes mean something only without
// NO_BACKSLASH_ESCAPES, so the session's sql_mode is read only when a name
// holds one.
Result<SqlQuoting> ChooseQuoting(CatalogReader& reader, const std::vector<std::string>& names) {
  const bool any_backslash = std::any_of(names.begin(), names.end(), [](const std::string& n) {
    return n.find('\\') != std::string::npos;
  });
  if (!any_backslash) return SqlQuoting::kBackslashEscapes;
  CatalogRows rows;
  std::string reason;
  SQLX_ASSIGN_OR_RETURN(CatalogOutcome outcome, reader.Run("sql_mode", "", &rows, &reason));
  int mode = rows.Find("SQL_MODE");
  if (outcome == CatalogOutcome::kRan && mode >= 0 && !rows.rows.empty() &&
      CellText(rows.rows[0], mode).find("NO_BACKSLASH_ESCAPES") != std::string::npos)
    return SqlQuoting::kNoBackslashEscapes;
  return SqlQuoting::kBackslashEscapes;
}

// Lists, per database, the objects the user's grants do not let it see.
Status CheckVisibility(const LearnPack& pack, CatalogReader& reader, const std::vector<std::string>& names,
                       CatalogBuilder* builder) {
  CatalogRows rows;
  std::string reason;
  SQLX_ASSIGN_OR_RETURN(CatalogOutcome outcome, reader.Run("privileges", "", &rows, &reason));
  if (outcome != CatalogOutcome::kRan) {
    for (const VisibilityRule& rule : pack.catalog.visibility)
      builder->NotVisibleEverywhere(rule.missing + " (the user's privileges could not be read: " + reason + ")");
    return Status::Ok();
  }
  int scope = -1, schema = -1, table = -1, privilege = -1;
  SQLX_ASSIGN_OR_RETURN(scope, RequireColumn(rows, "SCOPE", pack.file));
  SQLX_ASSIGN_OR_RETURN(schema, RequireColumn(rows, "TABLE_SCHEMA", pack.file));
  SQLX_ASSIGN_OR_RETURN(table, RequireColumn(rows, "TABLE_NAME", pack.file));
  SQLX_ASSIGN_OR_RETURN(privilege, RequireColumn(rows, "PRIVILEGE_TYPE", pack.file));
  std::vector<Grant> grants;
  for (const CatalogRow& row : rows.rows) {
    grants.push_back({CellText(row, scope), CellText(row, schema), CellText(row, table), CellText(row, privilege)});
  }
  for (const std::string& name : names) {
    if (!builder->Known(name)) continue;
    for (const VisibilityRule& rule : pack.catalog.visibility) {
      const bool held = std::any_of(rule.any_of.begin(), rule.any_of.end(),
                                    [&](const PrivilegeNeed& need) { return HoldsPrivilege(grants, need, name); });
      if (!held) builder->NotVisible(name, rule.missing);
    }
  }
  return Status::Ok();
}

}  // namespace

bool HoldsPrivilege(const std::vector<Grant>& grants, const PrivilegeNeed& need, const std::string& database) {
  std::string schema = database, table;
  if (!need.table.empty()) {
    const size_t dot = need.table.find('.');
    schema = need.table.substr(0, dot);
    table = need.table.substr(dot + 1);
  }
  return std::any_of(grants.begin(), grants.end(), [&](const Grant& g) {
    if (!EqualsIgnoreCase(g.privilege, need.privilege)) return false;
    if (g.scope == "global") return true;
    if (g.scope == "schema") return LikeMatch(g.schema, schema);
    return g.scope == "table" && !table.empty() && g.schema == schema && g.table == table;
  });
}

std::function<void(const transports::Greeting&, transports::CapabilityProposal&)> LearnSessionGreeting(
    const LearnDatabaseOptions& options) {
  return [dir = options.learn_pack_dir](const transports::Greeting& greeting, transports::CapabilityProposal& proposal) {
    auto pack = LocateLearnPack(greeting.pack, dir);
    if (!pack.ok()) return;  // the learn reports a missing pack itself
    const std::string& capability = pack->catalog.multi_statement_capability;
    const auto& offered = greeting.server_capabilities;
    if (!capability.empty() && std::find(offered.begin(), offered.end(), capability) != offered.end())
      proposal.add.push_back(capability);
  };
}

Result<std::vector<std::string>> ListDatabases(transports::Session& session, bool include_system,
                                               const LearnDatabaseOptions& options) {
  SQLX_ASSIGN_OR_RETURN(Server server, ServerOf(session, options));
  CatalogReader reader(server.pack, session, server.version.flavor, server.version.version_number);
  CatalogRows rows;
  std::string reason;
  SQLX_ASSIGN_OR_RETURN(CatalogOutcome outcome, reader.Run("databases", "", &rows, &reason));
  if (outcome != CatalogOutcome::kRan)
    return MakeError(ErrorCode::kServer, "cannot list the server's databases: " + reason);
  SQLX_ASSIGN_OR_RETURN(int name, RequireColumn(rows, "SCHEMA_NAME", server.pack.file));
  const std::vector<std::string>& system = server.pack.catalog.system_schemas;
  std::vector<std::string> names;
  for (const CatalogRow& row : rows.rows) {
    const std::string db = CellText(row, name);
    const bool is_system = std::any_of(system.begin(), system.end(),
                                       [&](const std::string& s) { return EqualsIgnoreCase(s, db); });
    if (!db.empty() && (include_system || !is_system)) names.push_back(db);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::vector<LearnedDatabase>> LearnDatabases(transports::Session& session,
                                                    const std::vector<std::string>& names,
                                                    const LearnDatabaseOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (names.empty()) return std::vector<LearnedDatabase>{};
  SQLX_ASSIGN_OR_RETURN(Server server, ServerOf(session, options));
  CatalogReader reader(server.pack, session, server.version.flavor, server.version.version_number);
  SQLX_ASSIGN_OR_RETURN(SqlQuoting quoting, ChooseQuoting(reader, names));
  const std::string schemas = QuoteSqlList(names, quoting);

  CatalogBuilder builder(server.pack, server.version.flavor, server.version.version_number, names);
  const int total = CatalogBatch::kSteps + 1;  // the steps, then the privileges
  int step_number = 0;
  auto report = [&](std::string_view query) {
    if (options.on_progress) options.on_progress({LearnProgress::Phase::kCatalog, ++step_number, total, query});
  };
  // The helper session is not used with a name holding a backslash: the
  // quoting follows the main session's sql_mode.
  std::optional<CatalogReader> helper_reader;
  if (options.helper_session != nullptr && schemas.find('\\') == std::string::npos) {
    helper_reader.emplace(server.pack, *options.helper_session, server.version.flavor, server.version.version_number);
  }
  {
    CatalogBatch batch(reader, helper_reader ? &*helper_reader : nullptr, builder, quoting, schemas, report);
    SQLX_RETURN_IF_ERROR(batch.Run());
  }
  // What information_schema rewrites, read as the server keeps it: a view's
  // text (VIEWS drops charset introducers) and a trigger's statement (the
  // white space before its body), in batches of statements.
  struct PerObject {
    const char* query;
    std::vector<std::pair<std::string, std::string>> (CatalogBuilder::*names)() const;
    Status (CatalogBuilder::*add)(const std::string&, const std::string&, const CatalogRows&);
    const char* what;
  };
  for (const PerObject& step : {PerObject{"view_sources", &CatalogBuilder::ViewNames, &CatalogBuilder::AddViewSource,
                                          "view"},
                                PerObject{"trigger_sources", &CatalogBuilder::TriggerNames,
                                          &CatalogBuilder::AddTriggerSource, "trigger"}}) {
    const std::vector<std::pair<std::string, std::string>> objects = (builder.*step.names)();
    SQLX_ASSIGN_OR_RETURN(std::vector<CatalogReader::ObjectOutcome> sources, reader.RunEach(step.query, objects));
    for (size_t i = 0; i < objects.size(); ++i) {
      if (sources[i].outcome == CatalogOutcome::kRan) {
        SQLX_RETURN_IF_ERROR((builder.*step.add)(objects[i].first, objects[i].second, sources[i].rows));
      } else {
        builder.NotVisible(objects[i].first, std::string(step.what) + " `" + objects[i].second +
                                                 "` as the server keeps it (" + sources[i].reason +
                                                 "); learned from information_schema");
      }
    }
  }
  report("privileges");
  SQLX_RETURN_IF_ERROR(CheckVisibility(server.pack, reader, names, &builder));

  std::vector<LearnedDatabase> learned = builder.Finish(options.on_progress);
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  for (LearnedDatabase& db : learned) {
    db.elapsed = elapsed;
    db.catalog_statements = reader.statements() + (helper_reader ? helper_reader->statements() : 0);
  }
  return learned;
}

}  // namespace sqlx::flo
