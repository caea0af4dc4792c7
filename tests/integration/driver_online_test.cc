// The driver's Apply with online copies against the test MariaDB: a
// rollout's cut-over job past its window's end, the abandon of copied
// migrations with the undo of the plan's other operations, and a
// redelivered copy of a table with foreign keys of its own.
#include <algorithm>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "driver_fixture.h"
#include "mariadb_session.h"
#include "schema_fixtures.h"
#include "sqlx/driver.h"
#include "sqlx/messages/clock.h"
#include "sqlx/planner/online.h"

namespace sqlx {
namespace {

// DriverApplyTest whose runs keep the checkpoints of their online
// migrations (the latest of each) in saved_.
class DriverOnlineTest : public DriverApplyTest {
 protected:
  // A run on from_ that stores here and checkpoints into saved_.
  ApplyOptions Checkpointed() {
    ApplyOptions options = store_.Options(from_);
    options.checkpoint = [this](const planner::MigrationState& m) {
      std::erase_if(saved_, [&m](const planner::MigrationState& o) { return o.id == m.id; });
      saved_.push_back(m);
      return Status::Ok();
    };
    return options;
  }
  // A run whose online copies stop before their swap.
  ApplyOptions Copying() {
    ApplyOptions options = Checkpointed();
    options.online.postpone_cutover = true;
    return options;
  }
  // `action` ("cutover", "abandon") on the migration saved, handed over as
  // a rollout's job hands it over.
  ApplyOptions Action(const std::string& action) {
    ApplyOptions options = Checkpointed();
    options.migration_action = action;
    options.migrations = {saved_.at(0).id};
    options.resume = saved_;
    return options;
  }

  TestStore store_;
  std::vector<planner::MigrationState> saved_;
};

// A rollout's cut-over job carries its window's end (cutover_before_ns): a
// worker that starts it later swaps nothing, and the run ends "copied" with
// the migration still copied (the next window's job cuts it over).
TEST_F(DriverOnlineTest, ACutoverActionStartedAfterTheWindowClosedSwapsNothingAndEndsCopied) {
  ASSERT_NO_FATAL_FAILURE(Build("drv_window",
                                "CREATE TABLE t (id int PRIMARY KEY, k int NOT NULL);"
                                "INSERT INTO t SELECT seq, seq FROM seq_1_to_2000",
                                "CREATE TABLE t (id int PRIMARY KEY, k bigint NOT NULL)"));
  std::vector<planner::MigrationState>& saved = saved_;
  ApplyOptions copy = Copying();
  ApplyReport report = MustApply(plan_, copy);
  ASSERT_EQ(report.result, ApplyResult::kCopied) << ApplyReportToJson(report);
  ASSERT_EQ(saved.size(), 1u);
  ASSERT_EQ(saved[0].phase, "copied");
  const std::string from_hash = Learn(from_).profile_hash;

  ApplyOptions late = Action("cutover");
  late.cutover_before_ns = UnixNowNs() - 1'000'000'000;  // closed a second ago
  report = MustApply(plan_, late);
  EXPECT_EQ(report.result, ApplyResult::kCopied) << ApplyReportToJson(report);
  ASSERT_EQ(report.migrations.size(), 1u);
  EXPECT_EQ(report.migrations[0].phase, "copied");
  ASSERT_EQ(report.warnings.size(), 1u);
  EXPECT_NE(report.warnings[0].find("cut-over window closed"), std::string::npos) << report.warnings[0];
  EXPECT_EQ(saved[0].phase, "copied");
  EXPECT_EQ(Learn(from_).profile_hash, from_hash) << "nothing was swapped";

  // A delivery swapped it and died before its checkpoint: the record still
  // says copied, the server says swapped. A later delivery, past the
  // window's end, finishes it rather than leaving it half done.
  {
    class Ignore : public planner::MigrationObserver {
     public:
      Status Checkpoint(const planner::MigrationState&) override { return Status::Ok(); }
      void Event(const planner::MigrationState&, std::string_view, const Error*, const std::string&) override {}
    } ignore;
    auto raw = testing::MustOpen(testing::Url("root", testing::MariaDbRootPassword(), from_));
    ASSERT_NE(raw, nullptr);
    planner::MigrationState swapped = saved[0];
    ASSERT_TRUE(planner::CutOverMigration(*raw, swapped, planner::OnlineOptions{}, ignore).ok());
    ASSERT_EQ(swapped.phase, "cut-over");
  }
  ASSERT_EQ(saved[0].phase, "copied");
  report = MustApply(plan_, late);
  EXPECT_EQ(report.result, ApplyResult::kApplied) << ApplyReportToJson(report);
  EXPECT_EQ(saved[0].phase, "cut-over");
  EXPECT_EQ(Learn(from_).profile_hash, Learn(to_).profile_hash);
}

// A rollout's revert of a copied target abandons its copies; the plan's
// other operations, which the copy's job ran, are undone too (a foreign
// key put back once no row lacks its parent), so the database is back at
// the plan's from_hash; an undo cut short is taken up again.
TEST_F(DriverOnlineTest, AbandoningCopiesAlsoUndoesThePlansOtherOperations) {
  const std::string from_sql =
      "CREATE TABLE t (id int PRIMARY KEY, k int NOT NULL); INSERT INTO t SELECT seq, seq FROM seq_1_to_2000;"
      "CREATE TABLE p (id int PRIMARY KEY); INSERT INTO p VALUES (1), (2);"
      "CREATE TABLE c (id int PRIMARY KEY, pid int, KEY pid (pid), CONSTRAINT c_p FOREIGN KEY (pid) REFERENCES p (id));"
      "INSERT INTO c VALUES (1, 1), (2, NULL);"
      "CREATE TABLE u (id int PRIMARY KEY, a int); INSERT INTO u VALUES (1, 1)";
  ASSERT_NO_FATAL_FAILURE(Build("drv_abandon", from_sql,
                                "CREATE TABLE t (id int PRIMARY KEY, k bigint NOT NULL);"
                                "CREATE TABLE p (id int PRIMARY KEY);"
                                "CREATE TABLE c (id int PRIMARY KEY, pid int, KEY pid (pid));"
                                "CREATE TABLE u (id int PRIMARY KEY, a int, note varchar(10), KEY by_a (a))"));
  const std::string from_hash = Learn(from_).profile_hash;
  std::vector<planner::MigrationState>& saved = saved_;
  ApplyOptions copy = Copying();
  copy.allow_destructive = true;
  ApplyReport report = MustApply(plan_, copy);
  ASSERT_EQ(report.result, ApplyResult::kCopied) << ApplyReportToJson(report);
  ASSERT_EQ(saved.size(), 1u);
  ASSERT_NE(Learn(from_).profile_hash, from_hash) << "u and c were changed by the copy's job";
  // Without its key, c takes a row whose parent does not exist.
  testing::RootSql("INSERT INTO c VALUES (3, 99)", from_);

  ApplyOptions abandon = Action("abandon");
  abandon.allow_destructive = true;
  report = MustApply(plan_, abandon);
  ASSERT_EQ(report.result, ApplyResult::kFailed) << ApplyReportToJson(report);
  ASSERT_TRUE(report.error.has_value());
  EXPECT_NE(report.error->message.find("1 rows of `c` name a parent that is missing"), std::string::npos)
      << report.error->message;
  EXPECT_EQ(saved[0].phase, "abandoned") << "the copy is gone; the rest waits for the data";

  // The row fixed, the undo is taken up where it stopped (what it undid is
  // passed over) and ends at from_hash.
  testing::RootSql("DELETE FROM c WHERE id = 3", from_);
  abandon.resume = saved;
  report = MustApply(plan_, abandon);
  EXPECT_EQ(report.result, ApplyResult::kApplied) << ApplyReportToJson(report);
  EXPECT_EQ(Learn(from_).profile_hash, from_hash);
  EXPECT_EQ(testing::RootSql("SELECT id, a FROM u", from_), "1\t1\n");
  bool passed_over = false;
  for (const std::string& w : report.warnings) passed_over = passed_over || w.find("was done already") != std::string::npos;
  EXPECT_TRUE(passed_over) << ApplyReportToJson(report);
  // The key works again: an orphan is refused.
  EXPECT_NE(testing::RootClient({from_, "-e", "INSERT INTO c VALUES (4, 99)"}).exit_code, 0);
  // Again (a redelivery): already back, nothing to undo.
  report = MustApply(plan_, abandon);
  EXPECT_EQ(report.result, ApplyResult::kApplied) << ApplyReportToJson(report);
  // A redelivery of an undo that put the key back but died before the
  // hash check (u as the copy's job left it): the key is passed over.
  testing::RootSql("ALTER TABLE u ADD COLUMN note varchar(10), ADD KEY by_a (a)", from_);
  report = MustApply(plan_, abandon);
  EXPECT_EQ(report.result, ApplyResult::kApplied) << ApplyReportToJson(report);
  EXPECT_EQ(Learn(from_).profile_hash, from_hash);
  bool key_passed_over = false;
  for (const std::string& w : report.warnings)
    key_passed_over = key_passed_over || (w.find("FOREIGN KEY") != std::string::npos &&
                                          w.find("was done already") != std::string::npos);
  EXPECT_TRUE(key_passed_over);
}

// A run cut short mid-copy of a table with foreign keys of its own (which
// it keeps under temporary names while it copies) is taken up by the next
// delivery of the plan from the copy's checkpoint, not refused as drift.
TEST_F(DriverOnlineTest, ARedeliveredCopyOfATableWithItsOwnForeignKeysResumesInsteadOfDrifting) {
  ASSERT_NO_FATAL_FAILURE(Build("drv_fkresume",
                                "CREATE TABLE p (id int PRIMARY KEY); INSERT INTO p SELECT seq FROM seq_1_to_10;"
                                "CREATE TABLE t (id int PRIMARY KEY, pid int NOT NULL, k int NOT NULL, KEY pid (pid),"
                                " CONSTRAINT t_p FOREIGN KEY (pid) REFERENCES p (id));"
                                "INSERT INTO t SELECT seq, 1 + seq MOD 10, seq FROM seq_1_to_3000",
                                "CREATE TABLE p (id int PRIMARY KEY);"
                                "CREATE TABLE t (id int PRIMARY KEY, pid int NOT NULL, k bigint NOT NULL, KEY pid (pid),"
                                " CONSTRAINT t_p FOREIGN KEY (pid) REFERENCES p (id))"));
  std::vector<planner::MigrationState>& saved = saved_;
  ApplyOptions first = Checkpointed();
  first.online.chunk_rows = first.online.min_chunk_rows = first.online.max_chunk_rows = 200;
  int polls = 0;
  first.stop_requested = [&polls] { return ++polls > 3; };  // the run dies after a few chunks
  ApplyReport report = MustApply(plan_, first);
  ASSERT_EQ(report.result, ApplyResult::kPaused) << ApplyReportToJson(report);
  ASSERT_EQ(saved.size(), 1u);
  ASSERT_EQ(saved[0].phase, "copying");
  ASSERT_GT(saved[0].rows_copied, 0u);
  ASSERT_NE(testing::RootSql("SHOW CREATE TABLE t", from_).find("_sqlx_" + saved[0].id + "_fk1"), std::string::npos)
      << "the table's key carries its temporary name";

  ApplyOptions again = Checkpointed();
  again.resume = saved;
  report = MustApply(plan_, again);
  EXPECT_EQ(report.result, ApplyResult::kApplied) << ApplyReportToJson(report);
  EXPECT_EQ(saved[0].phase, "cut-over");
  EXPECT_EQ(Learn(from_).profile_hash, Learn(to_).profile_hash);
  EXPECT_EQ(testing::RootSql("SELECT COUNT(*), SUM(k) FROM t", from_), "3000\t4501500\n");
}

}  // namespace
}  // namespace sqlx
