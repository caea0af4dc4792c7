// The online-migration engine (planner/online.h, docs/formats/migrations.md):
// preparation, copy, start, resume and finalize; the cut-over is in
// online_cutover.cc, the revert in online_revert.cc.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "online_catalog.h"
#include "online_copy.h"
#include "online_engine.h"
#include "online_fks.h"
#include "online_indexes.h"
#include "online_sql.h"
#include "online_triggers.h"
#include "sqlx/messages/clock.h"
#include "sqlx/planner/guardrails.h"
#include "sqlx/planner/render_sql.h"
#include "sqlx/transports/session.h"

namespace sqlx::planner {

using namespace online;  // NOLINT: this file is the engine of those helpers
using nlohmann::json;
using transports::Session;

namespace online {

// Session settings of the engine: the server's default sql_mode (strict on
// MariaDB since 10.2.4), short metadata-lock waits.
Status SetUp(Session& session, const MigrationState& s, const OnlineOptions& options) {
  SQLX_RETURN_IF_ERROR(session.InitDb(s.database));
  // REPEATABLE READ: a chunk's locking reads take gap locks, so no write can
  // slip a row into the range being copied (READ COMMITTED takes none).
  SQLX_RETURN_IF_ERROR(Exec(session, "SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ"));
  return Exec(session, std::string("SET SESSION sql_mode = ") + kStrictMode + ", lock_wait_timeout = " +
                           std::to_string(std::max(1, options.cutover_lock_wait_seconds)));
}

Status Save(MigrationState& s, MigrationObserver& observer) {
  s.updated_at_ns = UnixNowNs();
  return observer.Checkpoint(s);
}

// Records why the engine stopped (the phase stays: resuming retries it).
Error Stopped(MigrationState& s, MigrationObserver& observer, Error e) {
  s.error = e.ToString();
  (void)Save(s, observer);
  observer.Event(s, "migration.failed", &e, json{{"phase", s.phase}}.dump());
  return e;
}

Result<std::map<std::string, std::string>> Triggers(Session& session, const MigrationState& s) {
  SQLX_ASSIGN_OR_RETURN(std::vector<Row> rows,
                        Rows(session, "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS "
                                      "WHERE TRIGGER_SCHEMA = " +
                                          QuoteString(s.database) + " AND TRIGGER_NAME LIKE " +
                                          QuoteString("\\_sqlx\\_" + s.id + "\\_%")));
  std::map<std::string, std::string> out;
  for (const Row& r : rows) out[r[0].value_or("")] = r[1].value_or("");
  return out;
}

// RENAME TABLE a TO b, c TO a: the one atomic statement of a cut-over (the
// table to the old name, the shadow to the table's) and of a revert.
Status Swap(Session& session, const std::string& a, const std::string& b, const std::string& c,
            const OnlineOptions& options) {
  return RunDdl(session, "RENAME TABLE " + Q(a) + " TO " + Q(b) + ", " + Q(c) + " TO " + Q(a), options);
}

// True when the cut-over's swap has happened: the old table exists (it is
// made by the swap and dropped by the swap back or by finalize).
Result<bool> IsCutOver(Session& session, const MigrationState& s) {
  return TableExists(session, s.database, s.OldTable());
}

// Drops the migration's triggers on `table` whose suffix is in `events`.
Status DropTriggers(Session& session, const MigrationState& s, const std::string& table,
                    std::initializer_list<const char*> events, const OnlineOptions& options) {
  SQLX_ASSIGN_OR_RETURN(auto triggers, Triggers(session, s));
  for (const char* event : events) {
    auto it = triggers.find(s.TriggerName(event));
    if (it != triggers.end() && it->second == table)
      SQLX_RETURN_IF_ERROR(RunDdl(session, "DROP TRIGGER IF EXISTS " + Q(it->first), options));
  }
  return Status::Ok();
}

namespace {

// The operation's statements made to change the shadow table instead: the
// table name replaced, the ALGORITHM/LOCK clause left out.
Result<std::vector<std::string>> ShadowStatements(const MigrationState& s) {
  Operation op;
  op.kind = "alter_table";
  op.object = s.table;
  op.sql = s.alter_sql;
  const std::string head = "ALTER TABLE " + Q(s.table);
  std::vector<std::string> out;
  for (std::string statement : OperationStatements(op)) {
    if (statement.rfind(head, 0) != 0)
      return MakeError(ErrorCode::kUnsupported, "the operation's statement does not alter " + Q(s.table) + ": " +
                                                    statement.substr(0, 80));
    statement = "ALTER TABLE " + Q(s.ShadowTable()) + statement.substr(head.size());
    const size_t algorithm = statement.rfind(",\n  ALGORITHM=");
    if (algorithm != std::string::npos) statement.resize(algorithm);
    out.push_back(std::move(statement));
  }
  return out;
}

}  // namespace

Status RecordKeysAndTriggers(Session& session, MigrationState& s) {
  SQLX_ASSIGN_OR_RETURN(std::vector<ForeignKey> own, ShowForeignKeys(session, s.database, s.table));
  s.fk_names.clear();
  s.fk_clauses.clear();
  for (const ForeignKey& fk : own) {
    s.fk_names.push_back(fk.name);
    s.fk_clauses.push_back(fk.clause);
  }
  SQLX_ASSIGN_OR_RETURN(s.triggers, ReadTableTriggers(session, s.database, s.table));
  return Status::Ok();
}

Status Prepare(Session& session, MigrationState& s, const OnlineOptions& options, MigrationObserver& observer) {
  const std::string table = Q(s.table), shadow = Q(s.ShadowTable());
  // From scratch: a crash during a previous preparation left at most these.
  for (const char* t : {"ins", "upd", "del"})
    SQLX_RETURN_IF_ERROR(RunDdl(session, "DROP TRIGGER IF EXISTS " + Q(s.TriggerName(t)), options));
  SQLX_RETURN_IF_ERROR(Exec(session, "DROP TABLE IF EXISTS " + shadow));
  SQLX_RETURN_IF_ERROR(Exec(session, "CREATE TABLE " + shadow + " LIKE " + table));
  auto undo = [&](Error e) {
    (void)Run(session, "DROP TABLE IF EXISTS " + shadow);
    (void)NameFks(session, s, s.table, OrigFks(s));
    return e;
  };
  SQLX_ASSIGN_OR_RETURN(std::vector<std::string> statements, ShadowStatements(s));
  for (const std::string& statement : statements) {
    auto done = Run(session, statement);
    if (!done.ok()) return undo(done.error());
  }
  SQLX_ASSIGN_OR_RETURN(std::vector<ColumnInfo> old_columns, ReadColumns(session, s.database, s.table));
  SQLX_ASSIGN_OR_RETURN(std::vector<ColumnInfo> new_columns, ReadColumns(session, s.database, s.ShadowTable()));
  SQLX_ASSIGN_OR_RETURN(std::vector<IndexInfo> new_indexes, ReadIndexes(session, s.database, s.ShadowTable()));
  s.copy_columns.clear();
  s.compare_columns.clear();
  for (const ColumnInfo& c : old_columns) {
    const ColumnInfo* now = FindColumn(new_columns, c.name);
    if (now == nullptr || now->generated()) continue;
    s.copy_columns.push_back(c.name);
    if (!(*now == c) && !ExactUnderStrict(c, *now)) s.compare_columns.push_back(c.name);
  }
  FillColumns(new_columns, s.copy_columns, &s.fill_columns, &s.fill_values);
  for (const std::string& k : s.key_columns) {
    if (std::find(s.copy_columns.begin(), s.copy_columns.end(), k) == s.copy_columns.end())
      return undo(MakeError(ErrorCode::kUnsupported, "the change drops or recomputes key column " + Q(k) + " of " +
                                                         table + ": rows could not be matched during the copy"));
  }
  const bool keyed = std::any_of(new_indexes.begin(), new_indexes.end(), [&](const IndexInfo& index) {
    return !index.prefix && index.columns.size() >= s.key_columns.size() &&
           std::equal(s.key_columns.begin(), s.key_columns.end(), index.columns.begin());
  });
  if (!keyed)
    return undo(MakeError(ErrorCode::kUnsupported, "after the change no index of " + table + " starts with (" +
                                                       Columns(s.key_columns) +
                                                       "): changes could not find their rows in the copy"));
  // The table's own foreign keys: the table keeps them under temporary
  // names, the shadow takes the originals (so the cut-over needs no rename).
  if (Status st = NameFks(session, s, s.table, TableFks(s)); !st.ok()) return undo(st.error());
  // Keys to the table itself wait for the cut-over (DropSelfFks).
  if (Status st = AddFks(session, s, s.ShadowTable(), OrigFks(s), /*self=*/false); !st.ok())
    return undo(st.error());
  // Plain indexes are built after the copy (faster than row by row).
  if (Status st = DeferIndexes(session, s, options); !st.ok()) return undo(st.error());
  // The table's own triggers stay on it during the copy; their twins are
  // made once here (on the empty shadow, then dropped) so that a definer the
  // account may not name, or a body the twin cannot hold, stops the
  // migration now rather than at its cut-over.
  if (!s.triggers.empty()) {
    Status st = InstallTwins(session, s, s.ShadowTable(), options);
    if (st.ok()) st = DropTwins(session, s, options);
    if (!st.ok()) {
      (void)DropTwins(session, s, options);
      Error e = st.error();
      e.message = "the triggers of " + table + " could not be made again as they are (" + e.message +
                  "): the account needs SET USER (or SUPER) to name another definer";
      return undo(e);
    }
  }
  SQLX_ASSIGN_OR_RETURN(s.rows_estimate,
                        Number(session, "SELECT IFNULL(TABLE_ROWS, 0) FROM information_schema.TABLES WHERE " +
                                            InSchema(s.database, s.table)));
  for (const std::string& trigger : CaptureTriggers(s, s.table, s.ShadowTable(), "", /*ignore=*/false)) {
    Status st = RunDdl(session, trigger, options);
    if (!st.ok()) {
      for (const char* t : {"ins", "upd", "del"}) (void)Run(session, "DROP TRIGGER IF EXISTS " + Q(s.TriggerName(t)));
      return undo(st.error());
    }
  }
  s.phase = "copying";
  s.chunk_rows = options.chunk_rows;
  s.last_bound.clear();
  s.rows_copied = 0;
  s.chunks = 0;
  s.error.clear();
  SQLX_RETURN_IF_ERROR(Save(s, observer));
  observer.Event(s, "migration.started", nullptr,
                 json{{"table", s.table},
                      {"shadow", s.ShadowTable()},
                      {"key", s.key_index},
                      {"key_columns", s.key_columns},
                      {"copy_columns", s.copy_columns},
                      {"compare_columns", s.compare_columns},
                      {"rows_estimate", s.rows_estimate},
                      {"operation", s.operation_id}}
                     .dump());
  return Status::Ok();
}

Status CopyAll(Session& session, MigrationState& s, const OnlineOptions& options, MigrationObserver& observer) {
  SQLX_ASSIGN_OR_RETURN(auto triggers, Triggers(session, s));
  for (const char* t : {"ins", "upd", "del"}) {
    auto it = triggers.find(s.TriggerName(t));
    if (it == triggers.end() || it->second != s.table)
      return MakeError(ErrorCode::kInternal, "change-capture trigger " + Q(s.TriggerName(t)) + " is missing from " +
                                                 Q(s.table) + ": writes may not have reached the copy; run `sqlx "
                                                 "migrations finalize " + s.id + "` and apply again");
  }
  if (s.chunk_rows == 0) s.chunk_rows = options.chunk_rows;
  const auto run_start = std::chrono::steady_clock::now();
  uint64_t run_rows = 0;
  IndexBuildBeside beside(session);  // stopped on every return before its end
  for (;;) {
    if (observer.StopRequested()) {
      beside.Stop();  // a resume builds what it did not
      SQLX_RETURN_IF_ERROR(Save(s, observer));
      observer.Event(s, "migration.paused", nullptr,
                     json{{"rows_copied", s.rows_copied}, {"last_bound", s.last_bound}}.dump());
      return Status::Ok();
    }
    SQLX_ASSIGN_OR_RETURN(bool go, Throttle(session, s, options, observer));
    if (!go) continue;  // stops at the top of the loop
    beside.StartWhenDue(s, options, observer);
    SQLX_ASSIGN_OR_RETURN(bool turn, beside.WaitForTurn(observer));
    if (!turn) continue;  // stops at the top of the loop
    CopySpec spec = ForwardCopy(s);
    spec.target_first = beside.building();
    const auto start = std::chrono::steady_clock::now();
    SQLX_ASSIGN_OR_RETURN(CopiedChunk chunk, CopyChunk(session, s, spec, s.last_bound, s.chunk_rows));
    const std::vector<std::string>& upto = chunk.upto;
    const uint64_t copied = chunk.rows;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    // Chunk size toward the target time, at most doubling or halving.
    if (!upto.empty() && seconds > 0) {
      const double ideal = static_cast<double>(s.chunk_rows) * options.chunk_seconds / seconds;
      const double next = std::clamp(ideal, s.chunk_rows / 2.0, s.chunk_rows * 2.0);
      s.chunk_rows = std::clamp<uint64_t>(static_cast<uint64_t>(next), options.min_chunk_rows, options.max_chunk_rows);
    }
    s.rows_copied += copied;
    run_rows += copied;
    ++s.chunks;
    const bool last = upto.empty();
    if (!last) s.last_bound = upto;
    if (last) {
      // A crash in here leaves the phase copying and last_bound before this
      // chunk: a resume copies it again, then builds what is missing.
      const std::string beside_failed = beside.Finish();
      SQLX_RETURN_IF_ERROR(BuildDeferredIndexes(session, s, options, observer, beside_failed));
      s.phase = "copied";
      s.copied_at_ns = UnixNowNs();
    }
    s.error.clear();
    SQLX_RETURN_IF_ERROR(Save(s, observer));
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
    observer.Progress(s, elapsed > 0 ? run_rows / elapsed : 0, "");
    if (last) break;
  }
  observer.Event(s, "migration.copied", nullptr,
                 json{{"rows_copied", s.rows_copied}, {"chunks", s.chunks}}.dump());
  return Status::Ok();
}

}  // namespace online

Result<std::string> OnlineCopyObstacle(Session& session, const std::string& database, const Operation& op) {
  if (op.kind != "alter_table") return std::string("not a change of an existing table");
  for (const std::string& change : op.changes)
    if (change.rfind("rename column", 0) == 0)
      return "it renames a column (" + change + "): the copy matches columns by name";
  SQLX_ASSIGN_OR_RETURN(std::vector<Row> tables,
                        Rows(session, "SELECT ENGINE FROM information_schema.TABLES WHERE " +
                                          InSchema(database, op.object)));
  if (tables.empty()) return "table " + Q(op.object) + " does not exist";
  if (tables[0][0].value_or("") != "InnoDB")
    return "engine " + tables[0][0].value_or("?") + ": the copy needs InnoDB's row locks";
  // Foreign keys: the table's own move to the copy; other tables' follow it
  // through a temporary name (online_fks.h); a key of the table to itself is
  // added to the copy at the cut-over (DropSelfFks), so only one that never
  // changes rows by itself can be followed: cascades fire no triggers.
  SQLX_ASSIGN_OR_RETURN(
      std::vector<Row> fks,
      Rows(session, "SELECT DISTINCT CONSTRAINT_NAME, TABLE_SCHEMA, TABLE_NAME FROM information_schema.KEY_COLUMN_USAGE "
                    "WHERE REFERENCED_TABLE_SCHEMA = " +
                        QuoteString(database) + " AND REFERENCED_TABLE_NAME = " + QuoteString(op.object)));
  for (const Row& fk : fks) {
    if (fk[1].value_or("") == database && fk[2].value_or("") == op.object) continue;
    if (fk[0].value_or("").size() > 64 - MigrationState{.id = "00000000"}.MovingFkPrefix().size())
      return "foreign key " + Q(fk[0].value_or("")) + " of " + Q(fk[2].value_or("")) +
             " has too long a name to be moved through a temporary one";
  }
  SQLX_ASSIGN_OR_RETURN(
      std::vector<Row> self,
      Rows(session, "SELECT CONSTRAINT_NAME, DELETE_RULE, UPDATE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS "
                    "WHERE CONSTRAINT_SCHEMA = " + QuoteString(database) + " AND TABLE_NAME = " +
                        QuoteString(op.object) + " AND UNIQUE_CONSTRAINT_SCHEMA = " + QuoteString(database) +
                        " AND REFERENCED_TABLE_NAME = " + QuoteString(op.object) + " ORDER BY CONSTRAINT_NAME"));
  for (const Row& fk : self) {
    for (const auto& [when, rule] : {std::pair{"DELETE", fk[1].value_or("")}, std::pair{"UPDATE", fk[2].value_or("")}})
      if (rule != "RESTRICT" && rule != "NO ACTION")
        return "foreign key " + Q(fk[0].value_or("")) + " references the table itself ON " + when + " " + rule +
               ": its changes of other rows fire no triggers, so the copy could not follow them (online: only "
               "RESTRICT or NO ACTION; drop the clause for the migration, or --allow-blocking)";
  }
  SQLX_ASSIGN_OR_RETURN(std::vector<ColumnInfo> columns, ReadColumns(session, database, op.object));
  SQLX_ASSIGN_OR_RETURN(std::vector<IndexInfo> indexes, ReadIndexes(session, database, op.object));
  const IndexInfo* key = ChooseKey(indexes, columns);
  if (key == nullptr)
    return std::string("no primary key and no unique key over NOT NULL columns: rows could not be copied in key order");
  for (const std::string& c : key->columns) {
    const ColumnInfo* col = FindColumn(columns, c);
    if (KeyKind(col->data_type, "utf8mb4").empty())
      return "key column " + Q(c) + " is " + col->data_type + ": it cannot bound chunks";
  }
  for (const std::string& statement : OperationStatements(op))
    if (statement.rfind("ALTER TABLE " + Q(op.object), 0) != 0)
      return "a statement of the operation does not alter " + Q(op.object);
  return std::string();
}

Result<MigrationState> StartOnlineMigration(Session& session, const std::string& connection,
                                            const std::string& database, const Operation& op,
                                            MigrationObserver& observer) {
  SQLX_RETURN_IF_ERROR(session.InitDb(database));
  SQLX_ASSIGN_OR_RETURN(std::string obstacle, OnlineCopyObstacle(session, database, op));
  if (!obstacle.empty())
    return MakeError(ErrorCode::kUnsupported, Q(op.object) + " cannot be copied online: " + obstacle);
  MigrationState s;
  s.id = NewMigrationId();
  s.connection = connection;
  s.database = database;
  s.table = op.object;
  s.operation_id = op.id;
  s.alter_sql = op.sql;
  s.started_at_ns = UnixNowNs();
  SQLX_ASSIGN_OR_RETURN(std::vector<ColumnInfo> columns, ReadColumns(session, database, op.object));
  SQLX_ASSIGN_OR_RETURN(std::vector<IndexInfo> indexes, ReadIndexes(session, database, op.object));
  const IndexInfo* key = ChooseKey(indexes, columns);
  SQLX_ASSIGN_OR_RETURN(std::string charset, ResultsCharset(session));
  s.key_index = key->name;
  s.key_columns = key->columns;
  for (const std::string& c : key->columns) s.key_kinds.push_back(KeyKind(FindColumn(columns, c)->data_type, charset));
  SQLX_RETURN_IF_ERROR(RecordKeysAndTriggers(session, s));
  SQLX_RETURN_IF_ERROR(Save(s, observer));  // before any change: a crash is found by its record
  SQLX_ASSIGN_OR_RETURN(ServerLock lock, ServerLock::Take(session, s));
  SQLX_RETURN_IF_ERROR(SetUp(session, s, OnlineOptions{}));
  Status st = Prepare(session, s, OnlineOptions{}, observer);
  if (!st.ok()) {
    s.phase = "abandoned";
    return Stopped(s, observer, st.error());
  }
  return s;
}

Status ContinueOnlineMigration(Session& session, MigrationState& s, const OnlineOptions& options,
                               MigrationObserver& observer) {
  SQLX_ASSIGN_OR_RETURN(ServerLock lock, ServerLock::Take(session, s));
  SQLX_RETURN_IF_ERROR(SetUp(session, s, options));
  if (s.phase == "preparing") {
    Status st = Prepare(session, s, options, observer);
    if (!st.ok()) return Stopped(s, observer, st.error());
  }
  if (s.phase == "copying") {
    Status st = CopyAll(session, s, options, observer);
    if (!st.ok()) return Stopped(s, observer, st.error());
    if (s.phase == "copying") return Status::Ok();  // paused
  }
  if (s.phase == "copied" && !options.postpone_cutover) {
    Status st = DoCutOver(session, s, options, observer);
    if (!st.ok()) return Stopped(s, observer, st.error());
  }
  return Status::Ok();
}

Status FinalizeMigration(Session& session, MigrationState& s, MigrationObserver& observer) {
  if (s.Done()) return Status::Ok();
  const OnlineOptions options;
  SQLX_ASSIGN_OR_RETURN(ServerLock lock, ServerLock::Take(session, s));
  SQLX_RETURN_IF_ERROR(SetUp(session, s, options));
  SQLX_ASSIGN_OR_RETURN(bool cut, IsCutOver(session, s));
  SQLX_ASSIGN_OR_RETURN(auto triggers, Triggers(session, s));
  const bool recorded_cut = s.phase == "cut-over" || s.phase == "reverting";
  if (cut != recorded_cut && s.phase != "preparing") {
    // The record and the server disagree (a crash between a swap and its
    // checkpoint): the server is right; say so before dropping anything.
    // Not cut over although recorded so: a revert's swap back happened (the
    // forward capture is gone since, so the shadow is no copy any more).
    s.phase = cut ? "cut-over" : (recorded_cut ? "reverted" : "copied");
    SQLX_RETURN_IF_ERROR(Save(s, observer));
    return MakeError(ErrorCode::kUnsupported,
                     "migration " + s.id + (cut ? " had cut over" : " had not cut over") +
                         " (its last checkpoint was older): its state is now " + s.phase +
                         "; run finalize again to " + (cut ? "drop the old table, or revert it" : "drop the copy"));
  }
  // The table's own triggers back on it exactly (a swap's follow-up cut
  // short leaves twins or a fence), then the migration's triggers on the
  // table: from then on writes touch only it.
  SQLX_RETURN_IF_ERROR(SettleTriggers(session, s, cut ? s.OldTable() : s.ShadowTable(), options));
  SQLX_ASSIGN_OR_RETURN(triggers, Triggers(session, s));
  for (const auto& [name, table] : triggers)
    if (table == s.table) SQLX_RETURN_IF_ERROR(RunDdl(session, "DROP TRIGGER IF EXISTS " + Q(name), options));
  // No other table's key may reference what is dropped (after a crash
  // mid-way through a swap's follow-up they still might).
  SQLX_RETURN_IF_ERROR(OnlyStatus(
      RepointForeignKeys(session, s.database, cut ? s.OldTable() : s.ShadowTable(), s.table, s.MovingFkPrefix())));
  SQLX_RETURN_IF_ERROR(
      RunDdl(session, "DROP TABLE IF EXISTS " + Q(s.OldTable()) + ", " + Q(s.ShadowTable()), options));
  // Without the shadow the table's keys take their names back.
  if (!cut) SQLX_RETURN_IF_ERROR(NameFks(session, s, s.table, OrigFks(s)));
  s.phase = cut ? "finalized" : "abandoned";
  s.error.clear();
  SQLX_RETURN_IF_ERROR(Save(s, observer));
  observer.Event(s, cut ? "migration.finalized" : "migration.abandoned", nullptr,
                 json{{"dropped", {s.OldTable(), s.ShadowTable()}}}.dump());
  return Status::Ok();
}

}  // namespace sqlx::planner
