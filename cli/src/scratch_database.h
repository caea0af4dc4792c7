// A `.sql` desired state (`sqlx plan:diff --to schema.sql --dev-url URL`):
// the script runs in a scratch database on the dev server, which is learned
// and then dropped — also when a statement fails and on SIGINT/SIGTERM. The
// script is never parsed, only split as the mariadb client splits it
// (planner/sql_split.h).
#pragma once

#include <string>

#include "commands.h"
#include "sqlx/messages/ir.h"
#include "sqlx/messages/result.h"

namespace sqlx::cli {

// Scratch databases are named kScratchPrefix + "<pid>_<random hex>".
inline constexpr const char* kScratchPrefix = "sqlx_scratch_";

struct SqlDesiredState {
  std::string path;      // the .sql file
  std::string dev_url;   // the dev server; its database path, if any, is ignored
  // The scratch database's defaults (the other side's); empty: the dev
  // server's defaults.
  std::string charset;
  std::string collation;
};

// Runs `state.path` statement by statement in a fresh scratch database on
// the dev server (FOREIGN_KEY_CHECKS=0, as the fixture loaders do), learns
// it and drops it. The IR returned is named after the file's stem (self
// references in bodies are already stripped by learning, so the name is not
// in the profile hash). Errors: kInvalidArgument (no password, a bad URL, a
// DELIMITER without delimiter), kUnsupported (a mariadb client command such
// as `use` or `source`: the script must stay in its scratch database),
// kServer ("FILE:LINE: " + the server's error for a rejected statement), or
// what connecting or learning fails with. The user of the dev URL needs
// CREATE and DROP on the scratch database names (`sqlx\_scratch\_%`).
Result<ir::Database> LearnSqlDesiredState(const GlobalOptions& g, const SqlDesiredState& state);

}  // namespace sqlx::cli
