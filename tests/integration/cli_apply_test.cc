// `sqlx apply` against the real MariaDB: a real upgrade (roundcube 1.4.0 →
// 1.6.0, table copies with --allow-blocking) reaches the plan's hash with an audit event per step; drift is
// refused with exit 3 and the out-of-band change shown; destructive and
// blocking operations are refused without their flags and nothing changes;
// a new UNIQUE over duplicates stops before any change with the count;
// --dry-run changes nothing; a failing operation mid-plan leaves a reverse
// plan that restores the starting hash.
#include <gtest/gtest.h>

#include <cctype>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "schema_fixtures.h"
#include "sqlx_cli.h"
#include "subprocess.h"
#include "temp_dir.h"
#include "test_env.h"

namespace sqlx {
namespace {

using testing::DescribeRun;
using testing::FixtureDatabases;
using testing::RootSql;
using testing::RunResult;
using testing::TempDir;

std::string RootUrl(const std::string& db = "") {
  return "mysql://root@127.0.0.1:" + testing::MariaDbPort() + (db.empty() ? "" : "/" + db);
}

RunResult Sqlx(const std::vector<std::string>& args) {
  testing::Env env = testing::SqlxBaseEnv();
  env["SQLX_PASSWORD"] = testing::MariaDbRootPassword();
  RunResult r = testing::RunSqlx(args, env);
  EXPECT_EQ(r.out.find(testing::MariaDbRootPassword()), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find(testing::MariaDbRootPassword()), std::string::npos) << r.err;
  return r;
}

// The live profile hash of `db` ("" and a failure when it cannot be learned).
std::string Hash(const std::string& db) {
  RunResult r = Sqlx({"--format", "json", "snapshot", RootUrl(db)});
  EXPECT_EQ(r.exit_code, 0) << DescribeRun(r);
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  return j.is_object() ? j.value("profile_hash", "") : "";
}

// A store, a plan file and two databases: `from` (to be changed) and `to`
// (the desired schema), each built from SQL.
class ApplyFixture {
 public:
  ApplyFixture(const std::string& tag, const std::string& from_sql, const std::string& to_sql)
      : store_("sqlx-apply-store."), from_(fx_.Create(tag)), to_(fx_.Create(tag + "_to")) {
    if (!from_sql.empty()) RootSql(from_sql, from_);
    if (!to_sql.empty()) RootSql(to_sql, to_);
  }

  // plan:diff live from → live to, written to plan.json.
  RunResult Plan() { return Sqlx({"--store", store_.path(), "plan:diff", "--from", RootUrl(from_), "--to", RootUrl(to_), "-o", plan()}); }
  RunResult Apply(std::vector<std::string> flags, const std::string& plan_file = "") {
    std::vector<std::string> args = {"--store", store_.path(), "apply", RootUrl(from_), "--plan",
                                     plan_file.empty() ? plan() : plan_file};
    args.insert(args.end(), flags.begin(), flags.end());
    return Sqlx(args);
  }
  std::string plan() const { return store_.path() + "/plan.json"; }
  const std::string& from() const { return from_; }
  const std::string& to() const { return to_; }
  const std::string& store() const { return store_.path(); }

 private:
  FixtureDatabases fx_;
  TempDir store_;
  std::string from_, to_;
};

TEST(CliApplyTest, RoundcubeUpgradeReachesThePlansHashWithAnAuditEventPerStep) {
  FixtureDatabases fx;
  TempDir store("sqlx-apply-store.");
  const std::string from = fx.Load("rc_from", "roundcube/v1.4.0.sql");
  const std::string to = fx.Load("rc_to", "roundcube/v1.6.0.sql");
  const std::string plan = store.path() + "/plan.json";
  RunResult r = Sqlx({"--store", store.path(), "plan:diff", "--from", RootUrl(from), "--to", RootUrl(to), "-o", plan});
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  EXPECT_NE(r.out.find("strategies for: learned: MariaDB"), std::string::npos) << r.out;
  const std::string start = Hash(from);

  // 1.4.0 → 1.6.0 drops nothing, but converts columns utf8mb3 → utf8mb4:
  // table copies, which run as online migrations (foreign keys included),
  // without any consent flag.
  EXPECT_NE(r.out.find("character set utf8mb3 -> utf8mb4: the table is copied"), std::string::npos) << r.out;
  r = Sqlx({"--store", store.path(), "apply", RootUrl(from), "--plan", plan});
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  EXPECT_NE(r.out.find("runs as an online copy"), std::string::npos) << r.out;
  EXPECT_NE(Hash(from), start);
  EXPECT_NE(r.out.find("done: "), std::string::npos) << r.out;
  EXPECT_EQ(Hash(from), Hash(to));

  nlohmann::json plan_doc = nlohmann::json::parse(std::ifstream(plan), nullptr, false);
  ASSERT_TRUE(plan_doc.is_object());
  const size_t ops = plan_doc["operations"].size();
  r = Sqlx({"--store", store.path(), "--format", "json", "audit", "query", "--action", "apply.step", "--db", from});
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  nlohmann::json events = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(events.is_discarded()) << r.out;
  const nlohmann::json& list = events.is_array() ? events : events.value("events", nlohmann::json::array());
  EXPECT_EQ(list.size(), ops) << r.out;
  r = Sqlx({"--store", store.path(), "--format", "json", "audit", "query", "--action", "apply.finished"});
  EXPECT_NE(r.out.find(from), std::string::npos) << r.out;
}

// Every released version pair of the fixtures (and the features fixture to
// and from nothing), through plan:diff and apply with both flags: the server
// accepts every ALGORITHM= clause the strategies wrote, and the result
// learns to the desired hash (apply checks it; so does the test).
struct Pair {
  const char* from;  // "" = an empty database
  const char* to;
};

class CliApplyPairTest : public ::testing::TestWithParam<Pair> {};

TEST_P(CliApplyPairTest, ThePlanAppliesWithItsStrategiesAndReachesTheDesiredHash) {
  auto load = [](FixtureDatabases& fx, const std::string& tag, const std::string& file) {
    if (file.empty()) return fx.Create(tag);
    if (file.rfind("sqlx/", 0) != 0) return fx.Load(tag, file);
    const std::string db = fx.Create(tag);
    RunResult r = testing::RootClient({db, "-e", "source " + testing::SourceDir() + "/tests/fixtures/" + file});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    return db;
  };
  FixtureDatabases fx;
  TempDir store("sqlx-apply-store.");
  const std::string from = load(fx, "pair_from", GetParam().from), to = load(fx, "pair_to", GetParam().to);
  const std::string plan = store.path() + "/plan.json";
  RunResult r = Sqlx({"--store", store.path(), "plan:diff", "--from", RootUrl(from), "--to", RootUrl(to), "-o", plan});
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  r = Sqlx({"--store", store.path(), "apply", RootUrl(from), "--plan", plan, "--allow-destructive", "--allow-blocking"});
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  EXPECT_EQ(Hash(from), Hash(to));
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, CliApplyPairTest,
    ::testing::Values(Pair{"sakila/v1.3.sql", "sakila/v1.5.sql"}, Pair{"opencart/v1.5.6.4.sql", "opencart/v2.3.0.2.sql"},
                      Pair{"opencart/v2.3.0.2.sql", "opencart/v3.0.5.0.sql"}, Pair{"phpbb/v3.0.0.sql", "phpbb/v3.0.14.sql"},
                      Pair{"mediawiki/v1.29.1.sql", "mediawiki/v1.30.0.sql"}, Pair{"nacos/v1.4.0.sql", "nacos/v2.3.0.sql"},
                      Pair{"nacos/v2.3.0.sql", "nacos/v3.0.0.sql"},
                      Pair{"spring-batch/v4.3.10.sql", "spring-batch/v5.0.0.sql"},
                      Pair{"zabbix/v5.0.5.sql", "zabbix/v6.0.5.sql"}, Pair{"", "sqlx/features.sql"},
                      Pair{"sqlx/features.sql", ""}),
    [](const ::testing::TestParamInfo<Pair>& param) {
      std::string name = std::string(*param.param.from ? param.param.from : "empty") + "_to_" +
                         (*param.param.to ? param.param.to : "empty");
      for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      return name;
    });

TEST(CliApplyTest, DriftIsRefusedWithExit3AndTheOutOfBandChangeShown) {
  ApplyFixture f("drift", "CREATE TABLE t (id int PRIMARY KEY, a int)", "CREATE TABLE t (id int PRIMARY KEY, a int, b int)");
  RunResult r = Sqlx({"--store", f.store(), "learn", RootUrl(f.from())});  // the store keeps the starting schema
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  ASSERT_EQ(f.Plan().exit_code, 0);
  RootSql("ALTER TABLE t ADD COLUMN oob int", f.from());
  const std::string drifted = Hash(f.from());
  r = f.Apply({});
  EXPECT_EQ(r.exit_code, 3) << DescribeRun(r);
  EXPECT_NE(r.err.find("drift: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("add column `oob`"), std::string::npos) << r.err;
  EXPECT_EQ(Hash(f.from()), drifted);
}

TEST(CliApplyTest, DestructiveIsRefusedWithoutTheFlagAndNothingChanges) {
  ApplyFixture f("destr", "CREATE TABLE t (id int PRIMARY KEY, a int, gone int); INSERT INTO t VALUES (1, 1, 1)",
                 "CREATE TABLE t (id int PRIMARY KEY, a int, added int)");
  ASSERT_EQ(f.Plan().exit_code, 0);
  const std::string start = Hash(f.from());
  RunResult r = f.Apply({});
  EXPECT_EQ(r.exit_code, 1) << DescribeRun(r);
  EXPECT_NE(r.err.find("destructive (column `gone` dropped"), std::string::npos) << r.err;
  EXPECT_EQ(Hash(f.from()), start);
  r = f.Apply({"--allow-destructive"});
  EXPECT_EQ(r.exit_code, 0) << DescribeRun(r);
  EXPECT_NE(r.out.find("[instant]"), std::string::npos) << r.out;
  EXPECT_EQ(Hash(f.from()), Hash(f.to()));
}

TEST(CliApplyTest, DestructiveChangesOfAnEmptyTableNeedNoFlag) {
  ApplyFixture f("destr_empty", "CREATE TABLE t (id int PRIMARY KEY, a int, gone int)",
                 "CREATE TABLE t (id int PRIMARY KEY, a int, added int)");
  ASSERT_EQ(f.Plan().exit_code, 0);
  RunResult r = f.Apply({});
  EXPECT_EQ(r.exit_code, 0) << DescribeRun(r);
  EXPECT_NE(r.out.find("table `t` is empty: its destructive changes lose no data"), std::string::npos) << r.out;
  EXPECT_EQ(Hash(f.from()), Hash(f.to()));
}

TEST(CliApplyTest, ANewUniqueKeyOverDuplicatesStopsBeforeAnyChangeWithTheCount) {
  ApplyFixture f("uniq",
                 "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE u (id int PRIMARY KEY, email varchar(50));"
                 "INSERT INTO u VALUES (1, 'x'), (2, 'x'), (3, 'x'), (4, 'y'), (5, NULL), (6, NULL)",
                 "CREATE TABLE a (id int PRIMARY KEY, note int);"
                 "CREATE TABLE u (id int PRIMARY KEY, email varchar(50), UNIQUE KEY uk_email (email))");
  ASSERT_EQ(f.Plan().exit_code, 0);
  const std::string start = Hash(f.from());
  RunResult r = f.Apply({});
  EXPECT_EQ(r.exit_code, 1) << DescribeRun(r);
  EXPECT_NE(r.out.find("FAIL 2 rows of `u` repeating another row's (`email`) under new unique key `uk_email`"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.err.find("nothing was changed"), std::string::npos) << r.err;
  EXPECT_EQ(Hash(f.from()), start) << "the first operation (table a) must not have run";
  RootSql("DELETE FROM u WHERE id IN (2, 3)", f.from());
  r = f.Apply({});
  EXPECT_EQ(r.exit_code, 0) << DescribeRun(r);
}

// Every kind of pre-check runs on the server and counts its one offending row.
TEST(CliApplyTest, EveryKindOfPreCheckRunsOnTheServerAndCountsTheOffendingRows) {
  ApplyFixture f("checks",
                 "CREATE TABLE p (id int PRIMARY KEY); INSERT INTO p VALUES (1);"
                 "CREATE TABLE c (id int PRIMARY KEY, pid int, name varchar(30), age int, role enum('a','b','c'),"
                 " flags set('x','y'), price decimal(10,2));"
                 "INSERT INTO c VALUES (1, 1, 'short', 5, 'a', 'x', 1.00), (2, 99, NULL, 300, 'c', 'x,y', 123.45),"
                 " (3, NULL, 'longer name', -1, 'b', '', 0)",
                 "CREATE TABLE p (id int PRIMARY KEY);"
                 "CREATE TABLE c (id int PRIMARY KEY, pid int, name varchar(5) NOT NULL, age tinyint, role enum('a','b'),"
                 " flags set('x'), price decimal(4,2), CONSTRAINT adult CHECK (age >= 0),"
                 " CONSTRAINT fk_p FOREIGN KEY (pid) REFERENCES p (id))");
  ASSERT_EQ(f.Plan().exit_code, 0);
  const std::string start = Hash(f.from());
  RunResult r = f.Apply({"--allow-destructive", "--allow-blocking"});
  EXPECT_EQ(r.exit_code, 1) << DescribeRun(r);
  for (const char* what : {"FAIL 1 rows with NULL in column `name`", "FAIL 1 values longer than 5 characters in column `name`",
                           "FAIL 1 values outside -128..127 in column `age`", "FAIL 1 values not in the new ENUM of column `role`",
                           "FAIL 1 values holding a SET member removed from column `flags`",
                           "FAIL 1 values with more than 2 integer digits in column `price`",
                           "FAIL 1 rows of `c` failing the new check `adult`", "FAIL 1 rows of `c` without a parent in `p`"}) {
    EXPECT_NE(r.out.find(what), std::string::npos) << what << "\n" << r.out;
  }
  EXPECT_EQ(r.out.find(": ok "), std::string::npos) << r.out;
  EXPECT_EQ(Hash(f.from()), start);
}

TEST(CliApplyTest, DryRunPrintsThePlanAndChangesNothing) {
  ApplyFixture f("dry", "CREATE TABLE t (id int PRIMARY KEY)", "CREATE TABLE t (id int PRIMARY KEY, b int NOT NULL DEFAULT 0)");
  ASSERT_EQ(f.Plan().exit_code, 0);
  const std::string start = Hash(f.from());
  RunResult r = f.Apply({"--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << DescribeRun(r);
  EXPECT_NE(r.out.find("dry run: nothing was changed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ALGORITHM=INSTANT"), std::string::npos) << r.out;
  EXPECT_EQ(Hash(f.from()), start);
  r = Sqlx({"--store", f.store(), "--format", "json", "apply", RootUrl(f.from()), "--plan", f.plan(), "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << DescribeRun(r);
  nlohmann::json doc = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << r.out;
  EXPECT_EQ(doc.value("result", ""), "would-apply") << r.out;
  EXPECT_EQ(doc.value("from_hash", ""), start);
  EXPECT_TRUE(doc["refusals"].empty()) << r.out;
  EXPECT_EQ(Hash(f.from()), start);
  r = Sqlx({"--store", f.store(), "--format", "json", "audit", "query", "--action", "apply.step"});
  EXPECT_EQ(r.out.find(f.from()), std::string::npos) << "a dry run recorded steps: " << r.out;
}

TEST(CliApplyTest, AFailingOperationMidPlanWritesAReversePlanThatRestoresTheStart) {
  ApplyFixture f("fail",
                 "CREATE TABLE a_first (id int PRIMARY KEY); CREATE TABLE b_second (id int PRIMARY KEY, s varchar(20));"
                 "INSERT INTO b_second VALUES (1, 'not a number')",
                 "CREATE TABLE a_first (id int PRIMARY KEY, added int);"
                 "CREATE TABLE b_second (id int PRIMARY KEY, s int)");
  ASSERT_EQ(f.Plan().exit_code, 0);
  const std::string start = Hash(f.from());
  // Operation 2 runs as an online copy, which the server refuses on the
  // row that does not convert: the copy is abandoned, nothing of it is left.
  RunResult r = f.Apply({});
  EXPECT_EQ(r.exit_code, 1) << DescribeRun(r);
  EXPECT_NE(r.err.find("operation 2 (alter_table b_second) failed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("Incorrect integer value"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the online copy was abandoned: b_second is unchanged"), std::string::npos) << r.err;
  EXPECT_EQ(testing::RootSql("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + f.from() +
                               "' AND TABLE_NAME LIKE '\\_sqlx\\_%'"),
            "0\n");
  const std::string reverse = f.store() + "/plan.reverse.json";
  EXPECT_NE(r.err.find(reverse), std::string::npos) << r.err;
  ASSERT_TRUE(std::filesystem::exists(reverse));
  EXPECT_NE(Hash(f.from()), start) << "operation 1 should have run";

  r = f.Apply({"--allow-blocking"}, reverse);
  EXPECT_EQ(r.exit_code, 0) << DescribeRun(r);
  EXPECT_EQ(Hash(f.from()), start);
  r = Sqlx({"--store", f.store(), "--format", "json", "audit", "query", "--action", "apply.failed"});
  EXPECT_NE(r.out.find(f.from()), std::string::npos) << r.out;
}

}  // namespace
}  // namespace sqlx
