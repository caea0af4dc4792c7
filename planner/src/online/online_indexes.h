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

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

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
// `earlier_failure` (event field beside_copy_failed) says why a build beside
// the copy did not make them.
Status BuildDeferredIndexes(transports::Session& session, MigrationState& s, const OnlineOptions& options,
                            MigrationObserver& observer, const std::string& earlier_failure = "");

// The deferred indexes built beside the copy, on a session of its own
// (OnlineOptions::open_session), from when the copy has passed
// index_build_at of the table's estimated rows: the build then takes the
// server's other core, which the copy leaves mostly idle (the writers wait
// for the copy's chunks), and ends about when the copy does. InnoDB reads
// the rows copied so far, sorts them into the index, then applies what the
// copy and the writers added meanwhile from its online log.
//
// The ALTER holds the shadow's exclusive metadata lock for a moment when it
// starts and when it ends, and queues every writer of the table (their
// capture writes the shadow) while it waits for it. So the copy starts no
// chunk while the ALTER waits for that lock or holds it (WaitForTurn), and
// each chunk takes the shadow's metadata lock before any row of the table
// (CopySpec::target_first): a chunk whose shadow write queued behind the
// ALTER while holding rows a writer waits for would deadlock with it. At
// its end the ALTER may still wait for the chunk in flight (the writers
// with it): one chunk's time. A writer that holds a row of the table
// (SELECT … FOR UPDATE) and queues behind that ALTER for the shadow can close
// a cycle no detector sees (the chunk waits for its row, it for the ALTER,
// the ALTER for the chunk): while the build runs, the copy's row-lock waits
// end after 1 s (innodb_lock_wait_timeout; the chunk is retried, up to 50
// times) and the ALTER's metadata-lock waits one second after the engine's
// own, so the chunk gives way when it began waiting within a second of it.
//
// A build that fails (out of online log, killed, ...) is not the copy's
// failure: BuildDeferredIndexes builds what is missing after the copy. None
// starts when the online log could outgrow innodb_online_alter_log_max_size
// (the rows left to copy × the entries at their columns' longest, twice).
// Builds of the shadow a run that died left running are killed first.
class IndexBuildBeside {
 public:
  explicit IndexBuildBeside(transports::Session& copy) : copy_(copy) {}
  IndexBuildBeside(const IndexBuildBeside&) = delete;
  IndexBuildBeside& operator=(const IndexBuildBeside&) = delete;
  ~IndexBuildBeside() { Stop(); }

  // Starts the build when it is due and has not started in this run.
  void StartWhenDue(MigrationState& s, const OnlineOptions& options, MigrationObserver& observer);
  // Returns once the build's ALTER is in its online phase, between attempts
  // or over (true), or a stop is requested (false); an ALTER out of it for
  // 30 s (or its lock wait + 10 s), or whose state cannot be read, is stopped.
  Result<bool> WaitForTurn(MigrationObserver& observer);
  bool running() const { return thread_.joinable(); }
  // Its ALTER still under way (the copy's lock waits shortened meanwhile).
  bool building() const { return thread_.joinable() && !done_; }
  // Waits for the build to end: "" when it built the indexes, else why not
  // (also when it never ran because opening its session failed).
  std::string Finish();
  // Ends a build still running (KILL QUERY, on the copy's session or, when
  // that is broken, on a new one; repeated for up to 10 s) and waits for its
  // thread.
  void Stop();

 private:
  void Ended();             // its session closed, the copy's lock waits as before
  void RestoreLockWaits();  // the copy's innodb_lock_wait_timeout as it was

  transports::Session& copy_;
  bool started_ = false;
  std::function<Result<std::unique_ptr<transports::Session>>()> open_session_;
  std::string failure_;  // why the build did not run or did not end well
  std::unique_ptr<transports::Session> session_;
  uint64_t connection_id_ = 0;
  int lock_wait_seconds_ = 2;  // the ALTER's lock_wait_timeout
  bool short_lock_waits_ = false;  // the copy's row-lock waits set to 1 s while the build runs
  uint64_t saved_lock_wait_ = 50;
  std::thread thread_;
  std::atomic<bool> in_statement_{false}, stop_{false}, done_{false};
  Status result_;  // the ALTER's, written by thread_ before done_
};

// Kills the builds of s's deferred indexes (ALTER TABLE shadow ADD …) that
// other sessions of the account run (a run that died left them: the server
// goes on with an ALTER whose client is gone), waiting until they end; how
// many it killed (the event migration.indexing says so:
// killed_leftover_builds).
Result<uint64_t> KillLeftoverBuilds(transports::Session& session, const MigrationState& s);

// The name of an index clause as SHOW CREATE TABLE writes it ("KEY `a` (`x`)").
std::string IndexClauseName(const std::string& clause);

}  // namespace sqlx::planner::online
