// Key encodings of the audit log's column families (docs/formats/audit.md).
// Integers are big-endian so that RocksDB's bytewise order is numeric order.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "byte_codec.h"
#include "sqlx/storage/audit_event.h"

namespace sqlx::storage::audit_keys {

// meta: the appender's head (size, head hash, Merkle frontier, last checkpoint).
inline constexpr std::string_view kHeadKey = "audit_head";

// Prefix bytes of the audit_index entries: KIND VALUE 00 u64be(last seq),
// whose value lists the seqs of one append (u64be each, ascending). The time
// index has one entry per append: 'w' u64be(TimeOrder(high water))
// u64be(last seq), whose value is u64be(TimeOrder(time_ns)) of each event of
// the append in seq order; the high water is the largest time_ns appended so
// far, so these keys sort by seq even when the writer's clock steps back.
// Stores written before it hold 't' u64be(TimeOrder(time_ns)) u64be(seq)
// with empty values, one per event (read, never written).
inline constexpr char kActorIndex = 'u';
inline constexpr char kConnectionIndex = 'c';
inline constexpr char kDatabaseIndex = 'd';
inline constexpr char kTableIndex = 'o';  // VALUE is "db.table"
inline constexpr char kActionIndex = 'x';
inline constexpr char kTimeGroupIndex = 'w';
inline constexpr char kTimeIndex = 't';  // legacy: one entry per event

using codec::GetU64;
using codec::PutU64;

// audit_events and audit_checkpoints: u64be(seq or tree_size).
inline std::string SeqKey(uint64_t seq) {
  std::string k;
  PutU64(&k, seq);
  return k;
}

inline std::optional<uint64_t> SeqFromKey(std::string_view key) {
  if (key.size() != 8) return std::nullopt;
  return GetU64(key);
}

// Merkle nodes below this level (subtrees of fewer than 16 leaves) are not
// stored: proofs hash them from the events' stored leaf hashes.
inline constexpr int kLowestStoredLevel = 4;

// audit_nodes: u8 level, u64be index.
inline std::string NodeKey(int level, uint64_t index) {
  std::string k(1, static_cast<char>(level));
  PutU64(&k, index);
  return k;
}

// Prefix of every index entry of one value: KIND VALUE 00, where VALUE is
// `value`, or `value.table` when `table` is not empty. Into *out (reused).
inline void AssignIndexPrefix(std::string* out, char kind, std::string_view value, std::string_view table = {}) {
  out->assign(1, kind);
  out->append(value);
  if (!table.empty()) {
    out->push_back('.');
    out->append(table);
  }
  out->push_back('\0');
}

inline std::string IndexPrefix(char kind, std::string_view value) {
  std::string k;
  AssignIndexPrefix(&k, kind, value);
  return k;
}

inline uint64_t TimeOrder(int64_t time_ns) { return static_cast<uint64_t>(time_ns) ^ (uint64_t{1} << 63); }

inline int64_t TimeFromOrder(uint64_t order) { return static_cast<int64_t>(order ^ (uint64_t{1} << 63)); }

inline std::string TimeGroupKey(int64_t high_water_ns, uint64_t last_seq) {
  std::string k(1, kTimeGroupIndex);
  PutU64(&k, TimeOrder(high_water_ns));
  PutU64(&k, last_seq);
  return k;
}

// Calls visit(kind, value, table) for every secondary index value of `e`:
// each distinct non-empty actor field, the connection and database when not
// empty, "database.table" (value and table given apart) when the table is
// not empty, and the action. The index entry's VALUE is `value`, or
// `value.table` when `table` is not empty.
template <class Visit>
void ForEachIndexValue(const AuditEvent& e, Visit&& visit) {
  const std::string_view actors[3] = {e.actor.os_user, e.actor.service, e.actor.token_subject};
  for (int i = 0; i < 3; ++i) {
    if (!actors[i].empty() && std::find(actors, actors + i, actors[i]) == actors + i) {
      visit(kActorIndex, actors[i], std::string_view());
    }
  }
  if (!e.object.connection.empty()) visit(kConnectionIndex, std::string_view(e.object.connection), std::string_view());
  if (!e.object.database.empty()) visit(kDatabaseIndex, std::string_view(e.object.database), std::string_view());
  if (!e.object.table.empty()) visit(kTableIndex, std::string_view(e.object.database), std::string_view(e.object.table));
  if (!e.action.empty()) visit(kActionIndex, std::string_view(e.action), std::string_view());
}

}  // namespace sqlx::storage::audit_keys
