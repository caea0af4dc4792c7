// The online migration's cut-over (planner/online.h CutOverMigration,
// docs/formats/migrations.md "cut-over"): the checks, the foreign keys and
// triggers made ready on the shadow, the one RENAME, and what follows it;
// and the cut-over of a reverted migration, made again from the table.
#include <nlohmann/json.hpp>

#include "online_catalog.h"
#include "online_engine.h"
#include "online_fks.h"
#include "online_sql.h"
#include "online_triggers.h"
#include "sqlx/messages/clock.h"
#include "sqlx/transports/session.h"

namespace sqlx::planner {

using namespace online;  // NOLINT: this file is the engine of those helpers
using nlohmann::json;
using transports::Session;

namespace online {

// The swap is a plain two-table RENAME, with triggers on one side only: the
// table's forward capture before, none after. (Statements waiting for the
// RENAME re-open the table under its new definition; with capture triggers
// on both sides of a swap, MariaDB 10.11 fails some of them with "table
// doesn't exist" for a trigger's target: measured.)
Status DoCutOver(Session& session, MigrationState& s, const OnlineOptions& options, MigrationObserver& observer) {
  SQLX_ASSIGN_OR_RETURN(bool done, IsCutOver(session, s));
  if (!done) {
    // The shadow holds every write only while the forward capture is on the
    // table (it is not after a revert's swap back, for one): without it the
    // swap would lose writes.
    SQLX_ASSIGN_OR_RETURN(auto capture, Triggers(session, s));
    for (const char* t : {"ins", "upd", "del"}) {
      auto it = capture.find(s.TriggerName(t));
      if (it == capture.end() || it->second != s.table)
        return MakeError(ErrorCode::kUnsupported,
                         "change-capture trigger " + Q(s.TriggerName(t)) + " is missing from " + Q(s.table) +
                             ": the copy " + Q(s.ShadowTable()) + " may lack writes, so it is not swapped in; run "
                             "`sqlx migrations finalize " + s.id + "` and apply again");
    }
    // The table's own triggers must be the ones recorded at the start: the
    // twins (and after the swap the table) get the recorded ones.
    SQLX_ASSIGN_OR_RETURN(std::vector<TableTrigger> now, ReadTableTriggers(session, s.database, s.table));
    if (std::string change = TriggerChange(s.triggers, now); !change.empty())
      return MakeError(ErrorCode::kUnsupported,
                       "the triggers of " + Q(s.table) + " changed since migration " + s.id + " started (" + change +
                           "): the cut-over would carry the old ones; nothing was swapped. `sqlx migrations "
                           "finalize " + s.id + "` abandons the migration; applying the plan again then takes the "
                           "triggers as they are now");
    // Foreign keys: the table's under temporary names, the shadow's under
    // the originals.
    SQLX_RETURN_IF_ERROR(NameFks(session, s, s.table, TableFks(s)));
    SQLX_RETURN_IF_ERROR(NameFks(session, s, s.ShadowTable(), OrigFks(s)));
    // Keys to the table itself: the shadow equals the table now (which
    // satisfies them), so they are added as metadata, referencing the
    // shadow; the RENAME makes that the table's name.
    SQLX_RETURN_IF_ERROR(AddFks(session, s, s.ShadowTable(), OrigFks(s), /*self=*/true));
    // Other tables' keys reference the shadow before the swap (it mirrors
    // the table in the writers' own transactions: their checks and
    // cascades hold), so the RENAME carries them to the table's name.
    SQLX_RETURN_IF_ERROR(
        OnlyStatus(RepointForeignKeys(session, s.database, s.table, s.ShadowTable(), s.MovingFkPrefix())));
    // The table's own triggers: guarded twins on the shadow (silent for
    // the capture's writes), so the RENAME brings working triggers to the
    // table's name at once.
    SQLX_RETURN_IF_ERROR(InstallTwins(session, s, s.ShadowTable(), options));
    s.cutover_started_ns = UnixNowNs();
    SQLX_RETURN_IF_ERROR(Save(s, observer));
    Status swapped = Swap(session, s.table, s.OldTable(), s.ShadowTable(), options);
    if (!swapped.ok()) {
      (void)DropTwins(session, s, options);
      return swapped;
    }
  }
  // The old table's forward triggers point at a name that no longer exists:
  // nothing writes there now, and a revert must be able to write into it.
  SQLX_RETURN_IF_ERROR(DropTriggers(session, s, s.OldTable(), {"ins", "upd", "del"}, options));
  // The twins give way to the exact triggers (under LOCK TABLES WRITE).
  SQLX_RETURN_IF_ERROR(SettleTriggers(session, s, s.OldTable(), options));
  // Keys that still reference the old table (none, unless moved by hand or
  // cut short by a crash) go to the table.
  SQLX_ASSIGN_OR_RETURN(int moved, RepointForeignKeys(session, s.database, s.OldTable(), s.table, s.MovingFkPrefix()));
  s.phase = "cut-over";
  s.cutover_at_ns = UnixNowNs();
  s.error.clear();
  SQLX_RETURN_IF_ERROR(Save(s, observer));
  observer.Event(s, "migration.cutover", nullptr,
                 json{{"table", s.table},
                      {"old_table", s.OldTable()},
                      {"foreign_keys_moved", moved},
                      {"swap_ms", (s.cutover_at_ns - s.cutover_started_ns) / 1000000}}
                     .dump());
  return Status::Ok();
}

}  // namespace online

namespace {

// A reverted migration cut over again: since the swap back only the table
// was written (nothing captured), so the copy is made again from the table
// as it is now, exactly as at the start (a new shadow, the forward capture,
// every chunk copied and compared), then swapped.
Status CutOverAgain(Session& session, MigrationState& s, const OnlineOptions& options, MigrationObserver& observer) {
  SQLX_ASSIGN_OR_RETURN(bool cut, IsCutOver(session, s));
  if (cut)
    return MakeError(ErrorCode::kUnsupported, "migration " + s.id + " is recorded as reverted but " +
                                                  Q(s.OldTable()) + " exists: run `sqlx migrations finalize " + s.id +
                                                  "` to settle its state first");
  // A revert cut short after its swap back leaves its follow-up undone (the
  // table's triggers as twins, its keys under temporary names): finished
  // first, so that what is recorded below is the table's own.
  SQLX_ASSIGN_OR_RETURN(bool shadow, TableExists(session, s.database, s.ShadowTable()));
  if (shadow) SQLX_RETURN_IF_ERROR(AfterRevertSwap(session, s, options));
  else SQLX_RETURN_IF_ERROR(SettleTriggers(session, s, s.ShadowTable(), options));
  // The table's keys and triggers as they are now (their names are back).
  SQLX_RETURN_IF_ERROR(RecordKeysAndTriggers(session, s));
  s.phase = "preparing";
  s.copied_at_ns = s.cutover_started_ns = s.cutover_at_ns = 0;
  SQLX_RETURN_IF_ERROR(Save(s, observer));
  SQLX_RETURN_IF_ERROR(Prepare(session, s, options, observer));
  SQLX_RETURN_IF_ERROR(CopyAll(session, s, options, observer));
  if (s.phase != "copied") return Status::Ok();  // paused: `resume` goes on
  return DoCutOver(session, s, options, observer);
}


}  // namespace

Status CutOverMigration(Session& session, MigrationState& s, const OnlineOptions& options,
                        MigrationObserver& observer) {
  if (s.phase != "copied" && s.phase != "cut-over" && s.phase != "reverted")
    return MakeError(ErrorCode::kUnsupported, "migration " + s.id + " is " + s.phase +
                                                      ": only a copied or reverted migration can cut over" +
                                                      (s.phase == "copying" ? "; `sqlx migrations resume " + s.id +
                                                                                  " --postpone-cutover` finishes the copy"
                                                                            : std::string()));
  if (s.phase == "cut-over") return Status::Ok();
  if (s.phase == "reverted") {
    SQLX_ASSIGN_OR_RETURN(ServerLock lock, ServerLock::Take(session, s));
    SQLX_RETURN_IF_ERROR(SetUp(session, s, options));
    Status st = CutOverAgain(session, s, options, observer);
    if (!st.ok()) return Stopped(s, observer, st.error());
    return Status::Ok();
  }
  SQLX_ASSIGN_OR_RETURN(ServerLock lock, ServerLock::Take(session, s));
  SQLX_RETURN_IF_ERROR(SetUp(session, s, options));
  Status st = DoCutOver(session, s, options, observer);
  if (!st.ok()) return Stopped(s, observer, st.error());
  return Status::Ok();
}

Result<bool> MigrationSwapped(Session& session, const MigrationState& s) { return IsCutOver(session, s); }

}  // namespace sqlx::planner
