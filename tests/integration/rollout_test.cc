// Rollouts (docs/rollouts.md) end to end: `sqlx rollout` against an
// orchestrator and two workers on the test nats-server, over databases on
// the shared MariaDB and a MariaDB of the test's own. An instant ADD COLUMN
// rolled out with a canary and waves, never more than one apply at once per
// server, then reverted back to every original hash; a new UNIQUE key over
// duplicate rows pausing the rollout at that target, resumed once the data
// is fixed; an orchestrator killed mid-wave going on after its restart.
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fleet_databases.h"
#include "held_fleet.h"
#include "own_mariadb.h"
#include "sqlx_cluster.h"
#include "temp_dir.h"
#include "test_env.h"

namespace sqlx {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::FleetDatabases;
using testing::PollUntil;
using testing::SqlxCluster;

// The tables FleetDatabases makes, `t0_extra` added to t0's definition.
std::string DesiredSql(const std::string& dir, int tables, const std::string& t0_extra) {
  std::string sql;
  for (int t = 0; t < tables; ++t) {
    sql += "CREATE TABLE t" + std::to_string(t) + " (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, created DATETIME" +
           (t == 0 ? t0_extra : "") + ", KEY k_name (name));\n";
  }
  const std::string path = dir + "/desired.sql";
  testing::WriteFile(path, sql);
  return path;
}

// The dev server a .sql desired state is learned on: root on the shared MariaDB.
std::string DevUrl() { return "mysql://root@127.0.0.1:" + testing::MariaDbPort() + "?ssl-mode=disabled"; }
testing::Env RootPassword() { return {{"SQLX_PASSWORD", testing::MariaDbRootPassword()}}; }

// `sqlx --format json rollout ARGS`: its exit code and answer.
std::pair<int, json> Rollout(SqlxCluster& cluster, std::vector<std::string> args) {
  args.insert(args.begin(), {"--format", "json", "rollout"});
  const testing::RunResult r = cluster.Sqlx(args, "", RootPassword());
  const json answer = json::parse(r.out, nullptr, false);
  EXPECT_TRUE(answer.is_object()) << testing::DescribeRun(r);
  return {r.exit_code, answer};
}

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

// With one apply at a time per server, no two jobs of a server overlap.
void ExpectOneAtATimePerServer(SqlxCluster& cluster, const std::string& rollout) {
  const json jobs = cluster.Get("/v1/jobs?run=" + rollout);
  std::map<std::string, std::vector<std::pair<int64_t, int64_t>>> per_server;
  for (const json& j : jobs["jobs"])
    per_server[j["connection"].get<std::string>()].emplace_back(j["started_ns"].get<int64_t>(),
                                                                j["finished_ns"].get<int64_t>());
  for (auto& [server, spans] : per_server) {
    std::sort(spans.begin(), spans.end());
    for (size_t i = 1; i < spans.size(); ++i)
      EXPECT_GE(spans[i].first, spans[i - 1].second) << server << ": two applies at once";
  }
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
  ExpectOneAtATimePerServer(cluster, id);
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
  cluster.StartWorker("w1");
  cluster.LearnAndWait();
  const std::string desired = DesiredSql(dir.path(), 2, ", note INT");

  // The canary's worker waits at the proxy for the server.
  fleet.proxy.Hold();
  auto [code, r] = Rollout(cluster, {"create", "--to", desired, "--dev-url", DevUrl(), "--targets",
                                     "name:held/" + fleet.dbs.user() + "_*", "--canary", "1"});
  ASSERT_EQ(code, 0) << r.dump(1);
  const std::string id = r["id"].get<std::string>();
  const std::string job = r["targets"][0]["job"].get<std::string>();
  ASSERT_TRUE(testing::WaitMidJob(cluster, fleet.proxy, job, "w1")) << cluster.Job(job).dump(1);

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

}  // namespace
}  // namespace sqlx
