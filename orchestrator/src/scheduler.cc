// Cron schedules of org-wide learning (docs/formats/cron.md): persisted with
// their next fire time, so a restart keeps them. A fire missed while the
// orchestrator was down runs once when it comes back, then the schedule
// continues from now.
#include <spdlog/spdlog.h>

#include "orchestrator_impl.h"
#include "sqlx/messages/clock.h"
#include "sqlx/messages/hex.h"
#include "sqlx/orchestrator/cron.h"

namespace sqlx::orchestrator {

namespace {

using nlohmann::json;

std::string NewScheduleId() { return "sch-" + RandomHex(5); }

}  // namespace

Result<Schedule> Orchestrator::Impl::AddSchedule(const Caller& caller, const std::string& cron,
                                                 const std::vector<std::string>& connections) {
  SQLX_ASSIGN_OR_RETURN(CronSchedule parsed, ParseCron(cron));
  std::lock_guard<std::mutex> lock(state_mu_);
  for (const std::string& name : connections) {
    SQLX_ASSIGN_OR_RETURN(std::optional<FleetConnection> c, records_->GetConnection(name));
    if (!c) return MakeError(ErrorCode::kNotFound, "no connection named '" + name + "' (see `sqlx connections list`)");
  }
  Schedule s;
  s.id = NewScheduleId();
  s.cron = parsed.canonical();
  s.connections = connections;
  s.actor = caller.subject;
  s.created_ns = UnixNowNs();
  s.next_ns = parsed.NextAfter(s.created_ns).value_or(0);
  if (s.next_ns == 0)
    return MakeError(ErrorCode::kInvalidArgument, "cron \"" + s.cron + "\" never fires within five years");
  Records::Batch batch;
  batch.Put(s);
  SQLX_RETURN_IF_ERROR(records_->Write(batch, "writing schedule " + s.id));
  SQLX_RETURN_IF_ERROR(RecordAudit(&caller, "schedule.created", {}, nullptr,
                                   json{{"id", s.id}, {"cron", s.cron}, {"connections", s.connections},
                                        {"next", Rfc3339(s.next_ns, 0)}}));
  return s;
}

Status Orchestrator::Impl::RemoveSchedule(const Caller& caller, const std::string& id) {
  std::lock_guard<std::mutex> lock(state_mu_);
  SQLX_ASSIGN_OR_RETURN(std::optional<Schedule> s, records_->GetSchedule(id));
  if (!s) return MakeError(ErrorCode::kNotFound, "no schedule '" + id + "' (see `sqlx schedule list`)");
  Records::Batch batch;
  batch.DeleteSchedule(id);
  SQLX_RETURN_IF_ERROR(records_->Write(batch, "removing schedule " + id));
  return RecordAudit(&caller, "schedule.removed", {}, nullptr, json{{"id", id}, {"cron", s->cron}});
}

void Orchestrator::Impl::SchedulerLoop() {
  for (uint64_t tick = 1; !stopping_; ++tick) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    if (tick % 8 == 0) RetryUnpublished();  // every 2 s
    auto all = records_->ListSchedules();
    if (!all.ok()) {
      spdlog::warn("orchestrator: reading schedules: {}", all.error().message);
      continue;
    }
    const int64_t now = UnixNowNs();
    for (Schedule& s : *all) {
      if (s.next_ns == 0 || s.next_ns > now) continue;
      auto parsed = ParseCron(s.cron);
      if (!parsed.ok()) {
        spdlog::warn("orchestrator: schedule {}: {}", s.id, parsed.error().message);
        continue;
      }
      auto run = StartLearn("schedule:" + s.id, s.connections, nullptr);
      if (!run.ok()) spdlog::warn("orchestrator: schedule {} could not start a learn: {}", s.id, run.error().message);
      std::lock_guard<std::mutex> lock(state_mu_);
      // Re-read: the schedule may have been removed meanwhile.
      auto current = records_->GetSchedule(s.id);
      if (!current.ok() || !current->has_value()) continue;
      s.last_ns = now;
      s.last_run = run.ok() ? run->id : "";
      s.next_ns = parsed->NextAfter(now).value_or(0);
      Records::Batch batch;
      batch.Put(s);
      Status w = records_->Write(batch, "advancing schedule " + s.id);
      if (!w.ok()) spdlog::warn("orchestrator: {}", w.error().message);
    }
  }
}

}  // namespace sqlx::orchestrator
