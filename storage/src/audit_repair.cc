// The way out of a damaged head record: appends are refused while the head
// does not decode or does not match the newest event (CheckHeadMatchesTail).
// RepairHead rebuilds it from the stored events, only when they verify, and
// records that it did.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <rocksdb/write_batch.h>

#include "audit_log_impl.h"

namespace sqlx::storage {

Result<AuditRepairReport> RocksAuditLog::RepairHead(const AuditVerifyOptions& trust, AuditEvent record) {
  std::lock_guard<std::mutex> lock(mu_);
  AuditRepairReport report;
  // Read the head again: the one loaded on open may have been damaged since.
  Result<AuditHead> stored = LoadHead(store_);
  if (stored.ok()) {
    head_ = *stored;
    head_error_.reset();
  } else {
    head_error_ = stored.error();
  }
  const Status matches = CheckHeadMatchesTail();
  AuditHead rebuilt;
  SQLX_ASSIGN_OR_RETURN(report.verified, VerifyChain(trust, &rebuilt));
  report.size = rebuilt.size;
  if (!report.verified.ok) return report;
  if (matches.ok()) {
    report.size = head_.size;
    return report;
  }
  report.damage = matches.error().message;

  nlohmann::json details = nlohmann::json::parse(record.details_json.empty() ? "{}" : record.details_json, nullptr,
                                                 false);
  if (!details.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "the repair event's details are not a JSON object");
  }
  details["damage"] = stored.ok() ? "mismatch" : "undecodable";
  if (stored.ok()) {
    details["previous_size"] = stored->size;
    details["previous_head_hash"] = ToHex(stored->head_hash);
  }
  details["size"] = rebuilt.size;
  details["head_hash"] = ToHex(rebuilt.head_hash);
  details["events_verified"] = report.verified.events;
  record.action = "audit.repair";
  record.details_json = details.dump();
  std::vector<AuditEvent> records{std::move(record)};
  rocksdb::WriteBatch batch;
  pending_loaded_ = false;  // the index entries pending are those after the rebuilt head's newest time entry
  SQLX_ASSIGN_OR_RETURN(bool index_written, StageAppend(records, &rebuilt, &batch, IndexWrite::kNow));
  SQLX_RETURN_IF_ERROR(Commit(batch, std::move(rebuilt), index_written, "repairing the audit head"));
  head_error_.reset();
  report.repaired = true;
  report.recorded = std::move(records.front());
  return report;
}

}  // namespace sqlx::storage
