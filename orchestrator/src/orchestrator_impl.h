// The orchestrator's insides, shared by its parts: the core (store, audit,
// jobs, events: orchestrator.cc), the HTTP API (http_api.cc) and the
// scheduler (scheduler.cc).
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "records.h"
#include "sqlx/messages/bus.h"
#include "sqlx/messages/secrets.h"
#include "sqlx/orchestrator/orchestrator.h"
#include "sqlx/storage/audit_log.h"
#include "sqlx/storage/store.h"

namespace httplib {
class Server;
}

namespace sqlx::orchestrator {

// Who made an API request: the token's subject and role, and where from.
struct Caller {
  std::string subject;
  std::string role;
  std::string remote;  // "addr:port"
};

class Orchestrator::Impl {
 public:
  explicit Impl(OrchestratorOptions options);
  ~Impl();

  Status Open();
  Status Serve();
  void Stop();
  void Wait();
  int port() const { return port_; }

  // --- used by the HTTP API; each records its audit event ---
  Result<std::optional<ApiToken>> Authenticate(std::string_view bearer);
  // Adds (or, with `update`, changes) a connection. `password` nullopt:
  // keep the stored one (update) or none (add).
  Result<FleetConnection> PutConnection(const Caller& caller, const std::string& name, const std::string& url,
                                        const std::optional<std::string>& password,
                                        const std::optional<std::vector<std::string>>& tags, bool update);
  Status RemoveConnection(const Caller& caller, const std::string& name);
  // An org-wide learn of `connections` (empty: every connection).
  Result<Run> StartLearn(const std::string& actor, const std::vector<std::string>& connections,
                         const Caller* caller);
  Result<Schedule> AddSchedule(const Caller& caller, const std::string& cron,
                               const std::vector<std::string>& connections);
  Status RemoveSchedule(const Caller& caller, const std::string& id);
  // A new token (returned once, stored as its digest).
  Result<std::string> CreateToken(const Caller* caller, const std::string& subject, const std::string& role);
  // An event for `action` by `caller` (null: the orchestrator itself).
  Status RecordAudit(const Caller* caller, const std::string& action, const storage::AuditObject& object,
                     const Error* error, nlohmann::json details);
  Result<storage::AuditQueryResult> QueryAudit(const storage::AuditQuery& query, const Caller& caller);

  Records& records() { return *records_; }

  // --- scheduler.cc ---
  void SchedulerLoop();

  // --- http_api.cc ---
  void StopHttp();

 private:
  Status EnsureQueue();
  Status BootstrapAdminToken();
  Status RepublishPending();
  // Sets stream_seq, or fails a job whose connection was removed (the
  // caller persists it).
  Status Publish(Job& job);
  Result<std::string> JobEnvelope(const Job& job);
  void EventsLoop();
  void DeadLettersLoop();
  // One event from a worker; an error leaves it unacked to be retried.
  Status Process(const bus::Message& m);
  Status OnStarted(const std::string& job_id, const std::string& worker, uint64_t delivery);
  Status OnHeartbeat(const std::string& job_id, int64_t time_ns);
  Status OnLearnedServer(Job job, std::string_view verified);
  Status OnLearnedDatabases(Job job, std::string_view verified);
  Status OnFailed(Job job, const Error& error);
  Status OnApplied(Job job, std::string_view verified);
  Status AppendAudit(std::vector<storage::AuditEvent> events);

  OrchestratorOptions options_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Records> records_;
  std::unique_ptr<storage::AuditLog> audit_;
  std::optional<secrets::SecretKey> key_;
  std::unique_ptr<bus::Bus> bus_;
  std::unique_ptr<httplib::Server> http_;
  int port_ = 0;

  std::mutex state_mu_;  // read-modify-write of job, run and schedule records
  std::mutex audit_mu_;  // the chain's one writer
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopped_ = false;
};

}  // namespace sqlx::orchestrator
