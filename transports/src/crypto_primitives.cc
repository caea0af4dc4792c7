// Crypto primitives over OpenSSL 3 (digests, HMAC, RSA-OAEP, randomness) and
// libsodium (Ed25519 with an expanded key, built from its group primitives).
#include "crypto_primitives.h"

#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include <algorithm>
#include <array>
#include <climits>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <string>

namespace sqlx::transports::crypto {
namespace {

// Our algorithm names → OpenSSL's. `oaep` marks the hashes RsaOaepEncrypt
// accepts (the contract in crypto_primitives.h).
struct HashAlgorithm {
  std::string_view name;
  const char* openssl_name;
  int size;  // digest bytes
  bool oaep;
};

constexpr std::array<HashAlgorithm, 4> kHashAlgorithms = {{
    {"sha1", "SHA1", 20, true},
    {"sha256", "SHA256", 32, true},
    {"sha512", "SHA512", 64, false},
    {"md5", "MD5", 16, false},
}};

const HashAlgorithm* FindHash(std::string_view name) {
  for (const HashAlgorithm& algorithm : kHashAlgorithms) {
    if (algorithm.name == name) return &algorithm;
  }
  return nullptr;
}

Error UnknownHash(std::string_view what, std::string_view name) {
  return MakeError(ErrorCode::kInvalidArgument,
                   std::string("unknown ") + std::string(what) + " algorithm '" +
                       std::string(name) + "': use sha1, sha256, sha512 or md5");
}

// Drains OpenSSL's thread-local error queue into one line; call ERR_clear_error
// before the operation so only its own errors are reported.
std::string OpensslReason() {
  std::string reason;
  unsigned long code = 0;
  while ((code = ERR_get_error()) != 0) {
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    if (!reason.empty()) reason += "; ";
    reason += text.data();
  }
  return reason.empty() ? std::string("no OpenSSL error reported") : reason;
}

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct DecoderCtxFree {
  void operator()(OSSL_DECODER_CTX* ctx) const { OSSL_DECODER_CTX_free(ctx); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using DecoderCtxPtr = std::unique_ptr<OSSL_DECODER_CTX, DecoderCtxFree>;

// Parses a PEM public key: SubjectPublicKeyInfo ("BEGIN PUBLIC KEY") or
// PKCS#1 ("BEGIN RSA PUBLIC KEY"); the decoder tries both structures.
Result<PkeyPtr> DecodeRsaPublicKey(ByteView pem) {
  if (pem.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot read the RSA public key: it is empty");
  }
  ERR_clear_error();
  EVP_PKEY* raw_key = nullptr;
  DecoderCtxPtr decoder(OSSL_DECODER_CTX_new_for_pkey(&raw_key, "PEM", nullptr, nullptr,
                                                      EVP_PKEY_PUBLIC_KEY, nullptr, nullptr));
  if (!decoder) {
    return MakeError(ErrorCode::kInternal,
                     "cannot create an OpenSSL key decoder: " + OpensslReason());
  }
  const unsigned char* data = pem.data();
  size_t length = pem.size();
  if (OSSL_DECODER_from_data(decoder.get(), &data, &length) != 1 || raw_key == nullptr) {
    EVP_PKEY_free(raw_key);
    return MakeError(ErrorCode::kInvalidArgument,
                     "cannot read the RSA public key (expected PEM \"BEGIN PUBLIC KEY\" or "
                     "\"BEGIN RSA PUBLIC KEY\"): " + OpensslReason());
  }
  PkeyPtr key(raw_key);
  if (EVP_PKEY_is_a(key.get(), "RSA") != 1) {
    const char* type = EVP_PKEY_get0_type_name(key.get());
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string("the public key is ") + (type != nullptr ? type : "not RSA") +
                         ", RSA-OAEP needs an RSA key");
  }
  return key;
}

// True when libsodium is usable. sodium_init() returns 1 when something else
// initialised it first and -1 only when it cannot set itself up.
bool EnsureSodium() {
  static std::once_flag once;
  static bool ready = false;
  std::call_once(once, [] { ready = sodium_init() >= 0; });
  return ready;
}

// Reduces a 32-byte little-endian scalar modulo the group order L.
std::array<uint8_t, crypto_core_ed25519_SCALARBYTES> ReduceScalar32(const uint8_t* scalar) {
  std::array<uint8_t, crypto_core_ed25519_NONREDUCEDSCALARBYTES> wide{};
  std::copy_n(scalar, 32, wide.begin());
  std::array<uint8_t, crypto_core_ed25519_SCALARBYTES> reduced{};
  crypto_core_ed25519_scalar_reduce(reduced.data(), wide.data());
  sodium_memzero(wide.data(), wide.size());
  return reduced;
}

// SHA-512 of the concatenated parts, reduced modulo L.
std::array<uint8_t, crypto_core_ed25519_SCALARBYTES> HashToScalar(
    std::initializer_list<ByteView> parts) {
  crypto_hash_sha512_state state;
  crypto_hash_sha512_init(&state);
  for (ByteView part : parts) crypto_hash_sha512_update(&state, part.data(), part.size());
  std::array<uint8_t, crypto_hash_sha512_BYTES> hash{};
  crypto_hash_sha512_final(&state, hash.data());
  std::array<uint8_t, crypto_core_ed25519_SCALARBYTES> scalar{};
  crypto_core_ed25519_scalar_reduce(scalar.data(), hash.data());
  sodium_memzero(hash.data(), hash.size());
  sodium_memzero(&state, sizeof(state));
  return scalar;
}

}  // namespace

Result<Bytes> Digest(std::string_view algorithm, ByteView data) {
  const HashAlgorithm* hash = FindHash(algorithm);
  if (hash == nullptr) return UnknownHash("digest", algorithm);
  ERR_clear_error();
  Bytes out(EVP_MAX_MD_SIZE);
  size_t length = 0;
  if (EVP_Q_digest(nullptr, hash->openssl_name, nullptr, data.data(), data.size(), out.data(),
                   &length) != 1) {
    return MakeError(ErrorCode::kUnsupported, std::string("OpenSSL cannot compute ") +
                                                  hash->openssl_name + ": " + OpensslReason());
  }
  out.resize(length);
  return out;
}

Result<Bytes> Hmac(std::string_view algorithm, ByteView key, ByteView data) {
  const HashAlgorithm* hash = FindHash(algorithm);
  if (hash == nullptr) return UnknownHash("HMAC", algorithm);
  ERR_clear_error();
  // OpenSSL's HMAC treats a null key as "reuse the previous key", so an empty
  // key must still be a non-null pointer.
  static constexpr unsigned char kNoKey = 0;
  const unsigned char* key_data = key.empty() ? &kNoKey : key.data();
  Bytes out(EVP_MAX_MD_SIZE);
  size_t length = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, hash->openssl_name, nullptr, key_data, key.size(),
                data.data(), data.size(), out.data(), out.size(), &length) == nullptr) {
    return MakeError(ErrorCode::kUnsupported, std::string("OpenSSL cannot compute HMAC-") +
                                                  hash->openssl_name + ": " + OpensslReason());
  }
  out.resize(length);
  return out;
}

Result<Bytes> XorRepeat(ByteView a, ByteView key) {
  if (key.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "XorRepeat needs a non-empty key");
  }
  Bytes out(a.size());
  for (size_t i = 0; i < a.size(); ++i) out[i] = a[i] ^ key[i % key.size()];
  return out;
}

Result<Bytes> RsaOaepEncrypt(ByteView pem_public_key, ByteView data,
                             std::string_view oaep_hash) {
  const HashAlgorithm* hash = FindHash(oaep_hash);
  if (hash == nullptr || !hash->oaep) {
    return MakeError(ErrorCode::kInvalidArgument, "unsupported RSA-OAEP hash '" +
                                                      std::string(oaep_hash) +
                                                      "': use sha1 or sha256");
  }
  SQLX_ASSIGN_OR_RETURN(PkeyPtr key, DecodeRsaPublicKey(pem_public_key));

  ERR_clear_error();
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
  if (!ctx || EVP_PKEY_encrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx.get(), hash->openssl_name, nullptr) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx.get(), hash->openssl_name, nullptr) != 1) {
    return MakeError(ErrorCode::kInternal,
                     "cannot set up RSA-OAEP encryption: " + OpensslReason());
  }
  size_t length = 0;
  if (EVP_PKEY_encrypt(ctx.get(), nullptr, &length, data.data(), data.size()) != 1) {
    return MakeError(ErrorCode::kInternal,
                     "cannot size the RSA-OAEP ciphertext: " + OpensslReason());
  }
  Bytes out(length);
  if (EVP_PKEY_encrypt(ctx.get(), out.data(), &length, data.data(), data.size()) != 1) {
    // OAEP fits at most modulus - 2 * hash - 2 bytes of plaintext.
    const int modulus_bytes = EVP_PKEY_get_size(key.get());
    return MakeError(ErrorCode::kInvalidArgument,
                     "RSA-OAEP-" + std::string(hash->openssl_name) + " cannot encrypt " +
                         std::to_string(data.size()) + " bytes with a " +
                         std::to_string(modulus_bytes * 8) + "-bit key (at most " +
                         std::to_string(std::max(0, modulus_bytes - 2 * hash->size - 2)) +
                         " bytes fit): " + OpensslReason());
  }
  out.resize(length);
  return out;
}

// RFC 8032 5.1.6 with the expanded key h = expanded_secret:
//   a = clamp(h[0..31]);  A = a·B
//   r = SHA-512(h[32..63] || M) mod L;  R = r·B
//   k = SHA-512(R || A || M) mod L;     S = (r + k·a) mod L
//   signature = R || S
// a·B equals (a mod L)·B, so A and the scalar product both use a mod L.
Result<Bytes> Ed25519SignExpanded(ByteView expanded_secret, ByteView message) {
  if (expanded_secret.size() != 64) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "an expanded Ed25519 secret key has 64 bytes, got " +
                         std::to_string(expanded_secret.size()));
  }
  if (!EnsureSodium()) {
    return MakeError(ErrorCode::kInternal, "libsodium failed to initialise: cannot sign");
  }

  std::array<uint8_t, 32> clamped{};
  std::copy_n(expanded_secret.begin(), 32, clamped.begin());
  clamped[0] &= 248;
  clamped[31] &= 127;
  clamped[31] |= 64;
  std::array<uint8_t, crypto_core_ed25519_SCALARBYTES> a = ReduceScalar32(clamped.data());
  sodium_memzero(clamped.data(), clamped.size());

  std::array<uint8_t, crypto_core_ed25519_BYTES> public_key{};
  std::array<uint8_t, crypto_core_ed25519_SCALARBYTES> r =
      HashToScalar({expanded_secret.subspan(32, 32), message});
  Bytes signature(crypto_sign_BYTES);
  // Both calls fail only for a scalar ≡ 0 mod L: impossible for a clamped a,
  // negligible for r (a hash output).
  if (crypto_scalarmult_ed25519_base_noclamp(public_key.data(), a.data()) != 0 ||
      crypto_scalarmult_ed25519_base_noclamp(signature.data(), r.data()) != 0) {
    sodium_memzero(a.data(), a.size());
    sodium_memzero(r.data(), r.size());
    return MakeError(ErrorCode::kInternal, "Ed25519 signing met a zero scalar: report it");
  }

  std::array<uint8_t, crypto_core_ed25519_SCALARBYTES> k =
      HashToScalar({ByteView(signature.data(), 32), public_key, message});
  std::array<uint8_t, crypto_core_ed25519_SCALARBYTES> ka{};
  crypto_core_ed25519_scalar_mul(ka.data(), k.data(), a.data());
  crypto_core_ed25519_scalar_add(signature.data() + 32, r.data(), ka.data());

  sodium_memzero(a.data(), a.size());
  sodium_memzero(r.data(), r.size());
  sodium_memzero(ka.data(), ka.size());
  return signature;
}

Result<Bytes> Ed25519Sign(ByteView seed, ByteView message) {
  if (seed.size() != crypto_sign_SEEDBYTES) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "an Ed25519 seed has 32 bytes, got " + std::to_string(seed.size()));
  }
  std::array<uint8_t, crypto_hash_sha512_BYTES> expanded{};
  crypto_hash_sha512(expanded.data(), seed.data(), seed.size());
  Result<Bytes> signature = Ed25519SignExpanded(expanded, message);
  sodium_memzero(expanded.data(), expanded.size());
  return signature;
}

Bytes RandomBytes(size_t size) {
  Bytes out(size);
  size_t done = 0;
  while (done < size) {
    const int chunk = static_cast<int>(std::min<size_t>(size - done, INT_MAX));
    if (RAND_bytes(out.data() + done, chunk) != 1) break;
    done += static_cast<size_t>(chunk);
  }
  if (done < size) {
    // OpenSSL's DRBG could not seed: fall back to libsodium's system RNG.
    // If libsodium cannot initialise either, randombytes_buf aborts rather
    // than return predictable bytes.
    ERR_clear_error();
    static_cast<void>(EnsureSodium());
    randombytes_buf(out.data() + done, size - done);
  }
  return out;
}

}  // namespace sqlx::transports::crypto
