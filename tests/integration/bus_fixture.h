// Shared by the bus tests (bus_test.cc, bus_payload_test.cc): a bus on the
// test nats-server with a jobs stream of the test's own (pid + test name),
// deleted at the end, and messages forged past the bus.
#pragma once

#include <nats/nats.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <unistd.h>
#include <vector>

#include "sqlx/messages/bus.h"
#include "test_env.h"

namespace sqlx::bus::bus_test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

inline Bytes ToBytes(std::string_view s) { return Bytes(s.begin(), s.end()); }

inline Bytes RandomBytes(std::size_t n, unsigned seed) {
  std::mt19937_64 rng(seed);
  Bytes out(n);
  for (auto& b : out) b = static_cast<std::uint8_t>(rng());
  return out;
}

// Publishes through JetStream with hand-written headers (what a foreign or
// broken publisher could send), bypassing the bus.
inline void PublishForged(const std::string& url, const std::string& subject, std::string_view body,
                   const std::map<std::string, std::string>& headers) {
  natsConnection* nc = nullptr;
  ASSERT_EQ(natsConnection_ConnectTo(&nc, url.c_str()), NATS_OK);
  jsCtx* js = nullptr;
  ASSERT_EQ(natsConnection_JetStream(&js, nc, nullptr), NATS_OK);
  natsMsg* msg = nullptr;
  ASSERT_EQ(natsMsg_Create(&msg, subject.c_str(), nullptr, body.data(), static_cast<int>(body.size())),
            NATS_OK);
  for (const auto& [k, v] : headers) ASSERT_EQ(natsMsgHeader_Set(msg, k.c_str(), v.c_str()), NATS_OK);
  jsPubAck* ack = nullptr;
  EXPECT_EQ(js_PublishMsg(&ack, js, msg, nullptr, nullptr), NATS_OK);
  jsPubAck_Destroy(ack);
  natsMsg_Destroy(msg);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

class BusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    url_ = testing::NatsUrl();
    ASSERT_FALSE(url_.empty());
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    prefix_ = "sqlxbustest" + std::to_string(::getpid()) + "_" + info->name();
    auto bus = Bus::Connect(url_, Options());
    ASSERT_TRUE(bus.ok()) << bus.error().message;
    bus_ = std::move(bus).value();
    jobs_ = JobsStream(prefix_);
    ASSERT_TRUE(bus_->EnsureStream(jobs_).ok());
  }
  void TearDown() override {
    if (!bus_) return;
    for (const auto& name : {jobs_.name, EventsStream(prefix_).name}) {
      (void)bus_->DeleteStream(name);  // ignored: the events stream exists in one test only
    }
  }
  virtual ConnectOptions Options() { return {}; }

  // The jobs stream's durable consumer with `config` ensured and bound.
  Consumer Bind(ConsumerConfig config) {
    const Status s = bus_->EnsureConsumer(jobs_.name, config);
    EXPECT_TRUE(s.ok()) << (s.ok() ? "" : s.error().message);
    auto c = bus_->Subscribe(jobs_.name, config.durable);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().message);
    return std::move(c).value();
  }
  std::string Subject(std::string_view leaf) const { return prefix_ + ".jobs." + std::string(leaf); }

  std::vector<Message> FetchN(Consumer& c, int n, std::chrono::milliseconds timeout = 3s) {
    auto got = c.Fetch(n, timeout);
    EXPECT_TRUE(got.ok()) << (got.ok() ? "" : got.error().message);
    return got.ok() ? std::move(got).value() : std::vector<Message>{};
  }

  std::string url_;
  std::string prefix_;
  std::unique_ptr<Bus> bus_;
  StreamConfig jobs_;
};

}  // namespace sqlx::bus::bus_test
