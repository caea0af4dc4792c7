// The connection actor (spawn.h).
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <future>
#include <memory>

#include "apply_work.h"
#include "envelope.h"
#include "learn_work.h"
#include "spawn.h"

namespace sqlx::actors {
namespace {

using OpenedSession = Result<std::unique_ptr<transports::Session>>;

struct ConnectionState {
  ConnectionConfig config;  // an empty plan runner: ApplyPlanJob is refused
  std::unique_ptr<transports::Session> session;
  // The second session of learn jobs (learn_sessions 2): opened beside the
  // first, kept for the next job while usable.
  std::unique_ptr<transports::Session> helper;
  std::future<OpenedSession> helper_opening;
  static inline const char* name = "sqlx.connection";
};

// Starts opening the helper session on a thread of its own, unless one is
// open and usable or on its way.
void StartHelper(ConnectionState& st) {
  if (st.helper != nullptr && st.helper->usable()) return;
  if (st.helper_opening.valid()) return;
  st.helper.reset();
  st.helper_opening = std::async(std::launch::async, [url = st.config.url, options = st.config.session] {
    return transports::Session::Open(url, options);
  });
}

// The helper session once open; null when it could not be (the learn then
// runs on one session).
transports::Session* Helper(ConnectionState& st) {
  if (st.helper_opening.valid()) {
    OpenedSession opened = st.helper_opening.get();
    if (opened.ok()) {
      st.helper = std::move(opened).value();
    } else {
      spdlog::debug("connection {}: learning on one session: a second one failed: {}", st.config.url.ConnectionName(),
                    opened.error().ToString());
    }
  }
  return st.helper != nullptr && st.helper->usable() ? st.helper.get() : nullptr;
}

// The result kind of each job kind the connection runs.
jobs::Kind ResultKind(jobs::Kind job) {
  switch (job) {
    case jobs::Kind::kLearnServerJob:
      return jobs::Kind::kLearnedServer;
    case jobs::Kind::kLearnDatabaseJob:
      return jobs::Kind::kLearnedDatabases;
    default:
      return jobs::Kind::kApplyReport;
  }
}

Result<std::string> RunOnSession(ConnectionState& st, jobs::Kind kind, std::string_view job) {
  switch (kind) {
    case jobs::Kind::kLearnServerJob:
      return LearnServerOn(*st.session, st.config.url, job);
    case jobs::Kind::kLearnDatabaseJob: {
      HelperSession helper;
      if (st.config.learn_sessions >= 2) helper = [&st] { return Helper(st); };
      return LearnDatabasesOn(*st.session, helper, st.config.url, job, st.config.on_learn_progress);
    }
    default:
      return ApplyOn(*st.session, st.config.url, job, st.config.plan_runner);
  }
}

Envelope Run(ConnectionState& st, const Envelope& e) {
  auto header = Accept(e, "connection",
                       {jobs::Kind::kLearnServerJob, jobs::Kind::kLearnDatabaseJob, jobs::Kind::kApplyPlanJob});
  if (!header.ok()) return ErrorReply("", 0, header.error(), false);
  if (header->kind == jobs::Kind::kApplyPlanJob && !st.config.plan_runner) {
    return ErrorReply(*header, MakeError(ErrorCode::kUnsupported,
                                         "this actor system was started without a plan runner: it cannot apply plans"));
  }
  // The second session's connect runs beside the first's (and the server's
  // probes).
  if (header->kind == jobs::Kind::kLearnDatabaseJob && st.config.learn_sessions >= 2) StartHelper(st);
  if (st.session == nullptr || !st.session->usable()) {
    st.session.reset();
    auto opened = transports::Session::Open(st.config.url, st.config.session);
    if (!opened.ok()) return ErrorReply(*header, opened.error());
    st.session = std::move(opened).value();
  }
  Result<std::string> out = RunOnSession(st, header->kind, e.view());
  if (!out.ok()) {
    spdlog::debug("connection {}: job {} failed: {}", st.config.url.ConnectionName(), header->job_id,
                  out.error().ToString());
    return ErrorReply(*header, out.error());
  }
  return MakeEnvelope(ResultKind(header->kind), *out);
}

caf::behavior Connection(caf::stateful_actor<ConnectionState>* self, ConnectionConfig config) {
  self->state.config = std::move(config);
  return {
      [self](Envelope& e) -> Envelope { return Run(self->state, e); },
  };
}

}  // namespace

caf::actor SpawnConnection(caf::actor_system& sys, const ConnectionConfig& config) {
  return sys.spawn<caf::detached>(Connection, config);
}

}  // namespace sqlx::actors
