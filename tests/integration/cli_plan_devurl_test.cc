// `sqlx plan:diff` with a .sql side on --dev-url against the real MariaDB:
// the plan reaches the hash of a database loaded from the same file by the
// stock client; the scratch database inherits the other side's defaults; it
// is gone afterwards — after success, a rejected statement (whose line the
// error names), and SIGTERM; without --dev-url the command is a usage error.
#include <gtest/gtest.h>

#include <signal.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "mariadb_session.h"
#include "schema_fixtures.h"
#include "sqlx/flo/learn_database.h"
#include "sqlx_cli.h"
#include "subprocess.h"
#include "temp_dir.h"
#include "test_env.h"

namespace sqlx {
namespace {

using testing::DescribeRun;
using testing::RunResult;

std::string RootUrl(const std::string& db = "") {
  return "mysql://root@127.0.0.1:" + testing::MariaDbPort() + (db.empty() ? "" : "/" + db);
}

testing::Env RootEnv() {
  testing::Env env = testing::SqlxBaseEnv();
  env["SQLX_PASSWORD"] = testing::MariaDbRootPassword();
  return env;
}

RunResult Sqlx(const std::vector<std::string>& args) {
  RunResult r = testing::RunSqlx(args, RootEnv());
  EXPECT_EQ(r.out.find(testing::MariaDbRootPassword()), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find(testing::MariaDbRootPassword()), std::string::npos) << r.err;
  return r;
}

std::string LearnedHash(const std::string& db) {
  transports::SessionOptions options;
  options.on_greeting = flo::LearnSessionGreeting();
  auto session = testing::MustOpen(testing::Url("root", testing::MariaDbRootPassword(), ""), options);
  if (session == nullptr) return {};
  auto learned = flo::LearnDatabases(*session, {db});
  EXPECT_TRUE(learned.ok()) << learned.error().ToString();
  if (!learned.ok() || learned->front().error) return {};
  return learned->front().profile_hash;
}

// Scratch databases on the server now.
std::set<std::string> ScratchDatabases() {
  std::set<std::string> names;
  std::istringstream out(
      testing::RootSql("SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'sqlx\\_scratch\\_%'"));
  for (std::string line; std::getline(out, line);)
    if (!line.empty()) names.insert(line);
  return names;
}

std::string Fixture(const std::string& file) { return testing::FixtureSchemaDir() + "/" + file; }

class CliPlanDevUrlTest : public ::testing::Test {
 protected:
  void SetUp() override { before_ = ScratchDatabases(); }
  // Every scratch database this test's sqlx runs created is gone.
  void ExpectNoScratchLeft() {
    for (const std::string& db : ScratchDatabases())
      EXPECT_TRUE(before_.count(db) > 0) << "scratch database left behind: " << db;
  }
  std::string WriteSql(const std::string& name, const std::string& text) {
    const std::string path = dir_.path() + "/" + name;
    std::ofstream(path) << text;
    return path;
  }

  testing::FixtureDatabases fx_;
  testing::TempDir dir_{"sqlx-devurl."};
  std::set<std::string> before_;
};

TEST_F(CliPlanDevUrlTest, PlanToASqlFileReachesTheHashOfThatFileLoaded) {
  const std::string live = fx_.Load("devurl_live", "roundcube/v1.4.0.sql");
  const std::string loaded = fx_.Load("devurl_loaded", "roundcube/v1.6.0.sql");
  RunResult r = Sqlx({"--format", "json", "plan:diff", "--from", RootUrl(live), "--to",
                      Fixture("roundcube/v1.6.0.sql"), "--dev-url", RootUrl()});
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  nlohmann::json plan = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(plan.is_object()) << r.out;
  EXPECT_EQ(plan.value("to_hash", ""), LearnedHash(loaded));
  EXPECT_EQ(plan.value("from_hash", ""), LearnedHash(live));
  EXPECT_EQ(plan.value("database", ""), live);
  EXPECT_FALSE(plan["operations"].empty());
  ExpectNoScratchLeft();

  // The other way round: from the file to the live database that holds it, nothing to do.
  r = Sqlx({"--format", "json", "plan:diff", "--from", Fixture("roundcube/v1.6.0.sql"), "--to", RootUrl(loaded),
            "--dev-url", RootUrl()});
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  plan = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_TRUE(plan["operations"].empty()) << r.out;
  ExpectNoScratchLeft();
}

TEST_F(CliPlanDevUrlTest, TheScratchDatabaseTakesTheTargetsCharsetAndCollation) {
  const std::string live = fx_.Create("devurl_latin1");
  testing::RootSql("ALTER DATABASE `" + live + "` CHARACTER SET latin1 COLLATE latin1_swedish_ci");
  const std::string sql = WriteSql("one.sql", "CREATE TABLE t (\n  a varchar(10)\n);\n");
  RunResult r = Sqlx({"--format", "json", "plan:diff", "--from", RootUrl(live), "--to", sql, "--dev-url", RootUrl()});
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  nlohmann::json plan = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_EQ(plan["operations"].size(), 1u) << r.out;  // no ALTER DATABASE: the defaults are the target's
  EXPECT_EQ(plan["operations"][0].value("kind", ""), "create_table");
  ExpectNoScratchLeft();
}

TEST_F(CliPlanDevUrlTest, TheScriptsSessionSettingsDoNotReachTheLearn) {
  const std::string live = fx_.Create("devurl_mode");
  const std::string sql = WriteSql("mode.sql",
                                   "SET SESSION sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES', NAMES latin1;\n"
                                   "CREATE TABLE \"t\" (\"a\" int);\n");
  RunResult r = Sqlx({"--format", "json", "plan:diff", "--from", RootUrl(live), "--to", sql, "--dev-url", RootUrl()});
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  nlohmann::json plan = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_EQ(plan["operations"].size(), 1u) << r.out;
  EXPECT_EQ(plan["operations"][0].value("object", ""), "t");
  ExpectNoScratchLeft();
}

TEST_F(CliPlanDevUrlTest, ARejectedStatementNamesItsLineAndTheScratchIsDropped) {
  const std::string live = fx_.Create("devurl_bad");
  const std::string sql =
      WriteSql("bad.sql", "-- two good statements, then a bad one\nCREATE TABLE a (x int);\nCREATE TABLE b (x int);\n\n"
                          "CREATE TABLE c (x int;\n");
  RunResult r = Sqlx({"plan:diff", "--from", RootUrl(live), "--to", sql, "--dev-url", RootUrl()});
  EXPECT_EQ(r.exit_code, 1) << DescribeRun(r);
  EXPECT_NE(r.err.find(sql + ":5:"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("1064"), std::string::npos) << r.err;
  ExpectNoScratchLeft();
}

TEST_F(CliPlanDevUrlTest, AClientCommandIsRefusedBeforeAnythingIsCreated) {
  const std::string live = fx_.Create("devurl_use");
  const std::string sql = WriteSql("use.sql", "CREATE TABLE a (x int);\nUSE mysql;\nDROP TABLE user;\n");
  RunResult r = Sqlx({"plan:diff", "--from", RootUrl(live), "--to", sql, "--dev-url", RootUrl()});
  EXPECT_EQ(r.exit_code, 1) << DescribeRun(r);
  EXPECT_NE(r.err.find(sql + ":2:"), std::string::npos) << r.err;
  ExpectNoScratchLeft();
}

TEST_F(CliPlanDevUrlTest, WithoutDevUrlASqlSideIsAUsageError) {
  RunResult r = Sqlx({"plan:diff", "--from", RootUrl("sqlx_test"), "--to", Fixture("roundcube/v1.6.0.sql")});
  EXPECT_EQ(r.exit_code, 2) << DescribeRun(r);
  EXPECT_NE(r.err.find("--dev-url"), std::string::npos) << r.err;
}

TEST_F(CliPlanDevUrlTest, SigtermDropsTheScratchDatabase) {
  const std::string live = fx_.Create("devurl_term");
  const std::string sql = WriteSql("slow.sql", "CREATE TABLE a (x int);\nDO SLEEP(20);\n");
  std::vector<std::string> argv = {testing::SqlxBinary(), "plan:diff", "--from", RootUrl(live), "--to", sql,
                                   "--dev-url", RootUrl()};
  testing::Subprocess child(argv, RootEnv());
  // Wait for its scratch database to appear.
  bool seen = false;
  for (int i = 0; i < 100 && !seen; ++i) {
    for (const std::string& db : ScratchDatabases())
      if (before_.count(db) == 0 && db.find("_" + std::to_string(child.pid()) + "_") != std::string::npos) seen = true;
    if (!seen) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(seen) << "no scratch database appeared";
  ::kill(child.pid(), SIGTERM);
  RunResult r = child.Wait(testing::DeadlineIn(std::chrono::seconds(15)));
  EXPECT_EQ(r.exit_code, 128 + SIGTERM) << DescribeRun(r);
  EXPECT_NE(r.err.find("dropping the scratch database"), std::string::npos) << r.err;
  ExpectNoScratchLeft();
}

}  // namespace
}  // namespace sqlx
