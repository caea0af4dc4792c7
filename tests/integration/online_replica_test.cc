// Online migrations throttled on replica lag (issue #6) with a real MariaDB
// replica: while the replica's SQL thread is stopped, or it is further
// behind than --max-replica-lag (MASTER_DELAY), the copy waits (its
// progress says why) and copies nothing; once the replica catches up the
// migration completes and the replica gets the migrated table too. A replica
// URL that cannot be read is refused before any change.
//
// The primary+replica pair: the one scripts/services/mariadb-replica-up
// started beside the test MariaDB when $SQLX_TEST_MARIADB_REPLICA_PORT says
// so, else a pair of its own (scripts/services/mariadb-up and
// mariadb-replica-up on free ports in a temp state dir), stopped by PID at
// the end (mariadb-replica-down, mariadb-down).
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "own_mariadb.h"
#include "root_sqlx.h"
#include "schema_fixtures.h"
#include "sqlx_cli.h"
#include "subprocess.h"
#include "temp_dir.h"
#include "test_env.h"

namespace sqlx {
namespace {

using testing::DescribeRun;
using testing::Env;
using testing::FreePort;
using testing::RootSql;
using testing::RootUrl;
using testing::RunResult;
using testing::TempDir;

RunResult Sqlx(const std::vector<std::string>& args) { return testing::RootSqlx(args); }

// A primary (binary log on) and its replica; the test's services point at it
// (SQLX_TEST_MARIADB_* in this process's environment).
class ReplicaPair {
 public:
  ReplicaPair() {
    if (const char* port = std::getenv("SQLX_TEST_MARIADB_REPLICA_PORT"); port != nullptr && *port != '\0') {
      replica_port_ = port;  // the shared pair: scripts/services/mariadb-replica-up checked the primary
      return;
    }
    own_ = std::make_unique<testing::OwnServices>(
        "sqlx-rp.", Env{{"SQLX_TEST_MARIADB_PORT", std::to_string(FreePort())},
                        {"SQLX_TEST_MARIADB_REPLICA_PORT", std::to_string(FreePort())},
                        {"SQLX_TEST_ROOT_PASSWORD", "sqlx-replica-root-pw"}});
    for (const char* script : {"mariadb-up", "mariadb-replica-up"}) {
      if (!own_->Start(script)) {
        error_ = own_->error();
        return;
      }
      started_.push_back(script);
    }
    replica_port_ = own_->env("SQLX_TEST_MARIADB_REPLICA_PORT");
  }
  ~ReplicaPair() {
    if (own_ == nullptr) return;
    for (auto it = started_.rbegin(); it != started_.rend(); ++it)
      own_->Stop(std::string(*it) == "mariadb-up" ? "mariadb-down" : "mariadb-replica-down");
  }
  ReplicaPair(const ReplicaPair&) = delete;
  ReplicaPair& operator=(const ReplicaPair&) = delete;

  const std::string& error() const { return error_; }
  std::string ReplicaUrl() const { return "mysql://root@127.0.0.1:" + replica_port_; }

  // `sql` as root on the replica; its output (tab-separated, the column
  // names first with `names`).
  std::string ReplicaSql(const std::string& sql, bool names = false) const {
    std::vector<std::string> argv = {"/usr/bin/mariadb", "--no-defaults", "-h127.0.0.1", "-P" + replica_port_, "-uroot",
                                     "--batch"};
    if (!names) argv.push_back("--skip-column-names");
    argv.insert(argv.end(), {"-e", sql});
    RunResult r = testing::Subprocess(argv, Env{{"MYSQL_PWD", testing::MariaDbRootPassword()}, {"LANG", "C.UTF-8"}})
                      .Wait(testing::DeadlineIn(std::chrono::seconds(120)));
    EXPECT_EQ(r.exit_code, 0) << sql << "\n" << r.err;
    return r.out;
  }

  // The replica's Seconds_Behind_Master ("NULL\n" when it does not
  // replicate, "" when it cannot be read).
  std::string SecondsBehind() const {
    std::istringstream status(ReplicaSql("SHOW SLAVE STATUS", /*names=*/true));
    std::string header, row, name, value;
    std::getline(status, header);
    std::getline(status, row);
    std::istringstream names(header), values(row);
    while (std::getline(names, name, '\t') && std::getline(values, value, '\t'))
      if (name == "Seconds_Behind_Master") return value + "\n";
    return "";
  }

  // Waits until the replica has applied everything the primary has logged.
  bool CaughtUp() const {
    const std::string pos = RootSql("SELECT @@gtid_binlog_pos");
    return ReplicaSql("SELECT MASTER_GTID_WAIT('" + pos.substr(0, pos.find('\n')) + "', 60)") == "0\n";
  }

 private:
  std::unique_ptr<testing::OwnServices> own_;  // null: the shared pair
  std::vector<const char*> started_;
  std::string replica_port_;
  std::string error_;
};

class OnlineReplicaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { pair_ = new ReplicaPair(); }
  static void TearDownTestSuite() {
    delete pair_;
    pair_ = nullptr;
  }
  void SetUp() override { ASSERT_EQ(pair_->error(), "") << "no primary+replica pair to test with"; }

  static ReplicaPair* pair_;
};
ReplicaPair* OnlineReplicaTest::pair_ = nullptr;

// `db`.t with `rows` rows and `to`.t with k widened (a change the server
// makes by copying the table); the plan between them in `plan`.
struct Tables {
  explicit Tables(uint64_t rows) : store("sqlx-replica-store."), db(fx.Create("rl")), to(fx.Create("rl_to")) {
    RootSql("CREATE TABLE t (id int NOT NULL PRIMARY KEY, k int NOT NULL, v varchar(40)); "
            "INSERT INTO t SELECT seq, seq MOD 1000, CONCAT('v', seq) FROM seq_1_to_" + std::to_string(rows),
            db);
    RootSql("CREATE TABLE t (id int NOT NULL PRIMARY KEY, k bigint NOT NULL, v varchar(40))", to);
    plan = store.path() + "/plan.json";
    RunResult r = Sqlx({"--store", store.path(), "plan:diff", "--from", RootUrl(db), "--to", RootUrl(to), "-o", plan});
    EXPECT_EQ(r.exit_code, 0) << DescribeRun(r);
  }
  std::vector<std::string> Apply(const std::vector<std::string>& more) const {
    std::vector<std::string> args = {"--store", store.path(), "apply", RootUrl(db), "--plan", plan, "--chunk-time", "0.05"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }
  // Rows in the migration's shadow tables (`_sqlx_ID_new`); -1 when there is none.
  int64_t ShadowRows() const {
    const std::string shadow = RootSql("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + db +
                                       "' AND TABLE_NAME LIKE '\\_sqlx\\_%\\_new'");
    if (shadow.empty()) return -1;
    return std::strtoll(RootSql("SELECT COUNT(*) FROM `" + shadow.substr(0, shadow.find('\n')) + "`", db).c_str(),
                        nullptr, 10);
  }
  uint64_t Artefacts() const {
    return std::strtoull(RootSql("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + db +
                                 "' AND TABLE_NAME LIKE '\\_sqlx\\_%'")
                             .c_str(),
                         nullptr, 10);
  }

  testing::FixtureDatabases fx;
  TempDir store;
  std::string db, to, plan;
};

// The JSON progress lines of a run's stderr.
std::vector<nlohmann::json> ProgressLines(const std::string& err) {
  std::vector<nlohmann::json> out;
  std::istringstream in(err);
  std::string line;
  while (std::getline(in, line)) {
    nlohmann::json j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.value("event", "") == "migration.progress") out.push_back(j);
  }
  return out;
}

// Ways to hold the replica back, and what the throttle then says.
struct Hold {
  std::string name, hold_sql, release_sql, says;
};

TEST_F(OnlineReplicaTest, CopyWaitsWhileTheReplicaIsBehindAndCompletesWhenItCatchesUp) {
  const std::vector<Hold> holds = {
      {"SQL thread stopped", "STOP SLAVE SQL_THREAD", "START SLAVE SQL_THREAD",
       "is not replicating (Seconds_Behind_Master is NULL)"},
      {"behind by its MASTER_DELAY", "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 3600; START SLAVE",
       "STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = 0; START SLAVE", " s > 1 s"},
  };
  for (const Hold& hold : holds) {
    SCOPED_TRACE(hold.name);
    Tables t(20000);
    ASSERT_TRUE(pair_->CaughtUp());
    pair_->ReplicaSql(hold.hold_sql);
    // An event for the replica to be behind on: its lag grows from then on,
    // until it is well above --max-replica-lag 1 (or NULL).
    t.fx.Create("rl_mark");
    bool behind = false;
    for (int i = 0; i < 300 && !behind; ++i) {
      const std::string lag = pair_->SecondsBehind();
      // NULL is the stopped SQL thread's state; for the delay it is only the
      // moment of the restart (behind by nothing yet), so that waits for a
      // number.
      const bool null_expected = hold.says.find("NULL") != std::string::npos;
      behind = null_expected ? lag == "NULL\n" : (lag != "NULL\n" && std::atof(lag.c_str()) >= 3);
      if (!behind) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    std::vector<std::string> argv = {testing::SqlxBinary()};
    // The first hold finds its replica through the primary (SHOW REPLICA
    // HOSTS: the replica reports its address), the second is named.
    const std::string replica = &hold == &holds[0] ? "discover" : pair_->ReplicaUrl();
    for (const std::string& a : t.Apply({"--replica", replica, "--max-replica-lag", "1"}))
      argv.push_back(a);
    testing::Subprocess apply(argv, testing::RootSqlxEnv());

    // Throttled, saying why, and nothing copied for a while.
    const auto throttled = [&hold](const RunResult& r) {
      for (const nlohmann::json& j : ProgressLines(r.err))
        if (j.value("throttled", "").find(hold.says) != std::string::npos) return true;
      return false;
    };
    const bool said = behind && apply.ReadUntil(throttled, testing::DeadlineIn(std::chrono::seconds(60))) &&
                      throttled(apply.result());
    if (!said) pair_->ReplicaSql(hold.release_sql);
    ASSERT_TRUE(behind) << "the replica did not fall behind";
    ASSERT_TRUE(said) << apply.result().err;
    (void)apply.ReadUntil([](const RunResult&) { return false; }, testing::DeadlineIn(std::chrono::seconds(4)));
    const RunResult& waiting = apply.result();
    EXPECT_EQ(waiting.out.find("done:"), std::string::npos) << waiting.out;
    size_t throttled_lines = 0;
    for (const nlohmann::json& j : ProgressLines(waiting.err)) {
      EXPECT_EQ(j.value("rows_copied", uint64_t{1}), 0u) << j.dump();
      if (j.contains("throttled")) {
        ++throttled_lines;
        EXPECT_NE(j["throttled"].get<std::string>().find("replica root@127.0.0.1:"), std::string::npos) << j.dump();
      }
    }
    EXPECT_GE(throttled_lines, 3u) << waiting.err;
    EXPECT_EQ(t.ShadowRows(), 0);

    // Caught up again: the copy goes on and completes.
    pair_->ReplicaSql(hold.release_sql);
    RunResult r = apply.Wait(testing::DeadlineIn(std::chrono::seconds(180)));
    ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
    EXPECT_NE(r.out.find("done:"), std::string::npos) << r.out;
    EXPECT_EQ(testing::LiveHash(t.db), testing::LiveHash(t.to));
    EXPECT_EQ(RootSql("SELECT COUNT(*) FROM t", t.db), "20000\n");

    // The replica has the migrated table, with the same rows.
    ASSERT_TRUE(pair_->CaughtUp());
    const std::string column = "SELECT COLUMN_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '" + t.db +
                               "' AND TABLE_NAME = 't' AND COLUMN_NAME = 'k'";
    EXPECT_EQ(pair_->ReplicaSql(column), "bigint(20)\n");
    const std::string sum = "SELECT COUNT(*), SUM(k), SUM(CRC32(v)) FROM `" + t.db + "`.t";
    EXPECT_EQ(pair_->ReplicaSql(sum), RootSql(sum));
  }
}

TEST_F(OnlineReplicaTest, ReplicaThatCannotBeReadIsRefusedBeforeAnyChange) {
  Tables t(100);
  const std::string start = testing::LiveHash(t.db);
  const std::string closed = "mysql://root@127.0.0.1:" + std::to_string(FreePort());
  struct Case {
    std::string replica, says;
  };
  for (const Case& c : {Case{closed, "replica root@127.0.0.1:"}, Case{RootUrl(), "not a replica"}}) {
    RunResult r = Sqlx(t.Apply({"--replica", pair_->ReplicaUrl(), "--replica", c.replica}));
    EXPECT_NE(r.exit_code, 0) << DescribeRun(r);
    EXPECT_NE(r.err.find(c.says), std::string::npos) << DescribeRun(r);
    EXPECT_EQ(testing::LiveHash(t.db), start);
    EXPECT_EQ(t.Artefacts(), 0u);
  }
  RunResult list = Sqlx({"--store", t.store.path(), "--format", "json", "migrations", "list"});
  EXPECT_EQ(nlohmann::json::parse(list.out, nullptr, false), nlohmann::json::array()) << DescribeRun(list);
}

}  // namespace
}  // namespace sqlx
