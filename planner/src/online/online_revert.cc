// The online migration's revert (planner/online.h RevertMigration,
// docs/formats/migrations.md "revert"): the old table brought level with
// the table by a reverse change capture and a copy back, then swapped back.
#include <algorithm>

#include <nlohmann/json.hpp>

#include "online_catalog.h"
#include "online_copy.h"
#include "online_engine.h"
#include "online_fks.h"
#include "online_sql.h"
#include "online_triggers.h"
#include "sqlx/transports/session.h"

namespace sqlx::planner {

using namespace online;  // NOLINT: this file is the engine of those helpers
using nlohmann::json;
using transports::Session;

namespace {

// A revert's copy: the table (new definition) back into the old table, the
// old table's NOT NULL columns the new one lacks filled as ALTER TABLE
// would; compared where a definition changed.
Result<CopySpec> ReverseCopy(Session& session, const MigrationState& s) {
  SQLX_ASSIGN_OR_RETURN(std::vector<ColumnInfo> old_columns, ReadColumns(session, s.database, s.OldTable()));
  // The chunks follow an index of the table that starts with the key
  // (the migration made sure the new definition has one).
  SQLX_ASSIGN_OR_RETURN(std::vector<IndexInfo> indexes, ReadIndexes(session, s.database, s.table));
  std::string source_index;
  for (const IndexInfo& index : indexes)
    if (source_index.empty() && !index.prefix && index.columns.size() >= s.key_columns.size() &&
        std::equal(s.key_columns.begin(), s.key_columns.end(), index.columns.begin()))
      source_index = index.name;
  if (source_index.empty())
    return MakeError(ErrorCode::kUnsupported, "no index of " + Q(s.table) + " starts with (" + Columns(s.key_columns) +
                                                  "): the revert could not copy it back in key order");
  CopySpec spec{s.table, s.OldTable(), source_index, s.copy_columns, {}, {}, s.compare_columns};
  FillColumns(old_columns, s.copy_columns, &spec.fill_columns, &spec.fill_values);
  return spec;
}

// Brings the old table level with the table: reverse change capture first
// (INSERT IGNORE would hide a refusal, so plain writes: a value the old
// definition cannot hold fails its writer, as it would after the revert),
// then every row copied back chunk by chunk under the chunk's locks. A value
// that does not fit the old definition stops the revert with the reason.
Status ReverseSync(Session& session, MigrationState& s, const OnlineOptions& options, MigrationObserver& observer,
                   bool force) {
  SQLX_ASSIGN_OR_RETURN(CopySpec spec, ReverseCopy(session, s));
  if (force) spec.compare_columns.clear();
  SQLX_RETURN_IF_ERROR(DropSelfFks(session, s, s.OldTable()));
  MigrationState back = s;  // the fill of the reverse capture
  back.fill_columns = spec.fill_columns;
  back.fill_values = spec.fill_values;
  for (const std::string& trigger : CaptureTriggers(back, s.table, s.OldTable(), "r", /*ignore=*/false))
    SQLX_RETURN_IF_ERROR(RunDdl(session, trigger, options));
  std::vector<std::string> after;
  uint64_t chunk_rows = std::max<uint64_t>(s.chunk_rows, options.chunk_rows);
  for (;;) {
    SQLX_ASSIGN_OR_RETURN(bool go, Throttle(session, s, options, observer));
    if (!go) return MakeError(ErrorCode::kCancelled, "the revert was stopped before its swap: run it again");
    const auto start = std::chrono::steady_clock::now();
    SQLX_ASSIGN_OR_RETURN(CopiedChunk chunk, CopyChunk(session, s, spec, after, chunk_rows));
    const std::vector<std::string>& upto = chunk.upto;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (seconds > 0)
      chunk_rows = std::clamp<uint64_t>(
          static_cast<uint64_t>(std::clamp(chunk_rows * options.chunk_seconds / seconds, chunk_rows / 2.0, chunk_rows * 2.0)),
          options.min_chunk_rows, options.max_chunk_rows);
    if (upto.empty()) return Status::Ok();
    after = upto;
  }
}

}  // namespace

namespace online {

// After the swap back: other tables' keys point at the table again, the
// shadow's keys step aside (temporary names), the table's get theirs back;
// the reverse capture (now on the shadow, pointing at a name that no longer
// exists) goes.
Status AfterRevertSwap(Session& session, const MigrationState& s, const OnlineOptions& options) {
  SQLX_RETURN_IF_ERROR(DropTriggers(session, s, s.ShadowTable(), {"rins", "rupd", "rdel"}, options));
  SQLX_RETURN_IF_ERROR(SettleTriggers(session, s, s.ShadowTable(), options));
  SQLX_RETURN_IF_ERROR(OnlyStatus(RepointForeignKeys(session, s.database, s.ShadowTable(), s.table, s.MovingFkPrefix())));
  SQLX_RETURN_IF_ERROR(DropSelfFks(session, s, s.ShadowTable()));
  SQLX_RETURN_IF_ERROR(NameFks(session, s, s.ShadowTable(), ShadowFks(s)));
  return NameFks(session, s, s.table, OrigFks(s));
}

}  // namespace online

Status RevertMigration(Session& session, MigrationState& s, const OnlineOptions& options,
                       MigrationObserver& observer, bool force) {
  if (s.phase != "cut-over" && s.phase != "reverting")
    return MakeError(ErrorCode::kUnsupported,
                     "migration " + s.id + " is " + s.phase + ": only a cut-over migration can be reverted");
  SQLX_ASSIGN_OR_RETURN(ServerLock lock, ServerLock::Take(session, s));
  SQLX_RETURN_IF_ERROR(SetUp(session, s, options));
  SQLX_ASSIGN_OR_RETURN(bool cut, IsCutOver(session, s));
  if (cut) {
    // The swap back brings the triggers recorded at the start: the table's
    // must still be those, or the revert would silently undo a change.
    SQLX_ASSIGN_OR_RETURN(std::vector<TableTrigger> now, ReadTableTriggers(session, s.database, s.table));
    if (std::string change = TriggerChange(s.triggers, now); !change.empty()) {
      Error e = MakeError(ErrorCode::kUnsupported,
                          "the triggers of " + Q(s.table) + " changed since migration " + s.id + " started (" + change +
                              "): the revert would bring back the old ones; nothing was changed. Make them as they "
                              "were to revert, or `sqlx migrations finalize " + s.id + "` keeps the new table");
      observer.Event(s, "migration.revert_refused", &e, json{{"forced", force}, {"triggers", change}}.dump());
      return e;
    }
    s.phase = "reverting";
    SQLX_RETURN_IF_ERROR(Save(s, observer));
    // --force: the old definition takes what it can (a non-strict sql_mode
    // cuts or clamps what does not fit), nothing is compared.
    if (force) SQLX_RETURN_IF_ERROR(Exec(session, "SET SESSION sql_mode = ''"));
    Status st = ReverseSync(session, s, options, observer, force);
    if (force) (void)Exec(session, std::string("SET SESSION sql_mode = ") + kStrictMode);
    // Other tables' keys to the old table (current now), carried back by the swap.
    // The table's own triggers: guarded twins on the old table (silent for
    // the reverse capture's writes) that the swap back brings to the name.
    if (st.ok()) st = InstallTwins(session, s, s.OldTable(), options);
    // Keys to the table itself back on the old table (level now).
    if (st.ok()) st = AddFks(session, s, s.OldTable(), TableFks(s), /*self=*/true);
    if (st.ok()) st = OnlyStatus(RepointForeignKeys(session, s.database, s.table, s.OldTable(), s.MovingFkPrefix()));
    if (st.ok()) st = Swap(session, s.table, s.ShadowTable(), s.OldTable(), options);
    if (!st.ok()) {
      (void)DropTwins(session, s, options);
      (void)RepointForeignKeys(session, s.database, s.OldTable(), s.table, s.MovingFkPrefix());
      // Not reverted: the table stays the new one, and the reverse capture
      // goes (it would only fail writers).
      Error e = st.error();
      if (e.code != ErrorCode::kCancelled)
        e.message += " (the revert changed nothing: " + s.table + " keeps the new definition; --force reverts "
                     "with the old definition cutting what it cannot hold)";
      (void)DropTriggers(session, s, s.table, {"rins", "rupd", "rdel"}, options);
      s.phase = "cut-over";
      s.error = e.ToString();
      (void)Save(s, observer);
      observer.Event(s, "migration.revert_refused", &e, json{{"forced", force}}.dump());
      return e;
    }
  }
  SQLX_RETURN_IF_ERROR(AfterRevertSwap(session, s, options));
  s.phase = "reverted";
  s.error.clear();
  SQLX_RETURN_IF_ERROR(Save(s, observer));
  observer.Event(s, "migration.reverted", nullptr, json{{"forced", force}, {"already", !cut}}.dump());
  return Status::Ok();
}

}  // namespace sqlx::planner
