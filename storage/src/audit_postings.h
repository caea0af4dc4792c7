// AuditPostings: the secondary index entries (docs/formats/audit.md) of the
// events appended since the index was last written: one posting per index
// value (KIND VALUE 00 u64be(last seq) -> its seqs) and one time entry (the
// events' times), staged together so that the index always reaches exactly
// the newest time entry's last seq.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <rocksdb/write_batch.h>

#include "audit_keys.h"
#include "sqlx/storage/audit_event.h"

namespace sqlx::storage {

class AuditPostings {
 public:
  // REQUIRES: e.seq is above every seq added since Clear().
  void Add(const AuditEvent& e) {
    size_t slot = 0;
    audit_keys::ForEachIndexValue(e, [&](char kind, std::string_view value, std::string_view table) {
      audit_keys::AssignIndexPrefix(&prefix_, kind, value, table);
      audit_keys::PutU64(Seqs(slot++), e.seq);
    });
    audit_keys::PutU64(&times_, audit_keys::TimeOrder(e.time_ns));
    high_water_ns_ = std::max(high_water_ns_, e.time_ns);
    last_seq_ = e.seq;
  }

  bool empty() const { return times_.empty(); }
  uint64_t events() const { return times_.size() / 8; }

  // Stages every posting, in key order (so that a batch's bytes do not
  // depend on hashing), and the time entry; *high_water_ns (the head's)
  // rises to the latest time added.
  void Stage(rocksdb::ColumnFamilyHandle* cf, rocksdb::WriteBatch* batch, int64_t* high_water_ns) const {
    if (times_.empty()) return;
    std::vector<const Postings::value_type*> sorted;
    sorted.reserve(postings_.size());
    for (const auto& entry : postings_) sorted.push_back(&entry);
    std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
    std::string key;
    for (const auto* entry : sorted) {
      const std::string& seqs = entry->second;
      key = entry->first;
      audit_keys::PutU64(&key, audit_keys::GetU64(std::string_view(seqs).substr(seqs.size() - 8)));
      batch->Put(cf, key, seqs);
    }
    *high_water_ns = std::max(*high_water_ns, high_water_ns_);
    batch->Put(cf, audit_keys::TimeGroupKey(*high_water_ns, last_seq_), times_);
  }

  void Clear() {
    for (Recent& r : recent_) r = Recent{};
    postings_.clear();
    times_.clear();
    high_water_ns_ = INT64_MIN;
    last_seq_ = 0;
  }

 private:
  // The seqs of prefix_, found through the value this event's slot-th index
  // value had in the previous event (actors, connections and actions mostly
  // repeat), else through the map.
  std::string* Seqs(size_t slot) {
    Recent* recent = slot < recent_.size() ? &recent_[slot] : nullptr;
    if (recent != nullptr && recent->seqs != nullptr && recent->prefix == prefix_) return recent->seqs;
    auto it = postings_.find(prefix_);
    if (it == postings_.end()) it = postings_.emplace(prefix_, std::string()).first;
    if (recent != nullptr) {
      recent->prefix = prefix_;
      recent->seqs = &it->second;  // stable: unordered_map never moves its elements
    }
    return &it->second;
  }

  struct Recent {
    std::string prefix;
    std::string* seqs = nullptr;
  };
  using Postings = std::unordered_map<std::string, std::string>;  // prefix -> u64be seqs, ascending
  std::array<Recent, 8> recent_;
  Postings postings_;
  std::string prefix_;   // reused buffer
  std::string times_;    // u64be TimeOrder(time_ns) per event, in seq order
  int64_t high_water_ns_ = INT64_MIN;
  uint64_t last_seq_ = 0;
};

}  // namespace sqlx::storage
