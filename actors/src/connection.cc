// The connection actor (spawn.h).
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <memory>

#include "envelope.h"
#include "learn_work.h"
#include "spawn.h"

namespace sqlx::actors {
namespace {

struct ConnectionState {
  transports::ConnectionUrl url;
  transports::SessionOptions options;
  std::unique_ptr<transports::Session> session;
  static inline const char* name = "sqlx.connection";
};

Envelope Run(ConnectionState& st, const Envelope& e) {
  auto header = Accept(e, "connection", {jobs::Kind::kLearnServerJob, jobs::Kind::kLearnDatabaseJob});
  if (!header.ok()) return ErrorReply("", 0, header.error(), false);
  if (st.session == nullptr || !st.session->usable()) {
    st.session.reset();
    auto opened = transports::Session::Open(st.url, st.options);
    if (!opened.ok()) return ErrorReply(*header, opened.error());
    st.session = std::move(opened).value();
  }
  Result<std::string> out = header->kind == jobs::Kind::kLearnServerJob
                                ? LearnServerOn(*st.session, st.url, e.view())
                                : LearnDatabasesOn(*st.session, st.url, e.view());
  if (!out.ok()) {
    spdlog::debug("connection {}: job {} failed: {}", st.url.ConnectionName(), header->job_id,
                  out.error().ToString());
    return ErrorReply(*header, out.error());
  }
  const auto kind =
      header->kind == jobs::Kind::kLearnServerJob ? jobs::Kind::kLearnedServer : jobs::Kind::kLearnedDatabases;
  return MakeEnvelope(kind, *out);
}

caf::behavior Connection(caf::stateful_actor<ConnectionState>* self, transports::ConnectionUrl url,
                         transports::SessionOptions options) {
  self->state.url = std::move(url);
  self->state.options = std::move(options);
  return {
      [self](Envelope& e) -> Envelope { return Run(self->state, e); },
  };
}

}  // namespace

caf::actor SpawnConnection(caf::actor_system& sys, const transports::ConnectionUrl& url,
                           const transports::SessionOptions& options) {
  return sys.spawn<caf::detached>(Connection, url, options);
}

}  // namespace sqlx::actors
