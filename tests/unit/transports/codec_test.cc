// The layout codec over the real MySQL/MariaDB wire pack: packets decoded
// into variables, the handshake response encoded from them, round trips, row
// decoding, and malformed payloads that must fail cleanly (these tables also
// seed the fuzz corpus).
//
// Bytes are written as hex with '...' for text, one protocol field per line:
//   0a '8.0.36' 00      protocol 10, server version, NUL
#include "codec.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pack.h"
#include "sqlx/transports/row_batch.h"

namespace sqlx::transports {

void PrintTo(const Value& v, std::ostream* os) {
  switch (v.kind) {
    case Value::Kind::kNull: *os << "null"; return;
    case Value::Kind::kInt: *os << "int " << v.i << " (0x" << std::hex << v.i << std::dec << ")"; return;
    case Value::Kind::kBytes: *os << "bytes '" << v.b << "' (" << v.b.size() << " bytes)"; return;
  }
}

bool operator==(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  if (a.is_int()) return a.i == b.i;
  if (a.is_bytes()) return a.b == b.b;
  return true;
}

namespace {

Value Int(uint64_t v) { return Value::Int(v); }
Value Text(std::string_view v) { return Value::Bytes(v); }
Value Null() { return Value{}; }

// "0a 'abc' 00" -> bytes: hex pairs, whitespace ignored, '...' as text.
std::string Wire(std::string_view spec) {
  std::string out;
  for (size_t i = 0; i < spec.size();) {
    char c = spec[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '\'') {
      size_t end = spec.find('\'', i + 1);
      out.append(spec.substr(i + 1, end - i - 1));
      i = end + 1;
    } else {
      out += static_cast<char>(std::stoi(std::string(spec.substr(i, 2)), nullptr, 16));
      i += 2;
    }
  }
  return out;
}

std::string Repeat(char c, size_t n) { return std::string(n, c); }

// The pack under test, with its layouts found by walking every procedure
// (WirePack exposes layouts only through the steps that use them).
class MysqlPack {
 public:
  static const MysqlPack& Get() {
    static const MysqlPack* instance = new MysqlPack();
    return *instance;
  }
  const WirePack& pack() const { return *pack_; }
  const Layout& layout(const std::string& name) const {
    auto it = layouts_.find(name);
    if (it == layouts_.end()) {
      ADD_FAILURE() << "the pack has no layout '" << name << "'";
      static const Layout kEmpty;
      return kEmpty;
    }
    return *it->second;
  }
  // Layouts some recv case decodes (the rest are only ever encoded).
  const std::vector<std::string>& decoded_layouts() const { return decoded_; }
  uint64_t flag(const std::string& name) const {
    auto it = pack_->constants().find(name);
    if (it == pack_->constants().end()) ADD_FAILURE() << "no constant " << name;
    return it == pack_->constants().end() ? 0 : it->second;
  }
  // A fresh variable file for one packet, holding the pack's defaults as a
  // new WireVm does.
  std::vector<Value> Vars() const {
    std::vector<Value> vars(pack_->symbols().size());
    for (const auto& [name, v] : pack_->defaults()) vars[pack_->symbols().Find(name)] = v;
    return vars;
  }
  size_t Slot(std::string_view name) const {
    size_t slot = pack_->symbols().Find(name);
    if (slot == SIZE_MAX) ADD_FAILURE() << "the pack names no variable '" << name << "'";
    return slot;
  }

 private:
  MysqlPack() {
    auto loaded = WirePack::Load(SQLX_SOURCE_DIR "/transports/packs/mysql.wire.json");
    if (!loaded.ok()) {
      ADD_FAILURE() << loaded.error().message;
      return;
    }
    pack_ = std::move(loaded).value();
    for (const char* proc : {"connect", "auth_loop", "ping", "init_db", "quit", "expect_ok", "query"}) {
      const Block* b = pack_->procedure(proc);
      if (b != nullptr) Collect(*b);
    }
  }
  void Collect(const Block& b) {
    for (const Step& s : b.steps) {
      if (s.layout != nullptr) layouts_[s.layout->name] = s.layout;
      for (const RecvCase& c : s.cases) {
        if (c.decode != nullptr) {
          layouts_[c.decode->name] = c.decode;
          if (std::find(decoded_.begin(), decoded_.end(), c.decode->name) == decoded_.end())
            decoded_.push_back(c.decode->name);
        }
        Collect(c.body);
      }
      Collect(s.then_block);
      Collect(s.else_block);
    }
  }

  std::shared_ptr<const WirePack> pack_;
  std::map<std::string, const Layout*> layouts_;
  std::vector<std::string> decoded_;
};

using VarList = std::vector<std::pair<const char*, Value>>;

void Preset(const MysqlPack& p, std::vector<Value>& vars, const VarList& preset) {
  for (const auto& [name, v] : preset) vars[p.Slot(name)] = v;
}

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

// ------------------------------------------------------------------- encode

constexpr uint64_t kProtocol41 = 0x200;
constexpr uint64_t kSecureConnection = 0x8000;
constexpr uint64_t kPluginAuth = 0x80000;
constexpr uint64_t kLenencAuth = 0x200000;
constexpr uint64_t kConnectWithDb = 0x8;
constexpr uint64_t kLongPassword = 0x1;

struct EncodeCase {
  const char* name;
  VarList vars;
  std::string expected;  // payload
};

TEST(CodecEncodeTest, HandshakeResponseLayoutFollowsClientCaps) {
  const MysqlPack& p = MysqlPack::Get();
  ASSERT_EQ(p.flag("CLIENT_PROTOCOL_41"), kProtocol41);
  ASSERT_EQ(p.flag("CLIENT_SECURE_CONNECTION"), kSecureConnection);
  ASSERT_EQ(p.flag("CLIENT_PLUGIN_AUTH"), kPluginAuth);
  ASSERT_EQ(p.flag("CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA"), kLenencAuth);
  ASSERT_EQ(p.flag("CLIENT_CONNECT_WITH_DB"), kConnectWithDb);

  const std::string auth20 = Wire("0102030405060708090a0b0c0d0e0f1011121314");
  const std::string auth252 = Repeat('a', 252);
  const std::string header_tail = Wire("00000040 2d") + Repeat('\0', 19);  // max_packet, charset, filler
  const uint64_t mysql_server = 0xdfffffff;
  const uint64_t mariadb_server = 0x0000001d81fff7feULL;
  const uint64_t base = kLongPassword | kProtocol41 | kSecureConnection | kPluginAuth;

  const std::vector<EncodeCase> cases = {
      {"lenenc auth response, database, plugin",
       {{"client_caps", Int(base | kLenencAuth | kConnectWithDb)}, {"server_caps", Int(mysql_server)},
        {"user", Text("app")}, {"auth_response", Text(auth20)}, {"database", Text("shop")},
        {"auth_plugin", Text("mysql_native_password")}},
       Wire("09822800") + header_tail + Wire("00000000 'app' 00 14") + auth20 +
           Wire("'shop' 00 'mysql_native_password' 00")},
      {"1-byte length auth response without lenenc",
       {{"client_caps", Int(base | kConnectWithDb)}, {"server_caps", Int(mysql_server)},
        {"user", Text("app")}, {"auth_response", Text(auth20)}, {"database", Text("shop")},
        {"auth_plugin", Text("mysql_native_password")}},
       Wire("09820800") + header_tail + Wire("00000000 'app' 00 14") + auth20 +
           Wire("'shop' 00 'mysql_native_password' 00")},
      {"252-byte auth response: lenenc 0xfc form",
       {{"client_caps", Int(base | kLenencAuth)}, {"server_caps", Int(mysql_server)},
        {"user", Text("u")}, {"auth_response", Text(auth252)}, {"auth_plugin", Text("p")}},
       Wire("01822800") + header_tail + Wire("00000000 'u' 00 fcfc00") + auth252 + Wire("'p' 00")},
      {"252-byte auth response: 1-byte length",
       {{"client_caps", Int(base)}, {"server_caps", Int(mysql_server)}, {"user", Text("u")},
        {"auth_response", Text(auth252)}, {"auth_plugin", Text("p")}},
       Wire("01820800") + header_tail + Wire("00000000 'u' 00 fc") + auth252 + Wire("'p' 00")},
      {"no database without CLIENT_CONNECT_WITH_DB",
       {{"client_caps", Int(base | kLenencAuth)}, {"server_caps", Int(mysql_server)},
        {"user", Text("u")}, {"auth_response", Text("")}, {"database", Text("ignored")},
        {"auth_plugin", Text("p")}},
       Wire("01822800") + header_tail + Wire("00000000 'u' 00 00 'p' 00")},
      {"no auth response and no plugin without SECURE_CONNECTION or PLUGIN_AUTH",
       {{"client_caps", Int(kLongPassword | kProtocol41)}, {"server_caps", Int(mysql_server)},
        {"user", Text("u")}, {"auth_response", Text(auth20)}},
       Wire("01020000") + header_tail + Wire("00000000 'u' 00")},
      {"mariadb: extended client caps in the reserved bytes",
       {{"client_caps", Int((base & ~kLongPassword) | kLenencAuth | (uint64_t{1} << 32))},
        {"server_caps", Int(mariadb_server)}, {"user", Text("u")}, {"auth_response", Text("")},
        {"auth_plugin", Text("p")}},
       Wire("00822800") + header_tail + Wire("01000000 'u' 00 00 'p' 00")},
  };
  for (const EncodeCase& c : cases) {
    auto vars = p.Vars();
    vars[p.Slot("max_packet")] = Int(0x40000000);
    Preset(p, vars, c.vars);
    auto out = EncodeLayout(p.pack(), p.layout("handshake_response"), vars);
    ASSERT_TRUE(out.ok()) << c.name << ": " << out.error().message;
    EXPECT_EQ(Value::Bytes(*out), Value::Bytes(c.expected)) << c.name;
  }
}

TEST(CodecEncodeTest, SslRequestIsTheFirst32BytesOfTheResponse) {
  const MysqlPack& p = MysqlPack::Get();
  auto vars = p.Vars();
  Preset(p, vars, {{"client_caps", Int(kLongPassword | kProtocol41 | 0x800 | kSecureConnection)},
                   {"server_caps", Int(0xdfffffff)},
                   {"max_packet", Int(0x01000000)}});
  auto out = EncodeLayout(p.pack(), p.layout("ssl_request"), vars);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_EQ(*out, Wire("018a0000 00000001 2d") + Repeat('\0', 19) + Wire("00000000"));
}

TEST(CodecEncodeTest, CommandsEncodeTheirOpcode) {
  struct Case {
    const char* layout;
    VarList vars;
    const char* expected;
  };
  const std::vector<Case> cases = {
      {"com_query", {{"sql", Text("select 1")}}, "03 'select 1'"},
      {"com_init_db", {{"database", Text("shop")}}, "02 'shop'"},
      {"com_ping", {}, "0e"},
      {"com_quit", {}, "01"},
  };
  const MysqlPack& p = MysqlPack::Get();
  for (const Case& c : cases) {
    auto vars = p.Vars();
    Preset(p, vars, c.vars);
    auto out = EncodeLayout(p.pack(), p.layout(c.layout), vars);
    ASSERT_TRUE(out.ok()) << c.layout << ": " << out.error().message;
    EXPECT_EQ(*out, Wire(c.expected)) << c.layout;
  }
}

TEST(CodecEncodeTest, EncodingRejectsWrongKindsAndNulsInCStrings) {
  const MysqlPack& p = MysqlPack::Get();
  {
    auto vars = p.Vars();
    Preset(p, vars, {{"client_caps", Int(kProtocol41 | kLenencAuth)}, {"server_caps", Int(1)},
                     {"user", Text(std::string_view("a\0b", 3))}, {"auth_response", Text("")}});
    auto out = EncodeLayout(p.pack(), p.layout("handshake_response"), vars);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(out.error().message.find("'user' must not contain a NUL byte"), std::string::npos)
        << out.error().message;
  }
  {
    auto vars = p.Vars();  // a null user is a pack/host bug, reported as kPack
    Preset(p, vars, {{"client_caps", Int(kProtocol41)}, {"server_caps", Int(1)}, {"user", Null()}});
    auto out = EncodeLayout(p.pack(), p.layout("handshake_response"), vars);
    ASSERT_FALSE(out.ok());
    EXPECT_EQ(out.error().code, ErrorCode::kPack);
    EXPECT_NE(out.error().message.find("field 'user' needs bytes, has null"), std::string::npos)
        << out.error().message;
  }
}

// ---------------------------------------------------------------- round trip
//
// handshake_response is left out: it is encode-only (its two alternative
// auth_response fields would null each other on decode).

TEST(CodecRoundTripTest, EncodedPacketsDecodeToTheSameVariables) {
  struct Case {
    const char* layout;
    VarList preset;  // for `if` conditions on both sides
    VarList vars;
  };
  const std::vector<Case> cases = {
      {"ok", {},
       {{"affected_rows", Int(300)}, {"last_insert_id", Int(70000)}, {"status_flags", Int(2)},
        {"warnings", Int(1)}, {"info", Text("Rows matched: 1")}}},
      {"ok", {},
       {{"affected_rows", Int(UINT64_MAX)}, {"last_insert_id", Int(1u << 24)},
        {"status_flags", Int(0)}, {"warnings", Int(0)}, {"info", Text("")}}},
      {"eof", {}, {{"warnings", Int(7)}, {"status_flags", Int(0x4002)}}},
      {"column_def", {},
       {{"column_catalog", Text("def")}, {"column_schema", Text(Repeat('s', 251))},
        {"column_table", Text("t")}, {"column_org_table", Text("t")},
        {"column_name", Text(Repeat('n', 70000))}, {"column_org_name", Text("")},
        {"column_fixed_len", Int(12)}, {"column_charset", Int(45)},
        {"column_length", Int(0xffffffff)}, {"column_type", Int(253)}, {"column_flags", Int(1)},
        {"column_decimals", Int(31)}}},
      {"auth_switch", {}, {{"switch_plugin", Text("client_ed25519")}, {"switch_data", Text("xyz")}}},
      {"end_of_rows", {{"client_caps", Int(0x1000000)}},
       {{"affected_rows", Int(0)}, {"last_insert_id", Int(0)}, {"ok_status_flags", Int(0x22)},
        {"warnings", Int(0)}}},
  };
  const MysqlPack& p = MysqlPack::Get();
  for (const Case& c : cases) {
    auto in = p.Vars();
    Preset(p, in, c.preset);
    Preset(p, in, c.vars);
    auto bytes = EncodeLayout(p.pack(), p.layout(c.layout), in);
    ASSERT_TRUE(bytes.ok()) << c.layout << ": " << bytes.error().message;
    auto out = p.Vars();
    Preset(p, out, c.preset);
    Status st = DecodeLayout(p.pack(), p.layout(c.layout), *bytes, out);
    ASSERT_TRUE(st.ok()) << c.layout << ": " << st.error().message;
    for (const auto& [name, want] : c.vars) EXPECT_EQ(out[p.Slot(name)], want) << c.layout << "." << name;
  }
}

// The lenenc boundaries: 250 is direct, 251 (the NULL marker) and up need a
// marker byte; each width switches at its power of 256.
TEST(CodecRoundTripTest, LenencBoundariesPickTheShortestForm) {
  struct Case {
    uint64_t value;
    const char* bytes;
  };
  const std::vector<Case> cases = {
      {0, "00"},
      {250, "fa"},
      {251, "fc fb00"},
      {65535, "fc ffff"},
      {65536, "fd 000001"},
      {0xffffff, "fd ffffff"},
      {0x1000000, "fe 0000000100000000"},
      {UINT64_MAX, "fe ffffffffffffffff"},
  };
  const MysqlPack& p = MysqlPack::Get();
  for (const Case& c : cases) {
    auto vars = p.Vars();
    vars[p.Slot("column_count")] = Int(c.value);
    auto bytes = EncodeLayout(p.pack(), p.layout("column_count"), vars);
    ASSERT_TRUE(bytes.ok()) << bytes.error().message;
    EXPECT_EQ(*bytes, Wire(c.bytes)) << c.value;
    auto out = p.Vars();
    ASSERT_TRUE(DecodeLayout(p.pack(), p.layout("column_count"), *bytes, out).ok());
    EXPECT_EQ(out[p.Slot("column_count")], Int(c.value));
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
