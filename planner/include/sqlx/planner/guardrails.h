// Guardrails of a plan: the pre-check queries that data-dependent changes
// need on the live data, which operations may not run without consent, and
// the statements of an operation as they are sent to a server. Pure: the
// queries are generated here and run by `sqlx apply`.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "sqlx/messages/ir.h"
#include "sqlx/planner/plan.h"

namespace sqlx::planner {

// The pre-checks of changing table `from` into `to`, written against
// `from` (they run before any change): duplicates under a new UNIQUE or
// PRIMARY key, NULLs in a column that becomes NOT NULL (or joins a new
// primary key), values a narrowed type cannot hold (too long, out of range,
// too many digits), values an ENUM or SET loses, rows a new CHECK rejects.
// `renames`: new column name → old. A key or check that names a column the
// plan adds is not checked (the column does not exist yet). Foreign keys:
// ForeignKeyPreCheck.
std::vector<PreCheck> TablePreChecks(const ir::Table& from, const ir::Table& to,
                                     const std::map<std::string, std::string>& renames = {});

// Rows of `child` (its name before the plan) whose key `child_columns`
// (all non-NULL) has no row in `parent` (`parent_columns`); with
// `parent_exists` false (the plan creates the parent) every such row is an
// orphan. `parent_schema` "" is the plan's database.
PreCheck ForeignKeyPreCheck(const std::string& fk_name, const std::string& child,
                            const std::vector<std::string>& child_columns, const std::string& parent_schema,
                            const std::string& parent, const std::vector<std::string>& parent_columns,
                            bool parent_exists);

// What the person running a plan consented to.
struct ApplyConsent {
  bool allow_destructive = false;  // --allow-destructive: operations of class destructive
  bool allow_blocking = false;     // --allow-blocking: copy and unknown ALTERs (online-copy runs online:
                                   // planner/online.h; the live check OnlineCopyObstacle is the caller's)
  // Tables found empty on the live database just before the run: a
  // destructive change of an empty table (alter_table, drop_table) loses no
  // data and needs no --allow-destructive.
  std::set<std::string> empty_tables;
};

// The tables whose destructive operations would need --allow-destructive
// unless they are empty (the caller checks them live: EmptyTableCheck).
std::vector<std::string> DestructiveTables(const Plan& plan);
// SQL answering 1 when `table` holds no row, else 0.
std::string EmptyTableCheck(const std::string& table);

// Why `plan` may not run under `consent`: one line per refused operation,
// saying which flag would allow it. Empty: it may run. A blocking strategy
// on a table the plan itself creates earlier needs no consent (no rows).
std::vector<std::string> Refusals(const Plan& plan, const ApplyConsent& consent);

// The statements of `op` to send one at a time: a routine, trigger or event
// is one statement (no DELIMITER over the wire); otherwise `sql` split where
// ";\n" starts the next statement (ALTER, CREATE, DROP, RENAME, SET).
std::vector<std::string> OperationStatements(const Operation& op);

}  // namespace sqlx::planner
