#include "undo_operations.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "first_value.h"
#include "sqlx/planner/guardrails.h"
#include "sqlx/planner/render_sql.h"

namespace sqlx {

namespace {

constexpr int kLockWaitTimeout = 1205;

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
      1537,  // event already exists
      1539,  // unknown event
      1826,  // duplicate foreign key constraint name
      4092,  // (MariaDB) unknown view
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

// A foreign key a statement adds: its name, its table, and the COUNT of
// that table's rows (all key columns set) that have no parent.
struct AddedKey {
  std::string name, child, orphans;
};

// For "ALTER TABLE `c` ADD CONSTRAINT `n` FOREIGN KEY (`a`) REFERENCES
// [`s`.]`p` (`x`) ...": each key it adds. Empty when it adds none; an
// error when it does in a form this does not read.
Result<std::vector<AddedKey>> AddedKeys(const std::string& statement) {
  std::vector<AddedKey> out;
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
    // "ADD CONSTRAINT `n`" just before it.
    const size_t constraint = statement.rfind("ADD CONSTRAINT ", at);
    size_t n = constraint == std::string::npos ? std::string::npos : constraint + std::string("ADD CONSTRAINT ").size();
    const std::string name = n == std::string::npos ? std::string() : OneName(statement, &n);
    if (name.empty() || n != at) return unreadable();
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
    out.push_back({name, child,
                   "SELECT COUNT(*) FROM " + planner::QuoteIdentifier(child) + " AS ch WHERE " + set +
                       " AND NOT EXISTS (SELECT 1 FROM " + parent_table + " AS pa WHERE " + match + ")"});
  }
  return out;
}

Status Exec(transports::Session& session, const std::string& sql) {
  auto done = session.Execute(sql);
  return done.ok() ? Status::Ok() : Status(done.error());
}

// Runs one statement with the engine's short metadata-lock waits (1 s),
// retried with backoff (10 attempts) while other transactions hold its
// tables, as the online engine's swap does: writers never queue behind it
// for long.
Result<transports::Completion> Retried(transports::Session& session, const std::string& statement) {
  for (int attempt = 1;; ++attempt) {
    auto done = session.Execute(statement);
    if (done.ok() || done.error().server_code != kLockWaitTimeout || attempt >= 10) return done;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min(2000, 100 << std::min(attempt, 5))));
  }
}

// One reverse statement: the foreign keys it adds counted for orphans
// before and after (rows a writer committed between the count and the
// ALTER are caught by the second count, and the key then dropped again).
Status UndoStatement(transports::Session& session, std::string statement, bool mariadb,
                     std::vector<std::string>* warnings) {
  if (statement.find("PARTITION") != std::string::npos)
    return MakeError(ErrorCode::kUnsupported, "`" + statement.substr(0, 120) +
                                                  "` repartitions, which the server does by copying the table: it "
                                                  "is not undone online");
  SQLX_ASSIGN_OR_RETURN(std::vector<AddedKey> keys, AddedKeys(statement));
  auto orphans = [&]() -> Status {
    for (const AddedKey& key : keys) {
      SQLX_ASSIGN_OR_RETURN(uint64_t n, CountOf(session, key.orphans));
      if (n > 0)
        return MakeError(ErrorCode::kUnsupported, std::to_string(n) + " rows of " + planner::QuoteIdentifier(key.child) +
                                                      " name a parent that is missing (" + key.orphans +
                                                      "): its foreign key " + planner::QuoteIdentifier(key.name) +
                                                      " cannot be put back");
    }
    return Status::Ok();
  };
  SQLX_RETURN_IF_ERROR(orphans());
  if (!keys.empty() && mariadb) {
    // MariaDB 10.11 records a key added in place with an explicit
    // RESTRICT as NO ACTION (measured); RESTRICT is its default, so the
    // clause is left to the server.
    for (const std::string restrict : {" ON DELETE RESTRICT", " ON UPDATE RESTRICT"})
      for (size_t at = statement.find(restrict); at != std::string::npos; at = statement.find(restrict, at))
        statement.erase(at, restrict.size());
  }
  if (statement.rfind("ALTER TABLE ", 0) == 0) statement += ", ALGORITHM=INPLACE, LOCK=NONE";
  if (!keys.empty()) SQLX_RETURN_IF_ERROR(Exec(session, "SET SESSION foreign_key_checks = 0"));
  auto done = Retried(session, statement);
  Status restored = keys.empty() ? Status::Ok() : Exec(session, "SET SESSION foreign_key_checks = 1");
  if (!done.ok()) {
    if (!AlreadyDone(done.error().server_code)) {
      Error e = done.error();
      e.message = "`" + statement.substr(0, 120) + "`: " + e.message;
      return e;
    }
    warnings->push_back("undo: `" + statement.substr(0, 120) + "` was done already (" + done.error().message + ")");
    return restored;
  }
  SQLX_RETURN_IF_ERROR(restored);
  if (Status again = orphans(); !again.ok()) {
    for (const AddedKey& key : keys)
      (void)Retried(session, "ALTER TABLE " + planner::QuoteIdentifier(key.child) + " DROP FOREIGN KEY " +
                                 planner::QuoteIdentifier(key.name) + ", ALGORITHM=INPLACE, LOCK=NONE");
    return again;
  }
  return Status::Ok();
}

}  // namespace

Status UndoOperations(transports::Session& session, const planner::Plan& back, const std::string& session_sql_mode,
                      const std::function<void(const planner::Operation&, std::chrono::milliseconds)>& on_step,
                      std::vector<std::string>* warnings) {
  SQLX_ASSIGN_OR_RETURN(std::string version, FirstValue(session, "SELECT VERSION()"));
  const bool mariadb = version.find("MariaDB") != std::string::npos;
  SQLX_RETURN_IF_ERROR(Exec(session, "SET SESSION lock_wait_timeout = 1"));
  Status st = Status::Ok();
  for (const planner::Operation& op : back.operations) {
    const auto start = std::chrono::steady_clock::now();
    st = Exec(session,
              "SET SESSION sql_mode = " + planner::QuoteString(op.sql_mode.empty() ? session_sql_mode : op.sql_mode));
    for (const std::string& statement : planner::OperationStatements(op)) {
      if (!st.ok()) break;
      st = UndoStatement(session, statement, mariadb, warnings);
    }
    if (!st.ok()) break;
    on_step(op, std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start));
  }
  // The session as it was.
  Status restored = Exec(session, "SET SESSION lock_wait_timeout = DEFAULT");
  if (restored.ok()) restored = Exec(session, "SET SESSION sql_mode = " + planner::QuoteString(session_sql_mode));
  if (!st.ok()) return st;
  return restored;
}

}  // namespace sqlx
