// Online copies through the cluster (docs/cluster.md, "Online copies"): an
// apply job whose plan copies a table runs it on a worker as an online
// migration under a writer, its checkpoints stored by the orchestrator; a
// worker killed mid-copy leaves the job to another, which continues from the
// last checkpoint; a checkpoint under a stale lease token is refused; the
// driver's and the migration's audit events reach the orchestrator's chain.
#include <signal.h>

#include <chrono>
#include <iostream>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fleet_databases.h"
#include "sqlx/actors/wire.h"
#include "sqlx/messages/bus.h"
#include "sqlx/messages/jobs.h"
#include "sqlx_cluster.h"
#include "table_writer.h"
#include "temp_dir.h"
#include "test_env.h"

namespace sqlx {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::KeyStyle;
using testing::PollUntil;
using testing::SqlxCluster;
using testing::Writer;

constexpr uint64_t kRows = 50000;
const char* kFrom = "CREATE TABLE t (id int NOT NULL PRIMARY KEY, k int NOT NULL, v varchar(40), KEY k (k))";
const char* kTo =
    "CREATE TABLE t (id int NOT NULL PRIMARY KEY, k bigint NOT NULL, v varchar(80), z int NOT NULL DEFAULT 7, KEY k (k))";

// Three databases an account of their own can change: `db` (migrated) and
// `control` (the same writes, never migrated) with kRows rows, `to` (the
// desired schema); a cluster whose connection "shop" is that account; the
// plan from `db` to `to`, made with `sqlx plan:diff`.
struct OnlineCluster {
  // `extra_from`/`extra_to`: more of each schema (statements after t's).
  OnlineCluster(const std::string& tag, int job_ack_wait_s, const std::string& extra_from = "",
                const std::string& extra_to = "")
      : dbs(testing::SharedMariaDbPort(), testing::FleetName(tag), 3, 0, password),
        cluster(tag, testing::NatsUrl(), job_ack_wait_s),
        db(dbs.databases()[0]),
        control(dbs.databases()[1]),
        to(dbs.databases()[2]) {
    const std::string fill =
        "INSERT INTO t (id, k, v) SELECT seq, seq MOD 1000, CONCAT('v', seq) FROM seq_1_to_" + std::to_string(kRows);
    for (const std::string& d : {db, control}) testing::RootSql(std::string(kFrom) + "; " + fill + extra_from, d);
    testing::RootSql(kTo + extra_to, to);
    // As the account: the hash it learns is the one its workers see.
    plan = dir.path() + "/plan.json";
    const std::string at = dbs.Url().substr(0, dbs.Url().find('?'));
    testing::Env env = testing::SqlxBaseEnv();
    env["SQLX_PASSWORD"] = password;
    const testing::RunResult r =
        testing::Subprocess({testing::SqlxBinary(), "plan:diff", "--from", at + "/" + db + "?ssl-mode=disabled", "--to",
                             at + "/" + to + "?ssl-mode=disabled", "-o", plan},
                            env)
            .Wait(testing::SqlxDeadline());
    EXPECT_EQ(r.exit_code, 0) << testing::DescribeRun(r);
  }
  bool Start() {
    if (!cluster.StartOrchestrator()) return false;
    cluster.AddConnection("shop", dbs.Url(), password);
    return true;
  }
  // The profile hash of `database` as the account learns it.
  std::string Hash(const std::string& database) {
    testing::Env env = testing::SqlxBaseEnv();
    env["SQLX_PASSWORD"] = password;
    const std::string at = dbs.Url().substr(0, dbs.Url().find('?'));
    const testing::RunResult r = testing::Subprocess({testing::SqlxBinary(), "--format", "json", "snapshot",
                                                      at + "/" + database + "?ssl-mode=disabled"},
                                                     env)
                                     .Wait(testing::SqlxDeadline());
    EXPECT_EQ(r.exit_code, 0) << testing::DescribeRun(r);
    const json snapshot = json::parse(r.out, nullptr, false);
    return snapshot.is_object() ? snapshot.value("profile_hash", "") : "";
  }
  // `fleet apply` of the plan without --allow-blocking, not waiting: the job.
  std::string StartApply() {
    const json run = cluster.SqlxJson({"fleet", "apply", "--connection", "shop", "--db", db, "--plan", plan});
    return run.is_object() ? run.value("id", "") + ".a0" : "";
  }
  // Waits for `job`'s run, then stops `writer`: the job's record, after
  // checking that `worker` applied the plan, that the writer saw no error
  // and that nothing was lost (the table equals its control, the database
  // has the desired hash). null when the run did not finish.
  json FinishedBy(const std::string& job, const std::string& worker, Writer& writer) {
    const json finished = cluster.WaitRunFinished(job.substr(0, job.rfind('.')), std::chrono::seconds(180));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    writer.Stop();
    EXPECT_EQ(writer.failure(), "");
    if (!finished.is_object() || !writer.failure().empty()) return json();
    const json j = cluster.Job(job);
    EXPECT_EQ(j["state"], "done") << j.dump(1);
    EXPECT_EQ(j["worker"], worker);
    EXPECT_EQ(j["summary"]["result"], "applied") << j.dump(1);
    EXPECT_EQ(testing::RowsDiffering(db, control, KeyStyle{}), 0u) << writer.messages_;
    EXPECT_EQ(Hash(db), Hash(to));
    return j;
  }
  // The job's migrations as the orchestrator stores them.
  json Migrations(const std::string& job) { return cluster.Get("/v1/migrations?job=" + job)["migrations"]; }
  // The events with `action` whose details name `job`.
  std::vector<json> EventsOfJob(const std::string& action, const std::string& job) {
    std::vector<json> out;
    for (const json& e : cluster.AuditEvents(action))
      if (e["details"].is_object() && e["details"].value("job", "") == job) out.push_back(e);
    return out;
  }

  const std::string password = testing::NewPassword();
  testing::TempDir dir{"sqlx-cluster-online."};
  testing::FleetDatabases dbs;
  SqlxCluster cluster;  // stopped before the databases go
  const std::string db, control, to;
  std::string plan;
};

// Sends a checkpoint of `migration` for `job` as `worker` under `token`
// straight to the orchestrator; its answer.
actors::LeaseReplyInfo SendCheckpoint(SqlxCluster& cluster, const std::string& job, const std::string& worker,
                                      uint64_t token, const json& migration) {
  auto bus = bus::Bus::Connect(cluster.nats_url(), {.name = "cluster-online-test"});
  EXPECT_TRUE(bus.ok());
  if (!bus.ok()) return {};
  const std::string request = actors::MigrationCheckpointFor({job, worker, token, migration.dump()});
  auto raw = (*bus)->Request(cluster.prefix() + ".checkpoint",
                             {reinterpret_cast<const uint8_t*>(request.data()), request.size()}, 5s);
  EXPECT_TRUE(raw.ok()) << raw.error().message;
  if (!raw.ok()) return {};
  const std::string reply(raw->begin(), raw->end());
  const Status verified = jobs::Verify(jobs::Kind::kLeaseReply, reply);
  EXPECT_TRUE(verified.ok()) << verified.error().message;
  return verified.ok() ? actors::ReadLeaseReply(reply) : actors::LeaseReplyInfo{};
}

TEST(ClusterOnlineTest, AnOnlineCopyRunsOnAWorkerUnderAWriterWithItsCheckpointsInTheOrchestrator) {
  OnlineCluster f("onl", /*job_ack_wait_s=*/10);
  ASSERT_TRUE(f.Start());
  SqlxCluster& cluster = f.cluster;
  cluster.StartWorker("w1");

  Writer writer(f.db, f.control, KeyStyle{}, kRows);
  writer.Start();
  std::this_thread::sleep_for(300ms);
  const json done = cluster.SqlxJson(
      {"fleet", "apply", "--connection", "shop", "--db", f.db, "--plan", f.plan, "--wait", "--timeout", "120"});
  std::this_thread::sleep_for(300ms);
  writer.Stop();
  ASSERT_EQ(writer.failure(), "");
  EXPECT_GT(writer.commits(), 50u);
  ASSERT_TRUE(done.is_object()) << done;
  EXPECT_EQ(done["job"]["summary"]["result"], "applied") << done.dump(1);
  EXPECT_EQ(done["job"]["worker"], "w1");
  const std::string job = done["job"]["id"];
  EXPECT_EQ(testing::RowsDiffering(f.db, f.control, KeyStyle{}), 0u) << writer.messages_;
  EXPECT_EQ(f.Hash(f.db), f.Hash(f.to));
  EXPECT_EQ(testing::RootSql("SELECT COUNT(*) FROM t WHERE z <> 7", f.db), "0\n");

  // The orchestrator holds the migration as its last checkpoint left it.
  const json migrations = f.Migrations(job);
  ASSERT_EQ(migrations.size(), 1u) << migrations.dump(1);
  const json& stored = migrations[0];
  EXPECT_EQ(stored["worker"], "w1");
  EXPECT_EQ(stored["token"], 1);
  EXPECT_EQ(stored["migration"]["phase"], "cut-over");
  EXPECT_EQ(stored["migration"]["database"], f.db);
  EXPECT_EQ(stored["migration"]["table"], "t");
  EXPECT_GT(stored["migration"]["chunks"].get<uint64_t>(), 1u) << stored.dump(1);
  EXPECT_GE(stored["migration"]["rows_copied"].get<uint64_t>(), kRows / 2);
  const std::string id = stored["migration"]["id"];
  EXPECT_EQ(cluster.Get("/v1/migrations/" + id)["job"], job);
  EXPECT_EQ(cluster.Http("GET", "/v1/migrations/0badcafe", cluster.admin_token()).status, 404);
  // ... and `sqlx migrations list|status --orchestrator` show it.
  const json listed = cluster.SqlxJson({"migrations", "list", "--orchestrator", cluster.api()});
  ASSERT_TRUE(listed.is_array() && listed.size() == 1) << listed.dump(1);
  EXPECT_EQ(listed[0]["id"], id);
  EXPECT_EQ(listed[0]["job"], job);
  EXPECT_EQ(listed[0]["worker"], "w1");
  const json status = cluster.SqlxJson({"migrations", "status", id, "--orchestrator", cluster.api()});
  EXPECT_EQ(status["phase"], "cut-over") << status.dump(1);
  EXPECT_EQ(status["rows_copied"], stored["migration"]["rows_copied"]);
  const testing::RunResult text = cluster.Sqlx({"migrations", "list", "--orchestrator", cluster.api()});
  EXPECT_NE(text.out.find("job " + job + " on w1"), std::string::npos) << text.out;
  const testing::RunResult refused = cluster.Sqlx({"migrations", "finalize", id, "--orchestrator", cluster.api()});
  EXPECT_EQ(refused.exit_code, 2) << testing::DescribeRun(refused);

  // The worker's apply.step and the migration's phase events are in the
  // chain, naming the job and the worker; the run's outcome once (the
  // orchestrator's, from the result).
  const std::vector<json> steps = f.EventsOfJob("apply.step", job);
  ASSERT_EQ(steps.size(), 1u);
  EXPECT_EQ(steps[0]["actor"]["service"], "worker:w1") << steps[0].dump();
  EXPECT_EQ(steps[0]["details"]["strategy"], "online-copy") << steps[0].dump();
  EXPECT_EQ(steps[0]["details"]["worker"], "w1");
  EXPECT_EQ(steps[0]["object"]["database"], f.db);
  for (const char* action : {"apply.started", "migration.started", "migration.copied", "migration.cutover"}) {
    const std::vector<json> events = f.EventsOfJob(action, job);
    ASSERT_EQ(events.size(), 1u) << action;
    EXPECT_EQ(events[0]["actor"]["service"], "worker:w1") << events[0].dump();
    if (std::string(action) != "apply.started") {
      EXPECT_EQ(events[0]["details"]["migration"], id) << action;
    }
  }
  EXPECT_EQ(f.EventsOfJob("apply.finished", job).size(), 1u);
  EXPECT_EQ(cluster.AuditEvents("apply.failed").size(), 0u);
  cluster.ExpectSecretNowhere(f.password, f.dbs.user());

  // Stopped, the orchestrator's store holds the record where `sqlx
  // migrations` reads it: finalize drops the old table.
  const testing::RunResult listed_store =
      testing::RunSqlx({"--store", cluster.store_dir(), "--format", "json", "migrations", "list"},
                       testing::SqlxBaseEnv());
  ASSERT_EQ(listed_store.exit_code, 0) << testing::DescribeRun(listed_store);
  EXPECT_EQ(json::parse(listed_store.out)[0]["phase"], "cut-over") << listed_store.out;
  testing::Env env = testing::SqlxBaseEnv();
  env["SQLX_PASSWORD"] = f.password;
  const std::string at = f.dbs.Url().substr(0, f.dbs.Url().find('?'));
  const testing::RunResult finalized = testing::RunSqlx(
      {"--store", cluster.store_dir(), "migrations", "finalize", id, at + "?ssl-mode=disabled"}, env);
  EXPECT_EQ(finalized.exit_code, 0) << testing::DescribeRun(finalized);
  EXPECT_EQ(testing::RootSql("SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + f.db +
                             "' AND TABLE_NAME LIKE '\\_sqlx\\_%'"),
            "0\n");
}

TEST(ClusterOnlineTest, AWorkerKilledMidCopyLeavesTheJobToAnotherThatResumesFromItsCheckpoint) {
  OnlineCluster f("onk", /*job_ack_wait_s=*/3);
  ASSERT_TRUE(f.Start());
  SqlxCluster& cluster = f.cluster;
  Writer writer(f.db, f.control, KeyStyle{}, kRows);
  writer.Start();

  // w1 copies in small chunks (a checkpoint each); a few chunks in, the
  // orchestrator is frozen: w1's next checkpoint waits for its answer, the
  // copy cannot get further, and w1 is killed there.
  const std::vector<std::string> small = {"--chunk-time", "0.01"};
  cluster.StartWorker("w1", small);
  const std::string job = f.StartApply();
  ASSERT_FALSE(job.empty());
  ASSERT_TRUE(PollUntil(
      [&] {
        const json m = f.Migrations(job);
        if (m.size() != 1 || m[0]["migration"]["phase"] != "copying" ||
            m[0]["migration"]["rows_copied"].get<uint64_t>() < 1000)
          return false;
        cluster.SignalOrchestrator(SIGSTOP);
        return true;
      },
      60s))
      << f.Migrations(job).dump(1) << cluster.WorkerLog("w1");
  std::this_thread::sleep_for(200ms);
  cluster.StopWorker("w1", SIGKILL);
  cluster.SignalOrchestrator(SIGCONT);
  // A checkpoint w1 sent while the orchestrator was frozen is stored when
  // it thaws (w1's token was still the job's): the record settles.
  json at_kill;
  int unchanged = 0;
  ASSERT_TRUE(PollUntil(
      [&] {
        const json now = f.Migrations(job);
        unchanged = now == at_kill ? unchanged + 1 : 0;
        at_kill = now;
        return unchanged >= 5;
      },
      30s));
  ASSERT_EQ(at_kill.size(), 1u);
  const json checkpoint = at_kill[0];
  const std::string id = checkpoint["migration"]["id"];
  const uint64_t rows_at_kill = checkpoint["migration"]["rows_copied"];
  const uint64_t chunks_at_kill = checkpoint["migration"]["chunks"];
  ASSERT_EQ(checkpoint["migration"]["phase"], "copying") << "w1 was not killed mid-copy: " << checkpoint.dump(1);
  EXPECT_EQ(checkpoint["worker"], "w1");
  EXPECT_EQ(checkpoint["token"], 1);

  // The next delivery goes to w2 with a new token and the checkpoint: it
  // continues the same migration. It is frozen as soon as its first
  // checkpoint is stored (watched closely: it copies fast), while the test
  // checks the fence (the lease is still w2's: nobody else runs).
  cluster.StartWorker("w2", small);
  bool frozen = false;
  for (const auto deadline = std::chrono::steady_clock::now() + 60s;
       !frozen && std::chrono::steady_clock::now() < deadline; std::this_thread::sleep_for(5ms)) {
    const json m = f.Migrations(job);
    if (m.size() == 1 && m[0].value("token", 0) == 2) {
      cluster.SignalWorker("w2", SIGSTOP);
      frozen = true;
    }
  }
  ASSERT_TRUE(frozen) << f.Migrations(job).dump(1) << cluster.WorkerLog("w2");

  // w1's token is stale now: a checkpoint under it is refused (recorded as
  // job.fenced) and the stored checkpoint is not w1's.
  const actors::LeaseReplyInfo stale = SendCheckpoint(cluster, job, "w1", 1, checkpoint["migration"]);
  EXPECT_FALSE(stale.granted);
  EXPECT_NE(stale.reason.find("token 1 superseded by token 2"), std::string::npos) << stale.reason;
  EXPECT_EQ(stale.token, 2u);
  EXPECT_EQ(stale.holder, "w2");
  const std::vector<json> fenced = f.EventsOfJob("job.fenced", job);
  ASSERT_EQ(fenced.size(), 1u);
  EXPECT_EQ(fenced[0]["details"]["migration"], id);
  EXPECT_EQ(fenced[0]["details"]["fence"], 1);
  EXPECT_EQ(fenced[0]["details"]["current_fence"], 2);
  // Nor may a checkpoint come without a token, or not be a migration.
  EXPECT_FALSE(SendCheckpoint(cluster, job, "w2", 0, checkpoint["migration"]).granted);
  const actors::LeaseReplyInfo garbage =
      SendCheckpoint(cluster, job, "w2", 2, json{{"id", "../../x"}, {"phase", "copying"}});
  EXPECT_FALSE(garbage.granted);
  EXPECT_NE(garbage.reason.find("8 lowercase hex digits"), std::string::npos) << garbage.reason;

  EXPECT_EQ(cluster.Job(job)["state"], "running");
  cluster.SignalWorker("w2", SIGCONT);
  const json j = f.FinishedBy(job, "w2", writer);
  ASSERT_TRUE(j.is_object());

  // w2 took the migration up where w1's last checkpoint left it ...
  const json resumed = f.EventsOfJob("migration.resumed", job)[0];
  EXPECT_EQ(resumed["actor"]["service"], "worker:w2") << resumed.dump();
  EXPECT_EQ(resumed["details"]["migration"], id);
  EXPECT_EQ(resumed["details"]["rows_copied"], rows_at_kill) << resumed.dump();
  EXPECT_EQ(resumed["details"]["chunks"], chunks_at_kill);
  bool resumes_listed = false;
  for (const json& e : cluster.AuditEvents("job.leased")) {
    if (e["details"]["job"] == job && e["details"]["worker"] == "w2") {
      EXPECT_EQ(e["details"]["fence"], 2) << e.dump();
      resumes_listed = e["details"].contains("resumes") && e["details"]["resumes"] == json::array({id});
    }
  }
  EXPECT_TRUE(resumes_listed);
  // ... one migration, started once, finished by w2, which copied only what
  // came after the checkpoint: fewer rows than the table has.
  const json last = f.Migrations(job);
  ASSERT_EQ(last.size(), 1u) << last.dump(1);
  EXPECT_EQ(last[0]["migration"]["id"], id);
  EXPECT_EQ(last[0]["migration"]["phase"], "cut-over");
  EXPECT_EQ(last[0]["worker"], "w2");
  EXPECT_EQ(last[0]["token"], 2);
  const uint64_t rows_total = last[0]["migration"]["rows_copied"];
  const uint64_t table_rows = std::strtoull(testing::RootSql("SELECT COUNT(*) FROM t", f.db).c_str(), nullptr, 10);
  std::cout << "[ resume ] w1 copied " << rows_at_kill << " rows in " << chunks_at_kill << " chunks; w2 "
            << rows_total - rows_at_kill << " more of " << table_rows << "\n";
  EXPECT_GE(rows_at_kill, 1000u);
  EXPECT_LT(rows_total - rows_at_kill, table_rows) << "w2 copied the whole table again";
  EXPECT_GT(last[0]["migration"]["chunks"].get<uint64_t>(), chunks_at_kill);
  EXPECT_EQ(f.EventsOfJob("migration.started", job).size(), 1u);
  const std::vector<json> cutover = f.EventsOfJob("migration.cutover", job);
  ASSERT_EQ(cutover.size(), 1u);
  EXPECT_EQ(cutover[0]["actor"]["service"], "worker:w2");
  cluster.ExpectSecretNowhere(f.password, f.dbs.user());
}

// A plan whose online copy is its second operation: a worker killed during
// the copy leaves the first one done, and the next delivery goes on at the
// copy (the hash the migration recorded at its start is the one the
// database learns to), instead of stopping at drift.
TEST(ClusterOnlineTest, ARedeliveredPlanGoesOnAtTheOnlineCopyItsEarlierOperationsLeadTo) {
  OnlineCluster f("onm", /*job_ack_wait_s=*/3, "; CREATE TABLE a_log (id int NOT NULL PRIMARY KEY)",
                  "; CREATE TABLE a_log (id int NOT NULL PRIMARY KEY, note varchar(20))");
  const json plan = json::parse(testing::ReadFile(f.plan), nullptr, false);
  ASSERT_TRUE(plan.is_object()) << f.plan;
  ASSERT_EQ(plan["operations"].size(), 2u) << plan.dump(1);
  ASSERT_EQ(plan["operations"][0]["object"], "a_log") << plan.dump(1);
  ASSERT_EQ(plan["operations"][1]["object"], "t") << plan.dump(1);
  ASSERT_TRUE(f.Start());
  SqlxCluster& cluster = f.cluster;
  Writer writer(f.db, f.control, KeyStyle{}, kRows);
  writer.Start();

  cluster.StartWorker("w1", {"--chunk-time", "0.01"});
  const std::string job = f.StartApply();
  ASSERT_FALSE(job.empty());
  std::string id;
  ASSERT_TRUE(PollUntil(
      [&] {
        const json m = f.Migrations(job);
        if (m.size() != 1 || m[0]["migration"]["phase"] != "copying" ||
            m[0]["migration"]["rows_copied"].get<uint64_t>() < 1000)
          return false;
        cluster.StopWorker("w1", SIGKILL);
        id = m[0]["migration"]["id"];
        return true;
      },
      60s))
      << f.Migrations(job).dump(1) << cluster.WorkerLog("w1");
  // The first operation ran before the copy began, and the copy recorded
  // the hash the database had then.
  EXPECT_EQ(std::stoi(testing::RootSql("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = "
                                       "DATABASE() AND TABLE_NAME = 'a_log' AND COLUMN_NAME = 'note'",
                                       f.db)),
            1);
  EXPECT_NE(f.Migrations(job)[0]["migration"].value("database_hash", ""), "");

  cluster.StartWorker("w2", {"--chunk-time", "0.01"});
  const json j = f.FinishedBy(job, "w2", writer);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["summary"]["applied"], 2) << j.dump(1);
  const std::vector<json> resumed = f.EventsOfJob("migration.resumed", job);
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_EQ(resumed[0]["actor"]["service"], "worker:w2") << resumed[0].dump();
  EXPECT_EQ(resumed[0]["details"]["migration"], id);
  EXPECT_EQ(f.EventsOfJob("migration.started", job).size(), 1u);
  const json last = f.Migrations(job);
  ASSERT_EQ(last.size(), 1u) << last.dump(1);
  EXPECT_EQ(last[0]["migration"]["phase"], "cut-over");
}

}  // namespace
}  // namespace sqlx
