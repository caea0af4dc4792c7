// Plans applied through the cluster (POST /v1/apply, `sqlx fleet apply`) and
// the leases that fence them (docs/cluster.md, "Leases"). An apply job runs
// on a worker only under its lease; every acquisition takes the next token,
// so a worker frozen past its lease finds at its next check that a newer
// delivery holds the job, and changes nothing more. Leases are persisted
// before the answer leaves, so a restarted orchestrator never hands out a
// token twice. The online copies of an apply job keep their checkpoints
// here, written only under the job's current lease, and a new holder gets
// them with its lease to continue from.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "orchestrator_impl.h"
#include "sqlx/actors/wire.h"
#include "sqlx/messages/clock.h"
#include "sqlx/messages/jobs.h"

namespace sqlx::orchestrator {

namespace {

using nlohmann::json;


bus::Bytes Reply(std::string_view job_id, const actors::LeaseReplyInfo& reply) {
  const std::string bytes = actors::LeaseReplyFor(job_id, reply);
  return bus::Bytes(bytes.begin(), bytes.end());
}

// A refused lease request or checkpoint: the lease as it stands and why.
actors::LeaseReplyInfo Refusal(const LeaseDecision& d, std::string reason) {
  return actors::LeaseReplyInfo{false, d.lease.token, d.lease.holder, std::move(reason), d.lease.expires_ns, {}};
}

// A granted lease or stored checkpoint: the lease it leaves.
actors::LeaseReplyInfo Granted(const LeaseDecision& d) {
  return actors::LeaseReplyInfo{true, d.lease.token, d.lease.holder, "", d.lease.expires_ns, {}};
}

// A request refused before any lease was looked at (it does not verify,
// its job cannot be read, the store cannot write).
bus::Bytes Denied(std::string_view job_id, std::string reason) {
  actors::LeaseReplyInfo denied;
  denied.reason = std::move(reason);
  return Reply(job_id, denied);
}

// What a worker fenced off ran into (a renewal or a checkpoint under a
// token that is not the job's newest), for the audit chain.
storage::AuditEvent Fenced(const Job& j, const std::string& worker, uint64_t fence, const LeaseDecision& d,
                           const std::string& reason, json details) {
  Error e = MakeError(ErrorCode::kCancelled, reason);
  details.update(json{{"job", j.id}, {"worker", worker}, {"fence", fence}, {"current_fence", d.lease.token},
                      {"holder", d.lease.holder}});
  return EventFor(nullptr, "job.fenced", storage::AuditObject{j.connection, "", ""}, &e, details);
}

// The request's bytes (aligned) once they verify as a `kind` envelope;
// otherwise the reason to answer with.
Result<std::string> VerifiedRequest(std::span<const uint8_t> request, jobs::Kind kind, const std::string& what) {
  std::string bytes(reinterpret_cast<const char*>(request.data()), request.size());
  Status verified = jobs::Verify(kind, bytes);
  if (!verified.ok()) {
    spdlog::warn("orchestrator: rejected a {}: {}", what, verified.error().message);
    return MakeError(ErrorCode::kInvalidArgument, "not a " + what + ": " + verified.error().message);
  }
  return bytes;
}

// A job and its lease, as a lease or checkpoint request finds them;
// otherwise the reason to refuse with.
struct LeasedJob {
  Job job;
  std::optional<Lease> lease;
};
Result<LeasedJob> ReadLeasedJob(Records& records, const std::string& job_id) {
  auto job = records.GetJob(job_id);
  auto lease = records.GetLease(job_id);
  if (!job.ok() || !lease.ok())
    return MakeError(ErrorCode::kIo, "the orchestrator could not read job " + job_id + ": " +
                                         (!job.ok() ? job.error().message : lease.error().message));
  if (!job->has_value()) return MakeError(ErrorCode::kNotFound, "no job " + job_id);
  return LeasedJob{std::move(**job), std::move(*lease)};
}

// DecideLease for a request on `leased` at `now`: leases last an AckWait
// (`ttl_ns`), and a finished job grants none.
LeaseDecision DecideFor(const LeasedJob& leased, const std::string& job_id, const std::string& worker, uint64_t token,
                        int64_t now, int64_t ttl_ns) {
  const Job& j = leased.job;
  return DecideLease(leased.lease, job_id, worker, token, now, ttl_ns, IsTerminal(j.state) ? JobStateName(j.state) : "");
}

// A checkpoint's migration record as far as the orchestrator reads it: a
// JSON object whose id (8 lowercase hex digits: it goes into a key) and
// phase are strings. The engine's own reader checks the rest when a worker
// resumes from it.
Result<json> MigrationRecordOf(const std::string& text) {
  json m = json::parse(text, nullptr, false);
  if (!m.is_object() || !m.contains("id") || !m["id"].is_string() || !m.contains("phase") ||
      !m["phase"].is_string())
    return MakeError(ErrorCode::kInvalidArgument, "the checkpoint is not a migration record (docs/formats/migrations.md)");
  const std::string id = m["id"].get<std::string>();
  if (id.size() != 8 || id.find_first_not_of("0123456789abcdef") != std::string::npos)
    return MakeError(ErrorCode::kInvalidArgument, "the checkpoint's migration id '" + id.substr(0, 40) +
                                                      "' is not 8 lowercase hex digits");
  return m;
}

}  // namespace

Result<Run> Orchestrator::Impl::StartApply(const Caller& caller, const ApplyParams& p) {
  const json plan = json::parse(p.plan_json, nullptr, false);
  if (!plan.is_object() || !plan.contains("from_hash") || !plan.contains("operations"))
    return MakeError(ErrorCode::kInvalidArgument,
                     "the plan is not a plan.json (docs/formats/plan.md): make one with `sqlx plan:diff -o plan.json`");
  std::lock_guard<std::mutex> lock(state_mu_);
  SQLX_ASSIGN_OR_RETURN(std::optional<FleetConnection> conn, records_->GetConnection(p.connection));
  if (!conn)
    return MakeError(ErrorCode::kNotFound, "no connection named '" + p.connection + "' (see `sqlx connections list`)");
  Run run;
  run.id = NewRunId();
  run.kind = "apply";
  run.connections = {p.connection};
  run.actor = caller.subject;
  run.created_ns = UnixNowNs();
  Records::Batch batch;
  batch.Put(run);
  SQLX_RETURN_IF_ERROR(records_->Write(batch, "recording apply run " + run.id));
  SQLX_ASSIGN_OR_RETURN(std::string server, ServerOf(*conn));
  SQLX_ASSIGN_OR_RETURN(Job job, QueueApplyJob(&caller, run.id, run.id + ".a0", p, json::object()));
  fleet_applies_[job.id] = server;  // rollouts count it on its server until it ends
  return run;
}

Result<Job> Orchestrator::Impl::QueueApplyJob(const Caller* caller, const std::string& run, const std::string& job_id,
                                              const ApplyParams& p, const nlohmann::json& extra) {
  const json plan = json::parse(p.plan_json, nullptr, false);
  Job job;
  job.id = job_id;
  job.kind = std::string(jobs::KindName(jobs::Kind::kApplyPlanJob));
  job.run = run;
  job.connection = p.connection;
  job.databases = {p.database.empty() ? plan.value("database", "") : p.database};
  job.created_ns = UnixNowNs();
  job.params = json{{"database", p.database},
                    {"dry_run", p.dry_run},
                    {"allow_destructive", p.allow_destructive},
                    {"allow_blocking", p.allow_blocking},
                    {"from_hash", plan.value("from_hash", "")},
                    {"to_hash", plan.value("to_hash", "")},
                    {"operations", plan["operations"].size()}};
  if (p.postpone_cutover) job.params["postpone_cutover"] = true;
  if (!p.migration_action.empty()) {
    job.params["migration_action"] = p.migration_action;
    job.params["migrations"] = p.migrations;
    if (p.cutover_before_ns > 0) job.params["cutover_before_ns"] = p.cutover_before_ns;
  }
  for (const auto& [key, value] : extra.items()) job.params[key] = value;
  Records::Batch batch;
  batch.PutPlan(job.id, p.plan_json);
  if (!p.migrations_of.empty()) {
    // The migrations move to the new job: its lease hands them over, and
    // its worker's checkpoints go on from them.
    SQLX_ASSIGN_OR_RETURN(std::vector<JobMigration> earlier, records_->ListMigrations(p.migrations_of));
    for (JobMigration& m : earlier) {
      if (std::find(p.migrations.begin(), p.migrations.end(), m.id()) == p.migrations.end()) continue;
      batch.DeleteMigration(m);
      m.job_id = job.id;
      batch.Put(m);
    }
  }
  batch.Put(job);
  SQLX_RETURN_IF_ERROR(records_->Write(batch, "recording apply job " + job.id));
  SQLX_RETURN_IF_ERROR(RecordAudit(caller, "apply.requested", storage::AuditObject{p.connection, job.databases[0], ""},
                                   nullptr, json{{"run", run}, {"job", job.id}, {"params", job.params}}));
  Status published = Publish(job);
  if (!published.ok()) {
    // The record stays queued: RetryUnpublished publishes it again.
    spdlog::warn("orchestrator: publishing job {}: {}", job.id, published.error().message);
  } else {
    Records::Batch after;
    after.Put(job);
    SQLX_RETURN_IF_ERROR(records_->Write(after, "recording published job " + job.id));
  }
  return job;
}

Status Orchestrator::Impl::ServeLeases() {
  SQLX_ASSIGN_OR_RETURN(bus::Responder leases,
                        bus_->Serve(options_.subject_prefix + ".lease",
                                    [this](std::span<const uint8_t> request) { return OnLeaseRequest(request); }));
  SQLX_ASSIGN_OR_RETURN(bus::Responder checkpoints,
                        bus_->Serve(options_.subject_prefix + ".checkpoint",
                                    [this](std::span<const uint8_t> request) { return OnCheckpoint(request); }));
  leases_.emplace(std::move(leases));
  checkpoints_.emplace(std::move(checkpoints));
  return Status::Ok();
}

bus::Bytes Orchestrator::Impl::OnLeaseRequest(std::span<const uint8_t> request) {
  auto bytes = VerifiedRequest(request, jobs::Kind::kLeaseRequest, "lease request");
  if (!bytes.ok()) return Denied("", bytes.error().message);
  const actors::LeaseRequestInfo r = actors::ReadLeaseRequest(*bytes);
  std::lock_guard<std::mutex> lock(state_mu_);
  auto leased = ReadLeasedJob(*records_, r.job_id);
  if (!leased.ok()) return Denied(r.job_id, leased.error().message);
  const Job& j = leased->job;
  const LeaseDecision d = DecideFor(*leased, r.job_id, r.worker, r.token, UnixNowNs(), LeaseTtlNs());
  if (!d.granted) {
    // A holder fenced off: what a frozen or partitioned worker ran into.
    if (r.token != 0) (void)AppendAudit({Fenced(j, r.worker, r.token, d, d.reason, json::object())});
    return Reply(r.job_id, Refusal(d, d.reason));
  }
  Records::Batch batch;
  batch.Put(d.lease);
  Status written = records_->Write(batch, "recording the lease of job " + r.job_id);
  // Never answer with a token that was not persisted.
  if (!written.ok()) return Denied(r.job_id, written.error().message);
  actors::LeaseReplyInfo granted = Granted(d);
  if (r.token == 0) {
    // The new holder continues what an earlier delivery's online copies left.
    auto migrations = records_->ListMigrations(r.job_id);
    if (!migrations.ok()) spdlog::warn("orchestrator: {}", migrations.error().message);
    json resumes = json::array();
    for (const JobMigration& m : migrations.ok() ? *migrations : std::vector<JobMigration>{}) {
      if (m.done()) continue;
      granted.migrations.push_back(m.migration.dump());
      resumes.push_back(m.id());
    }
    json details{{"job", j.id}, {"worker", r.worker}, {"fence", d.lease.token}, {"delivery", r.delivery}};
    if (!resumes.empty()) details["resumes"] = resumes;
    (void)AppendAudit(
        {EventFor(nullptr, "job.leased", storage::AuditObject{j.connection, "", ""}, nullptr, details)});
  }
  return Reply(r.job_id, granted);
}

bus::Bytes Orchestrator::Impl::OnCheckpoint(std::span<const uint8_t> request) {
  auto bytes = VerifiedRequest(request, jobs::Kind::kMigrationCheckpoint, "migration checkpoint");
  if (!bytes.ok()) return Denied("", bytes.error().message);
  const actors::MigrationCheckpointInfo c = actors::ReadMigrationCheckpoint(*bytes);
  auto migration = MigrationRecordOf(c.migration_json);
  if (!migration.ok()) return Denied(c.job_id, migration.error().message);
  std::lock_guard<std::mutex> lock(state_mu_);
  auto leased = ReadLeasedJob(*records_, c.job_id);
  if (leased.ok() && leased->job.kind != jobs::KindName(jobs::Kind::kApplyPlanJob))
    leased = MakeError(ErrorCode::kInvalidArgument, "job " + c.job_id + " is not an apply job");
  if (!leased.ok()) return Denied(c.job_id, leased.error().message);
  const Job& j = leased->job;
  const JobMigration record{c.job_id, c.worker, c.token, UnixNowNs(), std::move(migration).value()};
  // A checkpoint is a renewal that also stores: only the newest token's
  // holder may write (token 0 would acquire: refused).
  const LeaseDecision d =
      c.token == 0 ? LeaseDecision{false, leased->lease.value_or(Lease{}), "a checkpoint needs the job's lease token"}
                   : DecideFor(*leased, c.job_id, c.worker, c.token, record.stored_ns, LeaseTtlNs());
  if (!d.granted) {
    const std::string reason = "checkpoint of migration " + record.id() + " refused: " + d.reason;
    (void)AppendAudit({Fenced(j, c.worker, c.token, d, reason, json{{"migration", record.id()}})});
    return Reply(c.job_id, Refusal(d, reason));
  }
  Records::Batch batch;
  batch.Put(d.lease);
  batch.Put(record);
  Status written = records_->Write(batch, "recording a checkpoint of job " + c.job_id);
  // Mirrored where `sqlx migrations` reads records (the store's migrations
  // family), for the finalize, revert or resume of a stopped cluster's.
  if (written.ok()) written = store_->PutMigration({record.id(), c.migration_json});
  if (!written.ok()) return Denied(c.job_id, written.error().message);  // not stored: the worker's copy stops there
  return Reply(c.job_id, Granted(d));
}

}  // namespace sqlx::orchestrator
