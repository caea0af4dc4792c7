// RocksAuditLog: AuditLog over the RocksStore's audit column families.
// Appending and proofs in audit_log.cc, verification in audit_verify.cc,
// the timeline query in audit_query.cc.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "audit_postings.h"
#include "rocks_store.h"
#include "sqlx/storage/audit_log.h"

namespace sqlx::storage {

// The appender's state, persisted under meta/audit_head with every append.
struct AuditHead {
  uint64_t size = 0;
  Hash head_hash{};
  std::vector<Hash> frontier;        // MerkleFrontier nodes for `size`
  uint64_t checkpoint_size = 0;      // tree_size of the latest checkpoint
  int64_t checkpoint_time_ns = 0;    // 0: none yet
  bool has_checkpoint = false;
  // The largest time_ns appended so far (the time index's high water);
  // INT64_MIN for none, and for heads written before the field existed.
  int64_t time_high_water_ns = INT64_MIN;
};

std::string EncodeAuditHead(const AuditHead& head);
Result<AuditHead> DecodeAuditHead(std::string_view value, const std::string& store_dir);

// Stored event value: canonical bytes || 32-byte hash.
std::string EncodeStoredEvent(const std::string& canonical, const Hash& hash);

// A pruned leaf: the stored value of an event whose payload retention
// removed. Every stored value ends in the leaf hash, pruned or not.
//   offset size
//   0      1    tag = 0x80 (canonical bytes start with their version, 0x01)
//   1      8    seq (u64be)
//   9      32   prev_hash
//   41     32   hash: the leaf hash of the event's canonical bytes
inline constexpr uint8_t kPrunedLeafTag = 0x80;
inline constexpr size_t kPrunedLeafSize = 73;
struct PrunedLeaf {
  uint64_t seq = 0;
  Hash prev_hash{};
  Hash hash{};
};
std::string EncodePrunedLeaf(const PrunedLeaf& leaf);
// Whether a stored value claims to be a pruned leaf (its first byte).
inline bool IsPrunedLeaf(std::string_view value) {
  return !value.empty() && static_cast<uint8_t>(value[0]) == kPrunedLeafTag;
}
// nullopt unless `value` is exactly a pruned leaf.
std::optional<PrunedLeaf> DecodePrunedLeaf(std::string_view value);

class RocksAuditLog final : public AuditLog {
 public:
  // `head_error`: why the head record could not be read (the log then
  // verifies but refuses appends).
  RocksAuditLog(RocksStore& store, AuditLogOptions options, std::optional<AuditSigningKey> key, AuditHead head,
                std::optional<Error> head_error);
  ~RocksAuditLog() override;

  using AuditLog::Append;
  Result<std::vector<AuditEvent>> Append(std::vector<AuditEvent> events,
                                         const std::vector<FleetWrite>& fleet_writes) override;
  Result<Checkpoint> CheckpointNow() override;
  Result<std::optional<Checkpoint>> LatestCheckpoint() override;
  Result<std::optional<Checkpoint>> CheckpointAt(uint64_t tree_size) override;
  uint64_t Size() override;
  Result<AuditVerifyReport> Verify(const AuditVerifyOptions& options) override;
  Result<InclusionProofDoc> ProveInclusion(uint64_t seq, uint64_t tree_size) override;
  Result<ConsistencyProofDoc> ProveConsistency(uint64_t first, uint64_t second) override;
  Result<AuditQueryResult> Query(const AuditQuery& query) override;
  Result<AuditPruneReport> Prune(const AuditPruneOptions& options, AuditEvent record) override;
  Result<AuditRepairReport> RepairHead(const AuditVerifyOptions& trust, AuditEvent record) override;

  static Result<AuditHead> LoadHead(RocksStore& store);
  // The key of the newest time entry ('w' high water, last seq); nullopt
  // when there is none.
  struct TimeEntryKey {
    int64_t high_water_ns = INT64_MIN;
    uint64_t last_seq = 0;
  };
  static Result<std::optional<TimeEntryKey>> NewestTimeEntry(RocksStore& store);

 private:
  rocksdb::ColumnFamilyHandle* family(RocksStore::Family f) { return store_.family_[f]; }
  // A checkpoint over `head`, signed. REQUIRES: key_.
  Result<Checkpoint> SignHead(const AuditHead& head);
  // Stages the checkpoint and records it in `head`.
  void StageCheckpoint(const Checkpoint& checkpoint, AuditHead* head, rocksdb::WriteBatch* batch);
  // kIo unless the head record matches the newest stored event. REQUIRES: mu_ held.
  Status CheckHeadMatchesTail();
  // When the pending index entries are written: when due, or now.
  enum class IndexWrite { kWhenDue, kNow };
  // Stages `events` after *head into *batch (events, nodes, a checkpoint
  // when due, the head record) and advances *head; sets each event's seq,
  // prev_hash and hash. Adds their index entries to pending_ and stages all
  // pending ones when `index_write` says so or they are due; returns whether it
  // did. Commit the batch with Commit. REQUIRES: mu_ held.
  Result<bool> StageAppend(std::vector<AuditEvent>& events, AuditHead* head, rocksdb::WriteBatch* batch,
                           IndexWrite index_write = IndexWrite::kWhenDue);
  // Writes `batch` (synced unless `synced` is false) and makes `head` the
  // head; `index_written`: the batch holds every pending index entry.
  // REQUIRES: mu_ held.
  Status Commit(rocksdb::WriteBatch& batch, AuditHead head, bool index_written, std::string_view what,
                bool synced = true);
  // The last seq the stored index covers: the newest time entry's, else
  // `size` (a store without one is empty or was indexed per event). Sets
  // has_time_entry_. REQUIRES: mu_ held.
  Result<uint64_t> IndexedUpTo(uint64_t size);
  // Unless pending_ already holds them: pending_ := the index entries of
  // events (IndexedUpTo(size), size]; events pruned or unreadable are
  // skipped. REQUIRES: mu_ held.
  Status SyncPending(uint64_t size);
  // Writes the pending index entries, unsynced (lost ones are rebuilt by
  // SyncPending). Does nothing on a log whose head is damaged or does not
  // match its events. REQUIRES: mu_ held.
  Status WritePendingIndex();
  // Verify; with `rebuilt`, the head record is not read (nor trusted) and
  // *rebuilt receives the head recomputed from the events (checkpoint
  // fields and time high water included) when they verify.
  Result<AuditVerifyReport> VerifyChain(const AuditVerifyOptions& options, AuditHead* rebuilt);
  // Hash of the perfect subtree (level, index) from audit_nodes.
  Result<Hash> Subtree(int level, uint64_t index);
  // The event's canonical bytes (without the stored hash).
  Result<std::string> EventBytes(uint64_t seq);
  Result<std::map<uint64_t, Checkpoint>> AllCheckpoints();
  class QueryWalk;  // audit_query.cc

  RocksStore& store_;
  AuditLogOptions options_;
  std::optional<AuditSigningKey> key_;
  std::mutex mu_;  // one writer: held across an append's read-modify-write
  AuditHead head_;
  std::optional<Error> head_error_;
  // Index entries of the events after indexed_, the last seq the stored
  // index covered when they were loaded; valid only when pending_loaded_.
  AuditPostings pending_;
  uint64_t indexed_ = 0;
  bool pending_loaded_ = false;
  // Whether a time entry exists: until one does, every append writes its
  // index entries (a store without one is read as fully indexed).
  bool has_time_entry_ = false;
};

}  // namespace sqlx::storage
