#include "envelope.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace sqlx::actors {

Envelope MakeEnvelope(jobs::Kind kind, const uint8_t* data, size_t size) {
  return Envelope{static_cast<uint16_t>(kind), std::vector<uint8_t>(data, data + size)};
}

Envelope MakeEnvelope(jobs::Kind kind, std::string_view bytes) {
  return MakeEnvelope(kind, reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
}

Result<jobs::Header> Accept(const Envelope& e, std::string_view actor, const std::vector<jobs::Kind>& accepted) {
  auto reject = [&](const Error& error) -> Error {
    spdlog::warn("{}: rejected a {} message ({} bytes): {}", actor,
                 e.kind <= jobs::kMaxKind ? jobs::KindName(static_cast<jobs::Kind>(e.kind)) : "unknown", e.bytes.size(),
                 error.message);
    return error;
  };
  if (e.kind == 0 || e.kind > jobs::kMaxKind) {
    return reject(MakeError(ErrorCode::kInvalidArgument, "unknown message kind " + std::to_string(e.kind)));
  }
  const auto kind = static_cast<jobs::Kind>(e.kind);
  if (std::find(accepted.begin(), accepted.end(), kind) == accepted.end()) {
    return reject(MakeError(ErrorCode::kInvalidArgument,
                            "the " + std::string(actor) + " actor does not take " + std::string(jobs::KindName(kind))));
  }
  Status verified = jobs::Verify(kind, e.view());
  if (!verified.ok()) return reject(verified.error());
  return jobs::ReadHeader(e.view());
}

Envelope ErrorReply(std::string_view job_id, uint32_t attempt, const Error& error, bool retryable) {
  return MakeEnvelope(jobs::Kind::kError, jobs::ErrorEnvelope(job_id, attempt, error, retryable));
}

}  // namespace sqlx::actors
