// The sqlx commands. Each returns the process exit code:
// 0 ok, 1 error, 2 usage, 3 drift found or verification failed.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "connect_args.h"
#include "sqlx/messages/result.h"

namespace CLI {
class App;
}  // namespace CLI

namespace sqlx::cli {

enum ExitCode : int { kExitOk = 0, kExitError = 1, kExitUsage = 2, kExitDrift = 3 };

struct GlobalOptions {
  std::string format = "text";  // text | json (query also: tsv)
  std::string pack_dir;         // --pack-dir
  std::string store_dir;        // --store; empty: $SQLX_HOME, else ~/.sqlx
  std::string audit_key;        // --audit-key; empty: $SQLX_AUDIT_KEY, else no checkpoints are signed
  uint64_t max_packet = uint64_t{1} << 30;
  int connect_timeout_s = 10;
};

// Prints `error` (stderr; and as one JSON document on stdout with --format
// json) and returns the exit code it maps to.
int ReportError(const GlobalOptions& g, const Error& error);

int RunPing(const GlobalOptions& g, const ConnectArgs& c);
int RunQuery(const GlobalOptions& g, const ConnectArgs& c, const std::string& sql);
// `connection` ("user@host:port") reads the store only; a URL learns when the
// store has nothing (or `refresh`).
int RunCapabilities(const GlobalOptions& g, const ConnectArgs& c, const std::string& connection,
                    bool refresh);

struct LearnArgs {
  std::vector<std::string> databases;  // --databases a,b
  bool all_databases = false;          // --all-databases
  bool include_system = false;         // --include-system
};

// Learns the server (stored as `capabilities` does) and the chosen
// databases in one batch, storing each as a schema snapshot: the URL's path
// or --databases names them; none (or --all-databases) means every
// non-system database. Exit 1 when any database could not be learned (the
// others are still stored).
int RunLearn(const GlobalOptions& g, const ConnectArgs& c, const LearnArgs& args);

// Learns the one database (URL path or --db) live and writes its canonical
// IR JSON with "profile_hash" at the top level to `output` (written
// atomically) or stdout. The store is not touched. --format sql: the IR
// rendered as a DDL script (planner/render_sql.h) instead.
int RunSnapshot(const GlobalOptions& g, const ConnectArgs& c, const std::string& output);

// `sqlx audit ...` (audit_command.cc; formats in docs/formats/audit.md).
struct AuditArgs {
  std::string pubkey_file;                    // --pubkey: the trusted public key (PEM)
  std::vector<std::string> checkpoint_files;  // --checkpoint: trusted exported checkpoints
  std::string output;                         // -o: write here instead of stdout
  uint64_t seq = 0;                           // prove SEQ
  std::vector<uint64_t> consistency;          // prove --consistency A B
  std::string proof_file;                     // check-proof FILE
  std::string since, until;                   // RFC 3339 or relative (-15m, -7d)
  std::string db, object, actor, action, outcome;
  size_t limit = 100;
  std::string older_than;                     // prune --older-than: 90d, -7d or RFC 3339
  std::string orchestrator;                   // query --orchestrator: read a running orchestrator's log
  std::string orchestrator_ca;                // query --orchestrator-ca
};

// Writes a new Ed25519 key to `out` (0600) and its public key to `out`.pub.
int RunAuditKeygen(const GlobalOptions& g, const std::string& out);
// Exit 3 when any event or checkpoint fails verification.
int RunAuditVerify(const GlobalOptions& g, const AuditArgs& args);
// Signs a checkpoint at the head (with a key) and exports the latest one.
int RunAuditHead(const GlobalOptions& g, const AuditArgs& args);
int RunAuditProve(const GlobalOptions& g, const AuditArgs& args);
// Offline: reads no store. Exit 3 when the proof does not hold.
int RunAuditCheckProof(const GlobalOptions& g, const AuditArgs& args);
int RunAuditQuery(const GlobalOptions& g, const AuditArgs& args);
// Verifies the log, then prunes events older than --older-than to their leaf
// hash and records audit.prune (audit_maintenance_command.cc). Exit 3 when
// the log does not verify (nothing is pruned).
int RunAuditPrune(const GlobalOptions& g, const AuditArgs& args);
// Rebuilds a damaged head record from the verified events and records
// audit.repair. Exit 3 when the events do not verify (nothing is changed).
int RunAuditRepair(const GlobalOptions& g, const AuditArgs& args);

struct PlanDiffArgs {
  std::string from, to;                    // snapshot files or URLs with a database
  std::string output;                      // -o plan.json
  std::vector<std::string> column_renames; // --rename t.old=new
  std::vector<std::string> table_renames;  // --rename-table old=new
  std::string dev_url;                     // --dev-url: where a .sql side runs (scratch_database.h)
};

// The plan from --from to --to: a readable summary (text), plan.json
// (json; -o writes it atomically as well) or the plan as a client script
// (sql). Renames only from the hints. A side ending in .sql is run in a
// scratch database on --dev-url and learned (scratch_database.h).
int RunPlanDiff(const GlobalOptions& g, const PlanDiffArgs& args);

// How online copies run (sqlx apply, sqlx migrations resume; online_runner.h).
struct OnlineArgs {
  bool postpone_cutover = false;       // --postpone-cutover: online copies stop before their swap
  double chunk_time = 0.5;             // --chunk-time: target seconds of one copied chunk
  uint64_t max_threads_running = 50;   // --max-threads-running: throttle the copy above this (0: never)
  std::vector<std::string> replicas;   // --replica URL (repeatable): throttle on their lag
  double max_replica_lag = 1.0;        // --max-replica-lag: seconds a replica may be behind
};

struct ApplyArgs {
  ConnectArgs connect;            // the URL; its database (or --db) overrides the plan's
  std::string plan_file;          // --plan plan.json
  bool dry_run = false;           // --dry-run: learn, check drift, run pre-checks, print; change nothing
  bool allow_destructive = false; // --allow-destructive
  bool allow_blocking = false;    // --allow-blocking: copy runs (blocking); online-copy blocks only where it cannot run online
  OnlineArgs online;
};

// Runs plan.json on the live database (apply_command.cc, docs/cli.md):
// exit 3 on drift (the live profile hash is not the plan's from_hash), 1
// when an operation is refused without consent, a pre-check finds rows, an
// operation fails (the reverse plan of the applied ones is written beside
// the plan) or the result does not learn to the plan's to_hash. --dry-run
// exits as the run would up to the first change.
int RunApply(const GlobalOptions& g, const ApplyArgs& args);

// `sqlx migrations list | status ID | cutover ID | revert ID | finalize ID |
// resume ID` (migrations_command.cc; docs/cli.md, docs/formats/migrations.md).
struct MigrationsArgs {
  std::string action;          // list, status, cutover, revert, finalize, resume
  std::string id;              // the migration (8 hex digits)
  ConnectArgs connect;         // URL of the migration's server (the store keeps no password)
  bool force = false;          // revert --force: even when rows differ
  OnlineArgs online;           // resume's options
  // list, status: a running orchestrator's migrations (its apply jobs')
  // through its API instead of the store; token in $SQLX_TOKEN.
  std::string orchestrator;     // --orchestrator URL
  std::string orchestrator_ca;  // --orchestrator-ca, else $SQLX_ORCHESTRATOR_CA
};
int RunMigrations(const GlobalOptions& g, const MigrationsArgs& args);

// The cluster (docs/cluster.md): `sqlx orchestrator`, `sqlx worker`,
// `sqlx secret-key new` (cluster_commands.cc) and the commands that talk to
// a running orchestrator over its HTTP API (fleet_client.cc).
struct ClusterArgs {
  std::string nats_url = "nats://127.0.0.1:4222";  // --nats
  std::string subject_prefix = "sqlx";              // --subject-prefix
  std::string secret_key_file;                      // --secret-key
  // orchestrator
  std::string listen = "127.0.0.1:8470";            // --listen
  std::string admin_token_file;                     // --admin-token-file
  std::string tls_cert, tls_key;                    // --tls-cert, --tls-key: serve HTTPS
  double job_ack_wait_s = 30;                       // --job-ack-wait
  int job_max_deliver = 5;                          // --job-max-deliver
  std::string audit_retention;                      // --audit-retention: a period (90d); empty: keep all
  double audit_retention_every_s = 3600;            // --audit-retention-every
  std::string job_retention = "30d";                // --job-retention: a period; 0: keep all
  // worker
  size_t concurrency = 1;                           // --concurrency
  std::string worker_name;                          // --name
  double heartbeat_s = 5;                           // --heartbeat
  double chunk_time = 0.5;                          // --chunk-time: the online copies' target chunk seconds
  uint64_t max_threads_running = 50;                // --max-threads-running: their throttle (0: never)
  // clients
  std::string orchestrator;                         // --orchestrator, else $SQLX_ORCHESTRATOR
  std::string orchestrator_ca;                      // --orchestrator-ca, else $SQLX_ORCHESTRATOR_CA
  std::string action;                               // "connections add", "fleet learn", ...
  std::string name, url, id, run, state, cron, subject, role;
  std::vector<std::string> tags;                    // --tag (repeatable)
  bool no_password = false;                         // connections add|update --no-password
  std::string connections = "all";                  // --connections all | a,b
  bool wait = false;                                // fleet learn|jobs probe --wait
  uint64_t count = 0;                               // jobs probe --count
  uint64_t payload_bytes = 0;                       // jobs probe --payload-bytes
  double wait_timeout_s = 600;                      // --timeout
  size_t limit = 1000;                              // jobs list --limit
  std::string plan_file, database;                  // fleet apply --plan, --db
  bool dry_run = false, allow_destructive = false, allow_blocking = false;  // fleet apply, rollout create
  // rollout create (docs/rollouts.md)
  std::string desired_file, dev_url;                // --to, --dev-url (a .sql --to)
  std::vector<std::string> targets;                 // --targets (repeatable)
  size_t canary = 0;                                // --canary
  std::string waves, gate = "health";               // --waves, --gate
  uint32_t failure_budget = 0, per_server = 1;      // --failure-budget, --per-server
  // The health gate's limits (rollout create --max-threads-running,
  // --max-replica-lag; the worker's throttle of the same name is above).
  uint32_t gate_threads_running = 0;                // 0: not checked
  std::optional<double> gate_replica_lag_s;         // unset: not checked
  std::string cutover_window;                       // --cutover-window HH:MM-HH:MM (UTC); empty: any time
  std::string cutover = "each";                     // --cutover each|together
  bool watch = false;                               // rollout status --watch
};
// Runs until SIGINT/SIGTERM; prints {"listening": "HOST:PORT"} once serving.
int RunOrchestrator(const GlobalOptions& g, const ClusterArgs& args);
// Runs until SIGINT/SIGTERM, then drains (running jobs finish and report).
int RunWorker(const GlobalOptions& g, const ClusterArgs& args);
// Writes a new cluster key (64 hex chars, mode 0600); refuses to overwrite.
int RunSecretKeyNew(const GlobalOptions& g, const std::string& file);
// connections add|list|update|remove, fleet learn|status, jobs list|show|probe,
// schedule add|list|remove, tokens create|list.
int RunFleetClient(const GlobalOptions& g, const ClusterArgs& args);
// GET `path` from the orchestrator at `orchestrator` (else $SQLX_ORCHESTRATOR)
// with $SQLX_TOKEN, verifying an https certificate against `ca` (else
// $SQLX_ORCHESTRATOR_CA): the answer's JSON text, or the API's error.
Result<std::string> OrchestratorGet(const std::string& orchestrator, const std::string& ca, const std::string& path);
// A subcommand of `parent` that talks to the orchestrator (with its
// --orchestrator options), as main.cc makes them.
using ClientCommand = std::function<CLI::App*(CLI::App* parent, const char* name, const char* help)>;
// Registers `sqlx rollout ...` on `app` (rollout_options.cc), its values into `cluster`.
void AddRolloutCommands(CLI::App& app, ClusterArgs& cluster, const ClientCommand& client);

}  // namespace sqlx::cli
