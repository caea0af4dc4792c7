// Rollouts in the orchestrator (docs/rollouts.md): the record `rollout/ID`
// (and its desired IR, `desired/ID`) driven by DecideRollout (rollout.h).
// Every decision's audit events are appended, then its record written, then
// its jobs published: a crash in between leaves a target "applying" under a
// job id whose record is missing or unfinished, which the next pass repairs
// (publishes it, or waits for it). Per target the plan is made here, from
// the target's own learned snapshot to the desired IR with its server's
// learned capabilities, and goes out through the apply path (apply.cc:
// leases and fencing as for `fleet apply`). A pass over the unfinished
// rollouts runs when an apply result of a rollout was persisted (events.cc)
// and every half second (wait gates, dead jobs), so an orchestrator that
// restarts goes on where its records say it was.
#include <spdlog/spdlog.h>

#include <deque>

#include "orchestrator_impl.h"
#include "sqlx/messages/clock.h"
#include "sqlx/messages/hex.h"
#include "sqlx/messages/ir.h"
#include "sqlx/planner/plan.h"
#include "sqlx/planner/strategy.h"
#include "sqlx/transports/url.h"

namespace sqlx::orchestrator {

namespace {

using nlohmann::json;
using Kind = RolloutEvent::Kind;

// Where the store keeps what was learned of a fleet connection: its
// schemas and capabilities under user@host:port; host:port is its server.
struct LearnedName {
  std::string store_name;
  std::string server;
};

Result<LearnedName> LearnedNameOf(const FleetConnection& c) {
  SQLX_ASSIGN_OR_RETURN(transports::ConnectionUrl url, transports::ParseConnectionUrl(c.url));
  return LearnedName{url.ConnectionName(), url.Endpoint()};
}

// The plan from `from` to `to`, its strategies chosen for the server's
// learned capabilities (none learned: the defaults, nothing instant).
Result<planner::Plan> PlanBetween(const ir::Database& from, const ir::Database& to,
                                  const std::optional<storage::ConnectionRecord>& server) {
  planner::ServerCapabilities caps = planner::DefaultCapabilities();
  if (server && !server->capability_json.empty()) {
    SQLX_ASSIGN_OR_RETURN(caps, planner::CapabilitiesFromJson(server->capability_json));
    caps.basis += " (" + server->name + ")";
  }
  SQLX_ASSIGN_OR_RETURN(planner::Plan plan, planner::Diff(from, to));
  SQLX_RETURN_IF_ERROR(planner::ChooseStrategies(from, to, {}, caps, &plan));
  return plan;
}

std::optional<RolloutEvent> TargetEvent(Kind kind, size_t target, std::string reason) {
  RolloutEvent e;
  e.kind = kind;
  e.target = target;
  e.reason = std::move(reason);
  e.now_ns = UnixNowNs();
  return e;
}

bool Unfinished(const Rollout& r) {
  if (r.state != RolloutState::kCompleted && r.state != RolloutState::kReverted && r.state != RolloutState::kAborted &&
      r.state != RolloutState::kPaused)
    return true;
  for (const RolloutTarget& t : r.targets) {
    if (t.state == TargetState::kApplying || t.state == TargetState::kReverting ||
        t.state == TargetState::kCuttingOver)
      return true;
  }
  return false;
}

// The job id letter of each kind of target job: ID.tN.aK (apply), .rK
// (revert), .cK (cut-over), .xK (abandon).
const char* JobLetter(RolloutAction::Kind kind) {
  switch (kind) {
    case RolloutAction::Kind::kRevert: return ".r";
    case RolloutAction::Kind::kCutover: return ".c";
    case RolloutAction::Kind::kAbandon: return ".x";
    default: return ".a";
  }
}

// What a target in flight is waiting for: the kind of its job.
RolloutAction::Kind JobKindOf(const RolloutTarget& t) {
  if (t.state == TargetState::kCuttingOver) return RolloutAction::Kind::kCutover;
  if (t.state == TargetState::kReverting)
    return t.migrations.empty() ? RolloutAction::Kind::kRevert : RolloutAction::Kind::kAbandon;
  return RolloutAction::Kind::kApply;
}

}  // namespace

Result<std::string> ServerOf(const FleetConnection& c) {
  SQLX_ASSIGN_OR_RETURN(LearnedName names, LearnedNameOf(c));
  return names.server;
}

Result<std::map<std::string, uint32_t>> Orchestrator::Impl::FleetAppliesPerServer() {
  std::map<std::string, uint32_t> n;
  for (auto it = fleet_applies_.begin(); it != fleet_applies_.end();) {
    SQLX_ASSIGN_OR_RETURN(std::optional<Job> job, records_->GetJob(it->first));
    if (!job || IsTerminal(job->state)) {
      it = fleet_applies_.erase(it);
      continue;
    }
    ++n[it->second];
    ++it;
  }
  return n;
}

Result<Rollout> Orchestrator::Impl::CreateRollout(const Caller& caller, const RolloutRequest& request) {
  auto desired = ir::FromJson(request.desired_json);
  if (!desired.ok())
    return MakeError(ErrorCode::kInvalidArgument,
                     "the desired schema is not a snapshot (docs/formats/ir.md; make one with `sqlx snapshot`): " +
                         desired.error().message);
  std::vector<TargetSelector> selectors;
  std::vector<std::string> texts;
  for (const std::string& text : request.targets) {
    SQLX_ASSIGN_OR_RETURN(TargetSelector s, ParseTargetSelector(text));
    texts.push_back(TargetSelectorText(s));
    selectors.push_back(std::move(s));
  }
  if (request.strategy.per_server == 0)
    return MakeError(ErrorCode::kInvalidArgument, "per_server must be 1 or more: apply jobs at once on one server");
  std::lock_guard<std::mutex> lock(state_mu_);
  SQLX_ASSIGN_OR_RETURN(std::vector<FleetConnection> connections, records_->ListConnections());
  std::vector<TargetCandidate> candidates;
  std::map<std::string, std::string> store_names;
  for (const FleetConnection& c : connections) {
    SQLX_ASSIGN_OR_RETURN(LearnedName names, LearnedNameOf(c));
    SQLX_ASSIGN_OR_RETURN(std::vector<std::string> databases, store_->ListDatabases(names.store_name));
    candidates.push_back(TargetCandidate{c.name, c.tags, names.server, std::move(databases)});
    store_names[c.name] = names.store_name;
  }
  SQLX_ASSIGN_OR_RETURN(std::vector<ResolvedTarget> targets, ResolveTargets(selectors, candidates));
  Rollout r = NewRollout("ro-" + RandomHex(5), caller.subject, texts, ir::ProfileHash(*desired), request.strategy,
                         targets, UnixNowNs());
  // What each target was when the rollout was made: planning it later
  // against anything else is drift.
  for (RolloutTarget& t : r.targets) {
    SQLX_ASSIGN_OR_RETURN(std::optional<storage::SchemaRecord> schema,
                          store_->GetSchema(store_names[t.connection], t.database));
    if (schema) {
      t.from_hash = schema->profile_hash;
      t.from_version = schema->version;
    }
  }
  Records::Batch batch;
  batch.PutDesired(r.id, ir::ToCanonicalJson(*desired));
  batch.Put(r);
  SQLX_RETURN_IF_ERROR(records_->Write(batch, "recording rollout " + r.id));
  std::vector<size_t> sizes(r.waves, 0);
  for (const RolloutTarget& t : r.targets) ++sizes[t.wave];
  SQLX_RETURN_IF_ERROR(RecordAudit(&caller, "rollout.created", {}, nullptr,
                                   json{{"rollout", r.id},
                                        {"targets", r.targets.size()},
                                        {"selectors", texts},
                                        {"waves", sizes},
                                        {"desired_hash", r.desired_hash},
                                        {"strategy", RolloutStrategyToJson(r.strategy)}}));
  RolloutEvent start;
  start.kind = Kind::kStart;
  start.actor = caller.subject;
  start.now_ns = UnixNowNs();
  SQLX_RETURN_IF_ERROR(DriveRollout(r, start, &caller));
  return r;
}

Result<Rollout> Orchestrator::Impl::CommandRollout(const Caller& caller, const std::string& id,
                                                   RolloutEvent::Kind command, std::optional<CutoverWindow> window) {
  std::lock_guard<std::mutex> lock(state_mu_);
  SQLX_ASSIGN_OR_RETURN(std::optional<Rollout> r, records_->GetRollout(id));
  if (!r) return MakeError(ErrorCode::kNotFound, "no rollout '" + id + "' (see `sqlx rollout list`)");
  RolloutEvent e;
  e.kind = command;
  e.cutover_window = window;
  e.actor = caller.subject;
  e.now_ns = UnixNowNs();
  SQLX_RETURN_IF_ERROR(DriveRollout(*r, e, &caller));
  return std::move(*r);
}

Status Orchestrator::Impl::DriveRollout(Rollout& r, const RolloutEvent& first, const Caller* caller,
                                       const std::vector<Rollout>* all) {
  // Other rollouts do not change meanwhile (state_mu_): what they have in
  // flight is read once.
  std::vector<Rollout> listed;
  if (all == nullptr) {
    SQLX_ASSIGN_OR_RETURN(listed, records_->ListRollouts());
    all = &listed;
  }
  std::map<std::string, uint32_t> elsewhere = InFlightPerServer(*all, r.id);
  SQLX_ASSIGN_OR_RETURN(const auto fleet_applies, FleetAppliesPerServer());
  for (const auto& [server, n] : fleet_applies) elsewhere[server] += n;
  std::deque<RolloutEvent> events{first};
  bool by_caller = true;  // the first event is the caller's; what follows from it, the orchestrator's
  while (!events.empty()) {
    RolloutEvent e = std::move(events.front());
    events.pop_front();
    e.elsewhere = elsewhere;
    RolloutDecision d = DecideRollout(r, e);
    if (!d.refusal.empty()) {
      if (by_caller && caller != nullptr) return MakeError(ErrorCode::kInvalidArgument, d.refusal);
      continue;
    }
    const Caller* who = by_caller ? caller : nullptr;
    by_caller = false;
    if (d.actions.empty() && d.rollout == r) continue;  // a tick before its time: nothing to write
    r = std::move(d.rollout);
    std::vector<storage::AuditEvent> audits;
    std::vector<std::pair<size_t, RolloutAction::Kind>> dispatch;
    for (const RolloutAction& a : d.actions) {
      if (a.kind == RolloutAction::Kind::kAudit) {
        const storage::AuditObject object{a.details.value("connection", ""), a.details.value("database", ""), ""};
        const Error failed = MakeError(ErrorCode::kServer, a.details.value("reason", ""));
        const bool failure = a.audit_action == "rollout.target.failed" || a.audit_action == "rollout.target.held" ||
                             a.audit_action == "rollout.target.revert_failed";
        audits.push_back(EventFor(who, a.audit_action, object, failure ? &failed : nullptr, a.details));
        continue;
      }
      RolloutTarget& t = r.targets[a.target];
      t.job = r.id + ".t" + std::to_string(a.target) + JobLetter(a.kind) + std::to_string(t.attempts);
      if (a.kind == RolloutAction::Kind::kCutover || a.kind == RolloutAction::Kind::kAbandon) {
        // Its dispatch moves the migrations to the new job: recorded in
        // this write, before, so that a crash after it leaves no record
        // naming the job they left (a later retry would find none there).
        t.migrations_of = t.copy_job;
        t.copy_job = t.job;
      }
      dispatch.emplace_back(a.target, a.kind);
    }
    SQLX_RETURN_IF_ERROR(AppendAudit(std::move(audits)));
    Records::Batch batch;
    batch.Put(r);
    SQLX_RETURN_IF_ERROR(records_->Write(batch, "recording rollout " + r.id));
    for (const auto& [target, kind] : dispatch) {
      SQLX_ASSIGN_OR_RETURN(std::optional<RolloutEvent> instead, DispatchTarget(r, target, kind));
      if (instead) events.push_back(std::move(*instead));
    }
    if (!dispatch.empty()) {
      Records::Batch planned;
      planned.Put(r);  // the from_hash and from_version each dispatch planned from
      SQLX_RETURN_IF_ERROR(records_->Write(planned, "recording rollout " + r.id));
    }
  }
  return Status::Ok();
}

Result<std::optional<RolloutEvent>> Orchestrator::Impl::DispatchMigrationAction(Rollout& r, size_t index,
                                                                              RolloutAction::Kind kind) {
  RolloutTarget& t = r.targets[index];
  const bool cutover = kind == RolloutAction::Kind::kCutover;
  const Kind fail = cutover ? Kind::kFailed : Kind::kRevertFailed;
  // The job holding the plan and the migrations until this one takes them
  // (a record from before `migrations_of`: `copy_job`, set after the dispatch).
  const std::string from = t.migrations_of.empty() ? t.copy_job : t.migrations_of;
  // Not queued: they stay that job's.
  auto not_queued = [&](const std::string& why) {
    t.copy_job = from;
    t.migrations_of.clear();
    return TargetEvent(fail, index, why);
  };
  SQLX_ASSIGN_OR_RETURN(std::optional<std::string> plan, records_->GetPlan(from));
  if (!plan) return not_queued("the plan of job " + from + ", which copied it, is not in the store");
  SQLX_ASSIGN_OR_RETURN(std::optional<Job> copied, records_->GetJob(from));
  ApplyParams p;
  p.connection = t.connection;
  p.database = t.database;
  p.plan_json = std::move(*plan);
  p.allow_destructive = copied && copied->params.value("allow_destructive", false);
  p.allow_blocking = copied && copied->params.value("allow_blocking", false);
  p.migration_action = cutover ? "cutover" : "abandon";
  p.migrations = t.migrations;
  p.migrations_of = from;
  // A worker that starts it after the window closed leaves it copied.
  if (cutover && r.strategy.cutover_window)
    p.cutover_before_ns = CutoverWindowCloses(*r.strategy.cutover_window, UnixNowNs());
  SQLX_RETURN_IF_ERROR(QueueApplyJob(nullptr, r.id, t.job, p,
                                     json{{"rollout", r.id}, {"target", index}, {"revert", !cutover}}));
  t.copy_job = t.job;  // its plan and migrations are this job's now (recorded so before the dispatch)
  t.migrations_of.clear();
  return std::optional<RolloutEvent>();
}

Result<std::optional<RolloutEvent>> Orchestrator::Impl::DispatchTarget(Rollout& r, size_t index,
                                                                     RolloutAction::Kind kind) {
  if (kind == RolloutAction::Kind::kCutover || kind == RolloutAction::Kind::kAbandon)
    return DispatchMigrationAction(r, index, kind);
  const bool revert = kind == RolloutAction::Kind::kRevert;
  RolloutTarget& t = r.targets[index];
  const Kind fail = revert ? Kind::kRevertFailed : Kind::kHeld;
  const std::string name = t.connection + "/" + t.database;
  SQLX_ASSIGN_OR_RETURN(std::optional<FleetConnection> conn, records_->GetConnection(t.connection));
  if (!conn) return TargetEvent(fail, index, "connection '" + t.connection + "' was removed");
  SQLX_ASSIGN_OR_RETURN(LearnedName names, LearnedNameOf(*conn));
  SQLX_ASSIGN_OR_RETURN(std::optional<std::string> desired_json, records_->GetDesired(r.id));
  if (!desired_json) return MakeError(ErrorCode::kIo, "rollout " + r.id + ": its desired schema is not in the store");
  SQLX_ASSIGN_OR_RETURN(ir::Database desired, ir::FromJson(*desired_json));
  SQLX_ASSIGN_OR_RETURN(std::optional<storage::ConnectionRecord> server, store_->GetConnection(names.store_name));
  ir::Database from, to;
  if (revert) {
    SQLX_ASSIGN_OR_RETURN(std::optional<storage::SchemaRecord> original,
                          store_->GetSchemaVersion(names.store_name, t.database, t.from_version));
    if (!original)
      return TargetEvent(fail, index,
                         "its original schema (version " + std::to_string(t.from_version) + ") is not in the store");
    SQLX_ASSIGN_OR_RETURN(to, ir::FromJson(original->profile_json));
    from = std::move(desired);
    from.not_visible = to.not_visible;
  } else {
    SQLX_ASSIGN_OR_RETURN(std::optional<storage::SchemaRecord> learned,
                          store_->GetSchema(names.store_name, t.database));
    if (!learned)
      return TargetEvent(fail, index,
                         "no learned snapshot of " + name + ": learn it first (`sqlx fleet learn --connections " +
                             t.connection + "`), then resume");
    SQLX_ASSIGN_OR_RETURN(from, ir::FromJson(learned->profile_json));
    // What its learner could not see is the target's, not the desired
    // schema's: the worker learns it so after the apply too.
    to = std::move(desired);
    to.not_visible = from.not_visible;
    if (learned->profile_hash == ir::ProfileHash(to))
      return TargetEvent(Kind::kSkipped, index, "already at the desired hash");
    // Resumed after being held, it is planned from what is learned now.
    if (!t.replan && !t.from_hash.empty() && learned->profile_hash != t.from_hash)
      return TargetEvent(fail, index,
                         "its schema drifted from what the rollout expects: learned " + t.from_hash.substr(0, 12) +
                             " when the rollout was made, " + learned->profile_hash.substr(0, 12) +
                             " now; `sqlx rollout resume " + r.id + "` plans it from its learned schema as it is then");
    t.from_hash = learned->profile_hash;
    t.from_version = learned->version;
  }
  from.name = to.name = t.database;
  auto plan = PlanBetween(from, to, server);
  if (!plan.ok()) return TargetEvent(fail, index, "planning it failed: " + plan.error().message);
  if (plan->operations.empty())
    return TargetEvent(revert ? Kind::kReverted : Kind::kSkipped, index, "nothing to change");
  ApplyParams p;
  p.connection = t.connection;
  p.database = t.database;
  p.plan_json = planner::PlanToJson(*plan);
  p.allow_destructive = r.strategy.allow_destructive || revert;  // a revert drops what the rollout added
  p.allow_blocking = r.strategy.allow_blocking;
  // A revert cuts over at once: it undoes what the rollout did.
  p.postpone_cutover = !revert && r.strategy.PostponesCutover();
  SQLX_RETURN_IF_ERROR(QueueApplyJob(nullptr, r.id, t.job, p,
                                     json{{"rollout", r.id}, {"target", index}, {"revert", revert}}));
  return std::optional<RolloutEvent>();
}

Status Orchestrator::Impl::ReconcileRollout(Rollout& r, const std::vector<Rollout>& all) {
  if (r.state == RolloutState::kPending) {
    RolloutEvent start;
    start.kind = Kind::kStart;
    start.now_ns = UnixNowNs();
    return DriveRollout(r, start, nullptr, &all);
  }
  for (size_t i = 0; i < r.targets.size(); ++i) {
    const RolloutTarget& t = r.targets[i];
    const bool revert = t.state == TargetState::kReverting;
    if (t.state != TargetState::kApplying && t.state != TargetState::kCuttingOver && !revert) continue;
    SQLX_ASSIGN_OR_RETURN(std::optional<Job> job, records_->GetJob(t.job));
    std::optional<RolloutEvent> e;
    if (!job) {
      // Recorded as dispatched, never queued (a crash in between): now.
      SQLX_ASSIGN_OR_RETURN(e, DispatchTarget(r, i, JobKindOf(t)));
      if (!e) {
        Records::Batch batch;
        batch.Put(r);  // its from_hash, set by the dispatch
        SQLX_RETURN_IF_ERROR(records_->Write(batch, "recording rollout " + r.id));
        continue;
      }
    } else if (job->state == JobState::kDone && !revert && job->summary.value("result", "") == "copied") {
      // Its online copies are done, their swap postponed: the rollout cuts
      // them over in its window, or with its wave.
      e = TargetEvent(Kind::kCopied, i, "");
      SQLX_ASSIGN_OR_RETURN(std::vector<JobMigration> migrations, records_->ListMigrations(t.job));
      for (const JobMigration& m : migrations) {
        if (m.phase() == "copied") e->migrations.push_back(m.id());
      }
      if (e->migrations.empty())
        e = TargetEvent(Kind::kFailed, i, "its job " + t.job + " ended with its copies done, but no copied migration of it is recorded");
    } else if (job->state == JobState::kDone) {
      e = TargetEvent(revert ? Kind::kReverted : Kind::kApplied, i, "");
    } else if (job->state == JobState::kFailed && !revert && job->summary.value("result", "") == "drift") {
      e = TargetEvent(Kind::kHeld, i,
                      "the live schema drifted from its learned snapshot (live " +
                          job->summary.value("live_hash", "").substr(0, 12) +
                          "): learn it again (`sqlx fleet learn`), then resume");
    } else if (IsTerminal(job->state)) {
      e = TargetEvent(revert ? Kind::kRevertFailed : Kind::kFailed, i, job->error);
    }
    if (e && job && job->summary.contains("health") && job->summary["health"].is_object())
      e->health = TargetHealthFromJson(job->summary["health"]);
    if (e) SQLX_RETURN_IF_ERROR(DriveRollout(r, *e, nullptr, &all));
  }
  // A wait gate's time, or room on a server other rollouts filled.
  if (r.state == RolloutState::kGate || r.state == RolloutState::kRunning || r.state == RolloutState::kReverting) {
    RolloutEvent tick;
    tick.kind = Kind::kTick;
    tick.now_ns = UnixNowNs();
    return DriveRollout(r, tick, nullptr, &all);
  }
  return Status::Ok();
}

void Orchestrator::Impl::NotifyRollouts() {
  std::lock_guard<std::mutex> lock(rollout_mu_);
  rollout_wake_ = true;
  rollout_cv_.notify_one();
}

void Orchestrator::Impl::RolloutLoop() {
  while (!stopping_) {
    {
      std::unique_lock<std::mutex> lock(rollout_mu_);
      rollout_cv_.wait_for(lock, std::chrono::milliseconds(500), [this] { return rollout_wake_ || stopping_; });
      rollout_wake_ = false;
    }
    if (stopping_) break;
    std::lock_guard<std::mutex> lock(state_mu_);
    auto all = records_->ListRollouts();
    if (!all.ok()) {
      spdlog::warn("orchestrator: reading rollouts: {}", all.error().message);
      continue;
    }
    for (Rollout& r : *all) {
      if (!Unfinished(r)) continue;
      Status s = ReconcileRollout(r, *all);
      if (!s.ok()) spdlog::warn("orchestrator: rollout {}: {}", r.id, s.error().message);
    }
  }
}

}  // namespace sqlx::orchestrator
