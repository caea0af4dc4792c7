// Retention as configuration. Audit (--audit-retention): the orchestrator, the
// chain's one writer, prunes events older than the period to their leaf hash
// at start and then every --audit-retention-every. Each prune verifies the
// whole log first (against the signing key's public key, which comes from
// outside the store) and changes nothing when it does not verify; each is
// itself an audit event (audit.prune), in the same batch as the prune.
// Jobs (--job-retention): finished runs past the period go with their jobs,
// plans and leases (jobs.pruned); the audit log keeps what they did.
#include <spdlog/spdlog.h>

#include "orchestrator_impl.h"
#include "sqlx/messages/clock.h"
#include "sqlx/storage/audit_checkpoint.h"

namespace sqlx::orchestrator {

Status Orchestrator::Impl::PruneOnce() {
  storage::AuditVerifyOptions trust;
  if (!options_.audit_key_file.empty()) {
    SQLX_ASSIGN_OR_RETURN(storage::AuditSigningKey key, storage::AuditSigningKey::Load(options_.audit_key_file));
    trust.trusted_key = key.public_key();
  }
  const int64_t now = UnixNowNs();
  const int64_t cutoff = now - std::chrono::duration_cast<std::chrono::nanoseconds>(options_.audit_retention).count();
  storage::AuditEvent record = storage::NewAuditEvent("audit.prune");
  record.actor.service = "orchestrator";
  record.details_json = nlohmann::json{{"retention_s", options_.audit_retention.count()},
                                       {"cutoff", Rfc3339(cutoff, 3)},
                                       {"by", "audit retention"}}
                            .dump();
  std::lock_guard<std::mutex> lock(audit_mu_);
  SQLX_ASSIGN_OR_RETURN(storage::AuditPruneReport report, audit_->Prune({cutoff, trust}, std::move(record)));
  if (!report.verified.ok) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "audit retention pruned nothing: the log does not verify: " + report.verified.message +
                         " (run `sqlx audit verify` on the store)");
  }
  if (report.pruned > 0)
    spdlog::info("orchestrator: audit retention pruned events {}..{} ({} leaves)", report.first_seq, report.last_seq,
                 report.pruned);
  return Status::Ok();
}

Status Orchestrator::Impl::PruneJobs() {
  const int64_t now = UnixNowNs();
  const int64_t cutoff =
      options_.job_retention.count() > 0
          ? now - std::chrono::duration_cast<std::chrono::nanoseconds>(options_.job_retention).count()
          : 0;
  // The events stream keeps a message 7 days (bus::EventsStream): a marker
  // older than that, with a day's margin, can no longer stop a duplicate.
  const int64_t seen_cutoff =
      now - std::chrono::duration_cast<std::chrono::nanoseconds>(bus::EventsStream().max_age).count() -
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::hours(24)).count();
  std::lock_guard<std::mutex> lock(state_mu_);
  Records::Batch batch;
  uint64_t runs = 0, jobs_deleted = 0, markers = 0;
  if (cutoff > 0) {
    SQLX_ASSIGN_OR_RETURN(std::vector<Run> all, records_->ListRuns());
    for (const Run& run : all) {
      if (run.created_ns >= cutoff) continue;
      SQLX_ASSIGN_OR_RETURN(std::vector<Job> jobs, records_->ListJobs(run.id + "."));
      bool old = true;
      for (const Job& j : jobs) old = old && IsTerminal(j.state) && j.finished_ns < cutoff;
      if (!old) continue;
      batch.DeleteRun(run.id);
      for (const Job& j : jobs) {
        batch.DeleteJob(j.id);
        SQLX_ASSIGN_OR_RETURN(std::vector<JobMigration> migrations, records_->ListMigrations(j.id));
        for (const JobMigration& m : migrations) batch.DeleteMigration(m);
      }
      ++runs;
      jobs_deleted += jobs.size();
    }
  }
  SQLX_ASSIGN_OR_RETURN(auto seen, records_->ListSeen());
  for (const auto& [marker, at] : seen) {
    if (at > seen_cutoff) continue;
    batch.DeleteSeen(marker);
    ++markers;
  }
  if (batch.empty()) return Status::Ok();
  SQLX_RETURN_IF_ERROR(records_->Write(batch, "deleting finished runs"));
  spdlog::info("orchestrator: job retention deleted {} runs ({} jobs) and {} audit markers", runs, jobs_deleted,
               markers);
  return RecordAudit(nullptr, "jobs.pruned", {}, nullptr,
                     nlohmann::json{{"runs", runs},
                                    {"jobs", jobs_deleted},
                                    {"markers", markers},
                                    {"retention_s", options_.job_retention.count()},
                                    {"cutoff", cutoff > 0 ? Rfc3339(cutoff, 3) : ""}});
}

void Orchestrator::Impl::RetentionLoop() {
  auto next = std::chrono::steady_clock::now();
  while (!stopping_) {
    if (std::chrono::steady_clock::now() >= next) {
      if (options_.audit_retention.count() > 0) {
        Status s = PruneOnce();
        if (!s.ok()) spdlog::error("orchestrator: {}", s.error().message);
      }
      Status j = PruneJobs();
      if (!j.ok()) spdlog::error("orchestrator: job retention: {}", j.error().message);
      next = std::chrono::steady_clock::now() + options_.audit_retention_every;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

}  // namespace sqlx::orchestrator
