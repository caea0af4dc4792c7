// The bus's payloads against the test nats-server: a payload larger than
// max_payload split into chunks (or compressed), many chunks with a retried
// publish, and garbage or forged messages delivered with their errors.
#include "sqlx/messages/bus.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bus_fixture.h"

namespace sqlx::bus {
namespace {

using namespace bus_test;  // NOLINT: the fixture of these tests (and its names)
using namespace std::chrono_literals;

TEST_F(BusTest, PayloadLargerThanMaxPayloadRoundTrips) {
  const std::int64_t max_payload = bus_->max_payload();
  ASSERT_GT(max_payload, 0);
  // Random bytes do not compress: split into chunks.
  const Bytes big = RandomBytes(static_cast<std::size_t>(max_payload) + max_payload / 4, 7);
  auto pub = bus_->Publish(Subject("learn"), big, "job-big");
  ASSERT_TRUE(pub.ok()) << pub.error().message;
  EXPECT_FALSE(pub->compressed);
  EXPECT_EQ(pub->chunks, 1u);
  // Text-like bytes compress below max_payload: one message.
  std::string text;
  while (text.size() < static_cast<std::size_t>(max_payload) * 2) {
    text += "CREATE TABLE t" + std::to_string(text.size()) + " (id INT PRIMARY KEY);\n";
  }
  auto pub2 = bus_->Publish(Subject("learn"), ToBytes(text), "job-ir");
  ASSERT_TRUE(pub2.ok()) << pub2.error().message;
  EXPECT_TRUE(pub2->compressed);
  EXPECT_EQ(pub2->chunks, 0u);

  Consumer c = Bind(WorkerConsumer());
  auto got = FetchN(c, 2);
  ASSERT_EQ(got.size(), 2u) << "chunks are not delivered as messages";
  ASSERT_TRUE(got[0].payload_status().ok()) << got[0].payload_status().error().message;
  EXPECT_TRUE(got[0].payload() == big);
  ASSERT_TRUE(got[1].payload_status().ok()) << got[1].payload_status().error().message;
  EXPECT_EQ(got[1].payload_view(), text);
  EXPECT_LT(got[1].raw().size(), text.size() / 10);
  ASSERT_TRUE(got[0].Ack().ok());
  ASSERT_TRUE(got[1].Ack().ok());
  auto state = bus_->GetStreamState(jobs_.name);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->messages, 0u) << "acking the head deletes its chunks";
}

class SmallChunkBusTest : public BusTest {
 protected:
  ConnectOptions Options() override {
    ConnectOptions o;
    o.max_chunk_bytes = 64 * 1024;
    return o;
  }
};

TEST_F(SmallChunkBusTest, ManyChunksAndARetriedPublishDedupe) {
  const Bytes payload = RandomBytes(1000 * 1000, 11);
  auto pub = bus_->Publish(Subject("learn"), payload, "job-chunks");
  ASSERT_TRUE(pub.ok()) << pub.error().message;
  EXPECT_EQ(pub->chunks, 15u);  // 16 parts of 64 KiB
  auto retry = bus_->Publish(Subject("learn"), payload, "job-chunks");
  ASSERT_TRUE(retry.ok());
  EXPECT_TRUE(retry->duplicate);
  auto state = bus_->GetStreamState(jobs_.name);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->messages, 16u) << "the retry stored nothing";

  Consumer c = Bind(WorkerConsumer());
  auto got = FetchN(c, 5);
  ASSERT_EQ(got.size(), 1u);
  ASSERT_TRUE(got[0].payload_status().ok()) << got[0].payload_status().error().message;
  EXPECT_TRUE(got[0].payload() == payload);
  ASSERT_TRUE(got[0].Ack().ok());
}

TEST_F(BusTest, GarbageAndForgedMessagesAreDeliveredWithTheirErrorsAndCanBeTerminated) {
  Consumer c = Bind(WorkerConsumer());
  const std::string garbage("\x00\xff\xfe garbage \x01\x02", 15);
  ASSERT_TRUE(bus_->PublishCore(Subject("learn"), ToBytes(garbage)).ok());
  // A core publish has no ack: wait until the stream stored it.
  for (int i = 0; i < 100; ++i) {
    auto state = bus_->GetStreamState(jobs_.name);
    ASSERT_TRUE(state.ok());
    if (state->messages == 1) break;
    std::this_thread::sleep_for(10ms);
  }
  struct Forged {
    std::map<std::string, std::string> headers;
    std::string_view error;
  };
  const std::vector<Forged> forged = {
      {{{"Sqlx-Encoding", "zstd"}, {"Sqlx-Size", "100"}}, "zstd"},
      {{{"Sqlx-Encoding", "lz77"}}, "Sqlx-Encoding"},
      {{{"Sqlx-Encoding", "zstd"}}, "Sqlx-Size"},
      {{{"Sqlx-Size", "99999999999999"}}, "limit"},
      {{{"Sqlx-Size", "-1"}}, "Sqlx-Size"},
      {{{"Sqlx-Size", "1"}, {"Sqlx-Chunk-Count", "2"}, {"Sqlx-Chunk-Seqs", "999999"}}, "missing"},
      {{{"Sqlx-Size", "1"}, {"Sqlx-Chunk-Count", "3"}, {"Sqlx-Chunk-Seqs", "1"}}, "Sqlx-Chunk-Seqs"},
      {{{"Sqlx-Size", "1"}, {"Sqlx-Chunk-Count", "1000000"}}, "Sqlx-Chunk-Count"},
      {{{"Sqlx-Size", "5"}, {"Sqlx-Chunk-Count", "2"}, {"Sqlx-Chunk-Seqs", "1"}}, "another message"},
  };
  for (const auto& f : forged) PublishForged(url_, Subject("learn"), "junk", f.headers);
  ASSERT_TRUE(bus_->Publish(Subject("learn"), ToBytes("good job"), "job-good").ok());

  std::vector<Message> got;
  while (got.size() < forged.size() + 2) {
    auto batch = FetchN(c, 20);
    ASSERT_FALSE(batch.empty()) << "the consumer wedged after " << got.size() << " messages";
    for (auto& m : batch) got.push_back(std::move(m));
  }
  EXPECT_TRUE(got[0].payload_status().ok()) << "garbage without our headers is just bytes";
  EXPECT_EQ(got[0].payload_view(), garbage);
  EXPECT_EQ(got[0].metadata().num_delivered, 1u);
  EXPECT_GT(got[0].metadata().stream_sequence, 0u);
  ASSERT_TRUE(got[0].Term().ok());
  for (std::size_t i = 0; i < forged.size(); ++i) {
    const Message& m = got[i + 1];
    ASSERT_FALSE(m.payload_status().ok()) << "forged case " << i;
    EXPECT_NE(m.payload_status().error().message.find(forged[i].error), std::string::npos)
        << "case " << i << ": " << m.payload_status().error().message;
    EXPECT_TRUE(m.payload().empty());
    EXPECT_EQ(std::string(m.raw().begin(), m.raw().end()), "junk");
    ASSERT_TRUE(got[i + 1].Term().ok());
  }
  EXPECT_EQ(got.back().payload_view(), "good job");
  ASSERT_TRUE(got.back().Ack().ok());
  EXPECT_TRUE(FetchN(c, 1, 1500ms).empty()) << "terminated messages are not redelivered";
}

}  // namespace
}  // namespace sqlx::bus
