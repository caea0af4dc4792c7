// `sqlx rollout ...`'s options and subcommands (main.cc registers them here;
// rollout_client.cc runs them; docs/rollouts.md).
#include <CLI/CLI.hpp>

#include <utility>

#include "commands.h"

namespace sqlx::cli {

void AddRolloutCommands(CLI::App& app, ClusterArgs& cluster, const ClientCommand& client) {
  CLI::App* rollout_cmd = app.add_subcommand("rollout", "Roll a schema change out across the fleet in waves");
  rollout_cmd->require_subcommand(1);
  CLI::App* rollout_create =
      client(rollout_cmd, "create", "Apply a desired schema to the chosen databases: a canary, then waves");
  rollout_create->add_option("--to", cluster.desired_file, "The desired schema: a snapshot (.json) or a .sql script")
      ->required();
  rollout_create->add_option("--dev-url", cluster.dev_url, "The server a .sql --to is learned on");
  rollout_create->add_option("--targets", cluster.targets, "all, name:CONN or tag:TAG, each optionally /DB_GLOB (repeatable)")
      ->required();
  rollout_create->add_option("--canary", cluster.canary, "Databases in the canary wave (0: none)")->default_val(0);
  rollout_create->add_option("--waves", cluster.waves, "The waves after the canary: 10%,50%,100% or counts 2,5");
  rollout_create->add_option("--gate", cluster.gate, "Between waves: health, approval or wait:DURATION")
      ->default_val("health");
  rollout_create->add_option("--failure-budget", cluster.failure_budget,
                             "Failed or held targets a wave may have and still pass")
      ->default_val(0);
  rollout_create->add_option("--per-server", cluster.per_server, "Apply jobs at once on one server")->default_val(1);
  rollout_create->add_option("--max-threads-running", cluster.gate_threads_running,
                             "Health gate: a wave fails when a server's Threads_running went above N during an "
                             "apply of it (the rollout pauses; 0: not checked)")
      ->default_val(0);
  rollout_create->add_option("--max-replica-lag", cluster.gate_replica_lag_s,
                             "Health gate: a wave fails when a replica of a server was more SECONDS behind during an "
                             "apply, or its lag could not be read (default: not checked)")
      ->check(CLI::NonNegativeNumber);
  rollout_create->add_option("--cutover-window", cluster.cutover_window,
                             "Online copies cut over only within HH:MM-HH:MM (UTC; 22:00-02:00 wraps midnight); a "
                             "copy done outside it waits, capturing changes (default: any time)");
  rollout_create->add_option("--cutover", cluster.cutover,
                             "each: a target cuts over when its copy is done; together: once every copy of its wave "
                             "is done, the wave cuts over together")
      ->check(CLI::IsMember({"each", "together"}))
      ->default_val("each");
  rollout_create->add_flag("--allow-destructive", cluster.allow_destructive, "Operations that drop data may run");
  rollout_create->add_flag("--allow-blocking", cluster.allow_blocking, "Copies that block writes may run");
  client(rollout_cmd, "list", "Every rollout with its state");
  const std::pair<const char*, const char*> rollout_verbs[] = {
      {"status", "A rollout and its targets"},
      {"pause", "Start nothing new (jobs in flight finish)"},
      {"resume", "Go on; a paused wave's failed and held targets are tried again"},
      {"abort", "Stop for good (revert undoes what was applied)"},
      {"revert", "Revert every applied target, newest first"},
      {"approve", "Pass an approval gate: the next wave starts"}};
  for (const auto& [verb, help] : rollout_verbs) {
    CLI::App* cmd = client(rollout_cmd, verb, help);
    cmd->add_option("id", cluster.id, "The rollout (rollout create printed it)")->required();
  }
  CLI::App* window = client(rollout_cmd, "window",
                            "Change when its online copies cut over: HH:MM-HH:MM (UTC), or `any` for any time");
  window->add_option("id", cluster.id, "The rollout (rollout create printed it)")->required();
  window->add_option("window", cluster.cutover_window, "HH:MM-HH:MM (UTC; 22:00-02:00 wraps midnight) or any")
      ->required();
  for (CLI::App* cmd : rollout_cmd->get_subcommands([](CLI::App* sub) { return sub->get_name() != "list"; })) {
    cmd->add_flag("--wait", cluster.wait,
                  "Wait until it settles: exit 1 if it ends paused or aborted, 4 if its copies wait for the "
                  "cut-over window");
    cmd->add_option("--timeout", cluster.wait_timeout_s, "Seconds --wait waits")->default_val(600);
  }
  rollout_cmd->get_subcommand("status")
      ->add_flag("--watch", cluster.watch,
                 "Redraw until it needs a person or ends: exit 0 completed or reverted, 1 paused or aborted, 3 "
                 "waiting for approval, 4 waiting for the cut-over window")
      ->excludes("--wait");
}

}  // namespace sqlx::cli
