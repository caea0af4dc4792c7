#include "undo_operations.h"

#include <set>

#include "first_value.h"
#include "sqlx/planner/guardrails.h"
#include "sqlx/planner/render_sql.h"

namespace sqlx {

namespace {

// Server errors meaning that what the statement makes is already there, or
// what it removes is already gone.
bool AlreadyDone(int code) {
  static const std::set<int> kCodes = {
      1050,  // table already exists
      1051,  // unknown table
      1060,  // duplicate column name
      1061,  // duplicate key name
      1091,  // can't DROP: check that it exists
      1304,  // routine already exists
      1305,  // routine does not exist
      1359,  // trigger already exists
      1360,  // trigger does not exist
      1826,  // duplicate foreign key constraint name
      4031,  // (MariaDB) foreign key / constraint does not exist
  };
  return kCodes.count(code) > 0;
}

// One backquoted name at text[*pos], *pos left after it; "" when none.
std::string OneName(const std::string& text, size_t* pos) {
  if (*pos >= text.size() || text[*pos] != '`') return "";
  std::string name;
  size_t i = *pos + 1;
  for (; i < text.size(); ++i) {
    if (text[i] == '`' && i + 1 < text.size() && text[i + 1] == '`') {
      name += '`';
      ++i;
    } else if (text[i] == '`') {
      break;
    } else {
      name += text[i];
    }
  }
  if (i >= text.size()) return "";
  *pos = i + 1;
  return name;
}

// The backquoted names at text[*pos] ("`a`, `b`" up to the closing
// parenthesis, which *pos is left after). Empty when it is not such a list.
std::vector<std::string> NameList(const std::string& text, size_t* pos) {
  std::vector<std::string> out;
  size_t i = *pos;
  while (i < text.size()) {
    while (i < text.size() && (text[i] == ' ' || text[i] == ',')) ++i;
    if (i < text.size() && text[i] == ')') {
      *pos = i + 1;
      return out;
    }
    std::string name = OneName(text, &i);
    if (name.empty()) return {};
    out.push_back(std::move(name));
  }
  return {};
}

// For "ALTER TABLE `c` ADD CONSTRAINT `n` FOREIGN KEY (`a`) REFERENCES
// [`s`.]`p` (`x`) ...": one COUNT of c's rows (all key columns set) that
// have no parent, per key. Empty when the statement adds no key; an error
// when it does in a form this does not read.
Result<std::vector<std::string>> OrphanCounts(const std::string& statement) {
  std::vector<std::string> out;
  if (statement.rfind("ALTER TABLE ", 0) != 0 || statement.find(" FOREIGN KEY (") == std::string::npos) return out;
  size_t pos = std::string("ALTER TABLE ").size();
  const std::string child = OneName(statement, &pos);
  auto unreadable = [&] {
    return MakeError(ErrorCode::kUnsupported, "the foreign keys of `" + statement.substr(0, 120) +
                                                  "` could not be read to check their rows first");
  };
  if (child.empty()) return unreadable();
  for (size_t at = statement.find(" FOREIGN KEY (", pos); at != std::string::npos;
       at = statement.find(" FOREIGN KEY (", at + 1)) {
    size_t p = at + std::string(" FOREIGN KEY (").size();
    const std::vector<std::string> columns = NameList(statement, &p);
    if (columns.empty() || statement.compare(p, 12, " REFERENCES ") != 0) return unreadable();
    p += 12;
    std::string schema, parent = OneName(statement, &p);
    if (p < statement.size() && statement[p] == '.') {
      ++p;
      schema = parent;
      parent = OneName(statement, &p);
    }
    if (parent.empty() || statement.compare(p, 2, " (") != 0) return unreadable();
    p += 2;
    const std::vector<std::string> referenced = NameList(statement, &p);
    if (referenced.size() != columns.size()) return unreadable();
    std::string set, match;
    for (size_t i = 0; i < columns.size(); ++i) {
      set += (i == 0 ? "" : " AND ") + std::string("ch.") + planner::QuoteIdentifier(columns[i]) + " IS NOT NULL";
      match += (i == 0 ? "" : " AND ") + std::string("pa.") + planner::QuoteIdentifier(referenced[i]) + " = ch." +
               planner::QuoteIdentifier(columns[i]);
    }
    const std::string parent_table =
        (schema.empty() ? "" : planner::QuoteIdentifier(schema) + ".") + planner::QuoteIdentifier(parent);
    out.push_back("SELECT COUNT(*) FROM " + planner::QuoteIdentifier(child) + " AS ch WHERE " + set +
                  " AND NOT EXISTS (SELECT 1 FROM " + parent_table + " AS pa WHERE " + match + ")");
  }
  return out;
}

Status Exec(transports::Session& session, const std::string& sql) {
  auto done = session.Execute(sql);
  return done.ok() ? Status::Ok() : Status(done.error());
}

}  // namespace

Status UndoOperations(transports::Session& session, const planner::Plan& back, const std::string& session_sql_mode,
                      const std::function<void(const planner::Operation&, std::chrono::milliseconds)>& on_step,
                      std::vector<std::string>* warnings) {
  for (const planner::Operation& op : back.operations) {
    const auto start = std::chrono::steady_clock::now();
    SQLX_RETURN_IF_ERROR(Exec(
        session, "SET SESSION sql_mode = " + planner::QuoteString(op.sql_mode.empty() ? session_sql_mode : op.sql_mode)));
    for (std::string statement : planner::OperationStatements(op)) {
      SQLX_ASSIGN_OR_RETURN(std::vector<std::string> orphan_checks, OrphanCounts(statement));
      for (const std::string& check : orphan_checks) {
        SQLX_ASSIGN_OR_RETURN(uint64_t orphans, CountOf(session, check));
        if (orphans > 0)
          return MakeError(ErrorCode::kUnsupported,
                           std::to_string(orphans) + " rows name a parent that is missing (" + check +
                               "): the foreign key of `" + statement.substr(0, 120) + "` cannot be put back");
      }
      const bool unchecked = !orphan_checks.empty();
      if (unchecked) {
        // MariaDB 10.11 records a key added in place with an explicit
        // RESTRICT as NO ACTION (measured); RESTRICT is the default, so
        // it is left to the server.
        for (const std::string restrict : {" ON DELETE RESTRICT", " ON UPDATE RESTRICT"})
          for (size_t at = statement.find(restrict); at != std::string::npos; at = statement.find(restrict, at))
            statement.erase(at, restrict.size());
      }
      if (statement.rfind("ALTER TABLE ", 0) == 0 && statement.find("ALGORITHM=") == std::string::npos)
        statement += ", ALGORITHM=INPLACE, LOCK=NONE";
      if (unchecked) SQLX_RETURN_IF_ERROR(Exec(session, "SET SESSION foreign_key_checks = 0"));
      auto done = session.Execute(statement);
      if (unchecked) SQLX_RETURN_IF_ERROR(Exec(session, "SET SESSION foreign_key_checks = 1"));
      if (done.ok()) continue;
      if (AlreadyDone(done.error().server_code)) {
        warnings->push_back("undo: `" + statement.substr(0, 120) + "` was done already (" + done.error().message + ")");
        continue;
      }
      Error e = done.error();
      e.message = "`" + statement.substr(0, 120) + "`: " + e.message;
      return e;
    }
    on_step(op, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start));
  }
  return Status::Ok();
}

}  // namespace sqlx
