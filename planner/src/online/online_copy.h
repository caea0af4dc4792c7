// The copy of an online migration (and of its revert): chunks along the
// state's key, each copied and compared in one transaction that holds the
// chunk's rows; throttling between chunks.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "online_sql.h"

namespace sqlx::planner::online {

// What one copy moves: rows of `source` into `target` (the shadow during a
// migration; the old table during a revert), by the state's key.
struct CopySpec {
  std::string source, target;
  std::string source_index;  // the source's index that starts with the key columns (FORCE INDEX)
  std::vector<std::string> columns, fill_columns, fill_values, compare_columns;
  // The chunk takes the target's metadata lock (shared write) before it
  // locks rows of the source: set while an ALTER of the target runs beside
  // the copy (IndexBuildBeside), so that the chunk never queues behind that
  // ALTER's exclusive lock while it holds rows the application waits for;
  // its row-lock waits are short then (1 s), so a chunk is retried up to 50
  // times instead of 10.
  bool target_first = false;
};
CopySpec ForwardCopy(const MigrationState& s);

// A chunk copied: its upper key (empty: it ran to the end) and its rows.
struct CopiedChunk {
  std::vector<std::string> upto;
  uint64_t rows = 0;
};

// The next chunk of at most `rows` rows after `after` (empty: from the
// start), found, locked and copied in one transaction; retried when it
// loses a lock wait or a deadlock to the application.
Result<CopiedChunk> CopyChunk(transports::Session& session, const MigrationState& s, const CopySpec& spec,
                              const std::vector<std::string>& after, uint64_t rows);

// Waits while the server is too busy (Threads_running) or a replica lags.
// False when the observer asked to stop meanwhile.
Result<bool> Throttle(transports::Session& session, MigrationState& s, const OnlineOptions& options,
                      MigrationObserver& observer);

}  // namespace sqlx::planner::online
