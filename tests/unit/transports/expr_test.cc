// Wire-pack expressions: literals, C precedence, short-circuiting, every
// function in kFunctions (expr_functions.cc) with one known vector, compile errors that point at
// a column, runtime type errors, and the integer fast path.
#include "expr.h"

#include <gtest/gtest.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <cstdint>
#include <map>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace sqlx::transports {

// Lets gtest print Values in failure messages.
void PrintTo(const Value& v, std::ostream* os) {
  switch (v.kind) {
    case Value::Kind::kNull: *os << "null"; return;
    case Value::Kind::kInt: *os << "int " << v.i; return;
    case Value::Kind::kBytes: {
      *os << "bytes x'";
      static constexpr char kDigits[] = "0123456789abcdef";
      for (unsigned char c : v.b) *os << kDigits[c >> 4] << kDigits[c & 15];
      *os << "'";
      return;
    }
  }
}

bool operator==(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  if (a.is_int()) return a.i == b.i;
  if (a.is_bytes()) return a.b == b.b;
  return true;
}

namespace {

Value Int(uint64_t v) { return Value::Int(v); }
Value Bytes(std::string_view v) { return Value::Bytes(v); }
Value Null() { return Value{}; }

std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

// One compile-and-evaluate environment: two pack constants, variables
// interned as expressions name them.
class ExprEnv {
 public:
  Result<Expr> Compile(std::string_view source) {
    auto e = Expr::Compile(source, constants_, symbols_);
    vars_.resize(symbols_.size());
    return e;
  }
  void Set(std::string_view name, Value v) {
    size_t slot = symbols_.Intern(name);
    vars_.resize(symbols_.size());
    vars_[slot] = std::move(v);
  }
  EvalContext Context() const { return EvalContext{&vars_, {}, false}; }
  EvalContext DecodeContext(std::string_view unread) const {
    return EvalContext{&vars_, unread, true};
  }
  // Compiles and evaluates; a compile error fails the test.
  Result<Value> Eval(std::string_view source) {
    auto e = Compile(source);
    if (!e.ok()) {
      ADD_FAILURE() << "compile \"" << source << "\": " << e.error().message;
      return e.error();
    }
    return e->Eval(Context());
  }

 private:
  std::map<std::string, uint64_t, std::less<>> constants_{{"FLAG_A", 1}, {"FLAG_B", 4}};
  SymbolTable symbols_;
  std::vector<Value> vars_;
};

struct EvalCase {
  const char* source;
  Value expected;
};

void ExpectEvaluates(const std::vector<EvalCase>& cases) {
  for (const EvalCase& c : cases) {
    ExprEnv env;
    auto v = env.Eval(c.source);
    ASSERT_TRUE(v.ok()) << c.source << ": " << v.error().message;
    EXPECT_EQ(*v, c.expected) << c.source;
  }
}

// ------------------------------------------------------------------ literals

TEST(ExprLiteralTest, EvaluatesEveryLiteralForm) {
  ExpectEvaluates({
      {"0", Int(0)},
      {"123", Int(123)},
      {"0xff", Int(255)},
      {"0XfF", Int(255)},
      {"0x10", Int(16)},
      {"18446744073709551615", Int(UINT64_MAX)},
      {"0xffffffffffffffff", Int(UINT64_MAX)},
      {"true", Int(1)},
      {"false", Int(0)},
      {"null", Null()},
      {"'text'", Bytes("text")},
      {"''", Bytes("")},
      {"'it''s'", Bytes("it's")},
      {"''''", Bytes("'")},
      {"'a\\0b'", Bytes(std::string_view("a\0b", 3))},
      {"'\\n\\t\\\\'", Bytes("\n\t\\")},
      {"'\\q'", Bytes("q")},
      {"x'00ff'", Bytes(std::string_view("\x00\xff", 2))},
      {"X'AbCd'", Bytes("\xab\xcd")},
      {"x''", Bytes("")},
      {"  7  ", Int(7)},
  });
}

TEST(ExprLiteralTest, AStringLiteralKeepsAnEmbeddedNulByte) {
  ExprEnv env;
  auto v = env.Eval("len('a\\0b')");
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(*v, Int(3));
}

TEST(ExprLiteralTest, PackConstantsCompileToLiterals) {
  ExprEnv env;
  auto e = env.Compile("FLAG_A | FLAG_B");
  ASSERT_TRUE(e.ok()) << e.error().message;
  uint64_t out = 0;
  EXPECT_TRUE(e->TryEvalInt(env.Context(), &out));
  EXPECT_EQ(out, 5u);
}

TEST(ExprLiteralTest, UnknownNamesAreVariablesThatReadNullUntilSet) {
  ExprEnv env;
  auto e = env.Compile("some_var");
  ASSERT_TRUE(e.ok()) << e.error().message;
  auto before = e->Eval(env.Context());
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(*before, Null());
  env.Set("some_var", Bytes("v"));
  auto after = e->Eval(env.Context());
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, Bytes("v"));
}

TEST(ExprLiteralTest, OnlyTheLiteralTrueIsConstantTrue) {
  struct Case {
    const char* source;
    bool constant_true;
  };
  for (const Case& c : std::vector<Case>{{"true", true},
                                         {"1", true},
                                         {"false", false},
                                         {"x", false},
                                         {"1 == 1", false}}) {
    ExprEnv env;
    auto e = env.Compile(c.source);
    ASSERT_TRUE(e.ok()) << c.source;
    EXPECT_EQ(e->IsConstantTrue(), c.constant_true) << c.source;
  }
}

// ------------------------------------------------------------------ operators

// Expected values follow C's precedence: unary, + -, << >>, < <= > >=,
// == !=, &, ^, |, &&, ||, ?: (right-associative).
TEST(ExprOperatorTest, BindsAsInC) {
  ExpectEvaluates({
      {"1 | 2 << 3 == 17", Int(1 | ((2 << 3) == 17))},  // 1 | (16 == 17) = 1
      {"1 | 2 << 3", Int(1 | (2 << 3))},                // 17
      {"(1 | 2 << 3) == 17", Int(1)},
      {"6 & 3 ^ 1", Int((6 & 3) ^ 1)},                  // 3
      {"1 ^ 3 | 4", Int((1 ^ 3) | 4)},                  // 6
      {"12 & 4 == 4", Int(12 & (4 == 4))},              // 12 & 1 = 0
      {"1 << 2 + 1", Int(1 << (2 + 1))},                // 8
      {"10 - 3 - 2", Int(10 - 3 - 2)},                  // left-associative: 5
      {"3 < 5 == 1", Int((3 < 5) == 1)},
      {"2 >= 2", Int(1)},
      {"2 > 2", Int(0)},
      {"4 <= 3", Int(0)},
      {"4 != 4", Int(0)},
      {"0x10 >> 4", Int(1)},
      {"0 || 2 && 0", Int(0)},                          // 0 || (2 && 0)
      {"1 || 0 && 0", Int(1)},                          // 1 || (0 && 0)
      {"!0 + 1", Int(2)},                               // (!0) + 1
      {"!5", Int(0)},
      {"!!5", Int(1)},
      {"~0", Int(UINT64_MAX)},
      {"-1", Int(UINT64_MAX)},
      {"0 - 1", Int(UINT64_MAX)},
      {"1 - -1", Int(2)},
      {"1 << 63", Int(uint64_t{1} << 63)},
      {"1 << 64", Int(0)},
      {"0xff >> 100", Int(0)},
      {"1 ? 2 : 3", Int(2)},
      {"0 ? 2 : 3", Int(3)},
      {"0 ? 1 : 0 ? 2 : 3", Int(3)},                    // 0 ? 1 : (0 ? 2 : 3)
      {"1 ? 0 ? 5 : 6 : 7", Int(6)},
      {"1 || 0 ? 7 : 8", Int(7)},                       // (1 || 0) ? 7 : 8
      {"(1 + 2) << 1", Int(6)},
      {"null ? 1 : 2", Int(2)},
      {"'' ? 1 : 2", Int(2)},
      {"'a' ? 1 : 2", Int(1)},
      {"2 && 'x'", Int(1)},
  });
}

TEST(ExprOperatorTest, PlusConcatenatesByteStrings) {
  ExpectEvaluates({
      {"'ab' + 'cd'", Bytes("abcd")},
      {"x'00' + 'a' + x'ff'", Bytes(std::string_view("\x00" "a\xff", 3))},
      {"'' + ''", Bytes("")},
  });
}

TEST(ExprOperatorTest, EqualityComparesBytesByContentAndKindFirst) {
  ExpectEvaluates({
      {"'ab' == 'ab'", Int(1)},
      {"'ab' == 'abc'", Int(0)},
      {"'ab' != 'abc'", Int(1)},
      {"x'00' == '\\0'", Int(1)},
      {"'1' == 1", Int(0)},
      {"'1' != 1", Int(1)},
      {"null == null", Int(1)},
      {"null == 0", Int(0)},
      {"null != ''", Int(1)},
  });
}

// sha1(1) fails at run time (sha1 wants bytes): it proves a side was skipped.
TEST(ExprOperatorTest, LogicalOperatorsAndTernarySkipTheUntakenSide) {
  ExpectEvaluates({
      {"0 && sha1(1)", Int(0)},
      {"1 || sha1(1)", Int(1)},
      {"1 ? 5 : sha1(1)", Int(5)},
      {"0 ? sha1(1) : 6", Int(6)},
  });
  for (const char* taken : {"1 && sha1(1)", "0 || sha1(1)", "1 ? sha1(1) : 0"}) {
    ExprEnv env;
    auto v = env.Eval(taken);
    ASSERT_FALSE(v.ok()) << taken << " should have run sha1(1)";
    EXPECT_NE(v.error().message.find("sha1(): argument 1 must be bytes"), std::string::npos)
        << v.error().message;
  }
}

TEST(ExprOperatorTest, EvalBoolUsesTruthiness) {
  struct Case {
    const char* source;
    bool expected;
  };
  for (const Case& c : std::vector<Case>{{"0", false},
                                         {"3", true},
                                         {"null", false},
                                         {"''", false},
                                         {"'x'", true},
                                         {"FLAG_B & 4", true}}) {
    ExprEnv env;
    auto e = env.Compile(c.source);
    ASSERT_TRUE(e.ok()) << c.source;
    auto b = e->EvalBool(env.Context());
    ASSERT_TRUE(b.ok()) << c.source << ": " << b.error().message;
    EXPECT_EQ(*b, c.expected) << c.source;
  }
}

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

// ------------------------------------------------------------- compile errors

TEST(ExprCompileTest, ErrorsAreKPackAndNameTheColumn) {
  struct Case {
    const char* source;
    const char* column;   // "column N" expected in the message
    const char* message_part;
  };
  const std::vector<Case> cases = {
      {"foo(1)", "column 1", "unknown function 'foo'"},
      {"1 + foo(1)", "column 5", "unknown function 'foo'"},
      {"len(1, 2)", "column 10", "len() takes 1 arguments, got 2"},
      {"slice('a')", "column 11", "slice() takes 2..3 arguments, got 1"},
      {"remaining(1)", "column 13", "remaining() takes 0 arguments, got 1"},
      {"'abc", "column 5", "unterminated string"},
      {"'it''s", "column 7", "unterminated string"},
      {"1 2", "column 3", "unexpected '2'"},
      {"1 + 2 )", "column 7", "unexpected ')'"},
      {"len('a') x", "column 10", "unexpected 'x'"},
      {"x'abc'", "column 7", "even number of hex digits"},
      {"x'zz'", "column 6", "non-hex digit"},
      {"(1 + 2", "column 7", "expected ')'"},
      {"1 ? 2", "column 6", "expected ':'"},
      {"", "column 1", "unexpected end of expression"},
      {"1 +", "column 4", "unexpected end of expression"},
      {"len('a'", "column 8", "expected ',' or ')'"},
      {"@", "column 1", "unexpected '@'"},
      {"0x", "column 1", "malformed number"},
      {"18446744073709551616", "column 20", "number too large"},
  };
  for (const Case& c : cases) {
    ExprEnv env;
    auto e = env.Compile(c.source);
    ASSERT_FALSE(e.ok()) << "\"" << c.source << "\" should not compile";
    EXPECT_EQ(e.error().code, ErrorCode::kPack) << c.source;
    const std::string& m = e.error().message;
    EXPECT_NE(m.find(c.column), std::string::npos) << c.source << ": " << m;
    EXPECT_NE(m.find(c.message_part), std::string::npos) << c.source << ": " << m;
    EXPECT_NE(m.find(std::string("\"") + c.source + "\""), std::string::npos)
        << "the message quotes the expression: " << m;
  }
}

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(ExprCompileTest, HostileNestingAndLengthAreErrorsNotStackOverflows) {
  // Found by tests/fuzz (fuzz_expr): the recursive descent overflowed the stack.
  // Under the 4096-character limit, so that the nesting limit is what trips.
  const std::string deep_parens = std::string(2000, '(') + "1" + std::string(2000, ')');
  struct Case {
    std::string source;
    const char* message_part;
  };
  const std::vector<Case> cases = {
      {deep_parens, "nested too deeply"},
      {std::string(4000, '!') + "1", "nested too deeply"},
      {std::string(4000, '-') + "1", "nested too deeply"},
      {Repeat("1 ? 1 : ", 400) + "1", "nested too deeply"},
      {Repeat("len(", 500) + "'a'" + std::string(500, ')'), "nested too deeply"},
      {"1" + Repeat("+1", 10000), "over the limit of 4096"},
  };
  for (const Case& c : cases) {
    ExprEnv env;
    auto e = env.Compile(c.source);
    ASSERT_FALSE(e.ok()) << c.source.substr(0, 40) << "... should not compile";
    EXPECT_EQ(e.error().code, ErrorCode::kPack);
    EXPECT_NE(e.error().message.find(c.message_part), std::string::npos)
        << e.error().message.substr(0, 200);
  }
  // Nesting a real pack might use still compiles.
  ExprEnv env;
  auto v = env.Eval(std::string(50, '(') + "1 + 2" + std::string(50, ')'));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->i, 3u);
}

// --------------------------------------------------------- runtime type errors

TEST(ExprRuntimeTest, ArithmeticOnBytesIsAnErrorNotACrash) {
  struct Case {
    const char* source;
    const char* message_part;
  };
  const std::vector<Case> cases = {
      {"'a' + 1", "arithmetic on bytes and integer"},
      {"1 + 'a'", "arithmetic on integer and bytes"},
      {"'a' - 'b'", "arithmetic on bytes and bytes"},
      {"'a' < 'b'", "arithmetic on bytes and bytes"},
      {"'a' << 1", "arithmetic on bytes and integer"},
      {"null | 1", "arithmetic on null and integer"},
      {"~'a'", "operator ~ needs integers, got bytes"},
      {"-null", "operator - needs integers, got null"},
      {"v & 1", "arithmetic on bytes and integer"},
  };
  for (const Case& c : cases) {
    ExprEnv env;
    auto e = env.Compile(c.source);
    ASSERT_TRUE(e.ok()) << c.source << ": " << e.error().message;
    env.Set("v", Bytes("bytes in a variable"));
    auto v = e->Eval(env.Context());
    ASSERT_FALSE(v.ok()) << c.source << " should fail";
    EXPECT_EQ(v.error().code, ErrorCode::kPack) << c.source;
    EXPECT_NE(v.error().message.find(c.message_part), std::string::npos)
        << c.source << ": " << v.error().message;
    auto b = e->EvalBool(env.Context());
    EXPECT_FALSE(b.ok()) << "EvalBool must fail too: " << c.source;
  }
}

// ----------------------------------------------------------- TryEvalInt path

TEST(ExprFastPathTest, TryEvalIntAgreesWithEvalOnIntegerExpressions) {
  const std::vector<const char*> sources = {
      "a + b",         "a - b",           "b - a",          "a << 2 | FLAG_A", "a >> 1",
      "a & b",         "a ^ b",           "a | b",          "~a",              "-a",
      "!a",            "!zero",           "a && b",         "a && zero",       "zero || b",
      "zero || zero",  "a == 3",          "a != 3",         "a < b",           "a <= b",
      "a > b",         "a >= b",          "a ? b : 7",      "zero ? b : 7",    "a << 64",
      "1 | 2 << 3 == 17", "(a + b) << (b - a)", "big + 1", "0 - big",          "FLAG_B",
  };
  for (const char* source : sources) {
    ExprEnv env;
    auto e = env.Compile(source);
    ASSERT_TRUE(e.ok()) << source << ": " << e.error().message;
    env.Set("a", Int(3));
    env.Set("b", Int(10));
    env.Set("zero", Int(0));
    env.Set("big", Int(UINT64_MAX));
    auto slow = e->Eval(env.Context());
    ASSERT_TRUE(slow.ok()) << source << ": " << slow.error().message;
    ASSERT_TRUE(slow->is_int()) << source;
    uint64_t fast = 12345;
    ASSERT_TRUE(e->TryEvalInt(env.Context(), &fast)) << source << " should take the fast path";
    EXPECT_EQ(fast, slow->i) << source;
  }
}

TEST(ExprFastPathTest, TryEvalIntDeclinesCallsBytesAndNonIntegerVariables) {
  struct Case {
    const char* source;
    Value a;  // value of variable `a`
  };
  const std::vector<Case> cases = {
      {"len('a')", Int(0)},
      {"max(a, 1)", Int(3)},
      {"a + len('x')", Int(3)},
      {"is_null(a)", Int(3)},
      {"'a' == 'a'", Int(0)},
      {"null == a", Int(0)},
      {"a + 1", Bytes("x")},   // an integer-only tree, but `a` holds bytes
      {"a + 1", Null()},
      {"a ? 1 : 2", Bytes("x")},
  };
  for (const Case& c : cases) {
    ExprEnv env;
    auto e = env.Compile(c.source);
    ASSERT_TRUE(e.ok()) << c.source << ": " << e.error().message;
    env.Set("a", c.a);
    uint64_t out = 0;
    EXPECT_FALSE(e->TryEvalInt(env.Context(), &out)) << c.source;
  }
}

}  // namespace
}  // namespace sqlx::transports
