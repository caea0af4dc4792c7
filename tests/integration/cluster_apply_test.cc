// Plans applied through the cluster (`sqlx fleet apply`, docs/cluster.md):
// a worker runs the plan under its job's lease, and a worker frozen past its
// lease is fenced off: another delivery applies, the frozen one's next lease
// check is refused (a job.fenced event), and its run publishes nothing.
#include <signal.h>

#include <chrono>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "held_fleet.h"
#include "sqlx_cluster.h"
#include "temp_dir.h"
#include "test_env.h"

namespace sqlx {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::HeldFleet;
using testing::PollUntil;
using testing::SqlxCluster;

// plan.json from the fleet's first database to a copy of it with a column
// added to each table, made with `sqlx plan:diff` as the fleet's account.
std::string MakePlan(HeldFleet& fleet, const std::string& dir) {
  const std::string db = fleet.dbs.databases()[0];
  std::string sql = "CREATE DATABASE `" + db + "_to`;";
  for (const char* t : {"t0", "t1"}) {
    sql += "CREATE TABLE `" + db + "_to`." + t +
           " (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, created DATETIME, note INT, KEY k_name (name));";
  }
  fleet.dbs.Sql(sql);
  const std::string url = fleet.dbs.Url();
  const std::string at = url.substr(0, url.find('?'));
  testing::Env env = testing::SqlxBaseEnv();
  env["SQLX_PASSWORD"] = fleet.password;
  const std::string plan = dir + "/plan.json";
  testing::RunResult r = testing::Subprocess({testing::SqlxBinary(), "plan:diff", "--from", at + "/" + db + "?ssl-mode=disabled",
                                              "--to", at + "/" + db + "_to?ssl-mode=disabled", "-o", plan},
                                             env)
                             .Wait(testing::SqlxDeadline());
  EXPECT_EQ(r.exit_code, 0) << testing::DescribeRun(r);
  fleet.dbs.Sql("DROP DATABASE `" + db + "_to`");
  return plan;
}

// The columns of the fleet's first database's tables, as "t0.note,t1.note".
std::string NoteColumns(HeldFleet& fleet) {
  return testing::RootSqlAt(testing::SharedMariaDbPort(),
                            "SELECT GROUP_CONCAT(CONCAT(TABLE_NAME, '.', COLUMN_NAME) ORDER BY TABLE_NAME SEPARATOR ',') "
                            "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '" +
                                fleet.dbs.databases()[0] + "' AND COLUMN_NAME = 'note'");
}

TEST(ClusterApplyTest, APlanRunsOnAWorkerUnderItsLeaseAndAgainIsAlreadyApplied) {
  HeldFleet fleet("apply", /*databases=*/1, /*job_ack_wait_s=*/5);
  ASSERT_TRUE(fleet.Start());
  SqlxCluster& cluster = fleet.cluster;
  testing::TempDir dir("sqlx-cluster-apply.");
  const std::string plan = MakePlan(fleet, dir.path());
  cluster.StartWorker("w1");

  const json first = cluster.SqlxJson({"fleet", "apply", "--connection", "held", "--plan", plan, "--wait"});
  EXPECT_TRUE(first["ok"].get<bool>()) << first.dump(1);
  EXPECT_EQ(first["job"]["summary"]["result"], "applied") << first.dump(1);
  EXPECT_EQ(first["job"]["summary"]["applied"], 2);
  EXPECT_EQ(first["job"]["worker"], "w1");
  EXPECT_EQ(NoteColumns(fleet), "t0.note,t1.note\n");

  // The same plan again: the worker learns the database at the plan's end.
  const json again = cluster.SqlxJson({"fleet", "apply", "--connection", "held", "--plan", plan, "--wait"});
  EXPECT_EQ(again["job"]["summary"]["result"], "already-applied") << again.dump(1);

  const auto leased = cluster.AuditEvents("job.leased");
  ASSERT_EQ(leased.size(), 2u);
  EXPECT_EQ(leased[0]["details"]["fence"], 1);
  EXPECT_EQ(leased[0]["details"]["worker"], "w1");
  ASSERT_EQ(cluster.AuditEvents("apply.finished").size(), 2u);
  EXPECT_TRUE(cluster.AuditEvents("job.fenced").empty());

  // A plan that is not one is refused before anything is queued.
  testing::WriteFile(dir.path() + "/bad.json", "{\"not\": \"a plan\"}");
  testing::RunResult bad = cluster.Sqlx({"fleet", "apply", "--connection", "held", "--plan", dir.path() + "/bad.json"});
  EXPECT_EQ(bad.exit_code, 2) << testing::DescribeRun(bad);
  EXPECT_NE(bad.err.find("plan.json"), std::string::npos) << bad.err;
  cluster.ExpectSecretNowhere(fleet.password, fleet.dbs.user());
}

TEST(ClusterApplyTest, AWorkerFrozenPastItsLeaseIsFencedOffAndAnotherAppliesOnce) {
  HeldFleet fleet("fence", /*databases=*/1, /*job_ack_wait_s=*/3);
  ASSERT_TRUE(fleet.Start());
  SqlxCluster& cluster = fleet.cluster;
  testing::TempDir dir("sqlx-cluster-fence.");
  const std::string plan = MakePlan(fleet, dir.path());

  // The first worker takes the job and its lease (fence 1), then waits at
  // the proxy for the server: frozen there with SIGSTOP.
  fleet.proxy.Hold();
  cluster.StartWorker("frozen");
  testing::RunResult started = cluster.Sqlx({"--format", "json", "fleet", "apply", "--connection", "held", "--plan", plan});
  ASSERT_EQ(started.exit_code, 0) << testing::DescribeRun(started);
  const std::string run = json::parse(started.out)["id"].get<std::string>();
  const std::string job = run + ".a0";
  ASSERT_TRUE(testing::WaitMidJob(cluster, fleet.proxy, job, "frozen")) << cluster.Job(job).dump(1);
  ASSERT_EQ(cluster.AuditEvents("job.leased").size(), 1u);
  cluster.SignalWorker("frozen", SIGSTOP);

  // Past the lease, another worker gets the job (fence 2) and applies it;
  // the frozen worker's connection stays held.
  fleet.proxy.Hold(/*pass_first=*/5);
  cluster.StartWorker("heir");
  const json finished = cluster.WaitRunFinished(run, 60s);
  ASSERT_TRUE(finished.is_object());
  const json done = cluster.Job(job);
  EXPECT_EQ(done["state"], "done") << done.dump(1);
  EXPECT_EQ(done["worker"], "heir");
  EXPECT_EQ(done["summary"]["result"], "applied");
  EXPECT_GE(done["deliveries"].get<int>(), 2);
  EXPECT_EQ(NoteColumns(fleet), "t0.note,t1.note\n");
  const auto leased = cluster.AuditEvents("job.leased");
  ASSERT_EQ(leased.size(), 2u);
  EXPECT_EQ(leased[1]["details"]["worker"], "heir");
  EXPECT_EQ(leased[1]["details"]["fence"], 2);

  // Thawed, the frozen worker's next lease check is refused: fenced off.
  cluster.SignalWorker("frozen", SIGCONT);
  ASSERT_TRUE(PollUntil([&] { return !cluster.AuditEvents("job.fenced").empty(); }, 20s))
      << cluster.WorkerLog("frozen");
  const json fenced = cluster.AuditEvents("job.fenced")[0];
  EXPECT_EQ(fenced["details"]["worker"], "frozen");
  EXPECT_EQ(fenced["details"]["fence"], 1);
  EXPECT_EQ(fenced["details"]["current_fence"], 2);
  // Its connection goes through now; its run publishes nothing.
  fleet.proxy.Release();
  EXPECT_TRUE(PollUntil([&] { return cluster.WorkerLog("frozen").find("result is dropped") != std::string::npos; },
                        20s))
      << cluster.WorkerLog("frozen");
  std::this_thread::sleep_for(1s);
  const json after = cluster.Job(job);
  EXPECT_EQ(after["worker"], "heir") << after.dump(1);
  EXPECT_EQ(after["summary"]["result"], "applied");
  const auto applied = cluster.AuditEvents("apply.finished");
  ASSERT_EQ(applied.size(), 1u);
  EXPECT_EQ(applied[0]["details"]["worker"], "heir");
  for (const json& e : cluster.AuditEvents("job.run")) EXPECT_EQ(e["actor"]["service"], "worker:heir") << e.dump();
  EXPECT_EQ(NoteColumns(fleet), "t0.note,t1.note\n");
  cluster.ExpectSecretNowhere(fleet.password, fleet.dbs.user());
}

}  // namespace
}  // namespace sqlx
