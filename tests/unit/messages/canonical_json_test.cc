// JCS string form (RFC 8785 section 3.2.2.2) and the strict reader, with the
// expected text written by hand from the RFC, not from the code.
#include "canonical_json.h"

#include <gtest/gtest.h>

#include <string>

namespace sqlx::json {
namespace {

struct StringCase {
  const char* name;
  std::string bytes;
  std::string jcs;
};

std::string Jcs(std::string_view s) {
  std::string out;
  AppendString(s, &out);
  return out;
}

TEST(CanonicalJsonTest, StringsTakeOnlyTheMandatoryEscapes) {
  const StringCase cases[] = {
      {"empty", "", R"("")"},
      {"plain", "abc", R"("abc")"},
      {"quote", "a\"b", R"("a\"b")"},
      {"backslash", "a\\b", R"("a\\b")"},
      {"solidus as is", "a/b", R"("a/b")"},
      {"short escapes", "\b\f\n\r\t", R"("\b\f\n\r\t")"},
      {"other controls lowercase hex", std::string("\x00\x01\x0b\x1f", 4), R"("\u0000\u0001\u000b\u001f")"},
      {"DEL as is", "\x7f", "\"\x7f\""},
      {"e acute as is", "caf\xc3\xa9", "\"caf\xc3\xa9\""},
      {"U+2028 as is", "a\xe2\x80\xa8z", "\"a\xe2\x80\xa8z\""},
      {"U+FFFD as is", "\xef\xbf\xbd", "\"\xef\xbf\xbd\""},
      {"emoji as is", "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\""},
      {"U+10FFFF as is", "\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\""},
      {"backtick SQL", "select `t`.`id`", R"("select `t`.`id`")"},
      // Bytes outside well-formed UTF-8: one \u00xx per byte.
      {"latin1 byte", "caf\xe9", R"("caf\u00e9")"},
      {"lone continuation", "\x80", R"("\u0080")"},
      {"0xff", "\xff", R"("\u00ff")"},
      {"truncated 3-byte", "\xe2\x82", R"("\u00e2\u0082")"},
      {"truncated at end after text", "ok\xf0\x9f\x98", R"("ok\u00f0\u009f\u0098")"},
      {"overlong solidus", "\xc0\xaf", R"("\u00c0\u00af")"},
      {"overlong 3-byte", "\xe0\x80\xaf", R"("\u00e0\u0080\u00af")"},
      {"UTF-16 surrogate (CESU-8)", "\xed\xa0\x80", R"("\u00ed\u00a0\u0080")"},
      {"above U+10FFFF", "\xf4\x90\x80\x80", R"("\u00f4\u0090\u0080\u0080")"},
      {"valid after invalid", "\xff\xc3\xa9", "\"\\u00ff\xc3\xa9\""},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(Jcs(c.bytes), c.jcs) << c.name;
    auto back = ReadJson(c.jcs);
    ASSERT_TRUE(back.ok()) << c.name << ": " << back.error().message;
    EXPECT_EQ(back->kind, Value::Kind::kString) << c.name;
    EXPECT_EQ(back->text, c.bytes) << c.name << ": the reader inverts the writer byte for byte";
  }
}

TEST(CanonicalJsonTest, DistinctByteStringsStayDistinct) {
  EXPECT_NE(Jcs("caf\xe9"), Jcs("caf\xc3\xa9"));
  EXPECT_NE(Jcs("\xe9"), Jcs("\xef\xbf\xbd"));  // not folded into U+FFFD
  EXPECT_NE(Jcs("\xe9"), Jcs("\xe8"));
}

TEST(CanonicalJsonTest, Rfc8785StringExampleCanonicalizes) {
  // RFC 8785 section 3.2.2.2, the string member of its sample.
  auto v = ReadJson(R"("\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/")");
  ASSERT_TRUE(v.ok()) << v.error().message;
  EXPECT_EQ(Jcs(v->text), "\"\xe2\x82\xac$\\u000f\\nA'B\\\"\\\\\\\\\\\"/\"");
}

TEST(CanonicalJsonTest, ReaderDecodesEscapes) {
  auto surrogate_pair = ReadJson(R"("\ud83d\ude00")");
  ASSERT_TRUE(surrogate_pair.ok());
  EXPECT_EQ(surrogate_pair->text, "\xf0\x9f\x98\x80");
  auto latin_escape = ReadJson(R"("\u00E9")");  // a raw byte, not U+00E9
  ASSERT_TRUE(latin_escape.ok());
  EXPECT_EQ(latin_escape->text, "\xe9");
  auto two_bytes = ReadJson(R"("\u0100\u007f\u0000")");
  ASSERT_TRUE(two_bytes.ok());
  EXPECT_EQ(two_bytes->text, std::string("\xc4\x80\x7f\x00", 4));
  for (const char* bad : {R"("\ude00")", R"("\ud83d")", R"("\ud83dx")", R"("\ud83d\u0041")", R"("\u12")",
                          R"("\u12g4")", R"("\x")"})
    EXPECT_FALSE(ReadJson(bad).ok()) << bad;
}

TEST(CanonicalJsonTest, ReaderKeepsMemberOrderAndNumberText) {
  auto v = ReadJson(R"({"b":[1,-2.5e3,true,false,null],"a":{}})");
  ASSERT_TRUE(v.ok()) << v.error().message;
  ASSERT_EQ(v->keys, (std::vector<std::string>{"b", "a"}));
  const Value& list = v->items[0];
  ASSERT_EQ(list.items.size(), 5u);
  EXPECT_EQ(list.items[1].text, "-2.5e3");
  EXPECT_EQ(list.items[2].kind, Value::Kind::kBool);
  EXPECT_TRUE(list.items[2].boolean);
  EXPECT_EQ(list.items[4].kind, Value::Kind::kNull);
  EXPECT_EQ(v->Find("a")->kind, Value::Kind::kObject);
  EXPECT_EQ(v->Find("c"), nullptr);
  for (const char* bad : {"01", "-", "1.", ".5", "1e", "+1", "tru", "[1,]", "{\"a\"}", "{\"a\":1 \"b\":2}"})
    EXPECT_FALSE(ReadJson(bad).ok()) << bad;
}

TEST(CanonicalJsonTest, PointerTokensEscapeTildeAndSlash) {
  EXPECT_EQ(PointerToken("a/b~c"), "a~1b~0c");
  EXPECT_EQ(PointerToken("plain"), "plain");
}

}  // namespace
}  // namespace sqlx::json
