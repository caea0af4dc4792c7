// Database-level learning (FLO): the schemas of one or more databases read
// from the server's catalog into the IR, with a handful of batched catalog
// queries per call whatever the number of databases and tables. The queries
// live in the learn pack's "catalog" section (docs/formats/learn-pack.md).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sqlx/messages/ir.h"
#include "sqlx/messages/result.h"
#include "sqlx/transports/session.h"

namespace sqlx::flo {

struct ObjectCounts {
  uint32_t tables = 0;  // base tables (views not included)
  uint32_t views = 0;
  uint32_t routines = 0;  // procedures and functions
  uint32_t triggers = 0;
  uint32_t events = 0;
};

struct LearnedDatabase {
  std::string name;          // as requested
  ir::Database schema;       // canonical (ir::Canonicalize applied)
  std::string profile_hash;  // ir::ProfileHash(schema)
  std::string json;          // ir::ToCanonicalJson(schema, false): the form snapshots and the store hold
  ObjectCounts counts;
  // What the learning user could not see or the IR cannot represent
  // (equal to schema.not_visible). Non-empty means the snapshot is partial:
  // an absent object is then never proof that there is none.
  std::vector<std::string> not_visible;
  // Wall time of the LearnDatabases call that produced this database: the
  // catalog queries are shared by every database of one call, so every
  // database of a call reports the same time.
  std::chrono::microseconds elapsed{0};
  // Statements that call ran (shared like `elapsed`): a handful, the same
  // for one database as for many.
  int catalog_statements = 0;
  // Set when this database could not be learned (kNotFound: the server has
  // no such database, or shows it not to this user); the fields above are
  // then empty.
  std::optional<Error> error;
};

// Where a LearnDatabases call is, for a progress display.
struct LearnProgress {
  enum class Phase {
    kCatalog,   // catalog step `step` of `total` (`what`: the query) reached: its rows read, or about to be
    kBuilding,  // `step` of `total` databases built into canonical, hashed IR; `what` names the last one
  };
  Phase phase = Phase::kCatalog;
  int step = 0;  // 1-based
  int total = 0;
  std::string_view what;  // valid during the call only
};

struct LearnDatabaseOptions {
  // Learn pack search as for LearnServer: this dir, $SQLX_LEARN_PACK_DIR,
  // the install dir, the source tree. Default: empty (search).
  std::string learn_pack_dir;
  // Called on the calling thread as the learn moves on; must not use the
  // session. Default: empty (no reports).
  std::function<void(const LearnProgress&)> on_progress;
  // A second session to the same server as the same user, or null. When
  // set, some catalog queries run on it, on a thread of their own, while
  // the others run on the main session: the server reads its catalog on two
  // threads. The result is the same as without. REQUIRES: no stream open on
  // it, and nothing else uses it during the call. Default: null.
  transports::Session* helper_session = nullptr;
};

// What a learning session proposes at the greeting: the learn pack's
// multi_statement capability when the server offers it, so that per-object
// catalog statements (SHOW CREATE VIEW) share round trips. Set it as
// transports::SessionOptions::on_greeting; without it learning still works,
// one such statement per round trip.
std::function<void(const transports::Greeting&, transports::CapabilityProposal&)> LearnSessionGreeting(
    const LearnDatabaseOptions& options = {});

// Names of the databases on the server visible to the session's user,
// sorted; the learn pack's system schemas (information_schema, mysql,
// performance_schema, sys) only with `include_system`. One statement.
Result<std::vector<std::string>> ListDatabases(transports::Session& session, bool include_system,
                                               const LearnDatabaseOptions& options = {});

// Learns `names` (exact database names) in one batch: the same number of
// statements for one database as for a thousand (plus one when a name holds
// a backslash: the session's sql_mode decides how it is quoted). Returns one
// entry per name, in order; a name the server does not show is an entry
// with `error` set, not a failure of the call. The call fails on what ends
// the learn for every database: the connection is lost, a catalog query
// fails for another reason than a privilege, the learn pack is missing or
// broken. Learning only reads: every statement is a SELECT on the catalog.
// REQUIRES: no stream open on `session`. Not thread-safe with other uses of
// `session`.
Result<std::vector<LearnedDatabase>> LearnDatabases(transports::Session& session,
                                                    const std::vector<std::string>& names,
                                                    const LearnDatabaseOptions& options = {});

}  // namespace sqlx::flo
