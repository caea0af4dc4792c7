// The learner and apply actors (spawn.h): one behavior, two roles. Each
// takes its jobs, has its connection run them, and (learner, when the job
// asks) passes the result through the snapshot actor before answering.
#include <caf/all.hpp>

#include <string>
#include <vector>

#include "envelope.h"
#include "jobs_generated.h"
#include "spawn.h"

namespace sqlx::actors {
namespace {
namespace fb = ::sqlx::fb::jobs;

// Whether a (verified) learn job asks for its result to be stored.
bool StoreAsked(jobs::Kind kind, const Envelope& e) {
  const fb::Envelope* env = fb::GetEnvelope(e.bytes.data());
  if (kind == jobs::Kind::kLearnDatabaseJob) return env->body_as_LearnDatabaseJob()->store();
  if (kind == jobs::Kind::kLearnServerJob) return env->body_as_LearnServerJob()->store();
  return false;
}

caf::behavior Worker(caf::event_based_actor* self, std::string role, std::vector<jobs::Kind> kinds,
                     caf::actor connection, caf::actor snapshot) {
  self->link_to(connection);
  return {
      [self, role, kinds, connection, snapshot](Envelope& e) -> caf::result<Envelope> {
        auto header = Accept(e, role, kinds);
        if (!header.ok()) return ErrorReply("", 0, header.error(), false);
        const bool store = static_cast<bool>(snapshot) && StoreAsked(header->kind, e);
        auto rp = self->make_response_promise<Envelope>();
        const jobs::Header h = *header;
        // A request to a linked or helper actor fails when that actor exited
        // (a crash, a kill): retryable, the supervisor runs the job again.
        auto failed = [self, rp, h](std::string_view who, const caf::error& err) mutable {
          rp.deliver(ErrorReply(h.job_id, h.attempt,
                                MakeError(ErrorCode::kInternal, "the " + std::string(who) + " actor exited mid-job: " +
                                                                    self->system().render(err)),
                                true));
        };
        self->request(connection, caf::infinite, std::move(e))
            .then(
                [self, rp, store, snapshot, failed](Envelope& result) mutable {
                  if (!store || (result.kind != static_cast<uint16_t>(jobs::Kind::kLearnedDatabases) &&
                                 result.kind != static_cast<uint16_t>(jobs::Kind::kLearnedServer))) {
                    rp.deliver(std::move(result));
                    return;
                  }
                  self->request(snapshot, caf::infinite, std::move(result))
                      .then([rp](Envelope& stored) mutable { rp.deliver(std::move(stored)); },
                            [failed](caf::error& err) mutable { failed("snapshot", err); });
                },
                [failed](caf::error& err) mutable { failed("connection", err); });
        return rp;
      },
  };
}

}  // namespace

caf::actor SpawnLearner(caf::actor_system& sys, const caf::actor& connection, const caf::actor& snapshot) {
  return sys.spawn(Worker, "learner", std::vector<jobs::Kind>{jobs::Kind::kLearnServerJob, jobs::Kind::kLearnDatabaseJob},
                   connection, snapshot);
}

caf::actor SpawnApply(caf::actor_system& sys, const caf::actor& connection) {
  return sys.spawn(Worker, "apply", std::vector<jobs::Kind>{jobs::Kind::kApplyPlanJob}, connection, caf::actor());
}

}  // namespace sqlx::actors
