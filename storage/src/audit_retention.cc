// Retention: events older than a cutoff are pruned to hash-only leaves
// (docs/formats/audit.md, "Pruned leaves"), after the whole log verifies,
// with their secondary index postings, and the prune is recorded as an
// audit.prune event in the same synced batch.
#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include "audit_keys.h"
#include "audit_log_impl.h"

namespace sqlx::storage {
namespace {

namespace keys = audit_keys;

// The seqs whose listed time is before `cutoff_ns`, from the time index
// (per-append 'w' entries and legacy per-event 't' entries); every entry
// whose events are all before the cutoff is deleted in *batch. Appends
// after a clock step back can hold old events anywhere, so every 'w' entry
// is read (8 bytes per event; no event is read).
// `it` iterates audit_index (`index`); its status is the caller's to check.
std::vector<uint64_t> OldSeqs(rocksdb::Iterator* it, rocksdb::ColumnFamilyHandle* index, int64_t cutoff_ns,
                              rocksdb::WriteBatch* batch) {
  std::vector<uint64_t> seqs;
  for (it->Seek(std::string(1, keys::kTimeGroupIndex)); it->Valid(); it->Next()) {
    const std::string_view key = it->key().ToStringView();
    if (key.size() != 17 || key[0] != keys::kTimeGroupIndex) break;
    const uint64_t last_seq = keys::GetU64(key.substr(9, 8));
    const std::string_view times = it->value().ToStringView();
    if (times.empty() || times.size() % 8 != 0 || times.size() / 8 > last_seq) continue;  // damaged: kept
    const uint64_t count = times.size() / 8;
    bool all_old = true;
    for (uint64_t i = 0; i < count; ++i) {
      if (keys::TimeFromOrder(keys::GetU64(times.substr(i * 8, 8))) < cutoff_ns) {
        seqs.push_back(last_seq - count + 1 + i);
      } else {
        all_old = false;
      }
    }
    if (all_old) batch->Delete(index, key);
  }
  std::string end(1, keys::kTimeIndex);
  keys::PutU64(&end, keys::TimeOrder(cutoff_ns));
  for (it->Seek(std::string(1, keys::kTimeIndex)); it->Valid() && it->key().ToStringView() < end; it->Next()) {
    const std::string_view key = it->key().ToStringView();
    if (key.size() != 17) continue;
    seqs.push_back(keys::GetU64(key.substr(9, 8)));
    batch->Delete(index, key);
  }
  std::sort(seqs.begin(), seqs.end());
  seqs.erase(std::unique(seqs.begin(), seqs.end()), seqs.end());
  return seqs;
}

// Removes pruned seqs from the postings of each index value: a posting
// (KIND VALUE 00 u64be(last seq) -> seqs) loses them, and is deleted when
// none is left.
class PostingRemoval {
 public:
  void Add(const AuditEvent& e) {
    keys::ForEachIndexValue(e, [&](char kind, std::string_view value, std::string_view table) {
      keys::AssignIndexPrefix(&prefix_, kind, value, table);
      by_prefix_[prefix_].push_back(e.seq);
    });
  }

  // `it` iterates audit_index (`index`); stops at its first error.
  rocksdb::Status Stage(rocksdb::Iterator* it, rocksdb::ColumnFamilyHandle* index, rocksdb::WriteBatch* batch) const {
    std::string key;
    for (const auto& [prefix, seqs] : by_prefix_) {  // seqs ascending: events are read in seq order
      size_t next = 0;
      while (next < seqs.size()) {
        // The posting holding seqs[next] is the first with last seq >= it.
        key = prefix;
        keys::PutU64(&key, seqs[next]);
        it->Seek(key);
        if (!it->status().ok()) return it->status();
        const std::string_view found = it->Valid() ? it->key().ToStringView() : std::string_view();
        if (found.size() != prefix.size() + 8 || found.substr(0, prefix.size()) != prefix) break;  // none left
        const uint64_t last = keys::GetU64(found.substr(prefix.size()));
        const std::string_view old = it->value().ToStringView();
        std::string kept;
        for (size_t pos = 0; pos + 8 <= old.size(); pos += 8) {
          const uint64_t seq = keys::GetU64(old.substr(pos, 8));
          while (next < seqs.size() && seqs[next] < seq) ++next;
          if (next < seqs.size() && seqs[next] == seq) continue;
          keys::PutU64(&kept, seq);
        }
        while (next < seqs.size() && seqs[next] <= last) ++next;
        if (kept.empty()) {
          batch->Delete(index, found);
        } else {
          batch->Put(index, found, kept);
        }
      }
    }
    return rocksdb::Status::OK();
  }

 private:
  std::map<std::string, std::vector<uint64_t>> by_prefix_;
  std::string prefix_;
};

}  // namespace

Result<AuditPruneReport> RocksAuditLog::Prune(const AuditPruneOptions& options, AuditEvent record) {
  std::lock_guard<std::mutex> lock(mu_);
  SQLX_RETURN_IF_ERROR(CheckHeadMatchesTail());
  SQLX_RETURN_IF_ERROR(WritePendingIndex());  // the index must name every event it could prune
  AuditPruneReport report;
  SQLX_ASSIGN_OR_RETURN(report.verified, VerifyChain(options.trust, nullptr));
  if (!report.verified.ok) return report;

  rocksdb::WriteBatch batch;
  rocksdb::ColumnFamilyHandle* index = family(RocksStore::kAuditIndex);
  std::unique_ptr<rocksdb::Iterator> index_it(store_.db_->NewIterator(rocksdb::ReadOptions(), index));
  const std::vector<uint64_t> old = OldSeqs(index_it.get(), index, options.cutoff_ns, &batch);
  if (!index_it->status().ok()) return store_.ToError(index_it->status(), "reading the audit time index");
  PostingRemoval postings;
  std::unique_ptr<rocksdb::Iterator> it(
      store_.db_->NewIterator(rocksdb::ReadOptions(), family(RocksStore::kAuditEvents)));
  for (uint64_t seq : old) {
    it->Seek(keys::SeqKey(seq));
    if (!it->status().ok()) return store_.ToError(it->status(), "reading audit events");
    if (!it->Valid() || keys::SeqFromKey(it->key().ToStringView()) != seq) continue;  // index ahead of events
    const std::string_view value = it->value().ToStringView();
    if (IsPrunedLeaf(value)) continue;  // pruned before
    // The log verified: every full event decodes and hashes to its stored hash.
    SQLX_ASSIGN_OR_RETURN(AuditEvent e, DecodeCanonicalBytes(value.substr(0, value.size() - 32)));
    if (e.time_ns >= options.cutoff_ns) continue;  // the index's time is not the event's: keep it
    batch.Put(family(RocksStore::kAuditEvents), it->key(), EncodePrunedLeaf({seq, e.prev_hash, e.hash}));
    postings.Add(e);
    if (report.pruned++ == 0) report.first_seq = seq;
    report.last_seq = seq;
  }
  if (rocksdb::Status st = postings.Stage(index_it.get(), index, &batch); !st.ok()) {
    return store_.ToError(st, "reading the audit index");
  }

  nlohmann::json details = nlohmann::json::parse(record.details_json.empty() ? "{}" : record.details_json, nullptr,
                                                 false);
  if (!details.is_object()) return MakeError(ErrorCode::kInvalidArgument, "the prune event's details are not a JSON object");
  details["cutoff_ns"] = options.cutoff_ns;
  details["pruned"] = report.pruned;
  details["first_seq"] = report.first_seq;
  details["last_seq"] = report.last_seq;
  details["pruned_total"] = report.verified.pruned + report.pruned;
  record.action = "audit.prune";
  record.details_json = details.dump();
  std::vector<AuditEvent> records{std::move(record)};
  AuditHead head = head_;
  SQLX_ASSIGN_OR_RETURN(bool index_written, StageAppend(records, &head, &batch, IndexWrite::kNow));
  SQLX_RETURN_IF_ERROR(Commit(batch, std::move(head), index_written, "pruning audit events"));
  report.recorded = std::move(records.front());
  return report;
}

}  // namespace sqlx::storage
