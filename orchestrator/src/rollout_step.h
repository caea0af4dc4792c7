// The rollout state machine's one decision (rollout.cc: results, time and
// waves; rollout_commands.cc: the operator's commands). Private to them.
#pragma once

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "rollout.h"

namespace sqlx::orchestrator::rollout_step {

using nlohmann::json;
using Kind = RolloutEvent::Kind;

inline std::string TargetName(const RolloutTarget& t) { return t.connection + "/" + t.database; }

// A job of the target's is queued or running.
inline bool InFlightState(TargetState s) {
  return s == TargetState::kApplying || s == TargetState::kReverting || s == TargetState::kCuttingOver;
}

// A target whose cut-over job failed: its migrations are not finished
// (change capture still runs, or a table may already be swapped).
inline bool FailedCutover(const RolloutTarget& t) { return t.state == TargetState::kFailed && !t.migrations.empty(); }

inline std::string Joined(const std::vector<std::string>& v) {
  std::string out;
  for (const std::string& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

// One decision in the making: the record as it changes, and what to do.
class Step {
 public:
  Step(const Rollout& r, const RolloutEvent& e) : original_(r), e_(e) { d_.rollout = r; }

  RolloutDecision Run();

 private:
  Rollout& r() { return d_.rollout; }
  void Audit(const std::string& action, json details) {
    details["rollout"] = r().id;
    if (!e_.actor.empty()) details["by"] = e_.actor;
    d_.actions.push_back(RolloutAction{RolloutAction::Kind::kAudit, 0, action, std::move(details)});
  }
  void Refuse(const std::string& why) {
    d_.refusal = why;
    d_.actions.clear();
  }
  RolloutTarget* Target() { return e_.target < r().targets.size() ? &r().targets[e_.target] : nullptr; }
  WaveTimes& Times(size_t wave) {
    if (r().wave_times.size() <= wave) r().wave_times.resize(wave + 1);
    return r().wave_times[wave];
  }
  // Jobs in flight per server, this rollout's and the others'.
  std::map<std::string, uint32_t> InFlight() {
    std::map<std::string, uint32_t> n = e_.elsewhere;
    for (const RolloutTarget& t : r().targets) {
      if (InFlightState(t.state)) ++n[t.server];
    }
    return n;
  }
  uint32_t PerServer() { return std::max<uint32_t>(1, r().strategy.per_server); }
  void OnTargetResult();
  void StartWave(size_t wave);
  void Advance();
  void CutOverCopied(std::map<std::string, uint32_t>& in_flight, size_t copying);
  void AdvanceRevert();
  bool HealthGateFails(bool before_cutover);
  void Pause(const std::string& reason);
  void Command();

  const Rollout& original_;
  const RolloutEvent& e_;
  RolloutDecision d_;
};

}  // namespace sqlx::orchestrator::rollout_step
