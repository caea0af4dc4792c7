// Wire-pack expression functions: every function in kFunctions
// (expr_functions.cc) with one known vector, the functions that read a
// layout's unread bytes, argument errors, and RSA-OAEP checked by decrypting.
#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "expr.h"
#include "expr_env.h"

namespace sqlx::transports {
namespace {

using testing::Bytes;
using testing::ExpectEvaluates;
using testing::ExprEnv;
using testing::Int;
using testing::Null;
using testing::Unhex;

// ------------------------------------------------------------------ functions

TEST(ExprFunctionTest, EachFunctionMatchesAKnownVector) {
  ExpectEvaluates({
      {"len('abc')", Int(3)},
      {"len(x'')", Int(0)},
      {"concat('a')", Bytes("a")},
      {"concat('a', 'b', x'00', 'c')", Bytes(std::string_view("ab\0c", 4))},
      {"slice('abcdef', 2)", Bytes("cdef")},
      {"slice('abcdef', 2, 3)", Bytes("cde")},
      {"slice('abcdef', 0, 0)", Bytes("")},
      {"slice('abc', 1, 100)", Bytes("bc")},
      {"slice('abc', 3)", Bytes("")},
      {"slice('abc', 10)", Bytes("")},
      {"slice('abc', 18446744073709551615, 18446744073709551615)", Bytes("")},
      {"byte('abc', 0)", Int('a')},
      {"byte(x'00ff', 1)", Int(0xff)},
      {"byte('abc', 3)", Null()},
      {"byte('', 0)", Null()},
      {"byte('abc', 18446744073709551615)", Null()},
      {"starts_with('-----BEGIN KEY', '-----BEGIN')", Int(1)},
      {"starts_with('ab', 'abc')", Int(0)},
      {"starts_with('ab', '')", Int(1)},
      {"trim_nul('ab' + x'0000')", Bytes("ab")},
      {"trim_nul(x'000000')", Bytes("")},
      {"trim_nul(x'610062')", Bytes(std::string_view("a\0b", 3))},
      {"zeros(3)", Bytes(std::string_view("\0\0\0", 3))},
      {"zeros(0)", Bytes("")},
      {"max(3, 7)", Int(7)},
      {"max(7, 3)", Int(7)},
      {"min(3, 7)", Int(3)},
      {"max(13, 0 - 8)", Int(UINT64_MAX - 7)},
      {"str(42)", Bytes("42")},
      {"str(0)", Bytes("0")},
      {"str(null)", Bytes("null")},
      {"str('x')", Bytes("x")},
      {"hex(255)", Bytes("0xff")},
      {"hex(0)", Bytes("0x0")},
      {"hex(18446744073709551615)", Bytes("0xffffffffffffffff")},
      {"hex(x'00ab')", Bytes("00ab")},
      {"hex('')", Bytes("")},
      {"is_null(null)", Int(1)},
      {"is_null(0)", Int(0)},
      {"is_null('')", Int(0)},
      {"is_null(byte('', 0))", Int(1)},
      {"xor(x'0f0f', x'ff')", Bytes("\xf0\xf0")},
      {"xor(x'0102', x'0304')", Bytes("\x02\x06")},
      {"xor(x'', x'ff')", Bytes("")},
      {"sha1('abc')", Bytes(Unhex("a9993e364706816aba3e25717850c26c9cd0d89d"))},
      {"sha1('')", Bytes(Unhex("da39a3ee5e6b4b0d3255bfef95601890afd80709"))},
      {"sha256('abc')",
       Bytes(Unhex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))},
      {"sha512('abc')",
       Bytes(Unhex("ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
                   "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"))},
      {"md5('abc')", Bytes(Unhex("900150983cd24fb0d6963f7d28e17f72"))},
      // RFC 2202 / RFC 4231 test case 2.
      {"hmac_sha1('Jefe', 'what do ya want for nothing?')",
       Bytes(Unhex("effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"))},
      {"hmac_sha256('Jefe', 'what do ya want for nothing?')",
       Bytes(Unhex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"))},
      {"hmac_sha512('Jefe', 'what do ya want for nothing?')",
       Bytes(Unhex("164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
                   "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"))},
      // RFC 8032 7.1 test 1 (empty message); the expanded form with
      // SHA-512(seed) is the same signature.
      {"ed25519_sign(x'9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', '')",
       Bytes(Unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                   "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"))},
      {"ed25519_sign_expanded(sha512(x'9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac0"
       "31cae7f60'), '')",
       Bytes(Unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                   "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"))},
  });
}

TEST(ExprFunctionTest, PeekAndRemainingReadTheUnreadBytesInsideALayout) {
  struct Case {
    const char* source;
    std::string_view unread;
    Value expected;
  };
  const std::vector<Case> cases = {
      {"peek(2)", "abc", Bytes("ab")},
      {"peek(10)", "abc", Bytes("abc")},
      {"peek(0)", "abc", Bytes("")},
      {"peek(1) == '#'", "#28000", Int(1)},
      {"peek(1) == '#'", "", Int(0)},
      {"remaining()", "abc", Int(3)},
      {"remaining()", "", Int(0)},
  };
  for (const Case& c : cases) {
    ExprEnv env;
    auto e = env.Compile(c.source);
    ASSERT_TRUE(e.ok()) << c.source;
    auto v = e->Eval(env.DecodeContext(c.unread));
    ASSERT_TRUE(v.ok()) << c.source << ": " << v.error().message;
    EXPECT_EQ(*v, c.expected) << c.source << " over '" << c.unread << "'";
  }
}

TEST(ExprFunctionTest, PeekAndRemainingFailOutsideALayout) {
  for (const char* source : {"peek(1)", "remaining()"}) {
    ExprEnv env;
    auto v = env.Eval(source);
    ASSERT_FALSE(v.ok()) << source;
    EXPECT_EQ(v.error().code, ErrorCode::kPack);
    EXPECT_NE(v.error().message.find("only available inside a layout"), std::string::npos)
        << v.error().message;
  }
}

TEST(ExprFunctionTest, FunctionErrorsAreErrorsNotCrashes) {
  struct Case {
    const char* source;
    const char* message_part;
  };
  const std::vector<Case> cases = {
      {"len(5)", "len(): argument 1 must be bytes, got integer"},
      {"concat('a', 1)", "concat(): argument 2 must be bytes"},
      {"slice('abc', 'x')", "slice(): argument 2 must be integer, got bytes"},
      {"byte(null, 0)", "byte(): argument 1 must be bytes, got null"},
      {"zeros(2000000)", "over 1 MiB"},
      {"max('a', 1)", "max(): argument 1 must be integer"},
      {"xor('abc', '')", ""},
      {"sha256(null)", "argument 1 must be bytes"},
      {"hmac_sha256(1, 'x')", "argument 1 must be bytes"},
      {"rsa_oaep_sha1('not a key', 'x')", ""},
      {"ed25519_sign('short seed', 'm')", ""},
      {"hex(null)", "hex(): argument 1 must be bytes"},
  };
  for (const Case& c : cases) {
    ExprEnv env;
    auto v = env.Eval(c.source);
    ASSERT_FALSE(v.ok()) << c.source << " should fail";
    EXPECT_NE(v.error().message.find(c.message_part), std::string::npos)
        << c.source << ": " << v.error().message;
    EXPECT_NE(v.error().message.find(std::string("evaluating \"") + c.source + "\""),
              std::string::npos)
        << v.error().message;
  }
}

// rsa_oaep_* output is random: decrypt it with the private key instead.
std::string DecryptOaep(EVP_PKEY* key, const std::string& ciphertext, const char* hash) {
  std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> ctx(
      EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr), EVP_PKEY_CTX_free);
  if (!ctx || EVP_PKEY_decrypt_init(ctx.get()) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx.get(), RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md_name(ctx.get(), hash, nullptr) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md_name(ctx.get(), hash, nullptr) != 1)
    return "<setup failed>";
  const auto* in = reinterpret_cast<const unsigned char*>(ciphertext.data());
  size_t len = 0;
  if (EVP_PKEY_decrypt(ctx.get(), nullptr, &len, in, ciphertext.size()) != 1) return "<size failed>";
  std::string out(len, '\0');
  if (EVP_PKEY_decrypt(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, in,
                       ciphertext.size()) != 1)
    return "<decrypt failed>";
  out.resize(len);
  return out;
}

TEST(ExprFunctionTest, RsaOaepEncryptsForThePrivateKeyHolder) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), EVP_PKEY_free);
  ASSERT_NE(key, nullptr);
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
  ASSERT_EQ(PEM_write_bio_PUBKEY(bio.get(), key.get()), 1);
  char* pem_data = nullptr;
  long pem_len = BIO_get_mem_data(bio.get(), &pem_data);
  std::string pem(pem_data, static_cast<size_t>(pem_len));

  struct Case {
    const char* source;
    const char* hash;
  };
  for (const Case& c : std::vector<Case>{{"rsa_oaep_sha1(pem, 'pw' + x'00')", "SHA1"},
                                         {"rsa_oaep_sha256(pem, 'pw' + x'00')", "SHA256"}}) {
    ExprEnv env;
    auto e = env.Compile(c.source);
    ASSERT_TRUE(e.ok()) << e.error().message;
    env.Set("pem", Bytes(pem));
    auto v = e->Eval(env.Context());
    ASSERT_TRUE(v.ok()) << c.source << ": " << v.error().message;
    ASSERT_TRUE(v->is_bytes());
    EXPECT_EQ(v->b.size(), 256u) << c.source;
    EXPECT_EQ(DecryptOaep(key.get(), v->b, c.hash), std::string("pw\0", 3)) << c.source;
  }
}

}  // namespace
}  // namespace sqlx::transports
