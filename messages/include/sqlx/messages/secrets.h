// Cluster secrets: the key file the orchestrator and every worker hold, the
// sealing of connection passwords with it (at rest in the store, and inside
// jobs on the bus), and the API tokens of the orchestrator's HTTP API.
// Byte layouts and the key file format: docs/formats/secrets.md. Every
// function is thread-safe; a SecretKey may be read by many threads at once.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "sqlx/messages/result.h"

namespace sqlx::secrets {

inline constexpr size_t kKeySize = 32;    // AES-256
inline constexpr size_t kNonceSize = 12;  // GCM's 96-bit nonce
inline constexpr size_t kTagSize = 16;    // GCM's full 128-bit tag
inline constexpr unsigned char kSealVersion = 1;
// The smallest sealed blob: version, nonce and tag around an empty secret.
inline constexpr size_t kSealOverhead = 1 + kNonceSize + kTagSize;

// A 256-bit cluster key. Move-only; its bytes are wiped (OPENSSL_cleanse)
// when it is destroyed or moved from. It has no printed form on purpose:
// logs name a key by KeyId().
class SecretKey {
 public:
  // Exactly kKeySize bytes; kInvalidArgument otherwise.
  static Result<SecretKey> FromBytes(std::string_view bytes);
  // kKeySize bytes from OpenSSL's CSPRNG; kInternal when it fails.
  static Result<SecretKey> Generate();

  SecretKey(SecretKey&& other) noexcept;
  SecretKey& operator=(SecretKey&& other) noexcept;
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;
  ~SecretKey();

  // The raw key, kKeySize bytes, valid while *this lives. For the cipher
  // only: never log, print or store it.
  const unsigned char* data() const { return bytes_.data(); }

 private:
  SecretKey() = default;
  void Wipe();

  std::array<unsigned char, kKeySize> bytes_{};
};

// Reads a key file: 64 hex digits (either case) and an optional "\n",
// nothing else. Refused, with a message naming the file: missing
// (kNotFound), unreadable (kIo), not a regular file, readable or writable by
// group or others (mode & 077: "chmod 600 FILE"), or other content
// (kInvalidArgument). The file's content is never echoed in a message.
Result<SecretKey> LoadSecretKey(const std::string& path);

// Creates `path` holding a fresh key as LoadSecretKey reads it, mode 0600,
// and fsyncs it and its directory. Never overwrites: an existing path is
// kInvalidArgument. On a failure after creating the file, the file is
// removed again.
Status WriteNewSecretKey(const std::string& path);

// 16 lowercase hex digits naming the key in logs and errors ("which key"):
// the start of SHA-256("sqlx secret key id v1" || 0x00 || key). It reveals
// nothing usable about the key. Stable across processes and builds.
std::string KeyId(const SecretKey& key);

// Encrypts and authenticates `plaintext` with AES-256-GCM under a fresh
// random nonce:
//   version (1 byte, 0x01) | nonce (12) | ciphertext (plaintext's size) | tag (16)
// `associated_data` is authenticated (GCM's AAD is the version byte followed
// by it), not stored: Open must be given the same bytes. Bind a secret to where it belongs with it (e.g. the connection
// name), so a blob copied to another record does not open there. Two seals of
// the same plaintext differ. kLimit when plaintext is 2 GiB or more;
// kInternal when OpenSSL fails.
Result<std::string> Seal(const SecretKey& key, std::string_view plaintext, std::string_view associated_data);

// The plaintext of a Seal output. kInvalidArgument, never a crash, for any
// other bytes: too short, an unknown version byte, or a tag that does not
// verify (wrong key, other associated data, or altered bytes; these three
// cannot be told apart). Safe on untrusted input.
Result<std::string> Open(const SecretKey& key, std::string_view sealed, std::string_view associated_data);

// Orchestrator HTTP API tokens: "sqlx_" then the unpadded base64url form of
// 32 random bytes (43 characters). The token is shown once; only its digest
// is stored.
inline constexpr std::string_view kApiTokenPrefix = "sqlx_";
inline constexpr size_t kApiTokenSize = 48;
// The associated data a connection's password is sealed under, the same at
// rest (the orchestrator's store) and in jobs on the bus: "connection-password/NAME".
inline std::string ConnectionPasswordAad(std::string_view connection) {
  return "connection-password/" + std::string(connection);
}

std::string NewApiToken();

// 64 lowercase hex digits: SHA-256 of the token's bytes, as stored.
std::string TokenDigest(std::string_view token);

// Whether two digests are equal, in time that depends only on their sizes
// (CRYPTO_memcmp). Digests of different sizes are unequal.
bool DigestsEqual(std::string_view a, std::string_view b);

}  // namespace sqlx::secrets
