// Deferred indexes of an online migration (planner/src/online/online_indexes.h),
// through the planner's API against the test MariaDB: the plain indexes
// after the last one a foreign key needs are left off the copy and built
// after it, under a writer; the table ends with the definition (index order
// included) an ALTER TABLE would have given it and the rows of a control;
// a crash during the build is resumed by building what is missing. Built
// beside the copy: online_indexes_beside_test.cc.
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "online_indexes_fixture.h"

namespace sqlx {
namespace {

using namespace online_indexes;  // NOLINT: the fixture of these tests (and its names)

TEST(OnlineIndexesTest, PlainIndexesAfterTheLastAForeignKeyNeedsAreBuiltAfterTheCopyAndKeepTheirOrder) {
  Fixture f("oix");
  ASSERT_NE(f.session, nullptr);
  auto started = planner::StartOnlineMigration(*f.session, "root@test", f.db, Widen(), f.rec);
  ASSERT_TRUE(started.ok()) << started.error().ToString();
  MigrationState s = *started;
  EXPECT_EQ(s.deferred_indexes,
            (std::vector<std::string>{"KEY `kv` (`v`)", "KEY `kkv` (`k`,`v`) COMMENT 'by k;v'"}));
  EXPECT_EQ(f.rec.last.deferred_indexes, s.deferred_indexes) << "the record stored holds them";
  // The copy is filled without them; every other index is there.
  EXPECT_EQ(IndexNames(f.db, s.ShadowTable()), "ft,kk,kp,PRIMARY,uu\n");

  const KeyStyle key;
  Writer writer(f.db, f.control, key, kRows);
  writer.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  Status st = planner::ContinueOnlineMigration(*f.session, s, SmallChunks(), f.rec);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  writer.Stop();
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  ASSERT_EQ(writer.failure(), "");
  EXPECT_GT(writer.commits(), 20u);
  EXPECT_EQ(s.phase, "cut-over");
  EXPECT_GT(s.chunks, 10u);
  EXPECT_EQ(f.rec.Count("migration.indexing"), 1u);
  // Built before the copy counted as done, after every chunk.
  size_t indexing = 0, copied = 0;
  for (size_t i = 0; i < f.rec.events.size(); ++i) {
    if (f.rec.events[i] == "migration.indexing") indexing = i;
    if (f.rec.events[i] == "migration.copied") copied = i;
  }
  EXPECT_LT(indexing, copied);
  EXPECT_NE(f.rec.details[indexing].find("\"kv\""), std::string::npos) << f.rec.details[indexing];
  // The definition an ALTER TABLE gives (index order, comment, key), the
  // writer's rows.
  EXPECT_EQ(ShowCreate(f.db), ShowCreate(f.to));
  EXPECT_EQ(RowsDiffering(f.db, f.control, key), 0u);
  EXPECT_EQ(RootSql("SELECT COUNT(*) FROM t FORCE INDEX (kkv) WHERE k >= 0", f.db),
            RootSql("SELECT COUNT(*) FROM t", f.control));
  ASSERT_TRUE(planner::FinalizeMigration(*f.session, s, f.rec).ok());
}

TEST(OnlineIndexesTest, ACrashWhileTheIndexesAreBuiltIsResumedByBuildingWhatIsMissing) {
  Fixture f("oixc");
  ASSERT_NE(f.session, nullptr);
  auto started = planner::StartOnlineMigration(*f.session, "root@test", f.db, Widen(), f.rec);
  ASSERT_TRUE(started.ok()) << started.error().ToString();
  MigrationState s = *started;
  OnlineOptions postpone = SmallChunks();
  postpone.postpone_cutover = true;
  Status st = planner::ContinueOnlineMigration(*f.session, s, postpone, f.rec);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  ASSERT_EQ(s.phase, "copied");
  ASSERT_EQ(IndexNames(f.db, s.ShadowTable()), "ft,kk,kkv,kp,kv,PRIMARY,uu\n");
  // As a crash in the build leaves it: the last chunk not recorded (the
  // phase copying, last_bound before it), one index not built. Rows
  // written meanwhile reach the copy through the capture.
  s.phase = "copying";
  RootSql("ALTER TABLE `" + s.ShadowTable() + "` DROP INDEX kkv", f.db);
  RootSql("INSERT INTO t (id, k, v) VALUES (" + std::to_string(kRows + 1) + ", 5, 'late')", f.db);
  RootSql("INSERT INTO t (id, k, v) VALUES (" + std::to_string(kRows + 1) + ", 5, 'late')", f.control);
  f.rec.Clear();
  st = planner::ContinueOnlineMigration(*f.session, s, SmallChunks(), f.rec);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_EQ(s.phase, "cut-over");
  ASSERT_EQ(f.rec.Count("migration.indexing"), 1u);
  EXPECT_NE(f.rec.details[0].find("\"kkv\""), std::string::npos) << f.rec.details[0];
  EXPECT_EQ(f.rec.details[0].find("\"kv\""), std::string::npos) << "kv was there: " << f.rec.details[0];
  EXPECT_EQ(ShowCreate(f.db), ShowCreate(f.to));
  EXPECT_EQ(RowsDiffering(f.db, f.control, KeyStyle{}), 0u);
  ASSERT_TRUE(planner::FinalizeMigration(*f.session, s, f.rec).ok());
}

// Indexes the copy needs stay on it: one leading with the AUTO_INCREMENT
// column (the server requires it), one the chunk key now lives in (the
// change demoted its unique key), and every plain one before a SPATIAL key
// (sorted among the plain ones: deferring them would move them after it).
TEST(OnlineIndexesTest, IndexesTheCopyNeedsOrTheOrderNeedsStayOnIt) {
  FixtureDatabases fx;
  const std::string db = fx.Create("oixk");
  RootSql("CREATE TABLE a (tenant int NOT NULL, id int NOT NULL AUTO_INCREMENT, v varchar(20), w int,"
          " g POINT NOT NULL, PRIMARY KEY (tenant, id), KEY id (id), KEY kv (v), SPATIAL KEY sp (g), KEY kw (w))"
          " ENGINE=InnoDB;"
          "INSERT INTO a (tenant, v, w, g) SELECT seq MOD 3, CONCAT('v', seq), seq, POINT(seq, seq) FROM seq_1_to_500;"
          "CREATE TABLE b (code varchar(20) NOT NULL, n int, UNIQUE KEY uk (code), KEY kn (n)) ENGINE=InnoDB;"
          "INSERT INTO b SELECT CONCAT('c', seq), seq FROM seq_1_to_500",
          db);
  auto session = RootSession(db);
  ASSERT_NE(session, nullptr);
  Recorder rec;
  planner::Operation op = Widen();
  op.object = "a";
  op.sql = "ALTER TABLE `a` MODIFY COLUMN `w` bigint DEFAULT NULL";
  auto a = planner::StartOnlineMigration(*session, "root@test", db, op, rec);
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  EXPECT_EQ(a->deferred_indexes, (std::vector<std::string>{"KEY `kw` (`w`)"}));
  EXPECT_EQ(IndexNames(db, a->ShadowTable()), "id,kv,PRIMARY,sp\n");
  MigrationState sa = *a;
  ASSERT_TRUE(planner::FinalizeMigration(*session, sa, rec).ok());

  op.object = "b";
  op.sql = "ALTER TABLE `b` DROP INDEX `uk`, ADD KEY `k2` (`code`), MODIFY COLUMN `n` bigint DEFAULT NULL";
  auto b = planner::StartOnlineMigration(*session, "root@test", db, op, rec);
  ASSERT_TRUE(b.ok()) << b.error().ToString();
  EXPECT_EQ(b->key_index, "uk");
  EXPECT_EQ(b->deferred_indexes, (std::vector<std::string>{})) << "k2 holds the chunk key now";
  EXPECT_EQ(IndexNames(db, b->ShadowTable()), "k2,kn\n");
  MigrationState sb = *b;
  ASSERT_TRUE(planner::FinalizeMigration(*session, sb, rec).ok());
}

}  // namespace
}  // namespace sqlx
