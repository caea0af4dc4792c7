// A database's schema as the test MariaDB sees it: learned into the IR (as
// root, over a learning session), run through the stock client, and the
// server's own SHOW CREATE output of every object — the oracle the fidelity
// and diff suites compare against.
#pragma once

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mariadb_session.h"
#include "schema_fixtures.h"
#include "sqlx/flo/learn_database.h"
#include "temp_dir.h"
#include "test_env.h"

namespace sqlx::testing {

// Learns `dbs` in one call as root; one entry per name. A failure fails the
// test (and the entries are then empty).
inline std::vector<flo::LearnedDatabase> LearnAsRoot(const std::vector<std::string>& dbs) {
  transports::SessionOptions options;
  options.on_greeting = flo::LearnSessionGreeting();
  auto session = MustOpen(Url("root", MariaDbRootPassword(), ""), options);
  if (session == nullptr) return std::vector<flo::LearnedDatabase>(dbs.size());
  auto learned = flo::LearnDatabases(*session, dbs);
  EXPECT_TRUE(learned.ok()) << learned.error().ToString();
  if (!learned.ok() || learned->size() != dbs.size()) return std::vector<flo::LearnedDatabase>(dbs.size());
  for (const flo::LearnedDatabase& l : *learned) EXPECT_FALSE(l.error) << l.name << ": " << l.error->ToString();
  return *learned;
}

// Runs `script` (a file's text, DELIMITER allowed) in `db` with the stock
// client, stopping at the first error; "" on success, else the error text.
inline std::string RunClientScript(const std::string& db, const std::string& script,
                                   const std::vector<std::string>& client_options = {"--abort-source-on-error"}) {
  TempDir dir("sqlx-script.");
  const std::string path = dir.path() + "/script.sql";
  std::ofstream(path) << script;
  std::vector<std::string> args = {db};
  args.insert(args.end(), client_options.begin(), client_options.end());
  args.push_back("-e");
  args.push_back("source " + path);
  RunResult r = RootClient(args);
  return r.exit_code == 0 ? "" : r.err.empty() ? "exit code " + std::to_string(r.exit_code) : r.err;
}

// Every object's SHOW CREATE output, one block per object, with the
// database's own name replaced by DB and the volatile parts removed: a
// trigger's creation time, AUTO_INCREMENT=n (the counter is not schema) and
// a declared USING BTREE on an engine whose keys are B-trees anyway (the
// catalog cannot show it; docs/formats/ddl.md).
inline std::string ShowCreateAll(const std::string& db) {
  const std::string in = "'" + db + "'";
  const std::string names = RootSql(
      "SELECT CONCAT('TABLE ', TABLE_NAME) FROM information_schema.TABLES WHERE TABLE_SCHEMA = " + in +
      " AND TABLE_TYPE = 'BASE TABLE' UNION ALL SELECT CONCAT('VIEW ', TABLE_NAME) FROM information_schema.VIEWS "
      "WHERE TABLE_SCHEMA = " + in + " UNION ALL SELECT CONCAT(ROUTINE_TYPE, ' ', ROUTINE_NAME) FROM "
      "information_schema.ROUTINES WHERE ROUTINE_SCHEMA = " + in + " UNION ALL SELECT CONCAT('TRIGGER ', "
      "TRIGGER_NAME) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = " + in + " UNION ALL SELECT "
      "CONCAT('EVENT ', EVENT_NAME) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = " + in + " ORDER BY 1");
  std::istringstream lines(names);
  std::string line, sql;
  std::vector<std::string> objects;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    const size_t space = line.find(' ');
    const std::string kind = line.substr(0, space);
    std::string name = line.substr(space + 1), quoted;
    for (char c : name) quoted += c == '`' ? std::string("``") : std::string(1, c);
    objects.push_back(line);
    sql += "SHOW CREATE " + kind + " `" + quoted + "`;";
  }
  if (sql.empty()) return "";
  std::string out = RootSql(sql, db);
  out = std::regex_replace(out, std::regex(R"(\t\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d\d(\n|$))"), "$1");
  out = std::regex_replace(out, std::regex(R"( AUTO_INCREMENT=\d+)"), "");
  // Only where B-trees are the engine's only kind of key (a MEMORY table's
  // USING BTREE is not its default and must survive).
  {
    std::istringstream rows(out);
    std::string normalized;
    const std::regex btree_engine(R"(\) ENGINE=(InnoDB|MyISAM|Aria)\b)");
    for (std::string row; std::getline(rows, row);) {
      if (std::regex_search(row, btree_engine)) row = std::regex_replace(row, std::regex(R"( USING BTREE)"), "");
      normalized += row + "\n";
    }
    out = normalized;
  }
  size_t at = 0;
  while ((at = out.find(db, at)) != std::string::npos) out.replace(at, db.size(), "DB");
  std::string listing;
  for (const std::string& o : objects) listing += o + "\n";
  return listing + out;
}

}  // namespace sqlx::testing
