// A rollout (docs/rollouts.md): one desired schema applied to many
// databases in waves, a canary first, with a gate between waves, a failure
// budget per wave and at most K apply jobs at once per server. This file is
// the rollout's record and its state machine: a pure function from (record,
// event) to (new record, actions), like DecideLease. The orchestrator
// (rollout_engine.cc) persists the record, carries out the actions (plan and
// publish an apply job, record an audit event) and feeds back what came of
// them as events.
//
//   pending ─start─▶ running(wave 0 = canary) ─wave done─▶ gate ─passed─▶ running(wave 1) … ─▶ completed
//        running/gate ─failure budget exceeded, a failed cut-over (whatever the budget), health gate failed
//                      (also checked before a wave's cut-overs start), or pause─▶ paused ─resume─▶ running
//        running/gate/paused ─abort─▶ aborted
//        completed/paused/aborted ─revert─▶ reverting (done targets, newest first; copied ones and failed
//                      cut-overs: their migrations abandoned) ─▶ reverted
//
// A target whose online copies postpone their cut-over (a cut-over window,
// or the wave cutting over together):
//   pending ─apply job─▶ applying ─copied─▶ copied ─window open, wave ready─▶ cutting-over ─▶ done
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "rollout_targets.h"
#include "sqlx/messages/result.h"

namespace sqlx::orchestrator {

enum class RolloutState {
  kPending,    // created; its first wave starts at once
  kRunning,    // the current wave's targets are being applied
  kGate,       // a wave finished within its budget; waiting for the gate (a time, or an approval)
  kPaused,     // failure budget exceeded, a revert failed, or an operator paused it: nothing new starts
  kCompleted,  // every wave done
  kAborted,    // stopped for good; what was applied stays (revert undoes it)
  kReverting,  // the applied targets are being reverted, newest first, one at a time
  kReverted,   // every applied target reverted
};
std::string_view RolloutStateName(RolloutState s);
std::optional<RolloutState> ParseRolloutState(std::string_view s);

enum class TargetState {
  kPending,       // not started (or to be retried after a resume)
  kApplying,      // its apply job is queued or running
  kDone,          // applied (or found applied by the worker)
  kSkipped,       // already at the desired hash: nothing to do
  kHeld,          // not applied, with the reason: no learned snapshot, or its schema drifted
  kFailed,        // its apply failed, with the error
  kReverting,     // its revert job is queued or running
  kReverted,      // back at its original hash
  kRevertFailed,  // its revert failed, with the error
  kCopied,        // its online copies are done, their cut-over postponed (change capture runs): waiting for the window or its wave
  kCuttingOver,   // its cut-over job is queued or running
};
std::string_view TargetStateName(TargetState s);
std::optional<TargetState> ParseTargetState(std::string_view s);

// The gate between two waves. Every gate first needs the wave healthy: its
// failed and held targets within the failure budget, and what its targets'
// workers measured within the strategy's health limits (else the rollout
// pauses, and no further wave starts; the last wave is checked too before
// the rollout completes).
struct Gate {
  enum class Kind {
    kHealth,    // the next wave starts as soon as this one is done
    kWait,      // ... and `wait_s` seconds have passed
    kApproval,  // ... and an operator approved (`sqlx rollout approve`)
  };
  Kind kind = Kind::kHealth;
  int64_t wait_s = 0;

  bool operator==(const Gate&) const = default;
};
// "health", "approval", "wait:30s" (units s m h; a bare number is seconds).
Result<Gate> ParseGate(std::string_view text);
std::string GateText(const Gate& g);

// The hours (UTC) a rollout's online migrations may cut over in: from
// `start_min` up to (not including) `end_min` minutes after midnight; a
// start after the end wraps midnight ("22:00-02:00").
struct CutoverWindow {
  int start_min = 0;
  int end_min = 0;

  bool operator==(const CutoverWindow&) const = default;
};
// "HH:MM-HH:MM" (00:00 to 23:59, two different times).
Result<CutoverWindow> ParseCutoverWindow(std::string_view text);
std::string CutoverWindowText(const CutoverWindow& w);
// Whether `now_ns` (UTC ns since the epoch) is inside the window.
bool InCutoverWindow(const CutoverWindow& w, int64_t now_ns);
// When the window next opens: `now_ns` while it is open.
int64_t CutoverWindowOpens(const CutoverWindow& w, int64_t now_ns);
// When the window open at `now_ns` closes: `now_ns` while it is not open.
int64_t CutoverWindowCloses(const CutoverWindow& w, int64_t now_ns);

// When a target whose online copies are done cuts over.
enum class CutoverMode {
  kEach,      // at once (within the window, if one is set)
  kTogether,  // once every target of its wave has ended its copy: the wave's cut-overs start together
};
std::string_view CutoverModeName(CutoverMode m);  // "each", "together"
std::optional<CutoverMode> ParseCutoverMode(std::string_view s);

struct RolloutStrategy {
  size_t canary = 0;                // databases in the canary wave; 0: none
  std::vector<WaveSpec> waves;      // after the canary; what they leave is one last wave
  Gate gate;
  uint32_t failure_budget = 0;      // failed or held targets a wave may have and still pass. Default 0
  uint32_t per_server = 1;          // apply jobs at once on one server (host:port). Default 1
  bool allow_destructive = false;   // the apply jobs' consents
  bool allow_blocking = false;
  // Health limits: a wave fails its gate when a target's apply saw more
  // Threads_running than this (TargetHealth). 0: not checked. Default 0
  uint32_t max_threads_running = 0;
  // ... or a replica of its server further behind than this many seconds,
  // or a replica lag it could not read. Default: not checked
  std::optional<double> max_replica_lag_s;
  // Online migrations cut over only inside this window (UTC). Default: any time
  std::optional<CutoverWindow> cutover_window;
  CutoverMode cutover = CutoverMode::kEach;  // Default: each target at once

  // True when the apply jobs' online copies stop before their swap, for a
  // cut-over job the rollout starts later (a window, or together).
  bool PostponesCutover() const { return cutover_window.has_value() || cutover == CutoverMode::kTogether; }

  bool operator==(const RolloutStrategy&) const = default;
};

// The server's load while a target's apply ran, as its worker sampled it
// (at the start, after each operation and online-copy chunk, at the end):
// what the health limits are checked against.
struct TargetHealth {
  uint32_t max_threads_running = 0;  // the most Threads_running seen (the sampling session counts: at least 1)
  uint32_t replicas = 0;             // replicas of the server whose lag was read; 0 and no error: none, no lag
  double max_replica_lag_s = 0;      // with replicas: the worst Seconds_Behind_Master seen
  std::string replica_lag_error;     // set: the lag is unknown, and why

  bool operator==(const TargetHealth&) const = default;
};
// {"max_threads_running", "replicas", "max_replica_lag_s" (null without
// replicas), "replica_lag_error" (absent when none)}: the job summary's and
// the record's form.
nlohmann::json TargetHealthToJson(const TargetHealth& h);
TargetHealth TargetHealthFromJson(const nlohmann::json& j);
// Both measurements' worst (a cut-over job's added to its copy's).
TargetHealth WorstHealth(const TargetHealth& a, const TargetHealth& b);
// Where a target's measured health is beyond `s`'s limits: one entry per
// limit (`limit`, `measured`, `threshold`, `text`); empty: healthy.
nlohmann::json HealthProblems(const RolloutStrategy& s, const TargetHealth& h);

struct RolloutTarget {
  std::string connection;  // fleet connection name
  std::string database;
  std::string server;      // host:port
  size_t wave = 0;
  TargetState state = TargetState::kPending;
  std::string reason;      // held, failed, revert failed: why
  std::string job;         // its last job (apply or revert)
  std::string from_hash;   // its learned hash when it was planned: where a revert goes back to
  uint64_t from_version = 0;  // that learned schema's version in the store
  uint32_t attempts = 0;   // jobs (apply and revert) published for it
  int64_t started_ns = 0;  // when its last apply was started (planned and its job queued); 0: never
  int64_t finished_ns = 0; // when its last apply ended (revert goes newest first); 0: not yet
  // Resumed after it was held: planned from its learned snapshot as it is
  // then (the operator learned it again), not held for differing from
  // `from_hash`. A live schema that still differs holds it again.
  bool replan = false;
  std::optional<TargetHealth> health;  // what its last apply's worker measured; nullopt: nothing
  // Resumed after its wave failed the health gate: `health` does not fail
  // the gate again (its next apply's measurement would).
  bool health_accepted = false;
  // Copied (kCopied, kCuttingOver; a revert of it: kReverting): the online
  // migrations its apply job `copy_job` copied and left before their swap;
  // the cut-over job takes that job's plan and these migrations. Cleared
  // once they are cut over (or abandoned).
  std::string copy_job;
  std::vector<std::string> migrations;
  // Its cut-over or abandon job in flight (kCuttingOver, kReverting): the
  // job it takes the plan and migrations from. The engine records it with
  // the job's id, in the same write, and sets `copy_job` to the new job
  // then, as the dispatch moves the migrations to it. Empty otherwise (and
  // in records from before it: `copy_job` is that job then).
  std::string migrations_of;

  bool operator==(const RolloutTarget&) const = default;
};

// When a wave started and when its last target ended (0: not yet).
struct WaveTimes {
  int64_t started_ns = 0;
  int64_t finished_ns = 0;

  bool operator==(const WaveTimes&) const = default;
};

struct Rollout {
  std::string id;                    // "ro-" + 10 hex digits
  std::string actor;                 // token subject that created it
  std::vector<std::string> selectors;  // as given (canonical text)
  std::string desired_hash;          // profile hash of the desired IR (kept as desired/ID)
  RolloutStrategy strategy;
  RolloutState state = RolloutState::kPending;
  bool reverting = false;            // a revert began (a paused revert resumes reverting)
  size_t wave = 0;                   // the current wave
  size_t waves = 0;                  // how many (the canary counts as one)
  int64_t gate_until_ns = 0;         // kGate with a wait: when it passes
  std::string reason;                // kPaused: why
  bool health_failed = false;        // kPaused by the health gate: resume accepts what the wave measured
  int64_t created_ns = 0, updated_ns = 0, finished_ns = 0;
  std::vector<WaveTimes> wave_times;  // one per wave
  std::vector<RolloutTarget> targets;

  bool operator==(const Rollout&) const = default;
};

// How people name where it is: "canary", "wave 2 of 3", or the state.
std::string RolloutPhase(const Rollout& r);
// How people name wave `wave`: "canary", "wave 2 of 3".
std::string WaveName(const Rollout& r, size_t wave);

// A new rollout over `targets` (in rollout order) with waves cut by
// PlanWaves: state kPending.
Rollout NewRollout(std::string id, std::string actor, std::vector<std::string> selectors, std::string desired_hash,
                   RolloutStrategy strategy, const std::vector<ResolvedTarget>& targets, int64_t now_ns);

struct RolloutEvent {
  enum class Kind {
    kStart,         // the engine, right after creation
    kTick,          // time passes (a wait gate)
    kApplied,       // target's apply job (or cut-over job) done
    kCopied,        // target's apply job done with its online copies before their swap: `migrations`
    kSkipped,       // target already at the desired hash (found when planning it)
    kHeld,          // target cannot be applied: `reason`
    kFailed,        // target's apply job failed: `reason`
    kReverted,      // target's revert job done
    kRevertFailed,  // target's revert job failed: `reason`
    kPause,         // commands, by `actor`
    kResume,
    kAbort,
    kRevert,
    kApprove,
    kSetWindow,     // set the cut-over window to `cutover_window` (nullopt: any time)
  };
  Kind kind = Kind::kTick;
  size_t target = 0;
  std::string reason;
  std::string actor;  // who caused it (commands: the token subject)
  int64_t now_ns = 0;
  // Apply and revert jobs other rollouts (and plain fleet applies) have in
  // flight, per server (host:port): a job starts on a server only while
  // fewer than this rollout's per_server jobs run there, counting them all.
  std::map<std::string, uint32_t> elsewhere;
  std::optional<TargetHealth> health;  // kApplied, kFailed: what the target's worker measured
  std::vector<std::string> migrations;  // kCopied: the migrations copied (ids)
  std::optional<CutoverWindow> cutover_window;  // kSetWindow: the new window (nullopt: any time)
};

struct RolloutAction {
  enum class Kind {
    kApply,   // plan `target` and publish its apply job (the target is kApplying)
    kRevert,  // publish `target`'s revert job (the target is kReverting)
    kCutover, // publish `target`'s cut-over job (the target is kCuttingOver)
    kAbandon, // publish `target`'s job dropping its copies (a copied target reverted: kReverting)
    kAudit,   // record `audit_action` with `details`
  };
  Kind kind = Kind::kAudit;
  size_t target = 0;
  std::string audit_action;  // "rollout.wave.started", ...
  nlohmann::json details = nlohmann::json::object();
};

struct RolloutDecision {
  // A command that does not apply in the current state is refused: the
  // record unchanged, no actions, `refusal` saying why and what to do.
  std::string refusal;
  Rollout rollout;
  std::vector<RolloutAction> actions;
};

RolloutDecision DecideRollout(const Rollout& current, const RolloutEvent& event);

// The apply and revert jobs `rollouts` have in flight per server, those of
// the rollout `except` left out: RolloutEvent::elsewhere for it.
std::map<std::string, uint32_t> InFlightPerServer(const std::vector<Rollout>& rollouts, std::string_view except);

// How long the rest of a rollout may take, from the targets of its finished
// waves: their mean apply time × the targets left / the apply jobs at once
// (per_server × the servers with targets left, at most the targets left),
// plus the wait gates still ahead. An estimate: approval gates, failures
// and other rollouts on the same servers are not in it.
struct RolloutEstimate {
  bool known = false;           // false: no finished wave to estimate from (or nothing left)
  size_t measured = 0;          // targets the mean is over
  int64_t mean_target_ns = 0;   // their mean time from start to end
  size_t targets_left = 0;      // pending or in flight
  size_t concurrency = 0;       // apply jobs at once
  int64_t gates_ns = 0;         // wait gates ahead (the current one: what is left of it)
  size_t approvals_ahead = 0;   // approval gates ahead: not in left_ns
  int64_t left_ns = 0;          // mean × left / concurrency + gates
};
RolloutEstimate EstimateRollout(const Rollout& r, int64_t now_ns);

// What `sqlx rollout status` shows beyond the record: "timings", per wave
// its name, targets, started_ns, finished_ns and took_ms (so far, while it
// runs); and "estimate" (EstimateRollout; null when not known).
nlohmann::json RolloutProgressJson(const Rollout& r, int64_t now_ns);

// A strategy as JSON: {"canary", "waves" ("10%,50%,100%"), "gate"
// ("health", "approval", "wait:30s"), "failure_budget", "per_server",
// "allow_destructive", "allow_blocking", "max_threads_running" (0: not
// checked), "max_replica_lag" (seconds; null: not checked)}; absent keys
// take the defaults. kInvalidArgument names a bad wave, gate or limit.
nlohmann::json RolloutStrategyToJson(const RolloutStrategy& s);
Result<RolloutStrategy> RolloutStrategyFromJson(const nlohmann::json& j);

// The persisted record (docs/formats/fleet.md, `rollout/ID`) and back.
nlohmann::json RolloutToJson(const Rollout& r);
Result<Rollout> RolloutFromJson(const nlohmann::json& j);

}  // namespace sqlx::orchestrator
