// Rollouts of changes that copy a table (docs/rollouts.md, docs/cluster.md
// "Online copies"): a column type change rolled out across three MariaDB
// servers with ten databases each while a writer runs on every target;
// each target is copied online by a worker, a worker killed mid-copy leaves
// its target to another that resumes from the checkpoint; then the revert
// copies every target back, the writers still running: no write is lost
// (each table equals its control table) and every hash is where it belongs.
#include <signal.h>

#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fleet_databases.h"
#include "own_mariadb.h"
#include "sqlx_cluster.h"
#include "table_writer.h"
#include "temp_dir.h"
#include "test_env.h"

namespace sqlx {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::FleetDatabases;
using testing::KeyStyle;
using testing::PollUntil;
using testing::SqlxCluster;
using testing::Writer;

constexpr int kServers = 3;
constexpr int kDatabases = 10;
// Every server's first database is larger, so that the canary's copy (the
// first database of the server that sorts first, and the servers' ports are
// picked at random) lasts long enough to kill its worker in the middle.
constexpr uint64_t kRows = 3000, kCanaryRows = 60000;
const char* kFrom = "CREATE TABLE t (id int NOT NULL PRIMARY KEY, k int NOT NULL, v varchar(40), KEY k (k))";
const char* kTo = "CREATE TABLE t (id int NOT NULL PRIMARY KEY, k bigint NOT NULL, v varchar(40), KEY k (k));\n";

// One target: a database on a server, its control database beside it (the
// same writes, never migrated, out of the account's sight) and its writer.
struct Target {
  std::string connection, db, control;
  int port = 0;
  uint64_t rows = 0;
  std::unique_ptr<Writer> writer;
};

// Three servers (the shared MariaDB and two of the test's own), each with
// kDatabases databases of one table `t` an account of their own can change,
// a connection "sN" tagged prod, and a cluster whose jobs go to another
// worker 3 s after theirs stopped answering.
struct ThreeServerFleet {
  explicit ThreeServerFleet(const std::string& tag) : tag_(tag), cluster(tag, testing::NatsUrl(), 3) {}
  ~ThreeServerFleet() {
    for (Target& t : targets)
      if (t.writer) t.writer->Stop();
    cluster.StopAll();
    for (Target& t : targets) testing::RootSqlAt(t.port, "DROP DATABASE IF EXISTS `" + t.control + "`");
  }
  bool Start() {
    for (testing::OwnMariaDb* own : {&own1, &own2}) {
      if (own->port() == 0) {
        ADD_FAILURE() << own->error();
        return false;
      }
    }
    const int ports[kServers] = {shared_port, own1.port(), own2.port()};
    for (int s = 0; s < kServers; ++s) {
      const std::string name = testing::FleetName(tag_ + std::to_string(s));
      fleets.push_back(std::make_unique<FleetDatabases>(ports[s], name, kDatabases, 0, password));
      std::string sql;
      for (int d = 0; d < kDatabases; ++d) {
        Target t{"s" + std::to_string(s), fleets.back()->databases()[d], name + "c_" + std::to_string(d), ports[s],
                 d == 0 ? kCanaryRows : kRows, nullptr};
        const std::string fill = "INSERT INTO t (id, k, v) SELECT seq, seq MOD 1000, CONCAT('v', seq) FROM seq_1_to_" +
                                 std::to_string(t.rows) + ";";
        sql += "DROP DATABASE IF EXISTS `" + t.control + "`; CREATE DATABASE `" + t.control + "`;";
        for (const std::string& db : {t.db, t.control}) sql += "USE `" + db + "`; " + kFrom + "; " + fill;
        targets.push_back(std::move(t));
      }
      testing::RootSqlAt(ports[s], sql);
    }
    if (!cluster.StartOrchestrator()) return false;
    for (int s = 0; s < kServers; ++s)
      cluster.SqlxJson({"connections", "add", "s" + std::to_string(s), fleets[s]->Url(), "--tag", "prod"}, "",
                       {{"SQLX_PASSWORD", password}});
    return true;
  }
  void StartWriters() {
    for (Target& t : targets) {
      t.writer = std::make_unique<Writer>(t.db, t.control, KeyStyle{}, t.rows, t.port, 20ms);
      t.writer->Start();
    }
  }
  const Target& Of(const std::string& db) const {
    for (const Target& t : targets)
      if (t.db == db) return t;
    ADD_FAILURE() << "no target " << db;
    return targets.front();
  }
  // The profile hash of `t` as its account learns it.
  std::string Hash(const Target& t) {
    testing::Env env = testing::SqlxBaseEnv();
    env["SQLX_PASSWORD"] = password;
    const testing::RunResult r =
        testing::Subprocess({testing::SqlxBinary(), "--format", "json", "snapshot",
                             "mysql://" + t.db.substr(0, t.db.rfind('_')) + "@127.0.0.1:" + std::to_string(t.port) +
                                 "/" + t.db + "?ssl-mode=disabled"},
                            env)
            .Wait(testing::SqlxDeadline());
    EXPECT_EQ(r.exit_code, 0) << testing::DescribeRun(r);
    const json snapshot = json::parse(r.out, nullptr, false);
    return snapshot.is_object() ? snapshot.value("profile_hash", "") : "";
  }
  // `sqlx --format json rollout ARGS` (root on the shared server learns a
  // .sql desired state): its exit code and answer.
  std::pair<int, json> Rollout(std::vector<std::string> args) {
    args.insert(args.begin(), {"--format", "json", "rollout"});
    const testing::RunResult r = cluster.Sqlx(args, "", {{"SQLX_PASSWORD", testing::MariaDbRootPassword()}});
    const json answer = json::parse(r.out, nullptr, false);
    EXPECT_TRUE(answer.is_object()) << testing::DescribeRun(r);
    return {r.exit_code, answer};
  }
  std::vector<json> EventsOfJob(const std::string& action, const std::string& job) {
    std::vector<json> out;
    for (const json& e : cluster.AuditEvents(action))
      if (e["details"].is_object() && e["details"].value("job", "") == job) out.push_back(e);
    return out;
  }

  const std::string tag_;
  const std::string password = testing::NewPassword();
  // Read before the own servers start: while they live, the process's
  // SQLX_TEST_MARIADB_* point at the last of them.
  const int shared_port = testing::SharedMariaDbPort();
  testing::OwnMariaDb own1, own2;
  std::vector<std::unique_ptr<FleetDatabases>> fleets;
  std::vector<Target> targets;
  SqlxCluster cluster;
};

TEST(RolloutOnlineTest, AnOnlineCopyRolloutUnderWritersSurvivesAKilledWorkerAndRevertsWithoutLosingWrites) {
  const auto started = std::chrono::steady_clock::now();
  ThreeServerFleet fleet("rol");
  ASSERT_TRUE(fleet.Start());
  SqlxCluster& cluster = fleet.cluster;
  testing::TempDir dir("sqlx-rollout-online.");
  const std::string desired = dir.path() + "/desired.sql";
  testing::WriteFile(desired, kTo);
  // Small chunks: a checkpoint every few hundred rows.
  const std::vector<std::string> small = {"--chunk-time", "0.01"};
  cluster.StartWorker("w1", small);
  cluster.StartWorker("w2", small);
  cluster.LearnAndWait();
  fleet.StartWriters();
  std::this_thread::sleep_for(300ms);

  const std::string dev = "mysql://root@127.0.0.1:" + std::to_string(fleet.shared_port) + "?ssl-mode=disabled";
  auto [code, created] =
      fleet.Rollout({"create", "--to", desired, "--dev-url", dev, "--targets", "tag:prod", "--canary", "1"});
  ASSERT_EQ(code, 0) << created.dump(1);
  const std::string id = created["id"];
  const std::string canary_job = created["targets"][0]["job"];
  ASSERT_FALSE(canary_job.empty()) << created.dump(1);
  bool canary_is_large = false;
  for (const Target& t : fleet.targets)
    canary_is_large = canary_is_large || (t.db == created["targets"][0]["database"] && t.rows == kCanaryRows);
  ASSERT_TRUE(canary_is_large) << created.dump(1);

  // The canary's copy, a few chunks in: the orchestrator is frozen (the
  // worker's next checkpoint waits for its answer), the worker killed there.
  std::string killed;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  for (;;) {
    const json m = cluster.Get("/v1/migrations?job=" + canary_job)["migrations"];
    if (m.size() == 1 && m[0]["migration"]["phase"] == "copying" &&
        m[0]["migration"]["rows_copied"].get<uint64_t>() >= 1000) {
      cluster.SignalOrchestrator(SIGSTOP);
      killed = m[0]["worker"];
      break;
    }
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << m.dump(1);
    ASSERT_FALSE(m.size() == 1 && m[0]["migration"]["phase"] != "copying" &&
                 m[0]["migration"]["phase"] != "preparing")
        << "the canary's copy ended before it could be caught: " << m.dump(1);
    std::this_thread::sleep_for(2ms);
  }
  std::this_thread::sleep_for(200ms);
  cluster.StopWorker(killed, SIGKILL);
  cluster.SignalOrchestrator(SIGCONT);
  cluster.StartWorker("w3", small);

  auto [done_code, done] = fleet.Rollout({"status", id, "--wait", "--timeout", "150"});
  ASSERT_EQ(done_code, 0) << done.dump(1);
  EXPECT_EQ(done["state"], "completed") << done.dump(1);
  EXPECT_EQ(done["counts"], (json{{"done", kServers * kDatabases}})) << done.dump(1);
  const int64_t completed_ns = done["finished_ns"];

  // Another worker took the canary's migration up from its checkpoint.
  const std::vector<json> resumed = fleet.EventsOfJob("migration.resumed", canary_job);
  ASSERT_EQ(resumed.size(), 1u) << cluster.Get("/v1/migrations?job=" + canary_job).dump(1);
  EXPECT_NE(resumed[0]["actor"]["service"], "worker:" + killed) << resumed[0].dump();
  EXPECT_GE(resumed[0]["details"]["rows_copied"].get<uint64_t>(), 1000u) << resumed[0].dump();
  EXPECT_EQ(fleet.EventsOfJob("migration.started", canary_job).size(), 1u);
  // Every target was copied online and is at the desired hash, its table
  // equal to its control (one statement reads both consistently).
  std::map<std::string, std::string> from_hash;
  for (const json& t : done["targets"]) {
    const Target& target = fleet.Of(t["database"]);
    from_hash[target.db] = t["from_hash"];
    const json job = cluster.Job(t["job"]);
    EXPECT_EQ(job["summary"]["result"], "applied") << job.dump(1);
    EXPECT_EQ(fleet.Hash(target), job["summary"]["to_hash"]) << target.db;
    EXPECT_EQ(testing::RowsDiffering(target.db, target.control, KeyStyle{}, target.port), 0u)
        << target.db << ": " << target.writer->messages_;
    const json migrations = cluster.Get("/v1/migrations?job=" + t["job"].get<std::string>())["migrations"];
    ASSERT_EQ(migrations.size(), 1u) << t.dump();
    EXPECT_EQ(migrations[0]["migration"]["phase"], "cut-over") << migrations.dump(1);
  }
  std::map<std::string, uint64_t> commits_at_completion;
  for (const Target& t : fleet.targets) commits_at_completion[t.db] = t.writer->commits();
  std::this_thread::sleep_for(500ms);

  // The revert copies every target back while the writers go on.
  auto [reverted_code, reverted] = fleet.Rollout({"revert", id, "--wait", "--timeout", "150"});
  ASSERT_EQ(reverted_code, 0) << reverted.dump(1);
  EXPECT_EQ(reverted["state"], "reverted") << reverted.dump(1);
  EXPECT_EQ(reverted["counts"], (json{{"reverted", kServers * kDatabases}})) << reverted.dump(1);
  std::this_thread::sleep_for(300ms);
  for (Target& t : fleet.targets) {
    t.writer->Stop();
    ASSERT_EQ(t.writer->failure(), "") << t.db;
    EXPECT_GT(t.writer->commits(), commits_at_completion[t.db]) << t.db << ": no write after the cut-over";
    EXPECT_EQ(testing::RowsDiffering(t.db, t.control, KeyStyle{}, t.port), 0u) << t.db << ": " << t.writer->messages_;
    EXPECT_EQ(fleet.Hash(t), from_hash[t.db]) << t.db;
    EXPECT_EQ(testing::RootSqlAt(t.port, "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '" +
                                             t.db + "' AND TABLE_NAME = 't' AND COLUMN_NAME = 'k'"),
              "int\n")
        << t.db;
  }
  // Each revert was an online copy of its own.
  size_t reverts = 0;
  const json jobs = cluster.Get("/v1/jobs?run=" + id);
  for (const json& j : jobs["jobs"]) {
    if (!j["params"].value("revert", false)) continue;
    ++reverts;
    EXPECT_GE(j["finished_ns"].get<int64_t>(), completed_ns);
    const json migrations = cluster.Get("/v1/migrations?job=" + j["id"].get<std::string>())["migrations"];
    EXPECT_EQ(migrations.size(), 1u) << j.dump(1);
  }
  EXPECT_EQ(reverts, static_cast<size_t>(kServers * kDatabases)) << jobs.dump(1).substr(0, 3000);
  cluster.ExpectSecretNowhere(fleet.password, fleet.fleets[0]->user());
  std::cout << "[ rollout ] apply, kill, resume and revert of " << kServers * kDatabases << " targets in "
            << std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count()
            << "s\n";
}

}  // namespace
}  // namespace sqlx
