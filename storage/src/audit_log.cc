// The audit log's appender: events, Merkle nodes, index entries, the head
// and any checkpoint due go into one synced WriteBatch. Also checkpoints on
// demand and the inclusion and consistency proofs.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <unordered_map>
#include <string_view>
#include <utility>
#include <vector>
#include <system_error>

#include <nlohmann/json.hpp>
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include "audit_keys.h"
#include "audit_postings.h"
#include "audit_log_impl.h"
#include "sqlx/messages/clock.h"
#include "sqlx/storage/audit_log.h"

namespace sqlx::storage {
namespace {

namespace keys = audit_keys;
constexpr size_t kMaxEventBytes = size_t{1} << 20;

rocksdb::Slice HashSlice(const Hash& h) { return rocksdb::Slice(reinterpret_cast<const char*>(h.data()), h.size()); }

// Indexed fields become keys: a zero byte would make them ambiguous.
Status ValidateEvent(const AuditEvent& e) {
  if (e.action.empty()) return MakeError(ErrorCode::kInvalidArgument, "an audit event needs an action");
  for (const std::string* s : {&e.actor.os_user, &e.actor.service, &e.actor.token_subject, &e.action,
                               &e.object.connection, &e.object.database, &e.object.table}) {
    if (s->find('\0') != std::string::npos) {
      return MakeError(ErrorCode::kInvalidArgument, "audit event field holds a zero byte: '" + *s + "'");
    }
  }
  return Status::Ok();
}

bool Inside(const std::string& file, const std::string& dir) {
  std::error_code ec;
  const std::filesystem::path f = std::filesystem::weakly_canonical(file, ec);
  if (ec) return false;
  const std::filesystem::path d = std::filesystem::weakly_canonical(dir, ec);
  if (ec) return false;
  return std::mismatch(d.begin(), d.end(), f.begin(), f.end()).first == d.end();
}

}  // namespace

std::string_view AuditFaultName(AuditFault fault) {
  switch (fault) {
    case AuditFault::kPayloadModified: return "payload-modified";
    case AuditFault::kPrevHashMismatch: return "prev-hash-mismatch";
    case AuditFault::kMissing: return "missing";
    case AuditFault::kReordered: return "reordered";
    case AuditFault::kTruncated: return "truncated";
    case AuditFault::kBadSignature: return "bad-signature";
    case AuditFault::kRootMismatch: return "root-mismatch";
    case AuditFault::kInserted: return "inserted";
    case AuditFault::kHeadDamaged: return "head-damaged";
  }
  return "unknown";
}

std::string EncodeAuditHead(const AuditHead& head) {
  nlohmann::json frontier = nlohmann::json::array();
  for (const Hash& h : head.frontier) frontier.push_back(ToHex(h));
  nlohmann::json j = {{"size", head.size},
                      {"head_hash", ToHex(head.head_hash)},
                      {"frontier", frontier},
                      {"has_checkpoint", head.has_checkpoint},
                      {"checkpoint_size", head.checkpoint_size},
                      {"checkpoint_time_ns", head.checkpoint_time_ns}};
  if (head.time_high_water_ns != INT64_MIN) j["time_high_water_ns"] = head.time_high_water_ns;
  return j.dump();
}

Result<AuditHead> DecodeAuditHead(std::string_view value, const std::string& store_dir) {
  auto bad = [&] {
    return MakeError(ErrorCode::kIo, "store " + store_dir +
                                         ": the audit head record is damaged; run `sqlx audit verify` to find out "
                                         "what changed");
  };
  nlohmann::json j = nlohmann::json::parse(value, nullptr, false);
  if (!j.is_object()) return bad();
  AuditHead head;
  try {
    head.size = j.at("size").get<uint64_t>();
    auto h = HashFromHex(j.at("head_hash").get<std::string>());
    if (!h) return bad();
    head.head_hash = *h;
    for (const auto& item : j.at("frontier")) {
      auto node = HashFromHex(item.get<std::string>());
      if (!node) return bad();
      head.frontier.push_back(*node);
    }
    head.has_checkpoint = j.at("has_checkpoint").get<bool>();
    head.checkpoint_size = j.at("checkpoint_size").get<uint64_t>();
    head.checkpoint_time_ns = j.at("checkpoint_time_ns").get<int64_t>();
    if (j.contains("time_high_water_ns")) head.time_high_water_ns = j.at("time_high_water_ns").get<int64_t>();
  } catch (const nlohmann::json::exception&) {
    return bad();
  }
  if (!MerkleFrontier::FromNodes(head.size, head.frontier).ok()) return bad();
  return head;
}

std::string EncodeStoredEvent(const std::string& canonical, const Hash& hash) {
  std::string value = canonical;
  value.append(reinterpret_cast<const char*>(hash.data()), hash.size());
  return value;
}

std::string EncodePrunedLeaf(const PrunedLeaf& leaf) {
  std::string value(1, static_cast<char>(kPrunedLeafTag));
  keys::PutU64(&value, leaf.seq);
  value.append(reinterpret_cast<const char*>(leaf.prev_hash.data()), leaf.prev_hash.size());
  value.append(reinterpret_cast<const char*>(leaf.hash.data()), leaf.hash.size());
  return value;
}

std::optional<PrunedLeaf> DecodePrunedLeaf(std::string_view value) {
  if (value.size() != kPrunedLeafSize || !IsPrunedLeaf(value)) return std::nullopt;
  PrunedLeaf leaf;
  leaf.seq = keys::GetU64(value.substr(1, 8));
  std::memcpy(leaf.prev_hash.data(), value.data() + 9, 32);
  std::memcpy(leaf.hash.data(), value.data() + 41, 32);
  return leaf;
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(Store& store, const AuditLogOptions& options) {
  auto* rocks = dynamic_cast<RocksStore*>(&store);
  if (rocks == nullptr) return MakeError(ErrorCode::kUnsupported, "the audit log needs a RocksDB store");
  std::optional<AuditSigningKey> key;
  if (!options.signing_key_file.empty()) {
    if (Inside(options.signing_key_file, store.dir())) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "the audit signing key " + options.signing_key_file + " lies inside the store " + store.dir() +
                           ": keep it outside (anyone who can write the store could then re-sign the log)");
    }
    SQLX_ASSIGN_OR_RETURN(key, AuditSigningKey::Load(options.signing_key_file));
  }
  Result<AuditHead> head = RocksAuditLog::LoadHead(*rocks);
  std::optional<Error> head_error;
  if (!head.ok()) head_error = head.error();
  return std::unique_ptr<AuditLog>(new RocksAuditLog(*rocks, options, std::move(key),
                                                     head.ok() ? *head : AuditHead{}, std::move(head_error)));
}

RocksAuditLog::RocksAuditLog(RocksStore& store, AuditLogOptions options, std::optional<AuditSigningKey> key,
                             AuditHead head, std::optional<Error> head_error)
    : store_(store),
      options_(std::move(options)),
      key_(std::move(key)),
      head_(std::move(head)),
      head_error_(std::move(head_error)) {}

Status RocksAuditLog::CheckHeadMatchesTail() {
  if (head_error_) return *head_error_;
  std::unique_ptr<rocksdb::Iterator> it(store_.db_->NewIterator(rocksdb::ReadOptions(), family(RocksStore::kAuditEvents)));
  it->SeekToLast();
  if (!it->status().ok()) return store_.ToError(it->status(), "reading the newest audit event");
  const std::optional<uint64_t> last = it->Valid() ? keys::SeqFromKey(it->key().ToStringView()) : uint64_t{0};
  const std::string_view value = it->Valid() ? it->value().ToStringView() : std::string_view();
  const bool matches =
      last == head_.size &&
      (head_.size == 0 ||
       (value.size() >= 32 && std::memcmp(head_.head_hash.data(), value.data() + value.size() - 32, 32) == 0));
  if (matches) return Status::Ok();
  return MakeError(ErrorCode::kIo, "store " + store_.dir() + ": the audit log's head (" + std::to_string(head_.size) +
                                       " events) does not match its newest stored event: the log was changed "
                                       "outside sqlx; run `sqlx audit verify` and keep the store as evidence");
}

Result<AuditHead> RocksAuditLog::LoadHead(RocksStore& store) {
  SQLX_ASSIGN_OR_RETURN(std::optional<std::string> value, store.Get(RocksStore::kMeta, keys::kHeadKey));
  if (!value) return AuditHead{};
  SQLX_ASSIGN_OR_RETURN(AuditHead head, DecodeAuditHead(*value, store.dir()));
  if (head.time_high_water_ns == INT64_MIN) {
    // A head written without the high water (by a sqlx from before it, also
    // after this one wrote time entries): take it from the newest entry, so
    // time entries keep sorting by seq.
    SQLX_ASSIGN_OR_RETURN(std::optional<TimeEntryKey> newest, NewestTimeEntry(store));
    if (newest) head.time_high_water_ns = newest->high_water_ns;
  }
  return head;
}

Result<std::optional<RocksAuditLog::TimeEntryKey>> RocksAuditLog::NewestTimeEntry(RocksStore& store) {
  std::unique_ptr<rocksdb::Iterator> it(
      store.db_->NewIterator(rocksdb::ReadOptions(), store.family_[RocksStore::kAuditIndex]));
  it->SeekForPrev(std::string(1, static_cast<char>(keys::kTimeGroupIndex + 1)));
  if (!it->status().ok()) return store.ToError(it->status(), "reading the audit time index");
  if (!it->Valid() || it->key().size() != 17 || it->key()[0] != keys::kTimeGroupIndex) {
    return std::optional<TimeEntryKey>();
  }
  const std::string_view key = it->key().ToStringView();
  return std::optional<TimeEntryKey>(
      TimeEntryKey{keys::TimeFromOrder(keys::GetU64(key.substr(1, 8))), keys::GetU64(key.substr(9, 8))});
}

uint64_t RocksAuditLog::Size() {
  std::lock_guard<std::mutex> lock(mu_);
  return head_.size;
}

Result<Checkpoint> RocksAuditLog::SignHead(const AuditHead& head) {
  SQLX_ASSIGN_OR_RETURN(MerkleFrontier frontier, MerkleFrontier::FromNodes(head.size, head.frontier));
  Checkpoint c;
  c.tree_size = head.size;
  c.time_ns = UnixNowNs();
  c.head_hash = head.head_hash;
  c.root = frontier.Root();
  return key_->Sign(c);
}

void RocksAuditLog::StageCheckpoint(const Checkpoint& checkpoint, AuditHead* head, rocksdb::WriteBatch* batch) {
  nlohmann::json stored = nlohmann::json::parse(CheckpointToJson(checkpoint));
  batch->Put(family(RocksStore::kAuditCheckpoints), keys::SeqKey(checkpoint.tree_size), stored.dump());
  head->has_checkpoint = true;
  head->checkpoint_size = checkpoint.tree_size;
  head->checkpoint_time_ns = checkpoint.time_ns;
}

Result<bool> RocksAuditLog::StageAppend(std::vector<AuditEvent>& events, AuditHead* head, rocksdb::WriteBatch* batch,
                                        IndexWrite index_write) {
  SQLX_RETURN_IF_ERROR(SyncPending(head->size));
  SQLX_ASSIGN_OR_RETURN(MerkleFrontier frontier, MerkleFrontier::FromNodes(head->size, head->frontier));
  rocksdb::ColumnFamilyHandle* nodes = family(RocksStore::kAuditNodes);
  rocksdb::ColumnFamilyHandle* events_family = family(RocksStore::kAuditEvents);
  // pending_ takes this append's entries now; a failed batch reloads it.
  pending_loaded_ = false;
  std::string key;
  std::string value;
  for (AuditEvent& e : events) {
    SQLX_RETURN_IF_ERROR(ValidateEvent(e));
    if (e.details_json.empty()) e.details_json = "{}";
    if (!DetailsAlreadyRedacted(e.details_json)) {
      SQLX_ASSIGN_OR_RETURN(e.details_json, RedactDetails(e.details_json));
    }
    if (e.error.find("://") != std::string::npos) e.error = RedactUrlPasswords(e.error);
    e.seq = head->size + 1;
    e.prev_hash = head->head_hash;
    const size_t size = CanonicalSize(e);
    if (size > kMaxEventBytes) {
      return MakeError(ErrorCode::kLimit, "audit event '" + e.action + "' is " + std::to_string(size) +
                                              " bytes; the limit is 1 MiB: shorten its details");
    }
    // The stored value, canonical bytes then hash, built in place.
    value.clear();
    value.reserve(size + 32);
    AppendCanonicalBytes(e, &value);
    e.hash = LeafHash(value);
    value.append(reinterpret_cast<const char*>(e.hash.data()), e.hash.size());
    key.clear();
    keys::PutU64(&key, e.seq);
    batch->Put(events_family, key, value);
    frontier.Append(e.hash, [&](int level, uint64_t index, const Hash& h) {
      if (level >= keys::kLowestStoredLevel) batch->Put(nodes, keys::NodeKey(level, index), HashSlice(h));
    });
    pending_.Add(e);
    head->size = e.seq;
    head->head_hash = e.hash;
  }
  pending_loaded_ = true;
  const bool write_index =
      index_write == IndexWrite::kNow || !has_time_entry_ || pending_.events() >= options_.index_every_events;
  if (write_index) pending_.Stage(family(RocksStore::kAuditIndex), batch, &head->time_high_water_ns);
  head->frontier = frontier.nodes();
  const bool due = !head->has_checkpoint || head->size - head->checkpoint_size >= options_.checkpoint_every_events ||
                   UnixNowNs() - head->checkpoint_time_ns >=
                       std::chrono::duration_cast<std::chrono::nanoseconds>(options_.checkpoint_every).count();
  if (key_ && due && head->size > head->checkpoint_size) {
    SQLX_ASSIGN_OR_RETURN(Checkpoint c, SignHead(*head));
    StageCheckpoint(c, head, batch);
  }
  batch->Put(store_.family_[RocksStore::kMeta], rocksdb::Slice(keys::kHeadKey.data(), keys::kHeadKey.size()),
             EncodeAuditHead(*head));
  return write_index;
}

Status RocksAuditLog::Commit(rocksdb::WriteBatch& batch, AuditHead head, bool index_written, std::string_view what,
                             bool synced) {
  Status st = store_.Write(batch, what, synced);
  if (!st.ok()) {
    pending_loaded_ = false;  // it holds entries of events that were not written
    return st;
  }
  head_ = std::move(head);
  if (index_written) {
    pending_.Clear();
    indexed_ = head_.size;
    has_time_entry_ = true;
  }
  return Status::Ok();
}

Result<uint64_t> RocksAuditLog::IndexedUpTo(uint64_t size) {
  SQLX_ASSIGN_OR_RETURN(std::optional<TimeEntryKey> newest, NewestTimeEntry(store_));
  has_time_entry_ = newest.has_value();
  // Without a time entry the store is empty or from before them (indexed
  // per event): nothing is pending.
  return newest ? newest->last_seq : size;
}

Status RocksAuditLog::SyncPending(uint64_t size) {
  SQLX_ASSIGN_OR_RETURN(const uint64_t indexed, IndexedUpTo(size));
  // Another AuditLog on this store may have written the index since.
  if (pending_loaded_ && indexed == indexed_) return Status::Ok();
  pending_.Clear();
  std::unique_ptr<rocksdb::Iterator> it(
      store_.db_->NewIterator(rocksdb::ReadOptions(), family(RocksStore::kAuditEvents)));
  for (it->Seek(keys::SeqKey(indexed + 1)); it->Valid(); it->Next()) {
    const std::optional<uint64_t> seq = keys::SeqFromKey(it->key().ToStringView());
    if (!seq || *seq > size) break;
    const std::string_view value = it->value().ToStringView();
    if (value.size() < 32 || IsPrunedLeaf(value)) continue;
    auto e = DecodeCanonicalBytes(value.substr(0, value.size() - 32));
    if (e.ok()) pending_.Add(*e);  // a damaged event is verify's to report
  }
  if (!it->status().ok()) return store_.ToError(it->status(), "reading audit events");
  indexed_ = indexed;
  pending_loaded_ = true;
  return Status::Ok();
}

Status RocksAuditLog::WritePendingIndex() {
  if (!CheckHeadMatchesTail().ok()) return Status::Ok();  // appends are refused: so is this
  SQLX_RETURN_IF_ERROR(SyncPending(head_.size));
  if (pending_.empty()) return Status::Ok();
  AuditHead head = head_;
  rocksdb::WriteBatch batch;
  pending_.Stage(family(RocksStore::kAuditIndex), &batch, &head.time_high_water_ns);
  batch.Put(store_.family_[RocksStore::kMeta], rocksdb::Slice(keys::kHeadKey.data(), keys::kHeadKey.size()),
            EncodeAuditHead(head));
  return Commit(batch, std::move(head), true, "writing the audit index", /*synced=*/false);
}

RocksAuditLog::~RocksAuditLog() {
  std::lock_guard<std::mutex> lock(mu_);
  // Ignored on purpose: entries not written are rebuilt by the next open.
  (void)WritePendingIndex();
}

Result<std::vector<AuditEvent>> RocksAuditLog::Append(std::vector<AuditEvent> events,
                                                     const std::vector<FleetWrite>& fleet_writes) {
  std::lock_guard<std::mutex> lock(mu_);
  SQLX_RETURN_IF_ERROR(CheckHeadMatchesTail());
  AuditHead head = head_;
  rocksdb::WriteBatch batch;
  SQLX_RETURN_IF_ERROR(store_.StageFleet(fleet_writes, &batch));
  SQLX_ASSIGN_OR_RETURN(bool index_written, StageAppend(events, &head, &batch));
  SQLX_RETURN_IF_ERROR(Commit(batch, std::move(head), index_written, "appending audit events"));
  return events;
}

Result<Checkpoint> RocksAuditLog::CheckpointNow() {
  if (!key_) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "no audit signing key: set SQLX_AUDIT_KEY (or --audit-key) to a key made by `sqlx audit keygen`");
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    SQLX_RETURN_IF_ERROR(CheckHeadMatchesTail());
    if (!head_.has_checkpoint || head_.checkpoint_size != head_.size) {
      AuditHead head = head_;
      SQLX_ASSIGN_OR_RETURN(Checkpoint c, SignHead(head));
      rocksdb::WriteBatch batch;
      StageCheckpoint(c, &head, &batch);
      batch.Put(store_.family_[RocksStore::kMeta], rocksdb::Slice(keys::kHeadKey.data(), keys::kHeadKey.size()),
                EncodeAuditHead(head));
      SQLX_RETURN_IF_ERROR(store_.Write(batch, "writing an audit checkpoint"));
      head_ = std::move(head);
      return c;
    }
  }
  SQLX_ASSIGN_OR_RETURN(std::optional<Checkpoint> latest, LatestCheckpoint());
  if (!latest) return MakeError(ErrorCode::kIo, "store " + store_.dir() + ": the latest audit checkpoint is gone");
  return *latest;
}

Result<std::optional<Checkpoint>> RocksAuditLog::CheckpointAt(uint64_t tree_size) {
  SQLX_ASSIGN_OR_RETURN(std::optional<std::string> value,
                        store_.Get(RocksStore::kAuditCheckpoints, keys::SeqKey(tree_size)));
  if (!value) return std::optional<Checkpoint>();
  auto c = ParseCheckpointJson(*value);
  if (!c.ok()) {
    return MakeError(ErrorCode::kIo, "store " + store_.dir() + ": audit checkpoint " + std::to_string(tree_size) +
                                         " is damaged (" + c.error().message + "); run `sqlx audit verify`");
  }
  return std::optional<Checkpoint>(*c);
}

Result<std::optional<Checkpoint>> RocksAuditLog::LatestCheckpoint() {
  std::unique_ptr<rocksdb::Iterator> it(
      store_.db_->NewIterator(rocksdb::ReadOptions(), family(RocksStore::kAuditCheckpoints)));
  it->SeekToLast();
  if (!it->status().ok()) return store_.ToError(it->status(), "reading audit checkpoints");
  if (!it->Valid()) return std::optional<Checkpoint>();
  auto size = keys::SeqFromKey(it->key().ToStringView());
  if (!size) return MakeError(ErrorCode::kIo, "store " + store_.dir() + ": a malformed audit checkpoint key");
  return CheckpointAt(*size);
}

Result<Hash> RocksAuditLog::Subtree(int level, uint64_t index) {
  if (level < keys::kLowestStoredLevel) {
    // Not stored: hashed from the (at most 2^(kLowestStoredLevel-1)) leaves.
    const uint64_t begin = index << level;
    std::vector<Hash> leaves;
    std::unique_ptr<rocksdb::Iterator> it(
        store_.db_->NewIterator(rocksdb::ReadOptions(), family(RocksStore::kAuditEvents)));
    it->Seek(keys::SeqKey(begin + 1));
    for (uint64_t seq = begin + 1; seq <= begin + (uint64_t{1} << level); ++seq, it->Next()) {
      if (!it->Valid() || keys::SeqFromKey(it->key().ToStringView()) != seq || it->value().size() < 32) {
        return MakeError(ErrorCode::kIo, "store " + store_.dir() + ": audit event " + std::to_string(seq) +
                                             " is missing or damaged; run `sqlx audit verify`");
      }
      Hash h;
      std::memcpy(h.data(), it->value().data() + it->value().size() - 32, 32);
      leaves.push_back(h);
    }
    while (leaves.size() > 1) {
      for (size_t i = 0; i < leaves.size() / 2; ++i) leaves[i] = NodeHash(leaves[2 * i], leaves[2 * i + 1]);
      leaves.resize(leaves.size() / 2);
    }
    return leaves.front();
  }
  SQLX_ASSIGN_OR_RETURN(std::optional<std::string> value,
                        store_.Get(RocksStore::kAuditNodes, keys::NodeKey(level, index)));
  if (!value || value->size() != 32) {
    return MakeError(ErrorCode::kIo, "store " + store_.dir() + ": audit Merkle node " + std::to_string(level) + "/" +
                                         std::to_string(index) + " is missing or damaged; run `sqlx audit verify`");
  }
  Hash h;
  std::copy(value->begin(), value->end(), h.begin());
  return h;
}

Result<std::string> RocksAuditLog::EventBytes(uint64_t seq) {
  SQLX_ASSIGN_OR_RETURN(std::optional<std::string> value, store_.Get(RocksStore::kAuditEvents, keys::SeqKey(seq)));
  if (!value || value->size() < 32) {
    return MakeError(ErrorCode::kIo, "store " + store_.dir() + ": audit event " + std::to_string(seq) +
                                         " is missing or damaged; run `sqlx audit verify`");
  }
  if (IsPrunedLeaf(*value)) {
    return MakeError(ErrorCode::kInvalidArgument, "audit event " + std::to_string(seq) +
                                               " was pruned (retention): only its leaf hash is kept, so its "
                                               "inclusion cannot be proven; later events still can");
  }
  value->resize(value->size() - 32);
  return *value;
}

Result<InclusionProofDoc> RocksAuditLog::ProveInclusion(uint64_t seq, uint64_t tree_size) {
  const uint64_t size = Size();
  if (seq == 0 || seq > tree_size || tree_size > size) {
    return MakeError(ErrorCode::kInvalidArgument, "cannot prove event " + std::to_string(seq) + " in a tree of " +
                                                      std::to_string(tree_size) + " events (the log has " +
                                                      std::to_string(size) + ")");
  }
  InclusionProofDoc proof;
  proof.seq = seq;
  proof.tree_size = tree_size;
  SQLX_ASSIGN_OR_RETURN(proof.event_bytes, EventBytes(seq));
  SQLX_ASSIGN_OR_RETURN(proof.path, InclusionProof(seq - 1, tree_size, [this](int level, uint64_t index) {
                          return Subtree(level, index);
                        }));
  return proof;
}

Result<ConsistencyProofDoc> RocksAuditLog::ProveConsistency(uint64_t first, uint64_t second) {
  const uint64_t size = Size();
  if (first == 0 || first > second || second > size) {
    return MakeError(ErrorCode::kInvalidArgument, "a consistency proof needs 0 < A <= B <= " + std::to_string(size) +
                                                      " (the log's size); got " + std::to_string(first) + " and " +
                                                      std::to_string(second));
  }
  const SubtreeSource source = [this](int level, uint64_t index) { return Subtree(level, index); };
  ConsistencyProofDoc proof;
  proof.first = first;
  proof.second = second;
  SQLX_ASSIGN_OR_RETURN(proof.first_root, RangeHash(0, first, source));
  SQLX_ASSIGN_OR_RETURN(proof.second_root, RangeHash(0, second, source));
  SQLX_ASSIGN_OR_RETURN(proof.path, ConsistencyProof(first, second, source));
  for (uint64_t n : {first, second}) {
    SQLX_ASSIGN_OR_RETURN(std::optional<Checkpoint> c, CheckpointAt(n));
    if (c && (proof.checkpoints.empty() || proof.checkpoints.back().tree_size != n)) proof.checkpoints.push_back(*c);
  }
  return proof;
}

}  // namespace sqlx::storage
