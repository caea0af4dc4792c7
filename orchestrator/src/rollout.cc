// The rollout state machine (rollout.h): results, time, waves, gates and
// cut-overs; the operator's commands are in rollout_commands.cc.
#include "rollout.h"

#include <algorithm>
#include <map>

#include "rollout_step.h"

#include "sqlx/messages/clock.h"

namespace sqlx::orchestrator {

namespace rollout_step {

RolloutDecision Step::Run() {
  switch (e_.kind) {
    case Kind::kStart:
      if (r().state == RolloutState::kPending) StartWave(0);
      break;
    case Kind::kTick:
      if (r().state == RolloutState::kGate && r().strategy.gate.kind == Gate::Kind::kWait &&
          e_.now_ns >= r().gate_until_ns) {
        Audit("rollout.gate.passed", json{{"wave", r().wave}, {"gate", GateText(r().strategy.gate)}});
        StartWave(r().wave + 1);
      } else if (r().state == RolloutState::kRunning) {
        Advance();  // room other rollouts took on a server may have come free
      } else if (r().state == RolloutState::kReverting) {
        AdvanceRevert();
      }
      break;
    case Kind::kApplied:
    case Kind::kCopied:
    case Kind::kSkipped:
    case Kind::kHeld:
    case Kind::kFailed:
    case Kind::kReverted:
    case Kind::kRevertFailed:
      OnTargetResult();
      break;
    default:
      Command();
      break;
  }
  if (d_.refusal.empty() && !(d_.rollout == original_)) r().updated_ns = e_.now_ns;
  return std::move(d_);
}

void Step::OnTargetResult() {
  RolloutTarget* t = Target();
  if (t == nullptr) return;
  const bool forward = e_.kind == Kind::kApplied || e_.kind == Kind::kCopied || e_.kind == Kind::kSkipped ||
                       e_.kind == Kind::kHeld || e_.kind == Kind::kFailed;
  const bool cutover = t->state == TargetState::kCuttingOver;
  // A result that does not fit (a duplicate, a target not in flight) changes nothing.
  if (forward && t->state != TargetState::kApplying && !cutover) return;
  // A cut-over job ends applied, failed, or copied (its worker found the
  // window closed before a swap).
  if (cutover && e_.kind != Kind::kApplied && e_.kind != Kind::kFailed && e_.kind != Kind::kCopied) return;
  if (!forward && t->state != TargetState::kReverting) return;
  json details{{"connection", t->connection}, {"database", t->database}, {"wave", t->wave}, {"job", t->job}};
  const std::string reason =
      cutover && e_.kind == Kind::kCopied && e_.reason.empty()
          ? "copied; the cut-over window closed before its job's swap started: it cuts over when the window opens again"
          : e_.reason;
  if (!reason.empty()) details["reason"] = reason;
  t->reason = reason;
  if (forward) {
    // What this job measured (nothing when it did not run on a worker); a
    // cut-over's adds to what its copy measured.
    // What a resume accepted of the copy is not counted again.
    if (!cutover) {
      t->health = e_.health;
      t->health_accepted = false;
    } else if (e_.health) {
      t->health = t->health && !t->health_accepted ? WorstHealth(*t->health, *e_.health) : *e_.health;
      t->health_accepted = false;
    }
    if (t->health) details["health"] = TargetHealthToJson(*t->health);
  }
  if (cutover) details["cutover"] = true;
  switch (e_.kind) {
    case Kind::kApplied:
      t->state = TargetState::kDone;
      t->finished_ns = e_.now_ns;
      t->replan = false;
      t->migrations.clear();
      Audit("rollout.target.applied", details);
      break;
    case Kind::kCopied:
      t->state = TargetState::kCopied;
      t->finished_ns = e_.now_ns;
      t->replan = false;
      t->copy_job = t->job;
      t->migrations = e_.migrations;
      details["migrations"] = t->migrations;
      Audit("rollout.target.copied", details);
      break;
    case Kind::kSkipped:
      t->state = TargetState::kSkipped;
      t->finished_ns = e_.now_ns;
      t->replan = false;
      Audit("rollout.target.skipped", details);
      break;
    case Kind::kHeld:
      t->state = TargetState::kHeld;
      t->finished_ns = e_.now_ns;
      Audit("rollout.target.held", details);
      break;
    case Kind::kFailed:
      t->state = TargetState::kFailed;
      t->finished_ns = e_.now_ns;
      Audit("rollout.target.failed", details);
      break;
    case Kind::kReverted:
      t->state = TargetState::kReverted;
      if (!t->migrations.empty()) details["abandoned"] = t->migrations;
      t->migrations.clear();
      Audit("rollout.target.reverted", details);
      break;
    default:
      t->state = TargetState::kRevertFailed;
      Audit("rollout.target.revert_failed", details);
      if (t->migrations.empty()) {
        Pause("the revert of " + TargetName(*t) + " failed: " + e_.reason);
      } else {
        Pause("abandoning the migrations " + Joined(t->migrations) + " of " + TargetName(*t) + " failed: " + e_.reason +
              "; they need attention (`sqlx migrations list`): one already swapped is finished with `sqlx migrations "
              "cutover ID` or undone with `sqlx migrations revert ID`; then `sqlx rollout resume " + r().id + "`");
      }
      return;
  }
  if (r().state == RolloutState::kRunning) Advance();
  if (r().state == RolloutState::kReverting) AdvanceRevert();
}

void Step::StartWave(size_t wave) {
  r().wave = wave;
  r().state = RolloutState::kRunning;
  r().gate_until_ns = 0;
  Times(wave) = WaveTimes{e_.now_ns, 0};
  size_t n = 0;
  for (const RolloutTarget& t : r().targets) n += t.wave == wave ? 1 : 0;
  Audit("rollout.wave.started", json{{"wave", wave}, {"phase", RolloutPhase(r())}, {"targets", n}});
  Advance();
}

// The current wave: pause past the failure budget; else start what the
// per-server budget admits (counting other rollouts' jobs); once nothing is
// left, pause if a target measured its server beyond the health limits,
// else pass to the gate.
void Step::Advance() {
  Rollout& ro = r();
  std::vector<const RolloutTarget*> failures;
  bool unfinished = false;
  size_t copying = 0;  // targets still before the end of their apply job
  std::map<std::string, uint32_t> in_flight = InFlight();
  for (const RolloutTarget& t : ro.targets) {
    if (t.wave != ro.wave) continue;
    if (t.state == TargetState::kFailed || t.state == TargetState::kHeld) failures.push_back(&t);
    if (t.state == TargetState::kPending || t.state == TargetState::kApplying) ++copying;
    if (copying > 0 || t.state == TargetState::kCopied || t.state == TargetState::kCuttingOver) unfinished = true;
  }
  // A failed cut-over pauses whatever the budget: its migrations are left
  // half done on the target, and the wave must not pass over them.
  std::string cutovers;
  for (const RolloutTarget& t : ro.targets) {
    if (!FailedCutover(t)) continue;
    cutovers += (cutovers.empty() ? "" : "; ") + TargetName(t) + " (" + t.reason + "; its migrations " +
                Joined(t.migrations) + " are not finished and need attention)";
  }
  if (!cutovers.empty()) {
    Pause(RolloutPhase(ro) + ": the cut-over of " + cutovers +
          "; a failed cut-over pauses the rollout whatever the failure budget. `sqlx rollout resume " + ro.id +
          "` tries the cut-over again from the copy; `sqlx rollout revert " + ro.id +
          "` abandons migrations that were not swapped (one swapped already fails its revert, naming it: finish "
          "it with `sqlx migrations cutover ID` or undo it with `sqlx migrations revert ID`)");
    return;
  }
  if (failures.size() > ro.strategy.failure_budget) {
    std::string which;
    for (const RolloutTarget* t : failures) which += (which.empty() ? "" : "; ") + TargetName(*t) + ": " + t->reason;
    Pause(RolloutPhase(ro) + ": " + std::to_string(failures.size()) + " target(s) failed or held, over the budget of " +
          std::to_string(ro.strategy.failure_budget) + " (" + which +
          "); fix them, then `sqlx rollout resume " + ro.id + "` retries them");
    return;
  }
  if (unfinished) {
    for (size_t i = 0; i < ro.targets.size(); ++i) {
      RolloutTarget& t = ro.targets[i];
      if (t.wave != ro.wave || t.state != TargetState::kPending) continue;
      if (in_flight[t.server] >= PerServer()) continue;
      ++in_flight[t.server];
      t.state = TargetState::kApplying;
      t.reason.clear();
      t.started_ns = e_.now_ns;
      t.finished_ns = 0;
      ++t.attempts;
      d_.actions.push_back(RolloutAction{RolloutAction::Kind::kApply, i, "", json::object()});
    }
    CutOverCopied(in_flight, copying);
    return;
  }
  WaveTimes& times = Times(ro.wave);
  times.finished_ns = 0;  // when its last target ended
  for (const RolloutTarget& t : ro.targets) {
    if (t.wave == ro.wave) times.finished_ns = std::max(times.finished_ns, t.finished_ns);
  }
  if (times.finished_ns == 0) times.finished_ns = e_.now_ns;
  if (HealthGateFails(false)) return;
  json summary{{"wave", ro.wave},
               {"phase", RolloutPhase(ro)},
               {"failed_or_held", failures.size()},
               {"took_ms", (times.finished_ns - times.started_ns) / 1'000'000}};
  if (ro.wave + 1 >= ro.waves) {
    ro.state = RolloutState::kCompleted;
    ro.finished_ns = e_.now_ns;
    Audit("rollout.completed", summary);
    return;
  }
  switch (ro.strategy.gate.kind) {
    case Gate::Kind::kHealth:
      Audit("rollout.gate.passed", summary);
      StartWave(ro.wave + 1);
      return;
    case Gate::Kind::kWait:
      ro.state = RolloutState::kGate;
      ro.gate_until_ns = e_.now_ns + ro.strategy.gate.wait_s * 1'000'000'000;
      summary["until_ns"] = ro.gate_until_ns;
      Audit("rollout.gate.waiting", summary);
      return;
    case Gate::Kind::kApproval:
      ro.state = RolloutState::kGate;
      summary["needs"] = "approval: sqlx rollout approve " + ro.id;
      Audit("rollout.gate.waiting", summary);
      return;
  }
}

// The current wave's copied targets start their cut-over jobs when the
// window (if any) is open and, cutting over together, once no target of the
// wave is still before the end of its copy (`copying`); room on their
// servers permitting. Those that wait say why in their reason.
void Step::CutOverCopied(std::map<std::string, uint32_t>& in_flight, size_t copying) {
  Rollout& ro = r();
  const RolloutStrategy& s = ro.strategy;
  const bool window_open = !s.cutover_window || InCutoverWindow(*s.cutover_window, e_.now_ns);
  const bool wave_ready = s.cutover != CutoverMode::kTogether || copying == 0;
  std::string waiting;
  if (!window_open) {
    waiting = "copied; cuts over when the cut-over window " + CutoverWindowText(*s.cutover_window) + " UTC opens (" +
              Rfc3339(CutoverWindowOpens(*s.cutover_window, e_.now_ns)) + ")";
  } else if (!wave_ready) {
    waiting = "copied; cuts over together with its wave once every copy in it is done (" +
              std::to_string(copying) + " still copying)";
  }
  // What the wave measured is checked before any of its copies is cut over:
  // unhealthy, it pauses with them still copied.
  if (waiting.empty()) {
    bool ready = false;
    for (const RolloutTarget& t : ro.targets) ready = ready || (t.wave == ro.wave && t.state == TargetState::kCopied);
    if (ready && HealthGateFails(true)) return;
  }
  json started = json::array();
  for (size_t i = 0; i < ro.targets.size(); ++i) {
    RolloutTarget& t = ro.targets[i];
    if (t.wave != ro.wave || t.state != TargetState::kCopied) continue;
    if (!waiting.empty()) {
      t.reason = waiting;
      continue;
    }
    if (in_flight[t.server] >= PerServer()) {
      t.reason = "copied; its cut-over waits for room on " + t.server;
      continue;
    }
    ++in_flight[t.server];
    t.state = TargetState::kCuttingOver;
    t.reason.clear();
    ++t.attempts;
    d_.actions.push_back(RolloutAction{RolloutAction::Kind::kCutover, i, "", json::object()});
    started.push_back(json{{"connection", t.connection}, {"database", t.database}, {"migrations", t.migrations}});
  }
  if (started.empty()) return;
  json details{{"wave", ro.wave}, {"phase", RolloutPhase(ro)}, {"cutover", CutoverModeName(s.cutover)},
               {"targets", started}};
  if (s.cutover_window) details["window"] = CutoverWindowText(*s.cutover_window);
  Audit("rollout.cutover.started", details);
}

// One revert at a time, the most recently applied target first.
void Step::AdvanceRevert() {
  Rollout& ro = r();
  const RolloutTarget* newest = nullptr;
  size_t index = 0;
  for (size_t i = 0; i < ro.targets.size(); ++i) {
    const RolloutTarget& t = ro.targets[i];
    if (t.state == TargetState::kReverting) return;
    // A failed cut-over's migrations are abandoned like a copied target's.
    const bool changed = t.state == TargetState::kDone || t.state == TargetState::kCopied || FailedCutover(t);
    if (changed && (newest == nullptr || t.finished_ns >= newest->finished_ns)) {
      newest = &t;
      index = i;
    }
  }
  if (newest != nullptr) {
    // In order or not at all: the newest waits for room on its server.
    if (InFlight()[newest->server] >= PerServer()) return;
    // A copied target's migrations are abandoned: its tables were never
    // swapped. So are a failed cut-over's: the abandon job refuses (and the
    // revert fails, naming it) a migration that was swapped after all.
    const bool copied = !newest->migrations.empty();
    ro.targets[index].state = TargetState::kReverting;
    ro.targets[index].reason.clear();
    ++ro.targets[index].attempts;
    d_.actions.push_back(
        RolloutAction{copied ? RolloutAction::Kind::kAbandon : RolloutAction::Kind::kRevert, index, "", json::object()});
    return;
  }
  size_t reverted = 0;
  for (const RolloutTarget& t : ro.targets) reverted += t.state == TargetState::kReverted ? 1 : 0;
  ro.state = RolloutState::kReverted;
  ro.finished_ns = e_.now_ns;
  Audit("rollout.reverted", json{{"targets", reverted}});
}

// The current wave's targets against the health limits, those accepted by
// a resume left out: beyond them, the gate fails and the rollout pauses.
bool Step::HealthGateFails(bool before_cutover) {
  Rollout& ro = r();
  json unhealthy = json::array();
  std::string which;
  for (const RolloutTarget& t : ro.targets) {
    if (t.wave != ro.wave || !t.health || t.health_accepted) continue;
    for (json& p : HealthProblems(ro.strategy, *t.health)) {
      which += (which.empty() ? "" : "; ") + TargetName(t) + ": " + p["text"].get<std::string>();
      p.erase("text");
      p["connection"] = t.connection;
      p["database"] = t.database;
      unhealthy.push_back(std::move(p));
    }
  }
  if (unhealthy.empty()) return false;
  json details{{"wave", ro.wave}, {"phase", RolloutPhase(ro)}, {"targets", unhealthy}};
  if (before_cutover) details["before_cutover"] = true;
  Audit("rollout.gate.unhealthy", details);
  Pause(RolloutPhase(ro) + ": the health gate failed" +
        (before_cutover ? std::string(" before its copies were cut over (they stay copied)") : std::string()) +
        " (" + which + "); once the servers are healthy again, `sqlx rollout resume " + ro.id +
        "` goes on (what was measured does not fail the gate again)");
  ro.health_failed = true;
  return true;
}

void Step::Pause(const std::string& reason) {
  r().state = RolloutState::kPaused;
  r().reason = reason;
  r().health_failed = false;
  Audit("rollout.paused", json{{"reason", reason}, {"phase", RolloutPhase(r())}});
}

}  // namespace rollout_step

using rollout_step::InFlightState;
using rollout_step::Step;

RolloutDecision DecideRollout(const Rollout& current, const RolloutEvent& event) {
  RolloutDecision d = Step(current, event).Run();
  if (!d.refusal.empty()) d.rollout = current;
  return d;
}

std::map<std::string, uint32_t> InFlightPerServer(const std::vector<Rollout>& rollouts, std::string_view except) {
  std::map<std::string, uint32_t> n;
  for (const Rollout& r : rollouts) {
    if (r.id == except) continue;
    for (const RolloutTarget& t : r.targets) {
      if (InFlightState(t.state)) ++n[t.server];
    }
  }
  return n;
}

}  // namespace sqlx::orchestrator
