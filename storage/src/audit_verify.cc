// Verification of the whole audit log: every event's hash and link, every
// stored checkpoint's signature and root, the head, and an exported
// checkpoint. Reads events in seq order once, keeping a Merkle frontier, so
// the cost is one SHA-256 per event plus O(log n) per checkpoint.
#include <algorithm>
#include <cstring>

#include <rocksdb/iterator.h>

#include "audit_keys.h"
#include "audit_log_impl.h"

namespace sqlx::storage {
namespace {

namespace keys = audit_keys;

class Verification {
 public:
  explicit Verification(AuditVerifyReport* report) : report_(report) {}

  // Records the first fault only; returns false so callers can stop.
  bool Fail(AuditFault fault, uint64_t seq, std::string message) {
    if (report_->fault) return false;
    report_->fault = fault;
    report_->bad_seq = seq;
    report_->message = "seq " + std::to_string(seq) + ": " + std::string(AuditFaultName(fault)) + ": " + message;
    return false;
  }

 private:
  AuditVerifyReport* report_;
};

// Checks one checkpoint against the recomputed head and root at its size.
bool CheckCheckpoint(const Checkpoint& c, const Hash& head, const Hash& root,
                     const std::optional<PublicKey>& trusted_key, std::string_view what, Verification* v) {
  const PublicKey key = trusted_key.value_or(c.public_key);
  if (!CheckpointSignatureValid(c, key)) {
    return v->Fail(AuditFault::kBadSignature, c.tree_size,
                   std::string(what) + " is not signed by " + (trusted_key ? "the trusted key" : "the key it names"));
  }
  if (c.root != root || c.head_hash != head) {
    return v->Fail(AuditFault::kRootMismatch, c.tree_size,
                   std::string(what) + " is validly signed but the events up to it no longer hash to its " +
                       (c.root != root ? "root" : "head hash") + ": an event at or before this seq was changed");
  }
  return true;
}

}  // namespace

Result<std::map<uint64_t, Checkpoint>> RocksAuditLog::AllCheckpoints() {
  std::map<uint64_t, Checkpoint> out;
  Status st = store_.Scan(RocksStore::kAuditCheckpoints, "", [&](std::string_view key, std::string_view value) -> Status {
    auto size = keys::SeqFromKey(key);
    auto c = ParseCheckpointJson(value);
    if (!size || !c.ok() || c->tree_size != *size) {
      // A damaged checkpoint is reported by Verify as a bad signature.
      Checkpoint broken;
      broken.tree_size = size.value_or(0);
      out[broken.tree_size] = broken;
      return Status::Ok();
    }
    out[*size] = *c;
    return Status::Ok();
  });
  SQLX_RETURN_IF_ERROR(st);
  return out;
}

Result<AuditVerifyReport> RocksAuditLog::Verify(const AuditVerifyOptions& options) {
  AuditVerifyReport report;
  Verification v(&report);
  // A damaged head is reported after the events (a fault there comes first).
  Result<AuditHead> loaded = LoadHead(store_);
  AuditHead head = loaded.ok() ? *loaded : AuditHead{};
  if (!loaded.ok()) head.size = UINT64_MAX;
  SQLX_ASSIGN_OR_RETURN(auto checkpoints, AllCheckpoints());
  report.checkpoints = checkpoints.size();
  std::optional<PublicKey> key = options.trusted_key;
  if (!key && options.trusted_checkpoint) key = options.trusted_checkpoint->public_key;
  report.anchored = key.has_value();

  MerkleFrontier frontier;
  Hash prev{};
  // Checkpoints at size 0 commit to the empty tree.
  auto check_at = [&](uint64_t size) -> bool {
    auto stored = checkpoints.find(size);
    const bool given = options.trusted_checkpoint && options.trusted_checkpoint->tree_size == size;
    if (stored == checkpoints.end() && !given) return true;
    const Hash root = frontier.Root();
    if (stored != checkpoints.end()) {
      if (!CheckCheckpoint(stored->second, prev, root, key, "stored checkpoint " + std::to_string(size), &v)) {
        return false;
      }
    }
    if (given) {
      if (!CheckCheckpoint(*options.trusted_checkpoint, prev, root, key, "the exported checkpoint", &v)) return false;
    }
    return true;
  };
  bool going = check_at(0);
  std::unique_ptr<rocksdb::Iterator> it(
      store_.db_->NewIterator(rocksdb::ReadOptions(), family(RocksStore::kAuditEvents)));
  uint64_t expected = 1;
  for (it->SeekToFirst(); going && it->Valid(); it->Next()) {
    const std::optional<uint64_t> seq = keys::SeqFromKey(it->key().ToStringView());
    if (!seq) {
      going = v.Fail(AuditFault::kInserted, expected, "a key that is not an 8-byte seq was added to audit_events");
      break;
    }
    if (*seq != expected) {
      going = v.Fail(AuditFault::kMissing, expected, "no event, while event " + std::to_string(*seq) + " exists");
      break;
    }
    if (*seq > head.size) {
      going = v.Fail(AuditFault::kInserted, *seq,
                     "event beyond the head (" + std::to_string(head.size) + " events were appended)");
      break;
    }
    const std::string_view value = it->value().ToStringView();
    if (value.size() < 32) {
      going = v.Fail(AuditFault::kPayloadModified, *seq, "the stored value is too short");
      break;
    }
    const std::string_view bytes = value.substr(0, value.size() - 32);
    auto event = DecodeEventLink(bytes);
    if (!event.ok()) {
      going = v.Fail(AuditFault::kPayloadModified, *seq, event.error().message);
      break;
    }
    if (event->seq != *seq) {
      going = v.Fail(AuditFault::kReordered, *seq, "the event stored here is event " + std::to_string(event->seq));
      break;
    }
    const Hash hash = LeafHash(bytes);
    if (std::memcmp(hash.data(), value.data() + value.size() - 32, 32) != 0) {
      going = v.Fail(AuditFault::kPayloadModified, *seq, "the event's bytes do not hash to its stored hash");
      break;
    }
    if (event->prev_hash != prev) {
      going = v.Fail(AuditFault::kPrevHashMismatch, *seq, "prev_hash is not the hash of event " +
                                                              std::to_string(*seq - 1));
      break;
    }
    frontier.Append(hash);
    prev = hash;
    ++report.events;
    ++expected;
    going = check_at(*seq);
  }
  if (!it->status().ok()) return store_.ToError(it->status(), "reading audit events");
  const uint64_t last = expected - 1;
  if (going && !loaded.ok()) going = v.Fail(AuditFault::kHeadDamaged, 0, loaded.error().message);
  if (going) {
    uint64_t covered = head.size;
    std::string by = "the head record";
    if (!checkpoints.empty() && checkpoints.rbegin()->first > covered) {
      covered = checkpoints.rbegin()->first;
      by = "stored checkpoint " + std::to_string(covered);
    }
    if (options.trusted_checkpoint && options.trusted_checkpoint->tree_size > covered) {
      covered = options.trusted_checkpoint->tree_size;
      by = "the exported checkpoint";
    }
    if (covered > last) {
      v.Fail(AuditFault::kTruncated, last + 1,
             std::to_string(covered - last) + " event(s) that " + by + " covers (up to seq " +
                 std::to_string(covered) + ") are gone");
    }
  }
  const uint64_t last_checkpoint = checkpoints.empty() ? 0 : checkpoints.rbegin()->first;
  report.unsigned_tail = last > last_checkpoint ? last - last_checkpoint : 0;
  report.ok = !report.fault.has_value();
  if (report.ok) {
    report.message = std::to_string(report.events) + " events and " + std::to_string(report.checkpoints) +
                     " checkpoints verified";
    if (!report.anchored) {
      report.message += "; signatures were checked only against the keys the store names: pass --pubkey or "
                        "--checkpoint to detect a re-signed log";
    }
    if (report.unsigned_tail > 0) {
      report.message += "; the newest " + std::to_string(report.unsigned_tail) +
                        " event(s) are not yet covered by a signed checkpoint";
    }
  }
  return report;
}

}  // namespace sqlx::storage
