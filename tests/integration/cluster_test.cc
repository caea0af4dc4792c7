// Org-wide learning end to end, and what must not break it: `sqlx
// orchestrator` and `sqlx worker` processes on a nats-server, the CLI and
// the HTTP API against them, MariaDB servers to learn
// (tests/support/sqlx_cluster.h, fleet_databases.h); workers killed or
// frozen mid-job (restarts: cluster_restart_test.cc), garbage on the
// queue, a connection removed under its jobs. Every test ends by checking
// that the connection password is nowhere but sealed: not in any process's
// output, the API's answers, the audit events, nor the store's files.
//
// A worker is kept "mid-job" by a HoldingProxy in front of the MariaDB: it
// accepts the worker's connection but forwards nothing until released, so
// the worker has announced the job (state running) and waits for the
// server's greeting for as long as the test needs, with no race.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fleet_databases.h"
#include "held_fleet.h"
#include "holding_proxy.h"
#include "own_mariadb.h"
#include "sqlx/messages/bus.h"
#include "sqlx/messages/jobs.h"
#include "sqlx_cluster.h"
#include "test_env.h"

namespace sqlx {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::FleetDatabases;
using testing::HeldFleet;
using testing::HoldingProxy;
using testing::WaitMidJob;
using testing::PollUntil;
using testing::SqlxCluster;

// ---------------------------------------------------------------------------

// 3 servers x 20 databases, 2 workers: every database job done, each
// database learned once as "new" (60 learn.finished events), both workers
// busy; one ALTER later a second learn finds that database alone changed.
TEST(ClusterTest, SixtyDatabasesOnThreeServersAreLearnedOnceByTwoWorkers) {
  const int shared_port = testing::SharedMariaDbPort();
  testing::OwnMariaDb own1;
  ASSERT_NE(own1.port(), 0) << own1.error();
  testing::OwnMariaDb own2;
  ASSERT_NE(own2.port(), 0) << own2.error();
  const std::string password = testing::NewPassword();
  FleetDatabases shared(shared_port, testing::FleetName("a"), 20, 3, password);
  FleetDatabases first(own1.port(), testing::FleetName("b"), 20, 3, password);
  FleetDatabases second(own2.port(), testing::FleetName("c"), 20, 3, password);
  SqlxCluster cluster("fleet", testing::NatsUrl());
  ASSERT_TRUE(cluster.StartOrchestrator());
  cluster.StartWorker("w1");
  cluster.StartWorker("w2");
  cluster.AddConnection("shared", shared.Url(), password);
  cluster.AddConnection("own-1", first.Url(), password);
  cluster.AddConnection("own-2", second.Url(), password);

  const json summary = cluster.LearnAndWait();
  EXPECT_EQ(summary["databases"], 60);
  EXPECT_EQ(summary["changes"], (json{{"new", 60}}));
  const std::string run = summary.value("run", "");
  const json record = cluster.Get("/v1/runs/" + run);
  EXPECT_EQ(testing::ExpectAllDone(record), 63u);
  EXPECT_EQ(record["counts"], (json{{"done", 63}}));
  std::map<std::string, int> per_database;
  std::set<std::string> workers;
  for (const json& j : record["jobs"]) {
    workers.insert(j["worker"].get<std::string>());
    if (j["kind"] != "learn-database-job") continue;
    for (const json& d : j["summary"]["databases"]) {
      EXPECT_EQ(d["change"], "new") << d.dump();
      ++per_database[j["connection"].get<std::string>() + "/" + d["database"].get<std::string>()];
    }
  }
  testing::ExpectEachOnce(per_database, 60);
  for (const FleetDatabases* server : {&shared, &first, &second}) {
    for (const std::string& db : server->databases()) {
      const std::string connection = server == &shared ? "shared" : server == &first ? "own-1" : "own-2";
      EXPECT_EQ(per_database[connection + "/" + db], 1) << connection << "/" << db;
    }
  }
  EXPECT_EQ(workers, (std::set<std::string>{"w1", "w2"}));
  const std::vector<json> finished = cluster.AuditEvents("learn.finished");
  EXPECT_EQ(finished.size(), 60u);
  testing::ExpectEachOnce(cluster.LearnedPerDatabase(run), 60);

  // One schema changes: a second learn finds it alone, and says so.
  const std::string changed = first.databases()[7];
  first.Sql("ALTER TABLE `" + changed + "`.t1 ADD COLUMN note VARCHAR(10)");
  const json again = cluster.LearnAndWait();
  EXPECT_EQ(again["changes"], (json{{"changed", 1}, {"unchanged", 59}}));
  const json second_run = cluster.Get("/v1/runs/" + again.value("run", ""));
  for (const json& j : second_run["jobs"]) {
    if (j["kind"] != "learn-database-job") continue;
    for (const json& d : j["summary"]["databases"]) {
      const bool is_changed = j["connection"] == "own-1" && d["database"] == changed;
      EXPECT_EQ(d["change"], is_changed ? "changed" : "unchanged") << j["connection"] << "/" << d["database"];
    }
  }
  const std::vector<json> drift = cluster.AuditEvents("drift.found");
  ASSERT_EQ(drift.size(), 1u);
  EXPECT_EQ(drift[0]["object"]["database"], changed);
  EXPECT_EQ(drift[0]["object"]["connection"], first.user() + "@127.0.0.1:" + std::to_string(own1.port()));
  EXPECT_EQ(cluster.AuditEvents("learn.finished").size(), 120u);

  cluster.ExpectSecretNowhere(password, shared.user());
}

// kill -9 of a worker while it runs a job: its heartbeats had kept the job
// for several AckWaits; once they stop, the job goes to the other worker,
// which finishes it; it is finished once.
TEST(ClusterTest, AJobOfAWorkerKilledMidJobIsRedeliveredAndFinishedOnce) {
  HeldFleet fleet("kill", /*databases=*/5, /*job_ack_wait_s=*/3);
  ASSERT_TRUE(fleet.Start());
  SqlxCluster& cluster = fleet.cluster;
  HoldingProxy& proxy = fleet.proxy;

  proxy.Hold();
  cluster.StartWorker("doomed");
  const std::string run = cluster.StartLearn();
  const std::string job = run + ".s0";
  ASSERT_TRUE(WaitMidJob(cluster, proxy, job, "doomed")) << cluster.Job(job).dump(1);
  const json running = cluster.SqlxJson({"jobs", "list", "--state", "running"});
  ASSERT_EQ(running["jobs"].size(), 1u) << running.dump(1);
  EXPECT_EQ(running["jobs"][0]["id"], job);

  // Another worker waits for jobs: the heartbeats keep the job where it
  // is for several AckWaits.
  cluster.StartWorker("heir");
  const json before = cluster.Job(job);
  EXPECT_FALSE(PollUntil([&] { return cluster.Job(job)["worker"] != "doomed"; }, 5s)) << cluster.Job(job).dump(1);
  const json heartbeating = cluster.Job(job);
  EXPECT_EQ(heartbeating["deliveries"], 1);
  EXPECT_GT(heartbeating["heartbeat_ns"].get<int64_t>(), before["heartbeat_ns"].get<int64_t>());

  cluster.StopWorker("doomed", SIGKILL);
  proxy.Release();
  const json record = cluster.WaitRunFinished(run, 60s);
  ASSERT_TRUE(record.is_object());
  EXPECT_EQ(testing::ExpectAllDone(record), 6u);
  const json redelivered = cluster.Job(job);
  EXPECT_EQ(redelivered["state"], "done");
  EXPECT_EQ(redelivered["worker"], "heir");
  // (Seen once in CI at 1 with the heir finishing it: the logs tell the
  // next time whether its message was a redelivery.)
  auto tail = [](const std::string& text) { return text.substr(text.size() > 6000 ? text.size() - 6000 : 0); };
  EXPECT_GE(redelivered["deliveries"].get<int>(), 2)
      << redelivered.dump(1) << "\nheir:\n" << tail(cluster.WorkerLog("heir")) << "\norchestrator:\n"
      << tail(cluster.OrchestratorLog());
  EXPECT_EQ(cluster.AuditEventsOfRun("learn.server.finished", run).size(), 1u);
  testing::ExpectEachOnce(cluster.LearnedPerDatabase(run), 5);
  for (const json& e : cluster.AuditEvents("job.run")) {
    EXPECT_EQ(e["actor"]["service"], "worker:heir") << "the killed worker reported nothing: " << e.dump();
  }

  cluster.ExpectSecretNowhere(fleet.password, fleet.dbs.user());
}

// SIGTERM is an orderly stop: a worker mid-job finishes the job (its
// result published and the job acked) before it exits.
TEST(ClusterTest, AWorkerStoppedMidJobFinishesTheJobFirst) {
  HeldFleet fleet("drain", /*databases=*/2, /*job_ack_wait_s=*/3);
  ASSERT_TRUE(fleet.Start());
  SqlxCluster& cluster = fleet.cluster;
  HoldingProxy& proxy = fleet.proxy;

  proxy.Hold();
  cluster.StartWorker("leaving");
  const std::string run = cluster.StartLearn();
  const std::string job = run + ".s0";
  ASSERT_TRUE(WaitMidJob(cluster, proxy, job, "leaving")) << cluster.Job(job).dump(1);
  ::kill(cluster.WorkerPid("leaving"), SIGTERM);
  proxy.Release();
  cluster.StopWorker("leaving", SIGTERM);  // waits for its exit, which must be 0
  EXPECT_NE(cluster.WorkerLog("leaving").find("job " + job + " (learn-server-job) done"), std::string::npos)
      << cluster.WorkerLog("leaving");
  EXPECT_TRUE(PollUntil([&] { return cluster.Job(job)["state"] == "done"; }, 30s)) << cluster.Job(job).dump(1);
  const json finished = cluster.Job(job);
  EXPECT_EQ(finished["worker"], "leaving");
  EXPECT_EQ(finished["deliveries"], 1);

  cluster.StartWorker("next");
  const json record = cluster.WaitRunFinished(run, 60s);
  ASSERT_TRUE(record.is_object());
  EXPECT_EQ(testing::ExpectAllDone(record), 3u);
  EXPECT_EQ(cluster.Job(job)["deliveries"], 1);

  cluster.ExpectSecretNowhere(fleet.password, fleet.dbs.user());
}

// A job no worker finishes (each is killed mid-job) is given up after
// --job-max-deliver deliveries: dead, with a job.dead event, and its run
// ends instead of waiting forever.
TEST(ClusterTest, AJobNoWorkerFinishesIsDeadAfterMaxDeliveries) {
  HeldFleet fleet("dead", /*databases=*/2, /*job_ack_wait_s=*/2, /*job_max_deliver=*/2);
  ASSERT_TRUE(fleet.Start());
  SqlxCluster& cluster = fleet.cluster;
  HoldingProxy& proxy = fleet.proxy;

  proxy.Hold();
  const std::string run = cluster.StartLearn();
  const std::string job = run + ".s0";
  for (const std::string worker : {"first", "second"}) {
    cluster.StartWorker(worker);
    ASSERT_TRUE(WaitMidJob(cluster, proxy, job, worker)) << cluster.Job(job).dump(1);
    cluster.StopWorker(worker, SIGKILL);
    proxy.Release();  // the killed worker's connection goes
    proxy.Hold();
  }
  proxy.Release();
  cluster.StartWorker("third");  // the server notices the limit when someone pulls
  const json record = cluster.WaitRunFinished(run, 60s);
  ASSERT_TRUE(record.is_object());
  EXPECT_EQ(record["counts"], (json{{"dead", 1}})) << record.dump(1);
  const json dead = cluster.Job(job);
  EXPECT_EQ(dead["deliveries"], 2);
  EXPECT_NE(dead["error"].get<std::string>().find("2 deliveries"), std::string::npos) << dead.dump(1);
  EXPECT_EQ(cluster.AuditEvents("job.dead").size(), 1u);
  const testing::RunResult status = cluster.Sqlx({"fleet", "status", run});
  EXPECT_NE(status.out.find("dead"), std::string::npos) << status.out;

  cluster.ExpectSecretNowhere(fleet.password, fleet.dbs.user());
}

// SIGSTOP of a worker mid-job (a database job) past AckWait: the job is
// redelivered and finished by another worker; when the frozen one wakes up
// and finishes its copy, its late result changes nothing: the job stays the
// other worker's and its database has one learn.finished event.
TEST(ClusterTest, ALateResultOfAWorkerFrozenPastAckWaitIsDropped) {
  HeldFleet fleet("frozen", /*databases=*/5, /*job_ack_wait_s=*/2);
  ASSERT_TRUE(fleet.Start());
  SqlxCluster& cluster = fleet.cluster;
  HoldingProxy& proxy = fleet.proxy;

  proxy.Hold(/*pass_first=*/1);  // the server job's connection; a lone worker's next one is d0's
  cluster.StartWorker("frozen");
  const std::string run = cluster.StartLearn();
  const std::string job = run + ".s0.d0";
  ASSERT_TRUE(WaitMidJob(cluster, proxy, job, "frozen")) << cluster.Get("/v1/runs/" + run).dump(1);
  cluster.SignalWorker("frozen", SIGSTOP);
  proxy.Release();  // its connection goes through; it reads nothing while frozen
  cluster.StartWorker("heir");
  const json record = cluster.WaitRunFinished(run, 60s);
  ASSERT_TRUE(record.is_object());
  EXPECT_EQ(testing::ExpectAllDone(record), 6u);
  const json finished = cluster.Job(job);
  EXPECT_EQ(finished["worker"], "heir");
  EXPECT_GE(finished["deliveries"].get<int>(), 2);
  testing::ExpectEachOnce(cluster.LearnedPerDatabase(run), 5);

  // The frozen worker wakes up and finishes its copy of the job.
  cluster.SignalWorker("frozen", SIGCONT);
  ASSERT_TRUE(PollUntil([&] { return cluster.WorkerLog("frozen").find("job " + job + " ") != std::string::npos; }, 30s))
      << cluster.WorkerLog("frozen");
  // Its result had the msg id of the first one: the stream stored it once.
  // A result that comes back past the 2-minute duplicate window would pass
  // that check: replay each result of the run under a new msg id; the
  // orchestrator has to drop them itself.
  EXPECT_EQ(cluster.ReplayResults(), 6u);
  // Events are processed in stream order: once a later run has finished,
  // whatever the frozen worker published, and the replays, have been too.
  const json later = cluster.LearnAndWait();
  EXPECT_EQ(later["changes"], (json{{"unchanged", 5}}));

  EXPECT_EQ(cluster.Job(job), finished);
  EXPECT_EQ(cluster.Get("/v1/runs/" + run)["jobs"].size(), 6u);
  testing::ExpectEachOnce(cluster.LearnedPerDatabase(run), 5);
  // Both runs of the job were audited, one per delivery and worker.
  std::map<std::string, uint64_t> runs_of_job;
  for (const json& e : cluster.AuditEvents("job.run")) {
    if (e["details"]["job_id"] == job)
      runs_of_job[e["actor"]["service"].get<std::string>()] = e["details"]["delivery"].get<uint64_t>();
  }
  EXPECT_EQ(runs_of_job, (std::map<std::string, uint64_t>{{"worker:frozen", 1}, {"worker:heir", 2}}));

  cluster.ExpectSecretNowhere(fleet.password, fleet.dbs.user());
}

// A connection removed while jobs of it are unfinished: they fail, saying
// so, instead of stopping the orchestrator from starting again (it
// republishes unfinished jobs) or staying queued forever (the database jobs
// of a server job that was running).
TEST(ClusterTest, JobsOfARemovedConnectionFailInsteadOfHanging) {
  const std::string password = testing::NewPassword();
  FleetDatabases gone_dbs(testing::SharedMariaDbPort(), testing::FleetName("rg"), 2, 1, password);
  FleetDatabases kept_dbs(testing::SharedMariaDbPort(), testing::FleetName("rk"), 2, 1, password);
  HoldingProxy proxy(testing::SharedMariaDbPort());
  ASSERT_NE(proxy.port(), 0);
  SqlxCluster cluster("removed", testing::NatsUrl(), /*job_ack_wait_s=*/5);
  ASSERT_TRUE(cluster.StartOrchestrator());
  cluster.AddConnection("gone", gone_dbs.Url(), password);
  cluster.AddConnection("kept", kept_dbs.Url(), password);

  // Queued (no worker yet), then the connection goes, then a restart.
  const std::string run = cluster.StartLearn();
  EXPECT_EQ(cluster.Job(run + ".s0")["connection"], "gone");
  cluster.SqlxJson({"connections", "remove", "gone"});
  cluster.StopOrchestrator(SIGTERM);
  ASSERT_TRUE(cluster.StartOrchestrator());
  cluster.StartWorker("w1");
  const json record = cluster.WaitRunFinished(run, 60s);
  ASSERT_TRUE(record.is_object());
  EXPECT_EQ(record["counts"], (json{{"done", 3}, {"failed", 1}})) << record.dump(1);
  const json gone_job = cluster.Job(run + ".s0");
  EXPECT_EQ(gone_job["state"], "failed");
  EXPECT_NE(gone_job["error"].get<std::string>().find("'gone' was removed"), std::string::npos) << gone_job.dump(1);
  testing::ExpectEachOnce(cluster.LearnedPerDatabase(run), 2);

  // Removed while its server job runs: its database jobs cannot be sent.
  cluster.AddConnection("held", gone_dbs.Url(proxy.port()), password);
  proxy.Hold();
  const json started = cluster.SqlxJson({"fleet", "learn", "--connections", "held"});
  const std::string held_run = started.value("id", "");
  ASSERT_TRUE(WaitMidJob(cluster, proxy, held_run + ".s0", "w1"));
  cluster.SqlxJson({"connections", "remove", "held"});
  proxy.Release();
  const json held = cluster.WaitRunFinished(held_run, 60s);
  ASSERT_TRUE(held.is_object());
  EXPECT_EQ(held["counts"], (json{{"done", 1}, {"failed", 2}})) << held.dump(1);
  EXPECT_EQ(cluster.AuditEvents("job.failed").size(), 3u);

  cluster.ExpectSecretNowhere(password, gone_dbs.user());
}

// Bytes that are no job on the job subjects (and on the events subject):
// terminated, never redelivered, each a bus.rejected audit event; the
// workers keep serving. One of them is a well-formed envelope naming a job
// that a worker is running: its rejection must not pass for that job's end.
TEST(ClusterTest, GarbageOnTheQueueIsRejectedAndWorkersKeepServing) {
  HeldFleet fleet("garbage", /*databases=*/3, /*job_ack_wait_s=*/30);
  ASSERT_TRUE(fleet.Start());
  SqlxCluster& cluster = fleet.cluster;
  HoldingProxy& proxy = fleet.proxy;
  cluster.StartWorker("w1");
  cluster.StartWorker("w2");
  proxy.Hold();
  const std::string run = cluster.StartLearn();
  const std::string job = run + ".s0";
  ASSERT_TRUE(WaitMidJob(cluster, proxy, job, "")) << cluster.Job(job).dump(1);

  const Error no_job = MakeError(ErrorCode::kInvalidArgument, "an error is no job");
  const std::string envelope = jobs::ErrorEnvelope("not-a-job", 1, no_job, false);
  std::string random(200, '\0');
  std::mt19937 rng(7);
  for (char& c : random) c = static_cast<char>(rng());
  const std::vector<std::pair<std::string, std::string>> garbage = {
      {"learn-server-job", random},
      {"learn-server-job", "DROP DATABASE mysql; -- no job"},
      {"learn-database-job", envelope.substr(0, envelope.size() / 2)},
      {"learn-database-job", envelope},
      {"learn-server-job", jobs::ErrorEnvelope(job, 1, no_job, false)},
      {"apply-plan-job", ""},
  };
  auto bus = bus::Bus::Connect(testing::NatsUrl(), {.name = "cluster-test-garbage"});
  ASSERT_TRUE(bus.ok()) << bus.error().message;
  for (size_t i = 0; i < garbage.size(); ++i) {
    const std::string& bytes = garbage[i].second;
    auto ack = (*bus)->Publish(cluster.prefix() + ".jobs." + garbage[i].first,
                               {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()},
                               "garbage-" + std::to_string(i));
    ASSERT_TRUE(ack.ok()) << ack.error().message;
  }
  auto ack = (*bus)->Publish(cluster.prefix() + ".events.result",
                             {reinterpret_cast<const uint8_t*>(random.data()), random.size()}, "garbage-event");
  ASSERT_TRUE(ack.ok()) << ack.error().message;

  // The worker that is not held takes every piece of garbage.
  const size_t expected = garbage.size() + 1;
  ASSERT_TRUE(PollUntil([&] { return cluster.AuditEvents("bus.rejected").size() >= expected; }, 30s))
      << json(cluster.AuditEvents("bus.rejected")).dump(1);
  EXPECT_EQ(cluster.Job(job)["state"], "running");
  proxy.Release();
  const json record = cluster.WaitRunFinished(run, 60s);
  ASSERT_TRUE(record.is_object());
  EXPECT_EQ(testing::ExpectAllDone(record), 4u);
  testing::ExpectEachOnce(cluster.LearnedPerDatabase(run), 3);
  const json later = cluster.LearnAndWait();
  EXPECT_EQ(later["changes"], (json{{"unchanged", 3}}));

  const std::vector<json> rejected = cluster.AuditEvents("bus.rejected");
  EXPECT_EQ(rejected.size(), expected) << "a rejected message came back";
  size_t by_workers = 0;
  for (const json& e : rejected) {
    EXPECT_EQ(e["outcome"], "failed");
    if (e["details"]["subject"] == cluster.prefix() + ".events.rejected") {
      ++by_workers;
      EXPECT_NE(e["error"].get<std::string>().find("rejected message"), std::string::npos) << e.dump();
    } else {
      EXPECT_EQ(e["details"]["subject"], cluster.prefix() + ".events.result") << e.dump();
    }
  }
  EXPECT_EQ(by_workers, garbage.size());
  EXPECT_TRUE(cluster.AuditEvents("job.failed").empty());
  size_t logged = 0;
  for (const std::string worker : {"w1", "w2"}) {
    const std::string log = cluster.WorkerLog(worker);
    for (size_t at = log.find("rejected message"); at != std::string::npos; at = log.find("rejected message", at + 1))
      ++logged;
  }
  EXPECT_EQ(logged, garbage.size());

  cluster.ExpectSecretNowhere(fleet.password, fleet.dbs.user());
}

}  // namespace
}  // namespace sqlx
