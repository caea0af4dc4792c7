// The table's own triggers around an online migration's swaps
// (docs/formats/migrations.md, "Triggers of the table"): they stay on the
// table during the copy; just before a swap the incoming table gets guarded
// twins of them (silent for the change capture's writes), so that the swap
// itself carries working triggers to the table's name; right after it the
// twins are replaced by the exact definitions under LOCK TABLES ... WRITE,
// behind a fence that refuses writes if the session dies half-way.
#pragma once

#include <string>
#include <vector>

#include "online_sql.h"

namespace sqlx::planner::online {

// The triggers of `database`.`table` that are not the engine's, in firing
// order (BEFORE before AFTER; INSERT, UPDATE, DELETE; ACTION_ORDER), with
// the statements that make them again.
Result<std::vector<TableTrigger>> ReadTableTriggers(transports::Session& session, const std::string& database,
                                                    const std::string& table);

// How the table's triggers `now` differ from those recorded (`was`), in a
// few words ("" when they are the same, in the same order).
std::string TriggerChange(const std::vector<TableTrigger>& was, const std::vector<TableTrigger>& now);

// Makes the twins of s.triggers on `table` (any earlier ones dropped first):
// named s.TwinName(i), same definer, sql_mode, timing, event and order, the
// body run only when the row is not written by a change capture
// (s.CaptureMark() is not the statement's NOW(6)).
Status InstallTwins(transports::Session& session, const MigrationState& s, const std::string& table,
                    const OnlineOptions& options);
// Drops the twins wherever they are.
Status DropTwins(transports::Session& session, const MigrationState& s, const OnlineOptions& options);

// After a swap (or to finish one cut short): s.triggers leave `away` (a
// table nobody writes any more) and are made on s.table exactly as they
// were, replacing its twins. The replacement runs under LOCK TABLES table
// WRITE (writers wait), behind fence triggers that refuse every write while
// it is incomplete (if this session dies half-way, writes fail instead of
// missing or doubling a trigger, until the migration's next command finishes
// it). Idempotent; nothing to do when the table already carries exactly them.
Status SettleTriggers(transports::Session& session, const MigrationState& s, const std::string& away,
                      const OnlineOptions& options);

}  // namespace sqlx::planner::online
