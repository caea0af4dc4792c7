// What the apply actor has run on a connection's session: the injected
// PlanRunner (plan_runner.h) over an ApplyPlanJob, and the job as bytes.
#pragma once

#include <string>
#include <string_view>

#include "job_buffer.h"
#include "sqlx/actors/plan_runner.h"
#include "sqlx/messages/result.h"

namespace sqlx::actors {

// The ApplyPlanJob table of `request`, built in `b` (for an envelope).
flatbuffers::Offset<fb::jobs::ApplyPlanJob> ApplyPlanJobBody(flatbuffers::FlatBufferBuilder& b,
                                                             const ApplyRequest& request);

// An ApplyPlanJob envelope (attempt 1).
std::string ApplyPlanJob(std::string_view job_id, const ApplyRequest& request);

// `runner` on `session`: an ApplyReport envelope with the job's id and
// attempt. REQUIRES: Verify(kApplyPlanJob, job) passed; `runner` set.
Result<std::string> ApplyOn(transports::Session& session, const transports::ConnectionUrl& url, std::string_view job,
                            const PlanRunner& runner);

// A MigrationJob envelope (attempt 1).
std::string MigrationJob(std::string_view job_id, const MigrationRequest& request);

// `runner` on `session`: a MigrationReport envelope with the job's id and
// attempt. REQUIRES: Verify(kMigrationJob, job) passed; `runner` set.
Result<std::string> MigrateOn(transports::Session& session, const transports::ConnectionUrl& url, std::string_view job,
                              const MigrationRunner& runner);

// REQUIRES: Verify(kMigrationReport, bytes) passed.
MigrationOutcome ReadMigrationReport(std::string_view verified);

}  // namespace sqlx::actors
