// The actors against the real MariaDB (docs/actors.md): a learn through
// connection → learner → snapshot gives what flo gives directly and stores
// it; garbage envelopes are rejected with a reason while the actors keep
// serving; a job whose actor is killed mid-job is retried or reported
// failed, never lost. Queries, pings and migration jobs: actors_query_test.cc.
#include <caf/all.hpp>
#include <flatbuffers/flatbuffers.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "actors_fixture.h"
#include "apply_plan.h"
#include "envelope.h"
#include "jobs_generated.h"
#include "learn_work.h"
#include "mariadb_session.h"
#include "own_mariadb.h"
#include "schema_fixtures.h"
#include "spawn.h"
#include "sqlx/actors/system.h"
#include "sqlx/apply.h"
#include "sqlx/driver.h"
#include "sqlx/flo/learn_database.h"
#include "sqlx/flo/learn_server.h"
#include "sqlx/messages/ir.h"
#include "sqlx/storage/store.h"
#include "temp_dir.h"
#include "test_env.h"

namespace sqlx::actors {
namespace {

using ::testing::HasSubstr;
using sqlx::testing::FixtureDatabases;
using sqlx::testing::RootSql;
using sqlx::testing::TempDir;


// Two small databases: a table with an index and a foreign key, a view.
std::vector<std::string> CreateShop(FixtureDatabases& dbs) {
  const std::string a = dbs.Create("actors_a");
  RootSql("CREATE TABLE customer (id INT PRIMARY KEY, email VARCHAR(100) NOT NULL, KEY (email));"
          "CREATE TABLE orders (id INT PRIMARY KEY, customer_id INT, total DECIMAL(10,2),"
          " FOREIGN KEY (customer_id) REFERENCES customer (id));"
          "CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100",
          a);
  const std::string b = dbs.Create("actors_b");
  RootSql("CREATE TABLE t (id BIGINT AUTO_INCREMENT PRIMARY KEY, note TEXT)", b);
  return {a, b};
}

std::vector<flo::LearnedDatabase> LearnDirectly(const std::vector<std::string>& names) {
  transports::SessionOptions options;
  options.on_greeting = flo::LearnSessionGreeting();
  auto session = sqlx::testing::MustOpen(RootUrl(), options);
  if (session == nullptr) return {};
  auto learned = flo::LearnDatabases(*session, names);
  EXPECT_TRUE(learned.ok()) << learned.error().ToString();
  return learned.ok() ? std::move(learned).value() : std::vector<flo::LearnedDatabase>{};
}

TEST(ActorsLearnTest, LearnsTheSameSchemasAsFloAndStoresThem) {
  FixtureDatabases dbs;
  std::vector<std::string> names = CreateShop(dbs);
  names.push_back(dbs.Name("actors_missing"));
  const std::vector<flo::LearnedDatabase> direct = LearnDirectly(names);
  ASSERT_EQ(direct.size(), 3u);

  TempDir dir("sqlx-actors-store-");
  auto store = storage::Store::Open({dir.path()});
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  SystemOptions options;
  options.store = store->get();
  System system(options);
  auto learned = system.LearnDatabases(RootUrl(), names);
  ASSERT_TRUE(learned.ok()) << learned.error().ToString();
  EXPECT_EQ(learned->connection, RootUrl().ConnectionName());
  EXPECT_EQ(learned->attempts, 1u);
  ASSERT_EQ(learned->databases.size(), 3u);
  for (size_t i = 0; i < 2; ++i) {
    const LearnedDatabase& got = learned->databases[i];
    ASSERT_FALSE(got.error) << got.error->ToString();
    EXPECT_EQ(got.name, names[i]);
    EXPECT_EQ(got.profile_hash, direct[i].profile_hash);
    EXPECT_EQ(ir::ToCanonicalJson(got.schema), direct[i].json);
    EXPECT_EQ(got.stored_version, 1u);
    EXPECT_EQ(got.change, "new");
    auto stored = (*store)->GetSchema(RootUrl().ConnectionName(), names[i]);
    ASSERT_TRUE(stored.ok() && stored->has_value());
    EXPECT_EQ((*stored)->profile_hash, direct[i].profile_hash);
    EXPECT_EQ((*stored)->profile_json, direct[i].json);
  }
  ASSERT_TRUE(learned->databases[2].error);
  EXPECT_EQ(learned->databases[2].error->code, ErrorCode::kNotFound);
  EXPECT_EQ(learned->databases[2].stored_version, 0u);

  // Learned again unchanged: the store keeps version 1.
  auto again = system.LearnDatabases(RootUrl(), {names[0]});
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(again->databases[0].change, "unchanged");
  EXPECT_EQ(again->databases[0].stored_version, 1u);
}

// What `sqlx learn` asks of the actors: the server first, then every
// database the server shows, on two sessions, stored by the snapshot actor
// in a store the caller opens while the server is learned (open_store).
TEST(ActorsLearnTest, LearnsTheServerAndEveryDatabaseOnTwoSessionsIntoALazilyOpenedStore) {
  FixtureDatabases dbs;
  std::vector<std::string> names = CreateShop(dbs);
  TempDir dir("sqlx-actors-store-");
  std::unique_ptr<storage::Store> store;
  int opened = 0;
  std::vector<LearnStep::Phase> phases;
  SystemOptions options;
  options.open_store = [&]() -> Result<storage::Store*> {
    ++opened;
    SQLX_ASSIGN_OR_RETURN(store, storage::Store::Open({dir.path()}));
    return store.get();
  };
  options.learn_sessions = 2;
  options.on_learn_progress = [&](const LearnStep& step) {
    if (phases.empty() || phases.back() != step.phase) phases.push_back(step.phase);
  };
  Result<LearnedDatabases> learned = MakeError(ErrorCode::kInternal, "not run");
  {
    System system(options);
    LearnRequest request;
    request.all_databases = true;
    request.learn_server = true;
    learned = system.Learn(RootUrl(), request);
  }
  ASSERT_TRUE(learned.ok()) << learned.error().ToString();
  EXPECT_EQ(opened, 1);
  EXPECT_EQ(phases, (std::vector<LearnStep::Phase>{LearnStep::Phase::kServer, LearnStep::Phase::kListing,
                                                  LearnStep::Phase::kCatalog, LearnStep::Phase::kBuilding}));
  EXPECT_GT(learned->catalog_statements, 0u);
  EXPECT_GT(learned->learn_time.count(), 0);
  // The server's record, its fingerprint salted with the store's salt.
  ASSERT_TRUE(learned->server.has_value());
  EXPECT_THAT(learned->server->capability_json, HasSubstr("\"flavor\":\"MariaDB\""));
  auto salt = store->FingerprintSalt();
  ASSERT_TRUE(salt.ok());
  auto expected = flo::FingerprintOf(RootUrl().Endpoint(), learned->server->server_version, *salt);
  ASSERT_TRUE(expected.ok());
  EXPECT_EQ(learned->server->fingerprint, *expected);
  auto record = store->GetConnection(RootUrl().ConnectionName());
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->server_fingerprint, *expected);
  EXPECT_EQ((*record)->capability_json, learned->server->capability_json);
  // Every database, the system schemas left out, each stored.
  const std::vector<flo::LearnedDatabase> direct = LearnDirectly(names);
  ASSERT_EQ(direct.size(), 2u);
  for (size_t i = 0; i < names.size(); ++i) {
    auto it = std::find_if(learned->databases.begin(), learned->databases.end(),
                           [&](const LearnedDatabase& db) { return db.name == names[i]; });
    ASSERT_NE(it, learned->databases.end()) << names[i];
    EXPECT_EQ(it->profile_hash, direct[i].profile_hash);
    EXPECT_EQ(it->change, "new");
    auto stored = store->GetSchema(RootUrl().ConnectionName(), names[i]);
    ASSERT_TRUE(stored.ok() && stored->has_value());
    EXPECT_EQ((*stored)->profile_json, direct[i].json);
  }
  for (const LearnedDatabase& db : learned->databases) EXPECT_NE(db.name, "mysql");
}

TEST(ActorsLearnTest, AStoreThatCannotBeOpenedFailsTheJobOnce) {
  SystemOptions options;
  int calls = 0;
  options.open_store = [&]() -> Result<storage::Store*> {
    ++calls;
    return MakeError(ErrorCode::kIo, "store /nowhere: cannot be opened");
  };
  System system(options);
  auto learned = system.LearnDatabases(RootUrl(), {"mysql"});
  ASSERT_FALSE(learned.ok());
  EXPECT_EQ(learned.error().code, ErrorCode::kIo);
  EXPECT_THAT(learned.error().message, HasSubstr("cannot be opened"));
  EXPECT_EQ(calls, 1);
  auto server = system.LearnServer(RootUrl(), "", /*store=*/true);
  ASSERT_FALSE(server.ok());
  EXPECT_EQ(calls, 1);  // not opened again
}

TEST(ActorsLearnTest, AFailedConnectIsTheCallsError) {
  transports::ConnectionUrl url = RootUrl();
  url.password = "wrong-password";
  SystemOptions options;
  options.max_attempts = 3;
  System system(options);
  auto learned = system.LearnDatabases(url, {"mysql"});
  ASSERT_FALSE(learned.ok());
  EXPECT_EQ(learned.error().code, ErrorCode::kAuth);  // not retryable: answered at once
}

TEST(ActorsLearnTest, LearnsTheServersCapabilitiesAndStoresThemWhenAsked) {
  System system;
  auto server = system.LearnServer(RootUrl(), "", /*store=*/false);
  ASSERT_TRUE(server.ok()) << server.error().ToString();
  EXPECT_THAT(server->capability_json, HasSubstr("\"flavor\":\"MariaDB\""));
  EXPECT_EQ(server->fingerprint, "");  // no salt, not stored
  EXPECT_THAT(server->databases, ::testing::Not(::testing::Contains("mysql")));  // system schemas left out

  TempDir dir("sqlx-actors-store-");
  auto store = storage::Store::Open({dir.path()});
  ASSERT_TRUE(store.ok()) << store.error().ToString();
  auto salt = (*store)->FingerprintSalt();
  ASSERT_TRUE(salt.ok());
  SystemOptions options;
  options.store = store->get();
  System storing(options);
  auto stored = storing.LearnServer(RootUrl(), *salt, /*store=*/true);
  ASSERT_TRUE(stored.ok()) << stored.error().ToString();
  EXPECT_EQ(stored->fingerprint.size(), 64u);
  auto record = (*store)->GetConnection(RootUrl().ConnectionName());
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->server_fingerprint, stored->fingerprint);
}

// The driver's ApplyPlan as the apply actor's runner (what the CLI will
// pass in: actors/ cannot link the driver, plan_runner.h).
PlanRunner DriverPlanRunner() {
  return [](transports::Session& session, const transports::ConnectionUrl& url,
            const ApplyRequest& request) -> Result<ApplySummary> {
    SQLX_ASSIGN_OR_RETURN(planner::Plan plan, planner::PlanFromJson(request.plan_json));
    ApplyOptions options;
    options.database = request.database;
    options.dry_run = request.dry_run;
    options.allow_destructive = request.allow_destructive;
    options.allow_blocking = request.allow_blocking;
    SQLX_ASSIGN_OR_RETURN(ApplyReport report, sqlx::ApplyPlan(session, url, plan, options));
    return ApplySummary{report.database,  ApplyResultName(report.result),
                        report.from_hash, report.to_hash,
                        report.live_hash, static_cast<uint32_t>(report.applied.size()),
                        report.failed_operation, ApplyReportToJson(report)};
  };
}

TEST(ActorsApplyTest, AppliesAPlanThroughTheApplyActorOnce) {
  FixtureDatabases dbs;
  const std::string live = dbs.Create("actors_apply");
  RootSql("CREATE TABLE t (id INT PRIMARY KEY)", live);
  const std::string desired = dbs.Create("actors_desired");
  RootSql("CREATE TABLE t (id INT PRIMARY KEY, note VARCHAR(20))", desired);
  const std::vector<flo::LearnedDatabase> sides = LearnDirectly({live, desired});
  ASSERT_EQ(sides.size(), 2u);
  auto driver = CreateDriver(RootUrl());
  ASSERT_TRUE(driver.ok()) << driver.error().ToString();
  auto plan = (*driver)->Diff(sides[0].schema, sides[1].schema);
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  ApplyRequest request;
  request.database = live;
  request.plan_json = planner::PlanToJson(*plan);

  SystemOptions options;
  options.plan_runner = DriverPlanRunner();
  System system(options);
  auto applied = system.ApplyPlan(RootUrl(), request);
  ASSERT_TRUE(applied.ok()) << applied.error().ToString();
  EXPECT_EQ(applied->result, "applied");
  EXPECT_EQ(applied->database, live);
  EXPECT_EQ(applied->live_hash, sides[1].profile_hash);
  EXPECT_EQ(applied->applied, 1u);
  EXPECT_THAT(applied->report_json, HasSubstr("\"result\":\"applied\""));
  EXPECT_EQ(LearnDirectly({live})[0].profile_hash, sides[1].profile_hash);

  auto again = system.ApplyPlan(RootUrl(), request);
  ASSERT_TRUE(again.ok()) << again.error().ToString();
  EXPECT_EQ(again->result, "already-applied");
  EXPECT_EQ(again->applied, 0u);
}

TEST(ActorsApplyTest, WithoutAPlanRunnerApplyIsUnsupported) {
  System system;
  auto applied = system.ApplyPlan(RootUrl(), ApplyRequest{"mysql", "{}", true, false, false});
  ASSERT_FALSE(applied.ok());
  EXPECT_EQ(applied.error().code, ErrorCode::kUnsupported);
}

// A runner that throws crashes the connection actor (CAF ends an actor whose
// handler throws); the job is retried on fresh actors, then reported.
TEST(ActorsApplyTest, AnActorThatThrowsMidJobHasItsJobRetriedThenReported) {
  auto calls = std::make_shared<std::atomic<int>>(0);
  SystemOptions options;
  options.max_attempts = 2;
  options.plan_runner = [calls](transports::Session&, const transports::ConnectionUrl&,
                                const ApplyRequest& request) -> Result<ApplySummary> {
    if (++*calls == 1 || request.database == "always-throws") throw std::runtime_error("runner blew up");
    ApplySummary s;
    s.database = request.database;
    s.result = "nothing-to-do";
    return s;
  };
  System system(options);
  auto second_time = system.ApplyPlan(RootUrl(), ApplyRequest{"mysql", "{}", true, false, false});
  ASSERT_TRUE(second_time.ok()) << second_time.error().ToString();
  EXPECT_EQ(second_time->result, "nothing-to-do");
  EXPECT_EQ(calls->load(), 2);

  auto never = system.ApplyPlan(RootUrl(), ApplyRequest{"always-throws", "{}", true, false, false});
  ASSERT_FALSE(never.ok());
  EXPECT_THAT(never.error().message, HasSubstr("after 2 attempt(s)"));
  EXPECT_THAT(never.error().message, HasSubstr("exited mid-job"));
  EXPECT_EQ(calls->load(), 4);
}


TEST_F(ActorsTest, GarbageEnvelopesAreRejectedWithAReasonAndTheActorsKeepServing) {
  FixtureDatabases dbs;
  const std::vector<std::string> names = CreateShop(dbs);
  const std::string hash = LearnDirectly({names[0]})[0].profile_hash;

  ConnectionConfig config;
  config.url = RootUrl();
  caf::actor connection = SpawnConnection(sys_, config);
  caf::actor supervisor = SpawnSupervisor(sys_, Supervision(1));
  const std::string garbage = "\x01\x02not a flatbuffer at all, just bytes";
  Envelope good = LearnJob("job-ok", {names[0]});
  Envelope wrong_tag = good;
  wrong_tag.kind = static_cast<uint16_t>(jobs::Kind::kApplyReport);
  Envelope truncated = good;
  truncated.bytes.resize(truncated.bytes.size() / 2);

  struct Case {
    const char* name;
    Envelope envelope;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"garbage", MakeEnvelope(jobs::Kind::kLearnDatabaseJob, garbage), "file identifier"},
      {"unknown kind", Envelope{999, good.bytes}, "unknown message kind 999"},
      {"a kind this actor does not take", wrong_tag, "does not take apply-report"},
      {"truncated", truncated, "verifier"},
      {"empty", Envelope{2, {}}, "too short"},
  };
  for (const caf::actor& actor : {connection, supervisor}) {
    for (const Case& c : cases) {
      jobs::JobError e = ErrorOf(Ask(actor, c.envelope));
      EXPECT_EQ(e.error.code, ErrorCode::kInvalidArgument) << c.name;
      EXPECT_THAT(e.error.message, HasSubstr(c.reason)) << c.name;
      EXPECT_FALSE(e.retryable) << c.name;
    }
    EXPECT_EQ(HashOf(Ask(actor, good), 0), hash);  // still serving
  }
  // A message of another type is CAF's unexpected_message, not a crash.
  {
    caf::scoped_actor self{sys_};
    bool failed = false;
    self->request(connection, std::chrono::seconds(10), 42).receive([](int) {}, [&](caf::error&) { failed = true; });
    EXPECT_TRUE(failed);
  }
  EXPECT_EQ(HashOf(Ask(connection, LearnJob("job-after", {names[0]})), 0), hash);
  caf::anon_send_exit(connection, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
}

// Kills attempt 1's `role` actor right after it was handed the job.
SupervisorConfig KillFirst(SupervisorConfig config, const char* role, std::shared_ptr<int> kills) {
  config.on_spawn = [role, kills](std::string_view r, const caf::actor& actor, uint32_t attempt) {
    if (r == role && attempt == 1) {
      ++*kills;
      caf::anon_send_exit(actor, caf::exit_reason::kill);
    }
  };
  return config;
}

TEST_F(ActorsTest, AJobWhoseLearnerIsKilledMidJobIsRetried) {
  // An actor killed mid-job drops its connection mid-query: on a MariaDB of
  // its own, so that the server crash this can trigger in MariaDB 10.11.19
  // (tests/support/own_mariadb.h) cannot take the shared one down.
  testing::OwnMariaDb own;
  ASSERT_TRUE(own.error().empty()) << own.error();
  FixtureDatabases dbs;
  const std::vector<std::string> names = CreateShop(dbs);
  const std::string hash = LearnDirectly({names[1]})[0].profile_hash;
  auto kills = std::make_shared<int>(0);
  caf::actor supervisor = SpawnSupervisor(sys_, KillFirst(Supervision(3), "learner", kills));
  Envelope reply = Ask(supervisor, LearnJob("job-retried", {names[1]}));
  EXPECT_EQ(*kills, 1);
  EXPECT_EQ(HashOf(reply, 0), hash);
  EXPECT_EQ(jobs::ReadHeader(reply.view()).attempt, 2u);
  EXPECT_EQ(jobs::ReadHeader(reply.view()).job_id, "job-retried");
  caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
}

TEST_F(ActorsTest, AJobWhoseActorIsKilledWithNoRetryLeftIsReportedFailed) {
  // An actor killed mid-job drops its connection mid-query: on a MariaDB of
  // its own, so that the server crash this can trigger in MariaDB 10.11.19
  // (tests/support/own_mariadb.h) cannot take the shared one down.
  testing::OwnMariaDb own;
  ASSERT_TRUE(own.error().empty()) << own.error();
  FixtureDatabases dbs;
  const std::vector<std::string> names = CreateShop(dbs);
  for (const char* role : {"learner", "connection"}) {
    auto kills = std::make_shared<int>(0);
    caf::actor supervisor = SpawnSupervisor(sys_, KillFirst(Supervision(1), role, kills));
    Envelope reply = Ask(supervisor, LearnJob(std::string("job-lost-") + role, {names[0]}));
    EXPECT_EQ(*kills, 1) << role;
    jobs::JobError e = ErrorOf(reply);
    EXPECT_THAT(e.error.message, HasSubstr("after 1 attempt(s)")) << role;
    EXPECT_THAT(e.error.message, HasSubstr("exited")) << role;
    EXPECT_FALSE(e.retryable) << role;
    EXPECT_EQ(jobs::ReadHeader(reply.view()).job_id, std::string("job-lost-") + role);
    caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
  }
}

TEST_F(ActorsTest, ASecondJobWithARunningJobsIdIsRefused) {
  FixtureDatabases dbs;
  const std::vector<std::string> names = CreateShop(dbs);
  caf::actor supervisor = SpawnSupervisor(sys_, Supervision(1));
  caf::scoped_actor self{sys_};
  self->send(supervisor, LearnJob("same", {names[0]}));
  self->send(supervisor, LearnJob("same", {names[0]}));
  int learned = 0, refused = 0;
  for (int i = 0; i < 2; ++i) {
    self->receive([&](Envelope& r) {
      if (r.kind == static_cast<uint16_t>(jobs::Kind::kLearnedDatabases)) ++learned;
      if (r.kind == static_cast<uint16_t>(jobs::Kind::kError)) {
        ++refused;
        EXPECT_THAT(jobs::ReadError(r.view()).error.message, HasSubstr("already running"));
      }
    });
  }
  EXPECT_EQ(learned, 1);
  EXPECT_EQ(refused, 1);
  caf::anon_send_exit(supervisor, caf::exit_reason::user_shutdown);
}

}  // namespace
}  // namespace sqlx::actors
