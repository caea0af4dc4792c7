// Rollouts whose online copies postpone their cut-over (docs/rollouts.md,
// "Cut-over windows and waves"), end to end through `sqlx rollout`, an
// orchestrator and a worker, on three databases of the shared MariaDB with a
// writer on each: `--cutover together` swaps no table until every copy of
// the wave is done, then swaps them all (each swap after the last
// copy), no write lost; a `--cutover-window` that
// is closed now leaves every target copied, its table unswapped and its
// change capture running, until the revert abandons the copies.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fleet_databases.h"
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

constexpr int kDatabases = 3;
constexpr uint64_t kRows = 20000;  // copies long enough to watch one wait for the others
const char* kFrom = "CREATE TABLE t (id int NOT NULL PRIMARY KEY, k int NOT NULL, v varchar(40), KEY k (k))";
const char* kTo = "CREATE TABLE t (id int NOT NULL PRIMARY KEY, k bigint NOT NULL, v varchar(40), KEY k (k));\n";

// A database of table `t`, its control beside it (the same writes, never
// migrated) and its writer.
struct Target {
  std::string db, control;
  std::unique_ptr<Writer> writer;
};

// kDatabases databases on the shared server, connection "c" tagged prod,
// an orchestrator and one worker copying in small chunks.
struct OneServerFleet {
  explicit OneServerFleet(const std::string& tag)
      : cluster(tag, testing::NatsUrl()), name(testing::FleetName(tag)), fleet(port, name, kDatabases, 0, password) {}
  ~OneServerFleet() {
    StopWriters();
    cluster.StopAll();
    for (Target& t : targets) testing::RootSqlAt(port, "DROP DATABASE IF EXISTS `" + t.control + "`");
  }
  bool Start() {
    std::string sql;
    for (int d = 0; d < kDatabases; ++d) {
      // The control out of the account's sight (it may change NAME_*).
      Target t{fleet.databases()[d], name + "c_" + std::to_string(d), nullptr};
      const std::string fill = "INSERT INTO t (id, k, v) SELECT seq, seq MOD 1000, CONCAT('v', seq) FROM seq_1_to_" +
                               std::to_string(kRows) + ";";
      sql += "DROP DATABASE IF EXISTS `" + t.control + "`; CREATE DATABASE `" + t.control + "`;";
      for (const std::string& db : {t.db, t.control}) sql += "USE `" + db + "`; " + kFrom + "; " + fill;
      targets.push_back(std::move(t));
    }
    testing::RootSqlAt(port, sql);
    if (!cluster.StartOrchestrator()) return false;
    cluster.SqlxJson({"connections", "add", "c", fleet.Url(), "--tag", "prod"}, "", {{"SQLX_PASSWORD", password}});
    cluster.StartWorker("w1", {"--chunk-time", "0.01"});
    cluster.LearnAndWait();
    for (Target& t : targets) {
      t.writer = std::make_unique<Writer>(t.db, t.control, KeyStyle{}, kRows, port, 20ms);
      t.writer->Start();
    }
    return true;
  }
  void StopWriters() {
    for (Target& t : targets) {
      if (t.writer) t.writer->Stop();
    }
  }
  // The writers stopped: each kept every write (its rows equal its
  // control's) and t.k has `type` ("int\n" or "bigint\n").
  void ExpectEveryWriteKept(const std::string& type) {
    StopWriters();
    for (Target& t : targets) {
      ASSERT_EQ(t.writer->failure(), "") << t.db;
      EXPECT_EQ(ColumnType(t.db), type) << t.db;
      EXPECT_EQ(testing::RowsDiffering(t.db, t.control, KeyStyle{}, port), 0u) << t.db << ": " << t.writer->messages_;
    }
  }
  // `sqlx --format json rollout ARGS`: its exit code and answer.
  std::pair<int, json> Rollout(std::vector<std::string> args) {
    args.insert(args.begin(), {"--format", "json", "rollout"});
    const testing::RunResult r = cluster.Sqlx(args, "", {{"SQLX_PASSWORD", testing::MariaDbRootPassword()}});
    const json answer = json::parse(r.out, nullptr, false);
    EXPECT_TRUE(answer.is_object()) << testing::DescribeRun(r);
    return {r.exit_code, answer};
  }
  std::string Create(const std::vector<std::string>& extra) {
    testing::TempDir dir("sqlx-rollout-cutover.");
    const std::string desired = dir.path() + "/desired.sql";
    testing::WriteFile(desired, kTo);
    std::vector<std::string> args = {"create", "--to", desired, "--dev-url",
                                     "mysql://root@127.0.0.1:" + std::to_string(port) + "?ssl-mode=disabled",
                                     "--targets", "tag:prod"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto [code, created] = Rollout(args);
    EXPECT_EQ(code, 0) << created.dump(1);
    return created.value("id", "");
  }
  // The type of t.k in `db` as the server has it now: "int" until the swap.
  std::string ColumnType(const std::string& db) {
    return testing::RootSqlAt(port, "SELECT DATA_TYPE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = '" + db +
                                        "' AND TABLE_NAME = 't' AND COLUMN_NAME = 'k'");
  }
  // What the online copies left in `db`: tables and triggers named _sqlx_*.
  std::string Leftovers(const std::string& db) {
    return testing::RootSqlAt(port, "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + db +
                                        "' AND TABLE_NAME LIKE '\\_sqlx\\_%' UNION ALL SELECT TRIGGER_NAME FROM "
                                        "information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '" +
                                        db + "'");
  }

  const std::string password = testing::NewPassword();
  const int port = testing::SharedMariaDbPort();
  SqlxCluster cluster;
  const std::string name;
  FleetDatabases fleet;
  std::vector<Target> targets;
};

// "HH:MM-HH:MM" from `from_min` to `to_min` minutes after the current UTC minute.
std::string WindowFromNow(int from_min, int to_min) {
  const std::time_t now = std::time(nullptr);
  const int minute = static_cast<int>((now / 60) % (24 * 60));
  auto hhmm = [](int m) {
    m = ((m % 1440) + 1440) % 1440;
    char out[8];
    std::snprintf(out, sizeof out, "%02d:%02d", m / 60, m % 60);
    return std::string(out);
  };
  return hhmm(minute + from_min) + "-" + hhmm(minute + to_min);
}

TEST(RolloutCutoverTest, TogetherSwapsNoTableUntilEveryCopyOfTheWaveIsDoneThenSwapsThemAll) {
  OneServerFleet f("rct");
  ASSERT_TRUE(f.Start());
  // One wave of three; one job at a time on the server: the copies end one
  // after another, and the window is open now.
  const std::string id = f.Create({"--cutover", "together", "--cutover-window", WindowFromNow(-60, 60)});
  ASSERT_FALSE(id.empty());
  const bool settled = PollUntil(
      [&] {
        // The tables first, then the rollout: a copy still running after
        // they were read was running while they were (a target never goes
        // back to copying), so none of them may be swapped yet.
        std::vector<std::string> types;
        for (const Target& t : f.targets) types.push_back(f.ColumnType(t.db));
        const json r = f.cluster.Get("/v1/rollouts/" + id);
        size_t copying = 0;
        for (const json& t : r["targets"]) copying += t["state"] == "pending" || t["state"] == "applying" ? 1 : 0;
        if (copying > 0) {
          for (size_t i = 0; i < types.size(); ++i)
            EXPECT_EQ(types[i], "int\n") << f.targets[i].db << " " << r.dump(1);
        }
        return r["state"] != "running";
      },
      120s);
  ASSERT_TRUE(settled);
  auto [code, done] = f.Rollout({"status", id});
  ASSERT_EQ(code, 0) << done.dump(1);
  ASSERT_EQ(done["state"], "completed") << done.dump(1);
  EXPECT_EQ(done["counts"], (json{{"done", kDatabases}})) << done.dump(1);

  // The wave's cut-overs, after the last copy: one job at a time on the
  // server (--per-server 1), so one rollout.cutover.started each.
  size_t cut = 0;
  for (const json& e : f.cluster.AuditEvents("rollout.cutover.started")) {
    if (e["details"].value("rollout", "") != id) continue;
    EXPECT_EQ(e["details"]["cutover"], "together") << e.dump(1);
    cut += e["details"]["targets"].size();
  }
  EXPECT_EQ(cut, static_cast<size_t>(kDatabases));
  int64_t last_copied = 0, first_cutover = INT64_MAX;
  std::vector<int64_t> copied_at;
  for (size_t i = 0; i < done["targets"].size(); ++i) {
    const json& t = done["targets"][i];
    const std::string job = t["job"];
    ASSERT_NE(job.find(".c"), std::string::npos) << "its last job is its cut-over: " << t.dump();
    EXPECT_EQ(f.cluster.Job(job)["summary"]["result"], "applied") << f.cluster.Job(job).dump(1);
    const json migrations = f.cluster.Get("/v1/migrations?job=" + job)["migrations"];
    ASSERT_EQ(migrations.size(), 1u) << t.dump();
    const json& m = migrations[0]["migration"];
    EXPECT_EQ(m["phase"], "cut-over") << m.dump(1);
    last_copied = std::max(last_copied, m["copied_at_ns"].get<int64_t>());
    copied_at.push_back(m["copied_at_ns"].get<int64_t>());
    first_cutover = std::min(first_cutover, m["cutover_started_ns"].get<int64_t>());
    // The copy job handed its migration over: none left behind under it.
    const std::string copy_job = id + ".t" + std::to_string(i) + ".a1";
    EXPECT_EQ(f.cluster.Job(copy_job)["summary"]["result"], "copied") << copy_job;
    EXPECT_TRUE(f.cluster.Get("/v1/migrations?job=" + copy_job)["migrations"].empty()) << copy_job;
  }
  EXPECT_GT(first_cutover, last_copied) << "every swap after the last copy";
  // One job at a time on the server: the copies ended one after another,
  // so the earlier ones waited, copied, for the last.
  EXPECT_GE(std::count_if(copied_at.begin(), copied_at.end(), [&](int64_t t) { return t < last_copied; }), 1)
      << "a target waited, copied, for the others";
  std::this_thread::sleep_for(300ms);
  f.ExpectEveryWriteKept("bigint\n");
}

TEST(RolloutCutoverTest, AClosedWindowKeepsTheCopiesWaitingCapturingChangesAndTheRevertAbandonsThem) {
  OneServerFleet f("rcw");
  ASSERT_TRUE(f.Start());
  const std::string window = WindowFromNow(120, 180);
  const std::string id = f.Create({"--cutover-window", window, "--per-server", "3"});
  ASSERT_FALSE(id.empty());
  // --wait settles once every copy waits for the window: exit 4.
  auto [waited_code, waited] = f.Rollout({"status", id, "--wait", "--timeout", "120"});
  EXPECT_EQ(waited_code, 4) << waited.dump(1);
  EXPECT_EQ(waited["counts"], (json{{"copied", kDatabases}})) << waited.dump(1);
  ASSERT_TRUE(waited["cutover_window_opens_ns"].is_number()) << waited.dump(1);
  EXPECT_GT(waited["cutover_window_opens_ns"].get<int64_t>(), waited["now_ns"].get<int64_t>());
  std::this_thread::sleep_for(2s);  // ticks pass: still closed
  json r = f.cluster.Get("/v1/rollouts/" + id);
  EXPECT_EQ(r["state"], "running") << r.dump(1);
  EXPECT_EQ(r["counts"], (json{{"copied", kDatabases}})) << r.dump(1);
  for (const json& t : r["targets"]) {
    const std::string reason = t["reason"];
    EXPECT_NE(reason.find("window " + window + " UTC opens ("), std::string::npos) << reason;
    const json migrations = f.cluster.Get("/v1/migrations?job=" + t["job"].get<std::string>())["migrations"];
    ASSERT_EQ(migrations.size(), 1u) << t.dump();
    EXPECT_EQ(migrations[0]["migration"]["phase"], "copied");
  }
  // Not swapped; the change capture keeps the shadow equal to the table.
  std::this_thread::sleep_for(500ms);
  for (const Target& t : f.targets) {
    EXPECT_EQ(f.ColumnType(t.db), "int\n") << t.db;
    EXPECT_NE(f.Leftovers(t.db), "") << t.db;
  }

  auto [aborted_code, aborted] = f.Rollout({"abort", id});
  ASSERT_EQ(aborted_code, 0) << aborted.dump(1);
  auto [code, reverted] = f.Rollout({"revert", id, "--wait", "--timeout", "120"});
  ASSERT_EQ(code, 0) << reverted.dump(1);
  EXPECT_EQ(reverted["state"], "reverted") << reverted.dump(1);
  EXPECT_EQ(reverted["counts"], (json{{"reverted", kDatabases}})) << reverted.dump(1);
  f.ExpectEveryWriteKept("int\n");
  for (const Target& t : f.targets)
    EXPECT_EQ(f.Leftovers(t.db), "") << t.db << ": the copy's shadow and triggers are dropped";
}

TEST(RolloutCutoverTest, OpeningTheWindowOfAWaitingRolloutCutsItsCopiesOverAndItCompletes) {
  OneServerFleet f("rcx");
  ASSERT_TRUE(f.Start());
  const std::string closed = WindowFromNow(120, 180);
  const std::string id = f.Create({"--cutover-window", closed, "--per-server", "3"});
  ASSERT_FALSE(id.empty());
  auto [waited_code, waited] = f.Rollout({"status", id, "--wait", "--timeout", "120"});
  ASSERT_EQ(waited_code, 4) << waited.dump(1);
  for (const Target& t : f.targets) EXPECT_EQ(f.ColumnType(t.db), "int\n") << t.db;
  // An operator moves the window to now: every copy cuts over.
  const std::string open = WindowFromNow(-60, 60);
  auto [code, done] = f.Rollout({"window", id, open, "--wait", "--timeout", "120"});
  ASSERT_EQ(code, 0) << done.dump(1);
  EXPECT_EQ(done["state"], "completed") << done.dump(1);
  EXPECT_EQ(done["counts"], (json{{"done", kDatabases}})) << done.dump(1);
  EXPECT_EQ(done["strategy"]["cutover_window"], open) << done.dump(1);
  bool audited = false;
  for (const json& e : f.cluster.AuditEvents("rollout.window.changed")) {
    if (e["details"].value("rollout", "") != id) continue;
    audited = true;
    EXPECT_EQ(e["details"]["from"], closed) << e.dump(1);
    EXPECT_EQ(e["details"]["to"], open) << e.dump(1);
    EXPECT_FALSE(e["details"].value("by", "").empty()) << e.dump(1);
  }
  EXPECT_TRUE(audited);
  std::this_thread::sleep_for(300ms);
  f.ExpectEveryWriteKept("bigint\n");
}

}  // namespace
}  // namespace sqlx
