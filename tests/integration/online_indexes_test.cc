// Deferred indexes of an online migration (planner/src/online/online_indexes.h),
// through the planner's API against the test MariaDB: the plain indexes
// after the last one a foreign key needs are left off the copy and built
// after it, under a writer; the table ends with the definition (index order
// included) an ALTER TABLE would have given it and the rows of a control;
// a crash during the build is resumed by building what is missing. With a
// second session they are built beside the copy (IndexBuildBeside): the copy
// waits while that ALTER queues for the shadow's metadata lock, and a build
// that fails there is made after the copy.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mariadb_session.h"
#include "migration_recorder.h"
#include "schema_fixtures.h"
#include "sqlx/planner/online.h"
#include "sqlx/planner/plan.h"
#include "sqlx/transports/session.h"
#include "table_writer.h"
#include "test_env.h"

namespace sqlx {
namespace {

using planner::MigrationState;
using planner::OnlineOptions;
using testing::FixtureDatabases;
using testing::KeyStyle;
using testing::RootSql;
using testing::RowsDiffering;
using testing::Writer;


using testing::RootSession;
using Recorder = testing::MigrationRecorder;

// t as the writer (table_writer.h) writes it (id, k, v), with indexes of
// every kind: kp serves the foreign key, so kk (before it) stays on the copy
// and kv, kkv (after it) are deferred.
std::string Table(const std::string& k_type) {
  return "CREATE TABLE p (id int NOT NULL PRIMARY KEY); INSERT INTO p SELECT seq FROM seq_1_to_10;"
         "CREATE TABLE t (id int NOT NULL PRIMARY KEY, k " + k_type + " NOT NULL, v varchar(40), pid int DEFAULT 1,"
         " u int DEFAULT NULL, note varchar(200) DEFAULT 'n',"
         " KEY kk (k), UNIQUE KEY uu (u), KEY kp (pid), KEY kv (v), KEY kkv (k, v) COMMENT 'by k;v',"
         " FULLTEXT KEY ft (note), CONSTRAINT fk_p FOREIGN KEY (pid) REFERENCES p (id)) ENGINE=InnoDB";
}
constexpr uint64_t kRows = 6000;
std::string Fill() {
  return "INSERT INTO t (id, k, v) SELECT seq, seq MOD 1000, CONCAT('v', seq) FROM seq_1_to_" + std::to_string(kRows);
}

planner::Operation Widen() {
  planner::Operation op;
  op.id = 1;
  op.kind = "alter_table";
  op.object = "t";
  op.sql = "ALTER TABLE `t` MODIFY COLUMN `k` bigint NOT NULL";
  return op;
}

std::string ShowCreate(const std::string& db, const std::string& table = "t") {
  return RootSql("SHOW CREATE TABLE `" + table + "`", db);
}

std::string IndexNames(const std::string& db, const std::string& table) {
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

OnlineOptions SmallChunks() {
  OnlineOptions o;
  o.chunk_rows = 300;
  o.max_chunk_rows = 300;
  o.chunk_seconds = 0.01;
  return o;
}

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

// The options of a copy whose deferred indexes are built beside it from 30 %
// of its rows, on sessions counted in `opened`.
OnlineOptions Beside(const std::string& db, std::atomic<int>* opened) {
  OnlineOptions o = SmallChunks();
  o.index_build_at = 0.3;
  o.open_session = [db, opened]() -> Result<std::unique_ptr<transports::Session>> {
    ++*opened;
    return RootSession(db);
  };
  return o;
}

// The ALTER the build beside the copy runs, as the process list shows it:
// its id, "" when there is none in `state`.
std::string BuildInState(const std::string& db, const std::string& state) {
  std::string id = RootSql("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '" + db +
                               "' AND INFO LIKE 'ALTER TABLE `\\_sqlx\\_%ADD KEY%' AND STATE = '" + state + "'",
                           db);
  while (!id.empty() && id.back() == '\n') id.pop_back();
  return id;
}

// The end every test of a build reaches: the definition an ALTER TABLE
// gives, the control's rows; then the migration finalized.
void ExpectAsAlteredAndFinalize(Fixture& f, MigrationState& s) {
  EXPECT_EQ(ShowCreate(f.db), ShowCreate(f.to));
  EXPECT_EQ(RowsDiffering(f.db, f.control, KeyStyle{}), 0u);
  EXPECT_TRUE(planner::FinalizeMigration(*f.session, s, f.rec).ok());
}

// f's migration started on a table whose row estimate is fresh (the build
// beside the copy starts against it); nullopt (and the reason printed) when
// it did not start.
std::optional<MigrationState> StartAnalyzed(Fixture& f) {
  RootSql("ANALYZE TABLE t", f.db);
  auto started = planner::StartOnlineMigration(*f.session, "root@test", f.db, Widen(), f.rec);
  if (!started.ok()) {
    ADD_FAILURE() << started.error().ToString();
    return std::nullopt;
  }
  return *started;
}

// A session in a transaction that holds the shadow's metadata lock as a
// writer's capture does (no row): an ALTER of the shadow queues behind it.
std::unique_ptr<transports::Session> HoldShadow(const std::string& db, const MigrationState& s) {
  auto holder = RootSession(db);
  if (holder == nullptr || !holder->Execute("START TRANSACTION").ok() ||
      !holder->Execute("SELECT 1 FROM `" + s.ShadowTable() + "` WHERE FALSE FOR UPDATE").ok())
    return nullptr;
  return holder;
}

TEST(OnlineIndexesTest, WithASecondSessionTheIndexesAreBuiltBesideTheLastPartOfTheCopy) {
  Fixture f("oixb");
  ASSERT_NE(f.session, nullptr);
  auto started = StartAnalyzed(f);
  ASSERT_TRUE(started);
  MigrationState s = *started;
  ASSERT_GT(s.rows_estimate, kRows / 2);
  const KeyStyle key;
  Writer writer(f.db, f.control, key, kRows);
  writer.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  std::atomic<int> opened{0};
  Status st = planner::ContinueOnlineMigration(*f.session, s, Beside(f.db, &opened), f.rec);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  writer.Stop();
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  ASSERT_EQ(writer.failure(), "");
  EXPECT_EQ(opened.load(), 1);
  EXPECT_EQ(s.phase, "cut-over");
  // One build, started beside the copy once 30 % of the estimate was in,
  // before its last chunk.
  ASSERT_EQ(f.rec.Count("migration.indexing"), 1u);
  const auto indexing = std::find(f.rec.events.begin(), f.rec.events.end(), "migration.indexing") - f.rec.events.begin();
  const nlohmann::json detail = nlohmann::json::parse(f.rec.details[indexing]);
  EXPECT_EQ(detail.value("beside_copy", false), true) << detail.dump();
  EXPECT_GE(detail.value("rows_copied", 0.0), 0.3 * s.rows_estimate) << detail.dump();
  EXPECT_LT(detail.value("rows_copied", 0.0), kRows) << detail.dump();
  EXPECT_EQ(detail["indexes"], nlohmann::json::parse(R"(["kv","kkv"])"));
  EXPECT_EQ(ShowCreate(f.db), ShowCreate(f.to));
  EXPECT_EQ(RowsDiffering(f.db, f.control, key), 0u);
  EXPECT_EQ(RootSql("SELECT COUNT(*) FROM t FORCE INDEX (kkv) WHERE k >= 0", f.db),
            RootSql("SELECT COUNT(*) FROM t", f.control));
  EXPECT_EQ(RootSql("CHECK TABLE t", f.db).find("error"), std::string::npos);
  // The copy's row-lock waits, shortened while the build ran, are as before.
  EXPECT_EQ(testing::Scalar(*f.session, "SELECT @@SESSION.innodb_lock_wait_timeout = @@GLOBAL.innodb_lock_wait_timeout"),
            "1");
  ASSERT_TRUE(planner::FinalizeMigration(*f.session, s, f.rec).ok());
}

// A transaction that holds the shadow (a writer's capture) keeps the build's
// ALTER queued for the shadow's exclusive lock: the copy waits meanwhile
// (it would queue behind it) and goes on between the ALTER's attempts. Here
// the ALTER is killed while it queues: the copy ends, and the indexes are
// built after it, the event saying why.
TEST(OnlineIndexesTest, ABuildBesideTheCopyThatFailsIsMadeAfterTheCopy) {
  Fixture f("oixf");
  ASSERT_NE(f.session, nullptr);
  auto started = StartAnalyzed(f);
  ASSERT_TRUE(started);
  MigrationState s = *started;
  auto holder = HoldShadow(f.db, s);
  ASSERT_NE(holder, nullptr);

  std::atomic<bool> killed{false};
  std::string waiting;
  std::thread killer([&] {
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < until) {
      const std::string id = BuildInState(f.db, "Waiting for table metadata lock");
      if (!id.empty()) {
        // The copy does not queue behind it: the ALTER is the one waiting.
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        waiting = RootSql("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '" + f.db +
                              "' AND STATE = 'Waiting for table metadata lock'",
                          f.db);
        RootSql("KILL QUERY " + id, f.db);
        killed = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_TRUE(holder->Execute("ROLLBACK").ok());
  });
  std::atomic<int> opened{0};
  OnlineOptions o = Beside(f.db, &opened);
  o.cutover_lock_wait_seconds = 10;  // the ALTER queues long enough to be seen and killed
  Status st = planner::ContinueOnlineMigration(*f.session, s, o, f.rec);
  killer.join();
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  ASSERT_TRUE(killed.load()) << "the build never queued for the shadow's lock";
  EXPECT_EQ(waiting, "1\n");
  EXPECT_EQ(s.phase, "cut-over");
  ASSERT_EQ(f.rec.Count("migration.indexing"), 2u);
  std::vector<nlohmann::json> details;
  for (size_t i = 0; i < f.rec.events.size(); ++i)
    if (f.rec.events[i] == "migration.indexing") details.push_back(nlohmann::json::parse(f.rec.details[i]));
  EXPECT_EQ(details[0].value("beside_copy", false), true);
  EXPECT_NE(details[1].value("beside_copy_failed", "").find("interrupted"), std::string::npos) << details[1].dump();
  ExpectAsAlteredAndFinalize(f, s);
}

// A second session that cannot be opened leaves the indexes to after the
// copy, saying why.
TEST(OnlineIndexesTest, ASecondSessionThatCannotBeOpenedLeavesTheBuildToAfterTheCopy) {
  Fixture f("oixo");
  ASSERT_NE(f.session, nullptr);
  auto started = StartAnalyzed(f);
  ASSERT_TRUE(started);
  MigrationState s = *started;
  OnlineOptions o = SmallChunks();
  o.index_build_at = 0.3;
  o.open_session = []() -> Result<std::unique_ptr<transports::Session>> {
    return MakeError(ErrorCode::kConnectionRefused, "no second session here");
  };
  Status st = planner::ContinueOnlineMigration(*f.session, s, o, f.rec);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  ASSERT_EQ(f.rec.Count("migration.indexing"), 1u);
  const auto at = std::find(f.rec.events.begin(), f.rec.events.end(), "migration.indexing") - f.rec.events.begin();
  EXPECT_NE(f.rec.details[at].find("no second session here"), std::string::npos) << f.rec.details[at];
  ExpectAsAlteredAndFinalize(f, s);
}

// A pause while the build beside the copy queues for the shadow's lock
// kills it at once (not after its 10 s wait); the resume builds the indexes.
TEST(OnlineIndexesTest, APauseKillsTheBuildBesideTheCopyAndTheResumeBuildsTheIndexes) {
  Fixture f("oixp");
  ASSERT_NE(f.session, nullptr);
  auto started = StartAnalyzed(f);
  ASSERT_TRUE(started);
  MigrationState s = *started;
  auto holder = HoldShadow(f.db, s);
  ASSERT_NE(holder, nullptr);
  // Asks to stop once the build has begun (its event recorded).
  struct Pausing : Recorder {
    bool StopRequested() override {
      if (Count("migration.indexing") == 0) return false;
      if (!asked) asked = std::chrono::steady_clock::now();
      return true;
    }
    std::optional<std::chrono::steady_clock::time_point> asked;
  } pausing;
  std::atomic<int> opened{0};
  OnlineOptions o = Beside(f.db, &opened);
  o.cutover_lock_wait_seconds = 10;
  Status st = planner::ContinueOnlineMigration(*f.session, s, o, pausing);
  ASSERT_TRUE(pausing.asked.has_value());
  // From the stop's request to the paused return.
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - *pausing.asked).count();
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_EQ(pausing.Count("migration.paused"), 1u);
  EXPECT_EQ(s.phase, "copying");
  EXPECT_LT(took, 5.0) << "the queued ALTER was waited for instead of killed";
  EXPECT_EQ(BuildInState(f.db, "Waiting for table metadata lock"), "") << "the build is still queued";
  ASSERT_TRUE(holder->Execute("ROLLBACK").ok());

  f.rec.Clear();
  st = planner::ContinueOnlineMigration(*f.session, s, Beside(f.db, &opened), f.rec);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_EQ(s.phase, "cut-over");
  EXPECT_GE(f.rec.Count("migration.indexing"), 1u);
  ExpectAsAlteredAndFinalize(f, s);
}

// No build starts beside the copy when its online log could outgrow
// innodb_online_alter_log_max_size: here 3,000-byte entries for the 36,000 to
// 56,000 rows left to copy when 30 % or more are in (twice: 220 to 340 MB)
// against the default 128 MiB.
TEST(OnlineIndexesTest, ABuildWhoseOnlineLogCouldOverflowIsLeftToAfterTheCopy) {
  FixtureDatabases fx;
  const std::string db = fx.Create("oixl");
  RootSql("CREATE TABLE w (id int NOT NULL PRIMARY KEY, n int NOT NULL, s varchar(3000) CHARACTER SET latin1,"
          " KEY ks (s)) ENGINE=InnoDB;"
          "INSERT INTO w SELECT seq, seq, CONCAT('s', seq) FROM seq_1_to_80000; ANALYZE TABLE w",
          db);
  ASSERT_EQ(RootSql("SELECT @@innodb_online_alter_log_max_size", db), "134217728\n") << "the default this test assumes";
  auto session = RootSession(db);
  ASSERT_NE(session, nullptr);
  Recorder rec;
  planner::Operation op = Widen();
  op.object = "w";
  op.sql = "ALTER TABLE `w` MODIFY COLUMN `n` bigint NOT NULL";
  auto started = planner::StartOnlineMigration(*session, "root@test", db, op, rec);
  ASSERT_TRUE(started.ok()) << started.error().ToString();
  MigrationState s = *started;
  ASSERT_EQ(s.deferred_indexes, (std::vector<std::string>{"KEY `ks` (`s`)"}));
  std::atomic<int> opened{0};
  OnlineOptions o = Beside(db, &opened);
  o.max_chunk_rows = 20000;
  o.chunk_seconds = 0.5;
  Status st = planner::ContinueOnlineMigration(*session, s, o, rec);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_EQ(opened.load(), 0);
  ASSERT_EQ(rec.Count("migration.indexing"), 1u);
  const auto at = std::find(rec.events.begin(), rec.events.end(), "migration.indexing") - rec.events.begin();
  EXPECT_NE(rec.details[at].find("innodb_online_alter_log_max_size"), std::string::npos) << rec.details[at];
  EXPECT_EQ(RootSql("SELECT COUNT(*) FROM w FORCE INDEX (ks) WHERE s >= ''", db), "80000\n");
  ASSERT_TRUE(planner::FinalizeMigration(*session, s, rec).ok());
}

// A build a run that died left on the server (its client gone, the ALTER
// going on) is killed by the resume, which builds the indexes itself. The
// leftover is made by hand: an ALTER of the shadow from another session,
// queued behind a transaction that holds the shadow.
TEST(OnlineIndexesTest, ABuildLeftRunningByARunThatDiedIsKilledByTheResume) {
  Fixture f("oixk");
  ASSERT_NE(f.session, nullptr);
  auto started = StartAnalyzed(f);
  ASSERT_TRUE(started);
  MigrationState s = *started;
  OnlineOptions postpone = SmallChunks();
  postpone.postpone_cutover = true;
  ASSERT_TRUE(planner::ContinueOnlineMigration(*f.session, s, postpone, f.rec).ok());
  // As a crash during the build leaves it: the last chunk not recorded,
  // kkv not built, and its ALTER still on the server.
  s.phase = "copying";
  RootSql("ALTER TABLE `" + s.ShadowTable() + "` DROP INDEX kkv", f.db);
  auto holder = HoldShadow(f.db, s);
  ASSERT_NE(holder, nullptr);
  auto leftover = RootSession(f.db);
  ASSERT_NE(leftover, nullptr);
  Status leftover_result = Status::Ok();
  std::thread dead_run([&] {
    auto done = leftover->Execute("SET SESSION lock_wait_timeout = 30");
    if (done.ok())
      done = leftover->Execute("ALTER TABLE `" + s.ShadowTable() +
                               "` ADD KEY `kkv` (`k`,`v`) COMMENT 'by k;v', ALGORITHM=INPLACE, LOCK=NONE");
    leftover_result = done.ok() ? Status::Ok() : Status(done.error());
  });
  for (int i = 0; i < 500 && BuildInState(f.db, "Waiting for table metadata lock").empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  if (BuildInState(f.db, "Waiting for table metadata lock").empty()) {
    (void)holder->Execute("ROLLBACK");
    dead_run.join();
    FAIL() << "the leftover ALTER never queued";
  }
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    (void)holder->Execute("ROLLBACK");
  });
  f.rec.Clear();
  std::atomic<int> opened{0};
  Status st = planner::ContinueOnlineMigration(*f.session, s, Beside(f.db, &opened), f.rec);
  release.join();
  dead_run.join();
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  ASSERT_FALSE(leftover_result.ok()) << "the leftover ALTER was not killed";
  EXPECT_NE(leftover_result.error().message.find("interrupted"), std::string::npos) << leftover_result.error().ToString();
  EXPECT_EQ(s.phase, "cut-over");
  ASSERT_GE(f.rec.Count("migration.indexing"), 1u);
  EXPECT_NE(f.rec.details[std::find(f.rec.events.begin(), f.rec.events.end(), "migration.indexing") - f.rec.events.begin()]
                .find("\"killed_leftover_builds\":1"),
            std::string::npos);
  ExpectAsAlteredAndFinalize(f, s);
}

}  // namespace
}  // namespace sqlx
