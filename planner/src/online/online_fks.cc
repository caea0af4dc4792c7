#include "online_fks.h"

#include <algorithm>

#include "sqlx/planner/render_sql.h"
#include "sqlx/transports/session.h"

namespace sqlx::planner::online {

namespace {

// Runs `alter` with foreign_key_checks off (metadata only), then on again.
// Its tables are busy (the table, the shadow its capture writes, child
// tables): a metadata-lock wait that times out is tried again as a swap's
// RENAME is (RunDdl, OnlineOptions' cut-over attempts and backoff).
Status WithoutChecks(transports::Session& session, const std::string& alter) {
  SQLX_RETURN_IF_ERROR(Exec(session, "SET SESSION foreign_key_checks = 0"));
  Status st = RunDdl(session, alter + ", ALGORITHM=INPLACE, LOCK=NONE", OnlineOptions{});
  Status restored = Exec(session, "SET SESSION foreign_key_checks = 1");
  if (!st.ok()) return st;
  return restored;
}

}  // namespace

Result<std::vector<ForeignKey>> ShowForeignKeys(transports::Session& session, const std::string& schema,
                                                const std::string& table) {
  SQLX_ASSIGN_OR_RETURN(std::vector<Row> rows,
                        Rows(session, "SHOW CREATE TABLE " + QuoteIdentifier(schema) + "." + QuoteIdentifier(table)));
  if (rows.empty() || rows[0].size() < 2 || !rows[0][1])
    return MakeError(ErrorCode::kInternal, "SHOW CREATE TABLE " + table + " returned nothing");
  const std::string& create = *rows[0][1];
  std::vector<ForeignKey> out;
  size_t line = 0;
  while (line < create.size()) {
    size_t end = create.find('\n', line);
    if (end == std::string::npos) end = create.size();
    std::string text = create.substr(line, end - line);
    line = end + 1;
    size_t p = text.find_first_not_of(' ');
    if (p == std::string::npos || text.compare(p, 11, "CONSTRAINT ") != 0) continue;
    p += 11;
    const std::string name = UnquoteAt(text, &p);
    if (text.compare(p, 13, " FOREIGN KEY ") != 0) continue;
    std::string clause = text.substr(p + 1);
    if (!clause.empty() && clause.back() == ',') clause.pop_back();
    out.push_back({name, clause});
  }
  return out;
}

Status NameForeignKeys(transports::Session& session, const std::string& table, const std::vector<std::string>& clauses,
                       const std::vector<std::string>& names, const std::vector<std::vector<std::string>>& aliases) {
  SQLX_ASSIGN_OR_RETURN(std::vector<Row> rows,
                        Rows(session, "SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE "
                                      "CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = " +
                                          QuoteString(table)));
  std::vector<std::string> present;
  for (const Row& r : rows) present.push_back(r[0].value_or(""));
  auto has = [&](const std::string& n) { return std::find(present.begin(), present.end(), n) != present.end(); };
  std::string drops, adds;
  for (size_t i = 0; i < names.size(); ++i) {
    if (has(names[i])) continue;
    for (const std::string& alias : aliases[i]) {
      if (alias == names[i] || !has(alias)) continue;
      drops += (drops.empty() ? "" : ", ") + std::string("DROP FOREIGN KEY ") + QuoteIdentifier(alias);
      adds += ", ADD CONSTRAINT " + QuoteIdentifier(names[i]) + " " + clauses[i];
      break;
    }
  }
  if (drops.empty()) return Status::Ok();
  return WithoutChecks(session, "ALTER TABLE " + QuoteIdentifier(table) + " " + drops + adds);
}

std::string RepointedClause(std::string clause, const std::string& database, const std::string& from, const std::string& to) {
  for (const std::string& old_ref : {"REFERENCES " + QuoteIdentifier(database) + "." + QuoteIdentifier(from) + " ",
                                     "REFERENCES " + QuoteIdentifier(from) + " "}) {
    const size_t at = clause.find(old_ref);
    if (at == std::string::npos) continue;
    const bool qualified = old_ref.find('.') != std::string::npos;
    clause.replace(at, old_ref.size(),
                   "REFERENCES " + (qualified ? QuoteIdentifier(database) + "." : std::string()) + QuoteIdentifier(to) +
                       " ");
    break;
  }
  return clause;
}

bool ReferencesTable(const std::string& clause, const std::string& database, const std::string& table) {
  return RepointedClause(clause, database, table, table + "_") != clause;
}

Status DropForeignKeys(transports::Session& session, const std::string& table, const std::vector<std::string>& names) {
  SQLX_ASSIGN_OR_RETURN(std::vector<Row> rows,
                        Rows(session, "SELECT CONSTRAINT_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE "
                                      "CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = " +
                                          QuoteString(table)));
  std::string drops;
  for (const Row& r : rows)
    if (std::find(names.begin(), names.end(), r[0].value_or("")) != names.end())
      drops += (drops.empty() ? "" : ", ") + std::string("DROP FOREIGN KEY ") + QuoteIdentifier(r[0].value_or(""));
  if (drops.empty()) return Status::Ok();
  return WithoutChecks(session, "ALTER TABLE " + QuoteIdentifier(table) + " " + drops);
}

Status AddForeignKeys(transports::Session& session, const std::string& table, const std::vector<std::string>& names,
                      const std::vector<std::string>& clauses) {
  if (names.empty()) return Status::Ok();
  std::string adds;
  for (size_t i = 0; i < names.size(); ++i)
    adds += (adds.empty() ? "" : ", ") + std::string("ADD CONSTRAINT ") + QuoteIdentifier(names[i]) + " " + clauses[i];
  return WithoutChecks(session, "ALTER TABLE " + QuoteIdentifier(table) + " " + adds);
}

namespace {

Result<std::string> ClauseOf(transports::Session& session, const std::string& schema, const std::string& table,
                             const std::string& name) {
  SQLX_ASSIGN_OR_RETURN(std::vector<ForeignKey> keys, ShowForeignKeys(session, schema, table));
  for (const ForeignKey& k : keys)
    if (k.name == name) return k.clause;
  return MakeError(ErrorCode::kInternal, "foreign key " + QuoteIdentifier(name) + " of " + QuoteIdentifier(table) +
                                             " vanished while it was being moved");
}

}  // namespace

Result<int> RepointForeignKeys(transports::Session& session, const std::string& database, const std::string& from,
                               const std::string& to, const std::string& temp_prefix) {
  int moved = 0;
  // A move cut short (a crash between its two ALTERs) left the key under
  // temp_prefix + its name: finish it.
  std::string like;
  for (char c : temp_prefix) like += (c == '_' || c == '%' || c == '\\') ? std::string("\\") + c : std::string(1, c);
  SQLX_ASSIGN_OR_RETURN(std::vector<Row> halfway,
                        Rows(session, "SELECT DISTINCT TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME FROM "
                                      "information_schema.KEY_COLUMN_USAGE WHERE REFERENCED_TABLE_SCHEMA = " +
                                          QuoteString(database) + " AND CONSTRAINT_NAME LIKE " +
                                          QuoteString(like + "%")));
  for (const Row& r : halfway) {
    const std::string schema = r[0].value_or(""), child = r[1].value_or(""), temp = r[2].value_or("");
    SQLX_ASSIGN_OR_RETURN(std::string clause, ClauseOf(session, schema, child, temp));
    SQLX_RETURN_IF_ERROR(WithoutChecks(session, "ALTER TABLE " + QuoteIdentifier(schema) + "." + QuoteIdentifier(child) +
                                                    " DROP FOREIGN KEY " + QuoteIdentifier(temp) + ", ADD CONSTRAINT " +
                                                    QuoteIdentifier(temp.substr(temp_prefix.size())) + " " +
                                                    RepointedClause(clause, database, from, to)));
    ++moved;
  }
  SQLX_ASSIGN_OR_RETURN(std::vector<Row> refs,
                        Rows(session, "SELECT DISTINCT TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME FROM "
                                      "information_schema.KEY_COLUMN_USAGE WHERE REFERENCED_TABLE_SCHEMA = " +
                                          QuoteString(database) + " AND REFERENCED_TABLE_NAME = " + QuoteString(from) +
                                          " AND NOT (TABLE_SCHEMA = " + QuoteString(database) + " AND TABLE_NAME = " +
                                          QuoteString(from) + ") ORDER BY TABLE_SCHEMA, TABLE_NAME, CONSTRAINT_NAME"));
  for (const Row& r : refs) {
    const std::string schema = r[0].value_or(""), child = r[1].value_or(""), name = r[2].value_or("");
    if (temp_prefix.size() + name.size() > 64)
      return MakeError(ErrorCode::kUnsupported, "foreign key " + QuoteIdentifier(name) +
                                                    " has too long a name to be moved through a temporary one");
    SQLX_ASSIGN_OR_RETURN(std::string clause, ClauseOf(session, schema, child, name));
    clause = RepointedClause(clause, database, from, to);
    const std::string table = QuoteIdentifier(schema) + "." + QuoteIdentifier(child);
    const std::string temp = temp_prefix + name;
    // Never without a key: renamed and moved, then renamed back (one name
    // cannot be dropped and added in one ALTER).
    SQLX_RETURN_IF_ERROR(WithoutChecks(session, "ALTER TABLE " + table + " DROP FOREIGN KEY " + QuoteIdentifier(name) +
                                                    ", ADD CONSTRAINT " + QuoteIdentifier(temp) + " " + clause));
    SQLX_RETURN_IF_ERROR(WithoutChecks(session, "ALTER TABLE " + table + " DROP FOREIGN KEY " + QuoteIdentifier(temp) +
                                                    ", ADD CONSTRAINT " + QuoteIdentifier(name) + " " + clause));
    ++moved;
  }
  return moved;
}

// ---- the migrating table's own keys, under the migration's names ----

// Names of the table's own foreign keys: orig (as learned), on the table
// while the shadow has the originals, on the shadow after a revert.
std::vector<std::string> OrigFks(const MigrationState& s) { return s.fk_names; }
std::vector<std::string> TableFks(const MigrationState& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.fk_names.size(); ++i) out.push_back(s.TableFkName(i));
  return out;
}
std::vector<std::string> ShadowFks(const MigrationState& s) {
  std::vector<std::string> out;
  for (size_t i = 0; i < s.fk_names.size(); ++i) out.push_back(s.ShadowFkName(i));
  return out;
}
std::vector<std::vector<std::string>> FkAliases(const MigrationState& s) {
  std::vector<std::vector<std::string>> out;
  for (size_t i = 0; i < s.fk_names.size(); ++i) out.push_back({s.fk_names[i], s.TableFkName(i), s.ShadowFkName(i)});
  return out;
}
// Whether the table's key i references the table itself.
bool SelfFk(const MigrationState& s, size_t i) { return ReferencesTable(s.fk_clauses[i], s.database, s.table); }
// Key i's definition on `table`: a key of the table to itself references
// whichever table carries it (the RENAMEs then carry the reference along).
std::string FkClauseOn(const MigrationState& s, size_t i, const std::string& table) {
  return SelfFk(s, i) ? RepointedClause(s.fk_clauses[i], s.database, s.table, table) : s.fk_clauses[i];
}
// Names the keys of `table` `names` (from whichever of the three they carry).
Status NameFks(transports::Session& session, const MigrationState& s, const std::string& table,
               const std::vector<std::string>& names) {
  if (s.fk_names.empty()) return Status::Ok();
  std::vector<std::string> clauses;
  for (size_t i = 0; i < s.fk_names.size(); ++i) clauses.push_back(FkClauseOn(s, i, table));
  return NameForeignKeys(session, table, clauses, names, FkAliases(s));
}
// Adds to `table` the table's keys of which `self` says whether they
// reference the table itself, under `names`, unless it has them (under
// any of their names).
Status AddFks(transports::Session& session, const MigrationState& s, const std::string& table,
              const std::vector<std::string>& names, bool self) {
  SQLX_ASSIGN_OR_RETURN(std::vector<ForeignKey> present, ShowForeignKeys(session, s.database, table));
  auto has = [&](const std::string& n) {
    return std::any_of(present.begin(), present.end(), [&](const ForeignKey& k) { return k.name == n; });
  };
  std::vector<std::string> add_names, add_clauses;
  for (size_t i = 0; i < s.fk_names.size(); ++i) {
    if (SelfFk(s, i) != self || has(s.fk_names[i]) || has(s.TableFkName(i)) || has(s.ShadowFkName(i))) continue;
    add_names.push_back(names[i]);
    add_clauses.push_back(FkClauseOn(s, i, table));
  }
  return AddForeignKeys(session, table, add_names, add_clauses);
}
// The table's keys to itself leave `table` (under whichever name): the
// table not written by the application carries none while a copy or a
// change capture fills it, since a row may arrive before the row it
// references (and a capture's write must never fail or cascade on it).
Status DropSelfFks(transports::Session& session, const MigrationState& s, const std::string& table) {
  std::vector<std::string> names;
  for (size_t i = 0; i < s.fk_names.size(); ++i)
    if (SelfFk(s, i)) names.insert(names.end(), {s.fk_names[i], s.TableFkName(i), s.ShadowFkName(i)});
  if (names.empty()) return Status::Ok();
  return DropForeignKeys(session, table, names);
}

}  // namespace sqlx::planner::online
