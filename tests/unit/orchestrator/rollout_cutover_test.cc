// The rollout model's postponed cut-overs: cut-over windows, `--cutover
// together`, cut-over jobs and their failures, revert of copied targets.
#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "rollout_driver.h"

namespace sqlx::orchestrator {
namespace {

using namespace rollout_test;  // NOLINT: the driver of these tests (and its names)

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
