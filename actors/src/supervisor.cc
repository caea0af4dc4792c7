// The supervisor actor (spawn.h): every job is answered, by its result or by
// an Error; an attempt whose actors exit is noticed (monitors) and retried
// within bounds.
#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <map>
#include <string>

#include "envelope.h"
#include "spawn.h"

namespace sqlx::actors {
namespace {

struct Job {
  Envelope envelope;
  caf::typed_response_promise<Envelope> promise;
  uint32_t attempt = 0;
  caf::actor connection, worker;  // worker: the learner or apply actor
};

struct SupervisorState {
  SupervisorConfig config;
  std::map<std::string, Job> jobs;                  // by job id
  std::map<caf::actor_addr, std::string> watching;  // a worker → its job id
  static inline const char* name = "sqlx.supervisor";
};

using Self = caf::stateful_actor<SupervisorState>;

void Start(Self* self, const std::string& id);

// Ends the attempt's actors; their exits are no longer the job's concern.
void StopWorkers(Self* self, Job& job) {
  for (caf::actor* a : {&job.worker, &job.connection}) {
    if (!*a) continue;
    self->demonitor(*a);
    self->state.watching.erase(a->address());
    caf::anon_send_exit(*a, caf::exit_reason::user_shutdown);
    *a = caf::actor();
  }
}

void Answer(Self* self, const std::string& id, Envelope reply) {
  auto it = self->state.jobs.find(id);
  StopWorkers(self, it->second);
  it->second.promise.deliver(std::move(reply));
  self->state.jobs.erase(it);
}

// Attempt `attempt` of job `id` failed with `error`: run it again while
// attempts remain and the failure may pass, else answer with the error.
void AttemptFailed(Self* self, const std::string& id, uint32_t attempt, const Error& error, bool retryable) {
  auto it = self->state.jobs.find(id);
  if (it == self->state.jobs.end() || it->second.attempt != attempt) return;  // already handled
  const uint32_t max = self->state.config.max_attempts;
  if (retryable && attempt < max) {
    spdlog::warn("supervisor: job {} attempt {} of {} failed, retrying: {}", id, attempt, max, error.message);
    StopWorkers(self, it->second);
    Start(self, id);
    return;
  }
  spdlog::warn("supervisor: job {} failed after {} attempt(s): {}", id, attempt, error.message);
  Error final_error = error;
  if (retryable) final_error.message = "after " + std::to_string(attempt) + " attempt(s): " + error.message;
  Answer(self, id, ErrorReply(id, attempt, final_error, false));
}

void Start(Self* self, const std::string& id) {
  Job& job = self->state.jobs.at(id);
  const uint32_t attempt = ++job.attempt;
  jobs::SetAttempt(job.envelope.bytes.data(), attempt);  // stored: every job is written with attempt 1
  const SupervisorConfig& config = self->state.config;
  const bool apply = job.envelope.kind == static_cast<uint16_t>(jobs::Kind::kApplyPlanJob);
  job.connection = SpawnConnection(self->system(), config.connection);
  job.worker = apply ? SpawnApply(self->system(), job.connection)
                     : SpawnLearner(self->system(), job.connection,
                                    config.snapshot != nullptr ? *config.snapshot : caf::actor());
  for (caf::actor* a : {&job.connection, &job.worker}) {
    self->monitor(*a);
    self->state.watching[a->address()] = id;
  }
  self->request(job.worker, caf::infinite, job.envelope)
      .then(
          [self, id, attempt](Envelope& reply) {
            if (reply.kind == static_cast<uint16_t>(jobs::Kind::kError) &&
                jobs::Verify(jobs::Kind::kError, reply.view()).ok()) {
              jobs::JobError e = jobs::ReadError(reply.view());
              if (e.retryable) return AttemptFailed(self, id, attempt, e.error, true);
            }
            auto it = self->state.jobs.find(id);
            if (it != self->state.jobs.end() && it->second.attempt == attempt) Answer(self, id, std::move(reply));
          },
          [self, id, attempt, apply](caf::error& err) {
            AttemptFailed(self, id, attempt,
                          MakeError(ErrorCode::kInternal, std::string(apply ? "the apply" : "the learner") + " actor did not answer: " + self->system().render(err)),
                          true);
          });
  if (config.on_spawn) {
    config.on_spawn("connection", job.connection, attempt);
    config.on_spawn(apply ? "apply" : "learner", job.worker, attempt);
  }
}

caf::behavior Supervisor(Self* self, SupervisorConfig config) {
  self->state.config = std::move(config);
  self->set_down_handler([self](caf::down_msg& down) {
    auto w = self->state.watching.find(down.source);
    if (w == self->state.watching.end()) return;
    const std::string id = w->second;
    const auto it = self->state.jobs.find(id);
    if (it == self->state.jobs.end()) return;
    const bool apply = it->second.envelope.kind == static_cast<uint16_t>(jobs::Kind::kApplyPlanJob);
    const char* role = down.source != it->second.worker.address() ? "connection" : apply ? "apply" : "learner";
    AttemptFailed(self, id, it->second.attempt,
                  MakeError(ErrorCode::kInternal,
                            std::string("the ") + role + " actor exited mid-job: " + self->system().render(down.reason)),
                  true);
  });
  return {
      [self](Envelope& e) -> caf::result<Envelope> {
        auto header = Accept(e, "supervisor",
                             {jobs::Kind::kLearnServerJob, jobs::Kind::kLearnDatabaseJob, jobs::Kind::kApplyPlanJob});
        if (!header.ok()) return ErrorReply("", 0, header.error(), false);
        if (header->job_id.empty() || self->state.jobs.count(header->job_id) != 0) {
          return ErrorReply(*header, MakeError(ErrorCode::kInvalidArgument,
                                               "job id '" + header->job_id + "' is empty or already running"));
        }
        auto promise = self->make_response_promise<Envelope>();
        self->state.jobs[header->job_id] = Job{std::move(e), promise, 0, {}, {}};
        Start(self, header->job_id);
        return promise;
      },
  };
}

}  // namespace

caf::actor SpawnSupervisor(caf::actor_system& sys, SupervisorConfig config) {
  return sys.spawn(Supervisor, std::move(config));
}

}  // namespace sqlx::actors
