// Shared by the deferred-index tests (online_indexes_test.cc: built after
// the copy; online_indexes_beside_test.cc: built beside it): the table t
// with indexes of every kind, its control and its target definition.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "mariadb_session.h"
#include "migration_recorder.h"
#include "schema_fixtures.h"
#include "sqlx/planner/online.h"
#include "sqlx/planner/plan.h"
#include "sqlx/transports/session.h"
#include "table_writer.h"
#include "test_env.h"

namespace sqlx::online_indexes {

using planner::MigrationState;
using planner::OnlineOptions;
using Recorder = testing::MigrationRecorder;
using testing::FixtureDatabases;
using testing::KeyStyle;
using testing::RootSession;
using testing::RootSql;
using testing::RowsDiffering;
using testing::Writer;

// t as the writer (table_writer.h) writes it (id, k, v), with indexes of
// every kind: kp serves the foreign key, so kk (before it) stays on the copy
// and kv, kkv (after it) are deferred.
inline std::string Table(const std::string& k_type) {
  return "CREATE TABLE p (id int NOT NULL PRIMARY KEY); INSERT INTO p SELECT seq FROM seq_1_to_10;"
         "CREATE TABLE t (id int NOT NULL PRIMARY KEY, k " + k_type + " NOT NULL, v varchar(40), pid int DEFAULT 1,"
         " u int DEFAULT NULL, note varchar(200) DEFAULT 'n',"
         " KEY kk (k), UNIQUE KEY uu (u), KEY kp (pid), KEY kv (v), KEY kkv (k, v) COMMENT 'by k;v',"
         " FULLTEXT KEY ft (note), CONSTRAINT fk_p FOREIGN KEY (pid) REFERENCES p (id)) ENGINE=InnoDB";
}
constexpr uint64_t kRows = 6000;
inline std::string Fill() {
  return "INSERT INTO t (id, k, v) SELECT seq, seq MOD 1000, CONCAT('v', seq) FROM seq_1_to_" + std::to_string(kRows);
}

inline planner::Operation Widen() {
  planner::Operation op;
  op.id = 1;
  op.kind = "alter_table";
  op.object = "t";
  op.sql = "ALTER TABLE `t` MODIFY COLUMN `k` bigint NOT NULL";
  return op;
}

inline std::string ShowCreate(const std::string& db, const std::string& table = "t") {
  return RootSql("SHOW CREATE TABLE `" + table + "`", db);
}

inline std::string IndexNames(const std::string& db, const std::string& table) {
  return RootSql("SELECT GROUP_CONCAT(DISTINCT INDEX_NAME ORDER BY INDEX_NAME) FROM information_schema.STATISTICS "
                 "WHERE TABLE_SCHEMA = '" + db + "' AND TABLE_NAME = '" + table + "'");
}

struct Fixture {
  Fixture(const std::string& tag) : db(fx.Create(tag)), control(fx.Create(tag + "_ctl")), to(fx.Create(tag + "_to")) {
    RootSql(Table("int") + ";" + Fill(), db);
    RootSql(Table("int") + ";" + Fill(), control);
    RootSql(Table("bigint"), to);
    session = RootSession(db);
  }
  FixtureDatabases fx;
  std::string db, control, to;
  std::unique_ptr<transports::Session> session;
  Recorder rec;
};

inline OnlineOptions SmallChunks() {
  OnlineOptions o;
  o.chunk_rows = 300;
  o.max_chunk_rows = 300;
  o.chunk_seconds = 0.01;
  return o;
}

}  // namespace sqlx::online_indexes
