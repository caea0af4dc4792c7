// The online-migration engine's shared steps (online_migration.cc), used by
// the revert (online_revert.cc) too.
#pragma once

#include <initializer_list>
#include <map>
#include <string>

#include "online_sql.h"
#include "sqlx/planner/online.h"
#include "sqlx/transports/session.h"

namespace sqlx::planner::online {

// The server's default sql_mode, strict for every engine: a value the copy
// cannot hold is an error, never a silent change.
inline constexpr const char* kStrictMode =
    "IF(@@GLOBAL.sql_mode = '', 'STRICT_ALL_TABLES', CONCAT(@@GLOBAL.sql_mode, ',STRICT_ALL_TABLES'))";

// One migration at a time per id on a server: a named lock held while the
// engine acts (released with the session).
class ServerLock {
 public:
  static Result<ServerLock> Take(transports::Session& session, const MigrationState& s) {
    const std::string name = QuoteString("sqlx_migration_" + s.id);
    // A session killed mid-statement holds the lock until the server sees
    // it gone (its statement ends first): wait that long, not longer.
    SQLX_ASSIGN_OR_RETURN(uint64_t got, Number(session, "SELECT GET_LOCK(" + name + ", 15)"));
    if (got != 1)
      return MakeError(ErrorCode::kUnsupported, "migration " + s.id +
                                                        " is being run by another session right now: wait for it "
                                                        "to end (`sqlx migrations status " + s.id + "`)");
    return ServerLock(&session, name);
  }
  ServerLock(ServerLock&& o) noexcept : session_(o.session_), name_(std::move(o.name_)) { o.session_ = nullptr; }
  ServerLock& operator=(ServerLock&&) = delete;
  ~ServerLock() {
    if (session_ != nullptr && session_->usable()) (void)Run(*session_, "DO RELEASE_LOCK(" + name_ + ")");
  }

 private:
  ServerLock(transports::Session* session, std::string name) : session_(session), name_(std::move(name)) {}
  transports::Session* session_;
  std::string name_;
};

// Session settings of the engine: the server's default sql_mode (strict on
// MariaDB since 10.2.4), short metadata-lock waits, REPEATABLE READ.
Status SetUp(transports::Session& session, const MigrationState& s, const OnlineOptions& options);
// Stores the record (updated_at_ns set) through the observer.
Status Save(MigrationState& s, MigrationObserver& observer);
// Records why the engine stopped (the phase stays: resuming retries it).
Error Stopped(MigrationState& s, MigrationObserver& observer, Error e);
template <class T>
Status OnlyStatus(const Result<T>& r) {
  return r.ok() ? Status::Ok() : Status(r.error());
}

// The migration's own triggers (_sqlx_ID_*) and the table each is on.
Result<std::map<std::string, std::string>> Triggers(transports::Session& session, const MigrationState& s);
// RENAME TABLE a TO b, c TO a: the one atomic statement of a cut-over (the
// table to the old name, the shadow to the table's) and of a revert.
Status Swap(transports::Session& session, const std::string& a, const std::string& b, const std::string& c,
            const OnlineOptions& options);
// True when the cut-over's swap has happened: the old table exists.
Result<bool> IsCutOver(transports::Session& session, const MigrationState& s);
// Drops the migration's triggers on `table` whose suffix is in `events`.
Status DropTriggers(transports::Session& session, const MigrationState& s, const std::string& table,
                    std::initializer_list<const char*> events, const OnlineOptions& options);
// The steps of a migration (online_migration.cc): the table's own keys and
// triggers recorded; the shadow made and the capture started (phase
// preparing → copying); every chunk copied, then the deferred indexes built
// (copying → copied, or paused: still copying).
Status RecordKeysAndTriggers(transports::Session& session, MigrationState& s);
Status Prepare(transports::Session& session, MigrationState& s, const OnlineOptions& options,
               MigrationObserver& observer);
Status CopyAll(transports::Session& session, MigrationState& s, const OnlineOptions& options,
               MigrationObserver& observer);
// The swap and what follows it (online_cutover.cc): copied → cut-over.
Status DoCutOver(transports::Session& session, MigrationState& s, const OnlineOptions& options,
                 MigrationObserver& observer);

// After the swap back of a revert (online_revert.cc): other tables' keys
// point at the table again, the shadow's keys step aside, the table's get
// theirs back, the reverse capture goes.
Status AfterRevertSwap(transports::Session& session, const MigrationState& s, const OnlineOptions& options);

}  // namespace sqlx::planner::online
