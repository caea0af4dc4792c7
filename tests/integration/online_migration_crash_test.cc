// Online migrations cut short at the moments around a swap, through the
// planner's API (the crash's state made by hand, as the engine leaves it):
// finalize after twins were made on the shadow or the old table, a revert
// cut short after its swap back then cut over again, and the table's own
// triggers changed during the copy.
#include <algorithm>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "online_triggers.h"
#include "mariadb_session.h"
#include "migration_recorder.h"
#include "schema_fixtures.h"
#include "sqlx/planner/online.h"
#include "sqlx/planner/plan.h"
#include "sqlx/transports/session.h"
#include "test_env.h"

namespace sqlx {
namespace {

using planner::MigrationState;
using planner::OnlineOptions;
using testing::FixtureDatabases;
using testing::RootSql;


using testing::RootSession;
using Recorder = testing::MigrationRecorder;

const char* kTable = "CREATE TABLE t (id int NOT NULL PRIMARY KEY, k int NOT NULL, v varchar(40));"
                     "INSERT INTO t (id, k, v) SELECT seq, seq MOD 100, CONCAT('v', seq) FROM seq_1_to_3000;"
                     "CREATE TABLE audit (seq int AUTO_INCREMENT PRIMARY KEY, op char(2), rid int);"
                     "CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW SET NEW.v = CONCAT(IFNULL(NEW.v, ''), '+');"
                     "CREATE TRIGGER t_ai AFTER INSERT ON t FOR EACH ROW "
                     "INSERT INTO audit (op, rid) VALUES ('i', NEW.id);"
                     "CREATE TRIGGER t_au AFTER UPDATE ON t FOR EACH ROW "
                     "INSERT INTO audit (op, rid) VALUES ('u', NEW.id)";

planner::Operation Widen() {
  planner::Operation op;
  op.id = 1;
  op.kind = "alter_table";
  op.object = "t";
  op.sql = "ALTER TABLE `t` MODIFY COLUMN `v` varchar(80) DEFAULT NULL";
  return op;
}

std::string Triggers(const std::string& db) {
  return RootSql("SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER, "
                 "ACTION_STATEMENT, DEFINER, SQL_MODE FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '" +
                 db + "' ORDER BY TRIGGER_NAME");
}

// The table's own triggers (the engine's left out), without their order.
std::string OwnTriggers(const std::string& db) {
  return RootSql("SELECT TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION, ACTION_STATEMENT FROM "
                 "information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '" + db +
                 "' AND TRIGGER_NAME NOT LIKE '\\_sqlx\\_%' ORDER BY TRIGGER_NAME");
}

std::string EngineObjects(const std::string& db) {
  return RootSql("SELECT (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + db +
                 "' AND TABLE_NAME LIKE '\\_sqlx\\_%') + (SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE "
                 "TRIGGER_SCHEMA = '" + db + "' AND TRIGGER_NAME LIKE '\\_sqlx\\_%')");
}

// An insert and an update go through: the BEFORE trigger changed the row
// once, each AFTER trigger left one audit row.
void ExpectWritesFireOnce(const std::string& db, int id) {
  const std::string rid = std::to_string(id);
  RootSql("INSERT INTO t (id, k, v) VALUES (" + rid + ", 1, 'x'); UPDATE t SET k = 2 WHERE id = " + rid, db);
  EXPECT_EQ(RootSql("SELECT v FROM t WHERE id = " + rid, db), "x+\n");
  EXPECT_EQ(RootSql("SELECT op FROM audit WHERE rid = " + rid + " ORDER BY seq", db), "i\nu\n");
}

struct Started {
  explicit Started(const std::string& tag) : db(fx.Create(tag)) {
    RootSql(kTable, db);
    triggers = Triggers(db);
    session = RootSession(db);
    if (session == nullptr) return;
    auto s = planner::StartOnlineMigration(*session, "root@test", db, Widen(), rec);
    EXPECT_TRUE(s.ok()) << s.error().ToString();
    if (s.ok()) state = *s;
  }
  FixtureDatabases fx;
  std::string db, triggers;
  std::unique_ptr<transports::Session> session;
  Recorder rec;
  MigrationState state;
};

TEST(OnlineMigrationCrashTest, FinalizeAfterTwinsWereMadeOnTheShadowLeavesTheTableWritable) {
  Started m("omc1");
  ASSERT_EQ(m.state.phase, "copying");
  OnlineOptions postpone;
  postpone.postpone_cutover = true;
  ASSERT_TRUE(planner::ContinueOnlineMigration(*m.session, m.state, postpone, m.rec).ok());
  ASSERT_EQ(m.state.phase, "copied");
  // The session died between the twins on the shadow and the RENAME.
  ASSERT_TRUE(planner::online::InstallTwins(*m.session, m.state, m.state.ShadowTable(), OnlineOptions{}).ok());
  m.session = RootSession(m.db);
  Status st = planner::FinalizeMigration(*m.session, m.state, m.rec);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_EQ(m.state.phase, "abandoned");
  EXPECT_EQ(EngineObjects(m.db), "0\n");
  EXPECT_EQ(Triggers(m.db), m.triggers);
  ExpectWritesFireOnce(m.db, 900001);
}

TEST(OnlineMigrationCrashTest, FinalizeAfterARevertsTwinsWereMadeOnTheOldTableLeavesTheTableWritable) {
  Started m("omc2");
  ASSERT_TRUE(planner::ContinueOnlineMigration(*m.session, m.state, OnlineOptions{}, m.rec).ok());
  ASSERT_EQ(m.state.phase, "cut-over");
  EXPECT_EQ(Triggers(m.db), m.triggers);
  // A revert died after the twins on the old table, before its swap back.
  m.state.phase = "reverting";
  ASSERT_TRUE(planner::online::InstallTwins(*m.session, m.state, m.state.OldTable(), OnlineOptions{}).ok());
  m.session = RootSession(m.db);
  Status st = planner::FinalizeMigration(*m.session, m.state, m.rec);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_EQ(m.state.phase, "finalized");
  EXPECT_EQ(EngineObjects(m.db), "0\n");
  EXPECT_EQ(Triggers(m.db), m.triggers);
  ExpectWritesFireOnce(m.db, 900002);
}

TEST(OnlineMigrationCrashTest, ARevertCutShortAfterItsSwapBackThenCutOverKeepsEveryWrite) {
  Started m("omc3");
  const std::string control = m.fx.Create("omc3_ctl");
  RootSql(kTable, control);
  ASSERT_TRUE(planner::ContinueOnlineMigration(*m.session, m.state, OnlineOptions{}, m.rec).ok());
  ASSERT_EQ(m.state.phase, "cut-over");
  Status st = planner::RevertMigration(*m.session, m.state, OnlineOptions{}, m.rec, false);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  // The checkpoint after the swap back never came.
  m.state.phase = "reverting";
  st = planner::FinalizeMigration(*m.session, m.state, m.rec);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(m.state.phase, "reverted") << st.error().ToString();
  const std::string writes = "INSERT INTO t (id, k, v) SELECT seq, 5, 'late' FROM seq_5001_to_5100;"
                             "UPDATE t SET k = k + 1000 WHERE id <= 100; DELETE FROM t WHERE id BETWEEN 200 AND 300";
  RootSql(writes, m.db);
  RootSql(writes, control);
  // A cut-over of the shadow as it is (as the old mapping to "copied" did)
  // is refused: the forward capture is gone.
  MigrationState stale = m.state;
  stale.phase = "copied";
  st = planner::CutOverMigration(*m.session, stale, OnlineOptions{}, m.rec);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("change-capture trigger"), std::string::npos) << st.error().message;
  EXPECT_EQ(RootSql("SELECT CHARACTER_MAXIMUM_LENGTH FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '" + m.db +
                    "' AND TABLE_NAME = 't' AND COLUMN_NAME = 'v'"),
            "40\n");
  st = planner::CutOverMigration(*m.session, m.state, OnlineOptions{}, m.rec);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_EQ(m.state.phase, "cut-over");
  EXPECT_EQ(RootSql("SELECT id, k, v FROM t ORDER BY id", m.db),
            RootSql("SELECT id, k, v FROM t ORDER BY id", control));
  EXPECT_EQ(RootSql("SELECT op, rid FROM audit ORDER BY op, rid", m.db),
            RootSql("SELECT op, rid FROM audit ORDER BY op, rid", control));
  EXPECT_EQ(Triggers(m.db), m.triggers);
  ASSERT_TRUE(planner::FinalizeMigration(*m.session, m.state, m.rec).ok());
  EXPECT_EQ(EngineObjects(m.db), "0\n");
  ExpectWritesFireOnce(m.db, 900003);
}

TEST(OnlineMigrationCrashTest, TriggersChangedDuringTheCopyRefuseTheCutOver) {
  Started m("omc4");
  OnlineOptions postpone;
  postpone.postpone_cutover = true;
  ASSERT_TRUE(planner::ContinueOnlineMigration(*m.session, m.state, postpone, m.rec).ok());
  ASSERT_EQ(m.state.phase, "copied");
  RootSql("CREATE TRIGGER t_ad AFTER DELETE ON t FOR EACH ROW INSERT INTO audit (op, rid) VALUES ('d', OLD.id);"
          "DROP TRIGGER t_au",
          m.db);
  const std::string changed = OwnTriggers(m.db);
  ASSERT_NE(changed.find("t_ad"), std::string::npos) << changed;
  Status st = planner::CutOverMigration(*m.session, m.state, OnlineOptions{}, m.rec);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("`t_ad` created"), std::string::npos) << st.error().message;
  EXPECT_NE(st.error().message.find("`t_au` dropped"), std::string::npos) << st.error().message;
  EXPECT_EQ(m.state.phase, "copied");
  EXPECT_EQ(OwnTriggers(m.db), changed);
  ASSERT_TRUE(planner::FinalizeMigration(*m.session, m.state, m.rec).ok());
  EXPECT_EQ(m.state.phase, "abandoned");
  EXPECT_EQ(EngineObjects(m.db), "0\n");
  EXPECT_EQ(OwnTriggers(m.db), changed);
  RootSql("INSERT INTO t (id, k, v) VALUES (900004, 1, 'x'); DELETE FROM t WHERE id = 900004", m.db);
  EXPECT_EQ(RootSql("SELECT op FROM audit WHERE rid = 900004 ORDER BY seq", m.db), "i\nd\n");
}

TEST(OnlineMigrationCrashTest, TriggersChangedAfterTheCutOverRefuseTheRevertUntilTheyAreAsRecorded) {
  Started m("omc6");
  ASSERT_TRUE(planner::ContinueOnlineMigration(*m.session, m.state, OnlineOptions{}, m.rec).ok());
  ASSERT_EQ(m.state.phase, "cut-over");
  RootSql("CREATE TRIGGER t_ad AFTER DELETE ON t FOR EACH ROW INSERT INTO audit (op, rid) VALUES ('d', OLD.id)", m.db);
  const std::string changed = OwnTriggers(m.db);
  Status st = planner::RevertMigration(*m.session, m.state, OnlineOptions{}, m.rec, false);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.error().message.find("`t_ad` created"), std::string::npos) << st.error().message;
  EXPECT_EQ(m.state.phase, "cut-over");
  EXPECT_EQ(OwnTriggers(m.db), changed) << "nothing was changed";
  EXPECT_EQ(RootSql("SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '" + m.db +
                        "' AND TABLE_NAME = 't' AND COLUMN_NAME = 'v'"),
            "varchar\n");
  EXPECT_NE(std::find(m.rec.events.begin(), m.rec.events.end(), "migration.revert_refused"), m.rec.events.end());
  // As recorded again: the revert goes through.
  RootSql("DROP TRIGGER t_ad", m.db);
  st = planner::RevertMigration(*m.session, m.state, OnlineOptions{}, m.rec, false);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_EQ(m.state.phase, "reverted");
  EXPECT_EQ(Triggers(m.db), m.triggers);
  ASSERT_TRUE(planner::FinalizeMigration(*m.session, m.state, m.rec).ok());
  ExpectWritesFireOnce(m.db, 900006);
}

// The foreign-key steps of a cut-over wait out a metadata lock the way
// the swap does: a session reading the copy (as the capture's writers do)
// for longer than one lock wait delays the cut-over instead of failing it.
TEST(OnlineMigrationCrashTest, ASelfKeyIsAddedToTheCopyAfterAMetadataLockWaitThatTimesOutOnce) {
  FixtureDatabases fx;
  const std::string db = fx.Create("omc5");
  RootSql("CREATE TABLE t (id int NOT NULL PRIMARY KEY, parent int DEFAULT NULL, v varchar(40), KEY parent (parent),"
          " CONSTRAINT t_parent FOREIGN KEY (parent) REFERENCES t (id));"
          "INSERT INTO t (id, parent, v) SELECT seq, IF(seq > 1, seq - 1, NULL), CONCAT('v', seq) FROM seq_1_to_2000",
          db);
  auto session = RootSession(db);
  ASSERT_NE(session, nullptr);
  Recorder rec;
  auto started = planner::StartOnlineMigration(*session, "root@test", db, Widen(), rec);
  ASSERT_TRUE(started.ok()) << started.error().ToString();
  MigrationState s = *started;
  OnlineOptions postpone;
  postpone.postpone_cutover = true;
  ASSERT_TRUE(planner::ContinueOnlineMigration(*session, s, postpone, rec).ok());
  ASSERT_EQ(s.phase, "copied");
  // Another session holds the copy's metadata lock for 2.5 s (lock waits
  // are 1 s).
  auto holder = RootSession(db);
  ASSERT_NE(holder, nullptr);
  ASSERT_TRUE(holder->Execute("START TRANSACTION").ok());
  ASSERT_TRUE(holder->Execute("DO (SELECT COUNT(*) FROM `" + s.ShadowTable() + "`)").ok());
  std::thread release([&holder] {
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    (void)holder->Execute("COMMIT");
  });
  Status st = planner::CutOverMigration(*session, s, OnlineOptions{}, rec);
  release.join();
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_EQ(s.phase, "cut-over");
  EXPECT_NE(RootSql("SHOW CREATE TABLE t", db).find("CONSTRAINT `t_parent` FOREIGN KEY (`parent`) REFERENCES `t` (`id`)"),
            std::string::npos);
  EXPECT_EQ(RootSql("SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '" + db +
                        "' AND TABLE_NAME = 't' AND COLUMN_NAME = 'v'"),
            "varchar\n");
  ASSERT_TRUE(planner::FinalizeMigration(*session, s, rec).ok());
  EXPECT_EQ(EngineObjects(db), "0\n");
}

}  // namespace
}  // namespace sqlx
