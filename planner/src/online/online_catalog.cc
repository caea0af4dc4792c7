#include "online_catalog.h"

#include <algorithm>
#include <set>

#include "sqlx/transports/session.h"

namespace sqlx::planner::online {

using transports::Session;

std::string InSchema(const std::string& database, const std::string& table) {
  return "TABLE_SCHEMA = " + QuoteString(database) + " AND TABLE_NAME = " + QuoteString(table);
}


Result<std::vector<ColumnInfo>> ReadColumns(Session& session, const std::string& database, const std::string& table) {
  SQLX_ASSIGN_OR_RETURN(std::vector<Row> rows,
                        Rows(session, "SELECT COLUMN_NAME, COLUMN_TYPE, IS_NULLABLE, IFNULL(COLLATION_NAME, ''), EXTRA, "
                                      "DATA_TYPE, COLUMN_DEFAULT FROM information_schema.COLUMNS WHERE " +
                                          InSchema(database, table) + " ORDER BY ORDINAL_POSITION"));
  std::vector<ColumnInfo> out;
  for (const Row& r : rows)
    out.push_back({r[0].value_or(""), r[1].value_or(""), r[2].value_or(""), r[3].value_or(""), r[4].value_or(""),
                   r[5].value_or(""), r[6]});
  return out;
}


Result<std::vector<IndexInfo>> ReadIndexes(Session& session, const std::string& database, const std::string& table) {
  SQLX_ASSIGN_OR_RETURN(std::vector<Row> rows,
                        Rows(session, "SELECT INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART FROM "
                                      "information_schema.STATISTICS WHERE " +
                                          InSchema(database, table) +
                                          " ORDER BY INDEX_NAME <> 'PRIMARY', INDEX_NAME, SEQ_IN_INDEX"));
  std::vector<IndexInfo> out;
  for (const Row& r : rows) {
    const std::string name = r[0].value_or("");
    if (out.empty() || out.back().name != name) out.push_back({name, r[1].value_or("1") == "0", false, {}});
    out.back().columns.push_back(r[2].value_or(""));
    if (r[3]) out.back().prefix = true;
  }
  return out;
}

// True when a strict-mode copy from `from` to `to` either keeps every value
// exactly or fails: integers to integers (out of range is an error),
// character strings to character strings (too long, or a character the new
// set lacks, is an error). Those need no comparison after the copy; other
// conversions (decimals, floats, times, binary, ENUM, across families) can
// round, pad or map silently and are compared.
bool ExactUnderStrict(const ColumnInfo& from, const ColumnInfo& to) {
  static const std::set<std::string> kIntegers = {"tinyint", "smallint", "mediumint", "int", "bigint"};
  static const std::set<std::string> kText = {"varchar", "tinytext", "text", "mediumtext", "longtext"};
  if (kIntegers.count(from.data_type) && kIntegers.count(to.data_type)) return true;
  // CHAR pads: into CHAR a value can change; from CHAR into text it cannot.
  const bool from_text = kText.count(from.data_type) || from.data_type == "char";
  return from_text && kText.count(to.data_type);
}

const ColumnInfo* FindColumn(const std::vector<ColumnInfo>& columns, const std::string& name) {
  for (const ColumnInfo& c : columns)
    if (c.name == name) return &c;
  return nullptr;
}

// The key chunks follow: the primary key, else the first unique key over
// NOT NULL columns (whole columns, not prefixes).
const IndexInfo* ChooseKey(const std::vector<IndexInfo>& indexes, const std::vector<ColumnInfo>& columns) {
  for (const IndexInfo& index : indexes) {
    if (!index.unique || index.prefix) continue;
    const bool not_null = std::all_of(index.columns.begin(), index.columns.end(), [&](const std::string& c) {
      const ColumnInfo* col = FindColumn(columns, c);
      return col != nullptr && col->nullable == "NO";
    });
    if (not_null) return &index;
  }
  return nullptr;
}

void FillColumns(const std::vector<ColumnInfo>& target, const std::vector<std::string>& copied,
                 std::vector<std::string>* names, std::vector<std::string>* values) {
  names->clear();
  values->clear();
  for (const ColumnInfo& c : target) {
    const bool automatic = c.generated() || c.extra.find("auto_increment") != std::string::npos;
    if (std::find(copied.begin(), copied.end(), c.name) != copied.end()) continue;
    if (c.nullable != "NO" || c.default_value || automatic) continue;
    names->push_back(c.name);
    values->push_back(ImplicitDefault(c.data_type, c.column_type));
  }
}

Result<bool> TableExists(Session& session, const std::string& database, const std::string& table) {
  SQLX_ASSIGN_OR_RETURN(uint64_t n, Number(session, "SELECT COUNT(*) FROM information_schema.TABLES WHERE " +
                                                        InSchema(database, table)));
  return n > 0;
}

Result<std::string> ResultsCharset(Session& session) {
  SQLX_ASSIGN_OR_RETURN(std::vector<Row> rows, Rows(session, "SELECT @@character_set_results"));
  std::string cs = rows.empty() || !rows[0][0] ? "" : *rows[0][0];
  return cs.empty() || cs == "binary" ? std::string("utf8mb4") : cs;
}

}  // namespace sqlx::planner::online
