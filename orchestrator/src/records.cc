#include "records.h"

#include <array>
#include <cstdlib>

#include "sqlx/messages/clock.h"
#include "sqlx/messages/hex.h"

namespace sqlx::orchestrator {

namespace {

using nlohmann::json;

constexpr std::string_view kConnPrefix = "conn/";
constexpr std::string_view kJobPrefix = "job/";
constexpr std::string_view kRunPrefix = "run/";
constexpr std::string_view kSchedulePrefix = "schedule/";
constexpr std::string_view kTokenPrefix = "token/";
constexpr std::string_view kSeenPrefix = "seen/";
constexpr std::string_view kLeasePrefix = "lease/";
constexpr std::string_view kPlanPrefix = "plan/";
constexpr std::string_view kRolloutPrefix = "rollout/";
constexpr std::string_view kDesiredPrefix = "desired/";
constexpr std::string_view kMigrationPrefix = "migration/";

std::string Key(std::string_view prefix, std::string_view id) { return std::string(prefix) + std::string(id); }

template <class T, class F>
Result<T> Decode(std::string_view key, const std::string& value, F&& from) {
  try {
    return from(json::parse(value));
  } catch (const std::exception& e) {
    return MakeError(ErrorCode::kIo, "fleet record " + std::string(key) + " does not decode: " + e.what() +
                                              " (the store was changed outside sqlx)");
  }
}

Result<FleetConnection> ConnectionFrom(const json& j) {
  FleetConnection c;
  c.name = j.at("name").get<std::string>();
  c.url = j.at("url").get<std::string>();
  SQLX_ASSIGN_OR_RETURN(c.sealed_password, HexDecode(j.value("sealed_password", "")));
  c.tags = j.value("tags", std::vector<std::string>{});
  c.created_ns = j.value("created_ns", int64_t{0});
  c.updated_ns = j.value("updated_ns", int64_t{0});
  return c;
}

json StoredJson(const FleetConnection& c) {
  json j = ToJson(c);
  j["sealed_password"] = HexEncode(c.sealed_password);
  return j;
}

Result<Job> JobFrom(const json& j) {
  Job o;
  o.id = j.at("id").get<std::string>();
  o.kind = j.at("kind").get<std::string>();
  o.run = j.value("run", "");
  o.connection = j.value("connection", "");
  o.databases = j.value("databases", std::vector<std::string>{});
  auto state = ParseJobState(j.value("state", ""));
  if (!state) return MakeError(ErrorCode::kIo, "job " + o.id + " has an unknown state");
  o.state = *state;
  o.worker = j.value("worker", "");
  o.deliveries = j.value("deliveries", uint64_t{0});
  o.stream_seq = j.value("stream_seq", uint64_t{0});
  o.created_ns = j.value("created_ns", int64_t{0});
  o.started_ns = j.value("started_ns", int64_t{0});
  o.heartbeat_ns = j.value("heartbeat_ns", int64_t{0});
  o.finished_ns = j.value("finished_ns", int64_t{0});
  o.error = j.value("error", "");
  if (j.contains("summary")) o.summary = j.at("summary");
  if (j.contains("params")) o.params = j.at("params");
  return o;
}

Result<Run> RunFrom(const json& j) {
  Run r;
  r.id = j.at("id").get<std::string>();
  r.kind = j.value("kind", "fleet-learn");
  r.connections = j.value("connections", std::vector<std::string>{});
  r.actor = j.value("actor", "");
  r.created_ns = j.value("created_ns", int64_t{0});
  r.published_ns = j.value("published_ns", int64_t{0});
  return r;
}

Result<Schedule> ScheduleFrom(const json& j) {
  Schedule s;
  s.id = j.at("id").get<std::string>();
  s.cron = j.at("cron").get<std::string>();
  s.connections = j.value("connections", std::vector<std::string>{});
  s.actor = j.value("actor", "");
  s.created_ns = j.value("created_ns", int64_t{0});
  s.next_ns = j.value("next_ns", int64_t{0});
  s.last_ns = j.value("last_ns", int64_t{0});
  s.last_run = j.value("last_run", "");
  return s;
}

Result<ApiToken> TokenFrom(const json& j) {
  ApiToken t;
  t.digest = j.at("digest").get<std::string>();
  t.subject = j.at("subject").get<std::string>();
  t.role = j.at("role").get<std::string>();
  t.created_ns = j.value("created_ns", int64_t{0});
  return t;
}

template <class T, class F>
Result<std::optional<T>> GetOne(storage::Store& store, std::string key, F&& from) {
  SQLX_ASSIGN_OR_RETURN(std::optional<std::string> value, store.GetFleet(key));
  if (!value) return std::optional<T>();
  SQLX_ASSIGN_OR_RETURN(T record, (Decode<T>(key, *value, from)));
  return std::optional<T>(std::move(record));
}

template <class T, class F>
Result<std::vector<T>> ListAll(storage::Store& store, std::string prefix, F&& from) {
  SQLX_ASSIGN_OR_RETURN(auto rows, store.ScanFleet(prefix));
  std::vector<T> out;
  out.reserve(rows.size());
  for (const auto& [key, value] : rows) {
    SQLX_ASSIGN_OR_RETURN(T record, (Decode<T>(key, value, from)));
    out.push_back(std::move(record));
  }
  return out;
}

}  // namespace

std::string_view JobStateName(JobState s) {
  switch (s) {
    case JobState::kQueued:
      return "queued";
    case JobState::kRunning:
      return "running";
    case JobState::kDone:
      return "done";
    case JobState::kFailed:
      return "failed";
    case JobState::kDead:
      return "dead";
  }
  return "unknown";
}

std::optional<JobState> ParseJobState(std::string_view s) {
  for (JobState state : {JobState::kQueued, JobState::kRunning, JobState::kDone, JobState::kFailed, JobState::kDead}) {
    if (JobStateName(state) == s) return state;
  }
  return std::nullopt;
}

nlohmann::json ToJson(const FleetConnection& c) {
  return json{{"name", c.name},          {"url", c.url},
              {"has_password", !c.sealed_password.empty()},
              {"tags", c.tags},          {"created_ns", c.created_ns},
              {"updated_ns", c.updated_ns}};
}

nlohmann::json ToJson(const Job& o) {
  return json{{"id", o.id},
              {"kind", o.kind},
              {"run", o.run},
              {"connection", o.connection},
              {"databases", o.databases},
              {"state", JobStateName(o.state)},
              {"worker", o.worker},
              {"deliveries", o.deliveries},
              {"stream_seq", o.stream_seq},
              {"created_ns", o.created_ns},
              {"started_ns", o.started_ns},
              {"heartbeat_ns", o.heartbeat_ns},
              {"finished_ns", o.finished_ns},
              {"error", o.error},
              {"summary", o.summary},
              {"params", o.params}};
}

nlohmann::json ToJson(const Run& r) {
  return json{{"id", r.id},         {"kind", r.kind},
              {"connections", r.connections}, {"actor", r.actor},
              {"created_ns", r.created_ns}, {"published_ns", r.published_ns}};
}

nlohmann::json ToJson(const Schedule& s) {
  return json{{"id", s.id},         {"cron", s.cron},         {"connections", s.connections},
              {"actor", s.actor},   {"created_ns", s.created_ns}, {"next_ns", s.next_ns},
              {"last_ns", s.last_ns}, {"last_run", s.last_run}};
}

nlohmann::json ToJson(const ApiToken& t) {
  return json{{"subject", t.subject}, {"role", t.role}, {"created_ns", t.created_ns}};
}

Result<std::optional<FleetConnection>> Records::GetConnection(std::string_view name) {
  return GetOne<FleetConnection>(store_, Key(kConnPrefix, name), ConnectionFrom);
}
Result<std::vector<FleetConnection>> Records::ListConnections() {
  return ListAll<FleetConnection>(store_, std::string(kConnPrefix), ConnectionFrom);
}
Result<std::optional<Job>> Records::GetJob(std::string_view id) {
  return GetOne<Job>(store_, Key(kJobPrefix, id), JobFrom);
}
Result<std::vector<Job>> Records::ListJobs(std::string_view id_prefix) {
  return ListAll<Job>(store_, Key(kJobPrefix, id_prefix), JobFrom);
}
Result<std::optional<Run>> Records::GetRun(std::string_view id) {
  return GetOne<Run>(store_, Key(kRunPrefix, id), RunFrom);
}
Result<std::vector<Run>> Records::ListRuns() { return ListAll<Run>(store_, std::string(kRunPrefix), RunFrom); }
Result<std::vector<Schedule>> Records::ListSchedules() {
  return ListAll<Schedule>(store_, std::string(kSchedulePrefix), ScheduleFrom);
}
Result<std::optional<Schedule>> Records::GetSchedule(std::string_view id) {
  return GetOne<Schedule>(store_, Key(kSchedulePrefix, id), ScheduleFrom);
}
Result<std::optional<ApiToken>> Records::GetToken(std::string_view digest) {
  return GetOne<ApiToken>(store_, Key(kTokenPrefix, digest), TokenFrom);
}
Result<std::vector<ApiToken>> Records::ListTokens() {
  return ListAll<ApiToken>(store_, std::string(kTokenPrefix), TokenFrom);
}
Result<std::optional<Lease>> Records::GetLease(std::string_view job_id) {
  return GetOne<Lease>(store_, Key(kLeasePrefix, job_id), [](const json& j) -> Result<Lease> {
    return Lease{j.at("job").get<std::string>(), j.at("holder").get<std::string>(), j.at("token").get<uint64_t>(),
                 j.at("expires_ns").get<int64_t>()};
  });
}
Result<std::optional<std::string>> Records::GetPlan(std::string_view job_id) {
  return store_.GetFleet(Key(kPlanPrefix, job_id));
}
Result<std::optional<Rollout>> Records::GetRollout(std::string_view id) {
  return GetOne<Rollout>(store_, Key(kRolloutPrefix, id), RolloutFromJson);
}
Result<std::vector<Rollout>> Records::ListRollouts() {
  return ListAll<Rollout>(store_, std::string(kRolloutPrefix), RolloutFromJson);
}
Result<std::optional<std::string>> Records::GetDesired(std::string_view rollout_id) {
  return store_.GetFleet(Key(kDesiredPrefix, rollout_id));
}
void Records::Batch::Put(const Rollout& r) {
  writes_.push_back({Key(kRolloutPrefix, r.id), RolloutToJson(r).dump()});
}
void Records::Batch::PutDesired(std::string_view rollout_id, std::string ir_json) {
  writes_.push_back({Key(kDesiredPrefix, rollout_id), std::move(ir_json)});
}
void Records::Batch::Put(const Lease& l) {
  writes_.push_back({Key(kLeasePrefix, l.job_id),
                     json{{"job", l.job_id}, {"holder", l.holder}, {"token", l.token}, {"expires_ns", l.expires_ns}}
                         .dump()});
}
void Records::Batch::PutPlan(std::string_view job_id, std::string plan_json) {
  writes_.push_back({Key(kPlanPrefix, job_id), std::move(plan_json)});
}

json ToJson(const JobMigration& m) {
  return json{{"job", m.job_id}, {"worker", m.worker}, {"token", m.token}, {"stored_ns", m.stored_ns},
              {"migration", m.migration}};
}
Result<std::vector<JobMigration>> Records::ListMigrations(std::string_view job_id) {
  const std::string prefix = job_id.empty() ? std::string(kMigrationPrefix) : Key(kMigrationPrefix, job_id) + "/";
  return ListAll<JobMigration>(store_, prefix, [](const json& j) -> Result<JobMigration> {
    return JobMigration{j.at("job").get<std::string>(), j.at("worker").get<std::string>(),
                        j.at("token").get<uint64_t>(), j.value("stored_ns", int64_t{0}), j.at("migration")};
  });
}
void Records::Batch::Put(const JobMigration& m) {
  writes_.push_back({Key(kMigrationPrefix, m.job_id) + "/" + m.id(), ToJson(m).dump()});
}
void Records::Batch::DeleteMigration(const JobMigration& m) {
  writes_.push_back({Key(kMigrationPrefix, m.job_id) + "/" + m.id(), std::nullopt});
}

Result<std::vector<std::pair<std::string, int64_t>>> Records::ListSeen() {
  SQLX_ASSIGN_OR_RETURN(auto rows, store_.ScanFleet(kSeenPrefix));
  std::vector<std::pair<std::string, int64_t>> out;
  out.reserve(rows.size());
  for (auto& [key, value] : rows) {
    out.emplace_back(key.substr(kSeenPrefix.size()), std::strtoll(value.c_str(), nullptr, 10));
  }
  return out;
}

Result<bool> Records::Seen(std::string_view marker) {
  SQLX_ASSIGN_OR_RETURN(std::optional<std::string> value, store_.GetFleet(Key(kSeenPrefix, marker)));
  return value.has_value();
}

void Records::Batch::Put(const FleetConnection& c) {
  writes_.push_back({Key(kConnPrefix, c.name), StoredJson(c).dump()});
}
void Records::Batch::Put(const Job& j) { writes_.push_back({Key(kJobPrefix, j.id), ToJson(j).dump()}); }
void Records::Batch::Put(const Run& r) { writes_.push_back({Key(kRunPrefix, r.id), ToJson(r).dump()}); }
void Records::Batch::Put(const Schedule& s) { writes_.push_back({Key(kSchedulePrefix, s.id), ToJson(s).dump()}); }
void Records::Batch::Put(const ApiToken& t) {
  json j = ToJson(t);
  j["digest"] = t.digest;
  writes_.push_back({Key(kTokenPrefix, t.digest), j.dump()});
}
void Records::Batch::MarkSeen(std::string_view marker) {
  writes_.push_back({Key(kSeenPrefix, marker), std::to_string(UnixNowNs())});
}
void Records::Batch::DeleteRun(std::string_view run_id) { writes_.push_back({Key(kRunPrefix, run_id), std::nullopt}); }
void Records::Batch::DeleteJob(std::string_view job_id) {
  for (std::string_view prefix : {kJobPrefix, kPlanPrefix, kLeasePrefix})
    writes_.push_back({Key(prefix, job_id), std::nullopt});
}
void Records::Batch::DeleteSeen(std::string_view marker) {
  writes_.push_back({Key(kSeenPrefix, marker), std::nullopt});
}
void Records::Batch::DeleteConnection(std::string_view name) {
  writes_.push_back({Key(kConnPrefix, name), std::nullopt});
}
void Records::Batch::DeleteSchedule(std::string_view id) {
  writes_.push_back({Key(kSchedulePrefix, id), std::nullopt});
}
void Records::Batch::DeleteToken(std::string_view digest) {
  writes_.push_back({Key(kTokenPrefix, digest), std::nullopt});
}

Status Records::Write(const Batch& batch, std::string_view what) {
  if (batch.writes_.empty()) return Status::Ok();
  Status s = store_.WriteFleet(batch.writes_);
  if (!s.ok()) return MakeError(s.error().code, std::string(what) + ": " + s.error().message);
  return Status::Ok();
}

Status ValidateConnectionName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 64;
  for (char c : name) {
    ok = ok && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                c == '.');
  }
  if (!ok)
    return MakeError(ErrorCode::kInvalidArgument, "connection name '" + std::string(name) +
                                                      "' must be 1 to 64 letters, digits, '_', '-' or '.'");
  return Status::Ok();
}

}  // namespace sqlx::orchestrator
