// The lease decision: each acquisition a newer token, renewals only by the
// newest token's holder, a live lease refused to others, nothing for a
// finished job.
#include "lease.h"

#include <gtest/gtest.h>

namespace sqlx::orchestrator {
namespace {

constexpr int64_t kTtl = 30'000'000'000;  // 30 s
constexpr int64_t kT0 = 1'800'000'000'000'000'000;

TEST(LeaseTest, FirstAcquireGetsTokenOne) {
  LeaseDecision d = DecideLease(std::nullopt, "j", "w1", 0, kT0, kTtl, "");
  ASSERT_TRUE(d.granted) << d.reason;
  EXPECT_EQ(d.lease.token, 1u);
  EXPECT_EQ(d.lease.holder, "w1");
  EXPECT_EQ(d.lease.expires_ns, kT0 + kTtl);
}

TEST(LeaseTest, ALiveLeaseIsRefusedToAnotherWorkerAndTakenOverOnceExpired) {
  const Lease held{"j", "w1", 1, kT0 + kTtl};
  LeaseDecision refused = DecideLease(held, "j", "w2", 0, kT0 + 1, kTtl, "");
  EXPECT_FALSE(refused.granted);
  EXPECT_NE(refused.reason.find("leased to w1 (token 1)"), std::string::npos) << refused.reason;
  LeaseDecision taken = DecideLease(held, "j", "w2", 0, kT0 + kTtl + 1, kTtl, "");
  ASSERT_TRUE(taken.granted) << taken.reason;
  EXPECT_EQ(taken.lease.token, 2u);
  EXPECT_EQ(taken.lease.holder, "w2");
}

TEST(LeaseTest, AFrozenHolderFindsItsTokenSupersededAndCannotRenew) {
  const Lease after_takeover{"j", "w2", 2, kT0 + 2 * kTtl};
  LeaseDecision d = DecideLease(after_takeover, "j", "w1", 1, kT0 + 2 * kTtl, kTtl, "");
  EXPECT_FALSE(d.granted);
  EXPECT_NE(d.reason.find("token 1 superseded by token 2 of w2"), std::string::npos) << d.reason;
  // Even the same worker name with an old token (a redelivery to the same
  // worker took a new token): refused.
  const Lease same_worker{"j", "w1", 3, kT0 + kTtl};
  EXPECT_FALSE(DecideLease(same_worker, "j", "w1", 2, kT0, kTtl, "").granted);
}

TEST(LeaseTest, TheNewestTokenRenewsEvenPastItsExpiry) {
  const Lease held{"j", "w1", 4, kT0};
  LeaseDecision d = DecideLease(held, "j", "w1", 4, kT0 + 5 * kTtl, kTtl, "");
  ASSERT_TRUE(d.granted) << d.reason;
  EXPECT_EQ(d.lease.token, 4u);
  EXPECT_EQ(d.lease.expires_ns, kT0 + 6 * kTtl);
}

TEST(LeaseTest, TheSameWorkerAcquiringAgainGetsANewerToken) {
  const Lease held{"j", "w1", 1, kT0 + kTtl};
  LeaseDecision d = DecideLease(held, "j", "w1", 0, kT0, kTtl, "");
  ASSERT_TRUE(d.granted);
  EXPECT_EQ(d.lease.token, 2u) << "the earlier run of this worker is fenced off too";
}

TEST(LeaseTest, AFinishedJobGrantsNothing) {
  LeaseDecision d = DecideLease(std::nullopt, "j", "w1", 0, kT0, kTtl, "done");
  EXPECT_FALSE(d.granted);
  EXPECT_NE(d.reason.find("already done"), std::string::npos);
  EXPECT_FALSE(DecideLease(Lease{"j", "w1", 1, kT0 + kTtl}, "j", "w1", 1, kT0, kTtl, "failed").granted);
}

}  // namespace
}  // namespace sqlx::orchestrator
