// Diff → plan against the real server: for released version pairs of real
// applications (and SQLx OS's features fixture to and from nothing), the
// plan from the old schema's IR to the new one's, run by the stock client on
// a database holding the old schema, must leave a database that learns to
// exactly the new schema's profile hash; and its reverse must take it back.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "schema_fixtures.h"
#include "server_schema.h"
#include "sqlx/planner/plan.h"

namespace sqlx {
namespace {

using testing::FixtureDatabases;

std::string FixturePath(const std::string& file) {
  if (file.rfind("sqlx/", 0) == 0) return testing::SourceDir() + "/tests/fixtures/" + file;
  return testing::FixtureSchemaDir() + "/" + file;
}

ir::Database Learn(const std::string& db) { return testing::LearnAsRoot({db})[0].schema; }

std::string LoadInto(FixtureDatabases& fx, const std::string& tag, const std::string& file) {
  const std::string db = fx.Create(tag);
  if (file.empty()) return db;
  testing::RunResult r =
      testing::RootClient({db, "--init-command=SET FOREIGN_KEY_CHECKS=0", "-e", "source " + FixturePath(file)});
  EXPECT_EQ(r.exit_code, 0) << "loading " << file << ":\n" << r.err;
  return db;
}

// Runs `script` on `db` with the stock client; "" on success, else the error.
std::string RunScript(const std::string& db, const std::string& script) {
  const std::string error = testing::RunClientScript(db, script);
  return error.empty() ? "" : error + "\n--- script:\n" + script;
}

struct Pair {
  const char* from;  // "" = an empty database
  const char* to;
};
void PrintTo(const Pair& p, std::ostream* os) { *os << (*p.from ? p.from : "(empty)") << " -> " << (*p.to ? p.to : "(empty)"); }

class PlanDiffTest : public ::testing::TestWithParam<Pair> {};

TEST_P(PlanDiffTest, ThePlanTakesTheOldSchemaToTheNewHashAndItsReverseBack) {
  FixtureDatabases fx;
  const std::string live = LoadInto(fx, "plan_live", GetParam().from);
  const std::string desired = LoadInto(fx, "plan_desired", GetParam().to);
  const ir::Database from = Learn(live);
  const ir::Database to = Learn(desired);
  ASSERT_FALSE(from.collation.empty());
  ASSERT_FALSE(to.collation.empty());

  auto plan = planner::Diff(from, to);
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  EXPECT_EQ(plan->from_hash, ir::ProfileHash(from));
  EXPECT_EQ(plan->to_hash, ir::ProfileHash(to));
  ASSERT_FALSE(plan->operations.empty()) << "the fixtures differ";
  for (const planner::Operation& op : plan->operations) EXPECT_FALSE(op.changes.empty()) << op.kind << " " << op.object;

  // plan.json round-trips.
  auto reread = planner::PlanFromJson(planner::PlanToJson(*plan));
  ASSERT_TRUE(reread.ok()) << reread.error().ToString();
  EXPECT_EQ(planner::PlanToJson(*reread), planner::PlanToJson(*plan));

  const std::string error = RunScript(live, planner::PlanScript(*plan));
  ASSERT_EQ(error, "") << error;
  const ir::Database after = Learn(live);
  EXPECT_EQ(ir::ProfileHash(after), plan->to_hash) << "the plan did not reach the desired schema";
  auto rest = planner::Diff(after, to);
  ASSERT_TRUE(rest.ok());
  for (const planner::Operation& op : rest->operations)
    ADD_FAILURE() << "left after the plan: " << op.kind << " " << op.object << ": " << op.sql;

  // The reverse operations take it back to the starting schema.
  const std::string back_error = RunScript(live, planner::PlanScript(planner::ReversePlan(*plan)));
  ASSERT_EQ(back_error, "") << back_error;
  const ir::Database restored = Learn(live);
  EXPECT_EQ(ir::ProfileHash(restored), plan->from_hash) << "the reverse did not restore the starting schema";
  auto left = planner::Diff(restored, from);
  ASSERT_TRUE(left.ok());
  for (const planner::Operation& op : left->operations)
    ADD_FAILURE() << "left after the reverse: " << op.kind << " " << op.object << ": " << op.sql;
}

INSTANTIATE_TEST_SUITE_P(
    VersionPairs, PlanDiffTest,
    ::testing::Values(Pair{"sakila/v1.3.sql", "sakila/v1.5.sql"}, Pair{"sakila/v1.5.sql", "sakila/v1.3.sql"},
                      Pair{"opencart/v1.5.6.4.sql", "opencart/v2.3.0.2.sql"},
                      Pair{"opencart/v2.3.0.2.sql", "opencart/v3.0.5.0.sql"},
                      Pair{"phpbb/v3.0.0.sql", "phpbb/v3.0.14.sql"}, Pair{"mediawiki/v1.29.1.sql", "mediawiki/v1.30.0.sql"},
                      Pair{"nacos/v1.4.0.sql", "nacos/v2.3.0.sql"}, Pair{"nacos/v2.3.0.sql", "nacos/v3.0.0.sql"},
                      Pair{"roundcube/v1.4.0.sql", "roundcube/v1.6.0.sql"},
                      Pair{"spring-batch/v4.3.10.sql", "spring-batch/v5.0.0.sql"},
                      Pair{"zabbix/v5.0.5.sql", "zabbix/v6.0.5.sql"}, Pair{"", "sqlx/features.sql"},
                      Pair{"sqlx/features.sql", ""}),
    [](const ::testing::TestParamInfo<Pair>& param_info) {
      const Pair& p = param_info.param;
      std::string name = std::string(*p.from ? p.from : "empty") + "_to_" + (*p.to ? p.to : "empty");
      for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      return name;
    });

}  // namespace
}  // namespace sqlx
