// Audit retention as configuration (--audit-retention): the orchestrator, the
// chain's one writer, prunes events older than the period to their leaf hash
// at start and then every --audit-retention-every. Each prune verifies the
// whole log first (against the signing key's public key, which comes from
// outside the store) and changes nothing when it does not verify; each is
// itself an audit event (audit.prune), in the same batch as the prune.
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

void Orchestrator::Impl::RetentionLoop() {
  if (options_.audit_retention.count() <= 0) return;
  auto next = std::chrono::steady_clock::now();
  while (!stopping_) {
    if (std::chrono::steady_clock::now() >= next) {
      Status s = PruneOnce();
      if (!s.ok()) spdlog::error("orchestrator: {}", s.error().message);
      next = std::chrono::steady_clock::now() + options_.audit_retention_every;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

}  // namespace sqlx::orchestrator
