// The actors against the real MariaDB (docs/actors.md): a learn through
// connection → learner → snapshot gives what flo gives directly and stores
// it; garbage envelopes are rejected with a reason while the actors keep
// serving; a job whose actor is killed mid-job is retried or reported
// failed, never lost.
#include <caf/all.hpp>
#include <flatbuffers/flatbuffers.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <future>
#include <optional>
#include <thread>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "apply_plan.h"
#include "envelope.h"
#include "jobs_generated.h"
#include "learn_work.h"
#include "query_work.h"
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

transports::ConnectionUrl RootUrl() { return sqlx::testing::Url("root", sqlx::testing::MariaDbRootPassword(), ""); }

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

// ---- Queries: rows streamed by the connection actor on demand ----

// A query's results as plain values: per result its columns, rows (NULL as
// nullopt) and completion, and how many batches carried the rows.
struct ReadResults {
  struct One {
    std::vector<std::string> columns;
    std::vector<std::vector<std::optional<std::string>>> rows;
    uint64_t affected_rows = 0;
    uint64_t warnings = 0;
    size_t batches = 0;
  };
  std::vector<One> results;
  std::optional<Error> error;
};

template <class Stream>
ReadResults ReadAll(Stream& stream) {
  ReadResults out;
  for (;;) {
    auto more = stream.NextResult();
    if (!more.ok()) {
      out.error = more.error();
      return out;
    }
    if (!*more) return out;
    ReadResults::One one;
    for (const transports::Column& c : stream.columns()) one.columns.push_back(c.name);
    if (stream.has_rows()) {
      for (;;) {
        auto batch = stream.NextBatch();
        if (!batch.ok()) {
          out.error = batch.error();
          return out;
        }
        if (*batch == nullptr) break;
        ++one.batches;
        for (size_t r = 0; r < (*batch)->rows(); ++r) {
          std::vector<std::optional<std::string>> row;
          for (size_t c = 0; c < (*batch)->columns(); ++c) {
            auto cell = (*batch)->cell(r, c);
            row.push_back(cell ? std::optional<std::string>(std::string(*cell)) : std::nullopt);
          }
          one.rows.push_back(std::move(row));
        }
      }
    }
    one.affected_rows = stream.completion().affected_rows;
    one.warnings = stream.completion().warnings;
    out.results.push_back(std::move(one));
  }
}

constexpr const char* kThreeResults =
    "SELECT seq AS n, IF(seq % 7 = 0, NULL, REPEAT(CHAR(65 + seq % 26), seq % 300)) AS s, '' AS e"
    " FROM mysql.seq_1_to_30000;"
    "DO 1;"
    "SELECT 'last' AS only";

TEST(ActorsQueryTest, StreamsEveryResultAndRowAsTheSessionReadsThem) {
  transports::SessionOptions options;
  options.on_greeting = flo::LearnSessionGreeting();  // multi-statements
  auto session = sqlx::testing::MustOpen(RootUrl(), options);
  ASSERT_NE(session, nullptr);
  auto direct_stream = session->Query(kThreeResults);
  ASSERT_TRUE(direct_stream.ok()) << direct_stream.error().ToString();
  const ReadResults direct = ReadAll(**direct_stream);
  ASSERT_FALSE(direct.error) << direct.error->ToString();
  ASSERT_EQ(direct.results.size(), 3u);

  System system;
  QueryRequest request;
  request.sql = kThreeResults;
  request.multi_statements = true;
  auto cursor = system.Query(RootUrl(), request);
  ASSERT_TRUE(cursor.ok()) << cursor.error().ToString();
  const ReadResults actors = ReadAll(**cursor);
  ASSERT_FALSE(actors.error) << actors.error->ToString();
  ASSERT_EQ(actors.results.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(actors.results[i].columns, direct.results[i].columns) << i;
    EXPECT_EQ(actors.results[i].rows, direct.results[i].rows) << i;
    EXPECT_EQ(actors.results[i].batches, direct.results[i].batches) << i;  // one step per session batch
  }
  EXPECT_EQ(actors.results[0].rows.size(), 30000u);
  EXPECT_GT(actors.results[0].batches, 1u) << "the rows came in one step: nothing was streamed";
  EXPECT_EQ(actors.results[0].rows[6][1], std::nullopt);  // seq 7: NULL
  EXPECT_EQ(actors.results[0].rows[0][2], std::optional<std::string>(""));  // empty, not NULL
  EXPECT_TRUE(actors.results[1].columns.empty());
  EXPECT_EQ(actors.results[2].rows, (std::vector<std::vector<std::optional<std::string>>>{{"last"}}));
}

TEST(ActorsQueryTest, NextResultPassesOverUnreadRowsAndACursorAtItsEndSaysSo) {
  System system;
  QueryRequest request;
  request.sql = "SELECT seq FROM mysql.seq_1_to_100000; SELECT 42 AS answer";
  request.multi_statements = true;
  auto cursor = system.Query(RootUrl(), request);
  ASSERT_TRUE(cursor.ok()) << cursor.error().ToString();
  QueryCursor& c = **cursor;
  ASSERT_TRUE(c.NextResult().value());
  auto first = c.NextBatch();
  ASSERT_TRUE(first.ok() && *first != nullptr);
  EXPECT_EQ((*first)->value(0, 0), "1");
  ASSERT_TRUE(c.NextResult().value());  // the 100000 rows' rest is passed over
  ASSERT_EQ(c.columns().size(), 1u);
  EXPECT_EQ(c.columns()[0].name, "answer");
  auto second = c.NextBatch();
  ASSERT_TRUE(second.ok() && *second != nullptr);
  EXPECT_EQ((*second)->value(0, 0), "42");
  EXPECT_EQ(c.NextBatch().value(), nullptr);
  EXPECT_FALSE(c.NextResult().value());
  EXPECT_FALSE(c.NextResult().value());  // and stays at its end
}

TEST(ActorsQueryTest, ErrorsComeFromTheCallThatMeetsThem) {
  System system;
  QueryRequest request;
  request.sql = "SELECT * FROM mysql.no_such_table";
  auto missing = system.Query(RootUrl(), request);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().server_code, 1146);

  request.sql = "SELECT 1; SELECT 2";  // multi_statements false: refused by the server, not run
  auto two = system.Query(RootUrl(), request);
  ASSERT_FALSE(two.ok());
  EXPECT_EQ(two.error().server_code, 1064);

  request.sql = "SELECT 1 AS one; SELECT * FROM mysql.no_such_table";
  request.multi_statements = true;
  auto later = system.Query(RootUrl(), request);
  ASSERT_TRUE(later.ok()) << later.error().ToString();
  ASSERT_TRUE((*later)->NextResult().value());
  auto failed = (*later)->NextResult();
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.error().server_code, 1146);
  EXPECT_FALSE((*later)->NextResult().ok());  // a failed cursor stays failed

  transports::ConnectionUrl wrong = sqlx::testing::Url("root", "not-the-password", "");
  request.sql = "SELECT 1";
  auto denied = system.Query(wrong, request);
  ASSERT_FALSE(denied.ok());
  EXPECT_THAT(denied.error().ToString(), ::testing::Not(HasSubstr("not-the-password")));

  request.sql = "";
  EXPECT_EQ(system.Query(RootUrl(), request).error().code, ErrorCode::kInvalidArgument);
}

TEST(ActorsPingTest, APingJobReportsTheSessionItOpened) {
  auto driver = CreateDriver(RootUrl(), DriverOptions{});
  ASSERT_TRUE(driver.ok()) << driver.error().ToString();
  auto direct = (*driver)->Ping();
  ASSERT_TRUE(direct.ok()) << direct.error().ToString();
  System system;
  auto first = system.Ping(RootUrl());
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  EXPECT_EQ(first->connection, RootUrl().ConnectionName());
  EXPECT_EQ(first->server_version, direct->server_version);
  EXPECT_EQ(first->auth_plugin, direct->auth_plugin);
  EXPECT_EQ(first->tls.active, direct->tls.active);
  EXPECT_EQ(first->tls.version, direct->tls.version);
  EXPECT_GT(first->connect_time.count(), 0);
  EXPECT_GT(first->rtt.count(), 0);
  EXPECT_FALSE(first->endpoint.empty());
  auto second = system.Ping(RootUrl());
  ASSERT_TRUE(second.ok());
  EXPECT_NE(second->connection_id, first->connection_id);  // each ping on a session of its own
  EXPECT_NE(second->connection_id, direct->connection_id);

  transports::ConnectionUrl wrong = sqlx::testing::Url("root", "not-the-password", "");
  auto denied = system.Ping(wrong);
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.error().server_code, 1045);
  EXPECT_THAT(denied.error().ToString(), ::testing::Not(HasSubstr("not-the-password")));
}

TEST(ActorsMigrationTest, AMigrationJobRunsTheRunnerOnTheConnectionsSessionAndCarriesItsOutcome) {
  {
    System without;
    auto refused = without.RunMigration(RootUrl(), MigrationRequest{"{}", "cutover", false});
    ASSERT_FALSE(refused.ok());
    EXPECT_EQ(refused.error().code, ErrorCode::kUnsupported);
  }
  SystemOptions options;
  std::vector<MigrationRequest> seen;
  options.migration_runner = [&](transports::Session& session, const transports::ConnectionUrl& url,
                                 const MigrationRequest& request) -> Result<MigrationOutcome> {
    seen.push_back(request);
    EXPECT_EQ(url.ConnectionName(), RootUrl().ConnectionName());
    // The runner works on a live session (multi-statements, as the online
    // engine's catalog reads want).
    auto stream = session.Query("SELECT 1; SELECT 2");
    if (!stream.ok()) return stream.error();
    if (request.action == "revert") return MigrationOutcome{"{\"phase\":\"cut-over\"}", MakeError(ErrorCode::kUnsupported, "rows differ")};
    if (request.action == "nonsense") return MakeError(ErrorCode::kInvalidArgument, "unknown action 'nonsense'");
    if (request.action == "throw") throw std::runtime_error("the runner broke");
    return MigrationOutcome{"{\"phase\":\"done\"}", std::nullopt};
  };
  System system(options);
  auto done = system.RunMigration(RootUrl(), MigrationRequest{"{\"phase\":\"copied\"}", "cutover", false});
  ASSERT_TRUE(done.ok()) << done.error().ToString();
  EXPECT_EQ(done->migration_json, "{\"phase\":\"done\"}");
  EXPECT_FALSE(done->error);
  auto failed = system.RunMigration(RootUrl(), MigrationRequest{"{}", "revert", true});
  ASSERT_TRUE(failed.ok()) << failed.error().ToString();
  ASSERT_TRUE(failed->error);
  EXPECT_EQ(failed->error->code, ErrorCode::kUnsupported);
  EXPECT_EQ(failed->error->message, "rows differ");
  EXPECT_EQ(failed->migration_json, "{\"phase\":\"cut-over\"}");
  auto unknown = system.RunMigration(RootUrl(), MigrationRequest{"{}", "nonsense", false});
  ASSERT_FALSE(unknown.ok());
  EXPECT_EQ(unknown.error().code, ErrorCode::kInvalidArgument);
  // A runner that throws is the call's error, not a wait without end.
  auto thrown = system.RunMigration(RootUrl(), MigrationRequest{"{}", "throw", false});
  ASSERT_FALSE(thrown.ok());
  EXPECT_THAT(thrown.error().message, HasSubstr("the runner broke"));
  ASSERT_EQ(seen.size(), 4u);
  EXPECT_EQ(seen[0].migration_json, "{\"phase\":\"copied\"}");
  EXPECT_EQ(seen[0].action, "cutover");
  EXPECT_TRUE(seen[1].force);
}

// White-box: the actors themselves, in an actor system of the test's own.
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

Envelope QueryJobEnvelope(const std::string& id, const std::string& sql, std::chrono::milliseconds idle = {}) {
  return MakeEnvelope(jobs::Kind::kQueryJob, QueryJob(id, QueryJobInfo{sql, "", idle}));
}
Envelope QueryNextEnvelope(const std::string& id, bool cancel = false) {
  return MakeEnvelope(jobs::Kind::kQueryNext, QueryNext(id, cancel));
}
// The QueryRows body of `e` (null, with a failure, when it is not one).
const fb::jobs::QueryRows* RowsOf(const Envelope& e) {
  if (e.kind != static_cast<uint16_t>(jobs::Kind::kQueryRows) || !jobs::Verify(jobs::Kind::kQueryRows, e.view()).ok()) {
    ADD_FAILURE() << "not a query-rows answer: kind " << e.kind
                  << (e.kind == static_cast<uint16_t>(jobs::Kind::kError) ? ": " + jobs::ReadError(e.view()).error.message
                                                                          : "");
    return nullptr;
  }
  return fb::jobs::GetEnvelope(e.bytes.data())->body_as_QueryRows();
}

TEST_F(ActorsTest, AJobSentWhileAQueryIsOpenWaitsForTheQueryToEnd) {
  ConnectionConfig config;
  config.url = RootUrl();
  caf::actor connection = SpawnConnection(sys_, config);
  const auto* first = RowsOf(Ask(connection, QueryJobEnvelope("q1", "SELECT seq FROM mysql.seq_1_to_200000")));
  ASSERT_NE(first, nullptr);
  ASSERT_FALSE(first->end_of_query());

  caf::scoped_actor self{sys_};
  self->send(connection, MakeEnvelope(jobs::Kind::kLearnServerJob, LearnServerJob("learn-behind", "")));
  bool answered_early = false;
  self->receive([&](Envelope&) { answered_early = true; }, caf::after(std::chrono::milliseconds(300)) >> [] {});
  EXPECT_FALSE(answered_early) << "a job ran on the session while a query was open on it";

  // Another query's QueryNext is refused while q1 is open; q1 goes on.
  EXPECT_THAT(ErrorOf(Ask(connection, QueryNextEnvelope("q2"))).error.message, HasSubstr("q1"));
  uint64_t rows = first->rows();
  int steps = 1;
  for (;;) {
    const Envelope reply = Ask(connection, QueryNextEnvelope("q1"));
    const auto* step = RowsOf(reply);
    ASSERT_NE(step, nullptr);
    ++steps;
    rows += step->rows();
    if (step->end_of_query()) break;
  }
  EXPECT_EQ(rows, 200000u);
  EXPECT_GT(steps, 3);
  Envelope learned;
  self->receive([&](Envelope& r) { learned = std::move(r); },
                caf::after(std::chrono::seconds(30)) >> [] { ADD_FAILURE() << "the waiting job never ran"; });
  EXPECT_EQ(learned.kind, static_cast<uint16_t>(jobs::Kind::kLearnedServer));
  // The query is over: its QueryNext is refused now, and a new one runs.
  EXPECT_THAT(ErrorOf(Ask(connection, QueryNextEnvelope("q1"))).error.message, HasSubstr("not open"));
  const auto* again = RowsOf(Ask(connection, QueryJobEnvelope("q3", "SELECT 7")));
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->rows(), 1u);
  EXPECT_EQ(DrainQuery(connection, "q3"), 0u);
  caf::anon_send_exit(connection, caf::exit_reason::user_shutdown);
}

// Number of sessions on the server running `sql_prefix` (from a session of
// the test's own).
int Running(const std::string& sql_prefix) {
  const std::string n = RootSql("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE '" + sql_prefix +
                                "%' AND ID <> CONNECTION_ID()");
  return n.empty() ? -1 : std::stoi(n);
}

TEST_F(ActorsTest, AQueryCancelledLeftIdleOrDroppedMidWayEndsOnTheServerAndTheConnectionServesOn) {
  // Each case drops a session mid-result: on a MariaDB of its own (see
  // AJobWhoseLearnerIsKilledMidJobIsRetried).
  testing::OwnMariaDb own;
  ASSERT_TRUE(own.error().empty()) << own.error();
  const std::string huge = "SELECT seq, REPEAT('x', 200) FROM mysql.seq_1_to_50000000";
  ConnectionConfig config;
  config.url = RootUrl();
  caf::actor connection = SpawnConnection(sys_, config);

  // Cancelled: answered with the end of the query; the next job runs.
  ASSERT_NE(RowsOf(Ask(connection, QueryJobEnvelope("cancelled", huge))), nullptr);
  const auto* end = RowsOf(Ask(connection, QueryNextEnvelope("cancelled", true)));
  ASSERT_NE(end, nullptr);
  EXPECT_TRUE(end->end_of_query());
  const auto* next = RowsOf(Ask(connection, QueryJobEnvelope("after-cancel", "SELECT 1")));
  ASSERT_NE(next, nullptr);
  EXPECT_EQ(next->rows(), 1u);
  EXPECT_EQ(DrainQuery(connection, "after-cancel"), 0u);

  // Left idle past its timeout: closed; its QueryNext is refused after.
  ASSERT_NE(RowsOf(Ask(connection, QueryJobEnvelope("idle", huge, std::chrono::milliseconds(200)))), nullptr);
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_THAT(ErrorOf(Ask(connection, QueryNextEnvelope("idle"))).error.message, HasSubstr("not open"));
  const auto* after_idle = RowsOf(Ask(connection, QueryJobEnvelope("after-idle", "SELECT 2")));
  ASSERT_NE(after_idle, nullptr);
  EXPECT_EQ(after_idle->rows(), 1u);
  EXPECT_EQ(DrainQuery(connection, "after-idle"), 0u);
  caf::anon_send_exit(connection, caf::exit_reason::user_shutdown);

  // A cursor dropped mid-way: its connection actor closes the session
  // instead of reading 50 million rows.
  {
    System system;
    QueryRequest request;
    request.sql = huge;
    auto cursor = system.Query(RootUrl(), request);
    ASSERT_TRUE(cursor.ok()) << cursor.error().ToString();
    ASSERT_TRUE((*cursor)->NextResult().value());
    ASSERT_NE((*cursor)->NextBatch().value(), nullptr);
    EXPECT_EQ(Running("SELECT seq, REPEAT"), 1);
  }
  int running = -1;
  for (int i = 0; i < 100 && running != 0; ++i) {
    running = Running("SELECT seq, REPEAT");
    if (running != 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(running, 0) << "the dropped query still runs on the server";
}

// Steps that contradict each other (a peer's bug or a forged buffer) fail
// the reader with a reason instead of handing out cells outside the step.
TEST(QueryStepsTest, ContradictoryStepsAreRefused) {
  auto step = [](std::function<void(fb::jobs::QueryRowsBuilder&, flatbuffers::FlatBufferBuilder&)> fill) {
    flatbuffers::FlatBufferBuilder b;
    auto cols = b.CreateVector(std::vector<flatbuffers::Offset<fb::jobs::ResultColumn>>{
        fb::jobs::CreateResultColumnDirect(b, "a"), fb::jobs::CreateResultColumnDirect(b, "b")});
    auto sizes = b.CreateVector(std::vector<uint32_t>{1, 0xFFFFFFFFu, 2, 1});
    auto data = b.CreateVector(std::vector<uint8_t>{'x', 'y', 'z', 'w'});
    (void)cols;
    fb::jobs::QueryRowsBuilder q(b);
    q.add_columns(cols);
    q.add_cell_sizes(sizes);
    q.add_data(data);
    fill(q, b);
    auto body = q.Finish();
    b.Finish(fb::jobs::CreateEnvelope(b, b.CreateString("q"), 1, fb::jobs::Body::QueryRows, body.Union()),
             fb::jobs::EnvelopeIdentifier());
    std::vector<uint8_t> bytes(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
    EXPECT_TRUE(jobs::Verify(jobs::Kind::kQueryRows, std::string_view(reinterpret_cast<const char*>(bytes.data()),
                                                                      bytes.size()))
                    .ok());
    return bytes;
  };
  auto view = [](const std::vector<uint8_t>& v) {
    return std::string_view(reinterpret_cast<const char*>(v.data()), v.size());
  };
  {
    QuerySteps steps;
    auto good = step([](auto& q, auto&) { q.add_has_rows(true); q.add_rows(2); });
    ASSERT_TRUE(steps.Take(view(good)).ok());
    EXPECT_EQ(steps.batch().rows(), 2u);
    EXPECT_EQ(steps.batch().value(0, 0), "x");
    EXPECT_TRUE(steps.batch().is_null(0, 1));
    EXPECT_EQ(steps.batch().value(1, 0), "yz");
    EXPECT_EQ(steps.batch().value(1, 1), "w");
  }
  struct Case {
    const char* name;
    std::function<void(fb::jobs::QueryRowsBuilder&, flatbuffers::FlatBufferBuilder&)> fill;
    const char* reason;
  };
  const std::vector<Case> cases = {
      {"too many rows for the cells", [](auto& q, auto&) { q.add_has_rows(true); q.add_rows(3); }, "cell sizes"},
      {"one row: bytes left over", [](auto& q, auto&) { q.add_has_rows(true); q.add_rows(1); }, "cell sizes"},
      {"rows without columns' result", [](auto& q, auto&) { q.add_rows(2); }, "without columns"},
      {"a later result first", [](auto& q, auto&) { q.add_result(1); q.add_has_rows(true); q.add_rows(2); }, "result 0 was due"},
  };
  for (const Case& c : cases) {
    QuerySteps steps;
    Status taken = steps.Take(view(step(c.fill)));
    ASSERT_FALSE(taken.ok()) << c.name;
    EXPECT_EQ(taken.error().code, ErrorCode::kProtocol) << c.name;
    EXPECT_THAT(taken.error().message, HasSubstr(c.reason)) << c.name;
  }
  {
    // A cell size past the step's bytes.
    flatbuffers::FlatBufferBuilder b;
    auto cols = b.CreateVector(std::vector<flatbuffers::Offset<fb::jobs::ResultColumn>>{
        fb::jobs::CreateResultColumnDirect(b, "a")});
    auto sizes = b.CreateVector(std::vector<uint32_t>{0xFFFFFFF0u});
    auto data = b.CreateVector(std::vector<uint8_t>{'x'});
    fb::jobs::QueryRowsBuilder q(b);
    q.add_columns(cols);
    q.add_has_rows(true);
    q.add_rows(1);
    q.add_cell_sizes(sizes);
    q.add_data(data);
    auto body = q.Finish();
    b.Finish(fb::jobs::CreateEnvelope(b, b.CreateString("q"), 1, fb::jobs::Body::QueryRows, body.Union()),
             fb::jobs::EnvelopeIdentifier());
    QuerySteps steps;
    Status taken = steps.Take(std::string_view(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize()));
    ASSERT_FALSE(taken.ok());
    EXPECT_THAT(taken.error().message, HasSubstr("reaches past"));
    EXPECT_EQ(steps.batch().rows(), 0u);
  }
}

}  // namespace
}  // namespace sqlx::actors
