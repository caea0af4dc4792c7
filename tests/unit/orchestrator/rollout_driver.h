// Shared by the rollout model's tests (rollout_test.cc, rollout_health_test.cc,
// rollout_cutover_test.cc): a rollout driven event by event the way the
// orchestrator drives it, and rollouts of targets on two servers.
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "rollout.h"
#include "sqlx/messages/clock.h"

namespace sqlx::orchestrator::rollout_test {

using Kind = RolloutEvent::Kind;

inline constexpr int64_t kT0 = 1'800'000'000'000'000'000;

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

inline std::vector<ResolvedTarget> Targets(const std::vector<std::pair<std::string, std::string>>& conn_server, int per) {
  std::vector<ResolvedTarget> out;
  for (int i = 0; i < per; ++i) {
    for (const auto& [conn, server] : conn_server) out.push_back({conn, "shop_" + std::to_string(i), server});
  }
  return out;
}

inline Rollout Make(RolloutStrategy s, size_t targets_per_server = 3) {
  return NewRollout("ro-1", "alice", {"all"}, "hash", std::move(s),
                    Targets({{"a", "h1:1"}, {"b", "h2:1"}}, static_cast<int>(targets_per_server)), kT0);
}

inline size_t Count(const Rollout& r, TargetState s) {
  size_t n = 0;
  for (const RolloutTarget& t : r.targets) n += t.state == s ? 1 : 0;
  return n;
}


}  // namespace sqlx::orchestrator::rollout_test
