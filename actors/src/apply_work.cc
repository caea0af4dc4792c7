#include "apply_work.h"

#include <flatbuffers/flatbuffers.h>

#include "job_buffer.h"

namespace sqlx::actors {
namespace fb = ::sqlx::fb::jobs;

flatbuffers::Offset<fb::ApplyPlanJob> ApplyPlanJobBody(flatbuffers::FlatBufferBuilder& b, const ApplyRequest& r) {
  std::vector<flatbuffers::Offset<flatbuffers::String>> ids;
  for (const std::string& id : r.migrations) ids.push_back(b.CreateString(id));
  return fb::CreateApplyPlanJobDirect(b, r.database.c_str(), r.plan_json.c_str(), r.dry_run, r.allow_destructive,
                                      r.allow_blocking, r.postpone_cutover,
                                      r.migration_action.empty() ? nullptr : r.migration_action.c_str(),
                                      ids.empty() ? nullptr : &ids);
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

}  // namespace sqlx::actors
