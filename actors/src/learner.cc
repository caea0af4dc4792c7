// The learner actor (spawn.h).
#include <caf/all.hpp>

#include "envelope.h"
#include "jobs_generated.h"
#include "spawn.h"

namespace sqlx::actors {
namespace {
namespace fb = ::sqlx::fb::jobs;

caf::behavior Learner(caf::event_based_actor* self, caf::actor connection, caf::actor snapshot) {
  self->link_to(connection);
  return {
      [self, connection, snapshot](Envelope& e) -> caf::result<Envelope> {
        auto header = Accept(e, "learner", {jobs::Kind::kLearnServerJob, jobs::Kind::kLearnDatabaseJob});
        if (!header.ok()) return ErrorReply("", 0, header.error(), false);
        const bool store = header->kind == jobs::Kind::kLearnDatabaseJob && static_cast<bool>(snapshot) &&
                           fb::GetEnvelope(e.bytes.data())->body_as_LearnDatabaseJob()->store();
        auto rp = self->make_response_promise<Envelope>();
        const jobs::Header h = *header;
        auto failed = [self, rp, h](std::string_view who, const caf::error& err) mutable {
          rp.deliver(ErrorReply(h, MakeError(ErrorCode::kInternal, std::string(who) + " actor: " +
                                                                       self->system().render(err))));
        };
        self->request(connection, caf::infinite, std::move(e))
            .then(
                [self, rp, store, snapshot, failed](Envelope& result) mutable {
                  if (!store || result.kind != static_cast<uint16_t>(jobs::Kind::kLearnedDatabases)) {
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
  return sys.spawn(Learner, connection, snapshot);
}

}  // namespace sqlx::actors
