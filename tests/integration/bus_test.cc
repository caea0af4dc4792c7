// The bus against the real nats-server (scripts/services/nats-up) and, for the
// restart test, a nats-server of its own. Every test uses its own streams and
// subjects (pid + test name) and deletes them.
// Chunked, compressed and forged payloads: bus_payload_test.cc.
#include "sqlx/messages/bus.h"

#include <nats/nats.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

#include "bus_fixture.h"
#include "own_nats_server.h"
#include "test_env.h"

namespace sqlx::bus {
namespace {

using namespace bus_test;  // NOLINT: the fixture of these tests (and its names)
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST_F(BusTest, RequestGetsTheRespondersAnswerAndTimesOutWithoutOne) {
  const std::string subject = prefix_ + ".lease";
  std::atomic<int> served{0};
  {
    auto responder = bus_->Serve(subject, [&](std::span<const std::uint8_t> request) {
      ++served;
      Bytes reply(request.rbegin(), request.rend());  // the request reversed
      return reply;
    });
    ASSERT_TRUE(responder.ok()) << responder.error().message;
    const Bytes request = {1, 2, 3, 4};
    for (int i = 0; i < 50; ++i) {
      auto reply = bus_->Request(subject, request, 2s);
      ASSERT_TRUE(reply.ok()) << reply.error().message;
      EXPECT_EQ(*reply, (Bytes{4, 3, 2, 1}));
    }
    EXPECT_EQ(served.load(), 50);
  }
  // The responder is gone: a request fails as a timeout, quickly.
  const auto start = std::chrono::steady_clock::now();
  auto none = bus_->Request(subject, Bytes{1}, 2s);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.error().code, ErrorCode::kTimeout) << none.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2500ms);
}

TEST_F(BusTest, EnsuresStreamsAndConsumersIdempotently) {
  EXPECT_TRUE(bus_->EnsureStream(jobs_).ok());
  StreamConfig changed = jobs_;
  changed.duplicate_window = 30s;
  EXPECT_TRUE(bus_->EnsureStream(changed).ok()) << "a mutable field is updated";
  StreamConfig other_retention = jobs_;
  other_retention.retention = Retention::kLimits;
  const Status s = bus_->EnsureStream(other_retention);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message.find("retention"), std::string::npos) << s.error().message;

  ConsumerConfig c = WorkerConsumer();
  ASSERT_TRUE(bus_->EnsureConsumer(jobs_.name, c).ok());
  EXPECT_TRUE(bus_->EnsureConsumer(jobs_.name, c).ok());
  c.ack_wait = 10s;
  c.max_deliver = 3;
  EXPECT_TRUE(bus_->EnsureConsumer(jobs_.name, c).ok()) << "ack_wait/max_deliver are updated";
  c.filter_subject = Subject("learn.>");
  const Status f = bus_->EnsureConsumer(jobs_.name, c);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.error().message.find("filter"), std::string::npos) << f.error().message;

  EXPECT_FALSE(bus_->Subscribe(jobs_.name, "nobody").ok());
  EXPECT_FALSE(bus_->EnsureStream(StreamConfig{"bad.name", {"x.>"}}).ok());
}

TEST_F(BusTest, PublishWithTheSameMsgIdStoresOneMessage) {
  const Bytes job = ToBytes("learn db1");
  auto first = bus_->Publish(Subject("learn"), job, "job-1");
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_FALSE(first->duplicate);
  EXPECT_EQ(first->stream, jobs_.name);
  auto second = bus_->Publish(Subject("learn"), job, "job-1");
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_TRUE(second->duplicate);
  EXPECT_EQ(second->sequence, first->sequence);
  auto state = bus_->GetStreamState(jobs_.name);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->messages, 1u);

  Consumer c = Bind(WorkerConsumer());
  auto got = FetchN(c, 10, 1s);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload(), job);
}

TEST_F(BusTest, FetchedMessageCarriesMetadataAndAckRemovesIt) {
  auto pub = bus_->Publish(Subject("learn"), ToBytes("job body"), "job-meta");
  ASSERT_TRUE(pub.ok());
  Consumer c = Bind(WorkerConsumer());
  auto got = FetchN(c, 1);
  ASSERT_EQ(got.size(), 1u);
  const MessageMetadata& m = got[0].metadata();
  EXPECT_EQ(m.subject, Subject("learn"));
  EXPECT_EQ(m.msg_id, "job-meta");
  EXPECT_EQ(m.stream_sequence, pub->sequence);
  EXPECT_EQ(m.num_delivered, 1u);
  EXPECT_TRUE(got[0].payload_status().ok());
  EXPECT_EQ(got[0].payload_view(), "job body");
  ASSERT_TRUE(got[0].Ack().ok());
  EXPECT_TRUE(FetchN(c, 1, 300ms).empty());
  auto state = bus_->GetStreamState(jobs_.name);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->messages, 0u) << "a work queue drops acked messages";
}

TEST_F(BusTest, NakRedeliversWithDeliveryCountTwo) {
  ASSERT_TRUE(bus_->Publish(Subject("learn"), ToBytes("x"), "job-nak").ok());
  Consumer c = Bind(WorkerConsumer());
  auto first = FetchN(c, 1);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(first[0].Nak().ok());
  auto again = FetchN(c, 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].metadata().num_delivered, 2u);
  EXPECT_EQ(again[0].metadata().msg_id, "job-nak");

  ASSERT_TRUE(again[0].Nak(700ms).ok());
  const auto t0 = Clock::now();
  auto third = FetchN(c, 1, 3s);
  ASSERT_EQ(third.size(), 1u);
  EXPECT_GE(Clock::now() - t0, 600ms) << "Nak(delay) waits before redelivery";
  EXPECT_EQ(third[0].metadata().num_delivered, 3u);
  EXPECT_TRUE(third[0].Ack().ok());
}

TEST_F(BusTest, InProgressKeepsAMessagePastAckWait) {
  ConsumerConfig config = WorkerConsumer();
  config.ack_wait = 1s;
  Consumer holder = Bind(config);
  auto other = bus_->Subscribe(jobs_.name, config.durable);
  ASSERT_TRUE(other.ok());

  ASSERT_TRUE(bus_->Publish(Subject("apply"), ToBytes("long job"), "job-long").ok());
  auto held = FetchN(holder, 1);
  ASSERT_EQ(held.size(), 1u);
  // 3 s = 3 × AckWait with heartbeats: nobody else gets it.
  const auto until = Clock::now() + 3s;
  while (Clock::now() < until) {
    ASSERT_TRUE(held[0].InProgress().ok());
    auto stolen = other->Fetch(1, 300ms);
    ASSERT_TRUE(stolen.ok());
    ASSERT_TRUE(stolen->empty()) << "redelivered although in progress";
  }
  ASSERT_TRUE(held[0].Ack().ok());

  // Without heartbeats the same wait redelivers it: the check above can fail.
  // (First let `other`'s last pull request expire on the server: a message
  // arriving in its last instant would wait in its queue for the next Fetch.)
  std::this_thread::sleep_for(100ms);
  ASSERT_TRUE(bus_->Publish(Subject("apply"), ToBytes("stalled job"), "job-stalled").ok());
  auto stalled = FetchN(holder, 1);
  ASSERT_EQ(stalled.size(), 1u);
  auto redelivered = other->Fetch(1, 3s);
  ASSERT_TRUE(redelivered.ok());
  ASSERT_EQ(redelivered->size(), 1u);
  EXPECT_EQ((*redelivered)[0].metadata().num_delivered, 2u);
  EXPECT_TRUE((*redelivered)[0].Ack().ok());
}

TEST_F(BusTest, MaxDeliverEmitsADeadLetterAdvisory) {
  ConsumerConfig config = WorkerConsumer();
  config.max_deliver = 2;
  config.ack_wait = 1s;
  Consumer c = Bind(config);
  auto dead = bus_->SubscribeDeadLetters(jobs_.name, config.durable);
  ASSERT_TRUE(dead.ok()) << dead.error().message;

  auto pub = bus_->Publish(Subject("learn"), ToBytes("poison"), "job-poison");
  ASSERT_TRUE(pub.ok());
  for (std::uint64_t n = 1; n <= 2; ++n) {
    auto got = FetchN(c, 1);
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].metadata().num_delivered, n);
    ASSERT_TRUE(got[0].Nak().ok());
  }
  // The server notices at its next delivery attempt: keep a pull waiting.
  std::optional<DeadLetter> letter;
  const auto until = Clock::now() + 10s;
  while (!letter && Clock::now() < until) {
    EXPECT_TRUE(FetchN(c, 1, 300ms).empty()) << "delivered past MaxDeliver";
    auto next = dead->Next(200ms);
    ASSERT_TRUE(next.ok()) << next.error().message;
    letter = *next;
  }
  ASSERT_TRUE(letter.has_value()) << "no max-deliveries advisory within 10 s";
  EXPECT_EQ(letter->stream, jobs_.name);
  EXPECT_EQ(letter->consumer, config.durable);
  EXPECT_EQ(letter->stream_sequence, pub->sequence);
  EXPECT_EQ(letter->deliveries, 2u);
}

// NATS.c 3.4.1 ends a fetch at once with NATS_TIMEOUT when a stale 408 from
// an earlier expired pull arrives; Fetch must still wait its whole timeout.
TEST_F(BusTest, FetchWaitsItsWholeTimeoutAfterEarlierFetchesExpired) {
  Consumer c = Bind(WorkerConsumer());
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(FetchN(c, 10, 50ms).empty());
  for (int round = 0; round < 3; ++round) {
    const auto t0 = Clock::now();
    EXPECT_TRUE(FetchN(c, 10, 800ms).empty());
    EXPECT_GE(Clock::now() - t0, 780ms) << "round " << round << " returned early";
  }
  std::thread publisher([&] {
    std::this_thread::sleep_for(400ms);
    EXPECT_TRUE(bus_->Publish(Subject("learn"), ToBytes("late"), "job-late").ok());
  });
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(FetchN(c, 10, 20ms).empty());
  auto got = FetchN(c, 10, 5s);
  publisher.join();
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].payload_view(), "late");
  EXPECT_TRUE(got[0].Ack().ok());
  std::printf("early timeouts retried: %llu\n",
              static_cast<unsigned long long>(c.early_timeouts_retried()));
}

TEST_F(BusTest, EventsStreamKeepsWhatTheOrchestratorAcked) {
  const StreamConfig events = EventsStream(prefix_);
  ASSERT_TRUE(bus_->EnsureStream(events).ok());
  ASSERT_TRUE(bus_->EnsureConsumer(events.name, OrchestratorConsumer()).ok());
  auto orchestrator = bus_->Subscribe(events.name, OrchestratorConsumer().durable);
  ASSERT_TRUE(orchestrator.ok()) << orchestrator.error().message;
  for (const char* kind : {"result", "progress", "checkpoint", "audit"}) {
    auto pub = bus_->Publish(prefix_ + ".events." + kind + ".job-1", ToBytes(kind),
                             std::string("job-1-") + kind);
    ASSERT_TRUE(pub.ok()) << pub.error().message;
    EXPECT_EQ(pub->stream, events.name);
  }
  auto got = orchestrator->Fetch(10, 3s);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 4u);
  EXPECT_EQ((*got)[3].metadata().subject, prefix_ + ".events.audit.job-1");
  for (auto& m : *got) ASSERT_TRUE(m.Ack().ok());
  auto state = bus_->GetStreamState(events.name);
  ASSERT_TRUE(state.ok());
  EXPECT_EQ(state->messages, 4u) << "limits retention keeps acked events";
}

// Every job once, in order of publication, through publish → fetch → ack;
// prints the rate for orientation (tests/bench/queue measures it properly).
TEST_F(BusTest, ManyJobsArriveExactlyOnce) {
  Consumer c = Bind(WorkerConsumer());
  constexpr int kJobs = 2000;
  const auto t0 = Clock::now();
  for (int i = 0; i < kJobs; ++i) {
    const std::string id = "job-" + std::to_string(i);
    ASSERT_TRUE(bus_->Publish(Subject("noop"), ToBytes(id), id).ok());
  }
  const auto t1 = Clock::now();
  std::vector<int> seen(kJobs, 0);
  int received = 0;
  while (received < kJobs) {
    auto got = FetchN(c, 100, 2s);
    ASSERT_FALSE(got.empty()) << "stalled after " << received << " jobs";
    for (auto& m : got) {
      const int i = std::stoi(std::string(m.payload_view().substr(4)));
      ASSERT_EQ(i, received) << "out of order";
      ++seen[static_cast<std::size_t>(i)];
      ++received;
      ASSERT_TRUE(m.Ack().ok());
    }
  }
  const auto t2 = Clock::now();
  EXPECT_TRUE(FetchN(c, 1, 200ms).empty());
  for (int n : seen) ASSERT_EQ(n, 1);
  const auto per_s = [&](auto d) {
    return kJobs / std::chrono::duration<double>(d).count();
  };
  std::printf("publish with PubAck: %.0f/s; fetch + AckSync: %.0f/s\n", per_s(t1 - t0),
              per_s(t2 - t1));
}

TEST_F(BusTest, CallsAfterCloseFailAsClosed) {
  ConnectOptions o;
  o.name = "bus-close-test";
  auto second = Bus::Connect(url_, o);
  ASSERT_TRUE(second.ok());
  auto consumer_bus = std::move(second).value();
  ASSERT_TRUE(consumer_bus->EnsureConsumer(jobs_.name, WorkerConsumer()).ok());
  auto c = consumer_bus->Subscribe(jobs_.name, WorkerConsumer().durable);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(consumer_bus->status().state, ConnectionState::kConnected);
  consumer_bus->Close();
  for (int i = 0; i < 100 && consumer_bus->status().state != ConnectionState::kClosed; ++i) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(consumer_bus->status().state, ConnectionState::kClosed);
  auto pub = consumer_bus->Publish(Subject("learn"), ToBytes("x"), "after-close");
  ASSERT_FALSE(pub.ok());
  EXPECT_EQ(pub.error().code, ErrorCode::kClosed) << pub.error().message;
  EXPECT_NE(pub.error().message.find("closed"), std::string::npos) << pub.error().message;
  auto fetched = c->Fetch(1, 100ms);
  ASSERT_FALSE(fetched.ok());
  EXPECT_EQ(fetched.error().code, ErrorCode::kClosed) << fetched.error().message;
  consumer_bus.reset();  // the Consumer keeps the closed connection alive
  EXPECT_FALSE(c->Fetch(1, 10ms).ok());
}

TEST(BusConnectTest, RefusedConnectionIsAClearError) {
  testing::OwnNatsServer never_started;
  ConnectOptions o;
  o.connect_timeout = 500ms;
  const auto t0 = Clock::now();
  auto bus = Bus::Connect(never_started.url(), o);
  ASSERT_FALSE(bus.ok());
  EXPECT_EQ(bus.error().code, ErrorCode::kConnectionRefused) << bus.error().message;
  EXPECT_NE(bus.error().message.find(never_started.url()), std::string::npos);
  EXPECT_LT(Clock::now() - t0, 5s);
}

// Restarting nats-server loses no job: the stream is on disk, the client
// reconnects by itself and the unacked jobs come back.
TEST(BusRestartTest, JobsSurviveANatsServerRestart) {
  testing::OwnNatsServer server;
  ASSERT_TRUE(server.Start());
  std::atomic<int> disconnects{0};
  std::atomic<int> reconnects{0};
  ConnectOptions o;
  o.name = "bus-restart-test";
  o.reconnect_wait_min = 50ms;
  o.reconnect_wait_max = 500ms;
  o.on_state_change = [&](const ConnectionStatus& s) {
    if (s.state == ConnectionState::kDisconnected) ++disconnects;
    if (s.state == ConnectionState::kConnected && s.reconnects > 0) ++reconnects;
  };
  auto bus = Bus::Connect(server.url(), o);
  ASSERT_TRUE(bus.ok()) << bus.error().message;
  const StreamConfig jobs = JobsStream("restart");
  ASSERT_TRUE((*bus)->EnsureStream(jobs).ok());
  ConsumerConfig config = WorkerConsumer();
  config.ack_wait = 1s;
  ASSERT_TRUE((*bus)->EnsureConsumer(jobs.name, config).ok());
  auto consumer = (*bus)->Subscribe(jobs.name, config.durable);
  ASSERT_TRUE(consumer.ok());
  ASSERT_TRUE((*bus)->Publish("restart.jobs.a", ToBytes("job a"), "a").ok());
  ASSERT_TRUE((*bus)->Publish("restart.jobs.b", ToBytes("job b"), "b").ok());
  {
    auto taken = consumer->Fetch(1, 3s);  // taken, never acked: the worker "died"
    ASSERT_TRUE(taken.ok());
    ASSERT_EQ(taken->size(), 1u);
  }

  server.Stop();
  for (int i = 0; i < 100 && (*bus)->status().state != ConnectionState::kDisconnected; ++i) {
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ((*bus)->status().state, ConnectionState::kDisconnected);
  // A publish while disconnected fails (no ack in time), yet the client may
  // still send it after reconnecting: retrying with the same msg id is safe.
  EXPECT_FALSE((*bus)->Publish("restart.jobs.c", ToBytes("job c"), "c").ok());
  ASSERT_TRUE(server.Start());
  for (int i = 0; i < 250 && (*bus)->status().state != ConnectionState::kConnected; ++i) {
    std::this_thread::sleep_for(20ms);
  }
  const ConnectionStatus status = (*bus)->status();
  EXPECT_EQ(status.state, ConnectionState::kConnected);
  EXPECT_EQ(status.disconnects, 1u);
  EXPECT_EQ(status.reconnects, 1u);
  EXPECT_EQ(disconnects.load(), 1);
  EXPECT_EQ(reconnects.load(), 1);
  auto retried = (*bus)->Publish("restart.jobs.c", ToBytes("job c"), "c");
  ASSERT_TRUE(retried.ok()) << retried.error().message;

  std::map<std::string, std::uint64_t> deliveries;  // payload → num_delivered
  int messages = 0;
  const auto until = Clock::now() + 15s;
  while (Clock::now() < until) {
    auto got = consumer->Fetch(3, 1s);
    ASSERT_TRUE(got.ok()) << got.error().message;
    if (got->empty() && deliveries.size() == 3) break;
    for (auto& m : *got) {
      ++messages;
      deliveries[std::string(m.payload_view())] = m.metadata().num_delivered;
      ASSERT_TRUE(m.Ack().ok());
    }
  }
  EXPECT_EQ(messages, 3) << "each job exactly once (c deduplicated)";
  ASSERT_EQ(deliveries.size(), 3u) << "a job was lost across the restart";
  EXPECT_EQ(deliveries["job a"], 2u) << "the unacked job comes back";
  EXPECT_EQ(deliveries["job b"], 1u);
  EXPECT_EQ(deliveries["job c"], 1u);
  EXPECT_TRUE((*bus)->Drain(2s).ok());
  EXPECT_EQ((*bus)->status().state, ConnectionState::kClosed);
}

}  // namespace
}  // namespace sqlx::bus
