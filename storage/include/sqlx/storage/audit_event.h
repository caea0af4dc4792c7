// An audit event and its canonical bytes: the exact bytes whose RFC 6962
// leaf hash is both the event's chain link and its Merkle leaf. The layout
// is drawn in docs/formats/audit.md (and in audit_event.cc).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sqlx/messages/result.h"
#include "sqlx/storage/merkle.h"

namespace sqlx::storage {

// Who acted. Any of the three may be empty; a one-shot command fills os_user.
struct AuditActor {
  std::string os_user;        // the effective OS user ("alice")
  std::string service;        // a service account ("orchestrator")
  std::string token_subject;  // an API token's subject
};

// What was acted on: a connection ("user@host:port"), a database under it,
// a table in that database. Any may be empty.
struct AuditObject {
  std::string connection;
  std::string database;
  std::string table;
};

enum class AuditOutcome : uint8_t { kOk = 0, kFailed = 1 };
std::string_view AuditOutcomeName(AuditOutcome outcome);  // "ok" | "failed"

struct AuditEvent {
  uint64_t seq = 0;      // 1, 2, ...: set by AuditLog::Append
  int64_t time_ns = 0;   // UTC nanoseconds since the epoch
  AuditActor actor;
  std::string host;      // the machine that acted (hostname)
  int64_t pid = 0;
  std::string program;   // the executable ("/usr/bin/sqlx")
  std::string action;    // dotted name: "learn.finished", "audit.verify", ...
  AuditObject object;
  AuditOutcome outcome = AuditOutcome::kOk;
  std::string error;     // empty when outcome is kOk
  std::string details_json = "{}";  // a JSON object, secrets redacted
  Hash prev_hash{};      // the previous event's hash; zeros for seq 1
  Hash hash{};           // LeafHash(CanonicalBytes(*this)): set by Append
};

// Every field but `hash`, as the bytes that are hashed and stored.
std::string CanonicalBytes(const AuditEvent& event);
// CanonicalBytes(event).size(), without encoding.
size_t CanonicalSize(const AuditEvent& event);
// Appends CanonicalBytes(event) to *out (so a caller can build a larger
// value around them without a copy).
void AppendCanonicalBytes(const AuditEvent& event, std::string* out);
// Parses canonical bytes (from the store or a proof: untrusted). Sets hash
// to LeafHash(bytes). kInvalidArgument on any malformation, trailing bytes
// included.
Result<AuditEvent> DecodeCanonicalBytes(std::string_view bytes);

// What verification needs of an event: its seq and link. Checks the whole
// layout as DecodeCanonicalBytes does, without copying any field.
struct AuditEventLink {
  uint64_t seq = 0;
  Hash prev_hash{};
};
Result<AuditEventLink> DecodeEventLink(std::string_view bytes);

// The event as one JSON object, for people and tools reading the timeline:
// seq, time (RFC 3339, ms) and time_ns, actor, host, pid, program, action,
// object, outcome, error, details (the object itself), prev_hash, hash.
std::string AuditEventToJson(const AuditEvent& e);
// The inverse, for events read from the orchestrator's API; kInvalidArgument
// naming what is missing or malformed.
Result<AuditEvent> AuditEventFromJson(std::string_view json);

// An event for `action` stamped with now and this process: OS user, host,
// pid and program.
AuditEvent NewAuditEvent(std::string action);

// Replaces secrets in a JSON object's text: the value of every key (at any
// depth) whose lowercased name contains password, passwd, pwd, secret,
// token, api_key, apikey, private_key, credential or authorization becomes
// "[REDACTED]", and every URL password in any string ("mysql://u:pw@h") is
// replaced by "***". Returns compact JSON with sorted keys. kInvalidArgument
// when `json` is not a JSON object.
Result<std::string> RedactDetails(std::string_view json);
// True only when RedactDetails(json) would return `json` unchanged (already
// compact, sorted and secret-free); false says nothing. Cheap: no parse.
bool DetailsAlreadyRedacted(std::string_view json);
// `text` with every URL password ("scheme://user:PASSWORD@") replaced by ***.
std::string RedactUrlPasswords(std::string_view text);

}  // namespace sqlx::storage
