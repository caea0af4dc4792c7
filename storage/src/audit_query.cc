// The forensic timeline: events matching filters, served from audit_index.
// The most selective filter given picks the index (table, database or
// connection, actor, action, else time); its entries are walked newest first
// and each candidate event is read and checked against every filter.
#include <algorithm>
#include <optional>

#include <rocksdb/iterator.h>

#include "audit_keys.h"
#include "audit_log_impl.h"

namespace sqlx::storage {
namespace {

namespace keys = audit_keys;

bool Matches(const AuditEvent& e, const AuditQuery& q) {
  if (q.since_ns && e.time_ns < *q.since_ns) return false;
  if (q.until_ns && e.time_ns >= *q.until_ns) return false;
  if (!q.database.empty() && e.object.database != q.database) return false;
  if (!q.object.empty()) {
    const bool match = q.object == e.object.database || q.object == e.object.database + "." + e.object.table ||
                       q.object == e.object.connection;
    if (!match) return false;
  }
  if (!q.actor.empty() && q.actor != e.actor.os_user && q.actor != e.actor.service &&
      q.actor != e.actor.token_subject) {
    return false;
  }
  if (!q.action.empty() && e.action != q.action) return false;
  if (q.outcome && e.outcome != *q.outcome) return false;
  return true;
}

// The index prefix for the query's most selective filter; nullopt: use time.
std::optional<std::string> IndexPrefixFor(const AuditQuery& q) {
  if (!q.object.empty()) {
    if (q.object.find('@') != std::string::npos) return keys::IndexPrefix(keys::kConnectionIndex, q.object);
    if (q.object.find('.') != std::string::npos) return keys::IndexPrefix(keys::kTableIndex, q.object);
    return keys::IndexPrefix(keys::kDatabaseIndex, q.object);
  }
  if (!q.database.empty()) return keys::IndexPrefix(keys::kDatabaseIndex, q.database);
  if (!q.actor.empty()) return keys::IndexPrefix(keys::kActorIndex, q.actor);
  if (!q.action.empty()) return keys::IndexPrefix(keys::kActionIndex, q.action);
  return std::nullopt;
}

}  // namespace

Result<AuditQueryResult> RocksAuditLog::Query(const AuditQuery& query) {
  AuditQueryResult result;
  std::vector<AuditEvent>& out = result.events;
  if (query.limit == 0) return result;
  std::unique_ptr<rocksdb::Iterator> it(
      store_.db_->NewIterator(rocksdb::ReadOptions(), family(RocksStore::kAuditIndex)));
  const std::optional<std::string> prefix = IndexPrefixFor(query);
  std::string start;
  if (prefix) {
    start = *prefix + std::string(8, '\xff');
  } else {
    start.push_back(keys::kTimeIndex);
    if (query.until_ns) {
      keys::PutU64(&start, keys::TimeOrder(*query.until_ns));
    } else {
      start.back() = static_cast<char>(keys::kTimeIndex + 1);
    }
  }
  const std::string scope = prefix ? *prefix : std::string(1, keys::kTimeIndex);
  // Reads event `seq` and keeps it when it matches; false once `limit` is reached.
  auto take = [&](uint64_t seq) -> Result<bool> {
    SQLX_ASSIGN_OR_RETURN(std::optional<std::string> value, store_.Get(RocksStore::kAuditEvents, keys::SeqKey(seq)));
    auto event = value && value->size() >= 32
                     ? DecodeCanonicalBytes(std::string_view(*value).substr(0, value->size() - 32))
                     : Result<AuditEvent>(MakeError(ErrorCode::kIo, "missing"));
    if (!event.ok()) {
      ++result.unreadable;
    } else if (Matches(*event, query)) {
      out.push_back(std::move(event).value());
    }
    return out.size() < query.limit;
  };
  bool more = true;
  for (it->SeekForPrev(start); more && it->Valid(); it->Prev()) {
    const std::string_view key = it->key().ToStringView();
    if (key.substr(0, scope.size()) != scope || key.size() != scope.size() + (prefix ? 8 : 16)) break;
    if (!prefix) {
      if (query.since_ns && keys::GetU64(key.substr(1, 8)) < keys::TimeOrder(*query.since_ns)) break;
      SQLX_ASSIGN_OR_RETURN(more, take(keys::GetU64(key.substr(9, 8))));
      continue;
    }
    // A posting: the seqs of one append, ascending; walked newest first.
    const std::string_view seqs = it->value().ToStringView();
    if (seqs.empty() || seqs.size() % 8 != 0) {
      ++result.unreadable;
      continue;
    }
    for (size_t end = seqs.size(); more && end > 0; end -= 8) {
      SQLX_ASSIGN_OR_RETURN(more, take(keys::GetU64(seqs.substr(end - 8, 8))));
    }
  }
  if (!it->status().ok()) return store_.ToError(it->status(), "reading the audit index");
  std::reverse(out.begin(), out.end());
  return result;
}

}  // namespace sqlx::storage
