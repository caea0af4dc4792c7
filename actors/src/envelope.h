// The one CAF message type of the actors: a jobs FlatBuffer (jobs.fbs) plus
// its kind tag, and how an actor takes one in: verified before any read,
// rejected with a logged reason and an Error reply otherwise.
#pragma once

#include <caf/meta/type_name.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sqlx/messages/jobs.h"
#include "sqlx/messages/result.h"

namespace sqlx::actors {

// `bytes` is a jobs buffer whose body is `kind` (jobs::Kind) — once
// Accept has said so. A vector's data is aligned as the verifier requires.
struct Envelope {
  uint16_t kind = 0;
  std::vector<uint8_t> bytes;

  std::string_view view() const { return {reinterpret_cast<const char*>(bytes.data()), bytes.size()}; }
};

// CAF 0.17's inspection form (shared/DEPENDENCIES.md).
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, Envelope& x) {
  return f(caf::meta::type_name("sqlx::actors::Envelope"), x.kind, x.bytes);
}

Envelope MakeEnvelope(jobs::Kind kind, std::string_view bytes);
Envelope MakeEnvelope(jobs::Kind kind, const uint8_t* data, size_t size);

// Verifies `e` and checks that `actor` takes its kind (one of `accepted`).
// On failure logs "<actor>: rejected <kind> message: <reason>" (warn) and
// returns the reason; the caller replies with ErrorReply.
Result<jobs::Header> Accept(const Envelope& e, std::string_view actor, const std::vector<jobs::Kind>& accepted);

// An Error envelope for a job (job_id "" when the job's own bytes could not
// be read).
Envelope ErrorReply(std::string_view job_id, uint32_t attempt, const Error& error, bool retryable);
inline Envelope ErrorReply(const jobs::Header& h, const Error& error) {
  return ErrorReply(h.job_id, h.attempt, error, jobs::IsRetryable(error.code));
}

}  // namespace sqlx::actors
