// The migration state as JSON (docs/formats/migrations.md): what a
// checkpoint stores, and how names are derived from the id.
#include <sys/random.h>

#include <cstdio>

#include <nlohmann/json.hpp>

#include "sqlx/planner/online.h"

namespace sqlx::planner {

using nlohmann::json;

std::string MigrationState::ShadowTable() const { return "_sqlx_" + id + "_new"; }
std::string MigrationState::OldTable() const { return "_sqlx_" + id + "_old"; }
std::string MigrationState::TriggerName(std::string_view event) const {
  return "_sqlx_" + id + "_" + std::string(event);
}

std::string MigrationState::TwinName(size_t i) const { return "_sqlx_" + id + "_u" + std::to_string(i + 1); }
std::string MigrationState::CaptureMark() const { return "@_sqlx_" + id + "_capture"; }

std::string MigrationState::TableFkName(size_t i) const { return "_sqlx_" + id + "_fk" + std::to_string(i + 1); }
std::string MigrationState::ShadowFkName(size_t i) const { return "_sqlx_" + id + "_sk" + std::to_string(i + 1); }
std::string MigrationState::MovingFkPrefix() const { return "_sqlx_" + id + "_c_"; }

namespace {

json TriggersToJson(const std::vector<TableTrigger>& triggers) {
  json out = json::array();
  for (const TableTrigger& t : triggers)
    out.push_back({{"name", t.name},
                   {"timing", t.timing},
                   {"event", t.event},
                   {"definer", t.definer},
                   {"sql_mode", t.sql_mode},
                   {"collation", t.collation},
                   {"body", t.body},
                   {"statement", t.statement}});
  return out;
}

}  // namespace

std::string MigrationToJson(const MigrationState& s) {
  json j = {{"format_version", MigrationState::kFormatVersion},
            {"id", s.id},
            {"connection", s.connection},
            {"database", s.database},
            {"table", s.table},
            {"operation_id", s.operation_id},
            {"alter_sql", s.alter_sql},
            {"phase", s.phase},
            {"key_index", s.key_index},
            {"key_columns", s.key_columns},
            {"key_kinds", s.key_kinds},
            {"copy_columns", s.copy_columns},
            {"compare_columns", s.compare_columns},
            {"fill_columns", s.fill_columns},
            {"fill_values", s.fill_values},
            {"fk_names", s.fk_names},
            {"fk_clauses", s.fk_clauses},
            {"triggers", TriggersToJson(s.triggers)},
            {"deferred_indexes", s.deferred_indexes},
            {"last_bound", s.last_bound},
            {"rows_copied", s.rows_copied},
            {"rows_estimate", s.rows_estimate},
            {"chunks", s.chunks},
            {"chunk_rows", s.chunk_rows},
            {"started_at_ns", s.started_at_ns},
            {"copied_at_ns", s.copied_at_ns},
            {"cutover_started_ns", s.cutover_started_ns},
            {"cutover_at_ns", s.cutover_at_ns},
            {"updated_at_ns", s.updated_at_ns},
            {"error", s.error},
            {"database_hash", s.database_hash}};
  return j.dump();
}

namespace {

// Whether `clause` is one clause: no newline or semicolon, and no comma
// outside quotes and parentheses (`KEY `a` (`x`), DROP COLUMN `y`` is two).
bool OneClause(const std::string& clause) {
  int depth = 0;
  char quote = 0;
  for (size_t i = 0; i < clause.size(); ++i) {
    const char c = clause[i];
    if (quote != 0) {
      if (c == '\\' && quote == '\'' && i + 1 < clause.size()) ++i;
      else if (c == quote) quote = 0;
      continue;
    }
    if (c == '`' || c == '\'' || c == '"') quote = c;
    else if (c == '(') ++depth;
    else if (c == ')' && --depth < 0) return false;
    else if ((c == ',' && depth == 0) || c == ';' || c == '\n') return false;
  }
  return quote == 0 && depth == 0;
}

}  // namespace

Result<MigrationState> MigrationFromJson(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return MakeError(ErrorCode::kInvalidArgument, "migration state: not a JSON object");
  if (j.value("format_version", 0) != MigrationState::kFormatVersion)
    return MakeError(ErrorCode::kUnsupported, "migration state: format_version " +
                                                  std::to_string(j.value("format_version", 0)) +
                                                  " (this build reads " +
                                                  std::to_string(MigrationState::kFormatVersion) + ")");
  MigrationState s;
  try {
    s.id = j.at("id").get<std::string>();
    s.connection = j.at("connection").get<std::string>();
    s.database = j.at("database").get<std::string>();
    s.table = j.at("table").get<std::string>();
    s.operation_id = j.at("operation_id").get<int>();
    s.alter_sql = j.at("alter_sql").get<std::string>();
    s.phase = j.at("phase").get<std::string>();
    s.key_index = j.at("key_index").get<std::string>();
    s.key_columns = j.at("key_columns").get<std::vector<std::string>>();
    s.key_kinds = j.at("key_kinds").get<std::vector<std::string>>();
    s.copy_columns = j.at("copy_columns").get<std::vector<std::string>>();
    s.compare_columns = j.at("compare_columns").get<std::vector<std::string>>();
    // Added after the first migrations were written: absent in their
    // records, which were of tables without them.
    const std::vector<std::string> none;
    s.fill_columns = j.value("fill_columns", none);
    s.fill_values = j.value("fill_values", none);
    s.fk_names = j.value("fk_names", none);
    s.fk_clauses = j.value("fk_clauses", none);
    if (j.contains("triggers")) {
      for (const json& t : j.at("triggers")) {
        auto field = [&t](const char* key) { return t.at(key).get<std::string>(); };
        s.triggers.push_back({field("name"), field("timing"), field("event"), field("definer"), field("sql_mode"),
                              field("collation"), field("body"), field("statement")});
      }
    }
    s.deferred_indexes = j.value("deferred_indexes", none);
    s.last_bound = j.at("last_bound").get<std::vector<std::string>>();
    s.rows_copied = j.at("rows_copied").get<uint64_t>();
    s.rows_estimate = j.at("rows_estimate").get<uint64_t>();
    s.chunks = j.at("chunks").get<uint64_t>();
    s.chunk_rows = j.at("chunk_rows").get<uint64_t>();
    s.started_at_ns = j.at("started_at_ns").get<int64_t>();
    s.copied_at_ns = j.at("copied_at_ns").get<int64_t>();
    s.cutover_started_ns = j.at("cutover_started_ns").get<int64_t>();
    s.cutover_at_ns = j.at("cutover_at_ns").get<int64_t>();
    s.updated_at_ns = j.at("updated_at_ns").get<int64_t>();
    s.error = j.at("error").get<std::string>();
    s.database_hash = j.value("database_hash", "");  // absent from records written before it
  } catch (const json::exception& e) {
    return MakeError(ErrorCode::kInvalidArgument, std::string("migration state: ") + e.what());
  }
  if (s.key_kinds.size() != s.key_columns.size() || s.fill_columns.size() != s.fill_values.size() ||
      s.fk_names.size() != s.fk_clauses.size() ||
      (!s.last_bound.empty() && s.last_bound.size() != s.key_columns.size()))
    return MakeError(ErrorCode::kInvalidArgument, "migration state: key_columns, key_kinds and last_bound differ in length");
  for (const std::string& clause : s.deferred_indexes)
    if (clause.rfind("KEY `", 0) != 0 || !OneClause(clause))
      return MakeError(ErrorCode::kInvalidArgument, "migration state: deferred index '" + clause.substr(0, 60) +
                                                        "' is not a plain index definition");
  return s;
}

std::string HashWithOwnKeyNames(const ir::Database& live, const MigrationState& m) {
  if (m.fk_names.empty()) return "";
  ir::Database named = live;
  for (ir::Table& t : named.tables) {
    if (t.name != m.table) continue;
    for (ir::ForeignKey& fk : t.foreign_keys)
      for (size_t i = 0; i < m.fk_names.size(); ++i)
        if (fk.name == m.TableFkName(i)) fk.name = m.fk_names[i];
  }
  return ir::ProfileHash(named);
}

std::string NewMigrationId() {
  unsigned char bytes[4] = {0, 0, 0, 0};
  (void)!::getrandom(bytes, sizeof bytes, 0);
  char out[9];
  std::snprintf(out, sizeof out, "%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2], bytes[3]);
  return out;
}

}  // namespace sqlx::planner
