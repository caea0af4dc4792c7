// Deferred indexes built beside the copy (IndexBuildBeside,
// planner/src/online/online_indexes.h) on a second session: the copy waits
// while that ALTER queues for the shadow's metadata lock, a build that fails
// there is made after the copy, a pause kills it, a build a dead run left is
// killed by the resume, and none starts when its online log could overflow.
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "online_indexes_fixture.h"

namespace sqlx {
namespace {

using namespace online_indexes;  // NOLINT: the fixture of these tests (and its names)

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
  const nlohmann::json detail = nlohmann::json::parse(f.rec.DetailsOf("migration.indexing")[0]);
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
  for (const std::string& d : f.rec.DetailsOf("migration.indexing")) details.push_back(nlohmann::json::parse(d));
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
  const std::string detail = f.rec.DetailsOf("migration.indexing")[0];
  EXPECT_NE(detail.find("no second session here"), std::string::npos) << detail;
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
  const std::string detail = rec.DetailsOf("migration.indexing")[0];
  EXPECT_NE(detail.find("innodb_online_alter_log_max_size"), std::string::npos) << detail;
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
  EXPECT_NE(f.rec.DetailsOf("migration.indexing")[0].find("\"killed_leftover_builds\":1"), std::string::npos);
  ExpectAsAlteredAndFinalize(f, s);
}

}  // namespace
}  // namespace sqlx
