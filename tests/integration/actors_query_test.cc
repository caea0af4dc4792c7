// The connection actor's queries, pings and migration jobs against the real
// MariaDB (docs/actors.md, "Queries: rows on demand"): results streamed on
// demand equal the session's own reading; other jobs wait behind an open
// query; cancelled, idle and dropped queries end on the server; steps that
// do not add up are refused.
#include <caf/all.hpp>
#include <flatbuffers/flatbuffers.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "actors_fixture.h"
#include "envelope.h"
#include "jobs_generated.h"
#include "learn_work.h"
#include "mariadb_session.h"
#include "own_mariadb.h"
#include "query_work.h"
#include "schema_fixtures.h"
#include "spawn.h"
#include "sqlx/actors/system.h"
#include "sqlx/driver.h"
#include "sqlx/flo/learn_database.h"
#include "test_env.h"

namespace sqlx::actors {
namespace {

using ::testing::HasSubstr;
using sqlx::testing::RootSql;

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
