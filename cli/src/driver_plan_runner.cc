#include "driver_plan_runner.h"

#include "apply_plan.h"
#include "sqlx/planner/plan.h"

namespace sqlx::cli {

actors::PlanRunner DriverPlanRunner(ApplyOptions base, std::function<void(const ApplyReport&)> keep) {
  return [base = std::move(base), keep = std::move(keep)](
             transports::Session& session, const transports::ConnectionUrl& url,
             const actors::ApplyRequest& request) -> Result<actors::ApplySummary> {
    SQLX_ASSIGN_OR_RETURN(planner::Plan plan, planner::PlanFromJson(request.plan_json));
    ApplyOptions options = base;
    options.database = request.database;
    options.dry_run = request.dry_run;
    options.allow_destructive = request.allow_destructive;
    options.allow_blocking = request.allow_blocking;
    if (request.before_change) options.before_change = request.before_change;
    SQLX_ASSIGN_OR_RETURN(ApplyReport report, ApplyPlan(session, url, plan, options));
    if (keep) keep(report);
    return actors::ApplySummary{report.database,  std::string(ApplyResultName(report.result)),
                                report.from_hash, report.to_hash,
                                report.live_hash, static_cast<uint32_t>(report.applied.size()),
                                report.failed_operation, ApplyReportToJson(report)};
  };
}

}  // namespace sqlx::cli
