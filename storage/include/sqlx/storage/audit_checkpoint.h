// Signed checkpoints of the audit log and the Ed25519 keys (OpenSSL) that
// sign them. A checkpoint commits to the number of events, the head hash and
// the RFC 6962 root over every leaf; docs/formats/audit.md draws the signed
// bytes. Signing keys live in PEM files outside the store.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sqlx/messages/result.h"
#include "sqlx/storage/merkle.h"

struct evp_pkey_st;

namespace sqlx::storage {

using PublicKey = std::array<uint8_t, 32>;  // raw Ed25519 public key
using Signature = std::array<uint8_t, 64>;

struct Checkpoint {
  uint64_t tree_size = 0;  // covers events with seq 1..tree_size
  int64_t time_ns = 0;     // UTC nanoseconds since the epoch, when signed
  Hash head_hash{};        // hash of event tree_size; zeros when tree_size is 0
  Hash root{};             // MTH over the leaves of events 1..tree_size
  PublicKey public_key{};  // the key that signed (informational: trust comes from outside)
  Signature signature{};   // Ed25519 over CheckpointSignedBytes
};

// "SQLX-AUDIT-CHECKPOINT-V1" 0x00 | u64be tree_size | i64be time_ns |
// head_hash (32) | root (32).
std::string CheckpointSignedBytes(const Checkpoint& checkpoint);
// True when the checkpoint's signature verifies under `key` (whatever key
// the checkpoint names).
bool CheckpointSignatureValid(const Checkpoint& checkpoint, const PublicKey& key);

// An Ed25519 private key loaded from a PEM file. Copyable (shares the key);
// safe to use from several threads.
class AuditSigningKey {
 public:
  // kNotFound when the file is absent; kInvalidArgument when it is not an
  // Ed25519 PEM private key or is readable by group or others.
  static Result<AuditSigningKey> Load(const std::string& pem_path);
  // Creates a key: the private key in `pem_path` (mode 0600; an existing
  // file is never overwritten: kInvalidArgument) and the public key in
  // `pem_path`.pub. Returns the public key.
  static Result<PublicKey> Generate(const std::string& pem_path);

  const PublicKey& public_key() const { return public_key_; }
  // Fills public_key and signature of `checkpoint`.
  Result<Checkpoint> Sign(Checkpoint checkpoint) const;

 private:
  std::shared_ptr<evp_pkey_st> key_;
  PublicKey public_key_{};
};

// A public key from a PEM file ("BEGIN PUBLIC KEY", as keygen writes it).
Result<PublicKey> LoadPublicKey(const std::string& pem_path);
std::string PublicKeyHex(const PublicKey& key);

}  // namespace sqlx::storage
