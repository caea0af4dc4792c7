// The forensic timeline: events matching filters, served from audit_index.
// The most selective filter given picks the index (table, database or
// connection, actor, action, else time); its entries are walked newest first
// (by seq) and each candidate event is read and checked against every filter.
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
  if (!q.action.empty()) {
    // "rollout.*": every action under that prefix.
    const bool prefix = q.action.back() == '*';
    const std::string_view want = prefix ? std::string_view(q.action).substr(0, q.action.size() - 1) : q.action;
    if (prefix ? !std::string_view(e.action).starts_with(want) : e.action != want) return false;
  }
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
  // A prefix ("rollout.*") spans several actions' index entries, whose key
  // order is not time order: it walks the time index instead.
  if (!q.action.empty() && q.action.back() != '*') return keys::IndexPrefix(keys::kActionIndex, q.action);
  return std::nullopt;
}

}  // namespace

// Reads candidate events for one query and keeps the matches, newest first.
class RocksAuditLog::QueryWalk {
 public:
  QueryWalk(RocksAuditLog& log, const AuditQuery& query, AuditQueryResult* result)
      : log_(log), query_(query), result_(result) {}

  // Reads event `seq` and keeps it when it matches; false once `limit` is reached.
  Result<bool> Take(uint64_t seq) {
    SQLX_ASSIGN_OR_RETURN(std::optional<std::string> value,
                          log_.store_.Get(RocksStore::kAuditEvents, keys::SeqKey(seq)));
    if (value && DecodePrunedLeaf(*value)) {
      ++result_->pruned;
      return true;
    }
    auto event = value && value->size() >= 32
                     ? DecodeCanonicalBytes(std::string_view(*value).substr(0, value->size() - 32))
                     : Result<AuditEvent>(MakeError(ErrorCode::kIo, "missing"));
    if (!event.ok()) {
      ++result_->unreadable;
    } else if (Matches(*event, query_)) {
      result_->events.push_back(std::move(event).value());
    }
    return result_->events.size() < query_.limit;
  }

  bool InWindow(int64_t time_ns) const {
    return (!query_.since_ns || time_ns >= *query_.since_ns) && (!query_.until_ns || time_ns < *query_.until_ns);
  }

  // The postings of `prefix`, newest append first. Returns whether more are wanted.
  Result<bool> Postings(rocksdb::Iterator* it, const std::string& prefix) {
    bool more = true;
    for (it->SeekForPrev(prefix + std::string(8, '\xff')); more && it->Valid(); it->Prev()) {
      const std::string_view key = it->key().ToStringView();
      if (key.substr(0, prefix.size()) != prefix || key.size() != prefix.size() + 8) break;
      // A posting: the seqs of one append, ascending; walked newest first.
      const std::string_view seqs = it->value().ToStringView();
      if (seqs.empty() || seqs.size() % 8 != 0) {
        ++result_->unreadable;
        continue;
      }
      for (size_t end = seqs.size(); more && end > 0; end -= 8) {
        SQLX_ASSIGN_OR_RETURN(more, Take(keys::GetU64(seqs.substr(end - 8, 8))));
      }
    }
    return more;
  }

  // The time entries of appends, newest first. An append's events all lie at
  // or before its high water, which never falls as seqs rise: the walk stops
  // at the first append whose high water is before `since`.
  Result<bool> TimeGroups(rocksdb::Iterator* it) {
    bool more = true;
    const std::string end(1, static_cast<char>(keys::kTimeGroupIndex + 1));
    for (it->SeekForPrev(end); more && it->Valid(); it->Prev()) {
      const std::string_view key = it->key().ToStringView();
      if (key.size() != 17 || key[0] != keys::kTimeGroupIndex) break;
      if (query_.since_ns && keys::TimeFromOrder(keys::GetU64(key.substr(1, 8))) < *query_.since_ns) break;
      const uint64_t last_seq = keys::GetU64(key.substr(9, 8));
      const std::string_view times = it->value().ToStringView();
      if (times.empty() || times.size() % 8 != 0 || times.size() / 8 > last_seq) {
        ++result_->unreadable;
        continue;
      }
      const uint64_t count = times.size() / 8;
      for (uint64_t i = count; more && i > 0; --i) {
        if (!InWindow(keys::TimeFromOrder(keys::GetU64(times.substr((i - 1) * 8, 8))))) continue;
        SQLX_ASSIGN_OR_RETURN(more, Take(last_seq - count + i));
      }
    }
    return more;
  }

  // Stores written before the per-append time entries: one entry per event.
  Result<bool> LegacyTimes(rocksdb::Iterator* it) {
    std::string start(1, keys::kTimeIndex);
    if (query_.until_ns) {
      keys::PutU64(&start, keys::TimeOrder(*query_.until_ns));
    } else {
      start.back() = static_cast<char>(keys::kTimeIndex + 1);
    }
    bool more = true;
    for (it->SeekForPrev(start); more && it->Valid(); it->Prev()) {
      const std::string_view key = it->key().ToStringView();
      if (key.size() != 17 || key[0] != keys::kTimeIndex) break;
      if (query_.since_ns && keys::GetU64(key.substr(1, 8)) < keys::TimeOrder(*query_.since_ns)) break;
      if (query_.until_ns && keys::GetU64(key.substr(1, 8)) >= keys::TimeOrder(*query_.until_ns)) continue;
      SQLX_ASSIGN_OR_RETURN(more, Take(keys::GetU64(key.substr(9, 8))));
    }
    return more;
  }

 private:
  RocksAuditLog& log_;
  const AuditQuery& query_;
  AuditQueryResult* result_;
};

Result<AuditQueryResult> RocksAuditLog::Query(const AuditQuery& query) {
  AuditQueryResult result;
  if (query.limit == 0) return result;
  {
    std::lock_guard<std::mutex> lock(mu_);
    SQLX_RETURN_IF_ERROR(WritePendingIndex());  // the index then names every event
  }
  std::unique_ptr<rocksdb::Iterator> it(
      store_.db_->NewIterator(rocksdb::ReadOptions(), family(RocksStore::kAuditIndex)));
  QueryWalk walk(*this, query, &result);
  if (const std::optional<std::string> prefix = IndexPrefixFor(query)) {
    SQLX_ASSIGN_OR_RETURN(bool more, walk.Postings(it.get(), *prefix));
    (void)more;
  } else {
    SQLX_ASSIGN_OR_RETURN(bool more, walk.TimeGroups(it.get()));
    if (more && it->status().ok()) {
      SQLX_ASSIGN_OR_RETURN(more, walk.LegacyTimes(it.get()));
    }
  }
  if (!it->status().ok()) return store_.ToError(it->status(), "reading the audit index");
  std::reverse(result.events.begin(), result.events.end());
  return result;
}

}  // namespace sqlx::storage
