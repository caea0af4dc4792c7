// The events workers publish (docs/cluster.md, "Delivery guarantees"):
// fetched in batches, each batch's effect persisted (audit events, then the
// records in one synced write) before its events are acked; a result for a
// job that is already finished is dropped (the job id is the idempotency
// key). Dead letters mark their job dead.
#include <spdlog/spdlog.h>

#include "orchestrator_impl.h"
#include "sqlx/actors/wire.h"
#include "sqlx/messages/clock.h"
#include "sqlx/messages/jobs.h"

namespace sqlx::orchestrator {

namespace {

using nlohmann::json;

// Worker events fetched, persisted in one write and acked at a time.
constexpr int kEventBatch = 256;

// What an apply's worker measured, as a rollout's target keeps it.
TargetHealth TargetHealthOf(const actors::ServerHealth& h) {
  return TargetHealth{h.max_threads_running, h.replicas, h.max_replica_lag_s, h.replica_lag_error};
}

}  // namespace

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
  bool rollouts = false;
  {
    std::lock_guard<std::mutex> lock(state_mu_);
    EventWrites w;
    for (const bus::Message& m : batch) processed.push_back(Process(m, w));
    rollouts = w.rollouts;
    written = Flush(w);
    if (written.ok() && w.lost) written = MakeError(ErrorCode::kIo, "an earlier write of this batch failed");
  }
  if (rollouts && written.ok()) NotifyRollouts();
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
  // The audit events and the records — among them the markers that say a
  // worker's audit event was taken — in one atomic batch: a crash never
  // leaves an event appended without its marker (it would be appended again
  // when redelivered) nor a marker without its event.
  Status s = w.audit.empty() ? records_->Write(w.records, "recording worker events")
                             : AppendAudit(std::move(w.audit), w.records);
  const bool lost = w.lost || !s.ok();
  const bool rollouts = w.rollouts;
  w = EventWrites{};
  w.lost = lost;
  w.rollouts = rollouts;
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
      // Appended with its marker in one batch (at the flush).
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
  actors::LearnedServer r = actors::ReadLearnedServer(verified);
  const int64_t now = UnixNowNs();
  SQLX_RETURN_IF_ERROR(storage::PutLearnedConnection(*store_, r.connection, r.capability_json, r.fingerprint, now));

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
  // "copied": online copies done, their cut-over postponed as the job asked
  // (a rollout's cut-over window or wave), or a cut-over job that found its
  // window closed before a swap: the job did what it was for.
  const bool copied = s.result == "copied" && (job.params.value("postpone_cutover", false) ||
                                               job.params.value("cutover_before_ns", int64_t{0}) > 0);
  job.state = s.result == "applied" || s.result == "already-applied" || copied ? JobState::kDone : JobState::kFailed;
  job.finished_ns = UnixNowNs();
  job.summary = json{{"database", s.database}, {"result", s.result}, {"from_hash", s.from_hash},
                     {"to_hash", s.to_hash},   {"live_hash", s.live_hash}, {"applied", s.applied}};
  if (s.failed_operation != 0) job.summary["failed_operation"] = s.failed_operation;
  if (s.health.sampled) job.summary["health"] = TargetHealthToJson(TargetHealthOf(s.health));
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
  w.rollouts = true;  // a rollout's result, or room on a server a fleet apply held
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
  // A rollout's result, or room on a server a fleet apply held.
  w.rollouts = w.rollouts || job.kind == jobs::KindName(jobs::Kind::kApplyPlanJob);
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

}  // namespace sqlx::orchestrator
