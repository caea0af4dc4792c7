// What the apply actor needs and cannot link: running a plan over a session
// is the driver's (cli/, sqlx::driver: ApplyPlan), and cli/ sits above
// actors/ (docs/architecture.md). So actors/ declares the function it calls
// and the caller that links the driver passes it in (SystemOptions), as
// planner/ declares the interfaces it needs.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "sqlx/messages/result.h"
#include "sqlx/transports/session.h"
#include "sqlx/transports/url.h"

namespace sqlx::actors {

// An ApplyPlanJob's fields (jobs.fbs) as the runner gets them.
struct ApplyRequest {
  std::string database;   // empty: the URL's, else the plan's
  std::string plan_json;  // docs/formats/plan.md
  bool dry_run = false;
  bool allow_destructive = false;
  bool allow_blocking = false;
  // Checked before each operation that changes the server (the driver's
  // ApplyOptions::before_change): a worker's lease. Not part of the job's
  // bytes: RunEnvelope's hooks set it. Default: none.
  std::function<Status()> before_change;
};

// What the run ended with: the fields of jobs.fbs's ApplyReport.
struct ApplySummary {
  std::string database;
  std::string result;  // ApplyResultName: "applied", "drift", ...
  std::string from_hash, to_hash, live_hash;
  uint32_t applied = 0;
  int failed_operation = 0;
  std::string report_json;  // ApplyReportToJson
};

// Runs a plan over `session` (the connection actor's, on its thread). An
// Error only when the run could not be carried out; outcomes are `result`.
using PlanRunner = std::function<Result<ApplySummary>(transports::Session& session,
                                                      const transports::ConnectionUrl& url,
                                                      const ApplyRequest& request)>;

}  // namespace sqlx::actors
