// `sqlx jobs probe` end to end: the real sqlx binary as an orchestrator and
// two workers on the test nats-server (streams under a prefix of this test's
// own, deleted at the end), and the CLI running probe jobs through them.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sqlx/messages/bus.h"
#include "sqlx_cli.h"
#include "subprocess.h"
#include "temp_dir.h"
#include "test_env.h"

namespace sqlx::testing {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

// A long-running sqlx command, stopped with SIGTERM at the end of the test.
// Its stderr goes to a file (no pipe to fill), its first stdout line is the
// JSON it prints once serving.
class SqlxDaemon {
 public:
  SqlxDaemon(const std::vector<std::string>& args, const std::string& log) {
    std::vector<std::string> argv = {SqlxBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    process_ = std::make_unique<Subprocess>(argv, SqlxBaseEnv(), log);
  }
  // The first stdout line as JSON; null when none came in time.
  json Ready() {
    const bool line = process_->ReadUntil(
        [](const RunResult& r) { return r.out.find('\n') != std::string::npos; }, DeadlineIn(milliseconds(20000)));
    if (!line) return nullptr;
    return json::parse(process_->result().out.substr(0, process_->result().out.find('\n')), nullptr, false);
  }
  // SIGTERM, then the exit code (an orderly stop is 0).
  int Stop() {
    if (process_->pid() > 0) ::kill(process_->pid(), SIGTERM);
    return process_->Wait(DeadlineIn(milliseconds(20000))).exit_code;
  }

 private:
  std::unique_ptr<Subprocess> process_;
};

std::string RandomSuffix() {
  std::random_device rd;
  return std::to_string(rd() % 1000000000u);
}

class QueueProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    prefix_ = "sqlxprobe" + RandomSuffix();
    key_ = dir_.path() + "/cluster.key";
    RunResult k = RunSqlx({"secret-key", "new", key_});
    ASSERT_EQ(k.exit_code, 0) << DescribeRun(k);
  }
  void TearDown() override {
    // The streams of this test's prefix, on the shared server.
    auto bus = bus::Bus::Connect(NatsUrl());
    if (!bus.ok()) return;
    for (const bus::StreamConfig& s : {bus::JobsStream(prefix_), bus::EventsStream(prefix_)}) {
      Status ignored = (*bus)->DeleteStream(s.name);  // absent when the orchestrator never started
      (void)ignored;
    }
  }

  std::vector<std::string> BusArgs() const {
    return {"--nats", NatsUrl(), "--subject-prefix", prefix_, "--secret-key", key_};
  }
  std::unique_ptr<SqlxDaemon> StartOrchestrator() {
    std::vector<std::string> args = {"--store", dir_.path() + "/store", "orchestrator", "--listen", "127.0.0.1:0",
                                     "--admin-token-file", dir_.path() + "/admin.token"};
    for (const std::string& a : BusArgs()) args.push_back(a);
    auto d = std::make_unique<SqlxDaemon>(args, dir_.path() + "/orchestrator.log");
    const json ready = d->Ready();
    EXPECT_TRUE(ready.is_object() && ready.contains("listening"))
        << "orchestrator did not start: " << ReadFile(dir_.path() + "/orchestrator.log");
    if (ready.is_object() && ready.contains("listening")) orchestrator_ = "http://" + ready["listening"].get<std::string>();
    return d;
  }
  std::unique_ptr<SqlxDaemon> StartWorker(const std::string& name) {
    std::vector<std::string> args = {"worker", "--name", name};
    for (const std::string& a : BusArgs()) args.push_back(a);
    auto d = std::make_unique<SqlxDaemon>(args, dir_.path() + "/" + name + ".log");
    const json ready = d->Ready();
    EXPECT_TRUE(ready.is_object() && ready.value("worker", "") == name)
        << "worker did not start: " << ReadFile(dir_.path() + "/" + name + ".log");
    return d;
  }
  // A client command against the orchestrator, as the admin.
  RunResult Client(std::vector<std::string> args) {
    args.insert(args.end(), {"--orchestrator", orchestrator_});
    Env env = SqlxBaseEnv();
    std::string token = ReadFile(dir_.path() + "/admin.token");
    while (!token.empty() && token.back() == '\n') token.pop_back();
    env["SQLX_TOKEN"] = token;
    return RunSqlx(args, env);
  }

  TempDir dir_{"sqlx-queue-probe-"};
  std::string prefix_;
  std::string key_;
  std::string orchestrator_;
};

TEST_F(QueueProbeTest, TwoHundredProbesAreAllDoneAndBothWorkersAnswer) {
  auto orchestrator = StartOrchestrator();
  auto w1 = StartWorker("probe-w1");
  auto w2 = StartWorker("probe-w2");
  ASSERT_FALSE(orchestrator_.empty());

  RunResult r = Client({"jobs", "probe", "--count", "200", "--wait", "--timeout", "60", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  const json out = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(out.is_object()) << r.out;
  EXPECT_TRUE(out["ok"].get<bool>());
  EXPECT_EQ(out["jobs"], 200);
  EXPECT_EQ(out["counts"].value("done", 0), 200) << out.dump();
  EXPECT_EQ(out["counts"].size(), 1u) << "only done jobs: " << out.dump();
  EXPECT_GT(out["jobs_per_s"].get<double>(), 0);
  EXPECT_GT(out["workers"].value("probe-w1", 0), 0) << out.dump();
  EXPECT_GT(out["workers"].value("probe-w2", 0), 0) << out.dump();
  EXPECT_EQ(out["workers"].value("probe-w1", 0) + out["workers"].value("probe-w2", 0), 200);

  // Each job is recorded once, done, with the worker that answered it.
  const std::string run = out["run"].get<std::string>();
  RunResult list = Client({"jobs", "list", "--run", run, "--format", "json"});
  ASSERT_EQ(list.exit_code, 0) << DescribeRun(list);
  const json jobs = json::parse(list.out, nullptr, false)["jobs"];
  ASSERT_EQ(jobs.size(), 200u);
  for (const json& j : jobs) {
    EXPECT_EQ(j["kind"], "probe-job");
    EXPECT_EQ(j["state"], "done") << j.dump();
    EXPECT_NE(j["stream_seq"], 0) << j.dump();
    EXPECT_TRUE(j["worker"] == "probe-w1" || j["worker"] == "probe-w2") << j.dump();
  }

  EXPECT_EQ(w1->Stop(), 0);
  EXPECT_EQ(w2->Stop(), 0);
  EXPECT_EQ(orchestrator->Stop(), 0);
}

// Probe jobs larger than the server's max_payload (8 MiB in the project's
// NATS config) travel in chunks, and the workers see every byte.
TEST_F(QueueProbeTest, ProbesLargerThanMaxPayloadArriveWhole) {
  auto orchestrator = StartOrchestrator();
  auto worker = StartWorker("probe-big");
  ASSERT_FALSE(orchestrator_.empty());
  const uint64_t size = 12u << 20;
  RunResult r = Client({"jobs", "probe", "--count", "3", "--payload-bytes", std::to_string(size), "--wait",
                        "--timeout", "60", "--format", "json"});
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  const json out = json::parse(r.out, nullptr, false);
  ASSERT_TRUE(out.is_object()) << r.out;
  EXPECT_EQ(out["counts"].value("done", 0), 3) << out.dump();
  RunResult list = Client({"jobs", "list", "--run", out["run"].get<std::string>(), "--format", "json"});
  ASSERT_EQ(list.exit_code, 0) << DescribeRun(list);
  const json jobs = json::parse(list.out, nullptr, false)["jobs"];
  ASSERT_EQ(jobs.size(), 3u);
  for (const json& j : jobs) EXPECT_EQ(j["summary"].value("payload_bytes", uint64_t{0}), size) << j.dump();

  RunResult too_big = Client({"jobs", "probe", "--count", "1", "--payload-bytes", std::to_string((64u << 20) + 1)});
  EXPECT_EQ(too_big.exit_code, 2) << DescribeRun(too_big);
  EXPECT_EQ(worker->Stop(), 0);
  EXPECT_EQ(orchestrator->Stop(), 0);
}

TEST_F(QueueProbeTest, WithoutWaitItPrintsTheRunWhoseJobsFinishOnceAWorkerComes) {
  auto orchestrator = StartOrchestrator();
  ASSERT_FALSE(orchestrator_.empty());
  RunResult r = Client({"jobs", "probe", "--count", "20"});
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  const std::string run = r.out.substr(0, r.out.find('\n'));
  EXPECT_EQ(run.rfind("run-", 0), 0u) << r.out;

  // Queued until a worker is there.
  RunResult queued = Client({"jobs", "list", "--run", run, "--state", "queued", "--format", "json"});
  ASSERT_EQ(queued.exit_code, 0) << DescribeRun(queued);
  EXPECT_EQ(json::parse(queued.out)["jobs"].size(), 20u);

  auto worker = StartWorker("probe-late");
  const auto deadline = DeadlineIn(milliseconds(30000));
  size_t done = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    RunResult d = Client({"jobs", "list", "--run", run, "--state", "done", "--format", "json"});
    ASSERT_EQ(d.exit_code, 0) << DescribeRun(d);
    done = json::parse(d.out)["jobs"].size();
    if (done == 20) break;
    std::this_thread::sleep_for(milliseconds(100));
  }
  EXPECT_EQ(done, 20u);
  EXPECT_EQ(worker->Stop(), 0);
  EXPECT_EQ(orchestrator->Stop(), 0);
}

TEST_F(QueueProbeTest, AnAuditorMayNotStartAProbe) {
  auto orchestrator = StartOrchestrator();
  ASSERT_FALSE(orchestrator_.empty());
  RunResult t = Client({"tokens", "create", "--subject", "carol", "--role", "auditor"});
  ASSERT_EQ(t.exit_code, 0) << DescribeRun(t);
  std::string token = t.out.substr(0, t.out.find('\n'));
  Env env = SqlxBaseEnv();
  env["SQLX_TOKEN"] = token;
  RunResult r = RunSqlx({"jobs", "probe", "--count", "1", "--orchestrator", orchestrator_}, env);
  EXPECT_NE(r.exit_code, 0) << DescribeRun(r);
  EXPECT_NE(r.err.find("role auditor may not POST /v1/probe"), std::string::npos) << r.err;
  EXPECT_EQ(orchestrator->Stop(), 0);
}

}  // namespace
}  // namespace sqlx::testing
