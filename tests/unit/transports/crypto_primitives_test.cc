// Tests for the crypto primitives and TlsMode names. Expected values come from
// independent implementations: Python's hashlib/hmac, the RFC 8032 section 6
// reference Ed25519 in Python, libsodium's standard Ed25519 API, and OpenSSL
// RSA decryption written out in this file.
#include "crypto_primitives.h"

#include <gtest/gtest.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <sodium.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sqlx/transports/tls.h"

namespace sqlx::transports::crypto {
namespace {

Bytes FromHex(std::string_view hex) {
  auto nibble = [](char c) -> uint8_t {
    if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0');
    return static_cast<uint8_t>(c - 'a' + 10);
  };
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return out;
}

std::string ToHex(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

Bytes FromText(std::string_view text) { return Bytes(text.begin(), text.end()); }

constexpr std::string_view kFox = "The quick brown fox jumps over the lazy dog";

// ---------------------------------------------------------------- digests

struct DigestCase {
  std::string_view algorithm;
  std::string_view input;
  std::string_view expected_hex;
};

// python3: hashlib.new(algorithm, input).hexdigest()
constexpr DigestCase kDigestCases[] = {
    {"sha1", "", "da39a3ee5e6b4b0d3255bfef95601890afd80709"},
    {"sha1", "abc", "a9993e364706816aba3e25717850c26c9cd0d89d"},
    {"sha1", kFox, "2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"},
    {"sha256", "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
    {"sha256", "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {"sha256", kFox, "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592"},
    {"sha512", "",
     "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce"
     "47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"},
    {"sha512", "abc",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
    {"sha512", kFox,
     "07e547d9586f6a73f73fbac0435ed76951218fb7d0c8d788a309d785436bbb64"
     "2e93a252a954f23912547d1e8a3b5ed6e1bfd7097821233fa0538f3db854fee6"},
    {"md5", "", "d41d8cd98f00b204e9800998ecf8427e"},
    {"md5", "abc", "900150983cd24fb0d6963f7d28e17f72"},
    {"md5", kFox, "9e107d9d372bb6826bd81d3542a419d6"},
};

TEST(CryptoPrimitivesTest, DigestsMatchKnownVectors) {
  for (const DigestCase& c : kDigestCases) {
    SCOPED_TRACE(std::string(c.algorithm) + "(\"" + std::string(c.input) + "\")");
    Result<Bytes> digest = Digest(c.algorithm, FromText(c.input));
    ASSERT_TRUE(digest.ok()) << digest.error().message;
    EXPECT_EQ(ToHex(*digest), c.expected_hex);
  }
}

TEST(CryptoPrimitivesTest, DigestRejectsAnUnknownAlgorithmByName) {
  Result<Bytes> digest = Digest("sha3-256", FromText("abc"));
  ASSERT_FALSE(digest.ok());
  EXPECT_EQ(digest.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(digest.error().message.find("sha3-256"), std::string::npos);
}

// ------------------------------------------------------------------- HMAC

struct HmacCase {
  std::string_view name;
  std::string_view algorithm;
  Bytes key;
  Bytes data;
  std::string_view expected_hex;
};

// python3: hmac.new(key, data, algorithm).hexdigest(); the first row is
// RFC 4231 test case 1.
const std::vector<HmacCase>& HmacCases() {
  static const std::vector<HmacCase> cases = {
      {"rfc4231 case 1", "sha256", Bytes(20, 0x0b), FromText("Hi There"),
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
      {"fox sha1", "sha1", FromText("key"), FromText(kFox),
       "de7c9b85b8b78aa6bc8a7a36f70a90701c9db4d9"},
      {"fox sha256", "sha256", FromText("key"), FromText(kFox),
       "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"},
      {"fox sha512", "sha512", FromText("key"), FromText(kFox),
       "b42af09057bac1e2d41708e48a902e09b5ff7f12ab428a4fe86653c73dd248fb"
       "82f948a549f7b791a5b41915ee4d1ec3935357e4e2317250d0372afa2ebeeb3a"},
      {"fox md5", "md5", FromText("key"), FromText(kFox), "80070713463e7749b90c2dc24911e275"},
      {"empty key and data sha1", "sha1", {}, {}, "fbdb1d1b18aa6c08324b7d64b71fb76370690e1d"},
      {"empty key and data sha256", "sha256", {}, {},
       "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"},
  };
  return cases;
}

TEST(CryptoPrimitivesTest, HmacsMatchKnownVectors) {
  for (const HmacCase& c : HmacCases()) {
    SCOPED_TRACE(c.name);
    Result<Bytes> mac = Hmac(c.algorithm, c.key, c.data);
    ASSERT_TRUE(mac.ok()) << mac.error().message;
    EXPECT_EQ(ToHex(*mac), c.expected_hex);
  }
}

TEST(CryptoPrimitivesTest, HmacRejectsAnUnknownAlgorithmByName) {
  Result<Bytes> mac = Hmac("whirlpool", FromText("key"), FromText("data"));
  ASSERT_FALSE(mac.ok());
  EXPECT_EQ(mac.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(mac.error().message.find("whirlpool"), std::string::npos);
}

// -------------------------------------------------------------- XorRepeat

TEST(CryptoPrimitivesTest, XorRepeatCyclesAShorterKey) {
  Result<Bytes> out = XorRepeat(FromHex("0102030405"), FromHex("ff00"));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(ToHex(*out), "fe02fc04fa");
}

TEST(CryptoPrimitivesTest, XorRepeatOfEmptyInputIsEmpty) {
  Result<Bytes> out = XorRepeat({}, FromHex("ff"));
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_TRUE(out->empty());
}

TEST(CryptoPrimitivesTest, XorRepeatRejectsAnEmptyKey) {
  Result<Bytes> out = XorRepeat(FromHex("0102"), {});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::kInvalidArgument);
}

// MySQL native password, composed the way a wire pack composes it:
// SHA1(pw) XOR SHA1(scramble || SHA1(SHA1(pw))). Expected value from python3
// hashlib with pw = b"secret", scramble = bytes(range(1, 21)).
TEST(CryptoPrimitivesTest, ComposesTheNativePasswordScramble) {
  Bytes scramble;
  for (uint8_t i = 1; i <= 20; ++i) scramble.push_back(i);
  Result<Bytes> stage1 = Digest("sha1", FromText("secret"));
  ASSERT_TRUE(stage1.ok());
  Result<Bytes> stage2 = Digest("sha1", *stage1);
  ASSERT_TRUE(stage2.ok());
  Bytes salted = scramble;
  salted.insert(salted.end(), stage2->begin(), stage2->end());
  Result<Bytes> stage3 = Digest("sha1", salted);
  ASSERT_TRUE(stage3.ok());
  Result<Bytes> token = XorRepeat(*stage1, *stage3);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(ToHex(*token), "b32bb3a583e1340c0a1108d58b1be49781ad8c2f");
}

// ---------------------------------------------------------------- RSA-OAEP

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
struct PkeyCtxFree {
  void operator()(EVP_PKEY_CTX* ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct EncoderCtxFree {
  void operator()(OSSL_ENCODER_CTX* ctx) const { OSSL_ENCODER_CTX_free(ctx); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using EncoderCtxPtr = std::unique_ptr<OSSL_ENCODER_CTX, EncoderCtxFree>;

// structure: "SubjectPublicKeyInfo" or "type-specific" (PKCS#1 for RSA).
Bytes PublicKeyPem(EVP_PKEY* key, const char* structure) {
  EncoderCtxPtr encoder(OSSL_ENCODER_CTX_new_for_pkey(key, EVP_PKEY_PUBLIC_KEY, "PEM",
                                                      structure, nullptr));
  unsigned char* data = nullptr;
  size_t length = 0;
  if (!encoder || OSSL_ENCODER_to_data(encoder.get(), &data, &length) != 1) return {};
  Bytes pem(data, data + length);
  OPENSSL_free(data);
  return pem;
}

class RsaOaepTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { key_ = EVP_RSA_gen(2048); }
  static void TearDownTestSuite() {
    EVP_PKEY_free(key_);
    key_ = nullptr;
  }

  // Decrypts with the private key through EVP: the path RsaOaepEncrypt does
  // not take, with OAEP and MGF1 hashes set explicitly.
  static Bytes Decrypt(ByteView ciphertext, const char* hash) {
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key_, nullptr));
    if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx.get(), hash, nullptr) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx.get(), hash, nullptr) != 1) {
      return {};
    }
    size_t length = 0;
    if (EVP_PKEY_decrypt(ctx.get(), nullptr, &length, ciphertext.data(), ciphertext.size()) !=
        1) {
      return {};
    }
    Bytes plain(length);
    if (EVP_PKEY_decrypt(ctx.get(), plain.data(), &length, ciphertext.data(),
                         ciphertext.size()) != 1) {
      return {};
    }
    plain.resize(length);
    return plain;
  }

  static EVP_PKEY* key_;
};

EVP_PKEY* RsaOaepTest::key_ = nullptr;

struct OaepCase {
  const char* structure;
  std::string_view pem_header;
  std::string_view hash;
  const char* openssl_hash;
};

constexpr OaepCase kOaepCases[] = {
    {"SubjectPublicKeyInfo", "-----BEGIN PUBLIC KEY-----", "sha1", "SHA1"},
    {"SubjectPublicKeyInfo", "-----BEGIN PUBLIC KEY-----", "sha256", "SHA256"},
    {"type-specific", "-----BEGIN RSA PUBLIC KEY-----", "sha1", "SHA1"},
    {"type-specific", "-----BEGIN RSA PUBLIC KEY-----", "sha256", "SHA256"},
};

TEST_F(RsaOaepTest, EncryptsSoThePrivateKeyDecryptsWithBothPemForms) {
  ASSERT_NE(key_, nullptr);
  const Bytes password = FromText(std::string_view("secret\0password", 15));
  for (const OaepCase& c : kOaepCases) {
    SCOPED_TRACE(std::string(c.pem_header) + " " + std::string(c.hash));
    Bytes pem = PublicKeyPem(key_, c.structure);
    ASSERT_EQ(std::string_view(reinterpret_cast<const char*>(pem.data()), pem.size())
                  .substr(0, c.pem_header.size()),
              c.pem_header);
    Result<Bytes> first = RsaOaepEncrypt(pem, password, c.hash);
    ASSERT_TRUE(first.ok()) << first.error().message;
    EXPECT_EQ(first->size(), 256U);
    EXPECT_EQ(Decrypt(*first, c.openssl_hash), password);
    Result<Bytes> second = RsaOaepEncrypt(pem, password, c.hash);
    ASSERT_TRUE(second.ok()) << second.error().message;
    EXPECT_NE(*first, *second) << "OAEP padding must be fresh each time";
    EXPECT_EQ(Decrypt(*second, c.openssl_hash), password);
  }
}

TEST_F(RsaOaepTest, EncryptsTheLongestPlaintextThatFits) {
  Bytes pem = PublicKeyPem(key_, "SubjectPublicKeyInfo");
  // 2048-bit modulus: 256 - 2 * hash - 2 bytes fit.
  const Bytes sha1_max(214, 0x5a);
  Result<Bytes> sha1 = RsaOaepEncrypt(pem, sha1_max, "sha1");
  ASSERT_TRUE(sha1.ok()) << sha1.error().message;
  EXPECT_EQ(Decrypt(*sha1, "SHA1"), sha1_max);
  const Bytes sha256_max(190, 0xa5);
  Result<Bytes> sha256 = RsaOaepEncrypt(pem, sha256_max, "sha256");
  ASSERT_TRUE(sha256.ok()) << sha256.error().message;
  EXPECT_EQ(Decrypt(*sha256, "SHA256"), sha256_max);
}

TEST_F(RsaOaepTest, RejectsDataTooLongForTheKey) {
  Bytes pem = PublicKeyPem(key_, "SubjectPublicKeyInfo");
  Result<Bytes> out = RsaOaepEncrypt(pem, Bytes(191, 1), "sha256");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(out.error().message.find("191 bytes"), std::string::npos) << out.error().message;
  EXPECT_NE(out.error().message.find("at most 190"), std::string::npos) << out.error().message;
  EXPECT_NE(out.error().message.find("too large"), std::string::npos) << out.error().message;
}

TEST_F(RsaOaepTest, RejectsAnUnsupportedOaepHash) {
  Bytes pem = PublicKeyPem(key_, "SubjectPublicKeyInfo");
  Result<Bytes> out = RsaOaepEncrypt(pem, FromText("x"), "md5");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(out.error().message.find("md5"), std::string::npos);
}

TEST(CryptoPrimitivesTest, RsaOaepRejectsMalformedPem) {
  const std::vector<Bytes> bad_keys = {
      {},
      FromText("not a key"),
      FromText("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"),
      FromText("-----BEGIN RSA PUBLIC KEY-----\nMIIBCgKCAQEA\n-----END RSA PUBLIC KEY-----\n"),
  };
  for (const Bytes& pem : bad_keys) {
    SCOPED_TRACE(std::string(pem.begin(), pem.end()));
    Result<Bytes> out = RsaOaepEncrypt(pem, FromText("secret"), "sha1");
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(out.error().message.find("cannot read the RSA public key"), std::string::npos)
        << out.error().message;
  }
}

TEST(CryptoPrimitivesTest, RsaOaepRejectsANonRsaKey) {
  PkeyPtr ed25519(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  ASSERT_TRUE(ed25519);
  Bytes pem = PublicKeyPem(ed25519.get(), "SubjectPublicKeyInfo");
  ASSERT_FALSE(pem.empty());
  Result<Bytes> out = RsaOaepEncrypt(pem, FromText("secret"), "sha1");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(out.error().message.find("ED25519"), std::string::npos) << out.error().message;
}

// ----------------------------------------------------------------- Ed25519

struct Ed25519Case {
  std::string_view name;
  std::string_view expanded_hex;  // 64-byte expanded secret
  Bytes message;
  std::string_view signature_hex;
};

// python3: the RFC 8032 section 6 reference code, signing from the expanded
// key directly (it reproduces RFC 8032 test 1, checked below).
const std::vector<Ed25519Case>& ExpandedCases() {
  static const std::vector<Ed25519Case> cases = {
      {"scalar half all ones, needs clamping and reduction",
       "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
       "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
       FromText("unclamped"),
       "75a355ed9a3b21eec08e13daf5125d5f26be5488d24f2182f19c4fe3ddd62ab6"
       "510997f5aff48cdf3ce07d32ee04e2f3702f53f6ffa0f4669fc340bc2dd24b01"},
      {"all zero expanded key, empty message",
       "0000000000000000000000000000000000000000000000000000000000000000"
       "0000000000000000000000000000000000000000000000000000000000000000",
       {},
       "fcd5d9f3b28c51f2250d9ebc385a9a4441e42ff341f1388e453c92ff2bfe532e"
       "c59186d9bb77c8208e95d6d544401c5fe83ae0882229a049e29b3fe5ebded801"},
  };
  return cases;
}

TEST(CryptoPrimitivesTest, Ed25519SignExpandedMatchesTheReferenceImplementation) {
  for (const Ed25519Case& c : ExpandedCases()) {
    SCOPED_TRACE(c.name);
    Result<Bytes> signature = Ed25519SignExpanded(FromHex(c.expanded_hex), c.message);
    ASSERT_TRUE(signature.ok()) << signature.error().message;
    EXPECT_EQ(ToHex(*signature), c.signature_hex);
  }
}

TEST(CryptoPrimitivesTest, Ed25519SignMatchesRfc8032TestVector1) {
  Result<Bytes> signature = Ed25519Sign(
      FromHex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"), {});
  ASSERT_TRUE(signature.ok()) << signature.error().message;
  EXPECT_EQ(ToHex(*signature),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bac"
            "c61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
}

TEST(CryptoPrimitivesTest, Ed25519SignMatchesLibsodiumForAFixedSeed) {
  ASSERT_GE(sodium_init(), 0);
  Bytes seed;
  for (uint8_t i = 0; i < 32; ++i) seed.push_back(i);
  const Bytes message = FromText("SQLx OS signs this");
  Bytes public_key(crypto_sign_PUBLICKEYBYTES);
  Bytes secret_key(crypto_sign_SECRETKEYBYTES);
  ASSERT_EQ(crypto_sign_seed_keypair(public_key.data(), secret_key.data(), seed.data()), 0);
  Bytes expected(crypto_sign_BYTES);
  ASSERT_EQ(crypto_sign_detached(expected.data(), nullptr, message.data(), message.size(),
                                 secret_key.data()),
            0);

  Result<Bytes> signature = Ed25519Sign(seed, message);
  ASSERT_TRUE(signature.ok()) << signature.error().message;
  EXPECT_EQ(ToHex(*signature), ToHex(expected));
  // The same value from the Python reference implementation.
  EXPECT_EQ(ToHex(*signature),
            "7dc6a491c208978d35a952a6b931690c11f70589006671642ded9b49043d9dcb"
            "8556e9d545210bc2f8689852847841533691778861aadd364133ac983a513404");
}

// MariaDB's client_ed25519: the expanded key is SHA-512(password) and the
// server stores clamp(SHA-512(password)[0..31])·B as the public key.
TEST(CryptoPrimitivesTest, Ed25519SignExpandedVerifiesAsMariadbClientEd25519) {
  ASSERT_GE(sodium_init(), 0);
  Bytes scramble;
  for (uint8_t i = 0x40; i < 0x60; ++i) scramble.push_back(i);
  Result<Bytes> expanded = Digest("sha512", FromText("secret password"));
  ASSERT_TRUE(expanded.ok());
  Bytes public_key(crypto_scalarmult_ed25519_BYTES);
  // crypto_scalarmult_ed25519_base clamps its scalar itself.
  ASSERT_EQ(crypto_scalarmult_ed25519_base(public_key.data(), expanded->data()), 0);
  EXPECT_EQ(ToHex(public_key),
            "3d2b1925ae3f71219afd84b05f145218eec84e3308aad795638f98a390a32d6e");

  Result<Bytes> signature = Ed25519SignExpanded(*expanded, scramble);
  ASSERT_TRUE(signature.ok()) << signature.error().message;
  EXPECT_EQ(crypto_sign_verify_detached(signature->data(), scramble.data(), scramble.size(),
                                        public_key.data()),
            0);
  EXPECT_EQ(ToHex(*signature),
            "150c9f54fbf97fd7ddfdc7bcf07ec9c9e6d947d762c1a5d8b9d9c84ef99f5b8d"
            "b321ddcce0eb8a3c91d4e881b48659b766b076b99660389b65b7f2ca5aa8db06");
}

TEST(CryptoPrimitivesTest, Ed25519RejectsWrongKeyLengths) {
  Result<Bytes> expanded = Ed25519SignExpanded(Bytes(32, 1), FromText("m"));
  ASSERT_FALSE(expanded.ok());
  EXPECT_EQ(expanded.error().code, ErrorCode::kInvalidArgument);
  Result<Bytes> seeded = Ed25519Sign(Bytes(64, 1), FromText("m"));
  ASSERT_FALSE(seeded.ok());
  EXPECT_EQ(seeded.error().code, ErrorCode::kInvalidArgument);
}

// ------------------------------------------------------------ RandomBytes

TEST(CryptoPrimitivesTest, RandomBytesHaveTheAskedSizeAndDiffer) {
  EXPECT_TRUE(RandomBytes(0).empty());
  Bytes first = RandomBytes(32);
  Bytes second = RandomBytes(32);
  EXPECT_EQ(first.size(), 32U);
  EXPECT_EQ(second.size(), 32U);
  EXPECT_NE(first, second);
}

// ---------------------------------------------------------------- TlsMode

TEST(TlsModeTest, NamesRoundTripThroughTheParser) {
  for (TlsMode mode : {TlsMode::kDisabled, TlsMode::kPreferred, TlsMode::kRequired,
                       TlsMode::kVerifyCa, TlsMode::kVerifyIdentity}) {
    Result<TlsMode> parsed = ParseTlsMode(TlsModeName(mode));
    ASSERT_TRUE(parsed.ok()) << parsed.error().message;
    EXPECT_EQ(*parsed, mode) << TlsModeName(mode);
  }
  EXPECT_EQ(TlsModeName(TlsMode::kVerifyCa), "verify-ca");
  EXPECT_EQ(TlsModeName(TlsMode::kVerifyIdentity), "verify-identity");
}

TEST(TlsModeTest, ParsesMysqlSslModeSpelling) {
  struct Case {
    std::string_view text;
    TlsMode mode;
  };
  const Case cases[] = {
      {"DISABLED", TlsMode::kDisabled},   {"Preferred", TlsMode::kPreferred},
      {"REQUIRED", TlsMode::kRequired},   {"VERIFY_CA", TlsMode::kVerifyCa},
      {"verify_identity", TlsMode::kVerifyIdentity},
  };
  for (const Case& c : cases) {
    Result<TlsMode> parsed = ParseTlsMode(c.text);
    ASSERT_TRUE(parsed.ok()) << c.text;
    EXPECT_EQ(*parsed, c.mode) << c.text;
  }
}

TEST(TlsModeTest, RejectsAnUnknownModeListingTheAcceptedOnes) {
  Result<TlsMode> parsed = ParseTlsMode("verify-full");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().code, ErrorCode::kInvalidArgument);
  const std::string& message = parsed.error().message;
  EXPECT_NE(message.find("verify-full"), std::string::npos);
  for (std::string_view name :
       {"disabled", "preferred", "required", "verify-ca", "verify-identity"}) {
    EXPECT_NE(message.find(name), std::string::npos) << name;
  }
  EXPECT_FALSE(ParseTlsMode("").ok());
}

}  // namespace
}  // namespace sqlx::transports::crypto
