// Secondary indexes built after the copy: a plain (non-unique) index of the
// new definition is left off the shadow while the rows are copied and built
// once, online (ALGORITHM=INPLACE, LOCK=NONE), when the last chunk is in.
// InnoDB builds an index by sorting its entries, which is faster than
// keeping it up to date row by row through the copy (on a 1,000,000-row
// sysbench table: the copy 4.4 s with `k_1`, 2.3 s without it + 1.0 s to
// build it). Unique indexes stay during the copy (a duplicate must stop the
// write that makes it, not the cut-over), as do full-text and spatial ones,
// the chunk key, and any index a foreign key of the shadow may need.
#pragma once

#include "online_sql.h"
#include "sqlx/planner/online.h"

namespace sqlx::planner::online {

// Drops from the (still empty) shadow the indexes it can build after the
// copy and records their definitions in s.deferred_indexes. Only a tail of
// the table's plain indexes is deferred: the server puts a plain index added
// later after the others, so the table keeps its indexes' order. An index
// the server would not add online is kept.
Status DeferIndexes(transports::Session& session, MigrationState& s, const OnlineOptions& options);

// Adds the deferred indexes the shadow lacks, in one online ALTER (the
// writers' capture goes on meanwhile). Nothing when all are there.
Status BuildDeferredIndexes(transports::Session& session, MigrationState& s, const OnlineOptions& options,
                            MigrationObserver& observer);

// The name of an index clause as SHOW CREATE TABLE writes it ("KEY `a` (`x`)").
std::string IndexClauseName(const std::string& clause);

}  // namespace sqlx::planner::online
