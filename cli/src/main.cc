// sqlx: the command-line entry point. Parses the command line (CLI11) and
// dispatches to the commands in commands.h.
#include <cctype>
#include <cstdlib>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "commands.h"
#include "connect_args.h"

namespace {

void SetUpLogging(int verbosity) {
  auto logger = spdlog::stderr_color_mt("sqlx");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%^sqlx: %l:%$ %v");
  spdlog::level::level_enum level = spdlog::level::warn;
  if (const char* env = std::getenv("SQLX_LOG"); env != nullptr && *env != '\0')
    level = spdlog::level::from_str(env);
  if (verbosity == 1) level = spdlog::level::info;
  if (verbosity >= 2) level = spdlog::level::debug;
  spdlog::set_level(level);
}

// True when `text` starts like a URL ("scheme://"), which no SQL does.
bool LooksLikeUrl(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && (std::isalnum(static_cast<unsigned char>(text[i])) != 0 || text[i] == '+' ||
                             text[i] == '-' || text[i] == '.'))
    ++i;
  return i > 0 && text.compare(i, 3, "://") == 0;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace sqlx::cli;
  // Copy the arguments first: the URL password is then blanked in argv so
  // that `ps` and /proc no longer show it.
  std::vector<std::string> args(argv, argv + argc);
  bool blanked = BlankUrlPasswords(argc, argv);
  // CLI11 2.1 rejects ':' in subcommand names: accept plan:diff as plan-diff.
  for (auto& a : args)
    if (a == "plan:diff") a = "plan-diff";

  CLI::App app{"sqlx: learn, version and change the schemas of a MySQL/MariaDB fleet"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every command");
  GlobalOptions g;
  int verbosity = 0;
  app.add_option("--format", g.format,
                 "Output format: text or json (query: also tsv; snapshot: json or sql; audit query: also csv)")
      ->check(CLI::IsMember({"text", "json", "tsv", "sql", "csv"}))
      ->default_val("text");
  app.add_option("--pack-dir", g.pack_dir, "Directory holding registry.json and wire packs");
  app.add_option("--store", g.store_dir,
                 "Store directory for commands that keep state (default $SQLX_HOME, else ~/.sqlx)");
  app.add_option("--audit-key", g.audit_key,
                 "Ed25519 PEM key that signs audit checkpoints, outside the store (default $SQLX_AUDIT_KEY)");
  app.add_option("--max-packet", g.max_packet, "Largest packet accepted from the server, bytes")
      ->default_val(uint64_t{1} << 30);
  app.add_option("--connect-timeout", g.connect_timeout_s, "Seconds to wait for connect and handshake")
      ->default_val(10);
  app.add_flag("-v,--verbose", verbosity, "More logging on stderr (-vv: debug)");

  ConnectArgs conn;
  // Global options may also follow the subcommand (`sqlx query URL SQL --format tsv`).
  app.fallthrough();
  auto add_connection = [&](CLI::App* cmd) {
    cmd->add_option("url", conn.url,
                    "mysql://user[:password]@host[:port][/db][?ssl-mode=...&ssl-ca=FILE] "
                    "(default $SQLX_URL; password also from $SQLX_PASSWORD)");
    cmd->add_option("--db", conn.db, "Database (instead of the URL's path)");
  };

  CLI::App* ping = app.add_subcommand("ping", "Connect, authenticate and report the server and TLS");
  ping->fallthrough();
  add_connection(ping);

  // `sqlx query [URL] SQL`: with one positional it is the SQL and the URL
  // comes from $SQLX_URL.
  std::vector<std::string> query_args;
  CLI::App* query = app.add_subcommand("query", "Run one SQL statement and stream its rows");
  query->fallthrough();
  query->add_option("url_and_sql", query_args,
                    "[URL] SQL: the URL (default $SQLX_URL; password also from $SQLX_PASSWORD) and "
                    "the SQL to run")
      ->required()
      ->expected(1, 2);
  query->add_option("--db", conn.db, "Database (instead of the URL's path)");

  std::string connection_name;
  bool refresh = false;
  CLI::App* capabilities =
      app.add_subcommand("capabilities", "Show a server's capability matrix (learned once, then from the store)");
  capabilities->fallthrough();
  add_connection(capabilities);
  capabilities->add_option("--connection", connection_name, "A stored connection (user@host:port) instead of a URL");
  capabilities->add_flag("--refresh", refresh, "Learn again even when the store has the server");

  LearnArgs learn_args;
  CLI::App* learn = app.add_subcommand(
      "learn", "Learn a server and its database schemas into the store (a new snapshot version when one changed)");
  learn->fallthrough();
  add_connection(learn);
  learn->add_option("--databases", learn_args.databases, "Databases to learn, comma-separated (instead of the URL's path)")
      ->delimiter(',');
  learn->add_flag("--all-databases", learn_args.all_databases, "Every database (the default when none is named)");
  learn->add_flag("--include-system", learn_args.include_system,
                  "With all databases: also information_schema, mysql, performance_schema and sys");

  std::string snapshot_output;
  CLI::App* snapshot =
      app.add_subcommand("snapshot", "Learn one database live and print its IR as canonical JSON with its profile hash");
  snapshot->fallthrough();
  add_connection(snapshot);
  snapshot->add_option("-o,--output", snapshot_output, "Write to FILE (atomically) instead of stdout");

  PlanDiffArgs plan_args;
  CLI::App* plan_diff =
      app.add_subcommand("plan-diff", "The plan from one schema to another (also spelled plan:diff)");
  plan_diff->fallthrough();
  plan_diff->add_option("--from", plan_args.from, "Starting schema: a snapshot file, a URL with the database, or a .sql file (with --dev-url)")
      ->required();
  plan_diff->add_option("--to", plan_args.to, "Desired schema: a snapshot file, a URL with the database, or a .sql file (with --dev-url)")->required();
  plan_diff->add_option("-o,--output", plan_args.output, "Write plan.json to FILE (atomically)");
  plan_diff->add_option("--rename", plan_args.column_renames, "A column rename: TABLE.OLD=NEW (never guessed)");
  plan_diff->add_option("--rename-table", plan_args.table_renames, "A table rename: OLD=NEW (never guessed)");
  plan_diff->add_option("--dev-url", plan_args.dev_url,
                        "Dev server where a .sql side runs in a scratch database (created and dropped)");

  // How online copies run: apply and migrations resume.
  auto add_online_options = [](CLI::App* sub, OnlineArgs& online) {
    sub->add_flag("--postpone-cutover", online.postpone_cutover,
                  "Online copies stop before their swap: `sqlx migrations cutover ID` finishes them");
    sub->add_option("--chunk-time", online.chunk_time, "Target seconds of one copied chunk (online copies)")
        ->check(CLI::Range(0.01, 60.0));
    sub->add_option("--max-threads-running", online.max_threads_running,
                    "Online copies wait while the server runs more threads (0: never)");
    sub->add_option("--replica", online.replicas,
                    "A replica whose lag throttles online copies: mysql://user@host[:port], or `discover` for "
                    "every replica the primary lists (repeatable; password from $SQLX_PASSWORD)")
        ->allow_extra_args(false);  // one URL per --replica: a following URL is the command's
    sub->add_option("--max-replica-lag", online.max_replica_lag,
                    "Online copies wait while a --replica is more seconds behind (or not replicating)")
        ->check(CLI::Range(0.0, 86400.0));
  };

  ApplyArgs apply_args;
  CLI::App* apply = app.add_subcommand(
      "apply", "Run plan.json on the live database: drift check, guardrails, pre-checks, each step audited");
  apply->fallthrough();
  apply->add_option("url", apply_args.connect.url,
                    "mysql://user@host[:port][/db] (default $SQLX_URL; the database defaults to the plan's)");
  apply->add_option("--db", apply_args.connect.db, "Database (instead of the URL's path; default: the plan's)");
  apply->add_option("--plan", apply_args.plan_file, "The plan (plan.json from `sqlx plan:diff -o`)")->required();
  apply->add_flag("--dry-run", apply_args.dry_run, "Learn, check drift, run the pre-checks and print; change nothing");
  apply->add_flag("--allow-destructive", apply_args.allow_destructive,
                  "Run operations that lose data or definitions (drops, narrowing, ENUM value removal)");
  apply->add_flag("--allow-blocking", apply_args.allow_blocking,
                  "Run operations that block writes (copy; online-copy where the table cannot be copied online)");
  add_online_options(apply, apply_args.online);

  MigrationsArgs mig_args;
  CLI::App* migrations = app.add_subcommand("migrations", "Online migrations: list, status, cutover, revert, finalize, resume");
  migrations->fallthrough();
  migrations->require_subcommand(1);
  migrations->add_option("--orchestrator", mig_args.orchestrator,
                          "list, status: a running orchestrator's migrations through its API (http(s)://HOST:PORT; "
                          "token in $SQLX_TOKEN)");
  migrations->add_option("--orchestrator-ca", mig_args.orchestrator_ca,
                          "CA (PEM) of an https orchestrator (default $SQLX_ORCHESTRATOR_CA)");
  migrations->add_subcommand("list", "Every online migration in the store")->fallthrough();
  for (const char* action : {"status", "cutover", "revert", "finalize", "resume"}) {
    static const std::map<std::string, std::string> kHelp = {
        {"status", "State, progress and ETA of one migration"},
        {"cutover", "Swap a copied migration's tables (atomic RENAME)"},
        {"revert", "Swap back after a cut-over, keeping the writes made since"},
        {"finalize", "Drop the old table (after a cut-over) or the copy (before one, or after a revert)"},
        {"resume", "Continue a paused or interrupted migration from its checkpoint"}};
    CLI::App* sub = migrations->add_subcommand(action, kHelp.at(action));
    sub->fallthrough();
    sub->add_option("id", mig_args.id, "The migration's id (sqlx migrations list)")->required();
    if (std::string(action) == "status") continue;
    sub->add_option("url", mig_args.connect.url, "mysql://user@host[:port] of the migration's server (default $SQLX_URL)");
    if (std::string(action) == "revert")
      sub->add_flag("--force", mig_args.force, "Revert even when rows written since the cut-over would be lost");
    if (std::string(action) == "resume") add_online_options(sub, mig_args.online);
  }

  AuditArgs audit_args;
  std::string keygen_out;
  CLI::App* audit = app.add_subcommand("audit", "Verify, export, prove and query the hash-chained audit log");
  audit->fallthrough();
  audit->require_subcommand(1);
  CLI::App* audit_keygen = audit->add_subcommand("keygen", "Create an Ed25519 signing key (FILE) and its public key (FILE.pub)");
  audit_keygen->fallthrough();
  audit_keygen->add_option("--out", keygen_out, "Where to write the private key (never overwritten)")->required();
  // verify, prune and repair trust only a key or checkpoint from outside the store.
  auto add_trust_anchors = [&audit_args](CLI::App* sub) {
    sub->add_option("--pubkey", audit_args.pubkey_file, "Trusted public key (PEM), kept outside the store");
    sub->add_option("--checkpoint", audit_args.checkpoint_files, "Trusted checkpoint exported by `audit head`")
        ->expected(0, 1);
  };
  CLI::App* audit_verify = audit->add_subcommand("verify", "Recompute every link and root; exit 3 on any damage");
  audit_verify->fallthrough();
  add_trust_anchors(audit_verify);
  CLI::App* audit_head = audit->add_subcommand("head", "Sign a checkpoint at the head and export it as JSON");
  audit_head->fallthrough();
  audit_head->add_option("-o,--output", audit_args.output, "Write to FILE (atomically) instead of stdout");
  CLI::App* audit_prove = audit->add_subcommand("prove", "Print an inclusion proof of SEQ, or a consistency proof");
  audit_prove->fallthrough();
  audit_prove->add_option("seq", audit_args.seq, "The event to prove");
  audit_prove->add_option("--consistency", audit_args.consistency, "Prove the log of A events is a prefix of B")
      ->expected(2);
  audit_prove->add_option("--checkpoint", audit_args.checkpoint_files, "Prove against this exported checkpoint's tree")
      ->expected(0, 1);
  audit_prove->add_option("-o,--output", audit_args.output, "Write to FILE (atomically) instead of stdout");
  CLI::App* audit_check = audit->add_subcommand("check-proof", "Check a proof offline against exported checkpoints");
  audit_check->fallthrough();
  audit_check->add_option("proof", audit_args.proof_file, "Proof file from `audit prove`")->required();
  audit_check->add_option("--checkpoint", audit_args.checkpoint_files, "Trusted checkpoint file (twice for consistency)");
  audit_check->add_option("--pubkey", audit_args.pubkey_file, "Trusted public key (PEM)");
  CLI::App* audit_query = audit->add_subcommand("query", "The forensic timeline: events matching every filter");
  audit_query->fallthrough();
  audit_query->add_option("--orchestrator", audit_args.orchestrator,
                           "Read a running orchestrator's log through its API (http(s)://HOST:PORT; token in $SQLX_TOKEN)");
  audit_query->add_option("--orchestrator-ca", audit_args.orchestrator_ca,
                          "CA (PEM) of an https orchestrator (default $SQLX_ORCHESTRATOR_CA)");
  audit_query->add_option("--since", audit_args.since, "From this time (RFC 3339, or -15m, -7d)");
  audit_query->add_option("--until", audit_args.until, "Before this time (RFC 3339, or relative)");
  audit_query->add_option("--db", audit_args.db, "Events on this database");
  audit_query->add_option("--object", audit_args.object, "Events on db[.table] or a connection user@host:port");
  audit_query->add_option("--actor", audit_args.actor, "OS user, service or token subject");
  audit_query->add_option("--action", audit_args.action, "Action name (ping, learn.finished, audit.verify, ...)");
  audit_query->add_option("--outcome", audit_args.outcome, "ok or failed")->check(CLI::IsMember({"ok", "failed"}));
  audit_query->add_option("--limit", audit_args.limit, "At most N events, the newest")->default_val(100);
  CLI::App* audit_prune = audit->add_subcommand("prune", "Verify, then prune events older than T to their leaf hash");
  audit_prune->fallthrough();
  audit_prune->add_option("--older-than", audit_args.older_than, "A period before now (90d, 12h, -7d) or RFC 3339 time")
      ->required();
  add_trust_anchors(audit_prune);
  CLI::App* audit_repair = audit->add_subcommand("repair", "Rebuild a damaged head record from the verified events");
  audit_repair->fallthrough();
  add_trust_anchors(audit_repair);

  // --- the cluster (docs/cluster.md) ---
  ClusterArgs cluster;
  auto add_bus = [&](CLI::App* cmd) {
    cmd->add_option("--nats", cluster.nats_url, "NATS server URL")->default_val("nats://127.0.0.1:4222");
    cmd->add_option("--subject-prefix", cluster.subject_prefix, "Prefix of the cluster's streams and subjects")
        ->default_val("sqlx");
    cmd->add_option("--secret-key", cluster.secret_key_file,
                    "The cluster key file (sqlx secret-key new), the same for orchestrator and workers")
        ->required();
  };
  CLI::App* orchestrator_cmd = app.add_subcommand(
      "orchestrator", "Run the orchestrator: the store, the audit chain, the job queue, schedules and the HTTP API");
  orchestrator_cmd->fallthrough();
  add_bus(orchestrator_cmd);
  orchestrator_cmd->add_option("--listen", cluster.listen, "HOST:PORT of the HTTP API (port 0: any free port)")
      ->default_val("127.0.0.1:8470");
  orchestrator_cmd->add_option("--tls-cert", cluster.tls_cert, "PEM certificate (chain): serve the API over HTTPS");
  orchestrator_cmd->add_option("--tls-key", cluster.tls_key, "PEM private key of --tls-cert");
  orchestrator_cmd->add_option("--admin-token-file", cluster.admin_token_file,
                               "Admin API token file: registered if present, created (0600) if absent");
  orchestrator_cmd->add_option("--job-ack-wait", cluster.job_ack_wait_s,
                               "Seconds without a heartbeat before a job goes to another worker")
      ->default_val(30);
  orchestrator_cmd->add_option("--job-max-deliver", cluster.job_max_deliver, "Deliveries of a job before it is dead")
      ->default_val(5);
  orchestrator_cmd->add_option("--audit-retention", cluster.audit_retention,
                               "Prune audit events older than this period to their hash (90d, 12h; default: keep all)");
  orchestrator_cmd->add_option("--audit-retention-every", cluster.audit_retention_every_s,
                               "Seconds between retention prunes, audit and jobs (the first at start)")
      ->default_val(3600);
  orchestrator_cmd->add_option("--job-retention", cluster.job_retention,
                               "Delete runs finished longer ago than this, with their jobs (30d; 0: keep all)")
      ->default_val("30d");
  CLI::App* worker_cmd =
      app.add_subcommand("worker", "Run a worker: pull jobs from the queue and run them through the actors");
  worker_cmd->fallthrough();
  add_bus(worker_cmd);
  worker_cmd->add_option("--concurrency", cluster.concurrency, "Jobs run at once")->default_val(1);
  worker_cmd->add_option("--name", cluster.worker_name, "Name in job status and audit events (default host:pid)");
  worker_cmd->add_option("--heartbeat", cluster.heartbeat_s, "Seconds between a running job's heartbeats")
      ->default_val(5);
  worker_cmd->add_option("--chunk-time", cluster.chunk_time, "Target seconds of one copied chunk (online copies)")
      ->check(CLI::Range(0.01, 60.0))
      ->default_val(0.5);
  worker_cmd->add_option("--max-threads-running", cluster.max_threads_running,
                         "Online copies wait while the server runs more threads (0: never)")
      ->default_val(50);
  std::string secret_key_out;
  CLI::App* secret_key_cmd = app.add_subcommand("secret-key", "The cluster key that seals connection passwords");
  secret_key_cmd->require_subcommand(1);
  CLI::App* secret_key_new = secret_key_cmd->add_subcommand("new", "Write a new cluster key to FILE (0600)");
  secret_key_new->fallthrough();
  secret_key_new->add_option("file", secret_key_out, "Where to write it (must not exist)")->required();

  std::vector<CLI::App*> client_cmds;
  auto client = [&](CLI::App* parent, const char* name, const char* help) {
    CLI::App* cmd = parent->add_subcommand(name, help);
    cmd->fallthrough();
    cmd->add_option("--orchestrator", cluster.orchestrator, "http(s)://HOST:PORT (default $SQLX_ORCHESTRATOR)");
    cmd->add_option("--orchestrator-ca", cluster.orchestrator_ca,
                    "CA (PEM) of an https orchestrator's certificate (default $SQLX_ORCHESTRATOR_CA, else the system's)");
    client_cmds.push_back(cmd);
    return cmd;
  };
  CLI::App* connections_cmd = app.add_subcommand("connections", "The fleet's connections, kept by the orchestrator");
  connections_cmd->require_subcommand(1);
  CLI::App* conn_add = client(connections_cmd, "add", "Add a connection (its password sealed by the orchestrator)");
  conn_add->add_option("name", cluster.name, "Its name: letters, digits, _ - .")->required();
  conn_add->add_option("url", cluster.url, "mysql://user@host:port (password from $SQLX_PASSWORD)")->required();
  conn_add->add_option("--tag", cluster.tags, "A tag (repeatable)");
  conn_add->add_flag("--no-password", cluster.no_password, "Connect without a password");
  client(connections_cmd, "list", "Every connection (no passwords)");
  CLI::App* conn_update = client(connections_cmd, "update", "Change a connection's URL, password or tags");
  conn_update->add_option("name", cluster.name, "The connection")->required();
  conn_update->add_option("--url", cluster.url, "A new URL (password from $SQLX_PASSWORD)");
  conn_update->add_option("--tag", cluster.tags, "Replace the tags (repeatable)");
  conn_update->add_flag("--no-password", cluster.no_password, "Forget the password");
  CLI::App* conn_remove = client(connections_cmd, "remove", "Remove a connection");
  conn_remove->add_option("name", cluster.name, "The connection")->required();
  CLI::App* fleet_cmd = app.add_subcommand("fleet", "Org-wide learning across the fleet's connections");
  fleet_cmd->require_subcommand(1);
  CLI::App* fleet_learn = client(fleet_cmd, "learn", "Learn every database of the chosen connections, on the workers");
  fleet_learn->add_option("--connections", cluster.connections, "all, or names a,b")->default_val("all");
  fleet_learn->add_flag("--wait", cluster.wait, "Wait for every job and print what was learned");
  fleet_learn->add_option("--timeout", cluster.wait_timeout_s, "Seconds --wait waits")->default_val(600);
  CLI::App* fleet_apply =
      client(fleet_cmd, "apply", "Run plan.json on one connection's database, on a worker under a lease");
  fleet_apply->add_option("--connection", cluster.name, "The connection (sqlx connections list)")->required();
  fleet_apply->add_option("--plan", cluster.plan_file, "plan.json (sqlx plan:diff -o)")->required();
  fleet_apply->add_option("--db", cluster.database, "The database (default: the plan's)");
  fleet_apply->add_flag("--dry-run", cluster.dry_run, "Check drift, consent and pre-checks; change nothing");
  fleet_apply->add_flag("--allow-destructive", cluster.allow_destructive, "Operations that drop data may run");
  fleet_apply->add_flag("--allow-blocking", cluster.allow_blocking, "Copies that block writes may run");
  fleet_apply->add_flag("--wait", cluster.wait, "Wait for the outcome (exit 1 unless applied)");
  fleet_apply->add_option("--timeout", cluster.wait_timeout_s, "Seconds --wait waits")->default_val(600);
  CLI::App* fleet_status = client(fleet_cmd, "status", "A learn run's jobs");
  fleet_status->add_option("run", cluster.run, "The run id (fleet learn printed it)")->required();
  fleet_status->add_flag("--wait", cluster.wait, "Wait until every job of the run has finished (exit 1 when one failed)");
  fleet_status->add_option("--timeout", cluster.wait_timeout_s, "Seconds --wait waits")->default_val(600);
  AddRolloutCommands(app, cluster, client);
  CLI::App* jobs_cmd = app.add_subcommand("jobs", "Jobs on the queue and what came of them");
  jobs_cmd->require_subcommand(1);
  CLI::App* jobs_list = client(jobs_cmd, "list", "Jobs, oldest first");
  jobs_list->add_option("--run", cluster.run, "Only this run's");
  jobs_list->add_option("--state", cluster.state, "queued, running, done, failed or dead")
      ->check(CLI::IsMember({"queued", "running", "done", "failed", "dead"}));
  jobs_list->add_option("--limit", cluster.limit, "At most this many")->default_val(1000);
  CLI::App* jobs_show = client(jobs_cmd, "show", "One job as JSON");
  jobs_show->add_option("id", cluster.id, "The job")->required();
  CLI::App* jobs_probe =
      client(jobs_cmd, "probe", "Check the queue: N probe jobs through the workers and back, no server involved");
  jobs_probe->add_option("--count", cluster.count, "Probe jobs to run")->required()->check(CLI::Range(1, 100000));
  jobs_probe->add_option("--payload-bytes", cluster.payload_bytes,
                         "Filler each probe job carries (incompressible; past NATS's max_payload it travels in chunks)")
      ->check(CLI::Range(uint64_t{0}, uint64_t{64} << 20));
  jobs_probe->add_flag("--wait", cluster.wait, "Wait for every result and print the jobs/s");
  jobs_probe->add_option("--timeout", cluster.wait_timeout_s, "Seconds --wait waits")->default_val(600);
  CLI::App* schedule_cmd = app.add_subcommand("schedule", "Cron schedules of org-wide learning");
  schedule_cmd->require_subcommand(1);
  CLI::App* schedule_add = client(schedule_cmd, "add", "Learn on a cron schedule (UTC)");
  schedule_add->add_option("--cron", cluster.cron, "Five-field cron expression, e.g. \"0 */6 * * *\"")->required();
  schedule_add->add_option("--connections", cluster.connections, "all, or names a,b")->default_val("all");
  client(schedule_cmd, "list", "Every schedule with its next and last run");
  CLI::App* schedule_remove = client(schedule_cmd, "remove", "Remove a schedule");
  schedule_remove->add_option("id", cluster.id, "The schedule")->required();
  CLI::App* tokens_cmd = app.add_subcommand("tokens", "API tokens of the orchestrator (admin only)");
  tokens_cmd->require_subcommand(1);
  CLI::App* tokens_create = client(tokens_cmd, "create", "A new token, printed once");
  tokens_create->add_option("--subject", cluster.subject, "Who holds it")->required();
  tokens_create->add_option("--role", cluster.role, "admin, operator or auditor")
      ->required()
      ->check(CLI::IsMember({"admin", "operator", "auditor"}));
  client(tokens_cmd, "list", "Every token's subject and role");

  try {
    std::vector<std::string> reversed(args.rbegin(), args.rend() - 1);
    app.parse(std::move(reversed));
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? kExitOk : kExitUsage;
  }
  SetUpLogging(verbosity);
  if (blanked) {
    spdlog::warn("a password was given in the URL; it was blanked from the process arguments, but "
                 "shell history may keep it: prefer SQLX_PASSWORD");
  }
  if (g.format == "tsv" && !query->parsed()) {
    std::cerr << "sqlx: error: --format tsv is only for `sqlx query`\n";
    return kExitUsage;
  }
  if (g.format == "csv" && !audit_query->parsed()) {
    std::cerr << "sqlx: error: --format csv is only for `sqlx audit query`\n";
    return kExitUsage;
  }
  if (g.format == "sql" && !snapshot->parsed() && !plan_diff->parsed()) {
    std::cerr << "sqlx: error: --format sql is only for `sqlx snapshot` and `sqlx plan:diff`\n";
    return kExitUsage;
  }
  if (audit_keygen->parsed()) return RunAuditKeygen(g, keygen_out);
  if (audit_verify->parsed()) return RunAuditVerify(g, audit_args);
  if (audit_head->parsed()) return RunAuditHead(g, audit_args);
  if (audit_prove->parsed()) {
    if ((audit_args.seq == 0) == audit_args.consistency.empty()) {
      std::cerr << "sqlx: error: give SEQ (1 or more) or --consistency A B\n";
      return kExitUsage;
    }
    return RunAuditProve(g, audit_args);
  }
  if (audit_check->parsed()) return RunAuditCheckProof(g, audit_args);
  if (audit_query->parsed()) return RunAuditQuery(g, audit_args);
  if (audit_prune->parsed()) return RunAuditPrune(g, audit_args);
  if (audit_repair->parsed()) return RunAuditRepair(g, audit_args);
  if (orchestrator_cmd->parsed()) return RunOrchestrator(g, cluster);
  if (worker_cmd->parsed()) return RunWorker(g, cluster);
  if (secret_key_new->parsed()) return RunSecretKeyNew(g, secret_key_out);
  for (CLI::App* cmd : client_cmds) {
    if (!cmd->parsed()) continue;
    cluster.action = cmd->get_parent()->get_name() + " " + cmd->get_name();
    return RunFleetClient(g, cluster);
  }
  if (ping->parsed()) return RunPing(g, conn);
  if (capabilities->parsed()) return RunCapabilities(g, conn, connection_name, refresh);
  if (learn->parsed()) return RunLearn(g, conn, learn_args);
  if (snapshot->parsed()) return RunSnapshot(g, conn, snapshot_output);
  if (plan_diff->parsed()) return RunPlanDiff(g, plan_args);
  if (apply->parsed()) return RunApply(g, apply_args);
  if (migrations->parsed()) {
    for (CLI::App* sub : migrations->get_subcommands()) mig_args.action = sub->get_name();
    return RunMigrations(g, mig_args);
  }
  if (query->parsed()) {
    // `sqlx query URL` lacks the SQL: it must not send the URL (and its
    // password) to $SQLX_URL's server as SQL.
    if (query_args.size() == 1 && LooksLikeUrl(query_args.front())) {
      std::cerr << "sqlx: error: missing the SQL to run: sqlx query URL \"SQL\"\n";
      return kExitUsage;
    }
    std::string sql = query_args.back();
    if (query_args.size() == 2) conn.url = query_args.front();
    return RunQuery(g, conn, sql);
  }
  return kExitUsage;
}
