// The rollout model: gates and the state machine driven event by event the
// way the orchestrator drives it (each kApply answered by a result event),
// plus the record's JSON round trip. Targets and waves: rollout_targets_test.cc.
#include "rollout.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "sqlx/messages/clock.h"

namespace sqlx::orchestrator {
namespace {

using Kind = RolloutEvent::Kind;

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

constexpr int64_t kT0 = 1'800'000'000'000'000'000;

// Drives a rollout as the engine does: events in, apply/revert actions
// collected, audit actions listed by name.
class Driver {
 public:
  explicit Driver(Rollout r) : r_(std::move(r)) {}

  // Sends `e`; a refusal is returned (empty: accepted).
  std::string Send(RolloutEvent e) {
    e.now_ns = now_ += 1000;
    e.elsewhere = elsewhere;
    RolloutDecision d = DecideRollout(r_, e);
    if (!d.refusal.empty()) {
      EXPECT_EQ(d.rollout, r_) << "a refusal changes nothing";
      EXPECT_TRUE(d.actions.empty());
      return d.refusal;
    }
    r_ = std::move(d.rollout);
    for (const RolloutAction& a : d.actions) {
      if (a.kind == RolloutAction::Kind::kAudit) {
        audits.push_back(a.audit_action);
        last_details = a.details;
      } else if (a.kind == RolloutAction::Kind::kCutover) {
        cutovers.push_back(a.target);
      } else if (a.kind == RolloutAction::Kind::kAbandon) {
        abandons.push_back(a.target);
      } else {
        (a.kind == RolloutAction::Kind::kApply ? applies : reverts).push_back(a.target);
      }
    }
    return "";
  }
  std::string Command(Kind k, const std::string& actor = "op") { return Send({k, 0, "", actor, 0}); }
  void Result(Kind k, size_t target, const std::string& reason = "") { Send({k, target, reason, "", 0}); }
  // An apply result with what its worker measured.
  void Measured(Kind k, size_t target, TargetHealth health) {
    RolloutEvent e{k, target, "", "", 0};
    e.health = std::move(health);
    Send(std::move(e));
  }
  // Answers the applies outstanding now (not those they lead to): applied,
  // unless `failing` names it.
  void AnswerApplies(const std::map<size_t, std::string>& failing = {}) {
    const std::vector<size_t> outstanding = std::move(applies);
    applies.clear();
    for (size_t t : outstanding) {
      auto f = failing.find(t);
      if (f == failing.end()) {
        Result(Kind::kApplied, t);
      } else {
        Result(Kind::kFailed, t, f->second);
      }
    }
  }
  const Rollout& r() const { return r_; }
  Rollout& mutable_r() { return r_; }
  void Advance(int64_t ns) { now_ += ns; }

  int64_t now() const { return now_; }

  std::vector<size_t> applies, reverts, cutovers, abandons;
  std::vector<std::string> audits;
  std::map<std::string, uint32_t> elsewhere;  // other rollouts' jobs in flight, sent with each event
  nlohmann::json last_details;

 private:
  Rollout r_;
  int64_t now_ = kT0;
};

std::vector<ResolvedTarget> Targets(const std::vector<std::pair<std::string, std::string>>& conn_server, int per) {
  std::vector<ResolvedTarget> out;
  for (int i = 0; i < per; ++i) {
    for (const auto& [conn, server] : conn_server) out.push_back({conn, "shop_" + std::to_string(i), server});
  }
  return out;
}

Rollout Make(RolloutStrategy s, size_t targets_per_server = 3) {
  return NewRollout("ro-1", "alice", {"all"}, "hash", std::move(s),
                    Targets({{"a", "h1:1"}, {"b", "h2:1"}}, static_cast<int>(targets_per_server)), kT0);
}

size_t Count(const Rollout& r, TargetState s) {
  size_t n = 0;
  for (const RolloutTarget& t : r.targets) n += t.state == s ? 1 : 0;
  return n;
}

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

// --- the health gate ---

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

// --- cut-over windows and waves cutting over together ---

// UTC ns of 1970-01-01 HH:MM plus `days`.
int64_t At(int days, int hh, int mm) { return ((days * 24LL + hh) * 60 + mm) * 60'000'000'000LL; }

TEST(RolloutTest, CutoverWindowsParseAndWrapMidnight) {
  EXPECT_EQ(*ParseCutoverWindow("02:00-04:30"), (CutoverWindow{120, 270}));
  EXPECT_EQ(*ParseCutoverWindow("22:00-02:00"), (CutoverWindow{1320, 120}));
  EXPECT_EQ(CutoverWindowText(*ParseCutoverWindow("22:00-02:00")), "22:00-02:00");
  for (const char* bad : {"", "2:00-4:00", "02:00", "02:00-02:00", "24:00-01:00", "01:60-02:00", "0a:00-01:00",
                          "02:00-04:00x", "02:00 04:00"})
    EXPECT_FALSE(ParseCutoverWindow(bad).ok()) << bad;

  const CutoverWindow day = *ParseCutoverWindow("02:00-04:00");
  EXPECT_FALSE(InCutoverWindow(day, At(100, 1, 59)));
  EXPECT_TRUE(InCutoverWindow(day, At(100, 2, 0)));
  EXPECT_TRUE(InCutoverWindow(day, At(100, 3, 59)));
  EXPECT_FALSE(InCutoverWindow(day, At(100, 4, 0))) << "the end is not in it";
  EXPECT_EQ(CutoverWindowOpens(day, At(100, 1, 0)), At(100, 2, 0));
  EXPECT_EQ(CutoverWindowOpens(day, At(100, 5, 0)), At(101, 2, 0)) << "tomorrow";
  EXPECT_EQ(CutoverWindowOpens(day, At(100, 3, 0)), At(100, 3, 0)) << "open: now";

  const CutoverWindow night = *ParseCutoverWindow("22:00-02:00");
  EXPECT_TRUE(InCutoverWindow(night, At(100, 23, 30)));
  EXPECT_TRUE(InCutoverWindow(night, At(101, 1, 30)));
  EXPECT_FALSE(InCutoverWindow(night, At(101, 2, 0)));
  EXPECT_FALSE(InCutoverWindow(night, At(101, 12, 0)));
  EXPECT_EQ(CutoverWindowOpens(night, At(101, 12, 0)), At(101, 22, 0));

  // The end of the window open now (now itself when it is closed).
  EXPECT_EQ(CutoverWindowCloses(day, At(100, 2, 0)), At(100, 4, 0));
  EXPECT_EQ(CutoverWindowCloses(day, At(100, 3, 59) + 30'000'000'000LL), At(100, 4, 0));
  EXPECT_EQ(CutoverWindowCloses(day, At(100, 5, 0)), At(100, 5, 0)) << "closed: now";
  EXPECT_EQ(CutoverWindowCloses(night, At(100, 23, 30)), At(101, 2, 0)) << "across midnight";
  EXPECT_EQ(CutoverWindowCloses(night, At(101, 1, 30)), At(101, 2, 0));
}

TEST(RolloutTest, TheCutoverOptionsRoundTripThroughJsonAndBadOnesAreRefused) {
  RolloutStrategy s;
  EXPECT_FALSE(s.PostponesCutover());
  s.cutover_window = *ParseCutoverWindow("22:00-02:00");
  s.cutover = CutoverMode::kTogether;
  EXPECT_TRUE(s.PostponesCutover());
  EXPECT_EQ(*RolloutStrategyFromJson(RolloutStrategyToJson(s)), s);
  const nlohmann::json j = RolloutStrategyToJson(s);
  EXPECT_EQ(j["cutover_window"], "22:00-02:00");
  EXPECT_EQ(j["cutover"], "together");
  EXPECT_EQ(*RolloutStrategyFromJson(nlohmann::json::object()), RolloutStrategy{}) << "absent: any time, each";
  EXPECT_FALSE(RolloutStrategyFromJson({{"cutover_window", "25:00-01:00"}}).ok());
  EXPECT_FALSE(RolloutStrategyFromJson({{"cutover_window", 3}}).ok());
  EXPECT_FALSE(RolloutStrategyFromJson({{"cutover", "later"}}).ok());

  Rollout r = Make(s, 1);
  r.targets[0].state = TargetState::kCopied;
  r.targets[0].copy_job = "ro-1.t0.a1";
  r.targets[0].migrations = {"0a1b2c3d"};
  r.targets[1].state = TargetState::kCuttingOver;
  r.targets[1].copy_job = "ro-1.t1.c2";
  r.targets[1].migrations_of = "ro-1.t1.a1";
  r.targets[1].migrations = {"0e0f"};
  EXPECT_EQ(*RolloutFromJson(RolloutToJson(r)), r);
}

// Sends kCopied for `target` with one migration.
void Copied(Driver& d, size_t target) {
  RolloutEvent e{Kind::kCopied, target, "", "", 0};
  e.migrations = {"0000000" + std::to_string(target)};
  d.Send(std::move(e));
}

TEST(RolloutTest, TogetherNoTargetCutsOverUntilEveryCopyOfItsWaveIsDoneThenAllDo) {
  RolloutStrategy s;
  s.cutover = CutoverMode::kTogether;
  s.per_server = 3;
  s.canary = 2;
  s.waves = *ParseWaves("100%");
  Driver d(Make(s, 2));  // canary: a/shop_0, b/shop_0; then the two others
  d.Send({Kind::kStart});
  ASSERT_EQ(d.applies, (std::vector<size_t>{0, 1}));
  Copied(d, 0);
  EXPECT_TRUE(d.cutovers.empty()) << "target 1 is still copying";
  EXPECT_EQ(d.r().targets[0].state, TargetState::kCopied);
  EXPECT_EQ(d.r().targets[0].copy_job, d.r().targets[0].job);
  EXPECT_EQ(d.r().targets[0].migrations, (std::vector<std::string>{"00000000"}));
  EXPECT_NE(d.r().targets[0].reason.find("together"), std::string::npos) << d.r().targets[0].reason;
  d.Send({Kind::kTick});
  EXPECT_TRUE(d.cutovers.empty());
  Copied(d, 1);
  EXPECT_EQ(d.cutovers, (std::vector<size_t>{0, 1})) << "the whole wave at once";
  EXPECT_EQ(d.audits.back(), "rollout.cutover.started");
  EXPECT_EQ(d.last_details["targets"].size(), 2u);
  EXPECT_EQ(d.r().targets[0].state, TargetState::kCuttingOver);
  EXPECT_EQ(d.r().wave, 0u) << "the wave is done only once they are cut over";
  d.Result(Kind::kApplied, 0);
  EXPECT_EQ(d.r().wave, 0u);
  d.Result(Kind::kApplied, 1);
  EXPECT_EQ(d.r().targets[1].state, TargetState::kDone);
  EXPECT_TRUE(d.r().targets[1].migrations.empty());
  EXPECT_EQ(d.r().wave, 1u);
  d.applies.clear();
  d.cutovers.clear();
  Copied(d, 2);
  Copied(d, 3);
  EXPECT_EQ(d.cutovers, (std::vector<size_t>{2, 3}));
  d.Result(Kind::kApplied, 2);
  d.Result(Kind::kApplied, 3);
  EXPECT_EQ(d.r().state, RolloutState::kCompleted);
}

TEST(RolloutTest, TogetherAFailedCopyOverTheBudgetLeavesTheReadyCopiesUncutAndRevertAbandonsThem) {
  RolloutStrategy s;
  s.cutover = CutoverMode::kTogether;
  s.per_server = 3;
  Driver d(Make(s, 2));  // one wave of 4
  d.Send({Kind::kStart});
  ASSERT_EQ(d.applies.size(), 4u);
  Copied(d, 0);
  Copied(d, 1);
  d.Result(Kind::kFailed, 2, "the copy failed");
  EXPECT_EQ(d.r().state, RolloutState::kPaused);
  Copied(d, 3);  // in flight when it paused
  EXPECT_TRUE(d.cutovers.empty()) << "over the budget: the ready copies are not cut over";
  EXPECT_EQ(Count(d.r(), TargetState::kCopied), 3u);
  EXPECT_EQ(d.Command(Kind::kRevert), "");
  // Newest first: 3, 1, 0; each copied one's migrations abandoned.
  EXPECT_EQ(d.abandons, (std::vector<size_t>{3}));
  d.Result(Kind::kReverted, 3);
  d.Result(Kind::kReverted, 1);
  d.Result(Kind::kReverted, 0);
  EXPECT_EQ(d.abandons, (std::vector<size_t>{3, 1, 0}));
  EXPECT_TRUE(d.reverts.empty());
  EXPECT_EQ(d.r().state, RolloutState::kReverted);
  EXPECT_TRUE(d.r().targets[3].migrations.empty());
}

TEST(RolloutTest, TogetherAFailureWithinTheBudgetStillCutsTheOthersOverAndResumeRetriesAFailedCutover) {
  RolloutStrategy s;
  s.cutover = CutoverMode::kTogether;
  s.per_server = 3;
  s.failure_budget = 1;
  Driver d(Make(s, 1));  // one wave: a/shop_0, b/shop_0
  d.Send({Kind::kStart});
  Copied(d, 0);
  d.Result(Kind::kFailed, 1, "the copy failed");
  EXPECT_EQ(d.cutovers, (std::vector<size_t>{0}));
  d.Result(Kind::kFailed, 0, "the swap timed out");  // the cut-over failed: 2 failures, over the budget
  EXPECT_EQ(d.r().state, RolloutState::kPaused);
  EXPECT_EQ(d.r().targets[0].migrations.size(), 1u) << "its copy stays";
  d.applies.clear();
  d.cutovers.clear();
  EXPECT_EQ(d.Command(Kind::kResume), "");
  EXPECT_EQ(d.applies, (std::vector<size_t>{1})) << "the failed copy is applied again";
  EXPECT_EQ(d.r().targets[0].state, TargetState::kCopied) << "the failed cut-over waits for its wave again";
  EXPECT_TRUE(d.cutovers.empty());
  Copied(d, 1);
  EXPECT_EQ(d.cutovers, (std::vector<size_t>{0, 1}));
}

// kWindowDay's midnight (a day after kT0).
constexpr int kWindowDay = 20900;

// A rollout (one wave of two targets, 3 jobs per server) whose online
// copies cut over within 02:00-03:00 UTC, started at HH:MM of kWindowDay.
Driver StartedAt(int hh, int mm) {
  RolloutStrategy s;
  s.per_server = 3;
  Driver d(Make(s, 1));
  s.cutover_window = *ParseCutoverWindow("02:00-03:00");
  d.mutable_r().strategy = s;
  d.Advance(At(kWindowDay, hh, mm) - d.now());
  d.Send({Kind::kStart});
  return d;
}

TEST(RolloutTest, AClosedWindowKeepsCopiedTargetsWaitingSayingWhenAndTheyCutOverWhenItOpens) {
  Driver d = StartedAt(1, 0);
  const int64_t base = At(kWindowDay, 0, 0);
  Copied(d, 0);
  EXPECT_TRUE(d.cutovers.empty());
  EXPECT_NE(d.r().targets[0].reason.find("window 02:00-03:00 UTC opens (" + Rfc3339(base + At(0, 2, 0)) + ")"),
            std::string::npos)
      << d.r().targets[0].reason;
  d.Send({Kind::kTick});
  EXPECT_TRUE(d.cutovers.empty());
  d.Advance(At(0, 1, 0));  // 02:00: open
  d.Send({Kind::kTick});
  EXPECT_EQ(d.cutovers, (std::vector<size_t>{0}));
  EXPECT_EQ(d.last_details["window"], "02:00-03:00");
  Copied(d, 1);  // each: cuts over at once while it is open
  EXPECT_EQ(d.cutovers, (std::vector<size_t>{0, 1}));
  d.Result(Kind::kApplied, 0);
  d.Result(Kind::kApplied, 1);
  EXPECT_EQ(d.r().state, RolloutState::kCompleted);
}

TEST(RolloutTest, ACutoverJobThatFoundTheWindowClosedLeavesItsTargetCopiedUntilTheWindowOpensAgain) {
  Driver d = StartedAt(2, 50);  // open
  const int64_t base = At(kWindowDay, 0, 0);
  Copied(d, 0);
  ASSERT_EQ(d.cutovers, (std::vector<size_t>{0}));
  const std::string cutover_job = d.r().targets[0].job;
  // Its worker started it after 03:00 and swapped nothing: the job ends
  // "copied" with the migration still copied.
  d.Advance(At(0, 0, 15));
  RolloutEvent late{Kind::kCopied, 0, "", "", 0};
  late.migrations = {"00000000"};
  d.Send(std::move(late));
  EXPECT_EQ(d.r().targets[0].state, TargetState::kCopied);
  EXPECT_EQ(d.r().targets[0].copy_job, cutover_job) << "the cut-over job holds the plan and the migration now";
  EXPECT_EQ(d.r().targets[0].migrations, (std::vector<std::string>{"00000000"}));
  EXPECT_EQ(d.audits.back(), "rollout.target.copied");
  EXPECT_EQ(d.last_details["cutover"], true);
  d.Send({Kind::kTick});
  EXPECT_EQ(d.cutovers.size(), 1u) << "closed until tomorrow 02:00";
  EXPECT_NE(d.r().targets[0].reason.find("opens (" + Rfc3339(base + At(1, 2, 0)) + ")"), std::string::npos)
      << d.r().targets[0].reason;
  EXPECT_EQ(d.r().state, RolloutState::kRunning);
  d.Advance(base + At(1, 2, 0) - d.now());
  d.Send({Kind::kTick});
  EXPECT_EQ(d.cutovers, (std::vector<size_t>{0, 0}));
  d.Result(Kind::kApplied, 0);
  EXPECT_EQ(d.r().targets[0].state, TargetState::kDone);
}

// Sends kSetWindow (nullopt: any time) by "op".
std::string SetWindow(Driver& d, std::optional<CutoverWindow> w) {
  RolloutEvent e{Kind::kSetWindow, 0, "", "op", 0};
  e.cutover_window = w;
  return d.Send(std::move(e));
}

TEST(RolloutTest, AWindowChangedAfterCreationTakesEffectAtOnceAndIsAudited) {
  Driver d = StartedAt(10, 0);  // closed
  Copied(d, 0);
  Copied(d, 1);
  EXPECT_TRUE(d.cutovers.empty());
  // Moved to a window that is open now: both cut over.
  EXPECT_EQ(SetWindow(d, *ParseCutoverWindow("09:30-11:00")), "");
  EXPECT_EQ(d.audits.back(), "rollout.cutover.started");
  EXPECT_EQ(d.cutovers, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(d.r().strategy.cutover_window, *ParseCutoverWindow("09:30-11:00"));
  auto changed = std::find(d.audits.begin(), d.audits.end(), "rollout.window.changed");
  ASSERT_NE(changed, d.audits.end());
  d.Result(Kind::kApplied, 0);
  d.Result(Kind::kApplied, 1);
  EXPECT_EQ(d.r().state, RolloutState::kCompleted);
  EXPECT_NE(SetWindow(d, std::nullopt), "") << "a completed rollout's window does not change";
}

TEST(RolloutTest, AWindowRemovedLetsWaitingCopiesCutOverAndTheChangeNamesBothWindows) {
  Driver d = StartedAt(10, 0);
  Copied(d, 0);
  EXPECT_EQ(d.Command(Kind::kPause), "");
  EXPECT_EQ(SetWindow(d, std::nullopt), "");
  EXPECT_EQ(d.audits.back(), "rollout.window.changed");
  EXPECT_EQ(d.last_details["from"], "02:00-03:00");
  EXPECT_TRUE(d.last_details["to"].is_null());
  EXPECT_EQ(d.last_details["by"], "op");
  EXPECT_TRUE(d.cutovers.empty()) << "paused: nothing starts";
  EXPECT_EQ(SetWindow(d, std::nullopt), "") << "the same window again: accepted";
  EXPECT_EQ(d.audits.back(), "rollout.window.changed") << "and not recorded twice";
  EXPECT_EQ(std::count(d.audits.begin(), d.audits.end(), "rollout.window.changed"), 1);
  EXPECT_EQ(d.Command(Kind::kResume), "");
  EXPECT_EQ(d.cutovers, (std::vector<size_t>{0}));
}

TEST(RolloutTest, CutoversCountAgainstThePerServerLimitAndApplyResultsOfACopiedTargetDoNotFit) {
  RolloutStrategy s;
  s.per_server = 1;
  s.cutover = CutoverMode::kTogether;
  Driver d(Make(s, 2));  // a/shop_0, b/shop_0, a/shop_1, b/shop_1
  d.Send({Kind::kStart});
  ASSERT_EQ(d.applies, (std::vector<size_t>{0, 1}));
  Copied(d, 0);
  Copied(d, 1);
  EXPECT_EQ(d.applies, (std::vector<size_t>{0, 1, 2, 3}));
  d.Result(Kind::kApplied, 0);  // a stray result of a copied target: nothing
  EXPECT_EQ(d.r().targets[0].state, TargetState::kCopied);
  Copied(d, 2);
  Copied(d, 3);
  EXPECT_EQ(d.cutovers, (std::vector<size_t>{0, 1})) << "one job at once per server";
  EXPECT_NE(d.r().targets[2].reason.find("room on"), std::string::npos) << d.r().targets[2].reason;
  d.Result(Kind::kApplied, 0);
  EXPECT_EQ(d.cutovers, (std::vector<size_t>{0, 1, 2}));
  EXPECT_EQ(InFlightPerServer({d.r()}, "").at("h1:1"), 1u) << "a cut-over is a job in flight";
}

TEST(RolloutTest, AFailedCutoverPausesWhateverTheBudgetNamingItsMigrationsAndResumeCutsOverAgain) {
  RolloutStrategy s;
  s.cutover = CutoverMode::kTogether;
  s.per_server = 3;
  s.failure_budget = 5;
  Driver d(Make(s, 1));  // one wave: a/shop_0, b/shop_0
  d.Send({Kind::kStart});
  Copied(d, 0);
  Copied(d, 1);
  ASSERT_EQ(d.cutovers, (std::vector<size_t>{0, 1}));
  d.Result(Kind::kApplied, 0);
  d.Result(Kind::kFailed, 1, "the swap timed out");
  EXPECT_EQ(d.r().state, RolloutState::kPaused) << "within the budget, but its migration is unfinished";
  EXPECT_NE(d.r().reason.find("b/shop_0"), std::string::npos) << d.r().reason;
  EXPECT_NE(d.r().reason.find("the swap timed out"), std::string::npos) << d.r().reason;
  EXPECT_NE(d.r().reason.find("00000001"), std::string::npos) << d.r().reason;
  EXPECT_NE(d.r().reason.find("need attention"), std::string::npos) << d.r().reason;
  EXPECT_EQ(d.audits.back(), "rollout.paused");
  d.Send({Kind::kTick});
  EXPECT_EQ(d.r().state, RolloutState::kPaused) << "it never completes over it";
  d.cutovers.clear();
  EXPECT_EQ(d.Command(Kind::kResume), "");
  EXPECT_EQ(d.cutovers, (std::vector<size_t>{1})) << "the cut-over is tried again from the copy";
  d.Result(Kind::kApplied, 1);
  EXPECT_EQ(d.r().state, RolloutState::kCompleted);
}

TEST(RolloutTest, AbortNamesUnfinishedMigrationsAndRevertAbandonsAFailedCutoverOrPausesSayingWhatToDo) {
  RolloutStrategy s;
  s.cutover = CutoverMode::kTogether;
  s.per_server = 3;
  s.failure_budget = 5;
  Driver d(Make(s, 1));
  d.Send({Kind::kStart});
  Copied(d, 0);
  Copied(d, 1);
  d.Result(Kind::kApplied, 0);
  d.Result(Kind::kFailed, 1, "the swap timed out");
  ASSERT_EQ(d.r().state, RolloutState::kPaused);
  EXPECT_EQ(d.Command(Kind::kAbort), "");
  EXPECT_EQ(d.audits.back(), "rollout.aborted");
  ASSERT_EQ(d.last_details["unfinished_migrations"].size(), 1u) << d.last_details.dump();
  EXPECT_EQ(d.last_details["unfinished_migrations"][0]["database"], "shop_0");
  EXPECT_EQ(d.last_details["unfinished_migrations"][0]["connection"], "b");
  EXPECT_EQ(d.last_details["unfinished_migrations"][0]["state"], "failed");
  EXPECT_EQ(d.Command(Kind::kRevert), "");
  EXPECT_EQ(d.abandons, (std::vector<size_t>{1})) << "the failed cut-over (the newest) is abandoned, not skipped";
  EXPECT_TRUE(d.reverts.empty());
  EXPECT_EQ(d.r().targets[1].state, TargetState::kReverting);
  // One of its migrations was swapped after all: the abandon job refuses it.
  d.Result(Kind::kRevertFailed, 1, "migration 00000001 was cut over already: revert it instead");
  EXPECT_EQ(d.r().state, RolloutState::kPaused);
  EXPECT_NE(d.r().reason.find("00000001"), std::string::npos) << d.r().reason;
  EXPECT_NE(d.r().reason.find("sqlx migrations revert ID"), std::string::npos) << d.r().reason;
  EXPECT_TRUE(d.reverts.empty()) << "nothing older is reverted past it";
  // The operator dealt with it; resume abandons what is left, then reverts the done one.
  EXPECT_EQ(d.Command(Kind::kResume), "");
  EXPECT_EQ(d.abandons, (std::vector<size_t>{1, 1}));
  d.Result(Kind::kReverted, 1);
  EXPECT_TRUE(d.r().targets[1].migrations.empty());
  EXPECT_EQ(d.reverts, (std::vector<size_t>{0}));
  d.Result(Kind::kReverted, 0);
  EXPECT_EQ(d.r().state, RolloutState::kReverted);
}

// Sends kCopied for `target` with one migration and what its worker measured.
void CopiedMeasured(Driver& d, size_t target, uint32_t threads_running) {
  RolloutEvent e{Kind::kCopied, target, "", "", 0};
  e.migrations = {"0000000" + std::to_string(target)};
  e.health = TargetHealth{threads_running, 0, 0, ""};
  d.Send(std::move(e));
}

TEST(RolloutTest, TogetherAnUnhealthyCopyPausesTheWaveBeforeItsCutoversAndResumeCutsOver) {
  RolloutStrategy s;
  s.cutover = CutoverMode::kTogether;
  s.per_server = 3;
  s.max_threads_running = 10;
  Driver d(Make(s, 1));
  d.Send({Kind::kStart});
  CopiedMeasured(d, 0, 3);
  CopiedMeasured(d, 1, 50);
  EXPECT_TRUE(d.cutovers.empty()) << "no copy is cut over past the health limits";
  EXPECT_EQ(d.r().state, RolloutState::kPaused);
  EXPECT_EQ(Count(d.r(), TargetState::kCopied), 2u);
  EXPECT_NE(d.r().reason.find("before its copies were cut over"), std::string::npos) << d.r().reason;
  EXPECT_NE(d.r().reason.find("b/shop_0"), std::string::npos) << d.r().reason;
  EXPECT_EQ(d.audits[d.audits.size() - 2], "rollout.gate.unhealthy");
  EXPECT_EQ(d.Command(Kind::kResume), "");
  EXPECT_EQ(d.cutovers, (std::vector<size_t>{0, 1})) << "what was measured accepted";
  d.Result(Kind::kApplied, 0);
  d.Result(Kind::kApplied, 1);
  EXPECT_EQ(d.r().state, RolloutState::kCompleted) << "the accepted copy's measurement does not fail the gate again";
}

TEST(RolloutTest, AWindowOpeningOnAnUnhealthyCopyPausesInsteadOfCuttingOver) {
  RolloutStrategy s;
  s.per_server = 3;
  s.max_threads_running = 10;
  Driver d(Make(s, 1));
  const int64_t base = At(20900, 0, 0);
  s.cutover_window = *ParseCutoverWindow("02:00-03:00");
  d.mutable_r().strategy = s;
  d.Advance(base + At(0, 1, 0) - d.now());  // 01:00: closed
  d.Send({Kind::kStart});
  CopiedMeasured(d, 0, 50);
  EXPECT_EQ(d.r().state, RolloutState::kRunning) << "nothing to cut over yet";
  d.Advance(At(0, 1, 0));  // 02:00: open
  d.Send({Kind::kTick});
  EXPECT_TRUE(d.cutovers.empty());
  EXPECT_EQ(d.r().state, RolloutState::kPaused);
  EXPECT_EQ(d.r().targets[0].state, TargetState::kCopied);
}

}  // namespace
}  // namespace sqlx::orchestrator
