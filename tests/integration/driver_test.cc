// The C++ driver (cli/include/sqlx/driver.h) against the test MariaDB: what
// the CLI does not reach (capabilities, listing, batch learning, close), and
// Apply's report and audit events without the CLI (online copies, cut-over
// windows and abandons: driver_online_test.cc).
#include "sqlx/driver.h"
#include "sqlx/messages/ir.h"

#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "driver_fixture.h"
#include "mariadb_session.h"
#include "schema_fixtures.h"

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
