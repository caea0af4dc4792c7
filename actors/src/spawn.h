// The actors and how to start them (docs/actors.md). Every actor speaks
// Envelope only: it verifies what it receives (envelope.h) and answers every
// request with an Envelope, an Error one when it cannot do the job.
#pragma once

#include <caf/fwd.hpp>

#include <cstdint>
#include <functional>
#include <string_view>

#include "sqlx/actors/plan_runner.h"
#include "sqlx/actors/system.h"
#include "sqlx/storage/store.h"
#include "sqlx/transports/session.h"
#include "sqlx/transports/url.h"

namespace sqlx::actors {

// Registers Envelope (the one message type) and sets the scheduler's
// threads; CAF's own logging off. Every actor system that runs these actors
// is configured by it.
void ConfigureActorSystem(caf::actor_system_config& cfg, size_t scheduler_threads);

// connection: owns one transports::Session to `url` (opened on the first
// command, opened again after one that left it unusable) — and, with
// `learn_sessions` 2, a second one that learn-database jobs split their
// catalog queries over (its connect beside the first's) — and runs the
// session work of LearnServerJob, LearnDatabaseJob (learn_work.h) and
// ApplyPlanJob (apply_work.h, with `plan_runner`; refused when it is empty)
// one at a time, in mailbox order. Detached: it has a thread of its own, so
// its blocking socket I/O never holds a scheduler worker.
// `on_learn_progress`: called on the connection's thread as learn jobs move
// on (SystemOptions::on_learn_progress).
struct ConnectionConfig {
  transports::ConnectionUrl url;
  transports::SessionOptions session;
  PlanRunner plan_runner;
  MigrationRunner migration_runner;  // empty: MigrationJob is refused
  uint32_t learn_sessions = 1;
  std::function<void(const LearnStep&)> on_learn_progress;
};
caf::actor SpawnConnection(caf::actor_system& sys, const ConnectionConfig& config);

// snapshot: takes LearnedDatabases, checks each nested IR against its
// profile hash, stores them in the store in one atomic write
// (Store::PutSchemas) and answers LearnedDatabases with each entry's stored
// version and change; a LearnedServer (alone, or as a LearnedDatabases'
// `server`) is stored as the connection's record, its fingerprint salted
// with the store's salt when it came without one. Detached: the writes are
// synced to disk. `open_store` is called on the first message; the store it
// gives is not owned and must outlive the actor.
using StoreOpener = std::function<Result<storage::Store*>()>;
caf::actor SpawnSnapshot(caf::actor_system& sys, StoreOpener open_store);

// learner: takes a learn job, has the connection run it, passes a
// LearnedDatabases result whose job asked for it through `snapshot` (when
// valid), and answers with the result. Linked to `connection`: either
// exiting takes the other down. Event-based: it only waits.
caf::actor SpawnLearner(caf::actor_system& sys, const caf::actor& connection, const caf::actor& snapshot);

// apply: takes an ApplyPlanJob, has the connection run it (the plan runner
// on its session) and answers with the ApplyReport. Linked to `connection`.
// The learner's behavior without the snapshot step (worker.cc).
caf::actor SpawnApply(caf::actor_system& sys, const caf::actor& connection);

struct SupervisorConfig {
  ConnectionConfig connection;     // every attempt's connection actor (empty plan runner: apply jobs are answered kUnsupported)
  caf::actor* snapshot = nullptr;  // not owned; null or invalid: no storing
  // Runs of one job at most (the first included). Default 3.
  uint32_t max_attempts = 3;
  // Called on the supervisor's thread after each worker actor of an attempt
  // is spawned and handed the job ("connection", then "learner" or
  // "apply"). Default: none.
  std::function<void(std::string_view role, const caf::actor& actor, uint32_t attempt)> on_spawn;
};

// supervisor: takes learn and apply jobs for one connection and answers
// each with its result or an Error, never not at all. Every attempt gets a
// fresh connection and learner (or apply actor), monitored: an attempt whose actor exits (a crash,
// a kill) or that ends in a retryable Error is run again, up to
// max_attempts; then the job is answered with an Error naming why.
caf::actor SpawnSupervisor(caf::actor_system& sys, SupervisorConfig config);

}  // namespace sqlx::actors
