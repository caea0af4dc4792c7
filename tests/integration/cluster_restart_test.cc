// The cluster across restarts of what it runs on (docs/cluster.md,
// "Delivery guarantees"): a nats-server restarted mid-run, a learn started
// while it is away, the orchestrator killed and stopped mid-run. No job is
// lost or finished twice, and the password is nowhere but sealed (as in
// cluster_test.cc, whose helpers these tests share).
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fleet_databases.h"
#include "held_fleet.h"
#include "holding_proxy.h"
#include "own_nats_server.h"
#include "sqlx/messages/bus.h"
#include "sqlx_cluster.h"
#include "temp_dir.h"
#include "test_env.h"

namespace sqlx {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::FleetDatabases;
using testing::HeldFleet;
using testing::HoldingProxy;
using testing::PollUntil;
using testing::SqlxCluster;
using testing::WaitMidJob;

// nats-server stops while a worker runs a job and another job waits in the
// queue, then starts again on the same port and store: nothing is lost.
// The password is not in the server's store either (jobs carry it sealed).
TEST(ClusterTest, ARunSurvivesANatsServerRestart) {
  testing::OwnNatsServer nats;
  ASSERT_TRUE(nats.Start());
  const std::string password = testing::NewPassword();
  FleetDatabases held_dbs(testing::SharedMariaDbPort(), testing::FleetName("nh"), 5, 2, password);
  FleetDatabases direct_dbs(testing::SharedMariaDbPort(), testing::FleetName("nd"), 5, 2, password);
  HoldingProxy proxy(testing::SharedMariaDbPort());
  ASSERT_NE(proxy.port(), 0);
  SqlxCluster cluster("nats", nats.url(), /*job_ack_wait_s=*/3);
  ASSERT_TRUE(cluster.StartOrchestrator());
  cluster.AddConnection("a-held", held_dbs.Url(proxy.port()), password);
  cluster.AddConnection("b-direct", direct_dbs.Url(), password);

  proxy.Hold();
  cluster.StartWorker("one");  // one job at a time: the second server job waits in the stream
  const std::string run = cluster.StartLearn();
  ASSERT_TRUE(WaitMidJob(cluster, proxy, run + ".s0", "one")) << cluster.Job(run + ".s0").dump(1);
  EXPECT_EQ(cluster.Job(run + ".s1")["state"], "queued");

  nats.Stop();
  proxy.Release();  // the job ends while the server is away
  std::this_thread::sleep_for(1s);
  ASSERT_TRUE(nats.Start());
  cluster.StartWorker("two");

  const json record = cluster.WaitRunFinished(run, 90s);
  ASSERT_TRUE(record.is_object());
  EXPECT_EQ(testing::ExpectAllDone(record), 12u);
  EXPECT_EQ(cluster.AuditEventsOfRun("learn.server.finished", run).size(), 2u);
  testing::ExpectEachOnce(cluster.LearnedPerDatabase(run), 10);

  cluster.ExpectSecretNowhere(password, held_dbs.user());
  nats.Stop();
  bool user_seen = false;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(nats.dir())) {
    if (!entry.is_regular_file()) continue;
    const std::string bytes = testing::ReadFile(entry.path().string());
    EXPECT_EQ(bytes.find(password), std::string::npos) << entry.path();
    user_seen = user_seen || bytes.find(held_dbs.user()) != std::string::npos;
  }
  EXPECT_TRUE(user_seen) << "the jobs' URLs are in no file of " << nats.dir();
}

// A learn started while the nats-server is away: its jobs cannot be
// published then; they stay queued and go out once it is back, without a
// restart of the orchestrator.
TEST(ClusterTest, JobsStartedWhileNatsIsAwayArePublishedOnceItIsBack) {
  testing::OwnNatsServer nats;
  ASSERT_TRUE(nats.Start());
  const std::string password = testing::NewPassword();
  FleetDatabases dbs(testing::SharedMariaDbPort(), testing::FleetName("na"), 3, 1, password);
  SqlxCluster cluster("away", nats.url(), /*job_ack_wait_s=*/5);
  ASSERT_TRUE(cluster.StartOrchestrator());
  cluster.AddConnection("a", dbs.Url(), password);

  nats.Stop();
  const std::string run = cluster.StartLearn();  // accepted, recorded, not published
  EXPECT_EQ(cluster.Job(run + ".s0")["state"], "queued");
  ASSERT_TRUE(nats.Start());
  cluster.StartWorker("w");
  const json record = cluster.WaitRunFinished(run, 60s);
  ASSERT_TRUE(record.is_object());
  EXPECT_EQ(testing::ExpectAllDone(record), 4u);
  testing::ExpectEachOnce(cluster.LearnedPerDatabase(run), 3);
  cluster.ExpectSecretNowhere(password, dbs.user());
}

// NATS up but refusing the publish (the jobs stream deleted under the
// orchestrator): the job stays queued, the orchestrator makes the queue
// again and publishes it within seconds, and the run completes without a
// restart.
TEST(ClusterTest, AJobWhosePublishIsRefusedIsPublishedAgainWithoutARestart) {
  const std::string password = testing::NewPassword();
  FleetDatabases dbs(testing::SharedMariaDbPort(), testing::FleetName("rf"), 2, 1, password);
  SqlxCluster cluster("refused", testing::NatsUrl(), /*job_ack_wait_s=*/5);
  ASSERT_TRUE(cluster.StartOrchestrator());
  cluster.AddConnection("a", dbs.Url(), password);
  {
    auto bus = bus::Bus::Connect(cluster.nats_url(), {.name = "refusing-test"});
    ASSERT_TRUE(bus.ok()) << bus.error().message;
    const Status deleted = (*bus)->DeleteStream(bus::JobsStream(cluster.prefix()).name);
    ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  }
  const std::string run = cluster.StartLearn();  // recorded; NATS refuses the publish
  ASSERT_FALSE(run.empty());
  cluster.StartWorker("w");
  const json record = cluster.WaitRunFinished(run, 60s);
  ASSERT_TRUE(record.is_object()) << cluster.OrchestratorLog();
  EXPECT_EQ(testing::ExpectAllDone(record), 3u);
  testing::ExpectEachOnce(cluster.LearnedPerDatabase(run), 2);
  const std::string log = cluster.OrchestratorLog();
  EXPECT_NE(log.find("publishing job " + run + ".s0"), std::string::npos) << "the first publish was not refused: " << log;
  EXPECT_NE(log.find("whose earlier publish was refused"), std::string::npos) << log;
}

// The orchestrator killed with jobs queued (no worker yet), then stopped
// while a worker runs one: each start republishes what is unfinished and
// takes up the results published meanwhile; the run completes once.
TEST(ClusterTest, ARunSurvivesOrchestratorRestarts) {
  HeldFleet fleet("orch", /*databases=*/5, /*job_ack_wait_s=*/3);
  ASSERT_TRUE(fleet.Start());
  SqlxCluster& cluster = fleet.cluster;
  HoldingProxy& proxy = fleet.proxy;

  const std::string run = cluster.StartLearn();
  const std::string job = run + ".s0";
  EXPECT_EQ(cluster.Job(job)["state"], "queued");
  cluster.StopOrchestrator(SIGKILL);
  ASSERT_TRUE(cluster.StartOrchestrator());
  EXPECT_EQ(cluster.Job(job)["state"], "queued");

  proxy.Hold();
  cluster.StartWorker("one");
  ASSERT_TRUE(WaitMidJob(cluster, proxy, job, "one")) << cluster.Job(job).dump(1);
  cluster.StopOrchestrator(SIGTERM);
  proxy.Release();
  ASSERT_TRUE(PollUntil([&] { return cluster.WorkerLog("one").find("job " + job + " ") != std::string::npos; }, 30s))
      << cluster.WorkerLog("one");
  ASSERT_TRUE(cluster.StartOrchestrator());

  const json record = cluster.WaitRunFinished(run, 60s);
  ASSERT_TRUE(record.is_object());
  EXPECT_EQ(testing::ExpectAllDone(record), 6u);
  EXPECT_EQ(cluster.Job(job)["deliveries"], 1) << "the result published while the orchestrator was away was kept";
  EXPECT_EQ(cluster.AuditEventsOfRun("learn.server.finished", run).size(), 1u);
  testing::ExpectEachOnce(cluster.LearnedPerDatabase(run), 5);
  EXPECT_EQ(cluster.AuditEvents("orchestrator.started").size(), 3u);
  EXPECT_EQ(cluster.AuditEvents("orchestrator.stopped").size(), 1u);

  cluster.ExpectSecretNowhere(fleet.password, fleet.dbs.user());
}

}  // namespace
}  // namespace sqlx
