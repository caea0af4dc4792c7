// The JSON documents an auditor keeps and checks without the store: an
// exported checkpoint, an inclusion proof and a consistency proof (formats in
// docs/formats/audit.md), their readers (untrusted input: every malformation
// is an Error, never a crash) and their offline verification.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sqlx/messages/result.h"
#include "sqlx/storage/audit_checkpoint.h"
#include "sqlx/storage/merkle.h"

namespace sqlx::storage {

// Proves that the event with `seq` is leaf seq-1 of the tree of `tree_size`.
struct InclusionProofDoc {
  uint64_t seq = 0;
  uint64_t tree_size = 0;
  std::string event_bytes;  // the event's canonical bytes
  std::vector<Hash> path;
};

// Proves that the tree of `first` events is a prefix of the tree of `second`.
struct ConsistencyProofDoc {
  uint64_t first = 0;
  uint64_t second = 0;
  Hash first_root{};
  Hash second_root{};
  std::vector<Hash> path;
  // Stored checkpoints signed at exactly `first` or `second`, when they exist.
  std::vector<Checkpoint> checkpoints;
};

std::string CheckpointToJson(const Checkpoint& checkpoint);
std::string InclusionProofToJson(const InclusionProofDoc& proof);
std::string ConsistencyProofToJson(const ConsistencyProofDoc& proof);

// kInvalidArgument naming what is wrong.
Result<Checkpoint> ParseCheckpointJson(std::string_view json);
// Exactly one of the two is set.
struct ProofDocument {
  std::optional<InclusionProofDoc> inclusion;
  std::optional<ConsistencyProofDoc> consistency;
};
Result<ProofDocument> ParseProofJson(std::string_view json);

// The outcome of an offline check: valid, or why not.
struct ProofVerdict {
  bool valid = false;
  std::string reason;  // what failed, or what was proven
};

// Checks `proof` against `checkpoint` alone. The checkpoint's signature must
// verify under `trusted_key` when given, else under the key it names (then
// only the file's integrity is checked: keep the file somewhere safe).
ProofVerdict CheckInclusion(const InclusionProofDoc& proof, const Checkpoint& checkpoint,
                            const std::optional<PublicKey>& trusted_key);
// Checks `proof` against one or two trusted checkpoints. Each of the proof's
// two roots must be anchored: equal to a trusted checkpoint of that size, or
// carried by an embedded checkpoint signed by the trusted key (`trusted_key`,
// else the key of the first trusted checkpoint).
ProofVerdict CheckConsistency(const ConsistencyProofDoc& proof, const std::vector<Checkpoint>& trusted,
                              const std::optional<PublicKey>& trusted_key);

}  // namespace sqlx::storage
