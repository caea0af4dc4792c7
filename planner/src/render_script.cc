// A database's objects as statements in an order a server accepts
// (RenderStatements: tables before the tables and views that use them) and
// as one script (RenderScript); each object is rendered by render_sql.cc.
#include <functional>
#include <map>
#include <queue>
#include <set>
#include <unordered_map>

#include "sqlx/planner/render_sql.h"

namespace sqlx::planner {

namespace {

// Names of the tables (of this database) a table's foreign keys reference.
std::set<std::string> ReferencedTables(const ir::Table& table) {
  std::set<std::string> out;
  for (const ir::ForeignKey& fk : table.foreign_keys) {
    if (fk.referenced_schema.empty() && fk.referenced_table != table.name) out.insert(fk.referenced_table);
  }
  return out;
}

// Does `body` mention `name` as a quoted identifier? Views arrive with
// self-qualifiers removed (docs/formats/ir.md), so a read of view `v` in this
// database is written `v` in backticks.
// The backtick-quoted identifiers of an SQL text, quotes included, as
// QuoteIdentifier writes them (inner backticks doubled); string literals
// ('…' and "…", with doubled quotes or backslash escapes) are skipped.
std::vector<std::string> QuotedIdentifiers(const std::string& sql) {
  std::vector<std::string> out;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (c == '\'' || c == '"') {
      for (++i; i < sql.size(); ++i) {
        if (sql[i] == '\\') {
          ++i;
        } else if (sql[i] == c) {
          if (i + 1 < sql.size() && sql[i + 1] == c) {
            ++i;
          } else {
            break;
          }
        }
      }
    } else if (c == '`') {
      const size_t start = i;
      for (++i; i < sql.size(); ++i) {
        if (sql[i] != '`') continue;
        if (i + 1 < sql.size() && sql[i + 1] == '`') {
          ++i;
        } else {
          break;
        }
      }
      out.push_back(sql.substr(start, i + 1 - start));
    }
  }
  return out;
}

// Orders 0..count-1 so that each comes after the ones `deps` gives it:
// among those ready, the lowest index first (so name order where nothing
// depends); when only a cycle is left, its lowest index goes next. Kahn's
// algorithm with a min-heap: O((n + edges) log n).
std::vector<size_t> DependencyOrder(size_t count, const std::function<std::set<size_t>(size_t)>& deps) {
  std::vector<size_t> waiting(count, 0);
  std::vector<std::vector<size_t>> dependents(count);
  for (size_t i = 0; i < count; ++i) {
    for (size_t d : deps(i)) {
      if (d == i || d >= count) continue;
      ++waiting[i];
      dependents[d].push_back(i);
    }
  }
  std::priority_queue<size_t, std::vector<size_t>, std::greater<size_t>> ready;
  for (size_t i = 0; i < count; ++i) {
    if (waiting[i] == 0) ready.push(i);
  }
  std::vector<bool> placed(count, false);
  std::vector<size_t> order;
  size_t lowest_unplaced = 0;
  while (order.size() < count) {
    size_t next;
    if (!ready.empty()) {
      next = ready.top();
      ready.pop();
      if (placed[next]) continue;
    } else {
      while (placed[lowest_unplaced]) ++lowest_unplaced;
      next = lowest_unplaced;  // a cycle: break it here
    }
    placed[next] = true;
    order.push_back(next);
    for (size_t dependent : dependents[next]) {
      if (!placed[dependent] && --waiting[dependent] == 0) ready.push(dependent);
    }
  }
  return order;
}

// The client-side DELIMITER for a body: one that the body does not hold.
std::string DelimiterFor(const std::string& sql) {
  for (std::string d : {";;", "$$", "//", "@@;", "$;$"}) {
    if (sql.find(d) == std::string::npos) return d;
  }
  std::string d = "$$";
  while (sql.find(d) != std::string::npos) d += "$";
  return d;
}

}  // namespace

std::vector<Statement> RenderStatements(const ir::Database& input) {
  ir::Database db = input;
  ir::Canonicalize(&db);
  std::vector<Statement> out;

  std::map<std::string, size_t> table_index;
  for (size_t i = 0; i < db.tables.size(); ++i) table_index[db.tables[i].name] = i;
  for (size_t i : DependencyOrder(db.tables.size(), [&](size_t t) {
         std::set<size_t> deps;
         for (const std::string& name : ReferencedTables(db.tables[t])) {
           if (auto it = table_index.find(name); it != table_index.end()) deps.insert(it->second);
         }
         return deps;
       })) {
    out.push_back({"table", db.tables[i].name, RenderCreateTable(db.tables[i]), "", "", ""});
  }
  for (const ir::Routine& r : db.routines) {
    out.push_back({"routine", r.name, RenderCreateRoutine(r), r.sql_mode, "", ""});
  }
  // Which views each view mentions: every backtick-quoted identifier of
  // its definition looked up by name (one pass per definition, not one per
  // pair of views).
  std::unordered_map<std::string, size_t> view_index;
  for (size_t i = 0; i < db.views.size(); ++i) view_index.emplace(QuoteIdentifier(db.views[i].name), i);
  for (size_t i : DependencyOrder(db.views.size(), [&](size_t v) {
         std::set<size_t> deps;
         for (const std::string& quoted : QuotedIdentifiers(db.views[v].definition)) {
           if (auto it = view_index.find(quoted); it != view_index.end() && it->second != v) deps.insert(it->second);
         }
         return deps;
       })) {
    const ir::View& v = db.views[i];
    out.push_back({"view", v.name, RenderCreateView(v), "", v.charset, v.collation});
  }
  for (const ir::Trigger& t : db.triggers) {
    out.push_back({"trigger", t.name, RenderCreateTrigger(t), t.sql_mode, "", ""});
  }
  for (const ir::Event& e : db.events) {
    out.push_back({"event", e.name, RenderCreateEvent(e), e.sql_mode, "", ""});
  }
  return out;
}

std::string RenderScript(const ir::Database& db, const ScriptOptions& options) {
  std::string out;
  for (size_t start = 0; start < options.header.size();) {
    size_t nl = options.header.find('\n', start);
    if (nl == std::string::npos) nl = options.header.size();
    out += "-- " + options.header.substr(start, nl - start) + "\n";
    start = nl + 1;
  }
  out +=
      "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */;\n"
      "/*!40101 SET @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION */;\n"
      "/*!40101 SET NAMES utf8mb4 */;\n"
      "/*!40014 SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0 */;\n"
      "/*!40101 SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO' */;\n";
  if (!options.create_database.empty()) {
    out += "\nCREATE DATABASE " + QuoteIdentifier(options.create_database);
    if (!db.charset.empty()) out += " CHARACTER SET " + db.charset;
    if (!db.collation.empty()) out += " COLLATE " + db.collation;
    out += ";\nUSE " + QuoteIdentifier(options.create_database) + ";\n";
  }
  for (const Statement& s : RenderStatements(db)) {
    out += "\n";
    const bool body = s.kind == "routine" || s.kind == "trigger" || s.kind == "event";
    if (!s.character_set_client.empty()) {
      out += "SET character_set_client = " + s.character_set_client + ";\n";
      out += "SET collation_connection = " + (s.collation_connection.empty() ? s.character_set_client
                                                                               : s.collation_connection) + ";\n";
    }
    const std::string delimiter = body ? DelimiterFor(s.sql) : ";";
    if (body) out += "SET sql_mode = " + QuoteString(s.sql_mode) + ";\nDELIMITER " + delimiter + "\n";
    out += s.sql + delimiter + "\n";
    if (body) out += "DELIMITER ;\nSET sql_mode = 'NO_AUTO_VALUE_ON_ZERO';\n";
    if (!s.character_set_client.empty()) out += "SET NAMES utf8mb4;\n";
  }
  out +=
      "\n/*!40101 SET SQL_MODE=@OLD_SQL_MODE */;\n"
      "/*!40014 SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS */;\n"
      "/*!40101 SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT */;\n"
      "/*!40101 SET COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION */;\n";
  return out;
}

}  // namespace sqlx::planner
