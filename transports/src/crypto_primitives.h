// Named, generic crypto primitives that wire-pack scripts compose into auth
// plugins. A primitive never implements a whole plugin: it is a hash, a MAC,
// an XOR, a public-key encryption or a signature, nothing protocol-shaped.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "sqlx/messages/result.h"

namespace sqlx::transports::crypto {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

// algorithm: "sha1", "sha256", "sha512", "md5". kInvalidArgument otherwise.
Result<Bytes> Digest(std::string_view algorithm, ByteView data);

// HMAC with the same algorithm names as Digest.
Result<Bytes> Hmac(std::string_view algorithm, ByteView key, ByteView data);

// a[i] ^ key[i % key.size()]: output has a's length. kInvalidArgument when key
// is empty.
Result<Bytes> XorRepeat(ByteView a, ByteView key);

// RSA-OAEP encryption with a PEM public key ("-----BEGIN PUBLIC KEY-----" or
// "-----BEGIN RSA PUBLIC KEY-----"). oaep_hash: "sha1" (OAEP's default,
// MGF1 with the same hash) or "sha256". Output is random (fresh padding).
Result<Bytes> RsaOaepEncrypt(ByteView pem_public_key, ByteView data, std::string_view oaep_hash);

// Ed25519 signature (64 bytes) with an *expanded* 64-byte secret key: bytes
// 0..31 are the scalar before clamping, 32..63 the nonce prefix (RFC 8032
// 5.1.5 step 1 output). Standard Ed25519 is this with expanded = SHA-512(seed).
Result<Bytes> Ed25519SignExpanded(ByteView expanded_secret, ByteView message);

// Standard RFC 8032 Ed25519 with a 32-byte seed.
Result<Bytes> Ed25519Sign(ByteView seed, ByteView message);

// Cryptographically secure random bytes.
Bytes RandomBytes(size_t size);

}  // namespace sqlx::transports::crypto
