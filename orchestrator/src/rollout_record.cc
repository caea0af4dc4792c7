// The rollout record (rollout.h): names of its states, gates, its
// construction and its JSON form (docs/formats/fleet.md, `rollout/ID`).
#include "rollout.h"

#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>

#include "sqlx/messages/clock.h"

namespace sqlx::orchestrator {

namespace {

using nlohmann::json;

constexpr RolloutState kRolloutStates[] = {RolloutState::kPending,   RolloutState::kRunning,  RolloutState::kGate,
                                           RolloutState::kPaused,    RolloutState::kCompleted, RolloutState::kAborted,
                                           RolloutState::kReverting, RolloutState::kReverted};
constexpr TargetState kTargetStates[] = {TargetState::kPending,  TargetState::kApplying,  TargetState::kDone,
                                         TargetState::kSkipped,  TargetState::kHeld,      TargetState::kFailed,
                                         TargetState::kReverting, TargetState::kReverted, TargetState::kRevertFailed,
                                         TargetState::kCopied,   TargetState::kCuttingOver};
constexpr CutoverMode kCutoverModes[] = {CutoverMode::kEach, CutoverMode::kTogether};
constexpr int kMinutesPerDay = 24 * 60;
constexpr int64_t kNsPerMinute = 60'000'000'000;

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
              {"attempts", t.attempts},         {"started_ns", t.started_ns}, {"finished_ns", t.finished_ns},
              {"replan", t.replan},             {"health", t.health ? TargetHealthToJson(*t.health) : json()},
              {"health_accepted", t.health_accepted}, {"copy_job", t.copy_job},
              {"migrations", t.migrations},     {"migrations_of", t.migrations_of}};
}

Result<RolloutTarget> TargetFrom(const json& j) {
  RolloutTarget t;
  t.connection = j.at("connection").get<std::string>();
  t.database = j.at("database").get<std::string>();
  t.server = j.value("server", "");
  t.wave = j.value("wave", size_t{0});
  auto state = ParseTargetState(j.value("state", ""));
  if (!state) return MakeError(ErrorCode::kIo, "rollout target " + t.connection + "/" + t.database + " has an unknown state");
  t.state = *state;
  t.reason = j.value("reason", "");
  t.job = j.value("job", "");
  t.from_hash = j.value("from_hash", "");
  t.from_version = j.value("from_version", uint64_t{0});
  t.attempts = j.value("attempts", uint32_t{0});
  t.started_ns = j.value("started_ns", int64_t{0});
  t.finished_ns = j.value("finished_ns", int64_t{0});
  t.replan = j.value("replan", false);
  if (j.contains("health") && j["health"].is_object()) t.health = TargetHealthFromJson(j["health"]);
  t.health_accepted = j.value("health_accepted", false);
  t.copy_job = j.value("copy_job", "");
  t.migrations = j.value("migrations", std::vector<std::string>{});
  t.migrations_of = j.value("migrations_of", "");
  return t;
}

}  // namespace

nlohmann::json TargetHealthToJson(const TargetHealth& h) {
  json out{{"max_threads_running", h.max_threads_running},
           {"replicas", h.replicas},
           {"max_replica_lag_s", h.replicas > 0 ? json(h.max_replica_lag_s) : json()}};
  if (!h.replica_lag_error.empty()) out["replica_lag_error"] = h.replica_lag_error;
  return out;
}

TargetHealth TargetHealthFromJson(const nlohmann::json& j) {
  TargetHealth h;
  h.max_threads_running = j.value("max_threads_running", uint32_t{0});
  h.replicas = j.value("replicas", uint32_t{0});
  if (j.contains("max_replica_lag_s") && j["max_replica_lag_s"].is_number())
    h.max_replica_lag_s = j["max_replica_lag_s"].get<double>();
  h.replica_lag_error = j.value("replica_lag_error", "");
  return h;
}

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
    case TargetState::kCopied: return "copied";
    case TargetState::kCuttingOver: return "cutting-over";
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
  // A period (wait:90s, wait:5m), or bare seconds (wait:30); a week at most.
  const std::string_view amount = text.substr(5);
  std::optional<int64_t> seconds = ParsePeriodSeconds(amount);
  if (!seconds && !amount.empty() && amount.find_first_not_of("0123456789") == std::string_view::npos)
    seconds = ParsePeriodSeconds(std::string(amount) + "s");
  if (!seconds || *seconds > 7 * 24 * 3600) return bad();
  g.kind = Gate::Kind::kWait;
  g.wait_s = *seconds;
  return g;
}

Result<CutoverWindow> ParseCutoverWindow(std::string_view text) {
  // HH:MM as minutes after midnight; -1 when it is not one.
  auto minutes = [](std::string_view hhmm) {
    if (hhmm.size() != 5 || hhmm[2] != ':') return -1;
    for (size_t i : {0, 1, 3, 4}) {
      if (hhmm[i] < '0' || hhmm[i] > '9') return -1;
    }
    const int h = (hhmm[0] - '0') * 10 + (hhmm[1] - '0');
    const int m = (hhmm[3] - '0') * 10 + (hhmm[4] - '0');
    return h < 24 && m < 60 ? h * 60 + m : -1;
  };
  const size_t dash = text.find('-');
  CutoverWindow w;
  w.start_min = dash == std::string_view::npos ? -1 : minutes(text.substr(0, dash));
  w.end_min = dash == std::string_view::npos ? -1 : minutes(text.substr(dash + 1));
  if (w.start_min < 0 || w.end_min < 0 || w.start_min == w.end_min)
    return MakeError(ErrorCode::kInvalidArgument,
                     "cut-over window '" + std::string(text) +
                         "': give HH:MM-HH:MM in UTC, two different times (02:00-04:00; 22:00-02:00 wraps midnight)");
  return w;
}

std::string CutoverWindowText(const CutoverWindow& w) {
  char out[48];  // room for any int the compiler imagines
  std::snprintf(out, sizeof out, "%02d:%02d-%02d:%02d", w.start_min / 60, w.start_min % 60, w.end_min / 60,
                w.end_min % 60);
  return out;
}

bool InCutoverWindow(const CutoverWindow& w, int64_t now_ns) {
  const int minute = static_cast<int>((now_ns / kNsPerMinute) % kMinutesPerDay);
  if (w.start_min < w.end_min) return minute >= w.start_min && minute < w.end_min;
  return minute >= w.start_min || minute < w.end_min;  // wraps midnight
}

int64_t CutoverWindowOpens(const CutoverWindow& w, int64_t now_ns) {
  if (InCutoverWindow(w, now_ns)) return now_ns;
  const int64_t this_minute = now_ns / kNsPerMinute;
  const int minute = static_cast<int>(this_minute % kMinutesPerDay);
  const int ahead = (w.start_min - minute + kMinutesPerDay) % kMinutesPerDay;
  return (this_minute + ahead) * kNsPerMinute;
}

int64_t CutoverWindowCloses(const CutoverWindow& w, int64_t now_ns) {
  if (!InCutoverWindow(w, now_ns)) return now_ns;
  const int64_t this_minute = now_ns / kNsPerMinute;
  const int minute = static_cast<int>(this_minute % kMinutesPerDay);
  const int ahead = (w.end_min - minute + kMinutesPerDay) % kMinutesPerDay;
  return (this_minute + ahead) * kNsPerMinute;
}

std::string_view CutoverModeName(CutoverMode m) {
  switch (m) {
    case CutoverMode::kEach: return "each";
    case CutoverMode::kTogether: return "together";
  }
  return "each";
}

std::optional<CutoverMode> ParseCutoverMode(std::string_view s) { return ParseName(kCutoverModes, s, CutoverModeName); }

std::string GateText(const Gate& g) {
  switch (g.kind) {
    case Gate::Kind::kHealth: return "health";
    case Gate::Kind::kApproval: return "approval";
    case Gate::Kind::kWait: return "wait:" + std::to_string(g.wait_s) + "s";
  }
  return "health";
}

std::string WaveName(const Rollout& r, size_t wave) {
  const bool canary = r.strategy.canary > 0;
  return canary && wave == 0 ? "canary"
                             : "wave " + std::to_string(wave + (canary ? 0 : 1)) + " of " +
                                   std::to_string(r.waves - (canary ? 1 : 0));
}

std::string RolloutPhase(const Rollout& r) {
  if (r.state != RolloutState::kRunning && r.state != RolloutState::kGate) return std::string(RolloutStateName(r.state));
  const std::string where = WaveName(r, r.wave);
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
  r.wave_times.resize(r.waves);
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

nlohmann::json RolloutStrategyToJson(const RolloutStrategy& s) {
  return json{{"canary", s.canary},
              {"waves", WavesText(s.waves)},
              {"gate", GateText(s.gate)},
              {"failure_budget", s.failure_budget},
              {"per_server", s.per_server},
              {"allow_destructive", s.allow_destructive},
              {"allow_blocking", s.allow_blocking},
              {"max_threads_running", s.max_threads_running},
              {"max_replica_lag", s.max_replica_lag_s ? json(*s.max_replica_lag_s) : json()},
              {"cutover_window", s.cutover_window ? json(CutoverWindowText(*s.cutover_window)) : json()},
              {"cutover", CutoverModeName(s.cutover)}};
}

Result<RolloutStrategy> RolloutStrategyFromJson(const nlohmann::json& j) {
  RolloutStrategy s;
  s.canary = j.value("canary", size_t{0});
  SQLX_ASSIGN_OR_RETURN(s.waves, ParseWaves(j.value("waves", "")));
  SQLX_ASSIGN_OR_RETURN(s.gate, ParseGate(j.value("gate", "health")));
  s.failure_budget = j.value("failure_budget", uint32_t{0});
  s.per_server = j.value("per_server", uint32_t{1});
  s.allow_destructive = j.value("allow_destructive", false);
  s.allow_blocking = j.value("allow_blocking", false);
  const json threads = j.value("max_threads_running", json());
  if (!threads.is_null()) {
    if (!threads.is_number_integer() || threads.get<int64_t>() < 0 || threads.get<int64_t>() > UINT32_MAX)
      return MakeError(ErrorCode::kInvalidArgument,
                       "max_threads_running must be a whole number of threads (0: not checked), not " + threads.dump());
    s.max_threads_running = threads.get<uint32_t>();
  }
  const json lag = j.value("max_replica_lag", json());
  if (!lag.is_null()) {
    if (!lag.is_number() || lag.get<double>() < 0)
      return MakeError(ErrorCode::kInvalidArgument,
                       "max_replica_lag must be seconds, 0 or more (leave it out not to check the lag), not " +
                           lag.dump());
    s.max_replica_lag_s = lag.get<double>();
  }
  const json window = j.value("cutover_window", json());
  if (!window.is_null()) {
    if (!window.is_string())
      return MakeError(ErrorCode::kInvalidArgument, "cutover_window must be \"HH:MM-HH:MM\" (UTC), not " + window.dump());
    SQLX_ASSIGN_OR_RETURN(s.cutover_window, ParseCutoverWindow(window.get<std::string>()));
  }
  const json mode = j.value("cutover", json("each"));
  const std::optional<CutoverMode> cutover = mode.is_string() ? ParseCutoverMode(mode.get<std::string>()) : std::nullopt;
  if (!cutover)
    return MakeError(ErrorCode::kInvalidArgument, "cutover must be \"each\" (every target as its copy ends) or "
                                                  "\"together\" (a wave's targets once all its copies are done), not " +
                                                      mode.dump());
  s.cutover = *cutover;
  return s;
}

nlohmann::json RolloutToJson(const Rollout& r) {
  json targets = json::array();
  for (const RolloutTarget& t : r.targets) targets.push_back(TargetJson(t));
  json wave_times = json::array();
  for (const WaveTimes& w : r.wave_times)
    wave_times.push_back(json{{"started_ns", w.started_ns}, {"finished_ns", w.finished_ns}});
  return json{{"id", r.id},
              {"actor", r.actor},
              {"selectors", r.selectors},
              {"desired_hash", r.desired_hash},
              {"strategy", RolloutStrategyToJson(r.strategy)},
              {"state", RolloutStateName(r.state)},
              {"phase", RolloutPhase(r)},
              {"reverting", r.reverting},
              {"wave", r.wave},
              {"waves", r.waves},
              {"gate_until_ns", r.gate_until_ns},
              {"reason", r.reason},
              {"health_failed", r.health_failed},
              {"created_ns", r.created_ns},
              {"updated_ns", r.updated_ns},
              {"finished_ns", r.finished_ns},
              {"wave_times", wave_times},
              {"targets", targets}};
}

Result<Rollout> RolloutFromJson(const nlohmann::json& j) {
  try {
    Rollout r;
    r.id = j.at("id").get<std::string>();
    r.actor = j.value("actor", "");
    r.selectors = j.value("selectors", std::vector<std::string>{});
    r.desired_hash = j.value("desired_hash", "");
    SQLX_ASSIGN_OR_RETURN(r.strategy, RolloutStrategyFromJson(j.at("strategy")));
    auto state = ParseRolloutState(j.value("state", ""));
    if (!state) return MakeError(ErrorCode::kIo, "rollout " + r.id + " has an unknown state");
    r.state = *state;
    r.reverting = j.value("reverting", false);
    r.wave = j.value("wave", size_t{0});
    r.waves = j.value("waves", size_t{0});
    r.gate_until_ns = j.value("gate_until_ns", int64_t{0});
    r.reason = j.value("reason", "");
    r.health_failed = j.value("health_failed", false);
    r.created_ns = j.value("created_ns", int64_t{0});
    r.updated_ns = j.value("updated_ns", int64_t{0});
    r.finished_ns = j.value("finished_ns", int64_t{0});
    for (const json& w : j.value("wave_times", json::array()))
      r.wave_times.push_back(WaveTimes{w.value("started_ns", int64_t{0}), w.value("finished_ns", int64_t{0})});
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
