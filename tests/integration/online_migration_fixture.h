// Shared by the CLI-level online-migration tests (online_migration_test.cc,
// online_migration_fk_test.cc): a migrated database, its desired schema and
// its control, planned and applied through `sqlx`.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "root_sqlx.h"
#include "schema_fixtures.h"
#include "sqlx_cli.h"
#include "table_writer.h"
#include "temp_dir.h"
#include "test_env.h"

namespace sqlx::online_migration {

using testing::DescribeRun;
using testing::FixtureDatabases;
using testing::KeyStyle;
using testing::RowsDiffering;
using testing::Writer;
using testing::RootSql;
using testing::RunResult;
using testing::TempDir;

using testing::RootUrl;

inline testing::Env SqlxEnv() { return testing::RootSqlxEnv(); }
inline RunResult Sqlx(const std::vector<std::string>& args) { return testing::RootSqlx(args); }
inline std::string Hash(const std::string& db) { return testing::LiveHash(db); }

inline int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

inline uint64_t Artefacts(const std::string& db) {
  return std::strtoull(RootSql("SELECT (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + db +
                               "' AND TABLE_NAME LIKE '\\_sqlx\\_%') + (SELECT COUNT(*) FROM "
                               "information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '" +
                               db + "')")
                           .c_str(),
                       nullptr, 10);
}

inline nlohmann::json Migrations(const std::string& store) {
  RunResult r = Sqlx({"--store", store, "--format", "json", "migrations", "list"});
  EXPECT_EQ(r.exit_code, 0) << DescribeRun(r);
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  return j.is_array() ? j : nlohmann::json::array();
}

// `db` (migrated), `db_to` (the desired schema), `db_ctl` (control), each
// table filled with the same `rows` rows.
struct OnlineFixture {
  OnlineFixture(const std::string& tag, const KeyStyle& key, const std::string& from_table,
                const std::string& to_table, uint64_t rows)
      : store("sqlx-online-store."), db(fx.Create(tag)), to(fx.Create(tag + "_to")), control(fx.Create(tag + "_ctl")) {
    const std::string fill = key.composite
                                 ? "INSERT INTO t (a, b, k, v) SELECT seq DIV 10, CONCAT('b', seq MOD 10), seq MOD "
                                   "1000, CONCAT('v', seq) FROM seq_1_to_" + std::to_string(rows)
                                 : "INSERT INTO t (id, k, v) SELECT seq, seq MOD 1000, CONCAT('v', seq) FROM seq_1_to_" +
                                       std::to_string(rows);
    RootSql(from_table + "; " + fill, db);
    RootSql(from_table + "; " + fill, control);
    RootSql(to_table, to);
  }
  RunResult Plan(const std::string& from_db, const std::string& to_db, const std::string& file) {
    return Sqlx({"--store", store.path(), "plan:diff", "--from", RootUrl(from_db), "--to", RootUrl(to_db), "-o", file});
  }
  // The backward plans narrow columns back: --allow-destructive (the
  // writer's values fit).
  std::vector<std::string> ApplyArgs(const std::string& plan) {
    return {"--store", store.path(), "apply", RootUrl(db), "--plan", plan, "--chunk-time", "0.02", "--allow-destructive"};
  }

  FixtureDatabases fx;
  TempDir store;
  std::string db, to, control;
};

inline const char* kSimpleFrom = "CREATE TABLE t (id int NOT NULL PRIMARY KEY, k int NOT NULL, v varchar(40), KEY k (k))";
inline const char* kSimpleTo =
    "CREATE TABLE t (id int NOT NULL PRIMARY KEY, k bigint NOT NULL, v varchar(80), z int NOT NULL DEFAULT 7, KEY k (k))";

}  // namespace sqlx::online_migration
