// Jobs and results in their wire form (messages/schemas/jobs.fbs) for the
// processes that send and read them over the bus without running actors:
// the orchestrator builds jobs with their target and reads what workers
// publish. Every Read* requires bytes that jobs::Verify (or VerifyAny)
// accepted with the kind it names.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sqlx/actors/plan_runner.h"
#include "sqlx/actors/system.h"
#include "sqlx/messages/result.h"
#include "sqlx/storage/audit_event.h"
#include "sqlx/storage/store.h"

namespace sqlx::actors {

// The server a job runs on (jobs.fbs Target).
struct JobTarget {
  std::string connection;       // the orchestrator's name for it
  std::string url;              // without a password
  std::string sealed_password;  // secrets::Seal(key, password, connection); empty: none
};

std::string LearnServerJobFor(std::string_view job_id, const JobTarget& target, std::string_view fingerprint_salt);
std::string LearnDatabaseJobFor(std::string_view job_id, const JobTarget& target,
                                const std::vector<std::string>& databases);
std::string ApplyPlanJobFor(std::string_view job_id, const JobTarget& target, const ApplyRequest& request);

// A queue health check (jobs.fbs ProbeJob): no target, an empty payload.
// A probe job carrying `payload_bytes` of filler (incompressible, so that a
// large one takes the bus's chunked path).
std::string ProbeJobFor(std::string_view job_id, uint32_t payload_bytes = 0);
// A worker's answer to a probe of `payload_bytes` bytes.
std::string ProbeResultFor(std::string_view job_id, uint32_t attempt, std::string_view worker,
                           uint32_t payload_bytes);

struct ProbeResultInfo {
  std::string worker;
  uint32_t payload_bytes = 0;
};
ProbeResultInfo ReadProbeResult(std::string_view verified);

// A job's lease (jobs.fbs LeaseRequest / LeaseReply; docs/cluster.md).
struct LeaseRequestInfo {
  std::string job_id;
  std::string worker;
  uint64_t delivery = 0;
  uint64_t token = 0;  // 0: acquire
};
std::string LeaseRequestFor(const LeaseRequestInfo& request);
LeaseRequestInfo ReadLeaseRequest(std::string_view verified);
struct LeaseReplyInfo {
  bool granted = false;
  uint64_t token = 0;
  std::string holder;
  std::string reason;
  int64_t expires_ns = 0;
  // A granted acquisition: the job's unfinished online migrations
  // (MigrationToJson), for the new holder to continue.
  std::vector<std::string> migrations;
};
std::string LeaseReplyFor(std::string_view job_id, const LeaseReplyInfo& reply);
LeaseReplyInfo ReadLeaseReply(std::string_view verified);

// An online migration's checkpoint, stored by the orchestrator for the
// worker that holds the job's lease (jobs.fbs MigrationCheckpoint, answered
// with a LeaseReply; docs/cluster.md, "Online copies").
struct MigrationCheckpointInfo {
  std::string job_id;
  std::string worker;
  uint64_t token = 0;          // the lease token the worker holds
  std::string migration_json;  // planner MigrationToJson
};
std::string MigrationCheckpointFor(const MigrationCheckpointInfo& checkpoint);
MigrationCheckpointInfo ReadMigrationCheckpoint(std::string_view verified);

LearnedServer ReadLearnedServer(std::string_view verified);

struct LearnedDatabasesResult {
  std::string connection;                          // user@host:port
  std::vector<storage::SchemaRecord> records;      // learned ones, ready to store
  std::vector<std::pair<std::string, Error>> failed;  // databases not learned, with why
};
// The learned entries as store records (IR decoded, canonicalized and checked
// against the hash it came with, learned_at = `now_ns`). An entry whose IR
// does not decode or hash fails the whole result.
Result<LearnedDatabasesResult> ReadLearnedDatabases(std::string_view verified, int64_t now_ns);

ApplySummary ReadApplySummary(std::string_view verified);

struct ProgressInfo {
  std::string phase;
  uint32_t step = 0;
  uint32_t total = 0;
  std::string what;
};
ProgressInfo ReadProgress(std::string_view verified);

struct HeartbeatInfo {
  std::string worker;
  int64_t time_ns = 0;
};
HeartbeatInfo ReadHeartbeat(std::string_view verified);

// An event for the orchestrator to append to the audit chain (seq and
// hashes are the chain's to set), and the event as the worker reported it.
std::string AuditEventFor(std::string_view job_id, uint32_t attempt, const storage::AuditEvent& event);
storage::AuditEvent ReadAuditEvent(std::string_view verified);

}  // namespace sqlx::actors
