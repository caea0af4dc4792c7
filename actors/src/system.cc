#include "sqlx/actors/system.h"

#include <caf/all.hpp>
#include <flatbuffers/flatbuffers.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <utility>

#include "apply_work.h"
#include "envelope.h"
#include "job_buffer.h"
#include "learn_work.h"
#include "ping_work.h"
#include "query_work.h"
#include "sqlx/messages/parallel.h"
#include "record_of.h"
#include "spawn.h"
#include "sqlx/actors/wire.h"
#include "sqlx/flo/learn_database.h"
#include "sqlx/messages/ir_flatbuffers.h"

namespace sqlx::actors {
namespace fb = ::sqlx::fb::jobs;

namespace {

caf::actor_system_config& Configure(caf::actor_system_config& cfg, const SystemOptions& options) {
  ConfigureActorSystem(cfg, options.scheduler_threads);
  return cfg;
}

Error ReadEntryError(const fb::Error& e) {
  Error out = jobs::ErrorFromCode(e.code(), Str(e.message()));
  out.server_code = e.server_code();
  out.sqlstate = std::string(Str(e.sqlstate()));
  return out;
}

Result<LearnedDatabases> ReadLearned(const Envelope& reply) {
  SQLX_RETURN_IF_ERROR(jobs::Verify(jobs::Kind::kLearnedDatabases, reply.view()));
  const fb::Envelope* env = fb::GetEnvelope(reply.bytes.data());
  const fb::LearnedDatabases* body = env->body_as_LearnedDatabases();
  LearnedDatabases out;
  out.connection = std::string(Str(body->connection()));
  out.attempts = env->attempt();
  if (body->server() != nullptr) out.server = ServerOf(*body->server());
  out.catalog_statements = body->catalog_statements();
  out.learn_time = std::chrono::microseconds(body->learn_us());
  if (body->databases() == nullptr) return out;
  const uint32_t n = body->databases()->size();
  out.databases.resize(n);
  std::vector<std::optional<Error>> bad(n);  // an entry without a readable IR fails the result
  // The IRs decode side by side (one per database).
  ForEachIndex(n, [&](size_t i) {
    const fb::LearnedDatabase* entry = body->databases()->Get(static_cast<uint32_t>(i));
    LearnedDatabase& db = out.databases[i];
    db.name = std::string(Str(entry->database()));
    if (entry->error() != nullptr) {
      db.error = ReadEntryError(*entry->error());
      return;
    }
    db.profile_hash = std::string(Str(entry->profile_hash()));
    if (entry->ir() == nullptr) {
      bad[i] = MakeError(ErrorCode::kProtocol, "learned database '" + db.name + "' has no IR");
      return;
    }
    Result<ir::Database> schema =
        ir::FromFlatBuffer(std::string_view(reinterpret_cast<const char*>(entry->ir()->data()), entry->ir()->size()));
    if (!schema.ok()) {
      bad[i] = schema.error();
      return;
    }
    db.schema = std::move(schema).value();
    if (entry->not_visible() != nullptr) {
      for (const flatbuffers::String* s : *entry->not_visible()) db.not_visible.push_back(s->str());
    }
    db.stored_version = entry->stored_version();
    db.change = std::string(Str(entry->change()));
  });
  for (std::optional<Error>& e : bad) {
    if (e) return *e;
  }
  return out;
}

}  // namespace

void ConfigureActorSystem(caf::actor_system_config& cfg, size_t scheduler_threads) {
  cfg.add_message_type<Envelope>("sqlx::actors::Envelope");
  cfg.set("scheduler.max-threads", scheduler_threads);
  cfg.set("logger.file-verbosity", caf::atom("quiet"));
  cfg.set("logger.console-verbosity", caf::atom("quiet"));
}

class System::Impl {
 public:
  explicit Impl(const SystemOptions& options)
      : options_(options), system_(Configure(config_, options)) {
    if (options.store != nullptr) {
      snapshot_ = SpawnSnapshot(system_, [store = options.store]() -> Result<storage::Store*> { return store; });
    } else if (options.open_store) {
      snapshot_ = SpawnSnapshot(system_, options.open_store);
    }
  }
  ~Impl() {
    if (snapshot_) caf::anon_send_exit(snapshot_, caf::exit_reason::user_shutdown);
  }

  // Runs one job under a supervisor of its own and waits for the answer.
  Result<Envelope> Run(const transports::ConnectionUrl& url, jobs::Kind kind, std::string job) {
    return Unwrapped(RunRaw(url, kind, std::move(job)));
  }

  // The same, answering an Error envelope as it came.
  Result<Envelope> RunRaw(const transports::ConnectionUrl& url, jobs::Kind kind, std::string job,
                          const System::RunHooks& hooks = {}) {
    SupervisorConfig config;
    config.connection = ConnectionFor(url, true);
    ConnectionConfig& connection = config.connection;
    connection.learn_sessions = options_.learn_sessions;
    connection.on_learn_progress = options_.on_learn_progress;
    config.snapshot = snapshot_ ? &snapshot_ : nullptr;
    connection.plan_runner = options_.plan_runner;
    if (connection.plan_runner) {
      connection.plan_runner = [runner = options_.plan_runner, hooks](transports::Session& session,
                                                                   const transports::ConnectionUrl& u,
                                                                   const ApplyRequest& request) {
        ApplyRequest hooked = request;
        hooked.hooks = hooks;
        return runner(session, u, hooked);
      };
    }
    config.max_attempts = options_.max_attempts;
    return AskAndEnd(SpawnSupervisor(system_, std::move(config)), "supervisor", MakeEnvelope(kind, job));
  }

  // Asks `actor` (the `who` of errors) for one answer, then ends it.
  Result<Envelope> AskAndEnd(const caf::actor& actor, std::string_view who, Envelope request) {
    caf::scoped_actor self{system_};
    Result<Envelope> out = MakeError(ErrorCode::kInternal, "no answer");
    self->request(actor, caf::infinite, std::move(request))
        .receive([&](Envelope& reply) { out = std::move(reply); },
                 [&](caf::error& err) {
                   out = MakeError(ErrorCode::kInternal,
                                   "the " + std::string(who) + " actor did not answer: " + system_.render(err));
                 });
    self->send_exit(actor, caf::exit_reason::user_shutdown);
    return out;
  }

  // An Error answer as the call's error.
  static Result<Envelope> Unwrapped(Result<Envelope> out) {
    if (out.ok() && out->kind == static_cast<uint16_t>(jobs::Kind::kError)) {
      SQLX_RETURN_IF_ERROR(jobs::Verify(jobs::Kind::kError, out->view()));
      return jobs::ReadError(out->view()).error;
    }
    return out;
  }

  std::string NextJobId() { return "local-" + std::to_string(++next_job_); }

  Result<std::unique_ptr<QueryCursor>> Query(const transports::ConnectionUrl& url, const QueryRequest& request);

  // One request to a connection actor of its own, which ends with it.
  // `multi_statements`: as ConnectionFor.
  Result<Envelope> AskConnection(const transports::ConnectionUrl& url, jobs::Kind kind, const std::string& job,
                                 bool multi_statements = false) {
    return Unwrapped(
        AskAndEnd(SpawnConnection(system_, ConnectionFor(url, multi_statements)), "connection", MakeEnvelope(kind, job)));
  }

  // A connection actor's config for `url`; `multi_statements` proposes them
  // at the greeting (flo::LearnSessionGreeting), as learning wants.
  ConnectionConfig ConnectionFor(const transports::ConnectionUrl& url, bool multi_statements) const {
    ConnectionConfig connection;
    connection.url = url;
    connection.migration_runner = options_.migration_runner;
    connection.session.pack_dir = options_.pack_dir;
    connection.session.connect_timeout = std::chrono::milliseconds(options_.connect_timeout_ms);
    connection.session.max_packet = options_.max_packet;
    if (multi_statements) connection.session.on_greeting = flo::LearnSessionGreeting();
    return connection;
  }

 private:
  SystemOptions options_;
  caf::actor_system_config config_;
  caf::actor_system system_;
  caf::actor snapshot_;
  std::atomic<uint64_t> next_job_{0};
};

namespace {

// System::Query's cursor: a connection actor of its own, asked for one step
// at a time, one step asked ahead (the actor reads the next batch off the
// socket while the reader works on this one).
class ActorQueryCursor final : public QueryCursor {
 public:
  ActorQueryCursor(caf::actor_system& system, caf::actor connection, std::string job_id)
      : self_(system),
        connection_(std::move(connection)),
        job_id_(std::move(job_id)),
        next_(QueryNext(job_id_, false)) {}
  ~ActorQueryCursor() override {
    // Mid-way: the actor closes its session instead of reading the rest.
    caf::anon_send_exit(connection_, caf::exit_reason::user_shutdown);
  }

  // Sends the job and takes its first step.
  Status Start(const QueryJobInfo& job) {
    Ask(jobs::Kind::kQueryJob, QueryJob(job_id_, job));
    return Fetch();
  }

  Result<bool> NextResult() override {
    for (;;) {
      if (failed_) return *failed_;
      if (steps_.results_started() > consumed_) {
        consumed_ = steps_.results_started();
        batch_ready_ = steps_.batch().rows() > 0;
        return true;
      }
      if (steps_.end_of_query()) return false;
      SQLX_RETURN_IF_ERROR(Fetch());  // the current result's unread rows are passed over
    }
  }
  const std::vector<transports::Column>& columns() const override { return steps_.columns(); }
  bool has_rows() const override { return consumed_ > 0 && steps_.has_rows(); }
  Result<const transports::RowBatch*> NextBatch() override {
    if (failed_) return *failed_;
    if (!has_rows() || steps_.results_started() != consumed_) return static_cast<const transports::RowBatch*>(nullptr);
    if (batch_ready_) {
      batch_ready_ = false;
      return &steps_.batch();
    }
    if (steps_.end_of_result()) return static_cast<const transports::RowBatch*>(nullptr);
    SQLX_RETURN_IF_ERROR(Fetch());  // the same result goes on: rows, or its end
    if (steps_.batch().rows() > 0) return &steps_.batch();
    return static_cast<const transports::RowBatch*>(nullptr);
  }
  const transports::Completion& completion() const override { return steps_.completion(); }

 private:
  using Pending = decltype(std::declval<caf::scoped_actor&>()->request(std::declval<caf::actor&>(), caf::infinite,
                                                                       std::declval<Envelope>()));

  void Ask(jobs::Kind kind, const std::string& bytes) {
    pending_.emplace(self_->request(connection_, caf::infinite, MakeEnvelope(kind, bytes)));
  }

  // Takes the step asked for, and asks for the one after it.
  Status Fetch() {
    if (!pending_) Ask(jobs::Kind::kQueryNext, next_);
    Result<Envelope> reply = MakeError(ErrorCode::kInternal, "no answer");
    pending_->receive([&](Envelope& r) { reply = std::move(r); },
                      [&](caf::error& err) {
                        reply = MakeError(ErrorCode::kInternal,
                                          "the connection actor ended mid-query: " + self_->system().render(err));
                      });
    pending_.reset();
    Status taken = Take(reply);
    if (!taken.ok()) {
      failed_ = taken.error();
      return taken;
    }
    if (!steps_.end_of_query()) Ask(jobs::Kind::kQueryNext, next_);
    return Status::Ok();
  }

  Status Take(const Result<Envelope>& reply) {
    if (!reply.ok()) return reply.error();
    if (reply->kind == static_cast<uint16_t>(jobs::Kind::kError)) {
      SQLX_RETURN_IF_ERROR(jobs::Verify(jobs::Kind::kError, reply->view()));
      return jobs::ReadError(reply->view()).error;
    }
    SQLX_RETURN_IF_ERROR(jobs::Verify(jobs::Kind::kQueryRows, reply->view()));
    return steps_.Take(reply->view());
  }

  caf::scoped_actor self_;
  caf::actor connection_;
  std::string job_id_;
  const std::string next_;  // the QueryNext asked for every step: the same bytes each time
  std::optional<Pending> pending_;
  QuerySteps steps_;
  uint64_t consumed_ = 0;     // results the reader has moved to
  bool batch_ready_ = false;  // steps_.batch() holds rows not yet handed out
  std::optional<Error> failed_;
};

}  // namespace

Result<std::unique_ptr<QueryCursor>> System::Impl::Query(const transports::ConnectionUrl& url,
                                                         const QueryRequest& request) {
  caf::actor connection = SpawnConnection(system_, ConnectionFor(url, request.multi_statements));
  auto cursor = std::make_unique<ActorQueryCursor>(system_, std::move(connection), NextJobId());
  SQLX_RETURN_IF_ERROR(cursor->Start(QueryJobInfo{request.sql, request.database, request.idle_timeout}));
  return std::unique_ptr<QueryCursor>(std::move(cursor));
}

System::System(const SystemOptions& options) : impl_(std::make_unique<Impl>(options)) {}
System::~System() = default;

Result<LearnedDatabases> System::LearnDatabases(const transports::ConnectionUrl& url,
                                                const std::vector<std::string>& names) {
  LearnRequest request;
  request.databases = names;
  return Learn(url, request);
}

Result<LearnedDatabases> System::Learn(const transports::ConnectionUrl& url, const LearnRequest& request) {
  if (request.all_databases && !request.databases.empty())
    return MakeError(ErrorCode::kInvalidArgument, "a learn names databases and asks for all of them: give one");
  SQLX_ASSIGN_OR_RETURN(Envelope reply, impl_->Run(url, jobs::Kind::kLearnDatabaseJob,
                                                   LearnDatabaseJob(impl_->NextJobId(), request)));
  return ReadLearned(reply);
}

Result<LearnedServer> System::LearnServer(const transports::ConnectionUrl& url, const std::string& fingerprint_salt,
                                          bool store) {
  SQLX_ASSIGN_OR_RETURN(Envelope reply, impl_->Run(url, jobs::Kind::kLearnServerJob,
                                                   LearnServerJob(impl_->NextJobId(), fingerprint_salt, store)));
  SQLX_RETURN_IF_ERROR(jobs::Verify(jobs::Kind::kLearnedServer, reply.view()));
  return ReadLearnedServer(reply.view());
}

Result<ApplySummary> System::ApplyPlan(const transports::ConnectionUrl& url, const ApplyRequest& request) {
  SQLX_ASSIGN_OR_RETURN(Envelope reply,
                        impl_->Run(url, jobs::Kind::kApplyPlanJob, ApplyPlanJob(impl_->NextJobId(), request)));
  SQLX_RETURN_IF_ERROR(jobs::Verify(jobs::Kind::kApplyReport, reply.view()));
  return ReadApplySummary(reply.view());
}

Result<MigrationOutcome> System::RunMigration(const transports::ConnectionUrl& url,
                                              const MigrationRequest& request) {
  SQLX_ASSIGN_OR_RETURN(Envelope reply, impl_->AskConnection(url, jobs::Kind::kMigrationJob,
                                                             MigrationJob(impl_->NextJobId(), request), true));
  SQLX_RETURN_IF_ERROR(jobs::Verify(jobs::Kind::kMigrationReport, reply.view()));
  return ReadMigrationReport(reply.view());
}

Result<PingResult> System::Ping(const transports::ConnectionUrl& url) {
  SQLX_ASSIGN_OR_RETURN(Envelope reply,
                        impl_->AskConnection(url, jobs::Kind::kPingJob, PingJob(impl_->NextJobId(), true)));
  SQLX_RETURN_IF_ERROR(jobs::Verify(jobs::Kind::kPingReport, reply.view()));
  return ReadPingReport(reply.view());
}

Result<std::unique_ptr<QueryCursor>> System::Query(const transports::ConnectionUrl& url,
                                                   const QueryRequest& request) {
  if (request.sql.empty()) return MakeError(ErrorCode::kInvalidArgument, "the query is empty: give the SQL to run");
  return impl_->Query(url, request);
}

Result<std::string> System::RunEnvelope(const transports::ConnectionUrl& url, std::string_view job,
                                        const RunHooks& hooks) {
  std::string copy(job);  // aligned for the verifier
  SQLX_ASSIGN_OR_RETURN(jobs::Header header, jobs::VerifyAny(copy));
  if (header.kind != jobs::Kind::kLearnServerJob && header.kind != jobs::Kind::kLearnDatabaseJob &&
      header.kind != jobs::Kind::kApplyPlanJob)
    return MakeError(ErrorCode::kInvalidArgument,
                     "a " + std::string(jobs::KindName(header.kind)) + " message is not a job a worker runs");
  SQLX_ASSIGN_OR_RETURN(Envelope reply, impl_->RunRaw(url, header.kind, std::move(copy), hooks));
  return std::string(reply.view());
}

}  // namespace sqlx::actors
