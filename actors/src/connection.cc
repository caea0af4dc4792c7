// The connection actor (spawn.h).
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <future>
#include <memory>
#include <optional>

#include "apply_work.h"
#include "envelope.h"
#include "learn_work.h"
#include "ping_work.h"
#include "query_work.h"
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
  // The query being streamed (QueryJob): while it is open the actor takes
  // only its QueryNext messages; other jobs wait in the mailbox.
  std::optional<OpenQuery> query;
  static inline const char* name = "sqlx.connection";

  ConnectionState() = default;
  ConnectionState(const ConnectionState&) = delete;
  ConnectionState& operator=(const ConnectionState&) = delete;
  // An actor ended mid-query closes its socket instead of reading the rest
  // of the results (the stream's destructor would drain them).
  ~ConnectionState() {
    if (query && session) session->Close();
  }
};

using Self = caf::stateful_actor<ConnectionState>;

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

// Opens the session when there is none or it is no longer usable.
Status EnsureSession(ConnectionState& st) {
  if (st.session != nullptr && st.session->usable()) return Status::Ok();
  st.session.reset();
  SQLX_ASSIGN_OR_RETURN(st.session, transports::Session::Open(st.config.url, st.config.session));
  return Status::Ok();
}

// Ends the open query. `drop_session`: the results are not read to their
// end; the session is closed (the server stops sending) and opened again by
// the next job.
void EndQuery(Self* self, bool drop_session) {
  ConnectionState& st = self->state;
  if (drop_session && st.session != nullptr) st.session->Close();
  st.query.reset();
  if (drop_session || (st.session != nullptr && !st.session->usable())) st.session.reset();
  self->unbecome();
}

// Runs `work` for a job asked directly, outside a supervisor (queries,
// pings, migration actions): an exception is the job's Error answer, since
// no supervisor watches for the actor's exit and its asker would wait on;
// a query it left open is closed (its session dropped).
template <class Work>
Envelope Answering(Self* self, const jobs::Header& header, Work&& work) {
  std::string what;
  try {
    return work();
  } catch (const std::exception& ex) {
    what = ex.what();
  } catch (...) {
    what = "an unknown exception";
  }
  if (self->state.query) EndQuery(self, true);
  return ErrorReply(header, MakeError(ErrorCode::kInternal, "the connection actor failed: " + what));
}

// The open query's next step as the answer; the query ends with its last
// step or an error.
Envelope NextStep(Self* self, const jobs::Header& header) {
  bool end = false;
  auto step = self->state.query->Step(&end);
  if (!step.ok()) {
    EndQuery(self, false);
    return ErrorReply(header, step.error());
  }
  if (end) EndQuery(self, false);
  return Envelope{static_cast<uint16_t>(jobs::Kind::kQueryRows), std::move(step).value()};
}

caf::behavior Streaming(Self* self, std::chrono::milliseconds idle);

// QueryJob: runs the SQL and answers its first step; while steps remain the
// actor streams (Streaming).
Envelope StartQuery(Self* self, const jobs::Header& header, const Envelope& e) {
  ConnectionState& st = self->state;
  const QueryJobInfo job = ReadQueryJob(e.view());
  if (Status opened = EnsureSession(st); !opened.ok()) return ErrorReply(header, opened.error());
  if (!job.database.empty()) {
    if (Status used = st.session->InitDb(job.database); !used.ok()) return ErrorReply(header, used.error());
  }
  auto stream = st.session->Query(job.sql);
  if (!stream.ok()) return ErrorReply(header, stream.error());
  st.query.emplace(header.job_id, std::move(stream).value());
  self->become(caf::keep_behavior, Streaming(self, job.idle_timeout.count() > 0 ? job.idle_timeout : kDefaultQueryIdle));
  return NextStep(self, header);
}

caf::behavior Streaming(Self* self, std::chrono::milliseconds idle) {
  return {
      [self](Envelope& e) -> caf::result<Envelope> {
        // Every other message waits until the query ends (serialized).
        if (e.kind != static_cast<uint16_t>(jobs::Kind::kQueryNext)) return caf::skip;
        ConnectionState& st = self->state;
        auto header = Accept(e, "connection", {jobs::Kind::kQueryNext});
        if (!header.ok()) return ErrorReply("", 0, header.error(), false);
        if (header->job_id != st.query->job_id()) {
          return ErrorReply(*header, MakeError(ErrorCode::kInvalidArgument,
                                               "query '" + header->job_id + "' is not open on this connection (query '" +
                                                   st.query->job_id() + "' is)"));
        }
        if (ReadQueryNextCancel(e.view())) {
          std::vector<uint8_t> end = st.query->EndStep();
          EndQuery(self, true);
          return Envelope{static_cast<uint16_t>(jobs::Kind::kQueryRows), std::move(end)};
        }
        return Answering(self, *header, [&] { return NextStep(self, *header); });
      },
      caf::after(idle) >> [self, idle] {
        spdlog::warn("connection {}: query '{}' closed: no one asked for its next results in {} ms",
                     self->state.config.url.ConnectionName(), self->state.query->job_id(), idle.count());
        EndQuery(self, true);
      },
  };
}

// MigrationJob: the migration runner on the session.
Envelope Migrate(ConnectionState& st, const jobs::Header& header, const Envelope& e) {
  if (!st.config.migration_runner) {
    return ErrorReply(header, MakeError(ErrorCode::kUnsupported, "this actor system was started without a "
                                                                 "migration runner: it cannot move migrations on"));
  }
  if (Status opened = EnsureSession(st); !opened.ok()) return ErrorReply(header, opened.error());
  auto report = MigrateOn(*st.session, st.config.url, e.view(), st.config.migration_runner);
  if (!report.ok()) return ErrorReply(header, report.error());
  return MakeEnvelope(jobs::Kind::kMigrationReport, *report);
}

// PingJob: a fresh session when asked, then the ping.
Envelope Ping(ConnectionState& st, const jobs::Header& header, const Envelope& e) {
  if (ReadPingFresh(e.view()) && st.session != nullptr) {
    st.session->Close();
    st.session.reset();
  }
  if (Status opened = EnsureSession(st); !opened.ok()) return ErrorReply(header, opened.error());
  auto report = PingOn(*st.session, st.config.url, header.job_id);
  if (!report.ok()) return ErrorReply(header, report.error());
  return MakeEnvelope(jobs::Kind::kPingReport, *report);
}

Envelope Run(Self* self, const Envelope& e) {
  ConnectionState& st = self->state;
  auto header = Accept(e, "connection",
                       {jobs::Kind::kLearnServerJob, jobs::Kind::kLearnDatabaseJob, jobs::Kind::kApplyPlanJob,
                        jobs::Kind::kQueryJob, jobs::Kind::kQueryNext, jobs::Kind::kPingJob,
                        jobs::Kind::kMigrationJob});
  if (!header.ok()) return ErrorReply("", 0, header.error(), false);
  if (header->kind == jobs::Kind::kQueryJob) {
    return Answering(self, *header, [&] { return StartQuery(self, *header, e); });
  }
  if (header->kind == jobs::Kind::kMigrationJob) return Answering(self, *header, [&] { return Migrate(st, *header, e); });
  if (header->kind == jobs::Kind::kPingJob) return Answering(self, *header, [&] { return Ping(st, *header, e); });
  if (header->kind == jobs::Kind::kQueryNext) {
    return ErrorReply(*header, MakeError(ErrorCode::kInvalidArgument,
                                         "query '" + header->job_id + "' is not open on this connection: it ended, "
                                         "was cancelled or was closed after its idle timeout"));
  }
  if (header->kind == jobs::Kind::kApplyPlanJob && !st.config.plan_runner) {
    return ErrorReply(*header, MakeError(ErrorCode::kUnsupported,
                                         "this actor system was started without a plan runner: it cannot apply plans"));
  }
  // The second session's connect runs beside the first's (and the server's
  // probes).
  if (header->kind == jobs::Kind::kLearnDatabaseJob && st.config.learn_sessions >= 2) StartHelper(st);
  if (Status opened = EnsureSession(st); !opened.ok()) return ErrorReply(*header, opened.error());
  Result<std::string> out = RunOnSession(st, header->kind, e.view());
  if (!out.ok()) {
    spdlog::debug("connection {}: job {} failed: {}", st.config.url.ConnectionName(), header->job_id,
                  out.error().ToString());
    return ErrorReply(*header, out.error());
  }
  return MakeEnvelope(ResultKind(header->kind), *out);
}

caf::behavior Connection(Self* self, ConnectionConfig config) {
  self->state.config = std::move(config);
  return {
      [self](Envelope& e) -> Envelope { return Run(self, e); },
  };
}

}  // namespace

caf::actor SpawnConnection(caf::actor_system& sys, const ConnectionConfig& config) {
  return sys.spawn<caf::detached>(Connection, config);
}

}  // namespace sqlx::actors
