// The connection actor's ping (jobs.fbs PingJob / PingReport), as bytes:
// `sqlx ping` through the actors.
#pragma once

#include <string>
#include <string_view>

#include "sqlx/actors/system.h"
#include "sqlx/messages/result.h"
#include "sqlx/transports/session.h"

namespace sqlx::actors {

std::string PingJob(std::string_view job_id, bool fresh);
// REQUIRES: Verify(kPingJob, job) passed.
bool ReadPingFresh(std::string_view verified);

// Pings the server on `session` and reports the session: a PingReport
// envelope for `job_id`.
Result<std::string> PingOn(transports::Session& session, const transports::ConnectionUrl& url, std::string_view job_id);

// REQUIRES: Verify(kPingReport, bytes) passed.
PingResult ReadPingReport(std::string_view verified);

}  // namespace sqlx::actors
