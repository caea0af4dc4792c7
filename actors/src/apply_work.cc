#include "apply_work.h"

#include <flatbuffers/flatbuffers.h>

#include "job_buffer.h"
#include "sqlx/messages/jobs.h"

namespace sqlx::actors {
namespace fb = ::sqlx::fb::jobs;

flatbuffers::Offset<fb::ApplyPlanJob> ApplyPlanJobBody(flatbuffers::FlatBufferBuilder& b, const ApplyRequest& r) {
  std::vector<flatbuffers::Offset<flatbuffers::String>> ids;
  for (const std::string& id : r.migrations) ids.push_back(b.CreateString(id));
  return fb::CreateApplyPlanJobDirect(b, r.database.c_str(), r.plan_json.c_str(), r.dry_run, r.allow_destructive,
                                      r.allow_blocking, r.postpone_cutover,
                                      r.migration_action.empty() ? nullptr : r.migration_action.c_str(),
                                      ids.empty() ? nullptr : &ids, r.cutover_before_ns);
}

std::string ApplyPlanJob(std::string_view job_id, const ApplyRequest& r) {
  flatbuffers::FlatBufferBuilder b(256 + r.plan_json.size());
  return FinishEnvelope(b, job_id, 1, fb::Body::ApplyPlanJob, ApplyPlanJobBody(b, r).Union());
}

Result<std::string> ApplyOn(transports::Session& session, const transports::ConnectionUrl& url, std::string_view job,
                            const PlanRunner& runner) {
  const fb::Envelope* env = fb::GetEnvelope(job.data());
  const fb::ApplyPlanJob* body = env->body_as_ApplyPlanJob();
  ApplyRequest request;
  request.database = std::string(Str(body->database()));
  request.plan_json = std::string(Str(body->plan_json()));
  request.dry_run = body->dry_run();
  request.allow_destructive = body->allow_destructive();
  request.allow_blocking = body->allow_blocking();
  request.postpone_cutover = body->postpone_cutover();
  request.migration_action = std::string(Str(body->migration_action()));
  if (body->migrations() != nullptr) {
    for (const flatbuffers::String* id : *body->migrations()) request.migrations.emplace_back(Str(id));
  }
  request.cutover_before_ns = body->cutover_before_ns();
  SQLX_ASSIGN_OR_RETURN(ApplySummary s, runner(session, url, request));
  flatbuffers::FlatBufferBuilder b(1024 + s.report_json.size());
  const ServerHealth& h = s.health;
  auto out = fb::CreateApplyReportDirect(b, s.database.c_str(), s.result.c_str(), s.from_hash.c_str(),
                                         s.to_hash.c_str(), s.live_hash.c_str(), s.applied, s.failed_operation,
                                         s.report_json.c_str(), h.sampled, h.max_threads_running, h.replicas,
                                         h.max_replica_lag_s, h.replica_lag_error.c_str());
  return FinishEnvelope(b, env->job_id() ? env->job_id()->string_view() : "", env->attempt(), fb::Body::ApplyReport,
                out.Union());
}

std::string MigrationJob(std::string_view job_id, const MigrationRequest& r) {
  flatbuffers::FlatBufferBuilder b(256 + r.migration_json.size());
  auto body = fb::CreateMigrationJobDirect(b, r.migration_json.c_str(), r.action.c_str(), r.force);
  return FinishEnvelope(b, job_id, 1, fb::Body::MigrationJob, body.Union());
}

Result<std::string> MigrateOn(transports::Session& session, const transports::ConnectionUrl& url, std::string_view job,
                              const MigrationRunner& runner) {
  const fb::Envelope* env = fb::GetEnvelope(job.data());
  const fb::MigrationJob* body = env->body_as_MigrationJob();
  MigrationRequest request{std::string(Str(body->migration_json())), std::string(Str(body->action())), body->force()};
  SQLX_ASSIGN_OR_RETURN(MigrationOutcome outcome, runner(session, url, request));
  flatbuffers::FlatBufferBuilder b(1024 + outcome.migration_json.size());
  flatbuffers::Offset<fb::Error> error = 0;
  if (outcome.error) {
    const Error& e = *outcome.error;
    error = fb::CreateErrorDirect(b, static_cast<int>(e.code), e.message.c_str(), jobs::IsRetryable(e.code),
                                  e.server_code, e.sqlstate.c_str());
  }
  auto out = fb::CreateMigrationReport(b, b.CreateString(outcome.migration_json), error);
  return FinishEnvelope(b, env->job_id() ? env->job_id()->string_view() : "", env->attempt(),
                        fb::Body::MigrationReport, out.Union());
}

MigrationOutcome ReadMigrationReport(std::string_view verified) {
  const fb::MigrationReport* r = fb::GetEnvelope(verified.data())->body_as_MigrationReport();
  MigrationOutcome out;
  out.migration_json = std::string(Str(r->migration_json()));
  if (r->error() != nullptr) {
    Error e = jobs::ErrorFromCode(r->error()->code(), Str(r->error()->message()));
    e.server_code = r->error()->server_code();
    e.sqlstate = std::string(Str(r->error()->sqlstate()));
    out.error = std::move(e);
  }
  return out;
}

}  // namespace sqlx::actors
