// The operator's commands to a rollout (pause, resume, abort, revert,
// approve, a new cut-over window): Step::Command of rollout_step.h.
#include "rollout.h"
#include "rollout_step.h"

namespace sqlx::orchestrator::rollout_step {

void Step::Command() {
  Rollout& ro = r();
  const RolloutState s = ro.state;
  const std::string state(RolloutStateName(s));
  size_t in_flight = 0;
  for (const RolloutTarget& t : ro.targets) {
    in_flight += t.state == TargetState::kApplying || t.state == TargetState::kCuttingOver ? 1 : 0;
  }
  switch (e_.kind) {
    case Kind::kPause:
      if (s != RolloutState::kRunning && s != RolloutState::kGate && s != RolloutState::kReverting)
        return Refuse("rollout " + ro.id + " is " + state + ": only a running rollout (or one at a gate) pauses");
      return Pause("paused by " + (e_.actor.empty() ? std::string("the orchestrator") : e_.actor));
    case Kind::kResume:
      if (s != RolloutState::kPaused)
        return Refuse("rollout " + ro.id + " is " + state + ", not paused: nothing to resume");
      ro.reason.clear();
      Audit("rollout.resumed", json{{"phase", RolloutPhase(ro)}});
      // Paused by the health gate: the operator accepts what was measured.
      for (RolloutTarget& t : ro.targets) {
        if (ro.health_failed && t.wave == ro.wave && t.health) t.health_accepted = true;
      }
      ro.health_failed = false;
      if (ro.reverting) {
        for (RolloutTarget& t : ro.targets) {
          if (t.state == TargetState::kRevertFailed) t.state = t.migrations.empty() ? TargetState::kDone : TargetState::kCopied;
        }
        ro.state = RolloutState::kReverting;
        return AdvanceRevert();
      }
      // The current wave's failed and held targets are tried again, a held
      // one planned from what is learned of it now.
      for (RolloutTarget& t : ro.targets) {
        if (t.wave != ro.wave || (t.state != TargetState::kFailed && t.state != TargetState::kHeld)) continue;
        t.replan = t.state == TargetState::kHeld;
        // A failed cut-over is tried again; its copy stays.
        t.state = t.migrations.empty() ? TargetState::kPending : TargetState::kCopied;
      }
      ro.state = RolloutState::kRunning;
      return Advance();
    case Kind::kSetWindow: {
      if (s != RolloutState::kPending && s != RolloutState::kRunning && s != RolloutState::kGate &&
          !(s == RolloutState::kPaused && !ro.reverting))
        return Refuse("rollout " + ro.id + " is " + state +
                      ": only a pending, running, gated or paused rollout's cut-over window changes");
      auto text = [](const std::optional<CutoverWindow>& w) { return w ? json(CutoverWindowText(*w)) : json(); };
      if (ro.strategy.cutover_window == e_.cutover_window) return;  // as it is: nothing to record
      json details{{"from", text(ro.strategy.cutover_window)}, {"to", text(e_.cutover_window)}};
      ro.strategy.cutover_window = e_.cutover_window;
      Audit("rollout.window.changed", details);
      // Copied targets cut over now if it opened; targets dispatched from
      // now on postpone their cut-over for it (or no longer do).
      if (s == RolloutState::kRunning) Advance();
      return;
    }
    case Kind::kAbort:
      if (s != RolloutState::kRunning && s != RolloutState::kGate && !(s == RolloutState::kPaused && !ro.reverting))
        return Refuse("rollout " + ro.id + " is " + state + ": only a running, gated or paused rollout aborts");
    {
      ro.state = RolloutState::kAborted;
      ro.finished_ns = e_.now_ns;
      // Copied targets and failed cut-overs keep their migrations (change
      // capture running) until a revert abandons them: the event names them.
      json unfinished = json::array();
      for (const RolloutTarget& t : ro.targets) {
        if (t.migrations.empty() || t.state == TargetState::kReverted) continue;
        unfinished.push_back(json{{"connection", t.connection}, {"database", t.database},
                                  {"state", TargetStateName(t.state)}, {"migrations", t.migrations}});
      }
      json details{{"phase", RolloutPhase(ro)}, {"in_flight", in_flight}};
      if (!unfinished.empty()) {
        details["unfinished_migrations"] = unfinished;
        details["needs"] = "sqlx rollout revert " + ro.id + " abandons them";
      }
      return Audit("rollout.aborted", details);
    }
    case Kind::kRevert:
      if (s != RolloutState::kCompleted && s != RolloutState::kAborted && s != RolloutState::kPaused)
        return Refuse("rollout " + ro.id + " is " + state +
                      ": pause or abort it first; a completed, paused or aborted rollout reverts");
      if (ro.reverting) return Refuse("rollout " + ro.id + " is already reverting: resume it");
      if (in_flight > 0)
        return Refuse("rollout " + ro.id + " has " + std::to_string(in_flight) +
                      " apply job(s) in flight: revert once they finished (sqlx rollout status " + ro.id + ")");
      ro.state = RolloutState::kReverting;
      ro.reverting = true;
      ro.reason.clear();
      Audit("rollout.revert.started", json{{"from", state}});
      return AdvanceRevert();
    case Kind::kApprove:
      if (s != RolloutState::kGate)
        return Refuse("rollout " + ro.id + " is " + state + ", not waiting at a gate: nothing to approve");
      Audit("rollout.approved", json{{"wave", ro.wave}, {"gate", GateText(ro.strategy.gate)}});
      return StartWave(ro.wave + 1);
    default:
      return Refuse("not a rollout command");
  }
}

}  // namespace sqlx::orchestrator::rollout_step
