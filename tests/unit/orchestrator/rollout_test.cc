// The rollout model: gates and the state machine driven event by event the
// way the orchestrator drives it (each kApply answered by a result event),
// plus the record's JSON round trip. Targets and waves: rollout_targets_test.cc;
// health gates: rollout_health_test.cc; postponed cut-overs:
// rollout_cutover_test.cc.
#include <gtest/gtest.h>

#include "rollout_driver.h"

namespace sqlx::orchestrator {
namespace {

using namespace rollout_test;  // NOLINT: the driver of these tests (and its names)

// --- gates ---

TEST(RolloutTest, GatesParse) {
  EXPECT_EQ(*ParseGate("health"), (Gate{Gate::Kind::kHealth, 0}));
  EXPECT_EQ(*ParseGate("approval"), (Gate{Gate::Kind::kApproval, 0}));
  EXPECT_EQ(*ParseGate("wait:30s"), (Gate{Gate::Kind::kWait, 30}));
  EXPECT_EQ(*ParseGate("wait:2m"), (Gate{Gate::Kind::kWait, 120}));
  EXPECT_EQ(*ParseGate("wait:5"), (Gate{Gate::Kind::kWait, 5}));
  EXPECT_EQ(GateText(*ParseGate("wait:2m")), "wait:120s");
  for (const char* bad : {"", "wait:", "wait:x", "later", "wait:-1s"}) EXPECT_FALSE(ParseGate(bad).ok()) << bad;
}

// --- the state machine ---

TEST(RolloutTest, ACanaryThenWavesCompleteWithTheHealthGate) {
  RolloutStrategy s;
  s.canary = 1;
  s.waves = *ParseWaves("50%,100%");
  s.per_server = 2;
  Driver d(Make(s));
  ASSERT_EQ(d.r().waves, 3u);
  EXPECT_EQ(d.r().state, RolloutState::kPending);
  d.Send({Kind::kStart});
  EXPECT_EQ(d.r().state, RolloutState::kRunning);
  EXPECT_EQ(RolloutPhase(d.r()), "canary");
  EXPECT_EQ(d.applies, (std::vector<size_t>{0})) << "the canary alone";
  d.AnswerApplies();
  EXPECT_EQ(d.r().wave, 1u);
  EXPECT_EQ(RolloutPhase(d.r()), "wave 1 of 2");
  EXPECT_EQ(d.applies.size(), 3u) << "50% of the 5 left, rounded up";
  d.AnswerApplies();
  EXPECT_EQ(d.r().wave, 2u);
  d.AnswerApplies();
  EXPECT_EQ(d.r().state, RolloutState::kCompleted);
  EXPECT_EQ(Count(d.r(), TargetState::kDone), 6u);
  EXPECT_EQ(d.audits, (std::vector<std::string>{
                          "rollout.wave.started", "rollout.target.applied", "rollout.gate.passed",
                          "rollout.wave.started", "rollout.target.applied", "rollout.target.applied",
                          "rollout.target.applied", "rollout.gate.passed", "rollout.wave.started",
                          "rollout.target.applied", "rollout.target.applied", "rollout.completed"}));
}

TEST(RolloutTest, NeverMoreThanKAppliesAtOnceOnOneServer) {
  RolloutStrategy s;
  s.per_server = 2;
  Driver d(Make(s, 5));  // one wave of 10 over two servers
  d.Send({Kind::kStart});
  size_t most = 0;
  while (!d.applies.empty()) {
    std::map<std::string, size_t> applying;
    for (const RolloutTarget& t : d.r().targets)
      if (t.state == TargetState::kApplying) most = std::max(most, ++applying[t.server]);
    for (const auto& [server, n] : applying) EXPECT_LE(n, 2u) << server;
    const size_t t = d.applies.front();
    d.applies.erase(d.applies.begin());
    d.Result(Kind::kApplied, t);
  }
  EXPECT_EQ(most, 2u);
  EXPECT_EQ(d.r().state, RolloutState::kCompleted);
}

TEST(RolloutTest, AFailureOverTheBudgetPausesNamingTheTargetAndResumeRetriesIt) {
  RolloutStrategy s;
  s.canary = 1;
  s.waves = *ParseWaves("100%");
  s.per_server = 1;
  Driver d(Make(s));
  d.Send({Kind::kStart});
  d.AnswerApplies();
  ASSERT_EQ(d.r().wave, 1u);
  // Wave 1: target 1 fails; the other in flight (other server) finishes;
  // nothing more of the wave starts.
  ASSERT_EQ(d.applies, (std::vector<size_t>{1, 2}));
  d.Result(Kind::kFailed, 1, "duplicate entry 'x' for key 'uk'");
  d.applies.erase(d.applies.begin());
  EXPECT_EQ(d.r().state, RolloutState::kPaused);
  EXPECT_NE(d.r().reason.find("b/shop_0"), std::string::npos) << d.r().reason;
  EXPECT_NE(d.r().reason.find("duplicate entry"), std::string::npos) << d.r().reason;
  d.AnswerApplies();  // target 2, in flight when the rollout paused
  EXPECT_TRUE(d.applies.empty()) << "a paused rollout starts nothing";
  EXPECT_EQ(d.r().state, RolloutState::kPaused);
  EXPECT_EQ(d.r().targets[2].state, TargetState::kDone);
  EXPECT_EQ(Count(d.r(), TargetState::kPending), 3u);
  EXPECT_NE(d.Command(Kind::kApprove), "") << "no gate to approve";

  EXPECT_EQ(d.Command(Kind::kResume, "bob"), "");
  EXPECT_EQ(d.audits.back(), "rollout.resumed");
  EXPECT_EQ(d.last_details.value("by", ""), "bob");
  EXPECT_EQ(d.r().targets[1].state, TargetState::kApplying);
  EXPECT_EQ(d.r().targets[1].attempts, 2u);
  d.AnswerApplies();
  d.AnswerApplies();
  d.AnswerApplies();
  EXPECT_EQ(d.r().state, RolloutState::kCompleted);
  EXPECT_NE(std::find(d.audits.begin(), d.audits.end(), "rollout.resumed"), d.audits.end());
}

TEST(RolloutTest, HeldTargetsCountAgainstTheBudgetAndSkippedOnesAreDone) {
  RolloutStrategy s;
  s.failure_budget = 1;
  s.per_server = 3;
  Driver d(Make(s, 2));
  d.Send({Kind::kStart});
  ASSERT_EQ(d.applies.size(), 4u);
  d.Result(Kind::kSkipped, 0);
  d.Result(Kind::kHeld, 1, "no learned snapshot: learn it first");
  EXPECT_EQ(d.r().state, RolloutState::kRunning) << "one held is within a budget of one";
  d.Result(Kind::kApplied, 2);
  d.Result(Kind::kApplied, 3);
  EXPECT_EQ(d.r().state, RolloutState::kCompleted);
  EXPECT_EQ(d.r().targets[0].state, TargetState::kSkipped);
  EXPECT_EQ(d.r().targets[1].reason, "no learned snapshot: learn it first");
}

TEST(RolloutTest, AnApprovalGateWaitsForApproveAndAWaitGateForTime) {
  RolloutStrategy s;
  s.canary = 1;
  s.gate = *ParseGate("approval");
  s.per_server = 4;
  Driver d(Make(s));
  d.Send({Kind::kStart});
  d.AnswerApplies();
  EXPECT_EQ(d.r().state, RolloutState::kGate);
  EXPECT_EQ(RolloutPhase(d.r()), "gate after canary");
  d.Send({Kind::kTick});
  EXPECT_EQ(d.r().state, RolloutState::kGate);
  EXPECT_TRUE(d.applies.empty());
  EXPECT_EQ(d.Command(Kind::kApprove, "carol"), "");
  EXPECT_EQ(d.r().state, RolloutState::kRunning);
  EXPECT_EQ(d.applies.size(), 5u);

  RolloutStrategy w = s;
  w.gate = *ParseGate("wait:10s");
  Driver timed(Make(w));
  timed.Send({Kind::kStart});
  timed.AnswerApplies();
  ASSERT_EQ(timed.r().state, RolloutState::kGate);
  timed.Send({Kind::kTick});
  EXPECT_EQ(timed.r().state, RolloutState::kGate);
  timed.Advance(10'000'000'000);
  timed.Send({Kind::kTick});
  EXPECT_EQ(timed.r().state, RolloutState::kRunning);
  EXPECT_EQ(timed.applies.size(), 5u);
}

TEST(RolloutTest, PauseAbortAndRefusedCommands) {
  RolloutStrategy s;
  s.per_server = 1;
  Driver d(Make(s));
  EXPECT_NE(d.Command(Kind::kResume), "");
  d.Send({Kind::kStart});
  EXPECT_NE(d.Command(Kind::kRevert).find("pause or abort it first"), std::string::npos);
  EXPECT_EQ(d.Command(Kind::kPause, "dave"), "");
  EXPECT_EQ(d.r().reason, "paused by dave");
  EXPECT_NE(d.Command(Kind::kPause), "") << "already paused";
  d.AnswerApplies();  // in flight when paused: recorded, nothing new starts
  EXPECT_TRUE(d.applies.empty());
  EXPECT_EQ(d.Command(Kind::kAbort, "dave"), "");
  EXPECT_EQ(d.r().state, RolloutState::kAborted);
  EXPECT_NE(d.Command(Kind::kAbort), "");
  EXPECT_NE(d.Command(Kind::kResume), "");
  EXPECT_EQ(d.last_details["by"], "dave");
}

TEST(RolloutTest, RevertGoesNewestFirstOneAtATimeAndPausesOnAFailure) {
  RolloutStrategy s;
  s.per_server = 1;
  s.canary = 1;
  Driver d(Make(s, 2));
  d.Send({Kind::kStart});
  std::vector<size_t> applied_order;
  while (!d.applies.empty()) {
    const size_t t = d.applies.front();
    d.applies.erase(d.applies.begin());
    applied_order.push_back(t);
    d.Result(Kind::kApplied, t);
  }
  ASSERT_EQ(d.r().state, RolloutState::kCompleted);
  EXPECT_EQ(d.Command(Kind::kRevert, "erin"), "");
  EXPECT_EQ(d.r().state, RolloutState::kReverting);
  ASSERT_EQ(d.reverts.size(), 1u);
  EXPECT_EQ(d.reverts[0], applied_order.back());
  d.Result(Kind::kRevertFailed, d.reverts[0], "drift");
  EXPECT_EQ(d.r().state, RolloutState::kPaused);
  EXPECT_TRUE(d.r().reverting);
  EXPECT_NE(d.r().reason.find("the revert of"), std::string::npos);
  EXPECT_NE(d.Command(Kind::kAbort), "") << "a paused revert resumes; it does not abort";
  EXPECT_EQ(d.Command(Kind::kResume), "");
  ASSERT_EQ(d.reverts.size(), 2u);
  EXPECT_EQ(d.reverts[1], applied_order.back()) << "the failed one is tried again first";
  while (d.r().state == RolloutState::kReverting) d.Result(Kind::kReverted, d.reverts.back());
  std::vector<size_t> reverted(d.reverts.begin() + 1, d.reverts.end());
  EXPECT_EQ(reverted, std::vector<size_t>(applied_order.rbegin(), applied_order.rend()));
  EXPECT_EQ(d.r().state, RolloutState::kReverted);
  EXPECT_EQ(Count(d.r(), TargetState::kReverted), 4u);
  EXPECT_EQ(d.audits.back(), "rollout.reverted");
}

TEST(RolloutTest, ResultsThatDoNotFitChangeNothing) {
  RolloutStrategy s;
  Driver d(Make(s));
  d.Send({Kind::kStart});
  const Rollout before = d.r();
  d.Result(Kind::kApplied, 5);   // not in flight
  d.Result(Kind::kReverted, 0);  // not reverting
  d.Result(Kind::kApplied, 99);  // no such target
  EXPECT_EQ(d.r(), before);
}

TEST(RolloutTest, TheRecordRoundTripsThroughJson) {
  RolloutStrategy s;
  s.canary = 2;
  s.waves = *ParseWaves("10%,3,100%");
  s.gate = *ParseGate("wait:90s");
  s.failure_budget = 2;
  s.per_server = 3;
  s.allow_blocking = true;
  Driver d(Make(s, 4));
  d.Send({Kind::kStart});
  d.Result(Kind::kFailed, d.applies[0], "boom");
  d.mutable_r().targets[3].from_hash = "abc";
  d.mutable_r().targets[3].from_version = 7;
  d.mutable_r().targets[3].replan = true;
  d.mutable_r().targets[3].health = TargetHealth{7, 2, 1.5, ""};
  d.mutable_r().targets[4].health = TargetHealth{3, 0, 0, "replica 10.0.0.9:3306 is not replicating"};
  d.mutable_r().targets[4].health_accepted = true;
  d.mutable_r().health_failed = true;
  d.mutable_r().strategy.max_threads_running = 40;
  d.mutable_r().strategy.max_replica_lag_s = 0.5;
  ASSERT_GT(d.r().wave_times[0].started_ns, 0);
  ASSERT_GT(d.r().targets[d.applies[1]].started_ns, 0);
  const nlohmann::json j = RolloutToJson(d.r());
  auto back = RolloutFromJson(nlohmann::json::parse(j.dump()));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(*back, d.r());
  nlohmann::json broken = j;
  broken["state"] = "sideways";
  EXPECT_FALSE(RolloutFromJson(broken).ok());
  EXPECT_FALSE(RolloutFromJson(nlohmann::json::array()).ok());
}

TEST(RolloutTest, WavesAndTargetsRecordWhenTheyStartedAndEnded) {
  RolloutStrategy s;
  s.canary = 1;
  s.per_server = 2;
  Driver d(Make(s));
  ASSERT_EQ(d.r().wave_times.size(), 2u);
  d.Send({Kind::kStart});
  const int64_t started = d.now();
  EXPECT_EQ(d.r().wave_times[0], (WaveTimes{started, 0}));
  EXPECT_EQ(d.r().targets[0].started_ns, started);
  EXPECT_EQ(d.r().targets[0].finished_ns, 0);
  d.Advance(5'000'000'000);
  d.AnswerApplies();
  const int64_t canary_done = d.now();
  EXPECT_EQ(d.r().wave_times[0], (WaveTimes{started, canary_done}));
  EXPECT_EQ(d.r().targets[0].finished_ns, canary_done);
  EXPECT_EQ(d.r().wave_times[1].started_ns, canary_done) << "the health gate passes at once";
  const nlohmann::json p = RolloutProgressJson(d.r(), canary_done + 2'000'000);
  ASSERT_EQ(p["timings"].size(), 2u);
  EXPECT_EQ(p["timings"][0]["name"], "canary");
  EXPECT_EQ(p["timings"][0]["targets"], 1);
  EXPECT_EQ(p["timings"][0]["took_ms"], (canary_done - started) / 1'000'000);
  EXPECT_EQ(p["timings"][1]["name"], "wave 1 of 1");
  EXPECT_EQ(p["timings"][1]["took_ms"], 2) << "a wave in progress: so far";
  EXPECT_EQ(p["timings"][1]["finished_ns"], 0);
}

TEST(RolloutTest, TheEstimateIsTheMeanTargetTimeOfFinishedWavesTimesWhatIsLeftOverConcurrency) {
  RolloutStrategy s;
  s.canary = 2;
  s.per_server = 1;
  s.gate = *ParseGate("wait:10s");
  s.waves = *ParseWaves("2");
  Driver d(Make(s, 4));  // 8 targets on 2 servers: canary 2, wave of 2, last wave of 4
  d.Send({Kind::kStart});
  EXPECT_FALSE(EstimateRollout(d.r(), d.now()).known) << "no finished wave yet";
  EXPECT_EQ(RolloutProgressJson(d.r(), d.now())["estimate"]["note"], "no finished wave yet to estimate from");
  // The canary's targets take 4 s and 6 s: a mean of 5 s.
  ASSERT_EQ(d.applies, (std::vector<size_t>{0, 1}));
  d.Advance(4'000'000'000);
  d.Result(Kind::kApplied, 0);
  d.Advance(2'000'000'000);
  d.Result(Kind::kApplied, 1);
  ASSERT_EQ(d.r().state, RolloutState::kGate);
  d.Advance(3'000'000'000);
  RolloutEstimate e = EstimateRollout(d.r(), d.now());
  ASSERT_TRUE(e.known);
  EXPECT_EQ(e.measured, 2u);
  EXPECT_NEAR(static_cast<double>(e.mean_target_ns), 5e9, 1e4);
  EXPECT_EQ(e.targets_left, 6u);
  EXPECT_EQ(e.concurrency, 2u) << "one at once on each of two servers";
  // 3 rounds of 5 s; the current gate's 7 s left and the next gate's 10 s.
  EXPECT_EQ(e.gates_ns, 17'000'000'000);
  EXPECT_EQ(e.left_ns, 3 * e.mean_target_ns + e.gates_ns);
  const nlohmann::json j = RolloutProgressJson(d.r(), d.now())["estimate"];
  EXPECT_EQ(j["mean_target_ms"], 5000);
  EXPECT_NE(j["note"].get<std::string>().find("an estimate"), std::string::npos);

  RolloutStrategy a = s;
  a.gate = *ParseGate("approval");
  a.per_server = 4;
  Driver approved(Make(a, 4));
  approved.Send({Kind::kStart});
  approved.AnswerApplies();
  e = EstimateRollout(approved.r(), approved.now());
  EXPECT_EQ(e.approvals_ahead, 2u) << "approvals are not in left_ns";
  EXPECT_EQ(e.concurrency, 6u) << "at most the targets left";
  EXPECT_EQ(e.gates_ns, 0);
  approved.Command(Kind::kAbort);
  EXPECT_FALSE(EstimateRollout(approved.r(), approved.now()).known) << "an aborted rollout has nothing left";
}

TEST(RolloutTest, OtherRolloutsJobsOnAServerCountAgainstItsLimit) {
  RolloutStrategy s;
  s.per_server = 1;
  Driver d(Make(s, 2));  // one wave: a/shop_0 (h1), b/shop_0 (h2), a/shop_1, b/shop_1
  d.elsewhere = {{"h1:1", 1}};
  d.Send({Kind::kStart});
  EXPECT_EQ(d.applies, (std::vector<size_t>{1})) << "h1 is busy with another rollout's job";
  d.Send({Kind::kTick});
  EXPECT_EQ(d.applies, (std::vector<size_t>{1})) << "still busy: nothing new";
  d.elsewhere.clear();
  d.Send({Kind::kTick});
  EXPECT_EQ(d.applies, (std::vector<size_t>{1, 0})) << "a tick starts what the freed server admits";
  d.AnswerApplies();
  d.AnswerApplies();
  ASSERT_EQ(d.r().state, RolloutState::kCompleted);

  // A revert waits for room on the newest target's server too, in order.
  const size_t newest = d.r().targets[3].finished_ns > d.r().targets[2].finished_ns ? 3 : 2;
  d.elsewhere = {{d.r().targets[newest].server, 1}};
  EXPECT_EQ(d.Command(Kind::kRevert), "");
  EXPECT_EQ(d.r().state, RolloutState::kReverting);
  EXPECT_TRUE(d.reverts.empty());
  d.elsewhere.clear();
  d.Send({Kind::kTick});
  EXPECT_EQ(d.reverts, (std::vector<size_t>{newest}));

  // What other rollouts have in flight, per server.
  Rollout other = Make(s, 2);
  other.id = "ro-2";
  other.targets[0].state = TargetState::kApplying;
  other.targets[2].state = TargetState::kReverting;
  other.targets[1].state = TargetState::kDone;
  EXPECT_EQ(InFlightPerServer({d.r(), other}, "ro-1"), (std::map<std::string, uint32_t>{{"h1:1", 2}}));
  EXPECT_EQ(InFlightPerServer({d.r(), other}, "ro-2"),
            (std::map<std::string, uint32_t>{{d.r().targets[newest].server, 1}}));
}

TEST(RolloutTest, ResumePlansHeldTargetsFromWhatIsLearnedNow) {
  RolloutStrategy s;
  s.per_server = 4;
  Driver d(Make(s, 2));
  d.Send({Kind::kStart});
  d.Result(Kind::kHeld, 0, "its schema drifted");
  d.Result(Kind::kFailed, 1, "duplicate entry");
  d.Result(Kind::kApplied, 2);
  d.Result(Kind::kApplied, 3);
  ASSERT_EQ(d.r().state, RolloutState::kPaused);
  EXPECT_GT(d.r().targets[0].finished_ns, 0) << "held: it ended";
  EXPECT_FALSE(d.r().targets[0].replan);
  EXPECT_EQ(d.Command(Kind::kResume), "");
  EXPECT_TRUE(d.r().targets[0].replan) << "held: planned from its learned schema as it is now";
  EXPECT_FALSE(d.r().targets[1].replan) << "failed: planned as before";
  EXPECT_EQ(d.r().targets[0].state, TargetState::kApplying);
  // Still drifted: held again, with the reason; resumed again, replanned again.
  d.Result(Kind::kHeld, 0, "the live schema drifted from its learned snapshot");
  d.Result(Kind::kApplied, 1);
  ASSERT_EQ(d.r().state, RolloutState::kPaused);
  EXPECT_NE(d.r().reason.find("the live schema drifted"), std::string::npos) << d.r().reason;
  EXPECT_EQ(d.Command(Kind::kResume), "");
  d.Result(Kind::kApplied, 0);
  EXPECT_EQ(d.r().state, RolloutState::kCompleted);
  EXPECT_FALSE(d.r().targets[0].replan) << "applied: the flag has done its work";
  EXPECT_EQ(d.r().targets[0].attempts, 3u);
}


}  // namespace
}  // namespace sqlx::orchestrator
