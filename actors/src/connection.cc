// The connection actor (spawn.h).
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <memory>

#include "apply_work.h"
#include "envelope.h"
#include "learn_work.h"
#include "spawn.h"

namespace sqlx::actors {
namespace {

struct ConnectionState {
  transports::ConnectionUrl url;
  transports::SessionOptions options;
  PlanRunner plan_runner;  // empty: ApplyPlanJob is refused
  std::unique_ptr<transports::Session> session;
  static inline const char* name = "sqlx.connection";
};

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
      return LearnServerOn(*st.session, st.url, job);
    case jobs::Kind::kLearnDatabaseJob:
      return LearnDatabasesOn(*st.session, st.url, job);
    default:
      return ApplyOn(*st.session, st.url, job, st.plan_runner);
  }
}

Envelope Run(ConnectionState& st, const Envelope& e) {
  auto header = Accept(e, "connection",
                       {jobs::Kind::kLearnServerJob, jobs::Kind::kLearnDatabaseJob, jobs::Kind::kApplyPlanJob});
  if (!header.ok()) return ErrorReply("", 0, header.error(), false);
  if (header->kind == jobs::Kind::kApplyPlanJob && !st.plan_runner) {
    return ErrorReply(*header, MakeError(ErrorCode::kUnsupported,
                                         "this actor system was started without a plan runner: it cannot apply plans"));
  }
  if (st.session == nullptr || !st.session->usable()) {
    st.session.reset();
    auto opened = transports::Session::Open(st.url, st.options);
    if (!opened.ok()) return ErrorReply(*header, opened.error());
    st.session = std::move(opened).value();
  }
  Result<std::string> out = RunOnSession(st, header->kind, e.view());
  if (!out.ok()) {
    spdlog::debug("connection {}: job {} failed: {}", st.url.ConnectionName(), header->job_id,
                  out.error().ToString());
    return ErrorReply(*header, out.error());
  }
  return MakeEnvelope(ResultKind(header->kind), *out);
}

caf::behavior Connection(caf::stateful_actor<ConnectionState>* self, transports::ConnectionUrl url,
                         transports::SessionOptions options, PlanRunner plan_runner) {
  self->state.url = std::move(url);
  self->state.options = std::move(options);
  self->state.plan_runner = std::move(plan_runner);
  return {
      [self](Envelope& e) -> Envelope { return Run(self->state, e); },
  };
}

}  // namespace

caf::actor SpawnConnection(caf::actor_system& sys, const transports::ConnectionUrl& url,
                           const transports::SessionOptions& options, const PlanRunner& plan_runner) {
  return sys.spawn<caf::detached>(Connection, url, options, plan_runner);
}

}  // namespace sqlx::actors
