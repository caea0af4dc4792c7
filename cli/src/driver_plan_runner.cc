#include "driver_plan_runner.h"

#include <optional>

#include "apply_plan.h"
#include "sqlx/planner/online.h"
#include "sqlx/planner/plan.h"

namespace sqlx::cli {

namespace {

// Samples `sampler` after each operation and each online-copy chunk (or
// second throttled), besides what `options` did then already.
void SampleDuring(ApplyOptions& options, transports::Session& session, ServerHealthSampler& sampler) {
  options.on_progress = [&session, &sampler, then = std::move(options.on_progress)](const ApplyReport& report) {
    sampler.Sample(session);
    if (then) then(report);
  };
  options.on_migration_progress = [&session, &sampler, then = std::move(options.on_migration_progress)](
                                      const planner::MigrationState& state, double rows_per_second,
                                      std::string_view throttled) {
    sampler.Sample(session);
    if (then) then(state, rows_per_second, throttled);
  };
}

}  // namespace

actors::PlanRunner DriverPlanRunner(ApplyOptions base, std::function<void(const ApplyReport&)> keep,
                                    ReplicaOpener replicas) {
  return [base = std::move(base), keep = std::move(keep), replicas = std::move(replicas)](
             transports::Session& session, const transports::ConnectionUrl& url,
             const actors::ApplyRequest& request) -> Result<actors::ApplySummary> {
    SQLX_ASSIGN_OR_RETURN(planner::Plan plan, planner::PlanFromJson(request.plan_json));
    ApplyOptions options = base;
    options.database = request.database;
    options.dry_run = request.dry_run;
    options.allow_destructive = request.allow_destructive;
    options.allow_blocking = request.allow_blocking;
    options.online.postpone_cutover = options.online.postpone_cutover || request.postpone_cutover;
    options.migration_action = request.migration_action;
    options.migrations = request.migrations;
    options.cutover_before_ns = request.cutover_before_ns;
    // A worker's hooks: its lease, its online copies' checkpoints and its
    // audit events go to the orchestrator, and a migration an earlier
    // delivery left unfinished is continued from its checkpoint.
    const actors::ApplyHooks& hooks = request.hooks;
    if (hooks.before_change) options.before_change = hooks.before_change;
    if (hooks.audit != nullptr) options.audit = hooks.audit;
    if (hooks.checkpoint) {
      options.checkpoint = [send = hooks.checkpoint](const planner::MigrationState& state) {
        return send(planner::MigrationToJson(state));
      };
    }
    for (const std::string& earlier : hooks.resume) {
      SQLX_ASSIGN_OR_RETURN(planner::MigrationState state, planner::MigrationFromJson(earlier));
      options.resume.push_back(std::move(state));
    }
    // The engine's second session (indexes built beside an online copy)
    // is reached as the job's server is.
    if (replicas && !options.online.open_session)
      options.online.open_session = [&replicas, &url] { return replicas(url); };
    std::optional<ServerHealthSampler> sampler;
    if (replicas) {
      sampler.emplace(url, replicas);
      sampler->Start(session);
      SampleDuring(options, session, *sampler);
    }
    SQLX_ASSIGN_OR_RETURN(ApplyReport report, ApplyPlan(session, url, plan, options));
    if (keep) keep(report);
    actors::ApplySummary summary{report.database,  std::string(ApplyResultName(report.result)),
                                 report.from_hash, report.to_hash,
                                 report.live_hash, static_cast<uint32_t>(report.applied.size()),
                                 report.failed_operation, ApplyReportToJson(report)};
    if (sampler) {
      if (session.usable()) sampler->Sample(session);
      summary.health = sampler->health();
    }
    return summary;
  };
}

}  // namespace sqlx::cli
