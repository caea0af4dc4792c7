// Wire-pack expressions: literals, C precedence, short-circuiting, compile
// errors that point at a column, runtime type errors, and the integer fast
// path. The function library is in expr_functions_test.cc.
#include <gtest/gtest.h>

#include <cstdint>
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
