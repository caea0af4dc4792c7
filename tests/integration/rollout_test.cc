// Rollouts (docs/rollouts.md) end to end: `sqlx rollout` against an
// orchestrator and two workers on the test nats-server, over databases on
// the shared MariaDB and a MariaDB of the test's own. An instant ADD COLUMN
// rolled out with a canary and waves, never more than one apply at once per
// server, then reverted back to every original hash; a new UNIQUE key over
// duplicate rows pausing the rollout at that target, resumed once the data
// is fixed; an orchestrator killed mid-wave going on after its restart;
// per-wave timings, a target in flight with what its worker reports and
// `status --watch` stopping at an approval gate; two rollouts on one server
// never running two applies there at once; a target held for drift planned
// again from its re-learned snapshot on resume.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
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

// The columns named `column` in `db` on the server at `port`, as "t0,".
std::string TablesWithColumn(int port, const std::string& db, const std::string& column) {
  return testing::RootSqlAt(port, "SELECT CONCAT(IFNULL(GROUP_CONCAT(TABLE_NAME ORDER BY TABLE_NAME), ''), ',') FROM "
                                  "information_schema.COLUMNS WHERE TABLE_SCHEMA = '" +
                                      db + "' AND COLUMN_NAME = '" + column + "'");
}

std::vector<std::string> Actions(SqlxCluster& cluster, const std::string& prefix, const std::string& rollout) {
  std::vector<std::string> out;
  for (const json& e : cluster.AuditEvents()) {
    const std::string action = e["action"].get<std::string>();
    if (action.rfind(prefix, 0) == 0 && e["details"].value("rollout", "") == rollout) out.push_back(action);
  }
  return out;
}

// Two servers: the shared MariaDB and one of the test's own, each with
// databases tagged prod, and two workers.
struct TwoServerFleet {
  TwoServerFleet(const std::string& tag, int shared_dbs, int own_dbs)
      : shared(shared_port, testing::FleetName(tag + "a"), shared_dbs, 2, password),
        own_dbs_(own_dbs),
        cluster(tag, testing::NatsUrl()) {}
  bool Start() {
    if (own.port() == 0) {
      ADD_FAILURE() << own.error();
      return false;
    }
    mine = std::make_unique<FleetDatabases>(own.port(), testing::FleetName(own_tag()), own_dbs_, 2, password);
    if (!cluster.StartOrchestrator()) return false;
    cluster.StartWorker("w1");
    cluster.StartWorker("w2");
    for (const auto& [name, url] : {std::pair{"shared", shared.Url()}, std::pair{"own", mine->Url()}}) {
      cluster.SqlxJson({"connections", "add", name, url, "--tag", "prod"}, "", {{"SQLX_PASSWORD", password}});
    }
    return true;
  }
  std::string own_tag() const { return "o" + std::to_string(own_dbs_); }
  int PortOf(const std::string& connection) {
    return connection == "shared" ? shared_port : own.port();
  }
  // Every (connection, database).
  std::vector<std::pair<std::string, std::string>> All() const {
    std::vector<std::pair<std::string, std::string>> out;
    for (const std::string& db : shared.databases()) out.emplace_back("shared", db);
    for (const std::string& db : mine->databases()) out.emplace_back("own", db);
    return out;
  }

  const std::string password = testing::NewPassword();
  // Read before `own` starts: while it lives, the process's
  // SQLX_TEST_MARIADB_* point at it.
  const int shared_port = testing::SharedMariaDbPort();
  testing::OwnMariaDb own;
  FleetDatabases shared;
  std::unique_ptr<FleetDatabases> mine;
  int own_dbs_;
  SqlxCluster cluster;  // stopped first
};

// With one apply at a time per server, no two jobs of a server overlap,
// whichever of `rollouts` they belong to (each connection is a server of its own).
void ExpectOneAtATimePerServer(SqlxCluster& cluster, const std::vector<std::string>& rollouts) {
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> per_server;
  for (const std::string& rollout : rollouts) {
    for (const json& j : cluster.Get("/v1/jobs?run=" + rollout)["jobs"])
      per_server[j["connection"].get<std::string>()].emplace_back(j["started_ns"].get<int64_t>(),
                                                                  j["finished_ns"].get<int64_t>());
  }
  for (auto& [server, spans] : per_server) {
    std::sort(spans.begin(), spans.end());
    for (size_t i = 1; i < spans.size(); ++i)
      EXPECT_GE(spans[i].first, spans[i - 1].second) << server << ": two applies at once";
  }
}

// A rollout of the note column over the held fleet's databases, a canary
// of one and `extra` options, whose canary's worker w1 waits at the proxy
// mid-job: the rollout as created (null after a failure).
json CreateWithCanaryHeld(testing::HeldFleet& fleet, const std::string& dir, const std::vector<std::string>& extra) {
  SqlxCluster& cluster = fleet.cluster;
  cluster.StartWorker("w1");
  cluster.LearnAndWait();
  fleet.proxy.Hold();
  std::vector<std::string> args = {"create",    "--to",      DesiredSql(dir, 2, ", note INT"),
                                   "--dev-url", DevUrl(),    "--targets",
                                   "name:held/" + fleet.dbs.user() + "_*", "--canary", "1"};
  args.insert(args.end(), extra.begin(), extra.end());
  auto [code, r] = Rollout(cluster, args);
  EXPECT_EQ(code, 0) << r.dump(1);
  if (code != 0) return json();
  const std::string job = r["targets"][0]["job"].get<std::string>();
  const bool held = testing::WaitMidJob(cluster, fleet.proxy, job, "w1");
  EXPECT_TRUE(held) << cluster.Job(job).dump(1);
  return held ? r : json();
}

TEST(RolloutTest, ACanaryAndWavesApplyEverywhereAndRevertBringsEveryHashBack) {
  TwoServerFleet fleet("roll", 4, 3);
  ASSERT_TRUE(fleet.Start());
  SqlxCluster& cluster = fleet.cluster;
  testing::TempDir dir("sqlx-rollout.");
  // One database already has the change: its target is skipped as done.
  const std::string ahead = fleet.shared.databases()[3];
  fleet.shared.Sql("ALTER TABLE `" + ahead + "`.t0 ADD COLUMN note INT");
  cluster.LearnAndWait();

  const std::string desired = DesiredSql(dir.path(), 2, ", note INT");
  auto [code, r] = Rollout(cluster, {"create", "--to", desired, "--dev-url", DevUrl(), "--targets", "tag:prod",
                                     "--canary", "1", "--waves", "50%,100%", "--wait", "--timeout", "120"});
  ASSERT_EQ(code, 0) << r.dump(1);
  const std::string id = r["id"].get<std::string>();
  EXPECT_EQ(r["state"], "completed") << r.dump(1);
  EXPECT_EQ(r["waves"], 3);
  EXPECT_EQ(r["counts"], (json{{"done", 6}, {"skipped", 1}})) << r.dump(1);
  for (const auto& [connection, db] : fleet.All())
    EXPECT_EQ(TablesWithColumn(fleet.PortOf(connection), db, "note"), "t0,\n") << connection << "/" << db;
  size_t canary = 0;
  std::set<std::string> servers;
  for (const json& t : r["targets"]) {
    servers.insert(t["server"].get<std::string>());
    canary += t["wave"] == 0 ? 1 : 0;
    if (t["database"] == ahead) {
      EXPECT_EQ(t["state"], "skipped") << t.dump();
    }
  }
  EXPECT_EQ(canary, 1u);
  EXPECT_EQ(servers.size(), 2u);
  ExpectOneAtATimePerServer(cluster, {id});
  // Each wave's start, end and time; each target's.
  ASSERT_EQ(r["timings"].size(), 3u) << r.dump(1);
  EXPECT_EQ(r["timings"][0]["name"], "canary");
  EXPECT_EQ(r["timings"][2]["name"], "wave 2 of 2");
  int64_t previous_end = 0;
  for (const json& w : r["timings"]) {
    EXPECT_GE(w["started_ns"].get<int64_t>(), previous_end) << w.dump();
    EXPECT_GE(w["finished_ns"].get<int64_t>(), w["started_ns"].get<int64_t>()) << w.dump();
    EXPECT_EQ(w["took_ms"], (w["finished_ns"].get<int64_t>() - w["started_ns"].get<int64_t>()) / 1'000'000);
    previous_end = w["finished_ns"].get<int64_t>();
  }
  for (const json& t : r["targets"]) {
    EXPECT_GT(t["started_ns"].get<int64_t>(), 0) << t.dump();
    EXPECT_GE(t["finished_ns"].get<int64_t>(), t["started_ns"].get<int64_t>()) << t.dump();
  }
  EXPECT_EQ(r["estimate"]["known"], false);
  EXPECT_EQ(r["estimate"]["note"], "nothing left to apply");
  const testing::RunResult text = cluster.Sqlx({"rollout", "status", id});
  EXPECT_EQ(text.exit_code, 0) << testing::DescribeRun(text);
  for (const char* shown : {"WAVE", "canary ", "wave 2 of 2", "FINISHED", "TOOK"})
    EXPECT_NE(text.out.find(shown), std::string::npos) << shown << "\n" << text.out;
  const std::vector<std::string> all = Actions(cluster, "rollout.", id);
  ASSERT_GE(all.size(), 5u);
  EXPECT_EQ(std::vector<std::string>(all.begin(), all.begin() + 5),
            (std::vector<std::string>{"rollout.created", "rollout.wave.started", "rollout.target.applied",
                                      "rollout.gate.passed", "rollout.wave.started"}));
  EXPECT_EQ(std::count(all.begin(), all.end(), "rollout.wave.started"), 3);
  EXPECT_EQ(all.back(), "rollout.completed");
  const std::vector<json> created = cluster.AuditEvents("rollout.created");
  ASSERT_EQ(created.size(), 1u);
  EXPECT_EQ(created[0]["actor"]["token_subject"], "admin");

  // Revert: each applied target back to its original schema, newest first.
  auto [reverted_code, reverted] = Rollout(cluster, {"revert", id, "--wait", "--timeout", "120"});
  ASSERT_EQ(reverted_code, 0) << reverted.dump(1);
  EXPECT_EQ(reverted["state"], "reverted");
  EXPECT_EQ(reverted["counts"], (json{{"reverted", 6}, {"skipped", 1}})) << reverted.dump(1);
  for (const auto& [connection, db] : fleet.All())
    EXPECT_EQ(TablesWithColumn(fleet.PortOf(connection), db, "note"), db == ahead ? "t0,\n" : ",\n") << db;
  std::vector<std::pair<int64_t, std::string>> applied, undone;  // (finished, target)
  for (const json& j : cluster.Get("/v1/jobs?run=" + id)["jobs"]) {
    const bool revert = j["params"].value("revert", false);
    (revert ? undone : applied).emplace_back(j["finished_ns"].get<int64_t>(), j["databases"][0].get<std::string>());
  }
  std::sort(applied.begin(), applied.end());
  std::sort(undone.begin(), undone.end());
  ASSERT_EQ(applied.size(), undone.size());
  for (size_t i = 0; i < applied.size(); ++i)
    EXPECT_EQ(undone[i].second, applied[applied.size() - 1 - i].second) << "newest first";
  // Learned again, every database is at the hash it had before the rollout.
  const json learned = cluster.LearnAndWait();
  EXPECT_EQ(learned["changes"], (json{{"unchanged", 7}})) << learned.dump(1);
  EXPECT_EQ(Actions(cluster, "rollout.reverted", id).size(), 1u);
  auto [again, refused] = Rollout(cluster, {"resume", id});
  EXPECT_NE(again, 0);
}

TEST(RolloutTest, AFailedTargetPausesTheRolloutAndResumeCompletesItOnceTheDataIsFixed) {
  TwoServerFleet fleet("rfail", 3, 2);
  ASSERT_TRUE(fleet.Start());
  SqlxCluster& cluster = fleet.cluster;
  testing::TempDir dir("sqlx-rollout.");
  // The targets in rollout order: servers (host:port) take turns.
  const std::string shared_server = "127.0.0.1:" + std::to_string(fleet.shared_port);
  const std::string own_server = "127.0.0.1:" + std::to_string(fleet.own.port());
  const bool shared_first = shared_server < own_server;
  // The second database of the first server is in wave 1 (canary 1, then
  // 50% of 4 = 2: the other server's first, this one).
  const std::string bad_connection = shared_first ? "shared" : "own";
  const std::string bad_db = shared_first ? fleet.shared.databases()[1] : fleet.mine->databases()[1];
  const int bad_port = fleet.PortOf(bad_connection);
  testing::RootSqlAt(bad_port, "INSERT INTO `" + bad_db + "`.t0 VALUES (1, 'dup', NULL), (2, 'dup', NULL)");
  cluster.LearnAndWait();

  const std::string desired = DesiredSql(dir.path(), 2, ", UNIQUE KEY uk_name (name)");
  auto [code, r] = Rollout(cluster, {"create", "--to", desired, "--dev-url", DevUrl(), "--targets", "tag:prod/*",
                                     "--canary", "1", "--waves", "50%,100%", "--wait", "--timeout", "120"});
  EXPECT_EQ(code, 1) << "a rollout that ends paused fails --wait: " << r.dump(1);
  const std::string id = r["id"].get<std::string>();
  ASSERT_EQ(r["state"], "paused") << r.dump(1);
  EXPECT_EQ(r["wave"], 1);
  const std::string reason = r["reason"].get<std::string>();
  EXPECT_NE(reason.find(bad_connection + "/" + bad_db), std::string::npos) << reason;
  for (const json& t : r["targets"]) {
    if (t["wave"] == 2) {
      EXPECT_EQ(t["state"], "pending") << "no further wave started: " << t.dump();
    }
    if (t["database"] == bad_db) {
      EXPECT_EQ(t["state"], "failed") << t.dump();
    }
  }
  EXPECT_EQ(cluster.Get("/v1/jobs?run=" + id)["jobs"].size(), 3u) << "the canary and wave 1's two";
  std::vector<json> paused = cluster.AuditEvents("rollout.paused");
  ASSERT_EQ(paused.size(), 1u);
  EXPECT_EQ(paused[0]["actor"]["service"], "orchestrator");
  EXPECT_EQ(TablesWithColumn(bad_port, bad_db, "name"), "t0,t1,\n");

  // Resuming without a fix fails the same way; the fix lets it complete.
  testing::RootSqlAt(bad_port, "DELETE FROM `" + bad_db + "`.t0 WHERE id = 2");
  auto [resumed_code, resumed] = Rollout(cluster, {"resume", id, "--wait", "--timeout", "120"});
  ASSERT_EQ(resumed_code, 0) << resumed.dump(1);
  EXPECT_EQ(resumed["state"], "completed");
  EXPECT_EQ(resumed["counts"], (json{{"done", 5}}));
  for (const json& t : resumed["targets"]) {
    if (t["database"] == bad_db) {
      EXPECT_EQ(t["attempts"], 2) << t.dump();
    }
  }
  const std::vector<json> resumes = cluster.AuditEvents("rollout.resumed");
  ASSERT_EQ(resumes.size(), 1u);
  EXPECT_EQ(resumes[0]["actor"]["token_subject"], "admin");
  for (const auto& [connection, db] : fleet.All()) {
    const std::string keys = testing::RootSqlAt(
        fleet.PortOf(connection), "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '" + db +
                                      "' AND INDEX_NAME = 'uk_name'");
    EXPECT_EQ(keys, "1\n") << connection << "/" << db;
  }
  // A completed rollout is not paused, resumed or approved; an auditor
  // reads it and may not change it.
  EXPECT_EQ(cluster.Http("POST", "/v1/rollouts/" + id + "/pause", cluster.admin_token()).status, 409);
  const json auditor = cluster.SqlxJson({"tokens", "create", "--subject", "reader", "--role", "auditor"});
  const std::string token = auditor["token"].get<std::string>();
  EXPECT_EQ(cluster.Http("GET", "/v1/rollouts/" + id, token).status, 200);
  const testing::RunResult denied = cluster.Sqlx({"rollout", "abort", id}, token);
  EXPECT_NE(denied.exit_code, 0);
  EXPECT_NE(denied.err.find("role auditor may not POST"), std::string::npos) << denied.err;
}

TEST(RolloutTest, AnOrchestratorKilledMidWaveGoesOnAfterItsRestart) {
  testing::HeldFleet fleet("rkill", /*databases=*/3, /*job_ack_wait_s=*/10);
  ASSERT_TRUE(fleet.Start());
  SqlxCluster& cluster = fleet.cluster;
  testing::TempDir dir("sqlx-rollout.");
  const json r = CreateWithCanaryHeld(fleet, dir.path(), {});
  ASSERT_TRUE(r.is_object());
  const std::string id = r["id"].get<std::string>();

  cluster.StopOrchestrator(SIGKILL);
  ASSERT_TRUE(cluster.StartOrchestrator());
  fleet.proxy.Release();
  auto [status_code, done] = Rollout(cluster, {"status", id, "--wait", "--timeout", "120"});
  ASSERT_EQ(status_code, 0) << done.dump(1);
  EXPECT_EQ(done["state"], "completed") << done.dump(1);
  EXPECT_EQ(done["counts"], (json{{"done", 3}}));
  EXPECT_EQ(cluster.Get("/v1/jobs?run=" + id)["jobs"].size(), 3u) << "one apply job per target";
  for (const std::string& db : fleet.dbs.databases())
    EXPECT_EQ(TablesWithColumn(testing::SharedMariaDbPort(), db, "note"), "t0,\n") << db;
  EXPECT_EQ(Actions(cluster, "rollout.completed", id).size(), 1u);
}

TEST(RolloutTest, StatusShowsTheTargetInFlightAndWatchStopsAtTheApprovalGate) {
  testing::HeldFleet fleet("rwatch", /*databases=*/3, /*job_ack_wait_s=*/10);
  ASSERT_TRUE(fleet.Start());
  SqlxCluster& cluster = fleet.cluster;
  testing::TempDir dir("sqlx-rollout.");
  const json r = CreateWithCanaryHeld(fleet, dir.path(), {"--gate", "approval"});
  ASSERT_TRUE(r.is_object());
  const std::string id = r["id"].get<std::string>();

  // The canary in flight: what its worker reports, the wave so far.
  const json running = cluster.Get("/v1/rollouts/" + id);
  const json& progress = running["targets"][0]["progress"];
  EXPECT_EQ(progress["job_state"], "running") << running.dump(1);
  EXPECT_EQ(progress["worker"], "w1");
  EXPECT_GT(progress["started_ns"].get<int64_t>(), 0);
  EXPECT_GE(progress["heartbeat_ns"].get<int64_t>(), progress["started_ns"].get<int64_t>());
  EXPECT_FALSE(running["targets"][1].contains("progress")) << "not in flight";
  EXPECT_EQ(running["timings"][0]["finished_ns"], 0);
  EXPECT_FALSE(running["timings"][0]["took_ms"].is_null());
  EXPECT_EQ(running["estimate"]["known"], false) << "no wave finished yet";
  const testing::RunResult text = cluster.Sqlx({"rollout", "status", id});
  EXPECT_NE(text.out.find("running on w1 for"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("so far"), std::string::npos) << text.out;

  // --watch (not a terminal): a line per change, until the approval gate: exit 3.
  fleet.proxy.Release();
  const testing::RunResult gated = cluster.Sqlx({"rollout", "status", id, "--watch", "--timeout", "120"});
  EXPECT_EQ(gated.exit_code, 3) << testing::DescribeRun(gated);
  EXPECT_NE(gated.out.find(id + ": canary (running)"), std::string::npos) << gated.out;
  EXPECT_NE(gated.out.rfind(id + ": gate after canary (gate)"), std::string::npos) << gated.out;
  const json at_gate = cluster.Get("/v1/rollouts/" + id);
  EXPECT_GT(at_gate["timings"][0]["finished_ns"].get<int64_t>(), 0);
  const json& estimate = at_gate["estimate"];
  ASSERT_EQ(estimate["known"], true) << at_gate.dump(1);
  EXPECT_EQ(estimate["targets_left"], 2);
  EXPECT_EQ(estimate["measured"], 1);
  EXPECT_EQ(estimate["concurrency"], 1) << "one server, one at once";
  EXPECT_EQ(estimate["approvals_ahead"], 1);
  EXPECT_NEAR(estimate["left_ms"].get<double>(), 2 * estimate["mean_target_ms"].get<double>(), 1.0);

  auto [approved, after] = Rollout(cluster, {"approve", id});
  ASSERT_EQ(approved, 0) << after.dump(1);
  const testing::RunResult done = cluster.Sqlx({"rollout", "status", id, "--watch", "--timeout", "120"});
  EXPECT_EQ(done.exit_code, 0) << testing::DescribeRun(done);
  EXPECT_NE(done.out.find(id + ": completed"), std::string::npos) << done.out;
  EXPECT_EQ(cluster.Sqlx({"rollout", "status", id, "--watch", "--wait"}).exit_code, 2) << "one or the other";
}

TEST(RolloutTest, TwoRolloutsOnOneServerNeverRunTwoAppliesThereAtOnce) {
  testing::HeldFleet fleet("rtwo", /*databases=*/6, /*job_ack_wait_s=*/10);
  ASSERT_TRUE(fleet.Start());
  SqlxCluster& cluster = fleet.cluster;
  cluster.StartWorker("w1");
  cluster.StartWorker("w2");
  cluster.LearnAndWait();
  testing::TempDir dir("sqlx-rollout.");
  const std::string desired = DesiredSql(dir.path(), 2, ", note INT");
  auto create = [&](const std::string& glob) {
    auto [code, r] = Rollout(cluster, {"create", "--to", desired, "--dev-url", DevUrl(), "--targets",
                                       "name:held/" + fleet.dbs.user() + glob, "--per-server", "1"});
    EXPECT_EQ(code, 0) << r.dump(1);
    return r;
  };
  // The first rollout's first apply waits at the proxy, in flight.
  fleet.proxy.Hold();
  const json first = create("_[012]");
  ASSERT_TRUE(first.contains("id"));
  const std::string job = first["targets"][0]["job"].get<std::string>();
  ASSERT_TRUE(testing::WaitMidJob(cluster, fleet.proxy, job, "")) << cluster.Job(job).dump(1);
  // The second starts nothing on that server meanwhile.
  const json second = create("_[345]");
  ASSERT_TRUE(second.contains("id"));
  const std::vector<std::string> ids = {first["id"].get<std::string>(), second["id"].get<std::string>()};
  std::this_thread::sleep_for(1s);  // two passes of the rollout loop
  const json waiting = cluster.Get("/v1/rollouts/" + ids[1]);
  EXPECT_EQ(waiting["counts"], (json{{"pending", 3}})) << waiting.dump(1);
  EXPECT_TRUE(cluster.Get("/v1/jobs?run=" + ids[1])["jobs"].empty());

  fleet.proxy.Release();
  for (const std::string& id : ids) {
    auto [code, r] = Rollout(cluster, {"status", id, "--wait", "--timeout", "120"});
    ASSERT_EQ(code, 0) << r.dump(1);
    EXPECT_EQ(r["counts"], (json{{"done", 3}})) << r.dump(1);
  }
  ExpectOneAtATimePerServer(cluster, ids);
  for (const std::string& db : fleet.dbs.databases())
    EXPECT_EQ(TablesWithColumn(testing::SharedMariaDbPort(), db, "note"), "t0,\n") << db;
}

TEST(RolloutTest, ATargetHeldForDriftIsPlannedAgainFromItsRelearnedSchemaOnResume) {
  const std::string password = testing::NewPassword();
  FleetDatabases dbs(testing::SharedMariaDbPort(), testing::FleetName("rdrift"), 3, 2, password);
  SqlxCluster cluster("rdrift", testing::NatsUrl());
  ASSERT_TRUE(cluster.StartOrchestrator());
  cluster.StartWorker("w1");
  cluster.AddConnection("one", dbs.Url(), password);
  cluster.LearnAndWait();
  testing::TempDir dir("sqlx-rollout.");
  const std::string desired = DesiredSql(dir.path(), 2, ", note INT");
  auto [code, r] = Rollout(cluster, {"create", "--to", desired, "--dev-url", DevUrl(), "--targets", "name:one",
                                     "--canary", "1", "--gate", "approval", "--allow-blocking", "--wait",
                                     "--timeout", "120"});
  ASSERT_EQ(code, 0) << r.dump(1);
  const std::string id = r["id"].get<std::string>();
  ASSERT_EQ(r["phase"], "gate after canary") << r.dump(1);
  ASSERT_EQ(r["targets"][1]["database"], dbs.databases()[1]);
  const std::string drifted = dbs.databases()[1];
  const std::string learned_before = r["targets"][1]["from_hash"].get<std::string>();

  // Its live schema drifts from what was learned: the worker holds it.
  dbs.Sql("ALTER TABLE `" + drifted + "`.t1 DROP KEY k_name");
  auto [held_code, held] = Rollout(cluster, {"approve", id, "--wait", "--timeout", "120"});
  EXPECT_EQ(held_code, 1) << held.dump(1);
  ASSERT_EQ(held["state"], "paused") << held.dump(1);
  EXPECT_EQ(held["targets"][1]["state"], "held") << held.dump(1);
  EXPECT_NE(held["reason"].get<std::string>().find(drifted), std::string::npos) << held["reason"];
  EXPECT_NE(held["targets"][1]["reason"].get<std::string>().find("learn it again"), std::string::npos);

  // Resumed without learning it again: still drifted, held again.
  auto [again_code, again] = Rollout(cluster, {"resume", id, "--wait", "--timeout", "120"});
  EXPECT_EQ(again_code, 1) << again.dump(1);
  ASSERT_EQ(again["state"], "paused") << again.dump(1);
  EXPECT_EQ(again["targets"][1]["state"], "held");
  EXPECT_EQ(again["targets"][1]["attempts"], 2);
  EXPECT_NE(again["targets"][1]["reason"].get<std::string>().find("drifted"), std::string::npos);

  // Learned again, resume plans it from its schema as it is now.
  cluster.LearnAndWait();
  auto [done_code, done] = Rollout(cluster, {"resume", id, "--wait", "--timeout", "120"});
  ASSERT_EQ(done_code, 0) << done.dump(1);
  EXPECT_EQ(done["state"], "completed") << done.dump(1);
  EXPECT_EQ(done["counts"], (json{{"done", 3}})) << done.dump(1);
  const json& target = done["targets"][1];
  EXPECT_EQ(target["attempts"], 3);
  EXPECT_NE(target["from_hash"], learned_before) << "planned from the re-learned schema";
  EXPECT_EQ(target["replan"], false);
  EXPECT_EQ(TablesWithColumn(testing::SharedMariaDbPort(), drifted, "note"), "t0,\n");
  EXPECT_EQ(testing::RootSqlAt(testing::SharedMariaDbPort(),
                               "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '" + drifted +
                                   "' AND TABLE_NAME = 't1' AND INDEX_NAME = 'k_name'"),
            "1\n")
      << "the plan from its drifted schema put the key back";
  // The revert goes back to the schema it was planned from: the drifted one.
  auto [reverted_code, reverted] = Rollout(cluster, {"revert", id, "--wait", "--timeout", "120"});
  ASSERT_EQ(reverted_code, 0) << reverted.dump(1);
  EXPECT_EQ(reverted["state"], "reverted") << reverted.dump(1);
  EXPECT_EQ(testing::RootSqlAt(testing::SharedMariaDbPort(),
                               "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = '" + drifted +
                                   "' AND TABLE_NAME = 't1' AND INDEX_NAME = 'k_name'"),
            "0\n");
}

}  // namespace
}  // namespace sqlx
