// The layout codec over the real MySQL/MariaDB wire pack, decoding: packets
// decoded into variables, text rows decoded into a RowBatch, and malformed
// or arbitrary payloads that must fail cleanly (these tables also seed the
// fuzz corpus).
//
// Bytes are written as hex with '...' for text, one protocol field per line:
//   0a '8.0.36' 00      protocol 10, server version, NUL
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "codec.h"
#include "codec_fixture.h"
#include "sqlx/transports/row_batch.h"

namespace sqlx::transports {
namespace {

using testing::Int;
using testing::MysqlPack;
using testing::Null;
using testing::Preset;
using testing::Repeat;
using testing::Text;
using testing::VarList;
using testing::Wire;

// ------------------------------------------------------------------- decode

struct DecodeCase {
  const char* name;
  const char* layout;
  VarList preset;     // variables set before decoding (e.g. client_caps)
  const char* bytes;  // Wire() spec of the payload
  VarList expected;
};

// MariaDB 10.11: CLIENT_LONG_PASSWORD (CLIENT_MYSQL) clear, so the 4 bytes
// after the reserved 6 hold extended capabilities (here PROGRESS |
// STMT_BULK_OPERATIONS | EXTENDED_METADATA | CACHE_METADATA = 0x1d).
constexpr const char* kMariadbGreeting =
    "0a"                           // protocol_version 10
    "'5.5.5-10.11.6-MariaDB-log' 00"  // server_version
    "2a000000"                     // connection_id 42
    "'abcdefgh'"                   // scramble_1
    "00"                           // filler
    "fef7"                         // caps_lo 0xf7fe: bit 0 clear
    "2d"                           // server_charset 45
    "0200"                         // status_flags AUTOCOMMIT
    "ff81"                         // caps_hi 0x81ff
    "15"                           // auth_data_len 21
    "000000000000"                 // reserved
    "1d000000"                     // MariaDB extended capabilities
    "'ijklmnopqrst' 00"            // scramble_2 (13 bytes)
    "'mysql_native_password' 00";  // greeting_plugin

// MySQL 8.0: every capability bit of the low word set, reserved bytes zero.
constexpr const char* kMysql8Greeting =
    "0a"
    "'8.0.36' 00"
    "08000000"                      // connection_id 8
    "'ABCDEFGH'"
    "00"
    "ffff"                          // caps_lo
    "ff"                            // utf8mb4_0900_ai_ci
    "0200"
    "ffdf"                          // caps_hi 0xdfff
    "15"
    "00000000000000000000"          // reserved 10 bytes
    "'IJKLMNOPQRST' 00"
    "'caching_sha2_password' 00";

std::vector<DecodeCase> DecodeCases() {
  return {
      {.name = "mariadb greeting with extended capabilities",
       .layout = "greeting",
       .bytes = kMariadbGreeting,
       .expected = {{"protocol_version", Int(10)},
                    {"server_version", Text("5.5.5-10.11.6-MariaDB-log")},
                    {"connection_id", Int(42)},
                    {"scramble_1", Text("abcdefgh")},
                    {"caps_lo", Int(0xf7fe)},
                    {"server_charset", Int(45)},
                    {"status_flags", Int(2)},
                    {"caps_hi", Int(0x81ff)},
                    {"auth_data_len", Int(21)},
                    {"ext_caps", Int(0x1d)},
                    {"server_caps", Int(0x0000001d81fff7feULL)},
                    {"scramble_2", Text(std::string_view("ijklmnopqrst\0", 13))},
                    {"greeting_plugin", Text("mysql_native_password")},
                    {"scramble", Text("abcdefghijklmnopqrst")}}},
      {.name = "mysql 8 greeting with caching_sha2_password",
       .layout = "greeting",
       .bytes = kMysql8Greeting,
       .expected = {{"server_version", Text("8.0.36")},
                    {"connection_id", Int(8)},
                    {"server_charset", Int(255)},
                    {"ext_caps", Int(0)},
                    {"server_caps", Int(0xdfffffffULL)},
                    {"greeting_plugin", Text("caching_sha2_password")},
                    {"scramble", Text("ABCDEFGHIJKLMNOPQRST")}}},
      {.name = "mysql greeting ignores non-zero reserved bytes (CLIENT_LONG_PASSWORD set)",
       .layout = "greeting",
       .bytes = "0a '8.0.36' 00 08000000 'ABCDEFGH' 00 ffff ff 0200 ffdf 15 000000000000"
                "01000000 'IJKLMNOPQRST' 00 'caching_sha2_password' 00",
       .expected = {{"ext_caps", Int(1)}, {"server_caps", Int(0xdfffffffULL)}}},
      {.name = "mysql 5.5.8 greeting whose plugin name lacks its NUL",
       .layout = "greeting",
       .bytes = "0a '5.5.8' 00 01000000 'ABCDEFGH' 00 ffff 08 0200 0f80 15 00000000000000000000"
                "'IJKLMNOPQRST' 00 'mysql_native_password'",
       .expected = {{"server_caps", Int(0x800fffffULL)},
                    {"greeting_plugin", Text("mysql_native_password")},
                    {"scramble", Text("ABCDEFGHIJKLMNOPQRST")}}},
      {.name = "greeting without CLIENT_PLUGIN_AUTH and auth_data_len 0 (MySQL 5.1)",
       .layout = "greeting",
       .bytes = "0a '5.1.73' 00 01000000 'ABCDEFGH' 00 ffff 08 0200 0000 00 00000000000000000000"
                "'IJKLMNOPQRST' 00",
       .expected = {{"server_caps", Int(0xffff)},
                    {"auth_data_len", Int(0)},
                    {"greeting_plugin", Null()},
                    {"scramble", Text("ABCDEFGHIJKLMNOPQRST")}}},
      {.name = "ok with one-byte lenencs",
       .layout = "ok",
       .bytes = "00 00 00 0200 0000",
       .expected = {{"affected_rows", Int(0)},
                    {"last_insert_id", Int(0)},
                    {"status_flags", Int(2)},
                    {"warnings", Int(0)},
                    {"info", Text("")}}},
      {.name = "ok with 0xfc and 0xfd lenencs and info",
       .layout = "ok",
       .bytes = "00 fc0001 fd010203 2200 0100 'info'",
       .expected = {{"affected_rows", Int(256)},
                    {"last_insert_id", Int(0x030201)},
                    {"status_flags", Int(0x22)},
                    {"warnings", Int(1)},
                    {"info", Text("info")}}},
      {.name = "ok with a 0xfe lenenc and the largest direct value",
       .layout = "ok",
       .bytes = "00 fe0807060504030201 fa 0000 0000",
       .expected = {{"affected_rows", Int(0x0102030405060708ULL)},
                    {"last_insert_id", Int(250)},
                    {"info", Text("")}}},
      {.name = "err with #sqlstate",
       .layout = "err",
       .bytes = "ff 1504 '#28000' 'Access denied'",
       .expected = {{"error_code", Int(1045)},
                    {"has_sqlstate", Int(1)},
                    {"sqlstate", Text("28000")},
                    {"error_message", Text("Access denied")}}},
      {.name = "err without #sqlstate (before the handshake)",
       .layout = "err",
       .bytes = "ff 1004 'Too many connections'",
       .expected = {{"error_code", Int(1040)},
                    {"has_sqlstate", Int(0)},
                    {"sqlstate", Null()},
                    {"error_message", Text("Too many connections")}}},
      {.name = "err without #sqlstate clears an earlier sqlstate",
       .layout = "err",
       .preset = {{"sqlstate", Text("HY000")}},
       .bytes = "ff 1004",
       .expected = {{"error_code", Int(1040)}, {"sqlstate", Null()}, {"error_message", Text("")}}},
      {.name = "eof",
       .layout = "eof",
       .bytes = "fe 0100 2200",
       .expected = {{"warnings", Int(1)}, {"status_flags", Int(0x22)}}},
      {.name = "end of rows as EOF (no CLIENT_DEPRECATE_EOF)",
       .layout = "end_of_rows",
       .preset = {{"client_caps", Int(0x200)}},
       .bytes = "fe 0000 2a00",
       .expected = {{"warnings", Int(0)},
                    {"ok_status_flags", Null()},
                    {"eof_status_flags", Int(0x2a)},
                    {"status_flags", Int(0x2a)}}},
      {.name = "end of rows as OK with header 0xfe (CLIENT_DEPRECATE_EOF)",
       .layout = "end_of_rows",
       .preset = {{"client_caps", Int(0x200 | 0x1000000)}},
       .bytes = "fe 03 00 2200 0100",
       .expected = {{"affected_rows", Int(3)},
                    {"last_insert_id", Int(0)},
                    {"ok_status_flags", Int(0x22)},
                    {"warnings", Int(1)},
                    {"eof_status_flags", Null()},
                    {"status_flags", Int(0x22)}}},
      {.name = "column_def with the trailing filler",
       .layout = "column_def",
       .bytes = "03'def' 04'test' 01't' 02't1' 02'id' 02'ID' 0c 3f00 0b000000 03 0350 00 0000",
       .expected = {{"column_catalog", Text("def")},
                    {"column_schema", Text("test")},
                    {"column_table", Text("t")},
                    {"column_org_table", Text("t1")},
                    {"column_name", Text("id")},
                    {"column_org_name", Text("ID")},
                    {"column_fixed_len", Int(12)},
                    {"column_charset", Int(63)},
                    {"column_length", Int(11)},
                    {"column_type", Int(3)},
                    {"column_flags", Int(0x5003)},
                    {"column_decimals", Int(0)}}},
      {.name = "column_def without the optional filler, empty names",
       .layout = "column_def",
       .bytes = "03'def' 00 00 00 02'id' 00 0c 2d00 04000000 08 8100 00",
       .expected = {{"column_schema", Text("")},
                    {"column_name", Text("id")},
                    {"column_org_name", Text("")},
                    {"column_charset", Int(45)},
                    {"column_type", Int(8)},
                    {"column_flags", Int(0x81)}}},
      {.name = "auth switch with plugin and data",
       .layout = "auth_switch",
       .bytes = "fe 'client_ed25519' 00 'nonce'",
       .expected = {{"switch_plugin", Text("client_ed25519")}, {"switch_data", Text("nonce")}}},
      {.name = "old auth switch: the 0xfe byte alone",
       .layout = "auth_switch",
       .bytes = "fe",
       .expected = {{"switch_plugin", Text("")}, {"switch_data", Text("")}}},
      {.name = "auth more data",
       .layout = "auth_more_data",
       .bytes = "01 03",
       .expected = {{"more_data", Text("\x03")}}},
      {.name = "column count direct",
       .layout = "column_count",
       .bytes = "03",
       .expected = {{"column_count", Int(3)}}},
      {.name = "column count 0xfc form",
       .layout = "column_count",
       .bytes = "fc 0001",
       .expected = {{"column_count", Int(256)}}},
  };
}

TEST(CodecDecodeTest, DecodesEachPacketIntoItsVariables) {
  const MysqlPack& p = MysqlPack::Get();
  for (const DecodeCase& c : DecodeCases()) {
    SCOPED_TRACE(c.name);
    auto vars = p.Vars();
    Preset(p, vars, c.preset);
    Status st = DecodeLayout(p.pack(), p.layout(c.layout), Wire(c.bytes), vars);
    ASSERT_TRUE(st.ok()) << st.error().message;
    for (const auto& [name, want] : c.expected) EXPECT_EQ(vars[p.Slot(name)], want) << name;
  }
}

TEST(CodecDecodeTest, MariadbGreetingCarriesCapabilitiesAbove32Bits) {
  const MysqlPack& p = MysqlPack::Get();
  auto vars = p.Vars();
  ASSERT_TRUE(DecodeLayout(p.pack(), p.layout("greeting"), Wire(kMariadbGreeting), vars).ok());
  const Value& caps = vars[p.Slot("server_caps")];
  ASSERT_TRUE(caps.is_int());
  EXPECT_GE(caps.i, uint64_t{1} << 32);
  EXPECT_EQ(caps.i & p.flag("CLIENT_LONG_PASSWORD"), 0u);
  EXPECT_NE(caps.i & p.flag("MARIADB_CLIENT_PROGRESS"), 0u);
  EXPECT_NE(caps.i & p.flag("MARIADB_CLIENT_CACHE_METADATA"), 0u);
  EXPECT_EQ(caps.i & p.flag("MARIADB_CLIENT_COM_MULTI"), 0u);
  EXPECT_NE(caps.i & p.flag("CLIENT_PLUGIN_AUTH"), 0u);
  EXPECT_NE(caps.i & p.flag("CLIENT_DEPRECATE_EOF"), 0u);
}

// Every prefix of every good packet decodes or fails with kProtocol.
TEST(CodecDecodeTest, EveryTruncationOfAGoodPacketFailsCleanly) {
  const MysqlPack& p = MysqlPack::Get();
  for (const DecodeCase& c : DecodeCases()) {
    std::string full = Wire(c.bytes);
    for (size_t n = 0; n < full.size(); ++n) {
      auto vars = p.Vars();
      Preset(p, vars, c.preset);
      Status st = DecodeLayout(p.pack(), p.layout(c.layout), std::string_view(full).substr(0, n), vars);
      if (!st.ok()) {
        EXPECT_EQ(st.error().code, ErrorCode::kProtocol)
            << c.name << " cut at " << n << ": " << st.error().message;
      }
    }
  }
}

struct BadDecodeCase {
  const char* name;
  const char* layout;
  const char* bytes;
  const char* message_part;
};

TEST(CodecDecodeTest, MalformedPacketsAreProtocolErrors) {
  const std::vector<BadDecodeCase> cases = {
      {"empty greeting", "greeting", "", "field 'protocol_version' needs 1 bytes, 0 remain"},
      {"greeting version without NUL", "greeting", "0a '5.5'", "'server_version' lacks its NUL"},
      {"greeting cut in connection_id", "greeting", "0a '8' 00 0100", "'connection_id' needs 4 bytes"},
      {"greeting cut in scramble_2", "greeting",
       "0a '8' 00 01000000 'ABCDEFGH' 00 ffff ff 0200 ffdf 15 00000000000000000000 'IJK'",
       "'scramble_2' needs 13 bytes, 3 remain"},
      {"greeting auth_data_len over the packet", "greeting",
       "0a '8' 00 01000000 'ABCDEFGH' 00 ffff ff 0200 ffdf ff 00000000000000000000 'IJKLMNOPQRST' 00",
       "'scramble_2' needs 247 bytes"},
      {"ok with truncated 0xfc lenenc", "ok", "00 fc01", "'affected_rows'"},
      {"ok with truncated 0xfe lenenc", "ok", "00 fe01020304", "'affected_rows'"},
      {"ok with 0xff where a lenenc belongs", "ok", "00 ff 00 0200 0000", "invalid length byte"},
      {"ok without status", "ok", "00 00 00 02", "'status_flags' needs 2 bytes, 1 remain"},
      {"err without code", "err", "ff 15", "'error_code' needs 2 bytes, 1 remain"},
      {"err with a short sqlstate", "err", "ff 1504 '#280'", "'sqlstate' needs 5 bytes, 3 remain"},
      {"eof cut short", "eof", "fe 00", "'warnings' needs 2 bytes"},
      {"column_def name longer than the packet", "column_def", "03'def' 10 'ab'",
       "'column_schema' needs 16 bytes, 2 remain"},
      {"column_def missing the fixed fields", "column_def", "00 00 00 00 00 00 0c 3f00",
       "'column_length' needs 4 bytes"},
      {"empty column count", "column_count", "", "'column_count'"},
      {"column count 0xff", "column_count", "ff", "invalid length byte"},
  };
  const MysqlPack& p = MysqlPack::Get();
  for (const BadDecodeCase& c : cases) {
    auto vars = p.Vars();
    Status st = DecodeLayout(p.pack(), p.layout(c.layout), Wire(c.bytes), vars);
    ASSERT_FALSE(st.ok()) << c.name;
    EXPECT_EQ(st.error().code, ErrorCode::kProtocol) << c.name;
    EXPECT_NE(st.error().message.find(c.message_part), std::string::npos)
        << c.name << ": " << st.error().message;
    EXPECT_NE(st.error().message.find(std::string("'") + c.layout + "'"), std::string::npos)
        << "names the layout: " << st.error().message;
  }
}

// Garbage in every layout the client decodes, under both EOF styles: any
// outcome but a crash or a non-protocol error.
TEST(CodecDecodeTest, ArbitraryBytesNeverCrashAnyDecodedLayout) {
  const MysqlPack& p = MysqlPack::Get();
  std::vector<std::string> inputs = {"", Wire("00"), Wire("ff"), Wire("fe"), Wire("fb"),
                                     Wire("fc"), Wire("fd ffffff"), Wire("fe ffffffffffffffff"),
                                     Repeat('\xff', 64), Repeat('\0', 64), Wire(kMariadbGreeting)};
  uint32_t seed = 12345;
  for (int i = 0; i < 200; ++i) {
    std::string s;
    size_t len = (seed >> 8) % 80;
    for (size_t k = 0; k < len; ++k) {
      seed = seed * 1103515245 + 12345;
      s += static_cast<char>(seed >> 16);
    }
    inputs.push_back(s);
  }
  ASSERT_GE(p.decoded_layouts().size(), 8u);
  for (const std::string& name : p.decoded_layouts()) {
    for (const std::string& in : inputs) {
      for (uint64_t caps : {uint64_t{0x200}, uint64_t{0x1000200}}) {
        auto vars = p.Vars();
        vars[p.Slot("client_caps")] = Int(caps);
        Status st = DecodeLayout(p.pack(), p.layout(name), in, vars);
        if (!st.ok()) {
          EXPECT_EQ(st.error().code, ErrorCode::kProtocol) << name << ": " << st.error().message;
        }
      }
    }
  }
}

// ---------------------------------------------------------------- DecodeRow

struct RowCase {
  const char* name;
  uint64_t columns;
  std::string bytes;
  std::vector<std::optional<std::string>> cells;
};

TEST(CodecRowTest, DecodesTextRows) {
  const std::string big = Repeat('x', 300);
  const std::vector<RowCase> cases = {
      {"NULL marker then a value", 2, Wire("fb 01'a'"), {std::nullopt, "a"}},
      {"empty string is not NULL", 1, Wire("00"), {""}},
      {"three cells", 3, Wire("01'a' 02'bc' 00"), {"a", "bc", ""}},
      {"all NULL", 2, Wire("fb fb"), {std::nullopt, std::nullopt}},
      {"0xfc-length cell", 2, Wire("fc2c01") + big + Wire("01'z'"), {big, "z"}},
      {"cell holding 0xfe 0xff bytes", 1, Wire("02 feff"), {"\xfe\xff"}},
  };
  const MysqlPack& p = MysqlPack::Get();
  for (const RowCase& c : cases) {
    auto vars = p.Vars();
    vars[p.Slot("column_count")] = Int(c.columns);
    RowBatch batch;
    batch.Reset(c.columns);
    Status st = DecodeRow(p.pack(), p.layout("text_row"), c.bytes, vars, &batch);
    ASSERT_TRUE(st.ok()) << c.name << ": " << st.error().message;
    ASSERT_EQ(batch.rows(), 1u) << c.name;
    ASSERT_EQ(batch.columns(), c.cells.size()) << c.name;
    for (size_t i = 0; i < c.cells.size(); ++i) {
      auto got = batch.cell(0, i);
      EXPECT_EQ(got.has_value(), c.cells[i].has_value()) << c.name << " cell " << i;
      if (got && c.cells[i]) {
        EXPECT_EQ(*got, *c.cells[i]) << c.name << " cell " << i;
      }
    }
  }
}

TEST(CodecRowTest, MalformedRowsAreProtocolErrorsAndLeaveEarlierRowsIntact) {
  struct BadRow {
    const char* name;
    uint64_t columns;
    const char* bytes;
    const char* message_part;
  };
  const std::vector<BadRow> cases = {
      {"truncated cell", 1, "05 'ab'", "cell 1 claims 5 bytes, 2 remain"},
      {"truncated second cell", 2, "01'a' 03'b'", "cell 2 claims 3 bytes, 1 remain"},
      {"truncated length prefix", 1, "fc 01", "cell 1 is truncated"},
      {"missing cell", 2, "01'a'", "cell 2 is truncated"},
      {"empty payload", 1, "", "cell 1 is truncated"},
      {"trailing bytes", 1, "01'a' 'bc'", "2 bytes left after the last cell"},
      {"invalid length byte 0xff", 1, "ff", "invalid length byte"},
      {"0xfe length claiming 2^64-1", 1, "fe ffffffffffffffff", "remain"},
  };
  const MysqlPack& p = MysqlPack::Get();
  for (const BadRow& c : cases) {
    auto vars = p.Vars();
    vars[p.Slot("column_count")] = Int(c.columns);
    RowBatch batch;
    batch.Reset(c.columns);
    std::string good;
    for (uint64_t i = 0; i < c.columns; ++i) good += Wire("02 'ok'");
    ASSERT_TRUE(DecodeRow(p.pack(), p.layout("text_row"), good, vars, &batch).ok());
    const size_t bytes_before = batch.byte_size();

    Status st = DecodeRow(p.pack(), p.layout("text_row"), Wire(c.bytes), vars, &batch);
    ASSERT_FALSE(st.ok()) << c.name;
    EXPECT_EQ(st.error().code, ErrorCode::kProtocol) << c.name;
    EXPECT_NE(st.error().message.find(c.message_part), std::string::npos)
        << c.name << ": " << st.error().message;
    EXPECT_EQ(batch.rows(), 1u) << c.name;
    EXPECT_EQ(batch.cells_in_partial_row(), 0u) << c.name << ": the half row is dropped";
    EXPECT_EQ(batch.byte_size(), bytes_before) << c.name;
    for (uint64_t i = 0; i < c.columns; ++i) EXPECT_EQ(batch.value(0, i), "ok") << c.name;
  }
}

TEST(CodecRowTest, ArbitraryRowBytesNeverCrash) {
  const MysqlPack& p = MysqlPack::Get();
  uint32_t seed = 777;
  for (int i = 0; i < 500; ++i) {
    std::string s;
    seed = seed * 1103515245 + 12345;
    size_t len = (seed >> 16) % 40;
    for (size_t k = 0; k < len; ++k) {
      seed = seed * 1103515245 + 12345;
      uint8_t b = static_cast<uint8_t>(seed >> 16);
      // Favour the interesting first bytes.
      if (k == 0 && (seed & 3) == 0) b = static_cast<uint8_t>(0xfb + (seed >> 8) % 5);
      s += static_cast<char>(b);
    }
    uint64_t columns = 1 + (seed >> 24) % 4;
    auto vars = p.Vars();
    vars[p.Slot("column_count")] = Int(columns);
    RowBatch batch;
    batch.Reset(columns);
    Status st = DecodeRow(p.pack(), p.layout("text_row"), s, vars, &batch);
    if (!st.ok()) {
      EXPECT_EQ(st.error().code, ErrorCode::kProtocol) << st.error().message;
      EXPECT_EQ(batch.rows(), 0u);
      continue;
    }
    ASSERT_EQ(batch.rows(), 1u);
    for (size_t c = 0; c < columns; ++c) EXPECT_LE(batch.value(0, c).size(), s.size());
  }
}

}  // namespace
}  // namespace sqlx::transports
