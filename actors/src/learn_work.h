// What the learner has run on a connection's session (flo over the
// connection actor's one Session), and the learn jobs as bytes. The
// connection actor calls these on its own thread, one command at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sqlx/actors/system.h"
#include "sqlx/messages/result.h"
#include "sqlx/transports/session.h"
#include "sqlx/transports/url.h"

namespace sqlx::actors {

// A LearnServerJob envelope (attempt 1); `store`: the snapshot actor stores
// the result as the connection's record.
std::string LearnServerJob(std::string_view job_id, std::string_view fingerprint_salt, bool store = false);
// A LearnDatabaseJob envelope (attempt 1) with the request's fields.
std::string LearnDatabaseJob(std::string_view job_id, const LearnRequest& request);

// Gives the learn a second session to split its catalog queries over
// (flo::LearnDatabaseOptions::helper_session); called once per job, after
// the server and the database list were read, so that the second session's
// connect overlaps them. Null, or returning null: one session.
using HelperSession = std::function<transports::Session*()>;

// flo::LearnServer on `session`: a LearnedServer envelope with the job's id
// and attempt. REQUIRES: Verify(kLearnServerJob, job) passed.
Result<std::string> LearnServerOn(transports::Session& session, const transports::ConnectionUrl& url,
                                  std::string_view job);
// flo::LearnDatabases on `session`: a LearnedDatabases envelope, each
// database's IR as a nested SQIR buffer (ir::ToFlatBuffer). A database the
// server does not show is an entry with its error, as flo reports it.
// With learn_server, the server is learned first (without a fingerprint:
// the snapshot actor adds it with its store's salt) and carried as the
// result's `server`. REQUIRES: Verify(kLearnDatabaseJob, job) passed.
// `progress` (may be empty) hears each step.
Result<std::string> LearnDatabasesOn(transports::Session& session, const HelperSession& helper,
                                     const transports::ConnectionUrl& url, std::string_view job,
                                     const std::function<void(const LearnStep&)>& progress);

}  // namespace sqlx::actors
