// Shared by the database-learning tests (flo_learn_database_test.cc: what is
// learned; flo_learn_run_test.cc: how the learn runs): sessions opened as sqlx
// opens them to learn, counts, and the schemas learned.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "learn_pack_edit.h"
#include "mariadb_session.h"
#include "schema_fixtures.h"
#include "sqlx/flo/learn_database.h"
#include "temp_dir.h"
#include "test_env.h"

namespace sqlx::flo_learn_test {

using flo::LearnedDatabase;
using testing::FixtureDatabases;
using testing::MustOpen;

// A session as sqlx opens one to learn: with the learn pack's multi-statement
// capability, so SHOW CREATE VIEW statements share round trips.
inline std::unique_ptr<transports::Session> MustOpenForLearning(const transports::ConnectionUrl& url) {
  transports::SessionOptions options;
  options.on_greeting = flo::LearnSessionGreeting();
  return MustOpen(url, options);
}
using testing::QueryAll;
using testing::RootSql;

transports::ConnectionUrl RootUrl() { return testing::Url("root", testing::MariaDbRootPassword(), ""); }

std::vector<LearnedDatabase> MustLearn(transports::Session& session, const std::vector<std::string>& names,
                                       const flo::LearnDatabaseOptions& options = {}) {
  auto learned = flo::LearnDatabases(session, names, options);
  EXPECT_TRUE(learned.ok()) << learned.error().ToString();
  if (!learned.ok()) return {};
  EXPECT_EQ(learned->size(), names.size());
  for (const LearnedDatabase& db : *learned) EXPECT_FALSE(db.error) << db.name << ": " << db.error->ToString();
  return std::move(learned).value();
}

inline uint64_t Count(transports::Session& session, const std::string& sql) {
  testing::Cell cell = testing::Scalar(session, sql);
  return cell ? std::stoull(*cell) : 0;
}

// The session's status counters named like `pattern` (SHOW SESSION STATUS LIKE).
inline std::map<std::string, uint64_t> SessionStatus(transports::Session& session, const std::string& pattern) {
  std::map<std::string, uint64_t> out;
  auto t = QueryAll(session, "SHOW SESSION STATUS LIKE '" + pattern + "'");
  EXPECT_TRUE(t.ok()) << t.error().ToString();
  if (!t.ok()) return out;
  for (const auto& row : t->rows)
    if (row.size() == 2 && row[0] && row[1]) out[*row[0]] = std::stoull(*row[1]);
  return out;
}

inline const ir::Table* FindTable(const ir::Database& db, const std::string& name) {
  for (const auto& t : db.tables)
    if (t.name == name) return &t;
  ADD_FAILURE() << "no table " << name << " in " << db.name;
  return nullptr;
}

template <class T>
const T* Named(const std::vector<T>& items, const std::string& name) {
  for (const T& item : items)
    if (item.name == name) return &item;
  ADD_FAILURE() << "nothing named " << name;
  return nullptr;
}

inline bool Mentions(const std::vector<std::string>& lines, const std::string& part) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(part) != std::string::npos; });
}

// Four applications of different shapes: sakila 1.5 (views, routines,
// triggers, FKs, FULLTEXT), employees (views), nacos 2.3.0, phpbb 3.0.14
// (63 tables).
inline std::vector<std::string> LoadFourApplications(FixtureDatabases& fx) {
  return {fx.Load("sakila", "sakila/v1.5.sql"), fx.Load("employees", "employees/employees.sql"),
          fx.Load("nacos", "nacos/v2.3.0.sql"), fx.Load("phpbb", "phpbb/v3.0.14.sql")};
}


// Features the fixtures do not use: partitions, checks, generated and
// invisible columns, ignored and descending indexes, long unique hashes,
// events, and bodies that name their own database.
inline void CreateFeatureSchema(const std::string& db) {
  RootSql(
      "CREATE TABLE t (a INT DEFAULT NULL, b INT NOT NULL, c VARCHAR(5) DEFAULT 'x''y', h INT CHECK (h > 0), "
      "e INT INVISIBLE DEFAULT 1, f INT AS (a + 1) VIRTUAL, g BLOB, CONSTRAINT ck_t CHECK (a < b), "
      "KEY k (a DESC) COMMENT 'hi' IGNORED, UNIQUE KEY u (g)) ENGINE=InnoDB ROW_FORMAT=COMPACT "
      "STATS_PERSISTENT=1 COMMENT='tc' PARTITION BY RANGE (b) SUBPARTITION BY HASH (b) SUBPARTITIONS 2 "
      "(PARTITION p0 VALUES LESS THAN (10) COMMENT 'c0', PARTITION p1 VALUES LESS THAN MAXVALUE);"
      "CREATE TABLE s (id INT PRIMARY KEY);"
      "CREATE VIEW v AS SELECT `" +
          db + "`.`s`.`id`, 'x' AS lit FROM `" + db +
          "`.`s`;"
          "CREATE PROCEDURE p(INOUT n INT) SELECT COUNT(*) INTO n FROM `" +
          db +
          "`.`s`;"
          "CREATE TRIGGER tr BEFORE INSERT ON s FOR EACH ROW SET NEW.id = NEW.id + (SELECT COUNT(*) FROM `" +
          db +
          "`.`t`);"
          "CREATE EVENT ev ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' ON COMPLETION PRESERVE DISABLE "
          "COMMENT 'nightly' DO DELETE FROM `" +
          db + "`.`s` WHERE id < 0;",
      db);
}


}  // namespace sqlx::flo_learn_test
