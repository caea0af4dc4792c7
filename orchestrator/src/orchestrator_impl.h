// The orchestrator's insides, shared by its parts: the core (store, audit,
// jobs, events: orchestrator.cc), the HTTP API (http_api.cc) and the
// scheduler (scheduler.cc).
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
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

// --listen's HOST:PORT (port 0: any free port); kInvalidArgument otherwise.
Result<std::pair<std::string, int>> ParseListen(const std::string& listen);

// Who made an API request: the token's subject and role, and where from.
struct Caller {
  std::string subject;
  std::string role;
  std::string remote;  // "addr:port"
};

// What one fetched batch of worker events amounts to, written at once when
// the batch is done (or before a handler that writes for itself): the audit
// events first, then the records in one synced batch. Jobs read while the
// batch is built come from here first, so a second event of the same job
// sees the first one's effect. Used under state_mu_.
struct EventWrites {
  Records::Batch records;
  std::map<std::string, Job, std::less<>> jobs;  // changed by this batch, as they will be written
  std::set<std::string, std::less<>> seen;       // audit markers this batch marks
  std::vector<storage::AuditEvent> audit;
  bool lost = false;  // a flush failed: no event of this batch may be acked
  bool rollouts = false;  // an apply job of a rollout finished: wake the rollouts once written

  void Put(const Job& job) {
    records.Put(job);
    jobs[job.id] = job;
  }
  bool empty() const { return records.empty() && audit.empty(); }
};

// Job kinds as records and subjects name them (jobs::KindName).
inline constexpr std::string_view kServerJob = "learn-server-job";
inline constexpr std::string_view kDatabaseJob = "learn-database-job";

// "run-" and 10 random hex digits.
std::string NewRunId();

// The server (host:port) behind a fleet connection: what the per-server
// limit of rollouts counts by (rollout_engine.cc).
Result<std::string> ServerOf(const FleetConnection& c);

// An event the orchestrator records, by `caller` (null: by itself); its
// token subject, address and role go into the details.
storage::AuditEvent EventFor(const Caller* caller, const std::string& action, const storage::AuditObject& object,
                             const Error* error, const nlohmann::json& details);

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
  // A queue health check (probe.cc): `count` probe jobs, recorded and
  // published in batches; returns once all are published (workers answer
  // meanwhile).
  // `count` probe jobs, each carrying `payload_bytes` of filler.
  Result<Run> StartProbe(const Caller& caller, uint64_t count, uint64_t payload_bytes);
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

  // --- apply.cc ---
  struct ApplyParams {
    std::string connection;  // fleet connection name
    std::string database;    // empty: the plan's
    std::string plan_json;   // docs/formats/plan.md
    bool dry_run = false, allow_destructive = false, allow_blocking = false;
    bool postpone_cutover = false;  // online copies stop before their swap (the job ends "copied")
    // "cutover" or "abandon" the online `migrations` job `migrations_of`
    // copied (jobs.fbs ApplyPlanJob): their checkpoints move to the new
    // job, whose lease hands them over. Empty: apply the plan.
    std::string migration_action;
    std::vector<std::string> migrations;
    std::string migrations_of;
    int64_t cutover_before_ns = 0;  // with "cutover": the window's end (jobs.fbs ApplyPlanJob); 0: none
  };
  // A run of one apply job, its plan stored beside it.
  Result<Run> StartApply(const Caller& caller, const ApplyParams& params);
  // Apply job `job_id` of `run` (a run or a rollout id), its plan stored
  // beside it: recorded, audited (apply.requested, by `caller`; null: the
  // orchestrator) and published. `extra` keys join the job's params.
  // REQUIRES: state_mu_ held.
  Result<Job> QueueApplyJob(const Caller* caller, const std::string& run, const std::string& job_id,
                            const ApplyParams& params, const nlohmann::json& extra);
  // The answer to a worker's LeaseRequest envelope (<prefix>.lease).
  bus::Bytes OnLeaseRequest(std::span<const uint8_t> request);
  // The answer to a worker's MigrationCheckpoint envelope
  // (<prefix>.checkpoint): stored (synced) under the job's current lease,
  // which it renews, else refused.
  bus::Bytes OnCheckpoint(std::span<const uint8_t> request);
  // Answers <prefix>.lease and <prefix>.checkpoint.
  Status ServeLeases();

  // --- rollout_engine.cc ---
  struct RolloutRequest {
    std::string desired_json;          // the desired IR (docs/formats/ir.md)
    std::vector<std::string> targets;  // selectors (rollout_targets.h)
    RolloutStrategy strategy;
  };
  // Resolves the targets, records the rollout and starts its first wave.
  Result<Rollout> CreateRollout(const Caller& caller, const RolloutRequest& request);
  // pause, resume, abort, revert or approve, by `caller`: the rollout after
  // it. A command its state does not admit is kInvalidArgument, saying why.
  // `window`: kSetWindow's new cut-over window (nullopt: any time).
  Result<Rollout> CommandRollout(const Caller& caller, const std::string& id, RolloutEvent::Kind command,
                                 std::optional<CutoverWindow> window = std::nullopt);
  // Wakes RolloutLoop (an apply result of a rollout was persisted).
  void NotifyRollouts();
  // Drives every unfinished rollout on: job results, wait gates, resumes
  // after a restart. Runs until Stop.
  void RolloutLoop();

  // --- retention.cc ---
  void RetentionLoop();
  Status PruneOnce();
  // Deletes finished runs past job_retention, and audit markers older than
  // the events stream keeps messages (no redelivery can need them).
  Status PruneJobs();

  // --- http_api.cc ---
  void StopHttp();

 private:
  Status EnsureQueue();
  Status BootstrapAdminToken();
  Status RepublishPending();
  // Sets stream_seq, or fails a job whose connection was removed (the
  // caller persists it).
  Status Publish(Job& job);
  // Publishes again the queued jobs whose publish NATS refused (not a
  // disconnect, which the client's reconnect buffer covers): the scheduler
  // loop calls it every few seconds; each published one is recorded.
  void RetryUnpublished();
  Result<std::string> JobEnvelope(const Job& job);
  void EventsLoop();
  void DeadLettersLoop();
  // The events of one fetch, under state_mu_: each processed into one
  // EventWrites, that written, then each acked; an event that failed, or
  // any when the writes failed, is nakked to be retried.
  void ProcessBatch(std::vector<bus::Message>& batch);
  // One event from a worker, its effect added to `w` (a learned server's
  // database jobs are written, by flushing `w`, before they are published).
  // An error: the event's effect is not in `w`.
  Status Process(const bus::Message& m, EventWrites& w);
  // Writes and clears `w`: audit events, then the records.
  Status Flush(EventWrites& w);
  Result<std::optional<Job>> GetJob(const EventWrites& w, const std::string& id);
  Status OnStarted(EventWrites& w, const std::string& job_id, const std::string& worker, uint64_t delivery);
  Status OnHeartbeat(EventWrites& w, const std::string& job_id, int64_t time_ns);
  Status OnLearnedServer(EventWrites& w, Job job, std::string_view verified);
  Status OnLearnedDatabases(EventWrites& w, Job job, std::string_view verified);
  void OnFailed(EventWrites& w, Job job, const Error& error);
  void OnApplied(EventWrites& w, Job job, std::string_view verified);
  void OnProbed(EventWrites& w, Job job, std::string_view verified);
  // Appends `events` to the audit chain, `with` in the same atomic batch.
  Status AppendAudit(std::vector<storage::AuditEvent> events, const Records::Batch& with = {});
  // A lease lasts an AckWait: a holder that stops renewing loses it when
  // JetStream would redeliver its job.
  int64_t LeaseTtlNs() const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(options_.job_ack_wait).count();
  }

  // --- rollout_engine.cc, under state_mu_ ---
  // Decides `first` and what follows from it (planning results), each
  // decision's audit events appended, then its record written, then its
  // jobs published. A refused command of `caller` is an error. `all`: every
  // rollout as the caller holds it (what the others have in flight); null:
  // read from the store.
  Status DriveRollout(Rollout& r, const RolloutEvent& first, const Caller* caller,
                      const std::vector<Rollout>* all = nullptr);
  // Plans target `index` (kApply; kRevert: back to its original schema) and
  // publishes its job under the target's job id; or the event that takes
  // the place of a job (skipped, held, nothing to revert). kCutover and
  // kAbandon: the job that swaps (drops) the target's copied migrations,
  // with the plan of the job that copied them.
  Result<std::optional<RolloutEvent>> DispatchTarget(Rollout& r, size_t index, RolloutAction::Kind kind);
  Result<std::optional<RolloutEvent>> DispatchMigrationAction(Rollout& r, size_t index, RolloutAction::Kind kind);
  // The fleet applies (`sqlx fleet apply`, not a rollout's) in flight per
  // server (host:port), which count against every rollout's per-server
  // limit: those in fleet_applies_ still queued or running (the finished
  // ones are dropped from it).
  Result<std::map<std::string, uint32_t>> FleetAppliesPerServer();
  // Feeds finished jobs of the rollout's targets in flight to it (and the
  // start of a pending one, the tick of a gate); publishes a job that was
  // recorded as dispatched but never queued. `all`: every rollout, `r` among
  // them, kept current by the caller (RolloutLoop).
  Status ReconcileRollout(Rollout& r, const std::vector<Rollout>& all);

  OrchestratorOptions options_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<Records> records_;
  std::unique_ptr<storage::AuditLog> audit_;
  std::optional<secrets::SecretKey> key_;
  std::unique_ptr<bus::Bus> bus_;
  std::optional<bus::Responder> leases_;  // answers <prefix>.lease
  std::optional<bus::Responder> checkpoints_;  // answers <prefix>.checkpoint
  std::unique_ptr<httplib::Server> http_;
  int port_ = 0;

  std::mutex rollout_mu_;  // rollout_wake_
  std::condition_variable rollout_cv_;
  bool rollout_wake_ = false;
  std::mutex state_mu_;  // read-modify-write of job, run, schedule and rollout records
  std::mutex unpublished_mu_;
  std::set<std::string> unpublished_;  // ids of queued jobs whose last publish failed (RetryUnpublished)
  // Fleet apply jobs (not a rollout's) that may be in flight, by job id:
  // their server (host:port). Under state_mu_; filled at start from the
  // unfinished jobs (RepublishPending) and by StartApply.
  std::map<std::string, std::string> fleet_applies_;
  std::mutex audit_mu_;  // the chain's one writer
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopped_ = false;
};

}  // namespace sqlx::orchestrator
