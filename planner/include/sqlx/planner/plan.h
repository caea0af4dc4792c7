// Diff → Plan: the operations that take a database from one IR to another,
// in an order the server accepts, each with its rendered DDL, its class and
// its reverse. Format of plan.json: docs/formats/plan.md.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "sqlx/messages/ir.h"
#include "sqlx/messages/result.h"

namespace sqlx::planner {

// How an operation can hurt (docs/formats/plan.md):
enum class OpClass {
  kSafe,                  // adds or replaces without touching data
  kDataDependent,         // succeeds only if the live data allows it (new UNIQUE, NOT NULL, narrowing)
  kDestructive,           // loses data or definitions (drop table/column/index, narrowing, enum value removal)
  kBackwardIncompatible,  // old application code may break (renames, dropped objects)
};
const char* OpClassName(OpClass c);

// How an operation changes a table (planner/strategy.h chooses it from the
// server's learned capabilities; docs/formats/plan.md):
enum class Strategy {
  kUnknown,     // not chosen (a reverse operation, or a plan without strategies): the server picks
  kNone,        // not a change of an existing table's rows (create, drop, rename, bodies)
  kInstant,     // ALGORITHM=INSTANT: metadata only
  kInplace,     // ALGORITHM=INPLACE, LOCK=NONE: reads and writes go on during the change
  kOnlineCopy,  // needs a table copy that a shadow copy can do online (not yet); blocking COPY with consent
  kCopy,        // blocking: ALGORITHM=COPY, writes wait; needs consent
};
const char* StrategyName(Strategy s);
// The strategy named `name` (StrategyName's words); false when none is.
bool StrategyFromName(const std::string& name, Strategy* out);

// A query run on the live data before any change: one row, one number, the
// count of rows (or key values) that would make the operation fail or lose
// data. 0 means the operation may run.
struct PreCheck {
  std::string what;  // "rows whose `email` duplicates another's (new unique key `uk_email`)"
  std::string sql;   // SELECT ... returning the offending count

  bool operator==(const PreCheck&) const = default;
};

struct Operation {
  int id = 0;                    // 1-based, the order to run in
  std::string kind;              // create_table, alter_table, drop_table, drop_foreign_keys, add_foreign_keys,
                                 // create_view, replace_view, drop_view, create_routine, drop_routine,
                                 // create_trigger, drop_trigger, create_event, drop_event, alter_database
  std::string object;            // the table / view / routine / trigger / event name ("" for the database)
  OpClass op_class = OpClass::kSafe;
  std::vector<std::string> changes;  // one line per change: "add column `x` int(11)", "drop index `y`"
  std::vector<std::string> notes;    // why the class: "column `a` narrowed from varchar(20) to varchar(10)"
  std::string sql;               // the statement(s), ";\n"-separated where several
  std::string sql_mode;          // for bodies: the sql_mode they run under ("" = the session's)
  std::string reverse_sql;       // the operation that undoes it ("" when there is none)
  bool reverse_loses_data = false;  // the reverse restores the definition, not the data
  uint64_t rows_estimate = 0;    // the table's learned row estimate (cost), when a table
  uint64_t bytes_estimate = 0;   // the table's learned data + index length (cost), when a table
  uint64_t duration_estimate_ms = 0;  // an estimate from strategy and bytes (planner/duration.h); 0: metadata only or unknown size
  Strategy strategy = Strategy::kUnknown;
  std::string strategy_reason;   // which change decided the strategy, and the capability it rests on
  std::vector<PreCheck> prechecks;  // guardrails run before any operation of the plan
};

struct Plan {
  static constexpr int kFormatVersion = 1;
  std::string database;   // the plan's database (the "to" side's name, else the "from" side's)
  std::string from_hash;  // profile hash of the starting IR
  std::string to_hash;    // profile hash of the desired IR
  std::vector<Operation> operations;
  std::vector<std::string> policy_findings;  // filled by compliance modes
  std::string strategy_basis;  // the capabilities strategies were chosen for ("" = none chosen)
  std::string duration_basis;  // the rewrite rates duration estimates rest on ("" = none estimated)
};

struct DiffOptions {
  // Explicit renames; never guessed. Tables: old → new. Columns: table (its
  // new name) → {old column → new column}.
  std::map<std::string, std::string> table_renames;
  std::map<std::string, std::map<std::string, std::string>> column_renames;
};

// The plan from `from` to `to`. An empty plan means the profile hashes are
// equal (apart from what the IR does not hash). Fails (kInvalidArgument) on
// a rename hint naming what does not exist.
Result<Plan> Diff(const ir::Database& from, const ir::Database& to, const DiffOptions& options = {});

// The plan that undoes `plan`: each operation's reverse, newest first (an
// operation without a reverse is left out; `reverse_loses_data` says which
// restore definitions but not data).
Plan ReversePlan(const Plan& plan);

// The plan as a script for the `mariadb` client (bodies between DELIMITER
// lines, each under its sql_mode, FOREIGN_KEY_CHECKS kept on).
std::string PlanScript(const Plan& plan);

// plan.json (docs/formats/plan.md) and back; reading checks the format
// version and names the JSON pointer at fault.
std::string PlanToJson(const Plan& plan);
Result<Plan> PlanFromJson(const std::string& text);

}  // namespace sqlx::planner
