// ApplyReport's names and its one JSON form (sqlx/apply.h).
#include <set>

#include <nlohmann/json.hpp>

#include "sqlx/apply.h"

namespace sqlx {

const char* ApplyResultName(ApplyResult result) {
  switch (result) {
    case ApplyResult::kNothingToDo: return "nothing-to-do";
    case ApplyResult::kApplied: return "applied";
    case ApplyResult::kAlreadyApplied: return "already-applied";
    case ApplyResult::kDrift: return "drift";
    case ApplyResult::kRefused: return "refused";
    case ApplyResult::kFailed: return "failed";
    case ApplyResult::kHashMismatch: return "hash-mismatch";
    case ApplyResult::kWouldApply: return "would-apply";
    case ApplyResult::kWouldRefuse: return "would-refuse";
    case ApplyResult::kCopied: return "copied";
    case ApplyResult::kPaused: return "paused";
  }
  return "unknown";
}

bool ApplyReport::checks_passed() const {
  if (!refusals.empty()) return false;
  for (const PreCheckCount& check : prechecks)
    if (check.count > 0) return false;
  return true;
}

std::string ApplyReportToJson(const ApplyReport& report, int indent) {
  using nlohmann::json;
  json out = {{"database", report.database}, {"plan", report.plan_name},   {"from_hash", report.from_hash},
              {"to_hash", report.to_hash},   {"dry_run", report.dry_run}, {"result", ApplyResultName(report.result)}};
  const bool before_checks = report.result == ApplyResult::kDrift || report.result == ApplyResult::kAlreadyApplied;
  if (before_checks) {
    out["live_hash"] = report.live_hash;
    out["drift"] = report.drift;
  } else if (report.result != ApplyResult::kNothingToDo) {
    out["empty_tables"] = std::set<std::string>(report.empty_tables.begin(), report.empty_tables.end());
    out["refusals"] = report.refusals;
    json prechecks = json::array();
    for (const PreCheckCount& c : report.prechecks)
      prechecks.push_back({{"operation", c.operation}, {"what", c.what}, {"sql", c.sql}, {"count", c.count}});
    out["prechecks"] = std::move(prechecks);
    out["online"] = report.online;
  }
  const bool ran = report.result == ApplyResult::kFailed || report.result == ApplyResult::kApplied ||
                   report.result == ApplyResult::kHashMismatch || report.result == ApplyResult::kCopied ||
                   report.result == ApplyResult::kPaused;
  if (ran || !report.migrations.empty()) {
    json migrations = json::array();
    for (const MigrationOutcome& m : report.migrations)
      migrations.push_back({{"operation", m.operation}, {"id", m.id}, {"table", m.table}, {"phase", m.phase},
                            {"rows_copied", m.rows_copied}});
    out["migrations"] = std::move(migrations);
  }
  if (report.result == ApplyResult::kPaused) out["error"] = report.error ? report.error->ToString() : "";
  if (ran) {
    json ids = json::array();
    for (const AppliedOperation& op : report.applied) ids.push_back(op.id);
    out["applied"] = std::move(ids);
  }
  if (report.result == ApplyResult::kFailed) {
    out["failed_operation"] = report.failed_operation;
    out["error"] = report.error ? report.error->ToString() : "";
    out["reverse_plan"] = report.reverse_plan_file;
  } else if (ran) {
    out["live_hash"] = report.live_hash;
  }
  return out.dump(indent);
}

}  // namespace sqlx
