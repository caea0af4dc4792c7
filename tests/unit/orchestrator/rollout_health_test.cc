// The rollout model's health gates: Threads_running and replica lag measured
// during a wave against the rollout's limits, and the limits' JSON.
#include <gtest/gtest.h>

#include "rollout_driver.h"

namespace sqlx::orchestrator {
namespace {

using namespace rollout_test;  // NOLINT: the driver of these tests (and its names)

TargetHealth Threads(uint32_t n) { return TargetHealth{n, 0, 0, ""}; }

TEST(RolloutTest, AWaveWhoseTargetSawTooManyThreadsRunningPausesAtTheGateNamingItAndResumeGoesOn) {
  RolloutStrategy s;
  s.canary = 1;
  s.per_server = 4;
  s.max_threads_running = 10;
  Driver d(Make(s));
  d.Send({Kind::kStart});
  ASSERT_EQ(d.applies, (std::vector<size_t>{0}));
  d.applies.clear();
  d.Measured(Kind::kApplied, 0, Threads(25));
  EXPECT_EQ(d.r().state, RolloutState::kPaused);
  EXPECT_TRUE(d.applies.empty()) << "no further wave started";
  EXPECT_EQ(d.r().targets[0].state, TargetState::kDone);
  EXPECT_EQ(d.r().targets[0].health, Threads(25));
  const std::string reason = d.r().reason;
  for (const char* part : {"canary", "health gate", "a/shop_0", "Threads_running reached 25", "limit of 10",
                           "sqlx rollout resume ro-1"})
    EXPECT_NE(reason.find(part), std::string::npos) << part << ": " << reason;
  ASSERT_GE(d.audits.size(), 2u);
  EXPECT_EQ(d.audits[d.audits.size() - 2], "rollout.gate.unhealthy");
  EXPECT_EQ(d.audits.back(), "rollout.paused");
  EXPECT_GT(d.r().wave_times[0].finished_ns, 0) << "the wave itself finished";

  // Resume accepts what was measured: the next wave starts; its own
  // measurements are checked again.
  EXPECT_EQ(d.Command(Kind::kResume), "");
  EXPECT_EQ(d.r().state, RolloutState::kRunning);
  EXPECT_EQ(d.r().wave, 1u);
  EXPECT_TRUE(d.r().targets[0].health_accepted);
  ASSERT_EQ(d.applies.size(), 5u);
  const std::vector<size_t> wave1 = std::move(d.applies);
  d.applies.clear();
  for (size_t t : wave1) d.Measured(Kind::kApplied, t, Threads(t == wave1.back() ? 11 : 3));
  EXPECT_EQ(d.r().state, RolloutState::kPaused) << "the last wave is checked before the rollout completes";
  EXPECT_NE(d.r().reason.find("wave 1 of 1"), std::string::npos) << d.r().reason;
  EXPECT_NE(d.r().reason.find("reached 11"), std::string::npos) << d.r().reason;
  EXPECT_EQ(d.r().reason.find("reached 3"), std::string::npos) << "only what is over the limit: " << d.r().reason;
  EXPECT_EQ(d.Command(Kind::kResume), "");
  EXPECT_EQ(d.r().state, RolloutState::kCompleted);
}

TEST(RolloutTest, ThreadsRunningAtTheLimitPassesAndNoLimitChecksNothing) {
  RolloutStrategy s;
  s.canary = 1;
  s.per_server = 4;
  s.max_threads_running = 10;
  Driver d(Make(s, 1));
  d.Send({Kind::kStart});
  d.applies.clear();
  d.Measured(Kind::kApplied, 0, Threads(10));
  EXPECT_EQ(d.r().state, RolloutState::kRunning) << "at the limit is within it";
  d.applies.clear();
  d.Measured(Kind::kApplied, 1, Threads(10));
  EXPECT_EQ(d.r().state, RolloutState::kCompleted);

  RolloutStrategy unchecked = s;
  unchecked.max_threads_running = 0;
  Driver unlimited(Make(unchecked, 1));
  unlimited.Send({Kind::kStart});
  unlimited.applies.clear();
  unlimited.Measured(Kind::kApplied, 0, Threads(500));
  EXPECT_EQ(unlimited.r().wave, 1u) << "no limit: the gate passes";
  EXPECT_EQ(unlimited.r().state, RolloutState::kRunning);
}

TEST(RolloutTest, ReplicaLagOverTheLimitOrUnknownFailsTheGateAndNoReplicasPasses) {
  RolloutStrategy s;
  s.per_server = 4;
  s.max_replica_lag_s = 5;
  // One wave of four: no replicas, lag within, lag over, lag unknown.
  Driver d(Make(s, 2));
  d.Send({Kind::kStart});
  ASSERT_EQ(d.applies.size(), 4u);
  d.applies.clear();
  d.Measured(Kind::kApplied, 0, TargetHealth{2, 0, 0, ""});
  d.Measured(Kind::kApplied, 1, TargetHealth{2, 1, 4.5, ""});
  d.Measured(Kind::kApplied, 2, TargetHealth{2, 2, 12, ""});
  d.Measured(Kind::kFailed, 3, TargetHealth{2, 0, 0, "replica 10.0.0.9:3306 is not replicating"});
  ASSERT_EQ(d.r().state, RolloutState::kPaused);
  EXPECT_NE(d.r().reason.find("failed or held"), std::string::npos) << "the budget is checked first: " << d.r().reason;
  EXPECT_FALSE(d.r().health_failed);
  // Resumed from the budget's pause, nothing measured is accepted: the
  // retried target healthy now, the gate still fails on a/shop_1.
  EXPECT_EQ(d.Command(Kind::kResume), "");
  ASSERT_EQ(d.applies, (std::vector<size_t>{3}));
  d.applies.clear();
  d.Measured(Kind::kApplied, 3, TargetHealth{2, 1, 1, ""});
  ASSERT_EQ(d.r().state, RolloutState::kPaused);
  EXPECT_NE(d.r().reason.find("health gate failed (a/shop_1: replica lag reached 12 s"), std::string::npos)
      << d.r().reason;
  EXPECT_EQ(d.r().reason.find("b/shop_1"), std::string::npos) << "measured again, within: " << d.r().reason;
  // Within a budget of one failure, the gate is what pauses it.
  RolloutStrategy budget = s;
  budget.failure_budget = 1;
  Driver g(Make(budget, 2));
  g.Send({Kind::kStart});
  g.applies.clear();
  g.Measured(Kind::kApplied, 0, TargetHealth{2, 0, 0, ""});
  g.Measured(Kind::kApplied, 1, TargetHealth{2, 1, 4.5, ""});
  g.Measured(Kind::kApplied, 2, TargetHealth{2, 2, 12, ""});
  g.Measured(Kind::kFailed, 3, TargetHealth{2, 0, 0, "replica 10.0.0.9:3306 is not replicating"});
  ASSERT_EQ(g.r().state, RolloutState::kPaused);
  const std::string why = g.r().reason;
  EXPECT_NE(why.find("a/shop_1: replica lag reached 12 s, over the limit of 5 s"), std::string::npos) << why;
  EXPECT_NE(why.find("b/shop_1: replica lag unknown (replica 10.0.0.9:3306 is not replicating)"), std::string::npos)
      << why;
  EXPECT_EQ(why.find("a/shop_0"), std::string::npos) << "no replicas: no lag, within any limit: " << why;
  EXPECT_EQ(why.find("b/shop_0"), std::string::npos) << "4.5 s is within 5 s: " << why;
  EXPECT_EQ(why.rfind("wave 1 of 1: the health gate failed", 0), 0u) << why;
}

TEST(RolloutTest, TheUnhealthyGatesAuditEventNamesEachTargetItsMeasurementAndTheLimit) {
  RolloutStrategy s;
  s.per_server = 4;
  s.max_threads_running = 1;
  s.max_replica_lag_s = 0;
  RolloutDecision last;
  Rollout r = Make(s, 1);
  RolloutEvent start{Kind::kStart, 0, "", "", kT0};
  r = DecideRollout(r, start).rollout;
  for (size_t t = 0; t < 2; ++t) {
    RolloutEvent e{Kind::kApplied, t, "", "", kT0 + 1 + static_cast<int64_t>(t)};
    e.health = t == 0 ? TargetHealth{4, 0, 0, ""} : TargetHealth{1, 1, 0.5, ""};
    last = DecideRollout(r, e);
    r = last.rollout;
  }
  ASSERT_EQ(r.state, RolloutState::kPaused);
  const RolloutAction* gate = nullptr;
  for (const RolloutAction& a : last.actions)
    if (a.audit_action == "rollout.gate.unhealthy") gate = &a;
  ASSERT_NE(gate, nullptr);
  EXPECT_EQ(gate->details["targets"],
            (nlohmann::json{{{"connection", "a"}, {"database", "shop_0"}, {"limit", "max_threads_running"},
                             {"measured", 4}, {"threshold", 1}},
                            {{"connection", "b"}, {"database", "shop_0"}, {"limit", "max_replica_lag"},
                             {"measured", 0.5}, {"threshold", 0.0}}}))
      << gate->details.dump(1);
  EXPECT_TRUE(r.health_failed);
  // Resume accepts what was measured: nothing is left, the rollout completes.
  RolloutEvent resume{Kind::kResume, 0, "", "op", kT0 + 10};
  r = DecideRollout(r, resume).rollout;
  EXPECT_EQ(r.state, RolloutState::kCompleted);
  EXPECT_FALSE(r.health_failed);
}

TEST(RolloutTest, LimitsParseFromJsonAndBadOnesAreRefused) {
  nlohmann::json j = RolloutStrategyToJson(RolloutStrategy{});
  EXPECT_EQ(j["max_threads_running"], 0);
  EXPECT_TRUE(j["max_replica_lag"].is_null());
  auto parsed = RolloutStrategyFromJson(nlohmann::json{{"max_threads_running", 30}, {"max_replica_lag", 2.5}});
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(parsed->max_threads_running, 30u);
  EXPECT_EQ(parsed->max_replica_lag_s, 2.5);
  EXPECT_EQ(*RolloutStrategyFromJson(RolloutStrategyToJson(*parsed)), *parsed);
  using nlohmann::json;
  for (const json& bad : {json{{"max_threads_running", -1}}, json{{"max_threads_running", "x"}},
                          json{{"max_replica_lag", -0.5}}, json{{"max_replica_lag", "5s"}}}) {
    auto refused = RolloutStrategyFromJson(bad);
    ASSERT_FALSE(refused.ok()) << bad.dump();
    EXPECT_EQ(refused.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_EQ(TargetHealthToJson(TargetHealth{3, 0, 0, ""}),
            (nlohmann::json{{"max_threads_running", 3}, {"replicas", 0}, {"max_replica_lag_s", nullptr}}))
      << "no replicas: no lag, not 0";
  EXPECT_EQ(TargetHealthFromJson(TargetHealthToJson(TargetHealth{3, 2, 1.25, "x"})), (TargetHealth{3, 2, 1.25, "x"}));
}


}  // namespace
}  // namespace sqlx::orchestrator
