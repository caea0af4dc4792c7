// A second opinion on the diff: Spring Batch and Roundcube ship their own
// upgrade scripts (tests/fixtures/schemas/*/upgrade-*.sql, SOURCES.md). The
// old release with the official upgrade applied is compared with the old
// release with our plan applied and with a fresh install of the new release:
// our plan must reach the new release exactly; the official upgrade must
// differ from it in exactly the listed ways, each explained in
// docs/formats/plan.md ("A second opinion").
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "schema_fixtures.h"
#include "server_schema.h"
#include "sqlx/planner/plan.h"

namespace sqlx {
namespace {

struct Upgrade {
  const char* name;
  const char* old_release;
  const char* new_release;
  const char* script;
  // Where the official upgrade's result differs from a fresh new release:
  // the change lines of Diff(official result, new release), in plan order.
  std::vector<std::string> differences;
};
void PrintTo(const Upgrade& u, std::ostream* os) { *os << u.name; }

std::string Path(const std::string& file) { return testing::FixtureSchemaDir() + "/" + file; }

class UpgradeScriptTest : public ::testing::TestWithParam<Upgrade> {};

TEST_P(UpgradeScriptTest, OurPlanReachesTheNewReleaseAndTheOfficialScriptDiffersOnlyAsExplained) {
  const Upgrade& u = GetParam();
  testing::FixtureDatabases fx;
  const std::string official = fx.Load("upg_official", u.old_release);
  const std::string ours = fx.Load("upg_ours", u.old_release);
  const std::string fresh = fx.Load("upg_fresh", u.new_release);
  testing::RunResult upgrade =
      testing::RootClient({official, "--abort-source-on-error", "-e", "source " + Path(u.script)});
  ASSERT_EQ(upgrade.exit_code, 0) << u.script << ":\n" << upgrade.err;

  const std::vector<flo::LearnedDatabase> learned = testing::LearnAsRoot({ours, fresh, official});
  auto plan = planner::Diff(learned[0].schema, learned[1].schema);
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  const std::string script = planner::PlanScript(*plan);
  ASSERT_EQ(testing::RunClientScript(ours, script), "") << script;
  const flo::LearnedDatabase after = testing::LearnAsRoot({ours})[0];
  EXPECT_EQ(after.profile_hash, learned[1].profile_hash) << "our plan did not reach " << u.new_release;
  EXPECT_EQ(testing::ShowCreateAll(ours), testing::ShowCreateAll(fresh));

  auto rest = planner::Diff(learned[2].schema, learned[1].schema);
  ASSERT_TRUE(rest.ok()) << rest.error().ToString();
  std::vector<std::string> differences;
  for (const planner::Operation& op : rest->operations)
    for (const std::string& change : op.changes) differences.push_back(op.object + ": " + change);
  EXPECT_EQ(differences, u.differences) << "the official upgrade's result now differs from " << u.new_release
                                        << " otherwise: update the list and docs/formats/plan.md";
}

INSTANTIATE_TEST_SUITE_P(
    Official, UpgradeScriptTest,
    ::testing::Values(
        Upgrade{"spring_batch",
                "spring-batch/v4.3.10.sql",
                "spring-batch/v5.0.0.sql",
                "spring-batch/upgrade-v4.3.10-to-v5.0.0.sql",
                {"BATCH_JOB_EXECUTION: drop column `JOB_CONFIGURATION_LOCATION`",
                 "BATCH_JOB_EXECUTION_PARAMS: modify column `PARAMETER_NAME`: NOT NULL, default NULL -> none, moved "
                 "AFTER `JOB_EXECUTION_ID`",
                 "BATCH_JOB_EXECUTION_PARAMS: modify column `PARAMETER_TYPE`: NOT NULL, default NULL -> none",
                 "BATCH_STEP_EXECUTION: modify column `CREATE_TIME`: default '1970-01-01 00:00:00.000000' -> none, "
                 "moved AFTER `JOB_EXECUTION_ID`"}},
        Upgrade{"roundcube",
                "roundcube/v1.4.0.sql",
                "roundcube/v1.6.0.sql",
                "roundcube/upgrade-v1.4.0-to-v1.6.0.sql",
                {"contacts: modify column `email`: mediumtext -> text", "contacts: modify column `words`: mediumtext -> text",
                 "searches: modify column `data`: mediumtext -> text",
                 "session: modify column `vars`: longtext -> mediumtext",
                 "system: modify column `value`: longtext -> mediumtext"}}),
    [](const ::testing::TestParamInfo<Upgrade>& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace sqlx
