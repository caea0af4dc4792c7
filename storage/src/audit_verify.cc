// Verification of the whole audit log: every event's hash and link, every
// stored checkpoint's signature and root, the head, and an exported
// checkpoint. Reads events in seq order once, keeping a Merkle frontier, so
// the cost is one SHA-256 per event plus O(log n) per checkpoint.
#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <string>

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

// One pass over the events in key order: each event's bytes, hash, seq and
// link, the Merkle frontier, and the checkpoints at their sizes.
class ChainCheck {
 public:
  ChainCheck(const AuditVerifyOptions& options, const std::map<uint64_t, Checkpoint>& checkpoints, uint64_t head_size,
             AuditVerifyReport* report)
      : options_(options), checkpoints_(checkpoints), head_size_(head_size), report_(report), v_(report) {
    key_ = options.trusted_key;
    if (!key_ && options.trusted_checkpoint) key_ = options.trusted_checkpoint->public_key;
    report->anchored = key_.has_value();
    report->checkpoints = checkpoints.size();
  }

  bool Fail(AuditFault fault, uint64_t seq, std::string message) { return v_.Fail(fault, seq, std::move(message)); }

  // Checks the stored and the given checkpoint of `size`, if any.
  bool CheckAt(uint64_t size) {
    auto stored = checkpoints_.find(size);
    const bool given = options_.trusted_checkpoint && options_.trusted_checkpoint->tree_size == size;
    if (stored == checkpoints_.end() && !given) return true;
    const Hash root = frontier_.Root();
    if (stored != checkpoints_.end() &&
        !CheckCheckpoint(stored->second, prev_, root, key_, "stored checkpoint " + std::to_string(size), &v_)) {
      return false;
    }
    return !given || CheckCheckpoint(*options_.trusted_checkpoint, prev_, root, key_, "the exported checkpoint", &v_);
  }

  // One stored event; false at the first fault.
  bool Step(std::string_view key, std::string_view value) {
    const std::optional<uint64_t> seq = keys::SeqFromKey(key);
    if (!seq) return Fail(AuditFault::kInserted, expected_, "a key that is not an 8-byte seq was added to audit_events");
    if (*seq != expected_) {
      return Fail(AuditFault::kMissing, expected_, "no event, while event " + std::to_string(*seq) + " exists");
    }
    if (*seq > head_size_) {
      return Fail(AuditFault::kInserted, *seq,
                  "event beyond the head (" + std::to_string(head_size_) + " events were appended)");
    }
    if (IsPrunedLeaf(value)) return StepPruned(*seq, value);
    if (value.size() < 32) return Fail(AuditFault::kPayloadModified, *seq, "the stored value is too short");
    const std::string_view bytes = value.substr(0, value.size() - 32);
    auto event = DecodeEventLink(bytes);
    if (!event.ok()) return Fail(AuditFault::kPayloadModified, *seq, event.error().message);
    if (event->seq != *seq) {
      return Fail(AuditFault::kReordered, *seq, "the event stored here is event " + std::to_string(event->seq));
    }
    const Hash hash = LeafHash(bytes);
    if (std::memcmp(hash.data(), value.data() + bytes.size(), 32) != 0) {
      return Fail(AuditFault::kPayloadModified, *seq, "the event's bytes do not hash to its stored hash");
    }
    if (event->prev_hash != prev_) {
      return Fail(AuditFault::kPrevHashMismatch, *seq, "prev_hash is not the hash of event " + std::to_string(*seq - 1));
    }
    return Link(*seq, hash);
  }

  // A pruned leaf: its hash cannot be recomputed (the payload is gone); it is
  // held by the next event's prev_hash and by every checkpoint root over it.
  bool StepPruned(uint64_t seq, std::string_view value) {
    const std::optional<PrunedLeaf> leaf = DecodePrunedLeaf(value);
    if (!leaf) return Fail(AuditFault::kPayloadModified, seq, "a pruned leaf of the wrong size");
    if (leaf->seq != seq) {
      return Fail(AuditFault::kReordered, seq, "the pruned leaf stored here is event " + std::to_string(leaf->seq));
    }
    if (leaf->prev_hash != prev_) {
      return Fail(AuditFault::kPrevHashMismatch, seq,
                  "the pruned leaf's prev_hash is not the hash of event " + std::to_string(seq - 1));
    }
    ++report_->pruned;
    return Link(seq, leaf->hash);
  }

  // The event at `seq` (the next expected) with leaf hash `hash` extends
  // the chain and the tree.
  bool Link(uint64_t seq, const Hash& hash) {
    frontier_.Append(hash);
    prev_ = hash;
    ++report_->events;
    ++expected_;
    return CheckAt(seq);
  }

  // The head these events make (size, hash, frontier). REQUIRES: no fault.
  void RebuildHead(AuditHead* head) const {
    head->size = expected_ - 1;
    head->head_hash = prev_;
    head->frontier = frontier_.nodes();
  }

  // After the last event: nothing the head or a checkpoint covers is gone.
  void CheckCoverage() {
    const uint64_t last = expected_ - 1;
    uint64_t covered = head_size_ == UINT64_MAX ? 0 : head_size_;  // MAX: no head to go by
    std::string by = "the head record";
    if (!checkpoints_.empty() && checkpoints_.rbegin()->first > covered) {
      covered = checkpoints_.rbegin()->first;
      by = "stored checkpoint " + std::to_string(covered);
    }
    if (options_.trusted_checkpoint && options_.trusted_checkpoint->tree_size > covered) {
      covered = options_.trusted_checkpoint->tree_size;
      by = "the exported checkpoint";
    }
    if (covered > last) {
      Fail(AuditFault::kTruncated, last + 1,
           std::to_string(covered - last) + " event(s) that " + by + " covers (up to seq " + std::to_string(covered) +
               ") are gone");
    }
  }

  void Summarize() {
    const uint64_t last = expected_ - 1;
    const uint64_t last_checkpoint = checkpoints_.empty() ? 0 : checkpoints_.rbegin()->first;
    report_->unsigned_tail = last > last_checkpoint ? last - last_checkpoint : 0;
    report_->ok = !report_->fault.has_value();
    if (!report_->ok) return;
    report_->message = std::to_string(report_->events) + " events and " + std::to_string(report_->checkpoints) +
                       " checkpoints verified";
    if (report_->pruned > 0) {
      report_->message += " (" + std::to_string(report_->pruned) + " of the events pruned to their leaf hash)";
    }
    if (!report_->anchored) {
      report_->message += "; signatures were checked only against the keys the store names: pass --pubkey or "
                          "--checkpoint to detect a re-signed log";
    }
    if (report_->unsigned_tail > 0) {
      report_->message += "; the newest " + std::to_string(report_->unsigned_tail) +
                          " event(s) are not yet covered by a signed checkpoint";
    }
  }

 private:
  const AuditVerifyOptions& options_;
  const std::map<uint64_t, Checkpoint>& checkpoints_;
  const uint64_t head_size_;  // UINT64_MAX when the head record is damaged
  AuditVerifyReport* report_;
  Verification v_;
  std::optional<PublicKey> key_;
  MerkleFrontier frontier_;
  Hash prev_{};
  uint64_t expected_ = 1;
};

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
  return VerifyChain(options, nullptr);
}

Result<AuditVerifyReport> RocksAuditLog::VerifyChain(const AuditVerifyOptions& options, AuditHead* rebuilt) {
  AuditVerifyReport report;
  // A damaged head is reported after the events (a fault there comes first).
  // When rebuilding, the head is neither read nor trusted.
  Result<AuditHead> loaded = rebuilt != nullptr ? Result<AuditHead>(AuditHead{}) : LoadHead(store_);
  SQLX_ASSIGN_OR_RETURN(auto checkpoints, AllCheckpoints());
  const uint64_t head_size = rebuilt == nullptr && loaded.ok() ? loaded->size : UINT64_MAX;
  ChainCheck check(options, checkpoints, head_size, &report);
  bool going = check.CheckAt(0);  // a checkpoint of size 0 commits to the empty tree
  std::unique_ptr<rocksdb::Iterator> it(
      store_.db_->NewIterator(rocksdb::ReadOptions(), family(RocksStore::kAuditEvents)));
  for (it->SeekToFirst(); going && it->Valid(); it->Next()) {
    going = check.Step(it->key().ToStringView(), it->value().ToStringView());
  }
  if (!it->status().ok()) return store_.ToError(it->status(), "reading audit events");
  if (going && !loaded.ok()) going = check.Fail(AuditFault::kHeadDamaged, 0, loaded.error().message);
  if (going) check.CheckCoverage();
  check.Summarize();
  if (rebuilt != nullptr && report.ok) {
    *rebuilt = AuditHead{};
    check.RebuildHead(rebuilt);
    if (!checkpoints.empty()) {
      const Checkpoint& latest = checkpoints.rbegin()->second;
      rebuilt->has_checkpoint = true;
      rebuilt->checkpoint_size = latest.tree_size;
      rebuilt->checkpoint_time_ns = latest.time_ns;
    }
    SQLX_ASSIGN_OR_RETURN(std::optional<TimeEntryKey> newest, NewestTimeEntry(store_));
    rebuilt->time_high_water_ns = newest ? newest->high_water_ns : INT64_MIN;
  }
  return report;
}

}  // namespace sqlx::storage
