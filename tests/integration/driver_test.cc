// The C++ driver (cli/include/sqlx/driver.h) against the test MariaDB: what
// the CLI does not reach (capabilities, listing, batch learning, close), and
// Apply's report and audit events without the CLI.
#include "sqlx/driver.h"
#include "sqlx/messages/clock.h"
#include "sqlx/messages/ir.h"

#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "mariadb_session.h"
#include "sqlx/planner/online.h"
#include "schema_fixtures.h"
#include "temp_dir.h"

namespace sqlx {
namespace {

std::unique_ptr<Driver> MustCreate(const std::string& db = "") {
  auto driver = CreateDriver(testing::NativeUrl(db));
  EXPECT_TRUE(driver.ok()) << driver.error().ToString();
  return driver.ok() ? std::move(driver).value() : nullptr;
}

TEST(DriverTest, AUrlThatDoesNotParseIsAnInvalidArgument) {
  auto driver = CreateDriver("mysql://@127.0.0.1:1?ssl-mod=required");
  ASSERT_FALSE(driver.ok());
  EXPECT_EQ(driver.error().code, ErrorCode::kInvalidArgument) << driver.error().ToString();
}

TEST(DriverTest, AnUnknownDatabaseInTheUrlFailsTheCreate) {
  auto driver = CreateDriver(testing::NativeUrl("sqlx_no_such_db"));
  ASSERT_FALSE(driver.ok());
  EXPECT_NE(driver.error().message.find("sqlx_no_such_db"), std::string::npos) << driver.error().ToString();
}

TEST(DriverTest, ListsAndLearnsDatabasesInOneBatchWithPerNameErrors) {
  std::unique_ptr<Driver> driver = MustCreate();
  ASSERT_NE(driver, nullptr);
  auto names = driver->ListDatabases(/*include_system=*/false);
  ASSERT_TRUE(names.ok()) << names.error().ToString();
  EXPECT_NE(std::find(names->begin(), names->end(), "sqlx_test"), names->end());
  auto learned = driver->Learn({"sqlx_test", "sqlx_no_such_db"});
  ASSERT_TRUE(learned.ok()) << learned.error().ToString();
  ASSERT_EQ(learned->size(), 2u);
  EXPECT_FALSE((*learned)[0].error.has_value());
  EXPECT_EQ((*learned)[0].profile_hash, ir::ProfileHash((*learned)[0].schema));
  ASSERT_TRUE((*learned)[1].error.has_value());
  EXPECT_EQ((*learned)[1].error->code, ErrorCode::kNotFound);
  auto missing = driver->Snapshot("sqlx_no_such_db");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST(DriverTest, CapabilitiesAreLearnedOnceAndDriveTheDiffsStrategies) {
  std::unique_ptr<Driver> driver = MustCreate();
  ASSERT_NE(driver, nullptr);
  auto caps = driver->Capabilities();
  ASSERT_TRUE(caps.ok()) << caps.error().ToString();
  EXPECT_EQ(caps->flavor, "MariaDB");
  EXPECT_EQ(caps->fingerprint.size(), 64u);
  EXPECT_NE(caps->ToCapabilityJson().find("\"capabilities\""), std::string::npos);
  auto again = driver->Capabilities();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->ToCapabilityJson(), caps->ToCapabilityJson());

  auto snapshot = driver->Snapshot("sqlx_test");
  ASSERT_TRUE(snapshot.ok()) << snapshot.error().ToString();
  auto plan = driver->Diff(snapshot->schema, snapshot->schema);
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  EXPECT_TRUE(plan->operations.empty());
  EXPECT_NE(plan->strategy_basis.find(driver->url().ConnectionName()), std::string::npos) << plan->strategy_basis;
}

// Whether "SELECT 1; SELECT 2" runs on `driver` and returns both results.
bool RunsTwoStatements(Driver& driver) {
  auto stream = driver.Query("SELECT 1; SELECT 2");
  if (!stream.ok()) return false;
  int results = 0;
  for (;;) {
    auto more = (*stream)->NextResult();
    if (!more.ok()) return false;
    if (!*more) break;
    ++results;
  }
  return results == 2;
}

TEST(DriverTest, QueryStreamsRowsInBatchesAndRefusesSeveralStatementsWithoutMultiStatements) {
  DriverOptions options;
  options.multi_statements = false;
  auto driver = CreateDriver(testing::NativeUrl(), options);
  ASSERT_TRUE(driver.ok()) << driver.error().ToString();
  auto stream = (*driver)->Query("SELECT seq FROM seq_1_to_100000");
  ASSERT_TRUE(stream.ok()) << stream.error().ToString();
  auto more = (*stream)->NextResult();
  ASSERT_TRUE(more.ok() && *more);
  uint64_t rows = 0, batches = 0, last = 0;
  for (;;) {
    auto batch = (*stream)->NextBatch();
    ASSERT_TRUE(batch.ok()) << batch.error().ToString();
    if (*batch == nullptr) break;
    ++batches;
    rows += (*batch)->rows();
    last = std::stoull(std::string((*batch)->value((*batch)->rows() - 1, 0)));
  }
  EXPECT_EQ(rows, 100000u);
  EXPECT_EQ(last, 100000u);
  EXPECT_GT(batches, 1u) << "the rows arrive in batches, not as one result";
  stream->reset();

  EXPECT_FALSE(RunsTwoStatements(**driver)) << "two statements ran on a driver without multi_statements";
  std::unique_ptr<Driver> learning = MustCreate();  // multi_statements by default
  ASSERT_NE(learning, nullptr);
  EXPECT_TRUE(RunsTwoStatements(*learning));
}

TEST(DriverTest, EveryCallAfterCloseFailsSayingSo) {
  std::unique_ptr<Driver> driver = MustCreate();
  ASSERT_NE(driver, nullptr);
  ASSERT_TRUE(driver->Ping().ok());
  driver->Close();
  driver->Close();  // idempotent
  auto ping = driver->Ping();
  ASSERT_FALSE(ping.ok());
  EXPECT_EQ(ping.error().code, ErrorCode::kClosed);
  EXPECT_NE(ping.error().message.find("CreateDriver"), std::string::npos) << ping.error().message;
  EXPECT_FALSE(driver->Snapshot("sqlx_test").ok());
  EXPECT_FALSE(driver->ListDatabases(false).ok());
  EXPECT_FALSE(driver->Query("SELECT 1").ok());
}

// A store with its audit log in a temporary directory.
class TestStore {
 public:
  TestStore() : dir_("sqlx-driver-store.") {
    auto store = storage::Store::Open({dir_.path()});
    EXPECT_TRUE(store.ok()) << store.error().ToString();
    if (!store.ok()) return;
    store_ = std::move(store).value();
    auto audit = storage::AuditLog::Open(*store_, {});
    EXPECT_TRUE(audit.ok()) << audit.error().ToString();
    if (audit.ok()) audit_ = std::move(audit).value();
  }
  // Options that store snapshots and record audit events here.
  ApplyOptions Options(const std::string& database) {
    ApplyOptions options;
    options.database = database;
    options.store = store_.get();
    options.audit = audit_.get();
    return options;
  }
  // Events of `action` on `database`, oldest first.
  std::vector<storage::AuditEvent> Events(const std::string& action, const std::string& database) {
    storage::AuditQuery query;
    query.action = action;
    query.database = database;
    auto result = audit_->Query(query);
    EXPECT_TRUE(result.ok()) << result.error().ToString();
    return result.ok() ? result->events : std::vector<storage::AuditEvent>{};
  }
  const std::string& dir() const { return dir_.path(); }

 private:
  testing::TempDir dir_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<storage::AuditLog> audit_;
};

// Two databases built from SQL as root, a root driver, and the plan from
// the first to the second with strategies for the server.
class DriverApplyTest : public ::testing::Test {
 protected:
  void Build(const std::string& tag, const std::string& from_sql, const std::string& to_sql) {
    from_ = fx_.Create(tag);
    to_ = fx_.Create(tag + "_to");
    testing::RootSql(from_sql, from_);
    testing::RootSql(to_sql, to_);
    auto driver = CreateDriver(testing::Url("root", testing::MariaDbRootPassword(), ""));
    ASSERT_TRUE(driver.ok()) << driver.error().ToString();
    driver_ = std::move(driver).value();
    auto plan = driver_->Diff(Learn(from_).schema, Learn(to_).schema);
    ASSERT_TRUE(plan.ok()) << plan.error().ToString();
    plan_ = std::move(plan).value();
    ASSERT_FALSE(plan_.operations.empty());
  }
  flo::LearnedDatabase Learn(const std::string& db) {
    auto learned = driver_->Snapshot(db);
    EXPECT_TRUE(learned.ok()) << learned.error().ToString();
    return learned.ok() ? std::move(learned).value() : flo::LearnedDatabase{};
  }
  ApplyReport MustApply(const planner::Plan& plan, const ApplyOptions& options) {
    auto report = driver_->Apply(plan, options);
    EXPECT_TRUE(report.ok()) << report.error().ToString();
    return report.ok() ? std::move(report).value() : ApplyReport{};
  }

  testing::FixtureDatabases fx_;
  std::string from_, to_;
  std::unique_ptr<Driver> driver_;
  planner::Plan plan_;
};

TEST_F(DriverApplyTest, AppliesThePlanWithAnAuditEventPerStepAndReportsProgress) {
  ASSERT_NO_FATAL_FAILURE(Build("drv_apply", "CREATE TABLE t (id int PRIMARY KEY, a int); INSERT INTO t VALUES (1, 1), (2, 2);"
                                             "CREATE TABLE u (id int PRIMARY KEY)",
                                "CREATE TABLE t (id int PRIMARY KEY, a int, b int, UNIQUE KEY uk_a (a));"
                                "CREATE TABLE u (id int PRIMARY KEY, note varchar(10))"));
  TestStore store;
  ApplyOptions options = store.Options(from_);
  std::vector<size_t> progress;  // report.applied.size() at each call
  options.on_progress = [&progress](const ApplyReport& so_far) { progress.push_back(so_far.applied.size()); };
  ApplyReport report = MustApply(plan_, options);
  ASSERT_EQ(report.result, ApplyResult::kApplied) << ApplyReportToJson(report);
  EXPECT_FALSE(report.error.has_value());
  EXPECT_EQ(report.live_hash, Learn(to_).profile_hash);
  EXPECT_EQ(Learn(from_).profile_hash, Learn(to_).profile_hash);
  ASSERT_EQ(report.applied.size(), plan_.operations.size());
  for (size_t i = 0; i < plan_.operations.size(); ++i) EXPECT_EQ(report.applied[i].id, plan_.operations[i].id);
  ASSERT_EQ(report.prechecks.size(), 1u) << "the new unique key is checked";
  EXPECT_EQ(report.prechecks[0].count, 0u);
  std::vector<size_t> expected_progress;
  for (size_t i = 0; i <= plan_.operations.size(); ++i) expected_progress.push_back(i);
  EXPECT_EQ(progress, expected_progress) << "once before the first change, then after each operation";

  EXPECT_EQ(store.Events("apply.started", from_).size(), 1u);
  EXPECT_EQ(store.Events("apply.step", from_).size(), plan_.operations.size());
  const std::vector<storage::AuditEvent> finished = store.Events("apply.finished", from_);
  ASSERT_EQ(finished.size(), 1u);
  nlohmann::json details = nlohmann::json::parse(finished[0].details_json, nullptr, false);
  ASSERT_TRUE(details.is_object()) << finished[0].details_json;
  EXPECT_EQ(details.value("result", ""), "applied");
  EXPECT_EQ(details.value("live_hash", ""), report.live_hash);

  // Run again: the database is where the plan ends, and nothing runs.
  report = MustApply(plan_, store.Options(from_));
  EXPECT_EQ(report.result, ApplyResult::kAlreadyApplied);
  EXPECT_TRUE(report.applied.empty());
  EXPECT_EQ(store.Events("apply.step", from_).size(), plan_.operations.size());
}

TEST_F(DriverApplyTest, RefusalsPreChecksDryRunAndDriftChangeNothing) {
  ASSERT_NO_FATAL_FAILURE(Build("drv_refuse",
                                "CREATE TABLE t (id int PRIMARY KEY, code varchar(10), gone int);"
                                "INSERT INTO t VALUES (1, 'x', 1), (2, 'x', 2)",
                                "CREATE TABLE t (id int PRIMARY KEY, code varchar(10), UNIQUE KEY uk_code (code))"));
  TestStore store;
  const std::string start = Learn(from_).profile_hash;

  ApplyReport report = MustApply(plan_, store.Options(from_));
  EXPECT_EQ(report.result, ApplyResult::kRefused);
  ASSERT_EQ(report.refusals.size(), 1u);
  EXPECT_NE(report.refusals[0].find("--allow-destructive"), std::string::npos) << report.refusals[0];
  ASSERT_EQ(report.prechecks.size(), 1u);
  EXPECT_EQ(report.prechecks[0].count, 1u) << "one row repeats another's code";
  EXPECT_TRUE(report.applied.empty());
  EXPECT_EQ(Learn(from_).profile_hash, start);
  EXPECT_EQ(store.Events("apply.failed", from_).size(), 1u);

  ApplyOptions dry = store.Options(from_);
  dry.dry_run = true;
  dry.allow_destructive = true;
  report = MustApply(plan_, dry);
  EXPECT_EQ(report.result, ApplyResult::kWouldRefuse) << "the pre-check still finds the duplicate";
  EXPECT_TRUE(report.refusals.empty());
  testing::RootSql("UPDATE t SET code = 'y' WHERE id = 2", from_);
  report = MustApply(plan_, dry);
  EXPECT_EQ(report.result, ApplyResult::kWouldApply);
  EXPECT_EQ(Learn(from_).profile_hash, start);
  EXPECT_TRUE(store.Events("apply.started", from_).empty()) << "a dry run records nothing";

  // An out-of-band change: drift, explained from the snapshot stored above.
  testing::RootSql("ALTER TABLE t ADD COLUMN oob int", from_);
  report = MustApply(plan_, store.Options(from_));
  EXPECT_EQ(report.result, ApplyResult::kDrift);
  EXPECT_EQ(report.live_hash, Learn(from_).profile_hash);
  ASSERT_TRUE(report.error.has_value());
  EXPECT_NE(report.error->message.find("drift: "), std::string::npos) << report.error->message;
  ASSERT_EQ(report.drift.size(), 1u);
  EXPECT_NE(report.drift[0].find("add column `oob`"), std::string::npos) << report.drift[0];
  nlohmann::json doc = nlohmann::json::parse(ApplyReportToJson(report), nullptr, false);
  ASSERT_TRUE(doc.is_object());
  EXPECT_EQ(doc.value("result", ""), "drift");
  EXPECT_FALSE(doc.contains("prechecks")) << "drift stops before the checks";
}

TEST_F(DriverApplyTest, AFailedOperationStopsAndReturnsTheReversePlanOfTheAppliedOnes) {
  ASSERT_NO_FATAL_FAILURE(Build("drv_fail",
                                "CREATE TABLE a_first (id int PRIMARY KEY); CREATE TABLE b_second (id int PRIMARY KEY, s varchar(20));"
                                "INSERT INTO b_second VALUES (1, 'not a number')",
                                "CREATE TABLE a_first (id int PRIMARY KEY, added int);"
                                "CREATE TABLE b_second (id int PRIMARY KEY, s int)"));
  TestStore store;
  const std::string start = Learn(from_).profile_hash;
  ApplyOptions options = store.Options(from_);
  options.allow_blocking = true;
  options.reverse_plan_file = store.dir() + "/plan.reverse.json";
  ApplyReport report = MustApply(plan_, options);
  ASSERT_EQ(report.result, ApplyResult::kFailed) << ApplyReportToJson(report);
  EXPECT_EQ(report.failed_operation, 2);
  ASSERT_EQ(report.applied.size(), 1u);
  ASSERT_TRUE(report.error.has_value());
  ASSERT_TRUE(report.reverse_plan.has_value());
  EXPECT_EQ(report.reverse_plan->from_hash, Learn(from_).profile_hash);
  EXPECT_EQ(report.reverse_plan->to_hash, start);
  EXPECT_EQ(report.reverse_plan_file, options.reverse_plan_file);
  EXPECT_TRUE(std::filesystem::exists(options.reverse_plan_file));
  const std::vector<storage::AuditEvent> steps = store.Events("apply.step", from_);
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[1].outcome, storage::AuditOutcome::kFailed);

  ApplyOptions back = store.Options(from_);
  back.allow_blocking = true;
  report = MustApply(*report.reverse_plan, back);
  EXPECT_EQ(report.result, ApplyResult::kApplied) << ApplyReportToJson(report);
  EXPECT_EQ(Learn(from_).profile_hash, start);
}

TEST_F(DriverApplyTest, BeforeChangeRefusingStopsTheRunBeforeThatOperation) {
  ASSERT_NO_FATAL_FAILURE(Build("drv_fence", "CREATE TABLE a_first (id int PRIMARY KEY); CREATE TABLE b_second (id int PRIMARY KEY)",
                                "CREATE TABLE a_first (id int PRIMARY KEY, x int); CREATE TABLE b_second (id int PRIMARY KEY, y int)"));
  ASSERT_EQ(plan_.operations.size(), 2u);
  TestStore store;
  ApplyOptions options = store.Options(from_);
  int calls = 0;
  // The first operation may run; before the second the fence says no.
  options.before_change = [&calls]() -> Status {
    if (++calls == 2) return MakeError(ErrorCode::kCancelled, "lease lost: token 1 superseded by token 2");
    return Status::Ok();
  };
  ApplyReport report = MustApply(plan_, options);
  EXPECT_EQ(calls, 2);
  ASSERT_EQ(report.result, ApplyResult::kFailed) << ApplyReportToJson(report);
  ASSERT_EQ(report.applied.size(), 1u);
  EXPECT_EQ(report.failed_operation, plan_.operations[1].id);
  ASSERT_TRUE(report.error.has_value());
  EXPECT_NE(report.error->message.find("lease lost"), std::string::npos) << report.error->message;
  // b_second was not touched: learning it alone shows no y column.
  const flo::LearnedDatabase now = Learn(from_);
  const std::string json = ir::ToCanonicalJson(now.schema, false);
  EXPECT_NE(json.find("\"x\""), std::string::npos);
  EXPECT_EQ(json.find("\"y\""), std::string::npos);
}

// The checkpoints of the online migrations a run stores, the latest of each.
struct Checkpoints {
  std::vector<planner::MigrationState> saved;
  std::function<Status(const planner::MigrationState&)> Keep() {
    return [this](const planner::MigrationState& m) {
      std::erase_if(saved, [&m](const planner::MigrationState& o) { return o.id == m.id; });
      saved.push_back(m);
      return Status::Ok();
    };
  }
};

// A rollout's cut-over job carries its window's end (cutover_before_ns): a
// worker that starts it later swaps nothing, and the run ends "copied" with
// the migration still copied (the next window's job cuts it over).
TEST_F(DriverApplyTest, ACutoverActionStartedAfterTheWindowClosedSwapsNothingAndEndsCopied) {
  ASSERT_NO_FATAL_FAILURE(Build("drv_window",
                                "CREATE TABLE t (id int PRIMARY KEY, k int NOT NULL);"
                                "INSERT INTO t SELECT seq, seq FROM seq_1_to_2000",
                                "CREATE TABLE t (id int PRIMARY KEY, k bigint NOT NULL)"));
  TestStore store;
  Checkpoints kept;
  std::vector<planner::MigrationState>& saved = kept.saved;
  auto keep = kept.Keep();
  ApplyOptions copy = store.Options(from_);
  copy.online.postpone_cutover = true;
  copy.checkpoint = keep;
  ApplyReport report = MustApply(plan_, copy);
  ASSERT_EQ(report.result, ApplyResult::kCopied) << ApplyReportToJson(report);
  ASSERT_EQ(saved.size(), 1u);
  ASSERT_EQ(saved[0].phase, "copied");
  const std::string from_hash = Learn(from_).profile_hash;

  ApplyOptions late = store.Options(from_);
  late.migration_action = "cutover";
  late.migrations = {saved[0].id};
  late.resume = saved;
  late.checkpoint = keep;
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
TEST_F(DriverApplyTest, AbandoningCopiesAlsoUndoesThePlansOtherOperations) {
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
  TestStore store;
  Checkpoints kept;
  std::vector<planner::MigrationState>& saved = kept.saved;
  auto keep = kept.Keep();
  ApplyOptions copy = store.Options(from_);
  copy.online.postpone_cutover = true;
  copy.checkpoint = keep;
  copy.allow_destructive = true;
  ApplyReport report = MustApply(plan_, copy);
  ASSERT_EQ(report.result, ApplyResult::kCopied) << ApplyReportToJson(report);
  ASSERT_EQ(saved.size(), 1u);
  ASSERT_NE(Learn(from_).profile_hash, from_hash) << "u and c were changed by the copy's job";
  // Without its key, c takes a row whose parent does not exist.
  testing::RootSql("INSERT INTO c VALUES (3, 99)", from_);

  ApplyOptions abandon = store.Options(from_);
  abandon.migration_action = "abandon";
  abandon.migrations = {saved[0].id};
  abandon.resume = saved;
  abandon.checkpoint = keep;
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
TEST_F(DriverApplyTest, ARedeliveredCopyOfATableWithItsOwnForeignKeysResumesInsteadOfDrifting) {
  ASSERT_NO_FATAL_FAILURE(Build("drv_fkresume",
                                "CREATE TABLE p (id int PRIMARY KEY); INSERT INTO p SELECT seq FROM seq_1_to_10;"
                                "CREATE TABLE t (id int PRIMARY KEY, pid int NOT NULL, k int NOT NULL, KEY pid (pid),"
                                " CONSTRAINT t_p FOREIGN KEY (pid) REFERENCES p (id));"
                                "INSERT INTO t SELECT seq, 1 + seq MOD 10, seq FROM seq_1_to_3000",
                                "CREATE TABLE p (id int PRIMARY KEY);"
                                "CREATE TABLE t (id int PRIMARY KEY, pid int NOT NULL, k bigint NOT NULL, KEY pid (pid),"
                                " CONSTRAINT t_p FOREIGN KEY (pid) REFERENCES p (id))"));
  TestStore store;
  Checkpoints kept;
  std::vector<planner::MigrationState>& saved = kept.saved;
  auto keep = kept.Keep();
  ApplyOptions first = store.Options(from_);
  first.checkpoint = keep;
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

  ApplyOptions again = store.Options(from_);
  again.checkpoint = keep;
  again.resume = saved;
  report = MustApply(plan_, again);
  EXPECT_EQ(report.result, ApplyResult::kApplied) << ApplyReportToJson(report);
  EXPECT_EQ(saved[0].phase, "cut-over");
  EXPECT_EQ(Learn(from_).profile_hash, Learn(to_).profile_hash);
  EXPECT_EQ(testing::RootSql("SELECT COUNT(*), SUM(k) FROM t", from_), "3000\t4501500\n");
}

TEST(DriverTest, ApplyAfterCloseFailsSayingSo) {
  std::unique_ptr<Driver> driver = MustCreate();
  ASSERT_NE(driver, nullptr);
  driver->Close();
  auto report = driver->Apply(planner::Plan{});
  ASSERT_FALSE(report.ok());
  EXPECT_EQ(report.error().code, ErrorCode::kClosed);
}

}  // namespace
}  // namespace sqlx
