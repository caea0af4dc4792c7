// Fuzzes the readers of the audit log's JSON documents (checkpoints and
// proofs come from files a user is handed) and the offline checks run on
// whatever they accept: the checkpoint is read from the same input, so a
// parsed proof is checked against a parsed checkpoint.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "sqlx/storage/audit_proof.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto checkpoint = sqlx::storage::ParseCheckpointJson(text);
  if (checkpoint.ok()) (void)sqlx::storage::CheckpointToJson(*checkpoint);
  auto proof = sqlx::storage::ParseProofJson(text);
  if (!proof.ok()) return 0;
  sqlx::storage::Checkpoint anchor;
  anchor.tree_size = 1;
  if (proof->inclusion) {
    (void)sqlx::storage::InclusionProofToJson(*proof->inclusion);
    (void)sqlx::storage::CheckInclusion(*proof->inclusion, anchor, std::nullopt);
  } else {
    (void)sqlx::storage::ConsistencyProofToJson(*proof->consistency);
    (void)sqlx::storage::CheckConsistency(*proof->consistency, {anchor}, std::nullopt);
  }
  return 0;
}
