// Jobs and their results as FlatBuffers (schema messages/schemas/jobs.fbs,
// root Envelope, file identifier "SQJB"; docs/actors.md): the one form every
// actor message takes, in process and on the bus. This header checks and
// reads what every receiver needs (kind, job id, errors); the generated
// accessors stay private to the modules that link sqlx_messages_schemas.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sqlx/messages/result.h"

namespace sqlx::jobs {

// The 4 bytes at offset 4 of every jobs buffer.
inline constexpr std::string_view kFlatBufferIdentifier = "SQJB";

// What an envelope carries: the number of its member in jobs.fbs's Body
// union (fixed: members are only appended).
enum class Kind : uint16_t {
  kNone = 0,              // no body: never valid
  kLearnServerJob = 1,    // learn the connection's server
  kLearnDatabaseJob = 2,  // learn (and store) databases
  kApplyPlanJob = 3,      // run a plan on a database
  kLearnedServer = 4,     // result of kLearnServerJob
  kLearnedDatabases = 5,  // result of kLearnDatabaseJob
  kApplyReport = 6,       // result of kApplyPlanJob
  kProgress = 7,          // where a job is
  kHeartbeat = 8,         // a worker still holds a job
  kAuditEvent = 9,        // an event for the audit chain
  kError = 10,            // a job or a message failed
  kProbeJob = 11,         // a queue health check: answered at once, no server
  kProbeResult = 12,      // result of kProbeJob
  kLeaseRequest = 13,     // a worker asks for (or renews) a job's lease
  kLeaseReply = 14,       // the orchestrator's answer
  kMigrationCheckpoint = 15,  // a worker stores an online migration's checkpoint (answered with a kLeaseReply)
  kQueryJob = 16,             // run SQL on the connection's session, results streamed on demand
  kQueryNext = 17,            // the next step of an open query's results (or its cancel)
  kQueryRows = 18,            // one step of a query's results (answer to kQueryJob and kQueryNext)
  kPingJob = 19,              // connect, authenticate, ping
  kPingReport = 20,           // result of kPingJob
  kMigrationJob = 21,         // move an online migration on (resume, cutover, revert, finalize)
  kMigrationReport = 22,      // result of kMigrationJob
};
inline constexpr uint16_t kMaxKind = 22;

// "learn-server-job", "learned-databases", "error", ...; "unknown" otherwise.
std::string_view KindName(Kind kind);

// Verifier limits: nesting depth and tables per buffer.
inline constexpr int kMaxDepth = 64;
inline constexpr int kMaxTables = 1000000;

// Checks `bytes` before anything reads them: size, the "SQJB" identifier,
// the FlatBuffers verifier (bounded as above), a body present, and a body
// kind equal to `kind` (the tag that travels beside the bytes). kInvalidArgument
// naming the first thing wrong. `bytes` is untrusted; it must start at an
// 8-byte aligned address (a std::vector or std::string's data does), else it
// is rejected as misaligned. Thread-safe.
Status Verify(Kind kind, std::string_view bytes);

// Every envelope's header.
struct Header {
  Kind kind = Kind::kNone;
  std::string job_id;
  uint32_t attempt = 0;
};

// Verify for bytes that arrive without a kind tag (a message off the bus):
// the same checks, the kind being the body's own; its header on success.
Result<Header> VerifyAny(std::string_view bytes);
// REQUIRES: Verify(kind, bytes) passed.
Header ReadHeader(std::string_view verified);

// Sets the envelope's attempt number in place (a retry sends the same job
// again). False when the buffer does not store the field (a writer that
// left it at 0). REQUIRES: Verify passed on these bytes.
bool SetAttempt(uint8_t* verified, uint32_t attempt);

// Whether running the same job again may succeed after `code`: the
// transient network failures (kIo, kConnectionRefused, kTimeout, kClosed).
bool IsRetryable(ErrorCode code);

// An Error envelope for `job_id`/`attempt`.
std::string ErrorEnvelope(std::string_view job_id, uint32_t attempt, const Error& error, bool retryable);

// The Error an error table carries: its code number as an ErrorCode (an
// unknown number reads as kInternal, the number put in the message).
Error ErrorFromCode(int code, std::string_view message);

struct JobError {
  Error error;
  bool retryable = false;
};
// The error an Error envelope carries; an unknown code number reads as
// kInternal with the number in the message. REQUIRES: Verify(kError, bytes) passed.
JobError ReadError(std::string_view verified);

}  // namespace sqlx::jobs
