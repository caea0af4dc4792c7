#include "rollout.h"

#include <algorithm>
#include <charconv>
#include <map>

namespace sqlx::orchestrator {

namespace {

using nlohmann::json;
using Kind = RolloutEvent::Kind;

constexpr RolloutState kRolloutStates[] = {RolloutState::kPending,   RolloutState::kRunning,  RolloutState::kGate,
                                           RolloutState::kPaused,    RolloutState::kCompleted, RolloutState::kAborted,
                                           RolloutState::kReverting, RolloutState::kReverted};
constexpr TargetState kTargetStates[] = {TargetState::kPending,  TargetState::kApplying,  TargetState::kDone,
                                         TargetState::kSkipped,  TargetState::kHeld,      TargetState::kFailed,
                                         TargetState::kReverting, TargetState::kReverted, TargetState::kRevertFailed};

std::string TargetName(const RolloutTarget& t) { return t.connection + "/" + t.database; }

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
  void OnTargetResult();
  void StartWave(size_t wave);
  void Advance();
  void AdvanceRevert();
  void Pause(const std::string& reason);
  void Command();

  const Rollout& original_;
  const RolloutEvent& e_;
  RolloutDecision d_;
};

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
      }
      break;
    case Kind::kApplied:
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
  const bool forward = e_.kind == Kind::kApplied || e_.kind == Kind::kSkipped || e_.kind == Kind::kHeld ||
                       e_.kind == Kind::kFailed;
  // A result that does not fit (a duplicate, a target not in flight) changes nothing.
  if (forward && t->state != TargetState::kApplying) return;
  if (!forward && t->state != TargetState::kReverting) return;
  json details{{"connection", t->connection}, {"database", t->database}, {"wave", t->wave}, {"job", t->job}};
  if (!e_.reason.empty()) details["reason"] = e_.reason;
  t->reason = e_.reason;
  switch (e_.kind) {
    case Kind::kApplied:
      t->state = TargetState::kDone;
      t->finished_ns = e_.now_ns;
      Audit("rollout.target.applied", details);
      break;
    case Kind::kSkipped:
      t->state = TargetState::kSkipped;
      t->finished_ns = e_.now_ns;
      Audit("rollout.target.skipped", details);
      break;
    case Kind::kHeld:
      t->state = TargetState::kHeld;
      Audit("rollout.target.held", details);
      break;
    case Kind::kFailed:
      t->state = TargetState::kFailed;
      Audit("rollout.target.failed", details);
      break;
    case Kind::kReverted:
      t->state = TargetState::kReverted;
      Audit("rollout.target.reverted", details);
      break;
    default:
      t->state = TargetState::kRevertFailed;
      Audit("rollout.target.revert_failed", details);
      Pause("the revert of " + TargetName(*t) + " failed: " + e_.reason);
      return;
  }
  if (r().state == RolloutState::kRunning) Advance();
  if (r().state == RolloutState::kReverting) AdvanceRevert();
}

void Step::StartWave(size_t wave) {
  r().wave = wave;
  r().state = RolloutState::kRunning;
  r().gate_until_ns = 0;
  size_t n = 0;
  for (const RolloutTarget& t : r().targets) n += t.wave == wave ? 1 : 0;
  Audit("rollout.wave.started", json{{"wave", wave}, {"phase", RolloutPhase(r())}, {"targets", n}});
  Advance();
}

// The current wave: pause past the failure budget; else start what the
// per-server budget admits; once nothing is left, pass to the gate.
void Step::Advance() {
  Rollout& ro = r();
  std::vector<const RolloutTarget*> failures;
  bool unfinished = false;
  std::map<std::string, uint32_t> in_flight;
  for (const RolloutTarget& t : ro.targets) {
    if (t.state == TargetState::kApplying) ++in_flight[t.server];
    if (t.wave != ro.wave) continue;
    if (t.state == TargetState::kFailed || t.state == TargetState::kHeld) failures.push_back(&t);
    if (t.state == TargetState::kPending || t.state == TargetState::kApplying) unfinished = true;
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
      if (in_flight[t.server] >= std::max<uint32_t>(1, ro.strategy.per_server)) continue;
      ++in_flight[t.server];
      t.state = TargetState::kApplying;
      t.reason.clear();
      ++t.attempts;
      d_.actions.push_back(RolloutAction{RolloutAction::Kind::kApply, i, "", json::object()});
    }
    return;
  }
  json summary{{"wave", ro.wave}, {"phase", RolloutPhase(ro)}, {"failed_or_held", failures.size()}};
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

// One revert at a time, the most recently applied target first.
void Step::AdvanceRevert() {
  Rollout& ro = r();
  const RolloutTarget* newest = nullptr;
  size_t index = 0;
  for (size_t i = 0; i < ro.targets.size(); ++i) {
    const RolloutTarget& t = ro.targets[i];
    if (t.state == TargetState::kReverting) return;
    if (t.state == TargetState::kDone && (newest == nullptr || t.finished_ns >= newest->finished_ns)) {
      newest = &t;
      index = i;
    }
  }
  if (newest != nullptr) {
    ro.targets[index].state = TargetState::kReverting;
    ro.targets[index].reason.clear();
    ++ro.targets[index].attempts;
    d_.actions.push_back(RolloutAction{RolloutAction::Kind::kRevert, index, "", json::object()});
    return;
  }
  size_t reverted = 0;
  for (const RolloutTarget& t : ro.targets) reverted += t.state == TargetState::kReverted ? 1 : 0;
  ro.state = RolloutState::kReverted;
  ro.finished_ns = e_.now_ns;
  Audit("rollout.reverted", json{{"targets", reverted}});
}

void Step::Pause(const std::string& reason) {
  r().state = RolloutState::kPaused;
  r().reason = reason;
  Audit("rollout.paused", json{{"reason", reason}, {"phase", RolloutPhase(r())}});
}

void Step::Command() {
  Rollout& ro = r();
  const RolloutState s = ro.state;
  const std::string state(RolloutStateName(s));
  size_t in_flight = 0;
  for (const RolloutTarget& t : ro.targets) in_flight += t.state == TargetState::kApplying ? 1 : 0;
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
      if (ro.reverting) {
        for (RolloutTarget& t : ro.targets) {
          if (t.state == TargetState::kRevertFailed) t.state = TargetState::kDone;
        }
        ro.state = RolloutState::kReverting;
        return AdvanceRevert();
      }
      // The current wave's failed and held targets are tried again.
      for (RolloutTarget& t : ro.targets) {
        if (t.wave == ro.wave && (t.state == TargetState::kFailed || t.state == TargetState::kHeld))
          t.state = TargetState::kPending;
      }
      ro.state = RolloutState::kRunning;
      return Advance();
    case Kind::kAbort:
      if (s != RolloutState::kRunning && s != RolloutState::kGate && !(s == RolloutState::kPaused && !ro.reverting))
        return Refuse("rollout " + ro.id + " is " + state + ": only a running, gated or paused rollout aborts");
      ro.state = RolloutState::kAborted;
      ro.finished_ns = e_.now_ns;
      return Audit("rollout.aborted", json{{"phase", RolloutPhase(ro)}, {"in_flight", in_flight}});
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

template <class E, size_t N>
std::optional<E> ParseName(const E (&all)[N], std::string_view name, std::string_view (*name_of)(E)) {
  for (E e : all) {
    if (name_of(e) == name) return e;
  }
  return std::nullopt;
}

json TargetJson(const RolloutTarget& t) {
  return json{{"connection", t.connection},     {"database", t.database},   {"server", t.server},
              {"wave", t.wave},                 {"state", TargetStateName(t.state)}, {"reason", t.reason},
              {"job", t.job},                   {"from_hash", t.from_hash}, {"from_version", t.from_version},
              {"attempts", t.attempts},         {"finished_ns", t.finished_ns}};
}

Result<RolloutTarget> TargetFrom(const json& j) {
  RolloutTarget t;
  t.connection = j.at("connection").get<std::string>();
  t.database = j.at("database").get<std::string>();
  t.server = j.value("server", "");
  t.wave = j.value("wave", size_t{0});
  auto state = ParseTargetState(j.value("state", ""));
  if (!state) return MakeError(ErrorCode::kIo, "rollout target " + TargetName(t) + " has an unknown state");
  t.state = *state;
  t.reason = j.value("reason", "");
  t.job = j.value("job", "");
  t.from_hash = j.value("from_hash", "");
  t.from_version = j.value("from_version", uint64_t{0});
  t.attempts = j.value("attempts", uint32_t{0});
  t.finished_ns = j.value("finished_ns", int64_t{0});
  return t;
}

}  // namespace

std::string_view RolloutStateName(RolloutState s) {
  switch (s) {
    case RolloutState::kPending: return "pending";
    case RolloutState::kRunning: return "running";
    case RolloutState::kGate: return "gate";
    case RolloutState::kPaused: return "paused";
    case RolloutState::kCompleted: return "completed";
    case RolloutState::kAborted: return "aborted";
    case RolloutState::kReverting: return "reverting";
    case RolloutState::kReverted: return "reverted";
  }
  return "unknown";
}

std::optional<RolloutState> ParseRolloutState(std::string_view s) { return ParseName(kRolloutStates, s, RolloutStateName); }

std::string_view TargetStateName(TargetState s) {
  switch (s) {
    case TargetState::kPending: return "pending";
    case TargetState::kApplying: return "applying";
    case TargetState::kDone: return "done";
    case TargetState::kSkipped: return "skipped";
    case TargetState::kHeld: return "held";
    case TargetState::kFailed: return "failed";
    case TargetState::kReverting: return "reverting";
    case TargetState::kReverted: return "reverted";
    case TargetState::kRevertFailed: return "revert-failed";
  }
  return "unknown";
}

std::optional<TargetState> ParseTargetState(std::string_view s) { return ParseName(kTargetStates, s, TargetStateName); }

Result<Gate> ParseGate(std::string_view text) {
  Gate g;
  if (text == "health") return g;
  if (text == "approval") {
    g.kind = Gate::Kind::kApproval;
    return g;
  }
  auto bad = [&] {
    return MakeError(ErrorCode::kInvalidArgument, "gate '" + std::string(text) +
                                                      "': give health, approval, or wait:DURATION (wait:30s, wait:5m, "
                                                      "wait:1h)");
  };
  if (text.substr(0, 5) != "wait:") return bad();
  std::string_view amount = text.substr(5);
  int64_t unit = 1;
  if (!amount.empty() && (amount.back() == 's' || amount.back() == 'm' || amount.back() == 'h')) {
    unit = amount.back() == 's' ? 1 : amount.back() == 'm' ? 60 : 3600;
    amount.remove_suffix(1);
  }
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(amount.data(), amount.data() + amount.size(), n);
  if (amount.empty() || ec != std::errc() || ptr != amount.data() + amount.size() || n < 0 || n > 7 * 24 * 3600)
    return bad();
  g.kind = Gate::Kind::kWait;
  g.wait_s = n * unit;
  return g;
}

std::string GateText(const Gate& g) {
  switch (g.kind) {
    case Gate::Kind::kHealth: return "health";
    case Gate::Kind::kApproval: return "approval";
    case Gate::Kind::kWait: return "wait:" + std::to_string(g.wait_s) + "s";
  }
  return "health";
}

std::string RolloutPhase(const Rollout& r) {
  if (r.state != RolloutState::kRunning && r.state != RolloutState::kGate) return std::string(RolloutStateName(r.state));
  const bool canary = r.strategy.canary > 0;
  std::string where = canary && r.wave == 0 ? "canary"
                                            : "wave " + std::to_string(r.wave + (canary ? 0 : 1)) + " of " +
                                                  std::to_string(r.waves - (canary ? 1 : 0));
  return r.state == RolloutState::kGate ? "gate after " + where : where;
}

Rollout NewRollout(std::string id, std::string actor, std::vector<std::string> selectors, std::string desired_hash,
                   RolloutStrategy strategy, const std::vector<ResolvedTarget>& targets, int64_t now_ns) {
  Rollout r;
  r.id = std::move(id);
  r.actor = std::move(actor);
  r.selectors = std::move(selectors);
  r.desired_hash = std::move(desired_hash);
  r.strategy = std::move(strategy);
  r.created_ns = r.updated_ns = now_ns;
  const std::vector<size_t> sizes = PlanWaves(targets.size(), r.strategy.canary, r.strategy.waves);
  r.waves = sizes.size();
  size_t next = 0;
  for (size_t wave = 0; wave < sizes.size(); ++wave) {
    for (size_t k = 0; k < sizes[wave]; ++k, ++next) {
      RolloutTarget t;
      t.connection = targets[next].connection;
      t.database = targets[next].database;
      t.server = targets[next].server;
      t.wave = wave;
      r.targets.push_back(std::move(t));
    }
  }
  return r;
}

RolloutDecision DecideRollout(const Rollout& current, const RolloutEvent& event) {
  RolloutDecision d = Step(current, event).Run();
  if (!d.refusal.empty()) d.rollout = current;
  return d;
}

nlohmann::json RolloutToJson(const Rollout& r) {
  json targets = json::array();
  for (const RolloutTarget& t : r.targets) targets.push_back(TargetJson(t));
  const RolloutStrategy& s = r.strategy;
  return json{{"id", r.id},
              {"actor", r.actor},
              {"selectors", r.selectors},
              {"desired_hash", r.desired_hash},
              {"strategy",
               {{"canary", s.canary},
                {"waves", WavesText(s.waves)},
                {"gate", GateText(s.gate)},
                {"failure_budget", s.failure_budget},
                {"per_server", s.per_server},
                {"allow_destructive", s.allow_destructive},
                {"allow_blocking", s.allow_blocking}}},
              {"state", RolloutStateName(r.state)},
              {"phase", RolloutPhase(r)},
              {"reverting", r.reverting},
              {"wave", r.wave},
              {"waves", r.waves},
              {"gate_until_ns", r.gate_until_ns},
              {"reason", r.reason},
              {"created_ns", r.created_ns},
              {"updated_ns", r.updated_ns},
              {"finished_ns", r.finished_ns},
              {"targets", targets}};
}

Result<Rollout> RolloutFromJson(const nlohmann::json& j) {
  try {
    Rollout r;
    r.id = j.at("id").get<std::string>();
    r.actor = j.value("actor", "");
    r.selectors = j.value("selectors", std::vector<std::string>{});
    r.desired_hash = j.value("desired_hash", "");
    const json& s = j.at("strategy");
    r.strategy.canary = s.value("canary", size_t{0});
    SQLX_ASSIGN_OR_RETURN(r.strategy.waves, ParseWaves(s.value("waves", "")));
    SQLX_ASSIGN_OR_RETURN(r.strategy.gate, ParseGate(s.value("gate", "health")));
    r.strategy.failure_budget = s.value("failure_budget", uint32_t{0});
    r.strategy.per_server = s.value("per_server", uint32_t{1});
    r.strategy.allow_destructive = s.value("allow_destructive", false);
    r.strategy.allow_blocking = s.value("allow_blocking", false);
    auto state = ParseRolloutState(j.value("state", ""));
    if (!state) return MakeError(ErrorCode::kIo, "rollout " + r.id + " has an unknown state");
    r.state = *state;
    r.reverting = j.value("reverting", false);
    r.wave = j.value("wave", size_t{0});
    r.waves = j.value("waves", size_t{0});
    r.gate_until_ns = j.value("gate_until_ns", int64_t{0});
    r.reason = j.value("reason", "");
    r.created_ns = j.value("created_ns", int64_t{0});
    r.updated_ns = j.value("updated_ns", int64_t{0});
    r.finished_ns = j.value("finished_ns", int64_t{0});
    for (const json& t : j.value("targets", json::array())) {
      SQLX_ASSIGN_OR_RETURN(RolloutTarget target, TargetFrom(t));
      r.targets.push_back(std::move(target));
    }
    return r;
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kIo, std::string("a rollout record does not decode: ") + e.what() +
                                         " (the store was changed outside sqlx)");
  }
}

}  // namespace sqlx::orchestrator
