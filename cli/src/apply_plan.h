// Driver::Apply's body: one plan run on one session (docs/cli.md, sqlx
// apply): drift, consent, pre-checks, the operations with their audit
// events, the re-learn and hash check, the reverse plan on failure.
#pragma once

#include "sqlx/apply.h"
#include "sqlx/messages/result.h"
#include "sqlx/planner/plan.h"
#include "sqlx/transports/session.h"
#include "sqlx/transports/url.h"

namespace sqlx {

// Runs `plan` on the database options.database names (else url.database,
// else plan.database) over `session`, which it leaves with that database as
// its default. Outcomes (drift, refusal, a failed operation, ...) are the
// report's `result`; an Error is returned only when the run could not be
// carried out (a learn or a pre-check query failed, the session broke).
// REQUIRES: no stream open on `session`.
Result<ApplyReport> ApplyPlan(transports::Session& session, const transports::ConnectionUrl& url,
                              const planner::Plan& plan, const ApplyOptions& options);

}  // namespace sqlx
