// WireVm running the shipped MySQL pack's command procedures against
// scripted server bytes: result sets with and without CLIENT_DEPRECATE_EOF,
// batch limits, errors in the middle of rows, and unexpected packets.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "scripted_server.h"
#include "wire_vm.h"

namespace sqlx::transports {
namespace {

using testing::Cap;
using testing::Cells;
using testing::ColumnDef;
using testing::Eof;
using testing::Err;
using testing::Ok;
using testing::OkEnd;
using testing::Row;
using testing::Script;
using testing::ScriptedServer;

// ------------------------------------------------------------------- query

uint64_t QueryCaps(bool deprecate_eof) {
  uint64_t caps = Cap("CLIENT_PROTOCOL_41") | Cap("CLIENT_MULTI_RESULTS");
  return deprecate_eof ? caps | Cap("CLIENT_DEPRECATE_EOF") : caps;
}

void StartQuery(ScriptedServer& s, bool deprecate_eof, std::string_view sql) {
  s.vm().Set("client_caps", Value::Int(QueryCaps(deprecate_eof)));
  s.vm().Set("sql", Value::Bytes(sql));
}

TEST(WireVmQueryTest, ResultSetEndsWithAnOkPacketUnderDeprecateEof) {
  ScriptedServer s(Script({"\x02", ColumnDef("id"), ColumnDef("name"), Row({"1", "alice"}),
                           Row({std::nullopt, ""}), OkEnd(0x22)},
                          1));
  StartQuery(s, /*deprecate_eof=*/true, "select id, name from t");
  auto log = s.Run("query");
  ASSERT_TRUE(log.status.ok()) << log.status.error().message;
  EXPECT_EQ(log.events, (std::vector<std::string>{"result_begin", "column", "column", "columns_end",
                                                  "rows:2", "result_end"}));
  EXPECT_EQ(log.columns, (std::vector<std::string>{"id", "name"}));
  EXPECT_EQ(log.rows, (std::vector<Cells>{{"1", "alice"}, {std::nullopt, ""}}));
  EXPECT_EQ(s.Int("status_flags"), 0x22u);
  auto out = s.written();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].sequence, 0);
  EXPECT_EQ(out[0].payload, "\x03select id, name from t");
  EXPECT_TRUE(s.vm().in_sync());
}

TEST(WireVmQueryTest, ResultSetUsesEofPacketsWithoutDeprecateEof) {
  ScriptedServer s(Script({"\x02", ColumnDef("id"), ColumnDef("name"), Eof(), Row({"1", "alice"}),
                           Eof(0x22)},
                          1));
  StartQuery(s, /*deprecate_eof=*/false, "select id, name from t");
  auto log = s.Run("query");
  ASSERT_TRUE(log.status.ok()) << log.status.error().message;
  EXPECT_EQ(log.events, (std::vector<std::string>{"result_begin", "column", "column", "columns_end",
                                                  "rows:1", "result_end"}));
  EXPECT_EQ(log.rows, (std::vector<Cells>{{"1", "alice"}}));
  EXPECT_EQ(s.Int("status_flags"), 0x22u);
  EXPECT_EQ(s.stream().unread(), 0u);
}

TEST(WireVmQueryTest, AnEmptyResultSetYieldsNoRows) {
  ScriptedServer s(Script({"\x01", ColumnDef("x"), OkEnd()}, 1));
  StartQuery(s, true, "select x from empty");
  auto log = s.Run("query");
  ASSERT_TRUE(log.status.ok()) << log.status.error().message;
  EXPECT_EQ(log.events, (std::vector<std::string>{"result_begin", "column", "columns_end", "result_end"}));
}

TEST(WireVmQueryTest, AnOkOnlyResultEmitsOk) {
  ScriptedServer s(Script({Ok(3)}, 1));
  StartQuery(s, true, "delete from t");
  auto log = s.Run("query");
  ASSERT_TRUE(log.status.ok()) << log.status.error().message;
  EXPECT_EQ(log.events, std::vector<std::string>{"ok"});
  EXPECT_EQ(s.Int("affected_rows"), 3u);
}

TEST(WireVmQueryTest, MultipleResultsFollowMoreResultsExists) {
  const uint16_t more = static_cast<uint16_t>(Cap("SERVER_MORE_RESULTS_EXISTS") | 2);
  ScriptedServer s(Script({Ok(1, more), "\x01", ColumnDef("v"), Row({"7"}), OkEnd(2)}, 1));
  StartQuery(s, true, "update t set v=7; select v from t");
  auto log = s.Run("query");
  ASSERT_TRUE(log.status.ok()) << log.status.error().message;
  EXPECT_EQ(log.events, (std::vector<std::string>{"ok", "result_begin", "column", "columns_end",
                                                  "rows:1", "result_end"}));
  EXPECT_EQ(log.rows, (std::vector<Cells>{{"7"}}));
}

TEST(WireVmQueryTest, BatchLimitsSplitRowsIntoSeveralYields) {
  std::vector<std::string> script = {"\x01", ColumnDef("n")};
  for (int i = 0; i < 5; ++i) script.push_back(Row({std::to_string(i)}));
  script.push_back(OkEnd());
  {
    ScriptedServer s(Script(script, 1));
    StartQuery(s, true, "select n");
    s.vm().SetBatchLimits(2, 1 << 20);
    auto log = s.Run("query");
    ASSERT_TRUE(log.status.ok()) << log.status.error().message;
    EXPECT_EQ(log.events, (std::vector<std::string>{"result_begin", "column", "columns_end", "rows:2",
                                                    "rows:2", "rows:1", "result_end"}));
    EXPECT_EQ(log.rows, (std::vector<Cells>{{"0"}, {"1"}, {"2"}, {"3"}, {"4"}}));
  }
  {
    ScriptedServer s(Script(script, 1));
    StartQuery(s, true, "select n");
    s.vm().SetBatchLimits(1000, /*max_bytes=*/1);
    auto log = s.Run("query");
    ASSERT_TRUE(log.status.ok()) << log.status.error().message;
    EXPECT_EQ(log.events, (std::vector<std::string>{"result_begin", "column", "columns_end", "rows:1",
                                                    "rows:1", "rows:1", "rows:1", "rows:1",
                                                    "result_end"}));
  }
  {
    // Exactly a multiple of the limit: the last batch is followed by no empty one.
    std::vector<std::string> four = {"\x01", ColumnDef("n")};
    for (int i = 0; i < 4; ++i) four.push_back(Row({std::to_string(i)}));
    four.push_back(OkEnd());
    ScriptedServer s(Script(four, 1));
    StartQuery(s, true, "select n");
    s.vm().SetBatchLimits(2, 1 << 20);
    auto log = s.Run("query");
    ASSERT_TRUE(log.status.ok()) << log.status.error().message;
    EXPECT_EQ(log.events, (std::vector<std::string>{"result_begin", "column", "columns_end", "rows:2",
                                                    "rows:2", "result_end"}));
  }
}

TEST(WireVmQueryTest, AnErrorInTheMiddleOfRowsComesAfterTheRowsAndKeepsTheSession) {
  ScriptedServer s(Script({"\x01", ColumnDef("n"), Row({"1"}), Row({"2"}),
                           Err(1317, "70100", "Query execution was interrupted")},
                          1) +
                   Script({Ok()}, 1));  // then a ping
  StartQuery(s, true, "select n from big");
  auto log = s.Run("query");
  EXPECT_EQ(log.events, (std::vector<std::string>{"result_begin", "column", "columns_end", "rows:2"}));
  EXPECT_EQ(log.rows, (std::vector<Cells>{{"1"}, {"2"}}));
  ASSERT_FALSE(log.status.ok());
  const Error& e = log.status.error();
  EXPECT_EQ(e.code, ErrorCode::kServer);
  EXPECT_EQ(e.server_code, 1317);
  EXPECT_EQ(e.sqlstate, "70100");
  EXPECT_EQ(e.message, "Query execution was interrupted");
  EXPECT_TRUE(s.vm().in_sync());
  EXPECT_FALSE(s.vm().busy());

  auto ping = s.Run("ping");
  ASSERT_TRUE(ping.status.ok()) << ping.status.error().message;
  auto out = s.written();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].payload, "\x0e");
  EXPECT_EQ(out[1].sequence, 0);
}

TEST(WireVmQueryTest, AServerErrorForTheQueryKeepsTheSession) {
  ScriptedServer s(Script({Err(1064, "42000", "You have an error in your SQL syntax")}, 1));
  StartQuery(s, true, "selec 1");
  auto log = s.Run("query");
  ASSERT_FALSE(log.status.ok());
  EXPECT_EQ(log.status.error().code, ErrorCode::kServer);
  EXPECT_EQ(log.status.error().server_code, 1064);
  EXPECT_TRUE(s.vm().in_sync());
}

TEST(WireVmQueryTest, LocalInfileRequestsAreRefused) {
  ScriptedServer s(Script({"\xfb/etc/passwd"}, 1));
  StartQuery(s, true, "load data local infile '/etc/passwd' into table t");
  auto log = s.Run("query");
  ASSERT_FALSE(log.status.ok());
  EXPECT_EQ(log.status.error().code, ErrorCode::kUnsupported);
  EXPECT_EQ(s.written().size(), 1u) << "nothing but the query was sent";
}

TEST(WireVmQueryTest, AMalformedRowUnsyncsTheSession) {
  ScriptedServer s(Script({"\x01", ColumnDef("n"), "\x05" "ab"}, 1));
  StartQuery(s, true, "select n");
  auto log = s.Run("query");
  ASSERT_FALSE(log.status.ok());
  EXPECT_EQ(log.status.error().code, ErrorCode::kProtocol);
  EXPECT_FALSE(s.vm().in_sync());
}

// ---------------------------------------------------- unexpected packets

TEST(WireVmProtocolTest, AnUnexpectedPacketNamesTheJsonPointer) {
  struct Case {
    const char* name;
    const char* procedure;
    bool deprecate_eof;
    std::string server;
    const char* pointer;
  };
  const std::vector<Case> cases = {
      {"ping answered with 0xfe", "ping", true, Script({"\xfe"}, 1), "/procedures/expect_ok/0"},
      {"init_db answered with an empty packet", "init_db", true, Script({""}, 1),
       "/procedures/expect_ok/0"},
      {"no EOF after the column definitions", "query", false,
       Script({"\x01", ColumnDef("n"), Row({"1"})}, 1), "/procedures/query/2/do/0/recv/3/do/2/then/0"},
  };
  for (const Case& c : cases) {
    ScriptedServer s(c.server);
    StartQuery(s, c.deprecate_eof, "select n");
    auto log = s.Run(c.procedure);
    ASSERT_FALSE(log.status.ok()) << c.name;
    EXPECT_EQ(log.status.error().code, ErrorCode::kProtocol) << c.name;
    const std::string& m = log.status.error().message;
    EXPECT_NE(m.find("unexpected packet"), std::string::npos) << c.name << ": " << m;
    EXPECT_NE(m.find(std::string(" at ") + c.pointer + " of "), std::string::npos) << c.name << ": " << m;
    EXPECT_NE(m.find("mysql.wire.json"), std::string::npos) << c.name << ": " << m;
    EXPECT_FALSE(s.vm().in_sync()) << c.name;
    Status again = s.vm().Begin("ping");
    ASSERT_FALSE(again.ok()) << c.name;
    EXPECT_EQ(again.error().code, ErrorCode::kClosed) << c.name;
  }
}

TEST(WireVmProtocolTest, PacketsOutOfSequenceUnsyncTheSession) {
  ScriptedServer s(Script({Ok()}, 5));
  auto log = s.Run("ping");
  ASSERT_FALSE(log.status.ok());
  EXPECT_EQ(log.status.error().code, ErrorCode::kProtocol);
  EXPECT_FALSE(s.vm().in_sync());
}

TEST(WireVmProtocolTest, AConnectionClosedMidCommandIsClosed) {
  ScriptedServer s("");
  auto log = s.Run("ping");
  ASSERT_FALSE(log.status.ok());
  EXPECT_EQ(log.status.error().code, ErrorCode::kClosed);
  EXPECT_FALSE(s.vm().in_sync());
}

TEST(WireVmProtocolTest, UnknownProceduresAreAPackError) {
  ScriptedServer s("");
  Status st = s.vm().Begin("teleport");
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kPack);
  EXPECT_NE(st.error().message.find("'teleport'"), std::string::npos);
  EXPECT_TRUE(s.vm().in_sync());
}

TEST(WireVmProtocolTest, QuitSendsTheOpcodeAndExpectsNothing) {
  ScriptedServer s("");
  auto log = s.Run("quit");
  ASSERT_TRUE(log.status.ok()) << log.status.error().message;
  auto out = s.written();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload, "\x01");
}


}  // namespace
}  // namespace sqlx::transports
