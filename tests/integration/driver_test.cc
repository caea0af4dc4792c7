// The C++ driver (cli/include/sqlx/driver.h) against the test MariaDB: what
// the CLI does not reach (capabilities, listing, batch learning, close).
#include "sqlx/driver.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "mariadb_session.h"

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
}

}  // namespace
}  // namespace sqlx
