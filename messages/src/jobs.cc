// Verification and the shared readers of jobs buffers (jobs.h).
#include "sqlx/messages/jobs.h"

#include <flatbuffers/flatbuffers.h>

#include <cstring>

#include "jobs_generated.h"

namespace sqlx::jobs {
namespace fb = ::sqlx::fb::jobs;

static_assert(static_cast<uint16_t>(fb::Body::MAX) == kMaxKind, "jobs.h Kind and jobs.fbs Body must agree");
static_assert(static_cast<int>(fb::Body::LearnServerJob) == static_cast<int>(Kind::kLearnServerJob));
static_assert(static_cast<int>(fb::Body::LearnedDatabases) == static_cast<int>(Kind::kLearnedDatabases));
static_assert(static_cast<int>(fb::Body::Error) == static_cast<int>(Kind::kError));
static_assert(static_cast<int>(fb::Body::ProbeResult) == static_cast<int>(Kind::kProbeResult));
static_assert(static_cast<int>(fb::Body::LeaseReply) == static_cast<int>(Kind::kLeaseReply));
static_assert(static_cast<int>(fb::Body::MigrationCheckpoint) == static_cast<int>(Kind::kMigrationCheckpoint));
static_assert(static_cast<int>(fb::Body::QueryRows) == static_cast<int>(Kind::kQueryRows));
static_assert(static_cast<int>(fb::Body::PingReport) == static_cast<int>(Kind::kPingReport));
static_assert(static_cast<int>(fb::Body::MigrationReport) == static_cast<int>(Kind::kMigrationReport));

namespace {

constexpr std::string_view kKindNames[] = {
    "none",           "learn-server-job", "learn-database-job", "apply-plan-job", "learned-server",
    "learned-databases", "apply-report",  "progress",           "heartbeat",      "audit-event",
    "error",          "probe-job",        "probe-result",       "lease-request",  "lease-reply",
    "migration-checkpoint", "query-job",  "query-next",         "query-rows",     "ping-job",
    "ping-report",          "migration-job", "migration-report",
};
static_assert(std::size(kKindNames) == kMaxKind + 1);

std::string_view Str(const flatbuffers::String* s) { return s == nullptr ? std::string_view() : s->string_view(); }

}  // namespace

std::string_view KindName(Kind kind) {
  const auto n = static_cast<uint16_t>(kind);
  return n <= kMaxKind ? kKindNames[n] : std::string_view("unknown");
}

namespace {

Error Bad(std::string msg) { return MakeError(ErrorCode::kInvalidArgument, "jobs message: " + std::move(msg)); }

// Every check but the tag: the body kind the buffer carries.
Result<Kind> VerifyBuffer(std::string_view bytes) {
  if (bytes.size() < 8) return Bad("too short (" + std::to_string(bytes.size()) + " bytes) to be a FlatBuffer");
  if (bytes.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) return Bad("larger than a FlatBuffer can be");
  if (reinterpret_cast<uintptr_t>(bytes.data()) % 8 != 0) return Bad("buffer is not 8-byte aligned");
  if (bytes.substr(4, 4) != kFlatBufferIdentifier) {
    return Bad("file identifier is not \"" + std::string(kFlatBufferIdentifier) + "\"");
  }
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  flatbuffers::Verifier verifier(data, bytes.size(), kMaxDepth, kMaxTables);
  if (!fb::VerifyEnvelopeBuffer(verifier)) return Bad("the FlatBuffers verifier rejected the buffer");
  const fb::Envelope* env = fb::GetEnvelope(data);
  const auto body = static_cast<uint16_t>(env->body_type());
  if (body == 0 || env->body() == nullptr) return Bad("no body");
  return static_cast<Kind>(body);
}

}  // namespace

Status Verify(Kind kind, std::string_view bytes) {
  SQLX_ASSIGN_OR_RETURN(Kind body, VerifyBuffer(bytes));
  if (body != kind) {
    return Bad("body is " + std::string(KindName(body)) + " but the tag says " + std::string(KindName(kind)));
  }
  return Status::Ok();
}

Result<Header> VerifyAny(std::string_view bytes) {
  SQLX_RETURN_IF_ERROR(VerifyBuffer(bytes));
  return ReadHeader(bytes);
}

Header ReadHeader(std::string_view verified) {
  const fb::Envelope* env = fb::GetEnvelope(verified.data());
  return Header{static_cast<Kind>(env->body_type()), std::string(Str(env->job_id())), env->attempt()};
}

bool SetAttempt(uint8_t* verified, uint32_t attempt) {
  return fb::GetMutableEnvelope(verified)->mutate_attempt(attempt);
}

bool IsRetryable(ErrorCode code) {
  switch (code) {
    case ErrorCode::kIo:
    case ErrorCode::kConnectionRefused:
    case ErrorCode::kTimeout:
    case ErrorCode::kClosed:
      return true;
    default:
      return false;
  }
}

std::string ErrorEnvelope(std::string_view job_id, uint32_t attempt, const Error& error, bool retryable) {
  flatbuffers::FlatBufferBuilder b(256 + error.message.size());
  auto body = fb::CreateErrorDirect(b, static_cast<int>(error.code), error.message.c_str(), retryable,
                                    error.server_code, error.sqlstate.empty() ? nullptr : error.sqlstate.c_str());
  auto id = b.CreateString(job_id.data(), job_id.size());
  b.Finish(fb::CreateEnvelope(b, id, attempt, fb::Body::Error, body.Union()), fb::EnvelopeIdentifier());
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

Error ErrorFromCode(int code, std::string_view message) {
  if (code >= static_cast<int>(ErrorCode::kInvalidArgument) && code <= static_cast<int>(ErrorCode::kClosed)) {
    return MakeError(static_cast<ErrorCode>(code), std::string(message));
  }
  return MakeError(ErrorCode::kInternal, "error code " + std::to_string(code) + ": " + std::string(message));
}

JobError ReadError(std::string_view verified) {
  const fb::Error* e = fb::GetEnvelope(verified.data())->body_as_Error();
  JobError out;
  out.error = ErrorFromCode(e->code(), Str(e->message()));
  out.error.server_code = e->server_code();
  out.error.sqlstate = std::string(Str(e->sqlstate()));
  out.retryable = e->retryable();
  return out;
}

}  // namespace sqlx::jobs
