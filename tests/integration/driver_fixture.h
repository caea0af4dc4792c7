// The driver's Apply against the test MariaDB (driver_test.cc,
// driver_online_test.cc): a store with an audit log, and a fixture with two
// databases and the plan between them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mariadb_session.h"
#include "schema_fixtures.h"
#include "sqlx/driver.h"
#include "sqlx/storage/audit_log.h"
#include "sqlx/storage/store.h"
#include "temp_dir.h"

namespace sqlx {

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

}  // namespace sqlx
