// Session against the scripted fake MySQL server (tests/support/
// fake_mysql_server.py) when the server misbehaves: hostile or broken bytes
// are an error, never a crash or a hang; a server error mid-result keeps the
// session.
//
// Each test starts one server process for one scenario, checks what the
// client saw, then checks what the server saw: its exit status (0 = it
// verified what the scenario expects) and its `OK:` / `FAIL:` line on stderr.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "fake_server.h"

namespace sqlx::transports {
namespace {

using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using sqlx::testing::FakeServerTest;
using sqlx::testing::QueryOutcome;
using sqlx::testing::RunQuery;

// ---------------------------------------------------------------------------
// Hostile or broken server bytes: an error, never a crash or a hang

using HostileServerTest = FakeServerTest;

TEST_F(HostileServerTest, CloseMidHandshakeIsReportedAsClosedNamingTheEndpoint) {
  ASSERT_NO_FATAL_FAILURE(StartServer("close_mid_handshake"));
  auto session = Connect();
  ASSERT_FALSE(session.ok());
  const Error& e = session.error();
  EXPECT_EQ(e.code, ErrorCode::kClosed) << e.ToString();
  EXPECT_THAT(e.message, AllOf(HasSubstr(Endpoint()), HasSubstr("closed the connection")));
  ExpectServerOk("read handshake response, closed without replying");
}

TEST_F(HostileServerTest, TruncatedGreetingIsReportedAsClosedMidPacket) {
  ASSERT_NO_FATAL_FAILURE(StartServer("truncated_greeting"));
  auto session = Connect();
  ASSERT_FALSE(session.ok());
  const Error& e = session.error();
  EXPECT_THAT(e.code, AnyOf(ErrorCode::kClosed, ErrorCode::kProtocol)) << e.ToString();
  EXPECT_THAT(e.message, AllOf(HasSubstr("in the middle of a packet"), HasSubstr(Endpoint())));
  ExpectServerOk("announcing 80 bytes followed by 20");
}

TEST_F(HostileServerTest, OversizedPacketHeaderIsReportedAsClosedMidPacket) {
  ASSERT_NO_FATAL_FAILURE(StartServer("oversized_packet"));
  auto session = Connect();
  ASSERT_FALSE(session.ok());
  const Error& e = session.error();
  EXPECT_THAT(e.code, AnyOf(ErrorCode::kClosed, ErrorCode::kProtocol)) << e.ToString();
  EXPECT_THAT(e.message, AllOf(HasSubstr("in the middle of a packet"), HasSubstr(Endpoint())));
  ExpectServerOk("announcing 0xffffff bytes followed by 100");
}

TEST_F(HostileServerTest, BadLengthInAColumnDefinitionIsAProtocolError) {
  ASSERT_NO_FATAL_FAILURE(StartServer("bad_lenenc_resultset"));
  auto session = Connect();
  ASSERT_TRUE(session.ok()) << session.error().ToString();
  QueryOutcome q = RunQuery(**session, "SELECT 1");
  ASSERT_TRUE(q.error);
  EXPECT_EQ(q.error->code, ErrorCode::kProtocol) << q.error->ToString();
  EXPECT_TRUE(q.rows.empty());
  // The connection is out of step now: the session says so.
  EXPECT_FALSE((*session)->usable());
  EXPECT_FALSE((*session)->Ping().ok());
  (*session)->Close();
  ExpectServerOk("a 20-byte packet");
}

// ---------------------------------------------------------------------------
// Server errors while rows stream

using ServerErrorTest = FakeServerTest;

TEST_F(ServerErrorTest, ErrorMidResultSetComesAfterTheRowsBeforeItAndKeepsTheSession) {
  ASSERT_NO_FATAL_FAILURE(StartServer("error_mid_resultset"));
  auto session = Connect();
  ASSERT_TRUE(session.ok()) << session.error().ToString();
  Session& s = **session;

  QueryOutcome q = RunQuery(s, "SELECT a, b FROM t");
  ASSERT_EQ(q.columns.size(), 2u);
  EXPECT_EQ(q.columns[0].name, "a");
  EXPECT_EQ(q.columns[1].name, "b");
  using Row = std::vector<std::optional<std::string>>;
  EXPECT_EQ(q.rows, (std::vector<Row>{{"1", "row1"}, {"2", "row2"}, {"3", "row3"}}));
  ASSERT_TRUE(q.error) << "the interrupted result set ended without an error";
  EXPECT_EQ(q.error->code, ErrorCode::kServer) << q.error->ToString();
  EXPECT_EQ(q.error->server_code, 1317);
  EXPECT_EQ(q.error->sqlstate, "70100");
  EXPECT_THAT(q.error->message, HasSubstr("Query execution was interrupted"));

  // A server error leaves the connection in step: the next query works.
  EXPECT_TRUE(s.usable());
  QueryOutcome again = RunQuery(s, "SELECT 1");
  ASSERT_FALSE(again.error) << again.error->ToString();
  EXPECT_EQ(again.rows, (std::vector<Row>{{"1"}}));
  EXPECT_TRUE(s.Ping().ok());
  s.Close();
  ExpectServerOk("sent 2 columns, 3 rows, then ERR 1317 for the first query");
}

}  // namespace
}  // namespace sqlx::transports
