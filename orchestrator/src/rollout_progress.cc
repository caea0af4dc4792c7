// How far a rollout is and how long the rest may take (rollout.h):
// per-wave timings and the estimate `sqlx rollout status` shows. Pure: the
// time is the caller's.
#include <algorithm>
#include <set>

#include "rollout.h"

namespace sqlx::orchestrator {

namespace {

using nlohmann::json;

constexpr int64_t kNsPerMs = 1'000'000;

// Wave boundaries not yet passed: gates still ahead (the current one too, at a gate).
size_t GatesAhead(const Rollout& r) { return r.waves > r.wave + 1 ? r.waves - 1 - r.wave : 0; }

}  // namespace

RolloutEstimate EstimateRollout(const Rollout& r, int64_t now_ns) {
  RolloutEstimate e;
  if (r.state != RolloutState::kPending && r.state != RolloutState::kRunning && r.state != RolloutState::kGate &&
      !(r.state == RolloutState::kPaused && !r.reverting))
    return e;
  std::set<std::string> servers_left;
  int64_t total_ns = 0;
  for (const RolloutTarget& t : r.targets) {
    if (t.state == TargetState::kPending || t.state == TargetState::kApplying) {
      ++e.targets_left;
      servers_left.insert(t.server);
    }
    const bool wave_done = t.wave < r.wave_times.size() && r.wave_times[t.wave].finished_ns > 0;
    if (wave_done && t.started_ns > 0 && t.finished_ns >= t.started_ns) {
      total_ns += t.finished_ns - t.started_ns;
      ++e.measured;
    }
  }
  if (e.measured == 0 || e.targets_left == 0) return e;
  e.known = true;
  e.mean_target_ns = total_ns / static_cast<int64_t>(e.measured);
  e.concurrency = std::min(e.targets_left, size_t{std::max<uint32_t>(1, r.strategy.per_server)} * servers_left.size());
  const size_t rounds = (e.targets_left + e.concurrency - 1) / e.concurrency;
  size_t gates = GatesAhead(r);
  if (r.strategy.gate.kind == Gate::Kind::kApproval) e.approvals_ahead = gates;
  if (r.strategy.gate.kind == Gate::Kind::kWait) {
    if (r.state == RolloutState::kGate && gates > 0) {
      e.gates_ns += std::max<int64_t>(0, r.gate_until_ns - now_ns);
      --gates;
    }
    e.gates_ns += static_cast<int64_t>(gates) * r.strategy.gate.wait_s * 1'000'000'000;
  }
  e.left_ns = static_cast<int64_t>(rounds) * e.mean_target_ns + e.gates_ns;
  return e;
}

nlohmann::json RolloutProgressJson(const Rollout& r, int64_t now_ns) {
  std::vector<size_t> sizes(r.waves, 0);
  for (const RolloutTarget& t : r.targets) {
    if (t.wave < sizes.size()) ++sizes[t.wave];
  }
  json timings = json::array();
  for (size_t w = 0; w < r.waves; ++w) {
    const WaveTimes times = w < r.wave_times.size() ? r.wave_times[w] : WaveTimes{};
    json one{{"wave", w},
             {"name", WaveName(r, w)},
             {"targets", sizes[w]},
             {"started_ns", times.started_ns},
             {"finished_ns", times.finished_ns},
             {"took_ms", nullptr}};
    // A wave in progress: how long so far.
    if (times.started_ns > 0) one["took_ms"] = ((times.finished_ns > 0 ? times.finished_ns : now_ns) - times.started_ns) / kNsPerMs;
    timings.push_back(std::move(one));
  }
  const RolloutEstimate e = EstimateRollout(r, now_ns);
  json estimate{{"known", e.known}, {"targets_left", e.targets_left}};
  if (e.known) {
    estimate.update(json{{"left_ms", e.left_ns / kNsPerMs},
                         {"finishes_ns", now_ns + e.left_ns},
                         {"mean_target_ms", e.mean_target_ns / kNsPerMs},
                         {"measured", e.measured},
                         {"concurrency", e.concurrency},
                         {"wait_gates_ms", e.gates_ns / kNsPerMs},
                         {"approvals_ahead", e.approvals_ahead},
                         {"note", "an estimate: the mean apply time of " + std::to_string(e.measured) +
                                      " target(s) of finished waves x " + std::to_string(e.targets_left) +
                                      " left / " + std::to_string(e.concurrency) +
                                      " at once, plus wait gates; approvals, failures and other rollouts on the "
                                      "same servers are not in it"}});
  } else {
    estimate["note"] = e.targets_left == 0 ? "nothing left to apply" : "no finished wave yet to estimate from";
  }
  return json{{"timings", std::move(timings)}, {"estimate", std::move(estimate)}};
}

}  // namespace sqlx::orchestrator
