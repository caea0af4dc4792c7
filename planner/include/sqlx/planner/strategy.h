// Strategy choice: how each operation of a plan changes its table (INSTANT,
// INPLACE without locks, a copy) on a given server, decided from that
// server's learned capabilities as data — the planner never asks a server.
// The choice is written into the ALTER (ALGORITHM=/LOCK=) so that a server
// that cannot do it refuses instead of silently blocking. docs/formats/plan.md.
#pragma once

#include <cstdint>
#include <string>

#include "sqlx/messages/ir.h"
#include "sqlx/messages/result.h"
#include "sqlx/planner/plan.h"

namespace sqlx::planner {

// What strategy choice needs to know of the target server.
struct ServerCapabilities {
  std::string basis;              // for people: where these come from ("learned: MariaDB 10.11.19", "default: …")
  std::string flavor;             // "MariaDB" or "MySQL"; "" unknown
  uint32_t version_number = 0;    // 101119; 0 unknown
  bool algorithm_instant = false;           // ALGORITHM=INSTANT exists (MariaDB >= 10.3, MySQL >= 8.0.12)
  bool instant_add_column = false;          // ADD COLUMN as the last column is instant
  bool instant_add_column_anywhere = false; // ADD COLUMN anywhere, and reordering, are instant
  bool instant_drop_column = false;         // DROP COLUMN is instant
  bool instant_rename_column = false;       // CHANGE COLUMN that only renames is instant
  bool instant_varchar_widening = false;    // VARCHAR widened within its length-byte class is instant
};

// From the capability matrix `sqlx capabilities` stores (flo's
// LearnedServer::ToCapabilityJson: flavor, version_number, capabilities
// instant_add_column, instant_drop_column, innodb_instant_alter_column_allowed).
// Fails (kInvalidArgument) on text that is not such a document.
Result<ServerCapabilities> CapabilitiesFromJson(const std::string& capability_json);

// What is assumed without a server (a plan between snapshot files): nothing
// instant. Every change that could be instant is planned as
// ALGORITHM=INPLACE, LOCK=NONE, which MariaDB >= 10.3.7 carries out
// instantly where it can and MySQL in place; nothing assumed can be refused.
ServerCapabilities DefaultCapabilities();

// Sets each operation's strategy, strategy_reason, bytes_estimate,
// prechecks and duration estimate (EstimateDurations at
// AssumedRewriteRates(): planner/duration.h), adds the ALGORITHM=/LOCK=
// clause to the ALTER TABLE statements it chose for, and sets
// plan->strategy_basis. `plan` must be Diff(from, to,
// options) (the same IRs and rename hints); calling it twice on one plan is
// an error (kInvalidArgument).
Status ChooseStrategies(const ir::Database& from, const ir::Database& to, const DiffOptions& options,
                        const ServerCapabilities& server, Plan* plan);

}  // namespace sqlx::planner
