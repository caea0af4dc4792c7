// AuditLog: the hash-chained, Merkle-checkpointed audit log kept in the
// store's column families (docs/formats/audit.md). One writer appends events
// in durable groups; checkpoints are signed with a key kept outside the
// store; verification trusts only a key or checkpoint given from outside.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sqlx/messages/result.h"
#include "sqlx/storage/audit_checkpoint.h"
#include "sqlx/storage/audit_event.h"
#include "sqlx/storage/audit_proof.h"
#include "sqlx/storage/store.h"

namespace sqlx::storage {

struct AuditLogOptions {
  // Ed25519 PEM private key; must not lie inside the store directory. Empty:
  // no checkpoints are signed (events are still chained). Default empty.
  std::string signing_key_file;
  // A checkpoint is signed with the append that reaches this many events
  // since the last one. Default 1000.
  uint64_t checkpoint_every_events = 1000;
  // ... or the first append this long after the last one. Default 60 s.
  std::chrono::seconds checkpoint_every{60};
  // The secondary index entries of appended events are kept in memory and
  // written (with the append that reaches) this many events, before a query,
  // prune or repair, and when the log is closed; after a crash they are
  // rebuilt from the events on open. Events themselves are always durable
  // when Append returns. 1: every append writes its own. Default 8192.
  uint64_t index_every_events = 8192;
};

// The kinds of damage verification reports. Fixed names in JSON output.
enum class AuditFault {
  kPayloadModified = 1,   // an event's bytes do not hash to its stored hash, or do not decode
  kPrevHashMismatch = 2,  // an event's prev_hash is not the previous event's hash
  kMissing = 3,           // a seq has no event while later ones exist
  kReordered = 4,         // the event stored under seq N says it is another seq
  kTruncated = 5,         // events a checkpoint (or the head) covers are gone
  kBadSignature = 6,      // a checkpoint is not signed by the trusted key
  kRootMismatch = 7,      // validly signed checkpoint, but the events no longer hash to its root
  kInserted = 8,          // an event or key the log never wrote (beyond the head, or a malformed key)
  kHeadDamaged = 9,       // the appender's head record does not decode (bad_seq is 0)
};
std::string_view AuditFaultName(AuditFault fault);  // "payload-modified", ...

struct AuditVerifyOptions {
  std::optional<PublicKey> trusted_key;          // --pubkey
  std::optional<Checkpoint> trusted_checkpoint;  // --checkpoint (its key is trusted when no --pubkey)
};

struct AuditVerifyReport {
  bool ok = false;
  uint64_t events = 0;       // events read
  uint64_t checkpoints = 0;  // stored checkpoints checked
  bool anchored = false;     // signatures were checked against a key from outside the store
  uint64_t unsigned_tail = 0;  // events after the last stored checkpoint
  uint64_t pruned = 0;       // of `events`, leaves pruned to their hash (retention)
  std::optional<AuditFault> fault;
  uint64_t bad_seq = 0;      // first bad seq when fault is set
  std::string message;       // what was found, for a person
};

struct AuditQuery {
  std::optional<int64_t> since_ns;  // inclusive
  std::optional<int64_t> until_ns;  // exclusive
  std::string database;             // --db
  std::string object;               // "db" or "db.table"
  std::string actor;                // any of os_user, service, token_subject
  std::string action;               // exact, or a prefix ending in "*" ("rollout.*")
  std::optional<AuditOutcome> outcome;
  size_t limit = 100;               // the newest `limit` matches
};

struct AuditQueryResult {
  std::vector<AuditEvent> events;  // oldest first
  // Indexed events that were missing or did not decode (skipped: the
  // timeline stays readable on a damaged log; `sqlx audit verify` says why).
  uint64_t unreadable = 0;
  // Events reached through the time index that were pruned (skipped: only
  // their hash is left).
  uint64_t pruned = 0;
};

// Retention: events older than `cutoff_ns` lose their payload and keep only
// their leaf hash (docs/formats/audit.md, "Pruned leaves").
struct AuditPruneOptions {
  int64_t cutoff_ns = 0;     // events with time_ns before this are pruned
  AuditVerifyOptions trust;  // the whole log must verify under these first
};

struct AuditPruneReport {
  // The verification that came first; when it failed (!verified.ok) nothing
  // was pruned or recorded.
  AuditVerifyReport verified;
  uint64_t pruned = 0;     // leaves pruned now (not counting earlier prunes)
  uint64_t first_seq = 0;  // the lowest and highest seq pruned now (0 when none)
  uint64_t last_seq = 0;
  AuditEvent recorded;     // the audit.prune event, as appended
};

struct AuditRepairReport {
  // The verification of the stored events (ignoring the head record); when
  // it failed (!verified.ok) nothing was changed or recorded.
  AuditVerifyReport verified;
  bool repaired = false;  // false: the head record was intact
  std::string damage;     // what was wrong with the head record
  uint64_t size = 0;      // events covered by the head now
  AuditEvent recorded;    // the audit.repair event, as appended
};

// Where audit events go: the chain itself (AuditLog), or, on a process
// that does not hold it (a cluster worker), a forwarder to the one that
// does. Thread-safe.
class AuditSink {
 public:
  virtual ~AuditSink() = default;
  // Records `events` in order (durably, when it returns Ok) and returns them
  // as recorded: the chain sets seq, prev_hash and hash; a forwarder leaves
  // them unset (the receiving chain sets them).
  virtual Result<std::vector<AuditEvent>> Append(std::vector<AuditEvent> events) = 0;
};

class AuditLog : public AuditSink {
 public:
  // The audit log of `store`, which must outlive it. Loads the signing key
  // when options name one (errors as AuditSigningKey::Load; kInvalidArgument
  // when the key file is inside the store directory).
  static Result<std::unique_ptr<AuditLog>> Open(Store& store, const AuditLogOptions& options);
  // Writes the index entries not yet written (unsynced: they are rebuilt
  // from the events should they be lost).
  virtual ~AuditLog() = default;

  // Appends `events` in order as one synced RocksDB batch (with any
  // checkpoint due, and the pending index entries when they are due: see
  // index_every_events), then returns them with seq, prev_hash
  // and hash set. details_json and error are redacted first. Thread-safe.
  // Refuses (kIo) to append to a log whose head record does not match its
  // newest event: it was changed outside sqlx, and signing on top of it
  // would vouch for the change.
  Result<std::vector<AuditEvent>> Append(std::vector<AuditEvent> events) override {
    return Append(std::move(events), {});
  }
  // The same, with `fleet_writes` (Store::WriteFleet's records) in the same
  // atomic batch: a record that says the events were taken (the
  // orchestrator's markers of worker events) is written if and only if
  // they are appended.
  virtual Result<std::vector<AuditEvent>> Append(std::vector<AuditEvent> events,
                                                 const std::vector<FleetWrite>& fleet_writes) = 0;
  // Signs a checkpoint at the current head now (or returns the latest when it
  // already covers the head). kInvalidArgument without a signing key.
  virtual Result<Checkpoint> CheckpointNow() = 0;
  virtual Result<std::optional<Checkpoint>> LatestCheckpoint() = 0;
  virtual Result<std::optional<Checkpoint>> CheckpointAt(uint64_t tree_size) = 0;
  // Number of events (the head's seq).
  virtual uint64_t Size() = 0;

  // Reads every event and checkpoint; stops at the first fault. Errors are
  // only for failures to read; damage is reported in the report.
  virtual Result<AuditVerifyReport> Verify(const AuditVerifyOptions& options) = 0;
  // Inclusion of event `seq` in the tree of `tree_size` events.
  virtual Result<InclusionProofDoc> ProveInclusion(uint64_t seq, uint64_t tree_size) = 0;
  virtual Result<ConsistencyProofDoc> ProveConsistency(uint64_t first, uint64_t second) = 0;
  // Events matching every filter, oldest first, served from the secondary
  // indexes (never a scan of all events).
  virtual Result<AuditQueryResult> Query(const AuditQuery& query) = 0;

  // Verifies the whole log under options.trust, then, in one synced batch,
  // replaces every event older than the cutoff by its pruned leaf, drops
  // its secondary index postings, and appends `record` (its action and
  // details are set here: cutoff, count, seq range). A log that does not
  // verify is left untouched (report.verified says why): pruning must never
  // launder a changed event into a hash-only leaf. Errors: reading or
  // writing the store, or the head record is damaged (see RepairHead).
  virtual Result<AuditPruneReport> Prune(const AuditPruneOptions& options, AuditEvent record) = 0;
  // Rebuilds the head record from the stored events when it is damaged or
  // does not match them: verifies every event and checkpoint (and `trust`)
  // without the head, then writes the rebuilt head and appends `record`
  // (action audit.repair, details: what was wrong) in one synced batch. A
  // chain that does not verify is left untouched (report.verified says why).
  // An intact head is left alone and nothing is recorded.
  virtual Result<AuditRepairReport> RepairHead(const AuditVerifyOptions& trust, AuditEvent record) = 0;
};

}  // namespace sqlx::storage
