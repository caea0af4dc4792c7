// `sqlx orchestrator`, `sqlx worker` and `sqlx secret-key new`: the cluster's
// processes (docs/cluster.md). Both long-running commands block SIGINT and
// SIGTERM before any thread starts and wait for them here, so the stop is
// always an orderly one: the worker drains, the orchestrator closes its store.
#include <signal.h>

#include <iostream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "audit_access.h"
#include "commands.h"
#include "connection_learning.h"
#include "driver_plan_runner.h"
#include "sqlx/actors/bus_worker.h"
#include "sqlx/apply.h"
#include "sqlx/planner/plan.h"
#include "sqlx/messages/clock.h"
#include "sqlx/messages/secrets.h"
#include "sqlx/orchestrator/orchestrator.h"
#include "sqlx/storage/store.h"

namespace sqlx::cli {

namespace {

// Blocks SIGINT and SIGTERM in this thread (and the threads it starts).
sigset_t BlockStopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int WaitForStopSignal(const sigset_t& set) {
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

std::chrono::milliseconds Millis(double seconds) {
  return std::chrono::milliseconds(static_cast<int64_t>(seconds * 1000));
}

// A period as `sqlx audit prune --older-than` spells it (90d, 12h, 30m;
// units s m h d w); "0" is none.
Result<std::chrono::seconds> ParsePeriod(const std::string& flag, const std::string& text) {
  if (text == "0") return std::chrono::seconds(0);
  const std::optional<int64_t> seconds = ParsePeriodSeconds(text);
  if (!seconds || *seconds == 0)
    return MakeError(ErrorCode::kInvalidArgument, flag + " '" + text +
                                                      "' is not a period: give a number and a unit s m h d w "
                                                      "(e.g. 90d), or 0");
  return std::chrono::seconds(*seconds);
}

}  // namespace

int RunSecretKeyNew(const GlobalOptions& g, const std::string& file) {
  Status s = secrets::WriteNewSecretKey(file);
  if (!s.ok()) return ReportError(g, s.error());
  auto key = secrets::LoadSecretKey(file);
  if (!key.ok()) return ReportError(g, key.error());
  if (g.format == "json") {
    std::cout << nlohmann::json{{"ok", true}, {"file", file}, {"key_id", secrets::KeyId(*key)}}.dump() << "\n";
  } else {
    std::cout << "wrote a new cluster key to " << file << " (key id " << secrets::KeyId(*key)
              << "); give the same file to the orchestrator and every worker\n";
  }
  return kExitOk;
}

int RunOrchestrator(const GlobalOptions& g, const ClusterArgs& a) {
  const sigset_t signals = BlockStopSignals();
  orchestrator::OrchestratorOptions o;
  o.nats_url = a.nats_url;
  o.subject_prefix = a.subject_prefix;
  o.store_dir = g.store_dir.empty() ? storage::Store::DefaultDir() : g.store_dir;
  o.listen = a.listen;
  o.secret_key_file = a.secret_key_file;
  o.audit_key_file = g.audit_key.empty() ? (std::getenv("SQLX_AUDIT_KEY") ? std::getenv("SQLX_AUDIT_KEY") : "")
                                         : g.audit_key;
  o.admin_token_file = a.admin_token_file;
  o.tls_cert_file = a.tls_cert;
  o.tls_key_file = a.tls_key;
  o.job_ack_wait = Millis(a.job_ack_wait_s);
  o.job_max_deliver = a.job_max_deliver;
  if (!a.audit_retention.empty()) {
    auto period = ParsePeriod("--audit-retention", a.audit_retention);
    if (!period.ok()) return ReportError(g, period.error());
    o.audit_retention = *period;
  }
  o.audit_retention_every = std::chrono::seconds(static_cast<int64_t>(a.audit_retention_every_s));
  auto job_period = ParsePeriod("--job-retention", a.job_retention);
  if (!job_period.ok()) return ReportError(g, job_period.error());
  o.job_retention = *job_period;
  auto started = orchestrator::Orchestrator::Start(o);
  if (!started.ok()) return ReportError(g, started.error());
  const std::string host = o.listen.substr(0, o.listen.rfind(':'));
  const std::string listening = host + ":" + std::to_string((*started)->port());
  const std::string scheme = o.tls_cert_file.empty() ? "http://" : "https://";
  std::cout << nlohmann::json{{"listening", listening}, {"url", scheme + listening}, {"store", o.store_dir}}.dump()
            << std::endl;
  const int sig = WaitForStopSignal(signals);
  spdlog::info("orchestrator: {} received, stopping", sig == SIGINT ? "SIGINT" : "SIGTERM");
  (*started)->Stop();
  return kExitOk;
}

int RunWorker(const GlobalOptions& g, const ClusterArgs& a) {
  const sigset_t signals = BlockStopSignals();
  if (a.secret_key_file.empty()) {
    return ReportError(g, MakeError(ErrorCode::kInvalidArgument,
                                    "--secret-key FILE is required: the cluster key the orchestrator was given"));
  }
  auto key = secrets::LoadSecretKey(a.secret_key_file);
  if (!key.ok()) return ReportError(g, key.error());
  actors::BusWorkerOptions o;
  o.nats_url = a.nats_url;
  o.subject_prefix = a.subject_prefix;
  o.name = a.worker_name;
  o.concurrency = a.concurrency;
  o.heartbeat_every = Millis(a.heartbeat_s);
  o.system.pack_dir = g.pack_dir;
  o.system.connect_timeout_ms = static_cast<uint32_t>(g.connect_timeout_s) * 1000;
  o.system.scheduler_threads = std::max<size_t>(2, a.concurrency);
  // An apply job: the driver's ApplyPlan on the connection actor's session
  // under the worker's hooks (its lease checked before each operation; its
  // online copies' checkpoints and its audit events sent to the
  // orchestrator), online copies with the worker's options.
  ApplyOptions apply;
  apply.plan_name = "cluster job";
  apply.online.chunk_seconds = a.chunk_time;
  apply.online.max_threads_running = a.max_threads_running;
  // Each apply samples the server's health (Threads_running, its replicas'
  // lag) for the rollouts' health gates: the replicas reached as the job's
  // server is, with the worker's connect options.
  o.system.plan_runner = DriverPlanRunner(apply, {}, [g](const transports::ConnectionUrl& url) {
    return OpenSession(g, url);
  });
  auto worker = actors::BusWorker::Start(o, std::move(key).value());
  if (!worker.ok()) return ReportError(g, worker.error());
  std::cout << nlohmann::json{{"worker", (*worker)->name()}, {"nats", a.nats_url}}.dump() << std::endl;
  const int sig = WaitForStopSignal(signals);
  spdlog::info("worker: {} received, draining", sig == SIGINT ? "SIGINT" : "SIGTERM");
  (*worker)->Drain();
  const actors::BusWorkerStats st = (*worker)->stats();
  spdlog::info("worker: stopped after {} jobs ({} failed, {} messages rejected)", st.jobs_run, st.jobs_failed,
               st.rejected);
  return kExitOk;
}

}  // namespace sqlx::cli
