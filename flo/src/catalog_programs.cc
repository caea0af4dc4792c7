// CatalogBuilder: the objects whose bodies are text — views, routines (with
// parameters), triggers and events. Bodies get `db`. self-qualifiers removed
// (StripSelfQualifiers) so that the same schema under another database name
// learns the same; what the user may not see is listed, never left out
// silently.
#include <algorithm>
#include <cctype>

#include "catalog.h"

namespace sqlx::flo {

namespace {

// A routine's return or parameter type as SHOW CREATE writes a return type:
// DTD_IDENTIFIER, plus the character set and collation of string types.
std::string RoutineType(const CatalogRow& row, int dtd, int charset, int collation) {
  std::string type = CellText(row, dtd);
  if (Cell(row, charset)) type += " CHARSET " + CellText(row, charset);
  if (Cell(row, collation)) type += " COLLATE " + CellText(row, collation);
  return type;
}

bool IsNumber(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; });
}

// EVENTS columns into the schedule clause SHOW CREATE EVENT writes: "AT
// 'ts'" or "EVERY n UNIT [STARTS 'ts'] [ENDS 'ts']" ('1:30' for compound units).
std::string EventSchedule(const CatalogRow& row, int type, int execute_at, int interval_value, int interval_field,
                          int starts, int ends) {
  if (CellText(row, type) == "ONE TIME") return "AT '" + CellText(row, execute_at) + "'";
  const std::string value = CellText(row, interval_value);
  std::string schedule = "EVERY " + (IsNumber(value) ? value : QuoteSqlLiteral(value)) + " " +
                         CellText(row, interval_field);
  if (Cell(row, starts)) schedule += " STARTS '" + CellText(row, starts) + "'";
  if (Cell(row, ends)) schedule += " ENDS '" + CellText(row, ends) + "'";
  return schedule;
}

}  // namespace

Status CatalogBuilder::AddViews(const CatalogRows& rows) {
  int schema, name, definition, check_option, definer, security, charset, collation;
  SQLX_RETURN_IF_ERROR(Require(rows, {{"TABLE_SCHEMA", &schema},
                                      {"TABLE_NAME", &name},
                                      {"VIEW_DEFINITION", &definition},
                                      {"CHECK_OPTION", &check_option},
                                      {"DEFINER", &definer},
                                      {"SECURITY_TYPE", &security},
                                      {"CHARACTER_SET_CLIENT", &charset},
                                      {"COLLATION_CONNECTION", &collation}}));
  const int algorithm = rows.Find("ALGORITHM");  // MariaDB only
  for (const CatalogRow& row : rows.rows) {
    DbState* db = Db(Cell(row, schema));
    if (db == nullptr) continue;
    ir::View view;
    view.name = CellText(row, name);
    view.definition = StripSelfQualifiers(CellText(row, definition), db->db.name);
    if (view.definition.empty())
      db->db.not_visible.push_back("view `" + view.name + "`: definition not visible (needs the SHOW VIEW privilege)");
    if (algorithm < 0)
      db->db.not_visible.push_back("views: ALGORITHM is not in this server's catalog; not learned");
    view.algorithm = CellText(row, algorithm);
    view.security = CellText(row, security);
    view.check_option = CellText(row, check_option);
    view.definer = CellText(row, definer);
    view.charset = CellText(row, charset);
    view.collation = CellText(row, collation);
    db->db.views.push_back(std::move(view));
    ++db->counts.views;
  }
  return Status::Ok();
}

Status CatalogBuilder::AddRoutines(const CatalogRows& rows) {
  int schema, name, type, dtd, charset, collation, definition, deterministic, data_access, security, definer,
      comment, sql_mode;
  SQLX_RETURN_IF_ERROR(Require(rows, {{"ROUTINE_SCHEMA", &schema},
                                      {"ROUTINE_NAME", &name},
                                      {"ROUTINE_TYPE", &type},
                                      {"DTD_IDENTIFIER", &dtd},
                                      {"CHARACTER_SET_NAME", &charset},
                                      {"COLLATION_NAME", &collation},
                                      {"ROUTINE_DEFINITION", &definition},
                                      {"IS_DETERMINISTIC", &deterministic},
                                      {"SQL_DATA_ACCESS", &data_access},
                                      {"SECURITY_TYPE", &security},
                                      {"DEFINER", &definer},
                                      {"ROUTINE_COMMENT", &comment},
                                      {"SQL_MODE", &sql_mode}}));
  for (const CatalogRow& row : rows.rows) {
    DbState* db = Db(Cell(row, schema));
    if (db == nullptr) continue;
    ir::Routine routine;
    routine.name = CellText(row, name);
    routine.kind = CellText(row, type);
    if (routine.kind != "PROCEDURE" && routine.kind != "FUNCTION") {
      db->db.not_visible.push_back(routine.kind + " `" + routine.name + "`: not represented in the IR");
      continue;
    }
    if (routine.kind == "FUNCTION") routine.returns = RoutineType(row, dtd, charset, collation);
    const std::optional<std::string> body = Cell(row, definition);
    if (!body) {
      db->db.not_visible.push_back(routine.kind + " `" + routine.name + "`: body not visible to this user");
    }
    routine.body = StripSelfQualifiers(body.value_or(""), db->db.name);
    routine.deterministic = CellText(row, deterministic) == "YES";
    routine.data_access = CellText(row, data_access);
    routine.security = CellText(row, security);
    routine.definer = CellText(row, definer);
    routine.comment = CellText(row, comment);
    routine.sql_mode = CellText(row, sql_mode);
    db->routines[{routine.kind, routine.name}] = db->db.routines.size();
    db->db.routines.push_back(std::move(routine));
    ++db->counts.routines;
  }
  return Status::Ok();
}

Status CatalogBuilder::AddParameters(const CatalogRows& rows) {
  int schema, name, type, position, mode, parameter, dtd, charset, collation;
  SQLX_RETURN_IF_ERROR(Require(rows, {{"SPECIFIC_SCHEMA", &schema},
                                      {"SPECIFIC_NAME", &name},
                                      {"ROUTINE_TYPE", &type},
                                      {"ORDINAL_POSITION", &position},
                                      {"PARAMETER_MODE", &mode},
                                      {"PARAMETER_NAME", &parameter},
                                      {"DTD_IDENTIFIER", &dtd},
                                      {"CHARACTER_SET_NAME", &charset},
                                      {"COLLATION_NAME", &collation}}));
  std::map<ir::Routine*, std::vector<std::pair<uint64_t, ir::RoutineParameter>>> parameters;
  for (const CatalogRow& row : rows.rows) {
    DbState* db = Db(Cell(row, schema));
    if (db == nullptr) continue;
    auto it = db->routines.find({CellText(row, type), CellText(row, name)});
    const uint64_t ordinal = CellNumber(row, position);
    if (it == db->routines.end() || ordinal == 0) continue;  // 0: a function's return value
    ir::RoutineParameter p;
    p.mode = CellText(row, mode);
    p.name = CellText(row, parameter);
    p.type = RoutineType(row, dtd, charset, collation);
    parameters[&db->db.routines[it->second]].emplace_back(ordinal, std::move(p));
  }
  for (auto& [routine, list] : parameters) {
    std::stable_sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    for (auto& [ordinal, p] : list) routine->parameters.push_back(std::move(p));
  }
  return Status::Ok();
}

Status CatalogBuilder::AddRoutineSources(const CatalogRows& rows) {
  int schema, name, type, param_list;
  SQLX_RETURN_IF_ERROR(Require(rows, {{"ROUTINE_SCHEMA", &schema},
                                      {"ROUTINE_NAME", &name},
                                      {"ROUTINE_TYPE", &type},
                                      {"PARAM_LIST", &param_list}}));
  for (const CatalogRow& row : rows.rows) {
    DbState* db = Db(Cell(row, schema));
    if (db == nullptr) continue;
    auto it = db->routines.find({CellText(row, type), CellText(row, name)});
    if (it == db->routines.end()) continue;  // not shown by ROUTINES (kind not in the IR)
    db->db.routines[it->second].parameter_list = CellText(row, param_list);
  }
  return Status::Ok();
}

std::vector<std::pair<std::string, std::string>> CatalogBuilder::ViewNames() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, state] : dbs_) {
    for (const ir::View& view : state.db.views) out.emplace_back(name, view.name);
  }
  return out;
}

Status CatalogBuilder::AddViewSource(const std::string& database, const std::string& view_name,
                                     const CatalogRows& rows) {
  auto state = dbs_.find(database);
  if (state == dbs_.end()) return Status::Ok();
  ir::Database& db = state->second.db;
  auto view = std::find_if(db.views.begin(), db.views.end(), [&](const ir::View& v) { return v.name == view_name; });
  if (view == db.views.end()) return Status::Ok();
  SQLX_ASSIGN_OR_RETURN(int create, RequireColumn(rows, "Create View", pack_.file));
  if (rows.rows.size() != 1) {
    db.not_visible.push_back("view `" + view_name + "`: SHOW CREATE VIEW returned " +
                             std::to_string(rows.rows.size()) + " rows; definition from information_schema");
    return Status::Ok();
  }
  // "CREATE ... VIEW `db`.`v` AS <body>[ WITH ... CHECK OPTION]": the view
  // is named qualified (the session has no current database) or not.
  const std::string text = CellText(rows.rows[0], create);
  size_t start = std::string::npos;
  for (const std::string& head : {" VIEW " + QuoteSqlIdentifier(database) + "." + QuoteSqlIdentifier(view_name) + " AS ",
                                  " VIEW " + QuoteSqlIdentifier(view_name) + " AS "}) {
    const size_t at = text.find(head);
    if (at != std::string::npos) {
      start = at + head.size();
      break;
    }
  }
  if (start == std::string::npos) {
    db.not_visible.push_back("view `" + view_name +
                             "`: SHOW CREATE VIEW is not in the expected form; definition from information_schema");
    return Status::Ok();
  }
  std::string body = text.substr(start);
  if (view->check_option == "CASCADED" || view->check_option == "LOCAL") {
    const std::string suffix = " WITH " + view->check_option + " CHECK OPTION";
    if (body.size() >= suffix.size() && body.compare(body.size() - suffix.size(), suffix.size(), suffix) == 0)
      body.resize(body.size() - suffix.size());
  }
  view->definition = StripSelfQualifiers(body, database);
  return Status::Ok();
}

std::vector<std::pair<std::string, std::string>> CatalogBuilder::TriggerNames() const {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [name, state] : dbs_) {
    for (const ir::Trigger& trigger : state.db.triggers) out.emplace_back(name, trigger.name);
  }
  return out;
}

Status CatalogBuilder::AddTriggerSource(const std::string& database, const std::string& trigger_name,
                                        const CatalogRows& rows) {
  auto state = dbs_.find(database);
  if (state == dbs_.end()) return Status::Ok();
  ir::Database& db = state->second.db;
  auto trigger = std::find_if(db.triggers.begin(), db.triggers.end(),
                              [&](const ir::Trigger& t) { return t.name == trigger_name; });
  if (trigger == db.triggers.end()) return Status::Ok();
  SQLX_ASSIGN_OR_RETURN(int original, RequireColumn(rows, "SQL Original Statement", pack_.file));
  if (rows.rows.size() != 1) return Status::Ok();
  // "CREATE ... TRIGGER `t` AFTER UPDATE ON `tbl` FOR EACH ROW<ws><body>"
  const std::string head = " ON " + QuoteSqlIdentifier(trigger->table) + " FOR EACH ROW";
  const std::string text = CellText(rows.rows[0], original);
  const size_t at = text.find(head);
  if (at == std::string::npos) return Status::Ok();  // another form: ACTION_STATEMENT stands
  const std::string rest = text.substr(at + head.size());
  size_t ws = 0;
  while (ws < rest.size() && std::isspace(static_cast<unsigned char>(rest[ws]))) ++ws;
  // Only when the rest is the body itself (not FOLLOWS/PRECEDES ...).
  if (StripSelfQualifiers(std::string_view(rest).substr(ws), database) != trigger->body) return Status::Ok();
  if (rest.compare(0, ws, " ") != 0) trigger->body = rest.substr(0, ws) + trigger->body;
  return Status::Ok();
}

Status CatalogBuilder::AddTriggers(const CatalogRows& rows) {
  int schema, name, table, timing, event, order, statement, definer, sql_mode;
  SQLX_RETURN_IF_ERROR(Require(rows, {{"TRIGGER_SCHEMA", &schema},
                                      {"TRIGGER_NAME", &name},
                                      {"EVENT_OBJECT_TABLE", &table},
                                      {"ACTION_TIMING", &timing},
                                      {"EVENT_MANIPULATION", &event},
                                      {"ACTION_ORDER", &order},
                                      {"ACTION_STATEMENT", &statement},
                                      {"DEFINER", &definer},
                                      {"SQL_MODE", &sql_mode}}));
  for (const CatalogRow& row : rows.rows) {
    DbState* db = Db(Cell(row, schema));
    if (db == nullptr) continue;
    ir::Trigger trigger;
    trigger.name = CellText(row, name);
    if (ir::IsMigrationArtifact(trigger.name)) continue;  // an online migration's change capture
    trigger.table = CellText(row, table);
    trigger.timing = CellText(row, timing);
    trigger.event = CellText(row, event);
    trigger.order = static_cast<uint32_t>(CellNumber(row, order));
    trigger.body = StripSelfQualifiers(CellText(row, statement), db->db.name);
    trigger.definer = CellText(row, definer);
    trigger.sql_mode = CellText(row, sql_mode);
    db->db.triggers.push_back(std::move(trigger));
    ++db->counts.triggers;
  }
  return Status::Ok();
}

Status CatalogBuilder::AddEvents(const CatalogRows& rows) {
  int schema, name, definer, definition, type, execute_at, interval_value, interval_field, starts, ends, status,
      on_completion, comment, sql_mode;
  SQLX_RETURN_IF_ERROR(Require(rows, {{"EVENT_SCHEMA", &schema},
                                      {"EVENT_NAME", &name},
                                      {"DEFINER", &definer},
                                      {"EVENT_DEFINITION", &definition},
                                      {"EVENT_TYPE", &type},
                                      {"EXECUTE_AT", &execute_at},
                                      {"INTERVAL_VALUE", &interval_value},
                                      {"INTERVAL_FIELD", &interval_field},
                                      {"STARTS", &starts},
                                      {"ENDS", &ends},
                                      {"STATUS", &status},
                                      {"ON_COMPLETION", &on_completion},
                                      {"EVENT_COMMENT", &comment},
                                      {"SQL_MODE", &sql_mode}}));
  for (const CatalogRow& row : rows.rows) {
    DbState* db = Db(Cell(row, schema));
    if (db == nullptr) continue;
    ir::Event event;
    event.name = CellText(row, name);
    event.definer = CellText(row, definer);
    event.body = StripSelfQualifiers(CellText(row, definition), db->db.name);
    event.schedule = EventSchedule(row, type, execute_at, interval_value, interval_field, starts, ends);
    event.on_completion = CellText(row, on_completion);
    event.status = CellText(row, status);
    event.comment = CellText(row, comment);
    event.sql_mode = CellText(row, sql_mode);
    db->db.events.push_back(std::move(event));
    ++db->counts.events;
  }
  return Status::Ok();
}

}  // namespace sqlx::flo
