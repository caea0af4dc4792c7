// The orchestrator's records in the store's `fleet` family
// (docs/formats/fleet.md): one JSON value per key, under a prefix per kind.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "lease.h"
#include "rollout.h"
#include "sqlx/messages/result.h"
#include "sqlx/storage/store.h"

namespace sqlx::orchestrator {

// A server of the fleet as an admin added it. The URL never holds the
// password; `sealed_password` is secrets::Seal(key, password, name).
struct FleetConnection {
  std::string name;  // [A-Za-z0-9_.-], 1..64
  std::string url;
  std::string sealed_password;  // raw bytes; empty: no password
  std::vector<std::string> tags;
  int64_t created_ns = 0;
  int64_t updated_ns = 0;
};

enum class JobState { kQueued, kRunning, kDone, kFailed, kDead };
std::string_view JobStateName(JobState s);  // "queued", ...
std::optional<JobState> ParseJobState(std::string_view s);
inline bool IsTerminal(JobState s) { return s == JobState::kDone || s == JobState::kFailed || s == JobState::kDead; }

struct Job {
  std::string id;    // "<run>.s<n>" (server), "<run>.s<n>.d<m>" (database) or "<run>.p<n>" (probe)
  std::string kind;  // jobs::KindName: "learn-server-job", "learn-database-job", "probe-job", ...
  std::string run;
  std::string connection;              // FleetConnection name
  std::vector<std::string> databases;  // a database job's
  JobState state = JobState::kQueued;
  std::string worker;                  // the last worker that started it
  uint64_t deliveries = 0;             // times a worker started it
  uint64_t stream_seq = 0;             // its message in the jobs stream (last publish)
  int64_t created_ns = 0, started_ns = 0, heartbeat_ns = 0, finished_ns = 0;
  std::string error;                   // failed / dead: why
  nlohmann::json summary = nlohmann::json::object();  // what came of it
  // What the job was asked to do beyond its kind and target: an apply job's
  // database and consents (its plan is a record of its own: plan/ID).
  nlohmann::json params = nlohmann::json::object();
};

// An org-wide learn ("fleet-learn": its server jobs, and through them its
// database jobs) or a queue health check ("probe": its probe jobs).
struct Run {
  std::string id;
  std::string kind = "fleet-learn";
  std::vector<std::string> connections;  // as resolved when it started; a probe: none
  std::string actor;                     // token subject or "schedule:<id>"
  int64_t created_ns = 0;
  int64_t published_ns = 0;              // when its first job was published; 0: not yet
};

struct Schedule {
  std::string id;
  std::string cron;                      // canonical
  std::vector<std::string> connections;  // empty: all
  std::string actor;
  int64_t created_ns = 0;
  int64_t next_ns = 0;  // 0: never (the expression has no next fire)
  int64_t last_ns = 0;
  std::string last_run;
};

struct ApiToken {
  std::string digest;  // secrets::TokenDigest of the token
  std::string subject;
  std::string role;  // "admin", "operator", "auditor"
  int64_t created_ns = 0;
};

// An apply job's online migration as its worker's last checkpoint left it
// (docs/cluster.md, "Online copies"): stored only from the job's current
// lease holder.
struct JobMigration {
  std::string job_id;
  std::string worker;      // who sent the checkpoint
  uint64_t token = 0;      // the lease token it came under
  int64_t stored_ns = 0;
  nlohmann::json migration = nlohmann::json::object();  // planner MigrationToJson (docs/formats/migrations.md)

  std::string id() const { return migration.value("id", ""); }
  std::string phase() const { return migration.value("phase", ""); }
  // Finalized or abandoned: nothing left to continue.
  bool done() const { return phase() == "finalized" || phase() == "abandoned"; }
};

nlohmann::json ToJson(const FleetConnection& c);  // without the sealed password
nlohmann::json ToJson(const JobMigration& m);
nlohmann::json ToJson(const Job& j);
nlohmann::json ToJson(const Run& r);
nlohmann::json ToJson(const Schedule& s);
nlohmann::json ToJson(const ApiToken& t);  // without the digest

// Typed access to the fleet family. Thread-safe as the store is; callers
// serialize read-modify-write sequences themselves.
class Records {
 public:
  explicit Records(storage::Store& store) : store_(store) {}

  Result<std::optional<FleetConnection>> GetConnection(std::string_view name);
  Result<std::vector<FleetConnection>> ListConnections();
  Result<std::optional<Job>> GetJob(std::string_view id);
  Result<std::vector<Job>> ListJobs(std::string_view id_prefix = "");
  Result<std::optional<Run>> GetRun(std::string_view id);
  Result<std::vector<Run>> ListRuns();
  Result<std::vector<Schedule>> ListSchedules();
  Result<std::optional<Schedule>> GetSchedule(std::string_view id);
  Result<std::optional<ApiToken>> GetToken(std::string_view digest);
  Result<std::vector<ApiToken>> ListTokens();
  Result<bool> Seen(std::string_view marker);
  // Every audit marker with the time it was written (0: written as "1" by
  // an orchestrator before markers carried it).
  Result<std::vector<std::pair<std::string, int64_t>>> ListSeen();
  Result<std::optional<Lease>> GetLease(std::string_view job_id);
  Result<std::optional<std::string>> GetPlan(std::string_view job_id);
  Result<std::optional<Rollout>> GetRollout(std::string_view id);
  Result<std::vector<Rollout>> ListRollouts();
  // A rollout's desired IR (canonical JSON text).
  Result<std::optional<std::string>> GetDesired(std::string_view rollout_id);
  // The online migrations of `job_id` (empty: of every job), by job and id.
  Result<std::vector<JobMigration>> ListMigrations(std::string_view job_id = "");

  // One atomic, synced batch of puts and deletes.
  class Batch {
   public:
    void Put(const FleetConnection& c);
    void Put(const Job& j);
    void Put(const Run& r);
    void Put(const Schedule& s);
    void Put(const ApiToken& t);
    void MarkSeen(std::string_view marker);
    void Put(const Lease& l);
    void PutPlan(std::string_view job_id, std::string plan_json);
    void Put(const Rollout& r);
    void PutDesired(std::string_view rollout_id, std::string ir_json);
    void Put(const JobMigration& m);
    void DeleteMigration(const JobMigration& m);
    void DeleteConnection(std::string_view name);
    void DeleteSchedule(std::string_view id);
    void DeleteToken(std::string_view digest);
    // A finished run's records: the run, and each job with its plan and lease.
    void DeleteRun(std::string_view run_id);
    void DeleteJob(std::string_view job_id);
    void DeleteSeen(std::string_view marker);
    bool empty() const { return writes_.empty(); }
    const std::vector<storage::FleetWrite>& writes() const { return writes_; }

   private:
    friend class Records;
    std::vector<storage::FleetWrite> writes_;
  };
  Status Write(const Batch& batch, std::string_view what);

 private:
  storage::Store& store_;
};

// Connection names: 1..64 of [A-Za-z0-9_.-].
Status ValidateConnectionName(std::string_view name);

}  // namespace sqlx::orchestrator
