#include "sqlx/messages/hex.h"

#include <set>

#include <gtest/gtest.h>

namespace sqlx {
namespace {

TEST(HexTest, EncodesEveryByteAndDecodesBackInEitherCase) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  const std::string hex = HexEncode(all);
  ASSERT_EQ(hex.size(), 512u);
  EXPECT_EQ(hex.substr(0, 6), "000102");
  EXPECT_EQ(hex.substr(506), "fdfeff");
  EXPECT_EQ(*HexDecode(hex), all);
  EXPECT_EQ(*HexDecode("DEADbeef"), std::string("\xde\xad\xbe\xef"));
  EXPECT_EQ(*HexDecode(""), "");
}

TEST(HexTest, RefusesOddLengthsAndNonDigitsNamingWhere) {
  auto odd = HexDecode("abc");
  ASSERT_FALSE(odd.ok());
  EXPECT_NE(odd.error().message.find("odd length 3"), std::string::npos);
  auto bad = HexDecode("00zz");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("character 3"), std::string::npos) << bad.error().message;
}

TEST(HexTest, RandomHexHasTheLengthAskedAndRepeatsNot) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string id = RandomHex(5);
    ASSERT_EQ(id.size(), 10u);
    EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 1000u);
}

}  // namespace
}  // namespace sqlx
