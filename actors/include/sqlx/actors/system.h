// The in-process actor system (docs/actors.md): the connection, learner and
// snapshot actors under a supervisor, behind a small blocking API for the
// CLI. No CAF type appears here: CAF stays in actors/src.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sqlx/actors/plan_runner.h"
#include "sqlx/messages/ir.h"
#include "sqlx/messages/result.h"
#include "sqlx/storage/store.h"
#include "sqlx/transports/session.h"
#include "sqlx/transports/url.h"

namespace sqlx::actors {

// How a learn job moves on (SystemOptions::on_learn_progress).
struct LearnStep {
  enum class Phase {
    kServer,    // the server is being probed (learn_server)
    kListing,   // the databases are being listed (all_databases)
    kCatalog,   // catalog query `step` of `total` (`what`: its name) reached
    kBuilding,  // `step` of `total` databases built into IR; `what` names the last one
  };
  Phase phase = Phase::kServer;
  int step = 0;  // 1-based (kCatalog, kBuilding)
  int total = 0;
  std::string_view what;  // valid during the call only
  size_t databases = 0;   // kCatalog, kBuilding: how many databases the job learns
};

struct SystemOptions {
  // CAF scheduler threads for the event-based actors (connections and
  // snapshot writes have threads of their own). Default 2.
  size_t scheduler_threads = 2;
  // Not owned; must outlive the System. Null: learned databases are not
  // stored (unless open_store gives a store). Default: null.
  storage::Store* store = nullptr;
  // When `store` is null: called once, on the snapshot actor's thread, when
  // the first result is to be stored, so that a caller can open its store
  // while the server is learned (`sqlx learn`). The store it returns is not
  // owned and must outlive the System; an error fails the jobs that store.
  // Default: none.
  std::function<Result<storage::Store*>()> open_store;
  // Sessions a learn-database job splits its catalog queries over: 2 opens
  // a second session beside the first, its connect overlapping the first's
  // work (flo::LearnDatabaseOptions::helper_session), as `sqlx learn` does;
  // a second session that cannot be opened leaves the learn on one.
  // Default 1.
  uint32_t learn_sessions = 1;
  // Called on the connection actor's thread as each learn job moves on
  // (in process only: no job's bytes carry it); must not block. Default:
  // none.
  std::function<void(const LearnStep&)> on_learn_progress;
  // Runs of one job at most, the first included: a job whose actor exits
  // mid-job, or that fails with a retryable error (jobs::IsRetryable), runs
  // again until then. Default 3.
  uint32_t max_attempts = 3;
  // Wire pack search (transports::SessionOptions::pack_dir). Default: empty.
  std::string pack_dir;
  uint32_t connect_timeout_ms = 10000;  // default 10 s
  uint64_t max_packet = uint64_t{1} << 30;  // largest packet taken from a server; default 1 GiB
  // Runs ApplyPlan's plans on the connection actor's session; the caller
  // that links the driver supplies it (plan_runner.h). Default: empty
  // (ApplyPlan fails with kUnsupported).
  PlanRunner plan_runner;
  // Runs RunMigration's actions on the connection actor's session (plan_runner.h).
  // Default: empty (RunMigration fails with kUnsupported).
  MigrationRunner migration_runner;
};

// One database as the actors learned (and, with a store, stored) it.
struct LearnedDatabase {
  std::string name;
  std::string profile_hash;              // lowercase hex SHA-256
  ir::Database schema;                   // canonical, read back from the message's SQIR buffer
  std::vector<std::string> not_visible;  // non-empty: a partial snapshot
  uint64_t stored_version = 0;           // 0: not stored (no store, or an error)
  std::string change;                    // "new", "changed", "unchanged"; empty: not stored
  std::optional<Error> error;            // set: not learned (the server does not show it)
};

// The server as the actors learned (and, with a store, stored) it.
struct LearnedServer {
  std::string connection;       // "user@host:port"
  std::string server_version;   // as the greeting sent it
  std::string capability_json;  // flo's canonical capability matrix, as the store keeps it
  std::string fingerprint;      // empty: learned without a salt and not stored
  std::vector<std::string> databases;  // the server's databases, sorted (in a learn's `server`: those listed, all_databases only)
};

struct LearnedDatabases {
  std::string connection;  // "user@host:port"
  std::vector<LearnedDatabase> databases;  // one per requested name, in order
  std::optional<LearnedServer> server;     // when the request asked for learn_server
  uint32_t catalog_statements = 0;         // statements of the batch of catalog queries (shared by the databases)
  std::chrono::microseconds learn_time{0};  // wall time of that batch
  uint32_t attempts = 0;   // runs the job took (1 unless one was retried)
};

// What a learn job asks for (jobs.fbs LearnDatabaseJob).
struct LearnRequest {
  std::vector<std::string> databases;  // exact names, learned in one batch
  bool all_databases = false;          // every database the server shows instead (`databases` empty)
  bool include_system = false;         // with all_databases: the system schemas too
  // The server first, on the same session: LearnedDatabases::server (and,
  // when stored, the connection's record with the store's fingerprint).
  bool learn_server = false;
  bool store = true;                   // with a store: the snapshot actor stores what was learned
};

// A server as a ping found it (System::Ping).
struct PingResult {
  std::string connection;      // "user@host:port"
  std::string server_version;  // as the greeting sent it
  uint64_t connection_id = 0;
  std::string auth_plugin;     // the plugin that authenticated the session
  transports::TlsInfo tls;     // tls.active false: plain TCP
  std::chrono::microseconds connect_time{0};  // connect, TLS and authentication
  std::chrono::nanoseconds rtt{0};            // the ping's round trip
  std::string endpoint;        // host:port as connected
};

// What a query asks for (System::Query).
struct QueryRequest {
  std::string sql;
  std::string database;  // empty: the URL's
  // Proposes multi-statement strings at the greeting; false for statements
  // a person wrote (`sqlx query`): a string of several is then refused by
  // the server instead of run. Default false.
  bool multi_statements = false;
  // The connection closes the query when its next results are not asked
  // for within this time. 0: 60 s.
  std::chrono::milliseconds idle_timeout{0};
};

// The results of one query, streamed from its connection actor at the
// reader's pace: each call for rows asks the actor for the next batch, and
// the actor reads one step ahead while the reader works. The reading rules
// are transports::QueryStream's: NextResult moves to the next result
// (skipping the current one's unread rows), NextBatch gives its rows until
// nullptr, completion() is the result's once its rows are read. A batch
// stays valid until the next call. Used by one thread at a time; destroying
// it mid-way ends the query (the connection closes its session).
class QueryCursor {
 public:
  virtual ~QueryCursor() = default;
  virtual Result<bool> NextResult() = 0;
  virtual const std::vector<transports::Column>& columns() const = 0;
  virtual bool has_rows() const = 0;
  virtual Result<const transports::RowBatch*> NextBatch() = 0;
  virtual const transports::Completion& completion() const = 0;
};

// Thread-safety: the calls may be made from several threads; each blocks
// until its job is answered.
class System {
 public:
  explicit System(const SystemOptions& options = {});
  ~System();
  System(const System&) = delete;
  System& operator=(const System&) = delete;

  // Learns `names` on the server behind `url` (connection → learner →
  // snapshot when a store is set): the same IR and profile hashes as
  // flo::LearnDatabases. A database the server does not show is an entry
  // with `error`; the call fails when the whole job does (connect, auth,
  // a lost connection after max_attempts, an actor exiting every attempt).
  Result<LearnedDatabases> LearnDatabases(const transports::ConnectionUrl& url, const std::vector<std::string>& names);

  // The same for a whole request: every database, the server too, with or
  // without storing (`sqlx learn`, `sqlx snapshot`).
  Result<LearnedDatabases> Learn(const transports::ConnectionUrl& url, const LearnRequest& request);

  // The server behind `url` (flo::LearnServer) with its fingerprint salted
  // with `fingerprint_salt`; `store`: the snapshot actor stores it as the
  // connection's record (`sqlx capabilities`).
  Result<LearnedServer> LearnServer(const transports::ConnectionUrl& url, const std::string& fingerprint_salt,
                                    bool store);

  // Runs a plan on the server behind `url` (supervisor → apply actor →
  // connection → plan_runner). A retryable failure (a lost connection) runs
  // the job again; the driver's runner learns the live schema first, so a
  // repeat after some operations ran stops at drift or already-applied
  // instead of applying twice.
  Result<ApplySummary> ApplyPlan(const transports::ConnectionUrl& url, const ApplyRequest& request);

  // Moves an online migration on (resume, cutover, revert, finalize) on a
  // connection actor of its own, through SystemOptions::migration_runner (a
  // MigrationJob; not retried: `sqlx migrations resume` is the retry). The
  // call fails when the job could not run; the action's own failure is the
  // outcome's `error`, beside the record it left.
  Result<MigrationOutcome> RunMigration(const transports::ConnectionUrl& url, const MigrationRequest& request);

  // Connects to the server behind `url` on a connection actor of its own,
  // authenticates and pings it (a PingJob; not retried: a ping reports what
  // it met).
  Result<PingResult> Ping(const transports::ConnectionUrl& url);

  // Runs `request.sql` on a connection actor of its own (a QueryJob; not
  // retried: a statement may not be safe to run twice) and returns its
  // results as they stream. Fails when the connect, the database or the
  // first result fails; later errors come from the cursor's calls. The
  // cursor must not outlive the System.
  Result<std::unique_ptr<QueryCursor>> Query(const transports::ConnectionUrl& url, const QueryRequest& request);

  // What the caller of RunEnvelope adds to one job's run: an apply job's
  // fence, checkpoints and audit forwarding (ApplyRequest::hooks).
  using RunHooks = ApplyHooks;

  // Runs one job given in its wire form (a jobs envelope, as a worker takes
  // it off the bus) on the server behind `url`, and returns the answer in
  // its wire form: the job's result kind, or an Error envelope (with the
  // job's id) when the job failed. Fails only when `job` is not a job
  // envelope (kInvalidArgument naming what is wrong).
  Result<std::string> RunEnvelope(const transports::ConnectionUrl& url, std::string_view job,
                                  const RunHooks& hooks = {});

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace sqlx::actors
