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

constexpr std::string_view kServerJob = "learn-server-job";
constexpr std::string_view kDatabaseJob = "learn-database-job";
// Worker events fetched, persisted in one write and acked at a time.
constexpr int kEventBatch = 256;

// The URL as given, without its password ("mysql://u:pw@h" -> "mysql://u@h").
std::string WithoutPassword(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const size_t start = scheme + 3;
  const size_t slash = url.find_first_of("/?", start);
  const size_t at = url.rfind('@', slash == std::string::npos ? std::string::npos : slash);
  if (at == std::string::npos || at < start) return url;
  const size_t colon = url.find(':', start);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + url.substr(at);
}

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
    SQLX_RETURN_IF_ERROR(Publish(job));
    batch.Put(job);
    ++n;
  }
  if (n > 0) spdlog::info("orchestrator: published {} unfinished jobs again (duplicates are dropped)", n);
  return records_->Write(batch, "recording republished jobs");
}

Result<std::string> Orchestrator::Impl::JobEnvelope(const Job& job) {
  if (job.kind == jobs::KindName(jobs::Kind::kProbeJob)) return actors::ProbeJobFor(job.id);
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
  SQLX_ASSIGN_OR_RETURN(bus::PubAck ack,
                        bus_->Publish(subject,
                                      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(envelope.data()),
                                                               envelope.size()),
                                      job.id));
  if (!ack.duplicate) job.stream_seq = ack.sequence;
  return Status::Ok();
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
      // The record stays queued: the next start publishes it again.
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

// ---- events ----

void Orchestrator::Impl::EventsLoop() {
  const std::string stream = bus::EventsStream(options_.subject_prefix).name;
  std::optional<bus::Consumer> consumer;
  while (!stopping_) {
    if (!consumer) {
      auto bound = bus_->Subscribe(stream, bus::OrchestratorConsumer().durable);
      if (!bound.ok()) {
        spdlog::warn("orchestrator: binding the events consumer: {}", bound.error().message);
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      consumer.emplace(std::move(bound).value());
    }
    auto fetched = consumer->Fetch(kEventBatch, std::chrono::milliseconds(500));
    if (!fetched.ok()) {
      spdlog::debug("orchestrator: events fetch: {}", fetched.error().message);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (!fetched->empty()) ProcessBatch(*fetched);
  }
}

void Orchestrator::Impl::ProcessBatch(std::vector<bus::Message>& batch) {
  std::vector<Status> processed;
  processed.reserve(batch.size());
  Status written = Status::Ok();
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    EventWrites w;
    for (const bus::Message& m : batch) processed.push_back(Process(m, w));
    written = Flush(w);
    if (written.ok() && w.lost) written = MakeError(ErrorCode::kIo, "an earlier write of this batch failed");
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    bus::Message& m = batch[i];
    const Status& s = processed[i].ok() ? written : processed[i];
    if (s.ok()) {
      Status a = m.Ack();
      if (!a.ok()) spdlog::warn("orchestrator: ack of event {}: {}", m.metadata().stream_sequence, a.error().message);
    } else {
      spdlog::warn("orchestrator: event {} on {} not persisted, retrying: {}", m.metadata().stream_sequence,
                   m.metadata().subject, s.error().message);
      (void)m.Nak(std::chrono::milliseconds(1000));
    }
  }
}

Status Orchestrator::Impl::Flush(EventWrites& w) {
  Status s = AppendAudit(std::move(w.audit));
  if (s.ok()) s = records_->Write(w.records, "recording worker events");
  const bool lost = w.lost || !s.ok();
  w = EventWrites{};
  w.lost = lost;
  return s;
}

Result<std::optional<Job>> Orchestrator::Impl::GetJob(const EventWrites& w, const std::string& id) {
  if (auto it = w.jobs.find(id); it != w.jobs.end()) return std::optional<Job>(it->second);
  return records_->GetJob(id);
}

Status Orchestrator::Impl::Process(const bus::Message& m, EventWrites& w) {
  const std::string where = "event " + std::to_string(m.metadata().stream_sequence) + " on " + m.metadata().subject;
  auto rejected = [&](const std::string& reason) {
    spdlog::warn("orchestrator: rejected {}: {}", where, reason);
    Error e = MakeError(ErrorCode::kInvalidArgument, reason);
    w.audit.push_back(EventFor(nullptr, "bus.rejected", {}, &e,
                               json{{"subject", m.metadata().subject}, {"stream_seq", m.metadata().stream_sequence}}));
    return Status::Ok();
  };
  if (!m.payload_status().ok()) return rejected(m.payload_status().error().message);
  const std::string bytes(m.payload_view());  // aligned for the verifier
  auto header = jobs::VerifyAny(bytes);
  if (!header.ok()) return rejected(header.error().message);
  switch (header->kind) {
    case jobs::Kind::kProgress: {
      actors::ProgressInfo p = actors::ReadProgress(bytes);
      if (p.phase == "started") return OnStarted(w, header->job_id, p.what, p.step);
      return Status::Ok();
    }
    case jobs::Kind::kHeartbeat:
      return OnHeartbeat(w, header->job_id, actors::ReadHeartbeat(bytes).time_ns);
    case jobs::Kind::kAuditEvent: {
      // Appended before the marker is written (both at the flush): a crash
      // between them repeats an audit event rather than losing it.
      const std::string marker = m.metadata().msg_id;
      if (!marker.empty()) {
        if (w.seen.contains(marker)) return Status::Ok();
        SQLX_ASSIGN_OR_RETURN(bool seen, records_->Seen(marker));
        if (seen) return Status::Ok();
        w.seen.insert(marker);
        w.records.MarkSeen(marker);
      }
      w.audit.push_back(actors::ReadAuditEvent(bytes));
      return Status::Ok();
    }
    case jobs::Kind::kLearnedServer:
    case jobs::Kind::kLearnedDatabases:
    case jobs::Kind::kApplyReport:
    case jobs::Kind::kProbeResult:
    case jobs::Kind::kError:
      break;
    default:
      return rejected(std::string("a ") + std::string(jobs::KindName(header->kind)) + " is not an event");
  }
  SQLX_ASSIGN_OR_RETURN(std::optional<Job> job, GetJob(w, header->job_id));
  // A worker's report of a message it could not take as a job comes on
  // ".events.rejected" with msg id "rejected:<stream seq of that message>"
  // (BusWorker). It ends the job it names only when that message was the
  // job's own: bytes that merely name a job (garbage, a forgery) are
  // recorded and change nothing.
  const bool rejection = m.metadata().subject == options_.subject_prefix + ".events.rejected";
  if (job && rejection &&
      (job->stream_seq == 0 || m.metadata().msg_id != "rejected:" + std::to_string(job->stream_seq)))
    job.reset();
  if (!job) {
    if (header->kind == jobs::Kind::kError) {
      const jobs::JobError e = jobs::ReadError(bytes);
      spdlog::warn("orchestrator: {}", e.error.message);
      w.audit.push_back(EventFor(nullptr, "bus.rejected", {}, &e.error,
                                 json{{"subject", m.metadata().subject}, {"job_id", header->job_id}}));
      return Status::Ok();
    }
    return rejected("result for unknown job '" + header->job_id + "'");
  }
  if (IsTerminal(job->state)) {
    spdlog::debug("orchestrator: job {} is already {}; dropped a second result", job->id, JobStateName(job->state));
    return Status::Ok();
  }
  switch (header->kind) {
    case jobs::Kind::kLearnedServer:
      return OnLearnedServer(w, std::move(*job), bytes);
    case jobs::Kind::kLearnedDatabases:
      return OnLearnedDatabases(w, std::move(*job), bytes);
    case jobs::Kind::kApplyReport:
      OnApplied(w, std::move(*job), bytes);
      return Status::Ok();
    case jobs::Kind::kProbeResult:
      OnProbed(w, std::move(*job), bytes);
      return Status::Ok();
    default:
      OnFailed(w, std::move(*job), jobs::ReadError(bytes).error);
      return Status::Ok();
  }
}

Status Orchestrator::Impl::OnStarted(EventWrites& w, const std::string& job_id, const std::string& worker,
                                     uint64_t delivery) {
  SQLX_ASSIGN_OR_RETURN(std::optional<Job> job, GetJob(w, job_id));
  if (!job || IsTerminal(job->state)) return Status::Ok();
  job->state = JobState::kRunning;
  job->worker = worker;
  job->deliveries = std::max<uint64_t>(job->deliveries, delivery);
  job->started_ns = UnixNowNs();
  job->heartbeat_ns = job->started_ns;
  w.Put(*job);
  return Status::Ok();
}

Status Orchestrator::Impl::OnHeartbeat(EventWrites& w, const std::string& job_id, int64_t time_ns) {
  SQLX_ASSIGN_OR_RETURN(std::optional<Job> job, GetJob(w, job_id));
  if (!job || IsTerminal(job->state)) return Status::Ok();
  job->heartbeat_ns = time_ns;
  w.Put(*job);
  return Status::Ok();
}

Status Orchestrator::Impl::OnLearnedServer(EventWrites& w, Job job, std::string_view verified) {
  actors::LearnedServerResult r = actors::ReadLearnedServer(verified);
  const int64_t now = UnixNowNs();
  SQLX_ASSIGN_OR_RETURN(std::optional<storage::ConnectionRecord> known, store_->GetConnection(r.connection));
  storage::ConnectionRecord rec = known.value_or(storage::ConnectionRecord{});
  if (!known) rec.created_at_ns = now;
  rec.name = r.connection;
  rec.capability_json = r.capability_json;
  rec.server_fingerprint = r.fingerprint;
  rec.updated_at_ns = now;
  rec.learned_at_ns = now;
  SQLX_RETURN_IF_ERROR(store_->PutConnection(rec));

  std::vector<Job> children;
  for (size_t i = 0; i < r.databases.size(); ++i) {
    Job child;
    child.id = job.id + ".d" + std::to_string(i);
    child.kind = std::string(kDatabaseJob);
    child.run = job.run;
    child.connection = job.connection;
    child.databases = {r.databases[i]};
    child.created_ns = now;
    children.push_back(std::move(child));
  }
  job.state = JobState::kDone;
  job.finished_ns = now;
  job.summary = json{{"server", r.connection}, {"server_version", r.server_version}, {"databases", r.databases.size()}};
  // The database jobs are written (with everything before them) before
  // they are published.
  w.Put(job);
  for (const Job& c : children) w.Put(c);
  SQLX_RETURN_IF_ERROR(Flush(w));
  for (Job& c : children) {
    Status s = Publish(c);
    if (!s.ok()) {
      spdlog::warn("orchestrator: publishing job {}: {}", c.id, s.error().message);
      continue;
    }
    w.Put(c);
  }
  w.audit.push_back(EventFor(nullptr, "learn.server.finished", storage::AuditObject{r.connection, "", ""}, nullptr,
                             json{{"job", job.id},
                                  {"run", job.run},
                                  {"fleet_connection", job.connection},
                                  {"server_version", r.server_version},
                                  {"databases", r.databases.size()},
                                  {"worker", job.worker}}));
  return Status::Ok();
}

Status Orchestrator::Impl::OnLearnedDatabases(EventWrites& w, Job job, std::string_view verified) {
  const int64_t now = UnixNowNs();
  auto read = actors::ReadLearnedDatabases(verified, now);
  if (!read.ok()) {
    OnFailed(w, std::move(job), read.error());
    return Status::Ok();
  }
  std::vector<storage::PutSchemaOutcome> outcomes;
  if (!read->records.empty()) {
    SQLX_ASSIGN_OR_RETURN(outcomes, store_->PutSchemas(read->records));
  }
  std::vector<storage::AuditEvent> events;
  json entries = json::array();
  for (size_t i = 0; i < read->records.size(); ++i) {
    const storage::SchemaRecord& rec = read->records[i];
    const storage::PutSchemaOutcome& out = outcomes[i];
    const storage::AuditObject object{read->connection, rec.database, ""};
    json details{{"job", job.id},         {"run", job.run},         {"profile_hash", rec.profile_hash},
                 {"change", std::string(storage::ChangeName(out.change))}, {"version", out.version}, {"worker", job.worker}};
    events.push_back(EventFor(nullptr, "learn.finished", object, nullptr, details));
    if (out.change == storage::PutSchemaOutcome::Change::kChanged) {
      events.push_back(EventFor(nullptr, "drift.found", object, nullptr,
                                json{{"job", job.id},
                                     {"previous_hash", out.previous_hash},
                                     {"profile_hash", rec.profile_hash},
                                     {"version", out.version}}));
    }
    entries.push_back(json{{"database", rec.database},
                           {"profile_hash", rec.profile_hash},
                           {"change", std::string(storage::ChangeName(out.change))},
                           {"version", out.version},
                           {"status", rec.status}});
  }
  for (const auto& [name, error] : read->failed) {
    events.push_back(EventFor(nullptr, "learn.finished", storage::AuditObject{read->connection, name, ""}, &error,
                              json{{"job", job.id}, {"run", job.run}}));
    entries.push_back(json{{"database", name}, {"error", error.message}});
  }
  job.state = read->failed.empty() ? JobState::kDone : JobState::kFailed;
  if (!read->failed.empty()) job.error = read->failed.front().second.message;
  job.finished_ns = now;
  job.summary = json{{"server", read->connection}, {"databases", entries}};
  w.Put(job);
  for (storage::AuditEvent& e : events) w.audit.push_back(std::move(e));
  return Status::Ok();
}

void Orchestrator::Impl::OnApplied(EventWrites& w, Job job, std::string_view verified) {
  actors::ApplySummary s = actors::ReadApplySummary(verified);
  job.state = s.result == "applied" || s.result == "already-applied" ? JobState::kDone : JobState::kFailed;
  job.finished_ns = UnixNowNs();
  job.summary = json{{"database", s.database}, {"result", s.result}, {"from_hash", s.from_hash},
                     {"to_hash", s.to_hash},   {"live_hash", s.live_hash}, {"applied", s.applied}};
  if (s.failed_operation != 0) job.summary["failed_operation"] = s.failed_operation;
  const json report = json::parse(s.report_json, nullptr, false);
  if (job.state == JobState::kFailed) {
    job.error = s.result;
    if (report.is_object() && report.contains("error") && report["error"].is_string())
      job.error = s.result + ": " + report["error"].get<std::string>();
  }
  Error failure = MakeError(ErrorCode::kServer, job.error.empty() ? s.result : job.error);
  json details = job.summary;
  details["job"] = job.id;
  details["run"] = job.run;
  details["worker"] = job.worker;
  if (report.is_object() && report.contains("applied")) details["steps"] = report["applied"];
  w.audit.push_back(EventFor(nullptr, job.state == JobState::kDone ? "apply.finished" : "apply.failed",
                             storage::AuditObject{job.connection, s.database, ""},
                             job.state == JobState::kDone ? nullptr : &failure, details));
  w.Put(job);
}

void Orchestrator::Impl::OnFailed(EventWrites& w, Job job, const Error& error) {
  job.state = JobState::kFailed;
  job.error = error.ToString();
  job.finished_ns = UnixNowNs();
  w.Put(job);
  w.audit.push_back(EventFor(nullptr, "job.failed", {}, &error,
                             json{{"job", job.id}, {"run", job.run}, {"kind", job.kind},
                                  {"fleet_connection", job.connection}, {"worker", job.worker}}));
}

void Orchestrator::Impl::DeadLettersLoop() {
  const std::string stream = bus::JobsStream(options_.subject_prefix).name;
  std::optional<bus::DeadLetterSubscription> sub;
  while (!stopping_) {
    if (!sub) {
      auto s = bus_->SubscribeDeadLetters(stream, bus::WorkerConsumer().durable);
      if (!s.ok()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      sub.emplace(std::move(s).value());
    }
    auto next = sub->Next(std::chrono::milliseconds(500));
    if (!next.ok()) {
      spdlog::warn("orchestrator: dead-letter advisory: {}", next.error().message);
      continue;
    }
    if (!next->has_value()) continue;
    const bus::DeadLetter dead = **next;
    std::lock_guard<std::mutex> lock(state_mu_);
    auto all = records_->ListJobs();
    if (!all.ok()) continue;
    for (Job& job : *all) {
      if (job.stream_seq != dead.stream_sequence || IsTerminal(job.state)) continue;
      job.state = JobState::kDead;
      job.finished_ns = UnixNowNs();
      job.error = "given up after " + std::to_string(dead.deliveries) + " deliveries (no worker finished it)";
      Records::Batch batch;
      batch.Put(job);
      Status s = records_->Write(batch, "recording dead job " + job.id);
      if (!s.ok()) spdlog::warn("orchestrator: {}", s.error().message);
      Error e = MakeError(ErrorCode::kTimeout, job.error);
      (void)AppendAudit({EventFor(nullptr, "job.dead", {}, &e, json{{"job", job.id}, {"run", job.run}})});
    }
  }
}

// ---- audit ----

Status Orchestrator::Impl::AppendAudit(std::vector<storage::AuditEvent> events) {
  if (events.empty()) return Status::Ok();
  std::lock_guard<std::mutex> lock(audit_mu_);
  auto appended = audit_->Append(std::move(events));
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

// ---- connections, tokens, schedules ----

Result<std::optional<ApiToken>> Orchestrator::Impl::Authenticate(std::string_view bearer) {
  if (bearer.empty()) return std::optional<ApiToken>();
  return records_->GetToken(secrets::TokenDigest(bearer));
}

Result<FleetConnection> Orchestrator::Impl::PutConnection(const Caller& caller, const std::string& name,
                                                          const std::string& url,
                                                          const std::optional<std::string>& password,
                                                          const std::optional<std::vector<std::string>>& tags,
                                                          bool update) {
  SQLX_RETURN_IF_ERROR(ValidateConnectionName(name));
  std::lock_guard<std::mutex> lock(state_mu_);
  SQLX_ASSIGN_OR_RETURN(std::optional<FleetConnection> existing, records_->GetConnection(name));
  if (update && !existing)
    return MakeError(ErrorCode::kNotFound, "no connection named '" + name + "' (see `sqlx connections list`)");
  if (!update && existing)
    return MakeError(ErrorCode::kInvalidArgument,
                     "connection '" + name + "' exists already; change it with `sqlx connections update`");
  FleetConnection c = existing.value_or(FleetConnection{});
  c.name = name;
  std::optional<std::string> secret = password;
  if (!url.empty()) {
    SQLX_ASSIGN_OR_RETURN(transports::ConnectionUrl parsed, transports::ParseConnectionUrl(url));
    if (parsed.password_in_url && !secret) secret = parsed.password;
    c.url = WithoutPassword(url);
  }
  if (c.url.empty()) return MakeError(ErrorCode::kInvalidArgument, "connection '" + name + "' needs a url");
  if (secret) {
    if (secret->empty()) {
      c.sealed_password.clear();
    } else {
      SQLX_ASSIGN_OR_RETURN(c.sealed_password, secrets::Seal(*key_, *secret, secrets::ConnectionPasswordAad(name)));
    }
  }
  if (tags) c.tags = *tags;
  const int64_t now = UnixNowNs();
  if (!existing) c.created_ns = now;
  c.updated_ns = now;
  Records::Batch batch;
  batch.Put(c);
  SQLX_RETURN_IF_ERROR(records_->Write(batch, "writing connection " + name));
  SQLX_RETURN_IF_ERROR(RecordAudit(&caller, update ? "connection.updated" : "connection.created", {}, nullptr,
                                   json{{"name", name}, {"url", c.url}, {"tags", c.tags},
                                        {"auth_changed", secret.has_value()}}));
  return c;
}

Status Orchestrator::Impl::RemoveConnection(const Caller& caller, const std::string& name) {
  std::lock_guard<std::mutex> lock(state_mu_);
  SQLX_ASSIGN_OR_RETURN(std::optional<FleetConnection> existing, records_->GetConnection(name));
  if (!existing)
    return MakeError(ErrorCode::kNotFound, "no connection named '" + name + "' (see `sqlx connections list`)");
  Records::Batch batch;
  batch.DeleteConnection(name);
  SQLX_RETURN_IF_ERROR(records_->Write(batch, "removing connection " + name));
  return RecordAudit(&caller, "connection.removed", {}, nullptr, json{{"name", name}});
}

Result<std::string> Orchestrator::Impl::CreateToken(const Caller* caller, const std::string& subject,
                                                    const std::string& role) {
  if (role != "admin" && role != "operator" && role != "auditor")
    return MakeError(ErrorCode::kInvalidArgument, "role '" + role + "' is not one of admin, operator, auditor");
  if (subject.empty() || subject.size() > 128)
    return MakeError(ErrorCode::kInvalidArgument, "a token needs a subject of 1 to 128 characters");
  const std::string token = secrets::NewApiToken();
  ApiToken t{secrets::TokenDigest(token), subject, role, UnixNowNs()};
  Records::Batch batch;
  batch.Put(t);
  SQLX_RETURN_IF_ERROR(records_->Write(batch, "storing a token"));
  SQLX_RETURN_IF_ERROR(RecordAudit(caller, "token.created", {}, nullptr, json{{"subject", subject}, {"role", role}}));
  return token;
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
