#include "apply_work.h"

#include <flatbuffers/flatbuffers.h>

#include "jobs_generated.h"

namespace sqlx::actors {
namespace fb = ::sqlx::fb::jobs;

namespace {
std::string Str(const flatbuffers::String* s) { return s == nullptr ? std::string() : s->str(); }

std::string Finish(flatbuffers::FlatBufferBuilder& b, std::string_view job_id, uint32_t attempt, fb::Body kind,
                   flatbuffers::Offset<void> body) {
  auto id = b.CreateString(job_id.data(), job_id.size());
  b.Finish(fb::CreateEnvelope(b, id, attempt, kind, body), fb::EnvelopeIdentifier());
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}
}  // namespace

std::string ApplyPlanJob(std::string_view job_id, const ApplyRequest& r) {
  flatbuffers::FlatBufferBuilder b(256 + r.plan_json.size());
  auto body = fb::CreateApplyPlanJobDirect(b, r.database.c_str(), r.plan_json.c_str(), r.dry_run,
                                           r.allow_destructive, r.allow_blocking);
  return Finish(b, job_id, 1, fb::Body::ApplyPlanJob, body.Union());
}

Result<std::string> ApplyOn(transports::Session& session, const transports::ConnectionUrl& url, std::string_view job,
                            const PlanRunner& runner) {
  const fb::Envelope* env = fb::GetEnvelope(job.data());
  const fb::ApplyPlanJob* body = env->body_as_ApplyPlanJob();
  ApplyRequest request;
  request.database = Str(body->database());
  request.plan_json = Str(body->plan_json());
  request.dry_run = body->dry_run();
  request.allow_destructive = body->allow_destructive();
  request.allow_blocking = body->allow_blocking();
  SQLX_ASSIGN_OR_RETURN(ApplySummary s, runner(session, url, request));
  flatbuffers::FlatBufferBuilder b(1024 + s.report_json.size());
  auto out = fb::CreateApplyReportDirect(b, s.database.c_str(), s.result.c_str(), s.from_hash.c_str(),
                                         s.to_hash.c_str(), s.live_hash.c_str(), s.applied, s.failed_operation,
                                         s.report_json.c_str());
  return Finish(b, env->job_id() ? env->job_id()->string_view() : "", env->attempt(), fb::Body::ApplyReport,
                out.Union());
}

ApplySummary ReadApplySummary(std::string_view verified) {
  const fb::ApplyReport* r = fb::GetEnvelope(verified.data())->body_as_ApplyReport();
  ApplySummary s;
  s.database = Str(r->database());
  s.result = Str(r->result());
  s.from_hash = Str(r->from_hash());
  s.to_hash = Str(r->to_hash());
  s.live_hash = Str(r->live_hash());
  s.applied = r->applied();
  s.failed_operation = r->failed_operation();
  s.report_json = Str(r->report_json());
  return s;
}

}  // namespace sqlx::actors
