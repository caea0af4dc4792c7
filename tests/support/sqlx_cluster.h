// A cluster of `sqlx` child processes for the cluster tests: one
// orchestrator (restartable on the same store) and named workers, sharing a
// temp dir (cluster key, store, admin token, every process's log) and one
// subject prefix on a nats-server. The HTTP API is called in process.
#pragma once

#include <httplib.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <sstream>
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

struct HttpAnswer {
  int status = 0;  // 0: no answer
  std::string body;
  nlohmann::json json() const { return nlohmann::json::parse(body, nullptr, false); }
};

// A password no process has any business printing: "Ct-<random hex>-pw".
inline std::string NewPassword() {
  std::random_device rd;
  std::ostringstream out;
  out << "Ct-" << std::hex << rd() << rd() << "-pw";
  return out.str();
}

// Polls `done` every 100 ms until it holds (true) or `limit` passes (false).
inline bool PollUntil(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  const Deadline deadline = DeadlineIn(limit);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return true;
}

// Every job of a finished run (GET /v1/runs/ID) is done; their count.
inline size_t ExpectAllDone(const nlohmann::json& run) {
  for (const nlohmann::json& j : run["jobs"]) EXPECT_EQ(j["state"], "done") << j.dump(1);
  return run["jobs"].size();
}

// `seen` (as LearnedPerDatabase) has `databases` entries, each once.
inline void ExpectEachOnce(const std::map<std::string, int>& seen, size_t databases) {
  EXPECT_EQ(seen.size(), databases);
  for (const auto& [db, n] : seen) EXPECT_EQ(n, 1) << db;
}

class SqlxCluster {
 public:
  // The prefix is "ct<pid><tag>": tests in parallel never share streams.
  // `job_ack_wait_s` and `job_max_deliver`: the orchestrator's
  // --job-ack-wait (workers heartbeat every second, well within it) and
  // --job-max-deliver.
  SqlxCluster(const std::string& tag, std::string nats_url, int job_ack_wait_s = 30, int job_max_deliver = 5)
      : dir_("sqlx-cluster."), nats_url_(std::move(nats_url)), ack_wait_s_(job_ack_wait_s),
        max_deliver_(job_max_deliver) {
    prefix_ = "ct" + std::to_string(::getpid()) + tag;
    RunResult r = Subprocess({SqlxBinary(), "secret-key", "new", key_file()}, BaseEnv()).Wait(SqlxDeadline());
    EXPECT_EQ(r.exit_code, 0) << DescribeRun(r);
  }
  ~SqlxCluster() {
    for (auto& [name, worker] : workers_) Reap(*worker, SIGKILL);
    if (orchestrator_) Reap(*orchestrator_, SIGKILL);
    // Best effort: a server a test stopped has nothing left to delete.
    auto bus = bus::Bus::Connect(nats_url_, {.name = "cluster-test-cleanup"});
    if (bus.ok()) {
      (void)(*bus)->DeleteStream(bus::JobsStream(prefix_).name);
      (void)(*bus)->DeleteStream(bus::EventsStream(prefix_).name);
    }
  }
  SqlxCluster(const SqlxCluster&) = delete;
  SqlxCluster& operator=(const SqlxCluster&) = delete;

  const std::string& prefix() const { return prefix_; }
  const std::string& nats_url() const { return nats_url_; }
  std::string key_file() const { return dir_.path() + "/cluster.key"; }
  std::string store_dir() const { return dir_.path() + "/store"; }
  std::string api() const { return "http://127.0.0.1:" + std::to_string(api_port_); }
  const std::string& admin_token() const { return admin_token_; }

  // --- the orchestrator ---

  // Starts `sqlx orchestrator` on the store (its admin token file made at
  // the first start) and waits for its "listening" line.
  bool StartOrchestrator() {
    const std::string log = NextLog("orchestrator");
    orchestrator_log_ = log;
    orchestrator_ = std::make_unique<Subprocess>(
        std::vector<std::string>{SqlxBinary(), "-v", "--store", store_dir(), "orchestrator", "--nats", nats_url_,
                                 "--subject-prefix", prefix_, "--secret-key", key_file(), "--listen", "127.0.0.1:0",
                                 "--admin-token-file", dir_.path() + "/admin.token", "--job-ack-wait",
                                 std::to_string(ack_wait_s_), "--job-max-deliver", std::to_string(max_deliver_)},
        BaseEnv(), log);
    const bool up = orchestrator_->ReadUntil(
        [](const RunResult& r) { return r.out.find('\n') != std::string::npos; }, SqlxDeadline());
    const nlohmann::json line = nlohmann::json::parse(orchestrator_->result().out, nullptr, false);
    if (!up || !line.is_object() || !line.contains("listening")) {
      ADD_FAILURE() << "the orchestrator did not start: " << orchestrator_->result().out << "\n" << ReadFile(log);
      return false;
    }
    const std::string listening = line["listening"].get<std::string>();
    api_port_ = std::stoi(listening.substr(listening.rfind(':') + 1));
    admin_token_ = ReadFile(dir_.path() + "/admin.token");
    while (!admin_token_.empty() && admin_token_.back() == '\n') admin_token_.pop_back();
    return true;
  }

  // Sends `signal` and waits for the exit: SIGTERM is an orderly stop
  // (exit 0), SIGKILL a crash.
  void StopOrchestrator(int signal = SIGTERM) {
    if (!orchestrator_) return;
    const RunResult r = Reap(*orchestrator_, signal);
    if (signal == SIGTERM) {
      EXPECT_EQ(r.exit_code, 0) << "orchestrator: " << DescribeRun(r);
    }
    orchestrator_.reset();
  }

  // SIGSTOP / SIGCONT: the orchestrator keeps running (frozen meanwhile:
  // it answers no request).
  void SignalOrchestrator(int signal) {
    if (orchestrator_) ::kill(orchestrator_->pid(), signal);
  }

  // --- workers ---

  // `sqlx worker` named `name`, heartbeating every second, with `extra`
  // arguments (say, --chunk-time).
  void StartWorker(const std::string& name, const std::vector<std::string>& extra = {}) {
    std::vector<std::string> argv = {SqlxBinary(), "-v", "worker", "--nats", nats_url_, "--subject-prefix", prefix_,
                                     "--secret-key", key_file(), "--name", name, "--heartbeat", "1"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    workers_[name] = std::make_unique<Subprocess>(argv, BaseEnv(), NextLog("worker-" + name));
    worker_logs_[name] = log_;
  }
  pid_t WorkerPid(const std::string& name) { return workers_.at(name)->pid(); }
  // SIGSTOP / SIGCONT: the worker keeps running.
  void SignalWorker(const std::string& name, int signal) { ::kill(WorkerPid(name), signal); }
  // Sends `signal` and waits for the exit (SIGTERM: it drains, exit 0).
  void StopWorker(const std::string& name, int signal = SIGTERM) {
    auto it = workers_.find(name);
    if (it == workers_.end()) return;
    const RunResult r = Reap(*it->second, signal);
    if (signal == SIGTERM) {
      EXPECT_EQ(r.exit_code, 0) << "worker " << name << ": " << DescribeRun(r);
    }
    workers_.erase(it);
  }
  std::string WorkerLog(const std::string& name) { return ReadFile(worker_logs_.at(name)); }
  // The stderr of the orchestrator's last start.
  std::string OrchestratorLog() { return orchestrator_log_.empty() ? "" : ReadFile(orchestrator_log_); }
  void StopAll() {
    while (!workers_.empty()) StopWorker(workers_.begin()->first);
    StopOrchestrator();
  }

  // --- clients ---

  // `sqlx ARGS` against the orchestrator with `token` (default: the admin's).
  RunResult Sqlx(const std::vector<std::string>& args, const std::string& token = "", const Env& extra = {}) {
    Env env = BaseEnv();
    env["SQLX_ORCHESTRATOR"] = api();
    env["SQLX_TOKEN"] = token.empty() ? admin_token_ : token;
    for (const auto& [k, v] : extra) env[k] = v;
    std::vector<std::string> argv = {SqlxBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = Subprocess(argv, env).Wait(DeadlineIn(std::chrono::seconds(120)));
    transcript_ += r.out + r.err;
    return r;
  }
  // `sqlx --format json ARGS`, its answer parsed; a failure is a test failure.
  nlohmann::json SqlxJson(const std::vector<std::string>& args, const std::string& token = "",
                          const Env& extra = {}) {
    std::vector<std::string> all = {"--format", "json"};
    all.insert(all.end(), args.begin(), args.end());
    const RunResult r = Sqlx(all, token, extra);
    EXPECT_EQ(r.exit_code, 0) << "sqlx " << ::testing::PrintToString(args) << ": " << DescribeRun(r);
    return nlohmann::json::parse(r.out, nullptr, false);
  }

  // One API request; `token` empty: none sent.
  HttpAnswer Http(const std::string& method, const std::string& path, const std::string& token,
                  const std::string& body = "") {
    httplib::Client client("127.0.0.1", api_port_);
    client.set_connection_timeout(5);
    client.set_read_timeout(30);
    httplib::Headers headers;
    if (!token.empty()) headers.emplace("Authorization", "Bearer " + token);
    httplib::Result res = method == "GET"    ? client.Get(path, headers)
                          : method == "POST" ? client.Post(path, headers, body, "application/json")
                          : method == "PUT"  ? client.Put(path, headers, body, "application/json")
                                             : client.Delete(path, headers);
    HttpAnswer a;
    if (res) {
      a.status = res->status;
      a.body = res->body;
      transcript_ += a.body;
    }
    return a;
  }
  // GET `path` as the admin; anything but 200 is a test failure.
  nlohmann::json Get(const std::string& path) {
    const HttpAnswer a = Http("GET", path, admin_token_);
    EXPECT_EQ(a.status, 200) << "GET " << path << ": " << a.body;
    return a.json();
  }
  // The audit events with `action` (all of them: "" ), oldest first.
  std::vector<nlohmann::json> AuditEvents(const std::string& action = "") {
    std::string path = "/v1/audit/events?limit=100000";
    if (!action.empty()) path += "&action=" + action;
    const nlohmann::json answer = Get(path);
    if (!answer.is_object() || !answer.contains("events")) return {};
    return answer["events"].get<std::vector<nlohmann::json>>();
  }
  // The run once no job of it is queued or running; null when `limit` passes.
  nlohmann::json WaitRunFinished(const std::string& run, std::chrono::milliseconds limit) {
    nlohmann::json last;
    const bool finished = PollUntil(
        [&] {
          last = Get("/v1/runs/" + run);
          const nlohmann::json& counts = last["counts"];
          return last.is_object() && counts.value("queued", 0) == 0 && counts.value("running", 0) == 0;
        },
        limit);
    if (!finished) ADD_FAILURE() << "run " << run << " did not finish: " << last.dump(1);
    return finished ? last : nlohmann::json();
  }
  // `connections add` with `password` in $SQLX_PASSWORD.
  void AddConnection(const std::string& name, const std::string& url, const std::string& password) {
    const nlohmann::json c = SqlxJson({"connections", "add", name, url}, "", {{"SQLX_PASSWORD", password}});
    EXPECT_EQ(c.value("has_password", false), true) << c.dump();
  }
  // `fleet learn` without waiting: the run's id.
  std::string StartLearn() {
    const nlohmann::json run = SqlxJson({"fleet", "learn"});
    return run.is_object() ? run.value("id", "") : "";
  }
  // `fleet learn --wait`, which must succeed: its summary.
  nlohmann::json LearnAndWait() {
    const nlohmann::json done = SqlxJson({"fleet", "learn", "--wait", "--timeout", "90"});
    EXPECT_EQ(done.value("ok", false), true) << done.dump(1);
    return done.is_object() ? done["summary"] : nlohmann::json();
  }
  // The audit events with `action` whose details name `run`.
  std::vector<nlohmann::json> AuditEventsOfRun(const std::string& action, const std::string& run) {
    std::vector<nlohmann::json> out;
    for (const nlohmann::json& e : AuditEvents(action)) {
      if (e["details"].is_object() && e["details"].value("run", "") == run) out.push_back(e);
    }
    return out;
  }
  // How many learn.finished events of `run` each "connection/database" has
  // (the learned server's connection, as the store names it).
  std::map<std::string, int> LearnedPerDatabase(const std::string& run) {
    std::map<std::string, int> seen;
    for (const nlohmann::json& e : AuditEventsOfRun("learn.finished", run)) {
      EXPECT_EQ(e["outcome"], "ok") << e.dump();
      ++seen[e["object"]["connection"].get<std::string>() + "/" + e["object"]["database"].get<std::string>()];
    }
    return seen;
  }
  // Publishes every result in the events stream again, each under a new
  // msg id (what a result older than the duplicate window looks like);
  // how many.
  size_t ReplayResults() {
    using namespace std::chrono_literals;
    auto bus = bus::Bus::Connect(nats_url_, {.name = "cluster-test-replay"});
    if (!bus.ok()) {
      ADD_FAILURE() << bus.error().message;
      return 0;
    }
    const std::string stream = bus::EventsStream(prefix_).name;
    bus::ConsumerConfig replay;
    replay.durable = "replay";
    replay.filter_subject = prefix_ + ".events.result";
    const Status ensured = (*bus)->EnsureConsumer(stream, replay);
    EXPECT_TRUE(ensured.ok()) << ensured.error().message;
    auto consumer = (*bus)->Subscribe(stream, replay.durable);
    if (!consumer.ok()) {
      ADD_FAILURE() << consumer.error().message;
      return 0;
    }
    std::vector<bus::Message> results;  // all of them first: the replays land on the same subject
    while (true) {
      auto batch = consumer->Fetch(100, 1s);
      if (!batch.ok() || batch->empty()) break;
      for (bus::Message& m : *batch) results.push_back(std::move(m));
    }
    for (bus::Message& m : results) {
      auto ack = (*bus)->Publish(replay.filter_subject, m.payload(), "replay:" + m.metadata().msg_id);
      EXPECT_TRUE(ack.ok() && !ack->duplicate);
    }
    return results.size();
  }
  // A job record, or null.
  nlohmann::json Job(const std::string& id) {
    const HttpAnswer a = Http("GET", "/v1/jobs/" + id, admin_token_);
    return a.status == 200 ? a.json() : nlohmann::json();
  }

  // --- passwords ---

  // Stops every process, then checks that each of `secrets` is nowhere in
  // what they and the CLI printed, in the API's answers (among them the
  // audit events and `connections list`, fetched first), nor in any file of
  // the cluster's dir (logs, the store) in clear or as hex. `visible` (say,
  // the user name of a connection URL) must be in the store's files: the
  // scan does see clear text where there is some.
  void ExpectSecretsNowhere(const std::vector<std::string>& secrets, const std::string& visible) {
    const std::string listed = SqlxJson({"connections", "list"}).dump();
    EXPECT_FALSE(AuditEvents().empty());
    StopAll();
    bool store_shows_visible = false;
    std::vector<std::pair<std::string, std::string>> files;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_.path())) {
      if (!entry.is_regular_file()) continue;
      const std::string bytes = ReadFile(entry.path().string());
      if (entry.path().string().rfind(store_dir(), 0) == 0 && bytes.find(visible) != std::string::npos)
        store_shows_visible = true;
      files.emplace_back(entry.path().string(), bytes);
    }
    EXPECT_TRUE(store_shows_visible) << "'" << visible << "' is in no store file: the scan saw nothing in clear";
    for (const std::string& secret : secrets) {
      EXPECT_EQ(listed.find(secret), std::string::npos) << "connections list: " << listed;
      EXPECT_EQ(transcript_.find(secret), std::string::npos) << "a client's output or an API answer shows it";
      std::string hex;
      for (unsigned char c : secret) hex += std::string{"0123456789abcdef"[c >> 4], "0123456789abcdef"[c & 15]};
      for (const auto& [path, bytes] : files) {
        EXPECT_EQ(bytes.find(secret), std::string::npos) << "the secret is in clear in " << path;
        EXPECT_EQ(bytes.find(hex), std::string::npos) << "the secret is in hex in " << path;
      }
    }
  }
  void ExpectSecretNowhere(const std::string& secret, const std::string& visible) {
    ExpectSecretsNowhere({secret}, visible);
  }

 private:
  Env BaseEnv() const { return {{"LANG", "C.UTF-8"}, {"HOME", dir_.path()}}; }
  std::string orchestrator_log_;

  std::string NextLog(const std::string& what) {
    log_ = dir_.path() + "/" + what + "." + std::to_string(++logs_) + ".log";
    return log_;
  }

  // Signals the child and waits for it; its stdout joins the transcript.
  RunResult Reap(Subprocess& p, int signal) {
    if (p.pid() > 0) {
      ::kill(p.pid(), SIGCONT);  // a stopped child cannot act on SIGTERM
      ::kill(p.pid(), signal);
    }
    const RunResult r = p.Wait(DeadlineIn(std::chrono::seconds(30)));
    transcript_ += r.out;
    return r;
  }

  TempDir dir_;
  std::string nats_url_;
  int ack_wait_s_;
  int max_deliver_;
  std::string prefix_;
  std::unique_ptr<Subprocess> orchestrator_;
  int api_port_ = 0;
  std::string admin_token_;
  std::map<std::string, std::unique_ptr<Subprocess>> workers_;
  std::map<std::string, std::string> worker_logs_;
  std::string log_;
  int logs_ = 0;
  std::string transcript_;  // every client's output and API answer
};

}  // namespace sqlx::testing
