// What the online-migration engine reads from the server's catalog: a
// table's columns and keys, the key a copy follows, whether a conversion
// needs comparing.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "online_sql.h"

namespace sqlx::planner::online {

// "TABLE_SCHEMA = 'db' AND TABLE_NAME = 't'".
std::string InSchema(const std::string& database, const std::string& table);

struct ColumnInfo {
  std::string name, column_type, nullable, collation, extra, data_type;
  std::optional<std::string> default_value;  // nullopt: no default
  bool generated() const { return extra.find("GENERATED") != std::string::npos; }
  bool operator==(const ColumnInfo& o) const {
    return column_type == o.column_type && nullable == o.nullable && collation == o.collation;
  }
};
Result<std::vector<ColumnInfo>> ReadColumns(transports::Session& session, const std::string& database,
                                            const std::string& table);
const ColumnInfo* FindColumn(const std::vector<ColumnInfo>& columns, const std::string& name);

struct IndexInfo {
  std::string name;
  bool unique = false;
  bool prefix = false;  // a part indexes a prefix of its column
  std::vector<std::string> columns;
};
Result<std::vector<IndexInfo>> ReadIndexes(transports::Session& session, const std::string& database,
                                           const std::string& table);

// The key chunks follow: the primary key, else the first unique key over
// NOT NULL columns (whole columns, not prefixes). Null when there is none.
const IndexInfo* ChooseKey(const std::vector<IndexInfo>& indexes, const std::vector<ColumnInfo>& columns);

// True when a strict-mode copy from `from` to `to` either keeps every value
// exactly or fails (no comparison needed after it).
bool ExactUnderStrict(const ColumnInfo& from, const ColumnInfo& to);

// The columns of `target` a copy of `copied` leaves to the server although
// it cannot fill them (NOT NULL, no default, not generated nor
// AUTO_INCREMENT), with the value ALTER TABLE gives existing rows.
void FillColumns(const std::vector<ColumnInfo>& target, const std::vector<std::string>& copied,
                 std::vector<std::string>* names, std::vector<std::string>* values);

Result<bool> TableExists(transports::Session& session, const std::string& database, const std::string& table);

// The character set the server sends results in (bounds of text keys are
// written back in it).
Result<std::string> ResultsCharset(transports::Session& session);

}  // namespace sqlx::planner::online
