// Online migrations: a table change that the server can only make by copying
// the table, made while reads and writes go on (docs/formats/migrations.md).
//
//   start     shadow table `_sqlx_ID_new` with the new definition; triggers
//             on the table carry every write into it (change capture)
//   copy      chunk by chunk along the table's primary (or unique NOT NULL)
//             key, each chunk copied and compared with its source in one
//             transaction that holds the chunk's rows; sizes adapt to a
//             target chunk time; throttled on Threads_running and on
//             replica lag
//   cut-over  one atomic two-table RENAME swaps the tables; the old table
//             stays as `_sqlx_ID_old` until finalize
//   revert    reverse capture, every row copied back into the old table the
//             same way, then the mirror RENAME (writes since are kept)
//   finalize  drops what the migration made (the old table after a cut-over,
//             the shadow after a revert)
//
// Every step is idempotent from its checkpoint: after a crash, Continue /
// CutOver / Revert / Finalize take the migration from where its last
// checkpoint left it (the engine checks the server's tables and triggers
// against the state before it acts).
//
// The engine needs a session (transports) and declares what it needs from
// the outside as MigrationObserver: checkpoints, audit events, progress.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sqlx/messages/result.h"
#include "sqlx/planner/plan.h"

namespace sqlx::transports {
class Session;
}

namespace sqlx::planner {

// How far behind the replicas are: the worst of them (a replica that does
// not replicate counts as the worst).
struct ReplicaLag {
  std::optional<double> seconds;  // Seconds_Behind_Master; nullopt: replication not running (SQL or IO thread stopped)
  std::string replica;            // which replica that is (user@host:port), for the throttle's reason
};

struct OnlineOptions {
  double chunk_seconds = 0.5;          // target time of one chunk's copy
  uint64_t chunk_rows = 1000;          // first chunk's rows (then adapted)
  uint64_t min_chunk_rows = 10;
  uint64_t max_chunk_rows = 100000;
  uint64_t max_threads_running = 50;   // pause while the server runs more threads (0: never)
  bool postpone_cutover = false;       // stop after the copy: cut over later (`sqlx migrations cutover`)
  int cutover_lock_wait_seconds = 1;   // lock_wait_timeout of the swap's RENAME
  int cutover_attempts = 10;           // RENAME attempts (backoff between them) before giving up
  // Measures the replicas' lag (the engine knows no replica: the caller
  // holds their sessions). Called on the engine's thread before each chunk
  // and every second while throttled; the copy waits while the lag exceeds
  // max_replica_lag_seconds, is unknown (nullopt, as pt-online-schema-change
  // does) or cannot be read (an error: the reason names it). Default: none
  // (lag not watched).
  std::function<Result<ReplicaLag>()> replica_lag;
  double max_replica_lag_seconds = 1.0;  // pause while a replica is further behind. Default: 1
  // Opens another session to the migration's server, as the engine's own is
  // opened (same account), on which the indexes left off the copy are built
  // beside it (index_build_at). Called on the engine's thread when that
  // build starts, and again to stop it when the engine's own session is
  // broken. Default: none (they are built after the copy).
  std::function<Result<std::unique_ptr<transports::Session>>()> open_session;
  // With open_session: the fraction of the table's estimated rows copied at
  // which the build of the indexes left off the copy starts beside it, so
  // that it ends about when the copy does (the build takes the other core
  // while the copy runs; started too early, it ends first and the rest of
  // the copy keeps the index up to date row by row, which is slower). The
  // sysbench table of tests/bench/online_alter: its build takes 0.4 of the
  // copy's time without load and 0.6 under it. Default 0.7; above 1: never.
  double index_build_at = 0.7;
};

// A trigger of the table's own, as the server keeps it: recreated from
// `statement` (SHOW CREATE TRIGGER's, with its DEFINER) under `sql_mode` and
// `collation`, in the order of the list (ACTION_ORDER within each timing
// and event).
struct TableTrigger {
  std::string name, timing, event;  // "BEFORE"/"AFTER", "INSERT"/"UPDATE"/"DELETE"
  std::string definer;              // user@host as information_schema writes it
  std::string sql_mode, collation;  // the trigger's sql_mode and collation_connection
  std::string body;                 // ACTION_STATEMENT
  std::string statement;            // SHOW CREATE TRIGGER's "SQL Original Statement"
};

// Phases (docs/formats/migrations.md):
//   preparing → copying → copied → cut-over → finalized
//                                ↘ (revert: reverting) reverted → abandoned (finalize)
//   A stop with an error keeps the phase (and records `error`): resume
//   retries it, finalize abandons it.
struct MigrationState {
  static constexpr int kFormatVersion = 1;
  std::string id;            // 8 lowercase hex digits
  std::string connection;    // user@host:port
  std::string database;
  std::string table;
  int operation_id = 0;      // the plan operation it carries out
  std::string alter_sql;     // the operation's statements (for the shadow)
  std::string phase = "preparing";
  std::string key_index;                // the index chunks follow (PRIMARY or a unique NOT NULL key)
  std::vector<std::string> key_columns;
  std::vector<std::string> key_kinds;   // per key column: "number", "binary" or "text" (how bounds are written)
  std::vector<std::string> copy_columns;     // columns copied (in both tables, not generated in the new one)
  std::vector<std::string> compare_columns;  // copied columns whose definition changed: compared after copying
  // New NOT NULL columns without a default: the copy and the change capture
  // write the value ALTER TABLE would give existing rows (0, '', the first
  // ENUM value, the zero date), as SQL literals in fill_values.
  std::vector<std::string> fill_columns;
  std::vector<std::string> fill_values;
  // The table's own foreign keys (names and definitions as SHOW CREATE TABLE
  // writes them): the shadow takes them under these names; the table keeps
  // them under TableFkName(i) until the migration ends.
  std::vector<std::string> fk_names;
  std::vector<std::string> fk_clauses;
  // The table's own triggers (online_triggers.h): they stay on the table
  // during the copy, are twinned onto the incoming table just before a swap
  // and put back under their names right after it.
  std::vector<TableTrigger> triggers;
  // Plain secondary indexes of the new definition left off the shadow
  // during the copy and built right after it (online_indexes.h), as SHOW
  // CREATE TABLE writes them ("KEY `k_1` (`k`)").
  std::vector<std::string> deferred_indexes;
  std::vector<std::string> last_bound;       // SQL literals of the last copied chunk's upper key; empty: none yet
  uint64_t rows_copied = 0;
  uint64_t rows_estimate = 0;
  uint64_t chunks = 0;
  uint64_t chunk_rows = 0;   // the current chunk size
  int64_t started_at_ns = 0;
  int64_t copied_at_ns = 0;
  int64_t cutover_started_ns = 0;  // the swap's first attempt
  int64_t cutover_at_ns = 0;       // the swap succeeded
  int64_t updated_at_ns = 0;
  std::string error;         // why it stopped (phase failed, or a refused revert)
  // The database's profile hash when the migration started, as its caller
  // learned it (a learn leaves the migration's own tables and triggers
  // out, so it still learns so until the cut-over): how a later delivery
  // of the same plan knows that the plan's operations before this one ran.
  // Empty: not recorded.
  std::string database_hash;

  std::string ShadowTable() const;    // _sqlx_ID_new: the new table until the cut-over, then the placeholder
  std::string OldTable() const;       // _sqlx_ID_old: the old table after the cut-over
  std::string TriggerName(std::string_view event) const;  // _sqlx_ID_ins / _upd / _del, _rins / ...
  std::string TwinName(size_t i) const;      // _sqlx_ID_uN: trigger i's guarded twin around a swap
  std::string CaptureMark() const;           // @_sqlx_ID_capture: set by the capture while it writes
  std::string TableFkName(size_t i) const;   // _sqlx_ID_fkN: foreign key i on the table while the shadow has its name
  std::string ShadowFkName(size_t i) const;  // _sqlx_ID_skN: foreign key i on the shadow after a revert
  std::string MovingFkPrefix() const;        // _sqlx_ID_c_: other tables' keys while they move (+ their name)
  bool Done() const { return phase == "finalized" || phase == "abandoned"; }
};

std::string MigrationToJson(const MigrationState& state);

// The profile hash `live` would have with the foreign keys of the
// migration's table under their own names: while it copies, the table keeps
// them as TableFkName(i), which the hash recorded at its start
// (database_hash) did not see. "" when the migration renamed none.
std::string HashWithOwnKeyNames(const ir::Database& live, const MigrationState& state);
Result<MigrationState> MigrationFromJson(const std::string& text);

// What the engine needs from the outside: the actors (or the CLI) implement
// it over the store, the audit log and the terminal.
class MigrationObserver {
 public:
  virtual ~MigrationObserver() = default;
  // Stores `state` durably (synced). The engine stops when it fails.
  virtual Status Checkpoint(const MigrationState& state) = 0;
  // A phase event: migration.started / copied / cutover / reverted /
  // finalized / abandoned / paused / failed (an audit event each).
  virtual void Event(const MigrationState& state, std::string_view event, const Error* error,
                     const std::string& details_json) = 0;
  // After each chunk (and while throttled: `throttled` says why).
  virtual void Progress(const MigrationState& /*state*/, double /*rows_per_second*/,
                        std::string_view /*throttled*/) {}
  // Polled between chunks: true stops the copy at a checkpoint (pause);
  // Continue takes it up again.
  virtual bool StopRequested() { return false; }
};

// Why `op` cannot run as an online copy on the live table ("" when it can):
// no primary key nor unique NOT NULL key, a foreign key to itself, a
// renamed column, not InnoDB. Reads only.
Result<std::string> OnlineCopyObstacle(transports::Session& session, const std::string& database,
                                       const Operation& op);

// Makes the shadow table and the change capture for `op` (an alter_table
// with strategy online-copy) and returns the migration in phase "copying".
// The first checkpoint is written before any change, so a crash during
// preparation is found and undone by Continue.
Result<MigrationState> StartOnlineMigration(transports::Session& session, const std::string& connection,
                                            const std::string& database, const Operation& op,
                                            MigrationObserver& observer);

// Copies from the checkpoint to the end, then cuts over unless postponed.
// Returns with the phase "copying" when the observer asked to stop.
Status ContinueOnlineMigration(transports::Session& session, MigrationState& state, const OnlineOptions& options,
                               MigrationObserver& observer);

// Whether the migration's swap has happened, by the server (its old table
// `_sqlx_ID_old` exists: made by the swap, dropped by the swap back and by
// finalize), whatever its record says (a crash before the checkpoint).
Result<bool> MigrationSwapped(transports::Session& session, const MigrationState& state);

// The atomic swap (phase copied → cut-over). A reverted migration is made
// again first, from the table as it is (a new shadow, change capture and a
// full copy, phases preparing → copying → copied), then swapped; it returns
// with the phase "copying" when the observer asked to stop during that copy.
Status CutOverMigration(transports::Session& session, MigrationState& state, const OnlineOptions& options,
                        MigrationObserver& observer);

// Compares the tables (every row, chunk by chunk, under the chunk's locks)
// and swaps back (cut-over → reverted). Refuses, naming the count, when rows
// differ (writes after the cut-over that the old definition cannot hold),
// unless `force`.
Status RevertMigration(transports::Session& session, MigrationState& state, const OnlineOptions& options,
                       MigrationObserver& observer, bool force);

// Drops what the migration made: after a cut-over the old table (finalized);
// before one, or after a revert, the shadow (abandoned).
Status FinalizeMigration(transports::Session& session, MigrationState& state, MigrationObserver& observer);

// Seconds_Behind_Master (Seconds_Behind_Source on MySQL) of every
// replication channel the server of `session` runs, read with SHOW ALL
// SLAVES STATUS (MariaDB), else SHOW REPLICA STATUS (MySQL >= 8.0.22), else
// SHOW SLAVE STATUS: the worst channel's, nullopt when one is not
// replicating (NULL: its SQL or IO thread stopped). `statement` caches the
// statement the server accepts ("" before the first call). An error when the
// server is not a replica (no row) or the account may not read its status.
// For callers that hold replica sessions (OnlineOptions::replica_lag).
Result<std::optional<double>> ReadReplicaLag(transports::Session& session, std::string& statement);

// A replica as its primary lists it (SHOW REPLICA HOSTS / SHOW SLAVE HOSTS):
// the address it reports with report_host / report_port.
struct ReplicaAddress {
  uint64_t server_id = 0;
  std::string host;  // empty: the replica reports none (report_host unset)
  uint16_t port = 0;
};
// The replicas connected to the primary behind `session`. Needs REPLICATION
// MASTER ADMIN (or REPLICATION SLAVE) on MariaDB; the server's error otherwise.
Result<std::vector<ReplicaAddress>> DiscoverReplicas(transports::Session& session);

// A new random migration id (8 lowercase hex digits).
std::string NewMigrationId();

}  // namespace sqlx::planner
