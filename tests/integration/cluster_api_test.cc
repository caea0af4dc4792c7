// The orchestrator's HTTP API through the `sqlx` client commands and in
// process (tests/support/sqlx_cluster.h): every route against every role,
// cron schedules across restarts, and connection passwords however given:
// sealed, never shown.
#include <signal.h>

#include <cctype>
#include <chrono>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fleet_databases.h"
#include "sqlx_cluster.h"
#include "test_env.h"

namespace sqlx {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::FleetDatabases;
using testing::PollUntil;
using testing::SqlxCluster;

// A password given in a connection's URL is sealed like one from
// $SQLX_PASSWORD, and replaces it: a wrong password first (the learn fails,
// saying why without it), then the right one in the URL (the learn works).
TEST(ClusterApiTest, APasswordInAConnectionUrlIsSealedLikeAnyOther) {
  const std::string password = testing::NewPassword();
  const std::string wrong = testing::NewPassword();
  FleetDatabases dbs(testing::SharedMariaDbPort(), testing::FleetName("u"), 2, 1, password);
  SqlxCluster cluster("url", testing::NatsUrl());
  ASSERT_TRUE(cluster.StartOrchestrator());
  cluster.StartWorker("w1");
  cluster.AddConnection("db", dbs.Url(), wrong);

  const testing::RunResult denied = cluster.Sqlx({"--format", "json", "fleet", "learn", "--wait", "--timeout", "60"});
  EXPECT_NE(denied.exit_code, 0) << testing::DescribeRun(denied);
  const json failed = cluster.Get("/v1/jobs?state=failed");
  ASSERT_EQ(failed["jobs"].size(), 1u) << failed.dump(1);
  EXPECT_NE(failed["jobs"][0]["error"].get<std::string>().find("denied"), std::string::npos) << failed.dump(1);

  std::string url = dbs.Url();
  url.insert(url.find('@'), ":" + password);
  const json updated = cluster.SqlxJson({"connections", "update", "db", "--url", url});
  EXPECT_EQ(updated["url"], dbs.Url());
  EXPECT_EQ(updated["has_password"], true);
  const json learned = cluster.LearnAndWait();
  EXPECT_EQ(learned["changes"], (json{{"new", 2}}));
  const testing::RunResult listed = cluster.Sqlx({"connections", "list"});
  EXPECT_NE(listed.out.find("sealed"), std::string::npos) << listed.out;

  cluster.ExpectSecretsNowhere({password, wrong}, dbs.user());
}

// --- API tokens and roles ---

struct Route {
  std::string method;
  std::string pattern;  // as registered in orchestrator/src/http_api.cc
  std::string path;     // a request path it matches
  std::set<std::string> roles;  // empty: open to anyone
};

const std::vector<Route>& Routes() {
  static const std::string kId = R"(([A-Za-z0-9_.\-]+))";
  static const std::vector<Route> kRoutes = {
      {"GET", "/v1/health", "/v1/health", {}},
      {"GET", "/v1/connections", "/v1/connections", {"admin", "operator"}},
      {"POST", "/v1/connections", "/v1/connections", {"admin"}},
      {"PUT", "/v1/connections/" + kId, "/v1/connections/nosuch", {"admin"}},
      {"DELETE", "/v1/connections/" + kId, "/v1/connections/nosuch", {"admin"}},
      {"POST", "/v1/fleet/learn", "/v1/fleet/learn", {"admin", "operator"}},
      {"POST", "/v1/probe", "/v1/probe", {"admin", "operator"}},
      {"POST", "/v1/apply", "/v1/apply", {"admin", "operator"}},
      {"GET", "/v1/runs", "/v1/runs", {"admin", "operator"}},
      {"GET", "/v1/runs/" + kId, "/v1/runs/nosuch", {"admin", "operator"}},
      {"GET", "/v1/jobs", "/v1/jobs", {"admin", "operator"}},
      {"GET", "/v1/jobs/" + kId, "/v1/jobs/nosuch", {"admin", "operator"}},
      {"GET", "/v1/migrations", "/v1/migrations", {"admin", "operator"}},
      {"GET", "/v1/migrations/([0-9a-f]+)", "/v1/migrations/0badcafe", {"admin", "operator"}},
      {"GET", "/v1/schedules", "/v1/schedules", {"admin", "operator"}},
      {"POST", "/v1/schedules", "/v1/schedules", {"admin", "operator"}},
      {"DELETE", "/v1/schedules/" + kId, "/v1/schedules/nosuch", {"admin", "operator"}},
      {"GET", "/v1/tokens", "/v1/tokens", {"admin"}},
      {"POST", "/v1/tokens", "/v1/tokens", {"admin"}},
      {"GET", "/v1/audit/events", "/v1/audit/events", {"admin", "auditor"}},
      {"GET", "/v1/rollouts", "/v1/rollouts", {"admin", "operator", "auditor"}},
      {"POST", "/v1/rollouts", "/v1/rollouts", {"admin", "operator"}},
      {"GET", "/v1/rollouts/" + kId, "/v1/rollouts/nosuch", {"admin", "operator", "auditor"}},
      {"POST", "/v1/rollouts/" + kId + "/pause", "/v1/rollouts/nosuch/pause", {"admin", "operator"}},
      {"POST", "/v1/rollouts/" + kId + "/resume", "/v1/rollouts/nosuch/resume", {"admin", "operator"}},
      {"POST", "/v1/rollouts/" + kId + "/abort", "/v1/rollouts/nosuch/abort", {"admin", "operator"}},
      {"POST", "/v1/rollouts/" + kId + "/revert", "/v1/rollouts/nosuch/revert", {"admin", "operator"}},
      {"POST", "/v1/rollouts/" + kId + "/approve", "/v1/rollouts/nosuch/approve", {"admin", "operator"}},
      {"POST", "/v1/rollouts/" + kId + "/window", "/v1/rollouts/nosuch/window", {"admin", "operator"}},
  };
  return kRoutes;
}

// "METHOD pattern" of every route http_api.cc registers.
std::set<std::string> RegisteredRoutes() {
  std::ifstream in(testing::SourceDir() + "/orchestrator/src/http_api.cc");
  std::stringstream text;
  text << in.rdbuf();
  const std::string source = text.str();
  const std::regex route(R"re(http\.(Get|Post|Put|Delete)\(\s*(?:R"\((.*?)\)"|"([^"]*)"))re");
  std::set<std::string> out;
  for (auto it = std::sregex_iterator(source.begin(), source.end(), route); it != std::sregex_iterator(); ++it) {
    std::string method = (*it)[1].str();
    for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    out.insert(method + " " + ((*it)[2].matched ? (*it)[2].str() : (*it)[3].str()));
  }
  return out;
}

// Every route: no token and an unknown token are 401, a role it does not
// admit is 403, each an api.denied event; the roles it admits get through.
TEST(ClusterApiTest, EveryApiRouteAdmitsOnlyItsRoles) {
  std::set<std::string> tested;
  for (const Route& r : Routes()) tested.insert(r.method + " " + r.pattern);
  ASSERT_EQ(RegisteredRoutes(), tested) << "a route of orchestrator/src/http_api.cc is missing from Routes()";

  SqlxCluster cluster("auth", testing::NatsUrl());
  ASSERT_TRUE(cluster.StartOrchestrator());
  std::map<std::string, std::string> tokens = {{"admin", cluster.admin_token()}};
  for (const std::string role : {"operator", "auditor"}) {
    const json t = cluster.SqlxJson({"tokens", "create", "--subject", role + "-1", "--role", role});
    tokens[role] = t.value("token", "");
    ASSERT_FALSE(tokens[role].empty()) << t.dump();
  }
  const json listed = cluster.SqlxJson({"tokens", "list"});
  EXPECT_EQ(listed["tokens"].size(), 3u) << listed.dump(1);

  // (method path status) of every refusal.
  std::multiset<std::string> denials;
  for (const Route& r : Routes()) {
    SCOPED_TRACE(r.method + " " + r.path);
    if (r.roles.empty()) {
      EXPECT_EQ(cluster.Http(r.method, r.path, "").status, 200);
      continue;
    }
    EXPECT_EQ(cluster.Http(r.method, r.path, "").status, 401);
    EXPECT_EQ(cluster.Http(r.method, r.path, "sqlx_not-a-token").status, 401);
    denials.insert(r.method + " " + r.path + " 401");
    denials.insert(r.method + " " + r.path + " 401");
    for (const auto& [role, token] : tokens) {
      const int status = cluster.Http(r.method, r.path, token).status;
      if (r.roles.count(role) == 0) {
        EXPECT_EQ(status, 403) << role;
        denials.insert(r.method + " " + r.path + " 403");
      } else if (r.method == "GET") {
        EXPECT_TRUE(status == 200 || status == 404) << role << ": " << status;
      }
    }
  }

  // An auditor reads the timeline; the refusals are in it.
  const testing::HttpAnswer read = cluster.Http("GET", "/v1/audit/events?action=api.denied&limit=1000",
                                                tokens["auditor"]);
  ASSERT_EQ(read.status, 200) << read.body;
  std::multiset<std::string> recorded;
  const json answer = read.json();
  for (const json& e : answer["events"]) {
    const json& d = e["details"];
    recorded.insert(d["method"].get<std::string>() + " " + d["path"].get<std::string>() + " " +
                    std::to_string(d["status"].get<int>()));
    EXPECT_EQ(e["outcome"], "failed");
    if (d["status"] == 403) {
      EXPECT_NE(e["actor"]["token_subject"], "") << e.dump();
    }
    if (d["status"] == 401) {
      EXPECT_EQ(e["actor"]["token_subject"], "") << e.dump();
    }
  }
  EXPECT_EQ(recorded, denials);
  bool audited_read = false;
  for (const json& e : cluster.AuditEvents("audit.read"))
    audited_read = audited_read || e["actor"]["token_subject"] == "auditor-1";
  EXPECT_TRUE(audited_read);

  // The CLI says why, and fails.
  const testing::RunResult refused = cluster.Sqlx({"connections", "list"}, tokens["auditor"]);
  EXPECT_NE(refused.exit_code, 0);
  EXPECT_NE(refused.err.find("role auditor may not GET /v1/connections"), std::string::npos) << refused.err;
  const testing::RunResult unknown = cluster.Sqlx({"jobs", "list"}, "sqlx_not-a-token");
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.err.find("not known"), std::string::npos) << unknown.err;
}

// A schedule "* * * * *" starts a run within a minute, as "schedule:<id>",
// and survives orchestrator restarts.
TEST(ClusterApiTest, ACronScheduleFiresAndSurvivesARestart) {
  const std::string password = testing::NewPassword();
  FleetDatabases dbs(testing::SharedMariaDbPort(), testing::FleetName("s"), 2, 1, password);
  SqlxCluster cluster("sched", testing::NatsUrl());
  ASSERT_TRUE(cluster.StartOrchestrator());
  cluster.AddConnection("db", dbs.Url(), password);
  cluster.StartWorker("w1");

  const json added = cluster.SqlxJson({"schedule", "add", "--cron", "* * * * *"});
  const std::string id = added.value("id", "");
  ASSERT_FALSE(id.empty()) << added.dump();
  cluster.StopOrchestrator(SIGKILL);
  ASSERT_TRUE(cluster.StartOrchestrator());
  const json after_crash = cluster.SqlxJson({"schedule", "list"});
  ASSERT_EQ(after_crash["schedules"].size(), 1u) << after_crash.dump(1);
  EXPECT_EQ(after_crash["schedules"][0]["id"], id);

  std::string run;
  ASSERT_TRUE(PollUntil(
      [&] {
        const json runs = cluster.Get("/v1/runs");
        for (const json& r : runs["runs"]) {
          if (r["actor"] == "schedule:" + id) run = r["id"].get<std::string>();
        }
        return !run.empty();
      },
      75s));
  const json record = cluster.WaitRunFinished(run, 60s);
  ASSERT_TRUE(record.is_object());
  EXPECT_EQ(testing::ExpectAllDone(record), 3u);
  const json status = cluster.SqlxJson({"fleet", "status", run});
  EXPECT_EQ(status["actor"], "schedule:" + id);

  cluster.StopOrchestrator(SIGTERM);
  ASSERT_TRUE(cluster.StartOrchestrator());
  const json listed = cluster.SqlxJson({"schedule", "list"});
  ASSERT_EQ(listed["schedules"].size(), 1u) << listed.dump(1);
  const json& s = listed["schedules"][0];
  EXPECT_EQ(s["id"], id);
  EXPECT_EQ(s["cron"], "* * * * *");
  EXPECT_EQ(s["last_run"], run);
  EXPECT_GT(s["next_ns"].get<int64_t>(), s["last_ns"].get<int64_t>());

  cluster.ExpectSecretNowhere(password, dbs.user());
}

}  // namespace
}  // namespace sqlx
