// The bus's payload format without a server: compression, splitting, and
// every way a received set of parts can be wrong.
#include "payload_format.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace sqlx::bus {
namespace {

Bytes Text(std::size_t n) {
  Bytes out;
  while (out.size() < n) {
    const std::string line = "ALTER TABLE t ADD COLUMN c" + std::to_string(out.size()) + " INT;\n";
    out.insert(out.end(), line.begin(), line.end());
  }
  out.resize(n);
  return out;
}

Bytes Random(std::size_t n) {
  std::mt19937 rng(3);
  Bytes out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

struct EncodeCase {
  std::string name;
  Bytes payload;
  std::size_t compress_min;
  std::size_t max_part;
  bool compressed;
  std::size_t parts;
};

TEST(BusPayloadFormatTest, EncodesAndDecodesBackToTheSameBytes) {
  const std::vector<EncodeCase> cases = {
      {"empty", {}, 0, 100, false, 1},
      {"small stays raw", Text(100), 4096, 1000, false, 1},
      {"text compresses into one part", Text(100000), 4096, 50000, true, 1},
      {"random is not compressed, split", Random(250), 10, 100, false, 3},
      {"exact multiple of the part size", Random(300), 1000, 100, false, 3},
      {"compressed and split", Text(2000000), 1, 10000, true, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto enc = EncodePayload(c.payload, c.compress_min, c.max_part);
    ASSERT_TRUE(enc.ok()) << enc.error().message;
    EXPECT_EQ(enc->compressed, c.compressed);
    if (c.parts != 0) {
      EXPECT_EQ(enc->parts.size(), c.parts);
    }
    for (const auto& p : enc->parts) EXPECT_LE(p.size(), c.max_part);
    const bool split = enc->parts.size() > 1;
    std::optional<std::size_t> size;
    if (enc->compressed || split) size = enc->original_size;
    auto dec = DecodePayload(enc->compressed, size, enc->parts, 64 << 20);
    ASSERT_TRUE(dec.ok()) << dec.error().message;
    EXPECT_TRUE(*dec == c.payload);
  }
}

TEST(BusPayloadFormatTest, RefusesPayloadsNeedingTooManyParts) {
  auto enc = EncodePayload(Random(kMaxParts * 10 + 1), 1 << 30, 10);
  ASSERT_FALSE(enc.ok());
  EXPECT_EQ(enc.error().code, ErrorCode::kLimit);
}

TEST(BusPayloadFormatTest, RejectsPartsThatDoNotMatchTheirHeaders) {
  const Bytes text = Text(50000);
  auto enc = EncodePayload(text, 1, 1000);
  ASSERT_TRUE(enc.ok());
  ASSERT_TRUE(enc->compressed);
  ASSERT_GE(enc->parts.size(), 2u);
  const Bytes junk = {1, 2, 3, 4};
  auto missing_last = enc->parts;
  missing_last.pop_back();
  auto swapped = enc->parts;
  std::swap(swapped[0], swapped[1]);
  struct Case {
    std::string name;
    bool compressed;
    std::optional<std::size_t> size;
    std::vector<std::span<const std::uint8_t>> parts;
    std::size_t limit;
    ErrorCode code;
  };
  const std::vector<Case> cases = {
      {"a part missing", true, text.size(), missing_last, 1 << 20, ErrorCode::kProtocol},
      {"parts out of order", true, text.size(), swapped, 1 << 20, ErrorCode::kProtocol},
      {"wrong declared size", true, text.size() + 1, enc->parts, 1 << 20, ErrorCode::kProtocol},
      {"compressed without size", true, std::nullopt, enc->parts, 1 << 20, ErrorCode::kProtocol},
      {"not zstd", true, 4, {junk}, 1 << 20, ErrorCode::kProtocol},
      {"size over the limit", true, text.size(), enc->parts, 1000, ErrorCode::kLimit},
      {"raw parts shorter than declared", false, 5, {junk}, 1 << 20, ErrorCode::kProtocol},
      {"raw parts over the limit", false, std::nullopt, {junk}, 3, ErrorCode::kLimit},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto dec = DecodePayload(c.compressed, c.size, c.parts, c.limit);
    ASSERT_FALSE(dec.ok());
    EXPECT_EQ(dec.error().code, c.code) << dec.error().message;
  }
}

TEST(BusPayloadFormatTest, ParsesHeaderNumbersStrictly) {
  EXPECT_EQ(ParseHeaderNumber("42"), 42u);
  for (const char* bad : {"", "-1", "+1", "1x", " 1", "99999999999999999999999"}) {
    EXPECT_FALSE(ParseHeaderNumber(bad).has_value()) << bad;
  }
  EXPECT_EQ(ParseSequenceList("3,10,11"), (std::vector<std::uint64_t>{3, 10, 11}));
  for (const char* bad : {"", ",", "1,", ",1", "1,,2", "1;2"}) {
    EXPECT_FALSE(ParseSequenceList(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace sqlx::bus
