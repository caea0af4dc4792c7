// Framer over the shipped pack's framing (3-byte length, 1-byte sequence,
// payloads of exactly 0xffffff bytes continue): reassembly, continuation,
// splitting, sequence checks and limits, against an in-memory stream.
#include "framing.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "memory_stream.h"
#include "pack.h"
#include "shipped_pack.h"

namespace sqlx::transports {
namespace {

using testing::Frame3;
using testing::MemoryStream;

constexpr size_t kMaxPayload = 0xffffff;
constexpr uint64_t kBigLimit = uint64_t{1} << 30;

const WirePack& Pack() { return testing::MysqlWirePack(); }

// A payload whose bytes depend on their position, so a misplaced join shows.
std::string Pattern(size_t n, char salt = 0) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 31 + static_cast<size_t>(salt)) & 0xff);
  return s;
}

using FrameHeader = testing::Frame3Packet;

// Splits written bytes back into frames (and checks they tile).
std::vector<FrameHeader> Frames(const std::string& bytes) {
  bool tiles = false;
  std::vector<FrameHeader> out = testing::Unframe3(bytes, &tiles);
  EXPECT_TRUE(tiles) << "frames do not tile the written bytes";
  return out;
}

TEST(FramerTest, ReadsASinglePacket) {
  MemoryStream stream(Frame3("hello", 0));
  Framer framer(Pack(), &stream, kBigLimit);
  auto p = framer.ReadPacket();
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(*p, "hello");
  EXPECT_EQ(framer.bytes_read(), 9u);
  EXPECT_FALSE(framer.HasBufferedBytes());
}

TEST(FramerTest, ReadsAnEmptyPacket) {
  MemoryStream stream(Frame3("", 0));
  Framer framer(Pack(), &stream, kBigLimit);
  auto p = framer.ReadPacket();
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(*p, "");
}

TEST(FramerTest, ReassemblesPacketsDeliveredOneByteAtATime) {
  MemoryStream stream(Frame3("first", 0) + Frame3("", 1) + Frame3(Pattern(1000), 2), /*max_chunk=*/1);
  Framer framer(Pack(), &stream, kBigLimit);
  auto a = framer.ReadPacket();
  ASSERT_TRUE(a.ok()) << a.error().message;
  EXPECT_EQ(*a, "first");
  auto b = framer.ReadPacket();
  ASSERT_TRUE(b.ok()) << b.error().message;
  EXPECT_EQ(*b, "");
  auto c = framer.ReadPacket();
  ASSERT_TRUE(c.ok()) << c.error().message;
  EXPECT_EQ(*c, Pattern(1000));
  EXPECT_EQ(stream.unread(), 0u);
}

TEST(FramerTest, KnowsWhenBytesBeyondThePacketAreBuffered) {
  MemoryStream stream(Frame3("a", 0) + Frame3("b", 1));
  Framer framer(Pack(), &stream, kBigLimit);
  ASSERT_TRUE(framer.ReadPacket().ok());
  EXPECT_TRUE(framer.HasBufferedBytes());
  ASSERT_TRUE(framer.ReadPacket().ok());
  EXPECT_FALSE(framer.HasBufferedBytes());
}

TEST(FramerTest, JoinsAMaxPayloadFrameWithItsContinuation) {
  const std::string first = Pattern(kMaxPayload, 1);
  MemoryStream stream(Frame3(first, 0) + Frame3("tail", 1) + Frame3("next", 2), /*max_chunk=*/65536);
  Framer framer(Pack(), &stream, kBigLimit);
  auto p = framer.ReadPacket();
  ASSERT_TRUE(p.ok()) << p.error().message;
  ASSERT_EQ(p->size(), kMaxPayload + 4);
  EXPECT_TRUE(p->substr(0, kMaxPayload) == first);
  EXPECT_EQ(p->substr(kMaxPayload), "tail");
  auto next = framer.ReadPacket();
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(*next, "next");
}

TEST(FramerTest, AnEmptyFrameEndsAPayloadOfExactlyMaxPayload) {
  const std::string first = Pattern(kMaxPayload, 2);
  MemoryStream stream(Frame3(first, 0) + Frame3("", 1) + Frame3("after", 2));
  Framer framer(Pack(), &stream, kBigLimit);
  auto p = framer.ReadPacket();
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(p->size(), kMaxPayload);
  EXPECT_TRUE(*p == first);
  auto after = framer.ReadPacket();
  ASSERT_TRUE(after.ok()) << after.error().message;
  EXPECT_EQ(*after, "after");
}

TEST(FramerTest, WritePacketSplitsLargePayloadsIntoFrames) {
  struct Case {
    size_t size;
    std::vector<size_t> frame_lengths;
  };
  const std::vector<Case> cases = {
      {0, {0}},
      {5, {5}},
      {kMaxPayload - 1, {kMaxPayload - 1}},
      {kMaxPayload, {kMaxPayload, 0}},
      {kMaxPayload + 1, {kMaxPayload, 1}},
      {2 * kMaxPayload, {kMaxPayload, kMaxPayload, 0}},
      {2 * kMaxPayload + 5, {kMaxPayload, kMaxPayload, 5}},
  };
  for (const Case& c : cases) {
    MemoryStream stream("");
    Framer framer(Pack(), &stream, kBigLimit);
    const std::string payload = Pattern(c.size, 3);
    ASSERT_TRUE(framer.WritePacket(payload).ok()) << c.size;
    ASSERT_TRUE(framer.WritePacket("x").ok());  // the next packet continues the sequence
    std::vector<FrameHeader> frames = Frames(stream.written());
    ASSERT_EQ(frames.size(), c.frame_lengths.size() + 1) << c.size;
    for (size_t i = 0; i < c.frame_lengths.size(); ++i) {
      EXPECT_EQ(frames[i].length, c.frame_lengths[i]) << c.size << " frame " << i;
      EXPECT_EQ(frames[i].sequence, static_cast<int>(i)) << c.size << " frame " << i;
    }
    EXPECT_EQ(frames.back().length, 1u);
    EXPECT_EQ(frames.back().sequence, static_cast<int>(c.frame_lengths.size()));

    // What was written reads back as the same packets.
    MemoryStream reread(stream.written(), /*max_chunk=*/1 << 20);
    Framer reader(Pack(), &reread, kBigLimit);
    auto back = reader.ReadPacket();
    ASSERT_TRUE(back.ok()) << c.size << ": " << back.error().message;
    EXPECT_EQ(back->size(), c.size);
    EXPECT_TRUE(*back == payload) << c.size;
    auto x = reader.ReadPacket();
    ASSERT_TRUE(x.ok()) << x.error().message;
    EXPECT_EQ(*x, "x");
  }
}

TEST(FramerTest, SequenceIdsWrapAt256AndResetOnRequest) {
  std::string server;
  for (int i = 0; i < 300; ++i) server += Frame3(std::string(1, static_cast<char>(i)), static_cast<uint8_t>(i));
  server += Frame3("reset", 0);
  MemoryStream stream(server);
  Framer framer(Pack(), &stream, kBigLimit);
  for (int i = 0; i < 300; ++i) {
    auto p = framer.ReadPacket();
    ASSERT_TRUE(p.ok()) << i << ": " << p.error().message;
    EXPECT_EQ(static_cast<uint8_t>((*p)[0]), static_cast<uint8_t>(i));
  }
  framer.ResetSequence();
  auto p = framer.ReadPacket();
  ASSERT_TRUE(p.ok()) << p.error().message;
  EXPECT_EQ(*p, "reset");
  ASSERT_TRUE(framer.WritePacket("w").ok());
  EXPECT_EQ(Frames(stream.written()).at(0).sequence, 1) << "writes continue the read sequence";
}

TEST(FramerTest, AnOutOfOrderSequenceIsAProtocolError) {
  MemoryStream stream(Frame3("a", 0) + Frame3("b", 5));
  Framer framer(Pack(), &stream, kBigLimit);
  ASSERT_TRUE(framer.ReadPacket().ok());
  auto p = framer.ReadPacket();
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, ErrorCode::kProtocol);
  EXPECT_NE(p.error().message.find("out of order"), std::string::npos) << p.error().message;
  EXPECT_NE(p.error().message.find("got sequence 5, expected 1"), std::string::npos)
      << p.error().message;
}

TEST(FramerTest, AContinuationFrameOutOfOrderIsAProtocolError) {
  MemoryStream stream(Frame3(Pattern(kMaxPayload), 0) + Frame3("tail", 7));
  Framer framer(Pack(), &stream, kBigLimit);
  auto p = framer.ReadPacket();
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, ErrorCode::kProtocol);
  EXPECT_NE(p.error().message.find("out of order"), std::string::npos) << p.error().message;
}

TEST(FramerTest, AStreamEndingInsideAPacketIsClosedInTheMiddle) {
  struct Case {
    const char* name;
    std::string bytes;
  };
  std::string promise10 = Frame3("0123456789", 0).substr(0, 4 + 3);  // header says 10, 3 follow
  const std::vector<Case> cases = {
      {"header promising more than the stream has", promise10},
      {"half a header", Frame3("abc", 0).substr(0, 2)},
      {"continuation frame missing", Frame3(Pattern(kMaxPayload), 0)},
  };
  for (const Case& c : cases) {
    for (size_t chunk : {size_t{1}, SIZE_MAX}) {
      if (chunk == 1 && c.bytes.size() > 4096) continue;
      MemoryStream stream(c.bytes, chunk);
      Framer framer(Pack(), &stream, kBigLimit);
      auto p = framer.ReadPacket();
      ASSERT_FALSE(p.ok()) << c.name;
      EXPECT_EQ(p.error().code, ErrorCode::kClosed) << c.name;
      if (c.bytes.size() < 4 + kMaxPayload) {
        EXPECT_NE(p.error().message.find("middle of a packet"), std::string::npos)
            << c.name << ": " << p.error().message;
      }
    }
  }
}

TEST(FramerTest, AStreamEndingBetweenPacketsIsClosedWithoutBlame) {
  MemoryStream stream(Frame3("a", 0));
  Framer framer(Pack(), &stream, kBigLimit);
  ASSERT_TRUE(framer.ReadPacket().ok());
  auto p = framer.ReadPacket();
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.error().code, ErrorCode::kClosed);
  EXPECT_EQ(p.error().message.find("middle of a packet"), std::string::npos) << p.error().message;
}

TEST(FramerTest, PacketsOverMaxPacketAreLimitErrors) {
  {
    MemoryStream stream(Frame3("12345", 0));
    Framer framer(Pack(), &stream, /*max_packet=*/4);
    auto p = framer.ReadPacket();
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().code, ErrorCode::kLimit);
    EXPECT_NE(p.error().message.find("max packet"), std::string::npos) << p.error().message;
  }
  {
    MemoryStream stream(Frame3("1234", 0));
    Framer framer(Pack(), &stream, /*max_packet=*/4);
    auto p = framer.ReadPacket();
    ASSERT_TRUE(p.ok()) << "a packet of exactly max_packet is fine: " << p.error().message;
  }
  {
    // The joined size counts: one full frame fits, the continuation does not.
    MemoryStream stream(Frame3(Pattern(kMaxPayload), 0) + Frame3("abc", 1));
    Framer framer(Pack(), &stream, /*max_packet=*/kMaxPayload + 2);
    auto p = framer.ReadPacket();
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.error().code, ErrorCode::kLimit);
  }
}

}  // namespace
}  // namespace sqlx::transports
