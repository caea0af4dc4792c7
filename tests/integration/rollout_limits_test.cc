// A rollout's limits beyond its failure budget (docs/rollouts.md), end to
// end through `sqlx rollout`, an orchestrator and a worker on the test
// nats-server: the health gate pausing after the canary while sessions keep
// a MariaDB of the test's own busy (Threads_running over the limit), resumed
// on; an unknown replica lag failing the gate and a server without replicas
// passing it; and the per-server limit counting a `sqlx fleet apply` in
// flight on the same server.
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fleet_databases.h"
#include "held_fleet.h"
#include "own_mariadb.h"
#include "sqlx_cluster.h"
#include "sqlx_rollouts.h"
#include "subprocess.h"
#include "temp_dir.h"
#include "test_env.h"

namespace sqlx {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::DesiredSql;
using testing::DevUrl;
using testing::FleetDatabases;
using testing::PollUntil;
using testing::Rollout;
using testing::SqlxCluster;

constexpr const char* kSleep = "SELECT SLEEP(298.25)";

// `n` sessions running kSleep on the server at `port` (Threads_running
// counts them) until Stop.
class Sleepers {
 public:
  Sleepers(int port, int n) : port_(port) {
    const testing::Env env = {{"MYSQL_PWD", testing::MariaDbRootPassword()}};
    const std::string client = std::filesystem::exists("/usr/bin/mariadb") ? "/usr/bin/mariadb" : "/usr/bin/mysql";
    for (int i = 0; i < n; ++i) {
      clients_.push_back(std::make_unique<testing::Subprocess>(
          std::vector<std::string>{client, "--no-defaults", "-h127.0.0.1", "-P" + std::to_string(port),
                                   "-uroot", "-e", kSleep},
          env));
    }
  }
  ~Sleepers() { Stop(); }
  // True once Threads_running shows every sleeper.
  bool Running(int n) {
    return PollUntil([&] { return Sleeping() >= n; }, 30s);
  }
  int Sleeping() {
    return std::stoi(testing::RootSqlAt(
        port_, std::string("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO = '") + kSleep + "'"));
  }
  void Stop() {
    const std::string ids = testing::RootSqlAt(
        port_, std::string("SELECT ID FROM information_schema.PROCESSLIST WHERE INFO = '") + kSleep + "'");
    std::string kill;
    for (size_t at = 0, end; at < ids.size(); at = end + 1) {
      end = ids.find('\n', at);
      if (end == std::string::npos) end = ids.size();
      if (end > at) kill += "KILL QUERY " + ids.substr(at, end - at) + ";";
    }
    if (!kill.empty()) testing::RootSqlAt(port_, kill);
    for (auto& c : clients_) c->Wait(testing::DeadlineIn(30s));
    clients_.clear();
  }

 private:
  int port_;
  std::vector<std::unique_ptr<testing::Subprocess>> clients_;
};

const json* TargetOf(const json& r, const std::string& db) {
  for (const json& t : r["targets"])
    if (t["database"] == db) return &t;
  return nullptr;
}

TEST(RolloutLimitsTest, ThreadsRunningOverTheLimitPausesAfterTheCanaryAndResumeGoesOn) {
  testing::OwnMariaDb own;  // no other test's sessions on it
  ASSERT_NE(own.port(), 0) << own.error();
  const std::string password = testing::NewPassword();
  FleetDatabases dbs(own.port(), testing::FleetName("rbusy"), 3, 2, password);
  SqlxCluster cluster("rbusy", testing::NatsUrl());
  ASSERT_TRUE(cluster.StartOrchestrator());
  cluster.StartWorker("w1");
  cluster.AddConnection("busy", dbs.Url(), password);
  cluster.LearnAndWait();
  testing::TempDir dir("sqlx-rollout.");
  const std::string desired = DesiredSql(dir.path(), 2, ", note INT");

  Sleepers sleepers(own.port(), 3);
  ASSERT_TRUE(sleepers.Running(3));
  auto [code, r] = Rollout(cluster, {"create", "--to", desired, "--dev-url", DevUrl(), "--targets", "name:busy",
                                     "--canary", "1", "--max-threads-running", "1", "--wait", "--timeout", "120"});
  EXPECT_EQ(code, 1) << "paused: " << r.dump(1);
  ASSERT_EQ(r["state"], "paused") << r.dump(1);
  const std::string id = r["id"].get<std::string>();
  EXPECT_EQ(r["wave"], 0) << "after the canary";
  EXPECT_EQ(r["strategy"]["max_threads_running"], 1);
  const json& canary = r["targets"][0];
  EXPECT_EQ(canary["state"], "done") << canary.dump();
  const int measured = canary["health"]["max_threads_running"].get<int>();
  EXPECT_GE(measured, 4) << "the three sleepers and the sampling session: " << canary.dump();
  const std::string reason = r["reason"].get<std::string>();
  const std::vector<std::string> parts = {"canary: the health gate failed",
                                          "busy/" + canary["database"].get<std::string>(),
                                          "Threads_running reached " + std::to_string(measured),
                                          "over the limit of 1", "sqlx rollout resume " + id};
  for (const std::string& part : parts)
    EXPECT_NE(reason.find(part), std::string::npos) << part << "\n" << reason;
  EXPECT_EQ(r["counts"], (json{{"done", 1}, {"pending", 2}})) << "no further wave started";
  const std::vector<json> unhealthy = cluster.AuditEvents("rollout.gate.unhealthy");
  ASSERT_EQ(unhealthy.size(), 1u);
  EXPECT_EQ(unhealthy[0]["details"]["targets"],
            (json::array({{{"connection", "busy"}, {"database", canary["database"]}, {"limit", "max_threads_running"},
                           {"measured", measured}, {"threshold", 1}}})));
  EXPECT_EQ(unhealthy[0]["actor"]["service"], "orchestrator");
  const testing::RunResult text = cluster.Sqlx({"rollout", "status", id});
  EXPECT_NE(text.out.find("reason: canary: the health gate failed"), std::string::npos) << text.out;
  // Its account may not list replicas: the lag is unknown (not checked here).
  EXPECT_NE(text.out.find("thr " + std::to_string(measured) + ", lag ?"), std::string::npos) << text.out;

  // Resume accepts the canary's measurement: the last wave runs, and is
  // checked on its own (still busy: paused again, before completing).
  auto [again_code, again] = Rollout(cluster, {"resume", id, "--wait", "--timeout", "120"});
  EXPECT_EQ(again_code, 1) << again.dump(1);
  ASSERT_EQ(again["state"], "paused") << again.dump(1);
  EXPECT_EQ(again["wave"], 1);
  EXPECT_EQ(again["counts"], (json{{"done", 3}})) << again.dump(1);
  EXPECT_NE(again["reason"].get<std::string>().find("wave 1 of 1: the health gate failed"), std::string::npos)
      << again["reason"];
  EXPECT_EQ(again["reason"].get<std::string>().find(canary["database"].get<std::string>()), std::string::npos)
      << "the canary's measurement was accepted: " << again["reason"];

  sleepers.Stop();
  auto [done_code, done] = Rollout(cluster, {"resume", id, "--wait", "--timeout", "120"});
  ASSERT_EQ(done_code, 0) << done.dump(1);
  EXPECT_EQ(done["state"], "completed") << done.dump(1);
  for (const std::string& db : dbs.databases())
    EXPECT_EQ(testing::RootSqlAt(own.port(), "SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '" +
                                                 db + "' AND COLUMN_NAME = 'note'"),
              "1\n")
        << db;
  EXPECT_EQ(cluster.AuditEvents("rollout.gate.unhealthy").size(), 2u);
}

TEST(RolloutLimitsTest, AnUnknownReplicaLagFailsTheGateAndAServerWithoutReplicasPassesASaneOne) {
  const std::string password = testing::NewPassword();
  // Its account may not list the server's replicas: the lag is unknown.
  FleetDatabases blind(testing::SharedMariaDbPort(), testing::FleetName("rlagb"), 2, 2, password);
  // This one may (REPLICATION MASTER ADMIN): the shared server lists none.
  FleetDatabases seeing(testing::SharedMariaDbPort(), testing::FleetName("rlags"), 2, 2, password);
  seeing.Sql("GRANT REPLICATION MASTER ADMIN ON *.* TO '" + seeing.user() + "'@'127.0.0.1'");
  SqlxCluster cluster("rlag", testing::NatsUrl());
  ASSERT_TRUE(cluster.StartOrchestrator());
  cluster.StartWorker("w1");
  cluster.AddConnection("blind", blind.Url(), password);
  cluster.AddConnection("seeing", seeing.Url(), password);
  cluster.LearnAndWait();
  testing::TempDir dir("sqlx-rollout.");
  const std::string desired = DesiredSql(dir.path(), 2, ", note INT");

  auto [code, r] = Rollout(cluster, {"create", "--to", desired, "--dev-url", DevUrl(), "--targets", "name:blind",
                                     "--canary", "1", "--max-replica-lag", "5", "--wait", "--timeout", "120"});
  EXPECT_EQ(code, 1) << r.dump(1);
  ASSERT_EQ(r["state"], "paused") << r.dump(1);
  EXPECT_EQ(r["wave"], 0);
  const std::string reason = r["reason"].get<std::string>();
  EXPECT_NE(reason.find("replica lag unknown (listing the replicas of"), std::string::npos) << reason;
  EXPECT_NE(reason.find("REPLICATION MASTER ADMIN"), std::string::npos) << "what to do: " << reason;
  EXPECT_NE(reason.find("limit 5 s"), std::string::npos) << reason;
  EXPECT_TRUE(r["targets"][0]["health"].contains("replica_lag_error")) << r["targets"][0].dump();

  // Sane limits on a server without replicas: no lag (not 0), completed.
  auto [sane_code, sane] =
      Rollout(cluster, {"create", "--to", desired, "--dev-url", DevUrl(), "--targets", "name:seeing", "--canary", "1",
                        "--max-replica-lag", "5", "--max-threads-running", "1000", "--wait", "--timeout", "120"});
  ASSERT_EQ(sane_code, 0) << sane.dump(1);
  EXPECT_EQ(sane["state"], "completed") << sane.dump(1);
  EXPECT_EQ(sane["strategy"]["max_replica_lag"], 5.0);
  for (const std::string& db : seeing.databases()) {
    const json* t = TargetOf(sane, db);
    ASSERT_NE(t, nullptr) << db;
    const json& h = (*t)["health"];
    EXPECT_EQ(h["replicas"], 0) << t->dump();
    EXPECT_TRUE(h["max_replica_lag_s"].is_null()) << "no replicas: no lag, not 0: " << t->dump();
    EXPECT_FALSE(h.contains("replica_lag_error")) << t->dump();
    EXPECT_GE(h["max_threads_running"].get<int>(), 1) << "the sampling session counts: " << t->dump();
  }
  // A bad limit is refused before anything is made.
  const testing::RunResult bad = cluster.Sqlx({"rollout", "create", "--to", desired, "--dev-url", DevUrl(),
                                               "--targets", "name:seeing", "--max-replica-lag", "-1"},
                                              "", testing::RootPassword());
  EXPECT_NE(bad.exit_code, 0) << testing::DescribeRun(bad);
  const json body{{"desired", "{}"}, {"targets", "name:seeing"}, {"max_replica_lag", "5s"}};
  const auto refused = cluster.Http("POST", "/v1/rollouts", cluster.admin_token(), body.dump());
  EXPECT_EQ(refused.status, 400) << refused.body;
  EXPECT_NE(refused.body.find("max_replica_lag must be seconds"), std::string::npos) << refused.body;
}

TEST(RolloutLimitsTest, AFleetApplyInFlightOnAServerCountsAgainstTheRolloutsPerServerLimit) {
  testing::HeldFleet fleet("rfleet", /*databases=*/4, /*job_ack_wait_s=*/10);
  ASSERT_TRUE(fleet.Start());
  SqlxCluster& cluster = fleet.cluster;
  cluster.StartWorker("w1");
  cluster.StartWorker("w2");
  cluster.LearnAndWait();
  testing::TempDir dir("sqlx-rollout.");
  // A plan for the fourth database (not a target of the rollout): its own
  // column. Whether it applies cleanly does not matter here, only that its
  // job is in flight on the server.
  const std::string other = fleet.dbs.databases()[3];
  const std::string plan = dir.path() + "/plan.json";
  testing::Env env = testing::SqlxBaseEnv();
  env["SQLX_PASSWORD"] = testing::MariaDbRootPassword();
  const std::string from = "mysql://" + fleet.dbs.user() + ":" + fleet.password + "@127.0.0.1:" +
                           std::to_string(testing::SharedMariaDbPort()) + "/" + other + "?ssl-mode=disabled";
  const testing::RunResult planned =
      testing::Subprocess({testing::SqlxBinary(), "plan:diff", "--from", from, "--to",
                           DesiredSql(dir.path(), 2, ", extra INT"), "--dev-url", DevUrl(), "-o", plan},
                          env)
          .Wait(testing::SqlxDeadline());
  ASSERT_EQ(planned.exit_code, 0) << testing::DescribeRun(planned);

  // The fleet apply waits at the proxy, in flight on the server.
  fleet.proxy.Hold();
  const json applying = cluster.SqlxJson({"fleet", "apply", "--connection", "held", "--db", other, "--plan", plan});
  ASSERT_TRUE(applying.contains("id")) << applying.dump(1);
  const std::string apply_job = applying["id"].get<std::string>() + ".a0";
  ASSERT_TRUE(testing::WaitMidJob(cluster, fleet.proxy, apply_job, "")) << cluster.Job(apply_job).dump(1);
  auto [code, r] = Rollout(cluster, {"create", "--to", DesiredSql(dir.path(), 2, ", note INT"), "--dev-url", DevUrl(),
                                     "--targets", "name:held/" + fleet.dbs.user() + "_[012]", "--per-server", "1"});
  ASSERT_EQ(code, 0) << r.dump(1);
  const std::string id = r["id"].get<std::string>();
  std::this_thread::sleep_for(1s);  // two passes of the rollout loop
  const json waiting = cluster.Get("/v1/rollouts/" + id);
  EXPECT_EQ(waiting["counts"], (json{{"pending", 3}})) << "the server's one apply is the fleet apply's: "
                                                        << waiting.dump(1);
  EXPECT_TRUE(cluster.Get("/v1/jobs?run=" + id)["jobs"].empty());

  fleet.proxy.Release();
  auto [done_code, done] = Rollout(cluster, {"status", id, "--wait", "--timeout", "120"});
  ASSERT_EQ(done_code, 0) << done.dump(1);
  EXPECT_EQ(done["counts"], (json{{"done", 3}})) << done.dump(1);
  const json apply = cluster.Job(apply_job);
  ASSERT_GT(apply.value("finished_ns", int64_t{0}), 0) << apply.dump(1);
  EXPECT_TRUE(apply["summary"]["health"].is_object()) << "its worker measured the server: " << apply.dump(1);
  for (const json& j : cluster.Get("/v1/jobs?run=" + id)["jobs"])
    EXPECT_GE(j["started_ns"].get<int64_t>(), apply["finished_ns"].get<int64_t>()) << j.dump(1);
}

}  // namespace
}  // namespace sqlx
