// The actor tests' shared parts: the server's root URL and the white-box
// fixture (an actor system of the test's own, asking actors directly).
#pragma once

#include <caf/all.hpp>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "envelope.h"
#include "jobs_generated.h"
#include "learn_work.h"
#include "mariadb_session.h"
#include "query_work.h"
#include "spawn.h"
#include "sqlx/flo/learn_database.h"
#include "test_env.h"

namespace sqlx::actors {

inline transports::ConnectionUrl RootUrl() {
  return sqlx::testing::Url("root", sqlx::testing::MariaDbRootPassword(), "");
}

// White-box: the actors themselves, in an actor system of the test's own
// (actors_test.cc, actors_query_test.cc).
class ActorsTest : public ::testing::Test {
 protected:
  static caf::actor_system_config& Config(caf::actor_system_config& cfg) {
    ConfigureActorSystem(cfg, 2);
    return cfg;
  }
  caf::actor_system_config cfg_;
  caf::actor_system sys_{Config(cfg_)};

  Envelope Ask(const caf::actor& to, Envelope e) {
    caf::scoped_actor self{sys_};
    Envelope out;
    self->request(to, std::chrono::seconds(60), std::move(e))
        .receive([&](Envelope& r) { out = std::move(r); },
                 [&](caf::error& err) { ADD_FAILURE() << sys_.render(err); });
    return out;
  }
  // Asks for query `id`'s next steps until its end; the rows they carried.
  uint64_t DrainQuery(const caf::actor& connection, const std::string& id) {
    uint64_t rows = 0;
    for (int steps = 0; steps < 100000; ++steps) {
      const Envelope reply = Ask(connection, MakeEnvelope(jobs::Kind::kQueryNext, QueryNext(id, false)));
      if (reply.kind != static_cast<uint16_t>(jobs::Kind::kQueryRows)) {
        ADD_FAILURE() << "query " << id << ": answered kind " << reply.kind;
        return rows;
      }
      const auto* step = fb::jobs::GetEnvelope(reply.bytes.data())->body_as_QueryRows();
      rows += step->rows();
      if (step->end_of_query()) return rows;
    }
    ADD_FAILURE() << "query " << id << " did not end";
    return rows;
  }
  static Envelope LearnJob(const std::string& id, const std::vector<std::string>& names) {
    return MakeEnvelope(jobs::Kind::kLearnDatabaseJob, LearnDatabaseJob(id, LearnRequest{names, false, false, false, false}));
  }
  static jobs::JobError ErrorOf(const Envelope& e) {
    EXPECT_EQ(e.kind, static_cast<uint16_t>(jobs::Kind::kError));
    EXPECT_TRUE(jobs::Verify(jobs::Kind::kError, e.view()).ok());
    if (e.kind != static_cast<uint16_t>(jobs::Kind::kError)) return {};
    return jobs::ReadError(e.view());
  }
  static std::string HashOf(const Envelope& e, size_t i) {
    EXPECT_EQ(e.kind, static_cast<uint16_t>(jobs::Kind::kLearnedDatabases));
    if (!jobs::Verify(jobs::Kind::kLearnedDatabases, e.view()).ok()) return "";
    const auto* body = fb::jobs::GetEnvelope(e.bytes.data())->body_as_LearnedDatabases();
    return body->databases()->Get(static_cast<uint32_t>(i))->profile_hash()->str();
  }
  SupervisorConfig Supervision(uint32_t max_attempts) {
    SupervisorConfig config;
    config.connection.url = RootUrl();
    config.connection.session.on_greeting = flo::LearnSessionGreeting();
    config.max_attempts = max_attempts;
    return config;
  }
};

}  // namespace sqlx::actors
