#include "sqlx/actors/wire.h"

#include <flatbuffers/flatbuffers.h>

#include "apply_work.h"
#include "job_buffer.h"
#include "record_of.h"
#include "sqlx/messages/ir.h"
#include "sqlx/messages/ir_flatbuffers.h"
#include "sqlx/messages/jobs.h"

namespace sqlx::actors {
namespace fb = ::sqlx::fb::jobs;

namespace {

flatbuffers::Offset<fb::Target> TargetTable(flatbuffers::FlatBufferBuilder& b, const JobTarget& t) {
  auto sealed = b.CreateVector(reinterpret_cast<const uint8_t*>(t.sealed_password.data()), t.sealed_password.size());
  return fb::CreateTarget(b, b.CreateString(t.connection), b.CreateString(t.url), sealed);
}

std::vector<std::string> Strings(const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* v) {
  std::vector<std::string> out;
  if (v == nullptr) return out;
  out.reserve(v->size());
  for (const flatbuffers::String* s : *v) out.push_back(s->str());
  return out;
}

}  // namespace

Result<storage::SchemaRecord> RecordOf(std::string_view connection, const fb::LearnedDatabase& db, int64_t now_ns) {
  const std::string_view name = Str(db.database());
  if (db.ir() == nullptr) return MakeError(ErrorCode::kInvalidArgument, "learned database '" + std::string(name) + "' has no IR");
  Result<ir::Database> schema = ir::FromFlatBuffer(
      std::string_view(reinterpret_cast<const char*>(db.ir()->data()), db.ir()->size()));
  if (!schema.ok()) return std::move(schema).error();
  ir::Canonicalize(&*schema);
  const std::string hash = ir::CanonicalProfileHash(*schema);
  if (hash != Str(db.profile_hash())) {
    return MakeError(ErrorCode::kInvalidArgument, "learned database '" + std::string(name) + "': its IR hashes to " +
                                                      hash + ", not to the profile hash it came with");
  }
  storage::SchemaRecord record;
  record.connection = std::string(connection);
  record.database = std::string(name);
  record.profile_hash = hash;
  record.profile_json = ir::ToCanonicalJson(*schema, false);
  record.status = schema->not_visible.empty() ? "learned" : "partial";
  record.learned_at_ns = now_ns;
  return record;
}

std::string LearnServerJobFor(std::string_view job_id, const JobTarget& target, std::string_view fingerprint_salt) {
  flatbuffers::FlatBufferBuilder b;
  auto body = fb::CreateLearnServerJob(b, b.CreateString(fingerprint_salt.data(), fingerprint_salt.size()));
  auto t = TargetTable(b, target);
  return FinishEnvelope(b, job_id, 1, fb::Body::LearnServerJob, body.Union(), t);
}

std::string LearnDatabaseJobFor(std::string_view job_id, const JobTarget& target,
                                const std::vector<std::string>& databases) {
  flatbuffers::FlatBufferBuilder b;
  auto body = fb::CreateLearnDatabaseJob(b, b.CreateVectorOfStrings(databases), false);
  auto t = TargetTable(b, target);
  return FinishEnvelope(b, job_id, 1, fb::Body::LearnDatabaseJob, body.Union(), t);
}

std::string ApplyPlanJobFor(std::string_view job_id, const JobTarget& target, const ApplyRequest& r) {
  flatbuffers::FlatBufferBuilder b(512 + r.plan_json.size());
  auto body = ApplyPlanJobBody(b, r);
  auto t = TargetTable(b, target);
  return FinishEnvelope(b, job_id, 1, fb::Body::ApplyPlanJob, body.Union(), t);
}

std::string ProbeJobFor(std::string_view job_id, uint32_t payload_bytes) {
  flatbuffers::FlatBufferBuilder b(128 + payload_bytes);
  flatbuffers::Offset<flatbuffers::Vector<uint8_t>> payload;
  if (payload_bytes > 0) {
    uint8_t* filler = nullptr;
    payload = b.CreateUninitializedVector(payload_bytes, &filler);
    // xorshift64: cheap bytes that zstd cannot shrink.
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (uint32_t i = 0; i < payload_bytes; ++i) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      filler[i] = static_cast<uint8_t>(x);
    }
  }
  auto body = fb::CreateProbeJob(b, payload);
  return FinishEnvelope(b, job_id, 1, fb::Body::ProbeJob, body.Union());
}

std::string ProbeResultFor(std::string_view job_id, uint32_t attempt, std::string_view worker,
                           uint32_t payload_bytes) {
  flatbuffers::FlatBufferBuilder b(128 + worker.size());
  auto body = fb::CreateProbeResult(b, b.CreateString(worker.data(), worker.size()), payload_bytes);
  return FinishEnvelope(b, job_id, attempt, fb::Body::ProbeResult, body.Union());
}

ProbeResultInfo ReadProbeResult(std::string_view verified) {
  const fb::ProbeResult* r = fb::GetEnvelope(verified.data())->body_as_ProbeResult();
  return ProbeResultInfo{std::string(Str(r->worker())), r->payload_bytes()};
}

LearnedServer ServerOf(const fb::LearnedServer& s) {
  LearnedServer out;
  out.connection = std::string(Str(s.connection()));
  out.server_version = std::string(Str(s.server_version()));
  out.capability_json = std::string(Str(s.capability_json()));
  out.fingerprint = std::string(Str(s.fingerprint()));
  out.databases = Strings(s.databases());
  return out;
}

flatbuffers::Offset<fb::LearnedServer> ServerTableOf(flatbuffers::FlatBufferBuilder& b, const LearnedServer& server,
                                                     std::string_view endpoint) {
  return fb::CreateLearnedServer(b, b.CreateString(server.connection), b.CreateString(server.server_version),
                                 b.CreateString(server.capability_json), b.CreateString(server.fingerprint),
                                 b.CreateVectorOfStrings(server.databases),
                                 b.CreateString(endpoint.data(), endpoint.size()));
}

LearnedServer ReadLearnedServer(std::string_view verified) {
  return ServerOf(*fb::GetEnvelope(verified.data())->body_as_LearnedServer());
}

Result<LearnedDatabasesResult> ReadLearnedDatabases(std::string_view verified, int64_t now_ns) {
  const fb::LearnedDatabases* in = fb::GetEnvelope(verified.data())->body_as_LearnedDatabases();
  LearnedDatabasesResult out;
  out.connection = std::string(Str(in->connection()));
  if (in->databases() == nullptr) return out;
  for (const fb::LearnedDatabase* db : *in->databases()) {
    if (db->error() != nullptr) {
      Error e = jobs::ErrorFromCode(db->error()->code(), Str(db->error()->message()));
      out.failed.emplace_back(std::string(Str(db->database())), std::move(e));
      continue;
    }
    SQLX_ASSIGN_OR_RETURN(storage::SchemaRecord record, RecordOf(out.connection, *db, now_ns));
    out.records.push_back(std::move(record));
  }
  return out;
}

ApplySummary ReadApplySummary(std::string_view verified) {
  const fb::ApplyReport* r = fb::GetEnvelope(verified.data())->body_as_ApplyReport();
  ApplySummary s;
  s.database = std::string(Str(r->database()));
  s.result = std::string(Str(r->result()));
  s.from_hash = std::string(Str(r->from_hash()));
  s.to_hash = std::string(Str(r->to_hash()));
  s.live_hash = std::string(Str(r->live_hash()));
  s.applied = r->applied();
  s.failed_operation = r->failed_operation();
  s.report_json = std::string(Str(r->report_json()));
  s.health = ServerHealth{r->health_sampled(), r->max_threads_running(), r->replicas(), r->max_replica_lag_s(),
                          std::string(Str(r->replica_lag_error()))};
  return s;
}

ProgressInfo ReadProgress(std::string_view verified) {
  const fb::Progress* p = fb::GetEnvelope(verified.data())->body_as_Progress();
  return ProgressInfo{std::string(Str(p->phase())), p->step(), p->total(), std::string(Str(p->what()))};
}

HeartbeatInfo ReadHeartbeat(std::string_view verified) {
  const fb::Heartbeat* h = fb::GetEnvelope(verified.data())->body_as_Heartbeat();
  return HeartbeatInfo{std::string(Str(h->worker())), h->time_ns()};
}

storage::AuditEvent ReadAuditEvent(std::string_view verified) {
  const fb::AuditEvent* a = fb::GetEnvelope(verified.data())->body_as_AuditEvent();
  storage::AuditEvent e;
  e.time_ns = a->time_ns();
  e.actor.os_user = std::string(Str(a->actor_os_user()));
  e.actor.service = std::string(Str(a->actor_service()));
  e.actor.token_subject = std::string(Str(a->actor_token_subject()));
  e.host = std::string(Str(a->host()));
  e.pid = a->pid();
  e.program = std::string(Str(a->program()));
  e.action = std::string(Str(a->action()));
  e.object.connection = std::string(Str(a->object_connection()));
  e.object.database = std::string(Str(a->object_database()));
  e.object.table = std::string(Str(a->object_table()));
  e.outcome = a->outcome() == 0 ? storage::AuditOutcome::kOk : storage::AuditOutcome::kFailed;
  e.error = std::string(Str(a->error()));
  const std::string_view details = Str(a->details_json());
  e.details_json = details.empty() ? "{}" : std::string(details);
  return e;
}

std::string AuditEventFor(std::string_view job_id, uint32_t attempt, const storage::AuditEvent& e) {
  flatbuffers::FlatBufferBuilder b;
  auto body = fb::CreateAuditEventDirect(
      b, e.time_ns, e.actor.os_user.c_str(), e.actor.service.c_str(),
      e.actor.token_subject.empty() ? nullptr : e.actor.token_subject.c_str(), e.host.c_str(), e.pid,
      e.program.c_str(), e.action.c_str(), e.object.connection.c_str(),
      e.object.database.empty() ? nullptr : e.object.database.c_str(),
      e.object.table.empty() ? nullptr : e.object.table.c_str(), e.outcome == storage::AuditOutcome::kOk ? 0 : 1,
      e.error.empty() ? nullptr : e.error.c_str(), e.details_json.c_str());
  return FinishEnvelope(b, job_id, attempt, fb::Body::AuditEvent, body.Union());
}

std::string LeaseRequestFor(const LeaseRequestInfo& r) {
  flatbuffers::FlatBufferBuilder b;
  auto body = fb::CreateLeaseRequestDirect(b, r.worker.c_str(), r.delivery, r.token);
  return FinishEnvelope(b, r.job_id, 1, fb::Body::LeaseRequest, body.Union());
}

LeaseRequestInfo ReadLeaseRequest(std::string_view verified) {
  const fb::Envelope* env = fb::GetEnvelope(verified.data());
  const fb::LeaseRequest* r = env->body_as_LeaseRequest();
  return LeaseRequestInfo{std::string(Str(env->job_id())), std::string(Str(r->worker())), r->delivery(), r->token()};
}

std::string LeaseReplyFor(std::string_view job_id, const LeaseReplyInfo& r) {
  flatbuffers::FlatBufferBuilder b;
  auto migrations = r.migrations.empty() ? 0 : b.CreateVectorOfStrings(r.migrations);
  auto body = fb::CreateLeaseReply(b, r.granted, r.token, b.CreateString(r.holder), b.CreateString(r.reason),
                                   r.expires_ns, migrations);
  return FinishEnvelope(b, job_id, 1, fb::Body::LeaseReply, body.Union());
}

LeaseReplyInfo ReadLeaseReply(std::string_view verified) {
  const fb::LeaseReply* r = fb::GetEnvelope(verified.data())->body_as_LeaseReply();
  return LeaseReplyInfo{r->granted(),    r->token(), std::string(Str(r->holder())), std::string(Str(r->reason())),
                        r->expires_ns(), Strings(r->migrations())};
}

std::string MigrationCheckpointFor(const MigrationCheckpointInfo& c) {
  flatbuffers::FlatBufferBuilder b(256 + c.migration_json.size());
  auto body = fb::CreateMigrationCheckpointDirect(b, c.worker.c_str(), c.token, c.migration_json.c_str());
  return FinishEnvelope(b, c.job_id, 1, fb::Body::MigrationCheckpoint, body.Union());
}

MigrationCheckpointInfo ReadMigrationCheckpoint(std::string_view verified) {
  const fb::Envelope* env = fb::GetEnvelope(verified.data());
  const fb::MigrationCheckpoint* c = env->body_as_MigrationCheckpoint();
  return MigrationCheckpointInfo{std::string(Str(env->job_id())), std::string(Str(c->worker())), c->token(),
                                 std::string(Str(c->migration_json()))};
}

}  // namespace sqlx::actors
