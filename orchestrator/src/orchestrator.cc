// The orchestrator's core: the store, the audit chain, the job queue and the
// events workers publish. The rule that makes restarts and redeliveries
// safe: a job's record is written before its message is published, and an
// event is acked only after what it says was persisted; a result for a job
// that is already finished is dropped (the job id is the idempotency key).
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <sstream>

#include "orchestrator_impl.h"
#include "sqlx/actors/wire.h"
#include "sqlx/messages/clock.h"
#include "sqlx/messages/hex.h"
#include "sqlx/messages/jobs.h"
#include "sqlx/storage/audit_checkpoint.h"
#include "sqlx/transports/url.h"

namespace sqlx::orchestrator {

namespace {

using nlohmann::json;


}  // namespace

std::string NewRunId() { return "run-" + RandomHex(5); }

storage::AuditEvent EventFor(const Caller* caller, const std::string& action, const storage::AuditObject& object,
                             const Error* error, const nlohmann::json& details) {
  storage::AuditEvent e = storage::NewAuditEvent(action);
  e.actor.service = "orchestrator";
  nlohmann::json d = details;
  if (caller != nullptr) {
    e.actor.token_subject = caller->subject;
    d["remote"] = caller->remote;
    d["role"] = caller->role;
  }
  e.object = object;
  if (error != nullptr) {
    e.outcome = storage::AuditOutcome::kFailed;
    e.error = error->message;
  }
  e.details_json = d.dump();
  return e;
}



Status Orchestrator::Impl::Open() {
  if (options_.secret_key_file.empty())
    return MakeError(ErrorCode::kInvalidArgument,
                     "--secret-key FILE is required: the cluster key that seals connection passwords "
                     "(make one with `sqlx secret-key new FILE`)");
  // Everything that can be checked is checked before the store is opened
  // (or created): a refused start leaves nothing behind.
  SQLX_RETURN_IF_ERROR(ParseListen(options_.listen));
  if (options_.tls_cert_file.empty() != options_.tls_key_file.empty())
    return MakeError(ErrorCode::kInvalidArgument, "--tls-cert and --tls-key go together: give both, or neither");
  for (const std::string* file : {&options_.tls_cert_file, &options_.tls_key_file}) {
    if (!file->empty() && ::access(file->c_str(), R_OK) != 0)
      return MakeError(ErrorCode::kInvalidArgument, "cannot read " + *file + ": " + std::strerror(errno));
  }
  SQLX_ASSIGN_OR_RETURN(secrets::SecretKey key, secrets::LoadSecretKey(options_.secret_key_file));
  key_.emplace(std::move(key));
  if (!options_.audit_key_file.empty()) {
    SQLX_RETURN_IF_ERROR(storage::AuditSigningKey::Load(options_.audit_key_file));
  }
  SQLX_ASSIGN_OR_RETURN(store_, storage::Store::Open(storage::StoreOptions{options_.store_dir}));
  records_ = std::make_unique<Records>(*store_);
  storage::AuditLogOptions audit_options;
  audit_options.signing_key_file = options_.audit_key_file;
  SQLX_ASSIGN_OR_RETURN(audit_, storage::AuditLog::Open(*store_, audit_options));
  bus::ConnectOptions c;
  c.name = "sqlx-orchestrator";
  c.on_state_change = [](const bus::ConnectionStatus& s) {
    spdlog::info("orchestrator: NATS {} ({})", bus::ConnectionStateName(s.state), s.server);
  };
  SQLX_ASSIGN_OR_RETURN(bus_, bus::Bus::Connect(options_.nats_url, c));
  SQLX_RETURN_IF_ERROR(EnsureQueue());
  SQLX_RETURN_IF_ERROR(ServeLeases());
  SQLX_RETURN_IF_ERROR(BootstrapAdminToken());
  SQLX_RETURN_IF_ERROR(RecordAudit(nullptr, "orchestrator.started", {}, nullptr,
                                   json{{"listen", options_.listen}, {"nats", options_.nats_url},
                                        {"key_id", secrets::KeyId(*key_)}}));
  return RepublishPending();
}

Status Orchestrator::Impl::EnsureQueue() {
  const bus::StreamConfig jobs = bus::JobsStream(options_.subject_prefix);
  SQLX_RETURN_IF_ERROR(bus_->EnsureStream(jobs));
  bus::ConsumerConfig workers = bus::WorkerConsumer();
  workers.ack_wait = options_.job_ack_wait;
  workers.max_deliver = options_.job_max_deliver;
  SQLX_RETURN_IF_ERROR(bus_->EnsureConsumer(jobs.name, workers));
  const bus::StreamConfig events = bus::EventsStream(options_.subject_prefix);
  SQLX_RETURN_IF_ERROR(bus_->EnsureStream(events));
  return bus_->EnsureConsumer(events.name, bus::OrchestratorConsumer());
}

Status Orchestrator::Impl::BootstrapAdminToken() {
  if (options_.admin_token_file.empty()) return Status::Ok();
  std::string token;
  struct stat st {};
  if (stat(options_.admin_token_file.c_str(), &st) == 0) {
    if ((st.st_mode & 077) != 0)
      return MakeError(ErrorCode::kInvalidArgument, "admin token file " + options_.admin_token_file +
                                                        " is readable by others: chmod 600 it");
    std::ifstream in(options_.admin_token_file);
    std::getline(in, token);
    if (token.empty())
      return MakeError(ErrorCode::kInvalidArgument, "admin token file " + options_.admin_token_file + " is empty");
  } else {
    token = secrets::NewApiToken();
    const int fd = ::open(options_.admin_token_file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
      return MakeError(ErrorCode::kIo, "cannot create admin token file " + options_.admin_token_file + ": " +
                                           std::strerror(errno));
    const std::string line = token + "\n";
    const bool written = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
    ::close(fd);
    if (!written) return MakeError(ErrorCode::kIo, "cannot write admin token file " + options_.admin_token_file);
    spdlog::info("orchestrator: wrote a new admin API token to {}", options_.admin_token_file);
  }
  const std::string digest = secrets::TokenDigest(token);
  SQLX_ASSIGN_OR_RETURN(std::optional<ApiToken> known, records_->GetToken(digest));
  if (known) return Status::Ok();
  ApiToken t{digest, "admin", "admin", UnixNowNs()};
  Records::Batch batch;
  batch.Put(t);
  SQLX_RETURN_IF_ERROR(records_->Write(batch, "registering the admin token"));
  return RecordAudit(nullptr, "token.created", {}, nullptr,
                     json{{"subject", "admin"}, {"role", "admin"}, {"from", "admin token file"}});
}

Status Orchestrator::Impl::RepublishPending() {
  std::lock_guard<std::mutex> lock(state_mu_);
  SQLX_ASSIGN_OR_RETURN(std::vector<Job> all, records_->ListJobs());
  Records::Batch batch;
  size_t n = 0;
  for (Job& job : all) {
    if (IsTerminal(job.state)) continue;
    if (job.kind == jobs::KindName(jobs::Kind::kApplyPlanJob) && !job.params.contains("rollout")) {
      // A fleet apply in flight counts against the rollouts' per-server limit.
      SQLX_ASSIGN_OR_RETURN(std::optional<FleetConnection> conn, records_->GetConnection(job.connection));
      if (conn) {
        if (auto server = ServerOf(*conn); server.ok()) fleet_applies_[job.id] = *server;
      }
    }
    // A job NATS does not take now stays queued (RetryUnpublished tries it
    // again); the others still go out.
    if (Status s = Publish(job); !s.ok() && !IsTerminal(job.state)) {
      spdlog::warn("orchestrator: publishing job {} again: {}", job.id, s.error().message);
      continue;
    }
    batch.Put(job);
    ++n;
  }
  if (n > 0) spdlog::info("orchestrator: published {} unfinished jobs again (duplicates are dropped)", n);
  return records_->Write(batch, "recording republished jobs");
}

Result<std::string> Orchestrator::Impl::JobEnvelope(const Job& job) {
  if (job.kind == jobs::KindName(jobs::Kind::kProbeJob))
    return actors::ProbeJobFor(job.id, job.params.value("payload_bytes", uint32_t{0}));
  SQLX_ASSIGN_OR_RETURN(std::optional<FleetConnection> conn, records_->GetConnection(job.connection));
  if (!conn)
    return MakeError(ErrorCode::kNotFound, "job " + job.id + ": connection '" + job.connection + "' was removed");
  actors::JobTarget target{conn->name, conn->url, conn->sealed_password};
  if (job.kind == kServerJob) {
    SQLX_ASSIGN_OR_RETURN(std::string salt, store_->FingerprintSalt());
    return actors::LearnServerJobFor(job.id, target, salt);
  }
  if (job.kind == kDatabaseJob) return actors::LearnDatabaseJobFor(job.id, target, job.databases);
  if (job.kind == jobs::KindName(jobs::Kind::kApplyPlanJob)) {
    SQLX_ASSIGN_OR_RETURN(std::optional<std::string> plan, records_->GetPlan(job.id));
    if (!plan) return MakeError(ErrorCode::kNotFound, "job " + job.id + ": its plan is not in the store");
    actors::ApplyRequest request;
    request.database = job.params.value("database", "");
    request.plan_json = std::move(*plan);
    request.dry_run = job.params.value("dry_run", false);
    request.allow_destructive = job.params.value("allow_destructive", false);
    request.allow_blocking = job.params.value("allow_blocking", false);
    request.postpone_cutover = job.params.value("postpone_cutover", false);
    request.migration_action = job.params.value("migration_action", "");
    request.migrations = job.params.value("migrations", std::vector<std::string>{});
    request.cutover_before_ns = job.params.value("cutover_before_ns", int64_t{0});
    return actors::ApplyPlanJobFor(job.id, target, request);
  }
  return MakeError(ErrorCode::kUnsupported, "job " + job.id + " has kind " + job.kind + ", which this orchestrator does not run");
}

Status Orchestrator::Impl::Publish(Job& job) {
  Result<std::string> built = JobEnvelope(job);
  if (!built.ok() && built.error().code == ErrorCode::kNotFound) {
    // Its connection was removed after the job was made: it can never run.
    // Failed (the caller persists it), neither queued forever nor an error
    // that stops the orchestrator from starting (RepublishPending).
    job.state = JobState::kFailed;
    job.error = built.error().message;
    job.finished_ns = UnixNowNs();
    return AppendAudit({EventFor(nullptr, "job.failed", {}, &built.error(),
                                 json{{"job", job.id}, {"run", job.run}, {"kind", job.kind},
                                      {"fleet_connection", job.connection}})});
  }
  if (!built.ok()) return built.error();
  const std::string envelope = std::move(built).value();
  const std::string subject = options_.subject_prefix + ".jobs." + job.kind;
  // While NATS is away the client keeps the message in its reconnect
  // buffer and sends it on reconnect, even when the wait for the ack timed
  // out (ClusterTest.JobsStartedWhileNatsIsAwayArePublishedOnceItIsBack).
  Result<bus::PubAck> ack = bus_->Publish(
      subject, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(envelope.data()), envelope.size()), job.id);
  {
    std::lock_guard<std::mutex> lock(unpublished_mu_);
    if (ack.ok()) {
      unpublished_.erase(job.id);
    } else {
      unpublished_.insert(job.id);  // RetryUnpublished tries it again
    }
  }
  if (!ack.ok()) return ack.error();
  if (!ack->duplicate) job.stream_seq = ack->sequence;
  return Status::Ok();
}

void Orchestrator::Impl::RetryUnpublished() {
  std::vector<std::string> ids;
  {
    std::lock_guard<std::mutex> lock(unpublished_mu_);
    ids.assign(unpublished_.begin(), unpublished_.end());
  }
  if (ids.empty()) return;
  // A refused publish may mean the queue's stream (or its consumer) is
  // gone: made again, as at start.
  if (Status queue = EnsureQueue(); !queue.ok()) {
    spdlog::warn("orchestrator: {} job(s) wait to be published: the job queue: {}", ids.size(), queue.error().message);
    return;
  }
  // The publishes go out without state_mu_ (each may wait for NATS), and a
  // pass stops at the first refusal: the rest wait for the next pass. Only
  // the records are read and written under it.
  std::vector<Job> pending;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    for (const std::string& id : ids) {
      auto job = records_->GetJob(id);
      if (!job.ok()) continue;
      if (!*job || (*job)->state != JobState::kQueued) {  // gone, or taken up meanwhile
        std::lock_guard<std::mutex> drop(unpublished_mu_);
        unpublished_.erase(id);
        continue;
      }
      pending.push_back(std::move(**job));
    }
  }
  std::vector<Job> sent;
  for (Job& job : pending) {
    Status s = Publish(job);
    if (!s.ok() && !IsTerminal(job.state)) break;  // still refused: the next pass tries again
    sent.push_back(std::move(job));
  }
  if (sent.empty()) return;
  std::lock_guard<std::mutex> lock(state_mu_);
  Records::Batch batch;
  size_t published = 0;
  for (Job& job : sent) {
    // Re-read: a worker may have taken the job up meanwhile; only what the
    // publish changed is recorded.
    auto now = records_->GetJob(job.id);
    if (!now.ok() || !*now) continue;
    if (IsTerminal(job.state)) {
      if (!IsTerminal((*now)->state)) batch.Put(job);  // its connection is gone: failed
      continue;
    }
    if ((*now)->stream_seq == 0 && job.stream_seq != 0) (*now)->stream_seq = job.stream_seq;
    batch.Put(**now);
    ++published;
  }
  if (published > 0) spdlog::info("orchestrator: published {} queued job(s) whose earlier publish was refused", published);
  if (Status w = records_->Write(batch, "recording republished jobs"); !w.ok())
    spdlog::warn("orchestrator: {}", w.error().message);
}

Result<Run> Orchestrator::Impl::StartLearn(const std::string& actor, const std::vector<std::string>& connections,
                                           const Caller* caller) {
  std::lock_guard<std::mutex> lock(state_mu_);
  std::vector<std::string> names = connections;
  if (names.empty()) {
    SQLX_ASSIGN_OR_RETURN(std::vector<FleetConnection> all, records_->ListConnections());
    for (const FleetConnection& c : all) names.push_back(c.name);
    if (names.empty())
      return MakeError(ErrorCode::kInvalidArgument, "the fleet has no connections: add one with `sqlx connections add`");
  } else {
    for (const std::string& name : names) {
      SQLX_ASSIGN_OR_RETURN(std::optional<FleetConnection> c, records_->GetConnection(name));
      if (!c)
        return MakeError(ErrorCode::kNotFound,
                         "no connection named '" + name + "' (see `sqlx connections list`)");
    }
  }
  Run run;
  run.id = NewRunId();
  run.connections = names;
  run.actor = actor;
  run.created_ns = UnixNowNs();
  std::vector<Job> jobs;
  for (size_t i = 0; i < names.size(); ++i) {
    Job job;
    job.id = run.id + ".s" + std::to_string(i);
    job.kind = std::string(kServerJob);
    job.run = run.id;
    job.connection = names[i];
    job.created_ns = run.created_ns;
    jobs.push_back(std::move(job));
  }
  Records::Batch batch;
  batch.Put(run);
  for (const Job& job : jobs) batch.Put(job);
  SQLX_RETURN_IF_ERROR(records_->Write(batch, "recording learn run " + run.id));
  Records::Batch published;
  run.published_ns = UnixNowNs();
  published.Put(run);
  for (Job& job : jobs) {
    Status s = Publish(job);
    if (!s.ok()) {
      // The record stays queued: RetryUnpublished publishes it again.
      spdlog::warn("orchestrator: publishing job {}: {}", job.id, s.error().message);
      continue;
    }
    published.Put(job);
  }
  SQLX_RETURN_IF_ERROR(records_->Write(published, "recording published jobs"));
  SQLX_RETURN_IF_ERROR(RecordAudit(caller, "fleet.learn.started", {}, nullptr,
                                   json{{"run", run.id}, {"connections", names}, {"by", actor}}));
  return run;
}

// ---- audit ----

Status Orchestrator::Impl::AppendAudit(std::vector<storage::AuditEvent> events, const Records::Batch& with) {
  if (events.empty() && with.empty()) return Status::Ok();
  std::lock_guard<std::mutex> lock(audit_mu_);
  auto appended = audit_->Append(std::move(events), with.writes());
  if (!appended.ok()) return appended.error();
  return Status::Ok();
}

Status Orchestrator::Impl::RecordAudit(const Caller* caller, const std::string& action,
                                       const storage::AuditObject& object, const Error* error, json details) {
  return AppendAudit({EventFor(caller, action, object, error, details)});
}

Result<storage::AuditQueryResult> Orchestrator::Impl::QueryAudit(const storage::AuditQuery& query,
                                                                 const Caller& caller) {
  storage::AuditQueryResult result;
  {
    std::lock_guard<std::mutex> lock(audit_mu_);
    SQLX_ASSIGN_OR_RETURN(result, audit_->Query(query));
  }
  SQLX_RETURN_IF_ERROR(RecordAudit(&caller, "audit.read", {}, nullptr,
                                   json{{"returned", result.events.size()}, {"action", query.action},
                                        {"actor", query.actor}, {"object", query.object}}));
  return result;
}

// ---- lifecycle ----

void Orchestrator::Impl::Stop() {
  {
    std::lock_guard<std::mutex> lock(stop_mu_);
    if (stopped_) return;
    stopping_ = true;
  }
  StopHttp();
  for (std::thread& t : threads_) t.join();
  threads_.clear();
  if (audit_) {
    (void)RecordAudit(nullptr, "orchestrator.stopped", {}, nullptr, json::object());
    if (!options_.audit_key_file.empty()) {
      // Sign the head on the way out, so that `sqlx audit head` and a
      // truncation check cover every event this run wrote.
      std::lock_guard<std::mutex> lock(audit_mu_);
      auto checkpoint = audit_->CheckpointNow();
      if (!checkpoint.ok()) spdlog::warn("orchestrator: signing the last checkpoint: {}", checkpoint.error().message);
    }
    audit_.reset();
  }
  checkpoints_.reset();
  leases_.reset();  // drained: no lease answer is being written when the store closes
  if (bus_) bus_->Close();
  records_.reset();
  store_.reset();
  std::lock_guard<std::mutex> lock(stop_mu_);
  stopped_ = true;
  stop_cv_.notify_all();
}

void Orchestrator::Impl::Wait() {
  std::unique_lock<std::mutex> lock(stop_mu_);
  stop_cv_.wait(lock, [this] { return stopped_; });
}

Result<std::unique_ptr<Orchestrator>> Orchestrator::Start(const OrchestratorOptions& options) {
  auto impl = std::make_unique<Impl>(options);
  SQLX_RETURN_IF_ERROR(impl->Open());
  SQLX_RETURN_IF_ERROR(impl->Serve());
  return std::unique_ptr<Orchestrator>(new Orchestrator(std::move(impl)));
}

Orchestrator::Orchestrator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Orchestrator::~Orchestrator() { impl_->Stop(); }
int Orchestrator::port() const { return impl_->port(); }
void Orchestrator::Stop() { impl_->Stop(); }
void Orchestrator::Wait() { impl_->Wait(); }

}  // namespace sqlx::orchestrator
