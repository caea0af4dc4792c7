#include "online_copy.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "sqlx/messages/clock.h"
#include "sqlx/transports/session.h"

namespace sqlx::planner::online {

using transports::Session;

// What one copy moves: rows of `source` into `target` (the shadow during a
// migration; the old table during a revert), by the state's key.

CopySpec ForwardCopy(const MigrationState& s) {
  return {s.table, s.ShadowTable(), s.key_index, s.copy_columns, s.fill_columns, s.fill_values, s.compare_columns};
}

namespace {

// The upper key of the chunk of `rows` rows of spec.source after `after`
// (as literals), read under shared locks: the scan locks every row (and
// gap) from `after` up to it, so that range is the chunk's and no writer
// changes it until the chunk commits. Empty when fewer rows remain: the scan
// went to the end (locked to the end), the chunk runs to the end. It
// follows spec.source_index (FORCE INDEX): in key order, it locks nothing
// beyond the chunk.
Result<std::vector<std::string>> LockChunk(Session& session, const MigrationState& s, const CopySpec& spec,
                                           const std::vector<std::string>& after, uint64_t rows) {
  std::string sql = "SELECT " + Columns(s.key_columns) + " FROM " + Q(spec.source) + " FORCE INDEX (" +
                    Q(spec.source_index) + ")";
  if (!after.empty()) sql += " WHERE " + KeyAfter(s, "", after);
  sql += " ORDER BY " + Columns(s.key_columns) + " LIMIT 1 OFFSET " + std::to_string(std::max<uint64_t>(rows, 1) - 1) +
         " LOCK IN SHARE MODE";
  SQLX_ASSIGN_OR_RETURN(std::vector<Row> found, Rows(session, sql));
  std::vector<std::string> out;
  if (found.empty()) return out;
  for (size_t i = 0; i < s.key_columns.size(); ++i) out.push_back(Literal(s.key_kinds[i], found[0][i].value_or("")));
  return out;
}

// One chunk in one transaction: the source rows locked (shared) while its
// upper key is found, the target's rows of the range replaced by a copy,
// the copy compared where a definition changed. The source is locked first
// and the shadow written after, in the order the application's writes take
// them (the row, then its capture). Deleting the shadow's range before
// locking the source was tried: in a smoke run of tests/bench/online_alter
// the workload retried 89 transactions (deadlocks) against the peer's 14,
// where this order gave 21 against 20.
Result<CopiedChunk> CopyChunkOnce(Session& session, const MigrationState& s, const CopySpec& spec,
                                  const std::vector<std::string>& after, uint64_t rows) {
  const std::string force = " FORCE INDEX (" + Q(spec.source_index) + ")";
  const std::string source = Q(spec.source) + force;
  SQLX_RETURN_IF_ERROR(Exec(session, "START TRANSACTION"));
  auto body = [&]() -> Result<CopiedChunk> {
    CopiedChunk chunk;
    // No row, no binary-log event: only the metadata lock a write takes.
    if (spec.target_first) {
      SQLX_ASSIGN_OR_RETURN(std::vector<Row> none, Rows(session, "SELECT 1 FROM " + Q(spec.target) + " WHERE FALSE FOR UPDATE"));
      (void)none;
    }
    SQLX_ASSIGN_OR_RETURN(chunk.upto, LockChunk(session, s, spec, after, rows));
    const std::string range = ChunkRange(s, "", after, chunk.upto);
    SQLX_RETURN_IF_ERROR(Exec(session, "DELETE FROM " + Q(spec.target) + " WHERE " + range));
    std::string into = Columns(spec.columns), select = Columns(spec.columns);
    for (size_t i = 0; i < spec.fill_columns.size(); ++i) {
      into += ", " + Q(spec.fill_columns[i]);
      select += ", " + spec.fill_values[i];
    }
    // Strict mode and no IGNORE: every row of the range is inserted, or the
    // statement fails.
    SQLX_ASSIGN_OR_RETURN(chunk.rows, Run(session, "INSERT INTO " + Q(spec.target) + " (" + into + ") SELECT " +
                                                       select + " FROM " + source + " WHERE " + range +
                                                       " LOCK IN SHARE MODE"));
    if (!spec.compare_columns.empty()) {
      SQLX_ASSIGN_OR_RETURN(
          uint64_t differ,
          Number(session, "SELECT COUNT(*) FROM " + Q(spec.source) + " AS o" + force + " JOIN " + Q(spec.target) +
                              " AS n ON " + KeyJoin(s, "o", "n") + " WHERE " + ChunkRange(s, "o", after, chunk.upto) +
                              " AND " + RowsDiffer(spec.compare_columns, "o", "n") + " LOCK IN SHARE MODE"));
      if (differ > 0)
        return MakeError(ErrorCode::kUnsupported,
                         std::to_string(differ) + " rows of " + Q(spec.source) + " change value when copied into " +
                             Q(spec.target) + " (" + Columns(spec.compare_columns) +
                             "): the copy would not keep them");
    }
    SQLX_RETURN_IF_ERROR(Exec(session, "COMMIT"));
    return chunk;
  };
  auto copied = body();
  if (!copied.ok() && session.usable()) (void)Run(session, "ROLLBACK");
  return copied;
}

}  // namespace

// Retries a chunk that lost a lock wait or a deadlock to the application.
Result<CopiedChunk> CopyChunk(Session& session, const MigrationState& s, const CopySpec& spec,
                              const std::vector<std::string>& after, uint64_t rows) {
  if (spec.source_index.empty())
    return MakeError(ErrorCode::kInternal, "the copy from " + Q(spec.source) + " names no index to follow");
  // While an index build runs beside the copy, its row-lock waits end after
  // 1 s instead of the server's 50 (IndexBuildBeside): as many seconds of
  // waiting are allowed in attempts.
  const int attempts = spec.target_first ? 50 : 10;
  for (int attempt = 1;; ++attempt) {
    auto copied = CopyChunkOnce(session, s, spec, after, rows);
    if (copied.ok()) return copied;
    const int code = copied.error().server_code;
    if ((code != kDeadlock && code != kLockWaitTimeout) || attempt >= attempts) return copied;
    std::this_thread::sleep_for(std::chrono::milliseconds(50 * std::min(attempt, 10)));
  }
}

namespace {

// Why the copy should wait now ("" when it may go on): the server runs more
// than max_threads_running threads, or a replica lags beyond
// max_replica_lag_seconds, does not replicate, or cannot be read.
Result<std::string> ThrottleReason(Session& session, const OnlineOptions& options) {
  if (options.max_threads_running > 0) {
    SQLX_ASSIGN_OR_RETURN(std::vector<Row> rows, Rows(session, "SHOW GLOBAL STATUS LIKE 'Threads_running'"));
    const uint64_t running = rows.empty() ? 0 : std::strtoull(rows[0][1].value_or("0").c_str(), nullptr, 10);
    if (running > options.max_threads_running)
      return "Threads_running " + std::to_string(running) + " > " + std::to_string(options.max_threads_running);
  }
  if (!options.replica_lag) return std::string();
  auto lag = options.replica_lag();
  if (!lag.ok()) return "replica lag unknown: " + lag.error().ToString();
  if (!lag->seconds) return "replica " + lag->replica + " is not replicating (Seconds_Behind_Master is NULL)";
  if (*lag->seconds > options.max_replica_lag_seconds)
    return "replica " + lag->replica + " lag " + SecondsText(*lag->seconds) + " > " +
           SecondsText(options.max_replica_lag_seconds);
  return std::string();
}

}  // namespace

// Waits while ThrottleReason gives one, reporting it every second. False
// when the observer asked to stop meanwhile.
Result<bool> Throttle(Session& session, MigrationState& s, const OnlineOptions& options,
                      MigrationObserver& observer) {
  for (;;) {
    SQLX_ASSIGN_OR_RETURN(std::string reason, ThrottleReason(session, options));
    if (reason.empty()) return true;
    observer.Progress(s, 0, reason);
    if (observer.StopRequested()) return false;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
}

}  // namespace sqlx::planner::online
