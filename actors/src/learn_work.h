// What the learner has run on a connection's session (flo over the
// connection actor's one Session), and the learn jobs as bytes. The
// connection actor calls these on its own thread, one command at a time.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sqlx/messages/result.h"
#include "sqlx/transports/session.h"
#include "sqlx/transports/url.h"

namespace sqlx::actors {

// A LearnServerJob envelope (attempt 1).
std::string LearnServerJob(std::string_view job_id, std::string_view fingerprint_salt);
// A LearnDatabaseJob envelope (attempt 1); `store`: the snapshot actor stores the result.
std::string LearnDatabaseJob(std::string_view job_id, const std::vector<std::string>& databases, bool store);

// flo::LearnServer on `session`: a LearnedServer envelope with the job's id
// and attempt. REQUIRES: Verify(kLearnServerJob, job) passed.
Result<std::string> LearnServerOn(transports::Session& session, const transports::ConnectionUrl& url,
                                  std::string_view job);
// flo::LearnDatabases on `session`: a LearnedDatabases envelope, each
// database's IR as a nested SQIR buffer (ir::ToFlatBuffer). A database the
// server does not show is an entry with its error, as flo reports it.
// REQUIRES: Verify(kLearnDatabaseJob, job) passed.
Result<std::string> LearnDatabasesOn(transports::Session& session, const transports::ConnectionUrl& url,
                                     std::string_view job);

}  // namespace sqlx::actors
