// `sqlx orchestrator` as a process on the test nats-server: audit retention
// as configuration (pruned on schedule, the chain still verifies, the prune is
// an event), the head signed on the way out, and refusals of bad options.
#include <signal.h>

#include <chrono>
#include <set>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sqlx_cli.h"
#include "subprocess.h"
#include "temp_dir.h"
#include "test_pki.h"
#include "test_env.h"

namespace sqlx::testing {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

std::string UniquePrefix(const char* what) {
  return std::string(what) + std::to_string(::getpid()) + "x" +
         std::to_string(std::chrono::steady_clock::now().time_since_epoch().count() % 1000000);
}

class OrchestratorProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    key_ = dir_.path() + "/cluster.key";
    audit_key_ = dir_.path() + "/audit.pem";
    store_ = dir_.path() + "/store";
    token_file_ = dir_.path() + "/admin.token";
    ASSERT_EQ(RunSqlx({"secret-key", "new", key_}).exit_code, 0);
    ASSERT_EQ(RunSqlx({"audit", "keygen", "--out", audit_key_}).exit_code, 0);
  }

  // Starts the orchestrator and waits for its {"listening": ...} line.
  std::unique_ptr<Subprocess> Start(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {SqlxBinary(),      "--store",        store_,
                                     "orchestrator",    "--nats",         NatsUrl(),
                                     "--subject-prefix", prefix_,         "--listen",
                                     "127.0.0.1:0",     "--secret-key",   key_,
                                     "--audit-key",     audit_key_,       "--admin-token-file",
                                     token_file_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    auto p = std::make_unique<Subprocess>(argv, SqlxBaseEnv(), dir_.path() + "/orchestrator.err");
    const bool ready = p->ReadUntil([](const RunResult& r) { return r.out.find('\n') != std::string::npos; },
                                    DeadlineIn(20s));
    EXPECT_TRUE(ready) << ReadFile(dir_.path() + "/orchestrator.err");
    if (ready) endpoint_ = json::parse(p->result().out.substr(0, p->result().out.find('\n')))["url"].get<std::string>();
    return p;
  }

  Env ClientEnv() {
    Env env = SqlxBaseEnv();
    env["SQLX_ORCHESTRATOR"] = endpoint_;
    std::string token = ReadFile(token_file_);
    while (!token.empty() && token.back() == '\n') token.pop_back();
    env["SQLX_TOKEN"] = token;
    return env;
  }

  TempDir dir_{"sqlx-orchestrator-test."};
  std::string prefix_ = UniquePrefix("orch");
  std::string key_, audit_key_, store_, token_file_, endpoint_;
};

TEST_F(OrchestratorProcessTest, AuditRetentionPrunesOnScheduleAndTheHeadIsSignedAtStop) {
  auto orchestrator = Start({"--audit-retention", "1s", "--audit-retention-every", "1"});
  ASSERT_FALSE(endpoint_.empty());
  // A few events to age: a connection added and changed.
  RunResult add = RunSqlx({"connections", "add", "old", "mysql://u@127.0.0.1:1", "--no-password"}, ClientEnv());
  ASSERT_EQ(add.exit_code, 0) << DescribeRun(add);
  ASSERT_EQ(RunSqlx({"connections", "update", "old", "--tag", "t"}, ClientEnv()).exit_code, 0);
  std::this_thread::sleep_for(3s);  // the events turn older than 1 s, and a prune runs every second
  ASSERT_EQ(::kill(orchestrator->pid(), SIGTERM), 0);
  RunResult stopped = orchestrator->Wait(DeadlineIn(20s));
  ASSERT_EQ(stopped.exit_code, 0) << ReadFile(dir_.path() + "/orchestrator.err");

  RunResult verify = RunSqlx({"--store", store_, "--format", "json", "audit", "verify", "--pubkey", audit_key_ + ".pub"});
  ASSERT_EQ(verify.exit_code, 0) << DescribeRun(verify);
  const json report = json::parse(verify.out);
  EXPECT_TRUE(report["ok"].get<bool>());
  EXPECT_GT(report["pruned"].get<uint64_t>(), 2u) << verify.out;  // token.created, orchestrator.started, connection.*
  // The stop signed the head: no event is left outside a signed checkpoint.
  EXPECT_EQ(report["unsigned_tail"].get<uint64_t>(), 0u) << verify.out;

  RunResult prunes = RunSqlx({"--store", store_, "--format", "json", "audit", "query", "--action", "audit.prune"});
  ASSERT_EQ(prunes.exit_code, 0) << DescribeRun(prunes);
  const json events = json::parse(prunes.out)["events"];
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0]["actor"]["service"], "orchestrator");
  EXPECT_EQ(events[0]["details"]["retention_s"], 1);
  // The connection events are gone from the timeline (pruned), the chain intact.
  RunResult conns = RunSqlx({"--store", store_, "--format", "json", "audit", "query", "--action", "connection.created"});
  ASSERT_EQ(conns.exit_code, 0);
  EXPECT_TRUE(json::parse(conns.out)["events"].empty()) << conns.out;
}

TEST_F(OrchestratorProcessTest, JobRetentionDeletesFinishedRunsOnlyAndSaysSo) {
  auto orchestrator = Start({"--job-retention", "2s", "--audit-retention-every", "1"});
  ASSERT_FALSE(endpoint_.empty());
  Subprocess worker({SqlxBinary(), "worker", "--nats", NatsUrl(), "--subject-prefix", prefix_, "--secret-key", key_,
                     "--name", "w1", "--heartbeat", "1"},
                    SqlxBaseEnv(), dir_.path() + "/worker.err");
  RunResult probe = RunSqlx({"--format", "json", "jobs", "probe", "--count", "5", "--wait"}, ClientEnv());
  ASSERT_EQ(probe.exit_code, 0) << DescribeRun(probe);
  const std::string finished_run = json::parse(probe.out)["run"].get<std::string>();
  ASSERT_EQ(::kill(worker.pid(), SIGTERM), 0);
  EXPECT_EQ(worker.Wait(DeadlineIn(20s)).exit_code, 0);
  // With no worker left, this run stays queued: never deleted.
  RunResult queued = RunSqlx({"--format", "json", "jobs", "probe", "--count", "2"}, ClientEnv());
  ASSERT_EQ(queued.exit_code, 0) << DescribeRun(queued);
  const std::string queued_run = json::parse(queued.out)["id"].get<std::string>();

  auto runs = [&] {
    RunResult r = RunSqlx({"--format", "json", "jobs", "list"}, ClientEnv());
    EXPECT_EQ(r.exit_code, 0) << DescribeRun(r);
    std::set<std::string> out;
    const json list = json::parse(r.out, nullptr, false);
    if (list.is_object())
      for (const json& j : list["jobs"]) out.insert(j["run"].get<std::string>());
    return out;
  };
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (runs().count(finished_run) != 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(250ms);
  const std::set<std::string> left = runs();
  EXPECT_EQ(left.count(finished_run), 0u) << "the finished run's jobs are gone";
  EXPECT_EQ(left.count(queued_run), 1u) << "the queued run is kept";
  RunResult gone = RunSqlx({"fleet", "status", finished_run}, ClientEnv());
  EXPECT_NE(gone.exit_code, 0);

  ASSERT_EQ(::kill(orchestrator->pid(), SIGTERM), 0);
  ASSERT_EQ(orchestrator->Wait(DeadlineIn(20s)).exit_code, 0);
  RunResult pruned = RunSqlx({"--store", store_, "--format", "json", "audit", "query", "--action", "jobs.pruned"});
  ASSERT_EQ(pruned.exit_code, 0) << DescribeRun(pruned);
  const json events = json::parse(pruned.out)["events"];
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events[0]["details"]["runs"], 1);
  EXPECT_EQ(events[0]["details"]["jobs"], 5);
}

TEST_F(OrchestratorProcessTest, ServesTheApiOverHttpsThatClientsVerify) {
  TestPki pki;
  const std::string cert = dir_.path() + "/server.pem", key = dir_.path() + "/server.key";
  WritePem(cert, pki.server.cert.get());
  {
    FILE* f = std::fopen(key.c_str(), "w");
    ASSERT_NE(f, nullptr);
    PEM_write_PrivateKey(f, pki.server.key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
  }
  auto orchestrator = Start({"--tls-cert", cert, "--tls-key", key});
  ASSERT_EQ(endpoint_.rfind("https://127.0.0.1:", 0), 0u) << endpoint_;

  Env trusted = ClientEnv();
  trusted["SQLX_ORCHESTRATOR_CA"] = pki.ca_file;
  RunResult ok = RunSqlx({"connections", "add", "c", "mysql://u@127.0.0.1:1", "--no-password"}, trusted);
  EXPECT_EQ(ok.exit_code, 0) << DescribeRun(ok);
  RunResult listed = RunSqlx({"connections", "list", "--orchestrator-ca", pki.ca_file}, ClientEnv());
  EXPECT_EQ(listed.exit_code, 0) << DescribeRun(listed);

  // A certificate from a CA the client was not given, or none: refused.
  Env rogue = ClientEnv();
  rogue["SQLX_ORCHESTRATOR_CA"] = pki.rogue_ca_file;
  for (const Env& env : {rogue, ClientEnv()}) {
    RunResult refused = RunSqlx({"connections", "list"}, env);
    EXPECT_EQ(refused.exit_code, 1) << DescribeRun(refused);
    EXPECT_NE(refused.err.find("does not verify"), std::string::npos) << refused.err;
  }
  // Plain HTTP to the HTTPS port gets no answer.
  Env plain = trusted;
  plain["SQLX_ORCHESTRATOR"] = "http://" + endpoint_.substr(8);
  EXPECT_NE(RunSqlx({"connections", "list"}, plain).exit_code, 0);

  RunResult half = RunSqlx({"--store", dir_.path() + "/other", "orchestrator", "--nats", NatsUrl(), "--secret-key", key_,
                            "--tls-cert", cert});
  EXPECT_EQ(half.exit_code, 2);
  EXPECT_NE(half.err.find("go together"), std::string::npos) << half.err;
}

TEST_F(OrchestratorProcessTest, AnAuditorReadsTheTimelineOfARunningOrchestrator) {
  auto orchestrator = Start({});
  ASSERT_FALSE(endpoint_.empty());
  ASSERT_EQ(RunSqlx({"connections", "add", "seen", "mysql://u@127.0.0.1:1", "--no-password"}, ClientEnv()).exit_code, 0);
  RunResult token = RunSqlx({"tokens", "create", "--subject", "eve", "--role", "auditor"}, ClientEnv());
  ASSERT_EQ(token.exit_code, 0) << DescribeRun(token);
  Env auditor = ClientEnv();
  auditor["SQLX_TOKEN"] = token.out.substr(0, token.out.find('\n'));

  RunResult text = RunSqlx({"audit", "query", "--orchestrator", endpoint_, "--action", "connection.created"}, auditor);
  ASSERT_EQ(text.exit_code, 0) << DescribeRun(text);
  EXPECT_NE(text.out.find("connection.created"), std::string::npos) << text.out;
  RunResult doc = RunSqlx({"--format", "json", "audit", "query", "--orchestrator", endpoint_, "--actor", "admin"}, auditor);
  ASSERT_EQ(doc.exit_code, 0) << DescribeRun(doc);
  const json events = json::parse(doc.out)["events"];
  ASSERT_FALSE(events.empty());
  for (const json& e : events) {
    EXPECT_EQ(e["actor"]["token_subject"], "admin") << e.dump();
    EXPECT_EQ(e["hash"].get<std::string>().size(), 64u);
  }
  // An operator may not read the log; the auditor's reads were recorded.
  RunResult op_token = RunSqlx({"tokens", "create", "--subject", "ops", "--role", "operator"}, ClientEnv());
  Env op = ClientEnv();
  op["SQLX_TOKEN"] = op_token.out.substr(0, op_token.out.find('\n'));
  RunResult denied = RunSqlx({"audit", "query", "--orchestrator", endpoint_}, op);
  EXPECT_EQ(denied.exit_code, 1);
  EXPECT_NE(denied.err.find("role operator may not"), std::string::npos) << denied.err;
  RunResult reads = RunSqlx({"--format", "json", "audit", "query", "--orchestrator", endpoint_, "--action", "audit.read"},
                            auditor);
  ASSERT_EQ(reads.exit_code, 0);
  EXPECT_GE(json::parse(reads.out)["events"].size(), 2u);
}

TEST_F(OrchestratorProcessTest, RefusesBadOptionsBeforeTouchingAnything) {
  RunResult bad_period = RunSqlx({"--store", store_, "orchestrator", "--nats", NatsUrl(), "--secret-key", key_,
                                  "--audit-retention", "ninety days"});
  EXPECT_EQ(bad_period.exit_code, 2);
  EXPECT_NE(bad_period.err.find("--audit-retention"), std::string::npos) << bad_period.err;

  RunResult no_key = RunSqlx({"--store", store_, "orchestrator", "--nats", NatsUrl(), "--secret-key",
                              dir_.path() + "/missing.key"});
  EXPECT_NE(no_key.exit_code, 0);
  EXPECT_NE(no_key.err.find("missing.key"), std::string::npos) << no_key.err;

  WriteFile(dir_.path() + "/loose.key", std::string(64, 'a') + "\n");  // mode 0644: readable by others
  RunResult loose = RunSqlx({"--store", store_, "orchestrator", "--nats", NatsUrl(), "--secret-key",
                             dir_.path() + "/loose.key"});
  EXPECT_NE(loose.exit_code, 0);
  EXPECT_NE(loose.err.find("chmod 600"), std::string::npos) << loose.err;

  RunResult bad_listen = RunSqlx({"--store", store_, "orchestrator", "--nats", NatsUrl(), "--secret-key", key_,
                                  "--listen", "127.0.0.1:99999"});
  EXPECT_EQ(bad_listen.exit_code, 2);
  EXPECT_NE(bad_listen.err.find("--listen"), std::string::npos) << bad_listen.err;
  // None of them created the store.
  EXPECT_FALSE(std::filesystem::exists(store_ + "/CURRENT"));
}

}  // namespace
}  // namespace sqlx::testing
