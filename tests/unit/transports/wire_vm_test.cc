// WireVm running the shipped MySQL pack's procedures against scripted server
// bytes: what the client writes during connect (checked against auth
// responses computed here, independently, with OpenSSL and libsodium), auth
// switches and failures, result sets with and without CLIENT_DEPRECATE_EOF,
// batch limits, errors in the middle of rows, and unexpected packets.
#include "wire_vm.h"

#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "framing.h"
#include "memory_stream.h"
#include "pack.h"

namespace sqlx::transports {
namespace {

using testing::Frame3;
using testing::MemoryStream;
using Cells = std::vector<std::optional<std::string>>;

const WirePack& Pack() {
  static const std::shared_ptr<const WirePack> pack = [] {
    auto loaded = WirePack::Load(SQLX_SOURCE_DIR "/transports/packs/mysql.wire.json");
    EXPECT_TRUE(loaded.ok()) << loaded.error().message;
    return loaded.ok() ? std::move(loaded).value() : nullptr;
  }();
  return *pack;
}

uint64_t Cap(const char* name) {
  auto it = Pack().constants().find(name);
  EXPECT_NE(it, Pack().constants().end()) << name;
  return it == Pack().constants().end() ? 0 : it->second;
}

// ------------------------------------------------------ independent crypto

std::string Digest(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), out, &len, md, nullptr), 1);
  return std::string(reinterpret_cast<char*>(out), len);
}
std::string Sha1(std::string_view d) { return Digest(EVP_sha1(), d); }
std::string Sha256(std::string_view d) { return Digest(EVP_sha256(), d); }
std::string Sha512(std::string_view d) { return Digest(EVP_sha512(), d); }
std::string Xor(std::string a, std::string_view b) {
  for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<char>(a[i] ^ b[i % b.size()]);
  return a;
}

// mysql_native_password: SHA1(pw) XOR SHA1(scramble + SHA1(SHA1(pw))).
std::string NativeScramble(std::string_view password, std::string_view scramble) {
  return Xor(Sha1(password), Sha1(std::string(scramble) + Sha1(Sha1(password))));
}
// caching_sha2_password fast path: SHA256(pw) XOR SHA256(SHA256(SHA256(pw)) + scramble).
std::string CachingSha2Scramble(std::string_view password, std::string_view scramble) {
  return Xor(Sha256(password), Sha256(Sha256(Sha256(password)) + std::string(scramble)));
}

// ------------------------------------------------------------ server bytes

std::string Le(uint64_t v, size_t width) {
  std::string out;
  for (size_t i = 0; i < width; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}
std::string Lenenc(std::string_view s) {
  std::string out = s.size() < 251 ? Le(s.size(), 1) : "\xfc" + Le(s.size(), 2);
  return out + std::string(s);
}

constexpr std::string_view kScramble = "0123456789abcdefghij";  // 20 bytes

struct GreetingSpec {
  std::string version = "8.0.36";
  uint64_t caps = 0;  // bits 32+ go to MariaDB's extended-capability bytes
  std::string plugin = "mysql_native_password";
};

// Protocol::HandshakeV10.
std::string Greeting(const GreetingSpec& g) {
  std::string p;
  p += '\x0a';
  p += g.version + '\0';
  p += Le(77, 4);                       // connection id
  p += kScramble.substr(0, 8);
  p += '\0';
  p += Le(g.caps & 0xffff, 2);
  p += '\x2d';                          // charset
  p += Le(2, 2);                        // status
  p += Le((g.caps >> 16) & 0xffff, 2);
  p += '\x15';                          // auth data length 21
  p += std::string(6, '\0');
  p += Le(g.caps >> 32, 4);
  p += std::string(kScramble.substr(8)) + '\0';
  p += g.plugin + '\0';
  return p;
}

uint64_t MysqlServerCaps() {
  return Cap("CLIENT_LONG_PASSWORD") | Cap("CLIENT_LONG_FLAG") | Cap("CLIENT_CONNECT_WITH_DB") |
         Cap("CLIENT_PROTOCOL_41") | Cap("CLIENT_TRANSACTIONS") | Cap("CLIENT_SECURE_CONNECTION") |
         Cap("CLIENT_MULTI_RESULTS") | Cap("CLIENT_PS_MULTI_RESULTS") | Cap("CLIENT_PLUGIN_AUTH") |
         Cap("CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA") | Cap("CLIENT_DEPRECATE_EOF");
}
// MariaDB clears bit 0 (CLIENT_MYSQL) and announces extended capabilities.
uint64_t MariadbServerCaps() {
  return (MysqlServerCaps() & ~Cap("CLIENT_LONG_PASSWORD")) | Cap("MARIADB_CLIENT_PROGRESS") |
         Cap("MARIADB_CLIENT_CACHE_METADATA");
}

// OK_Packet: header, affected rows and last insert id (one-byte lenencs),
// status, warnings.
std::string Ok(uint8_t affected = 0, uint16_t status = 2) {
  return std::string("\x00", 1) + Le(affected, 1) + Le(0, 1) + Le(status, 2) + Le(0, 2);
}
std::string Err(uint16_t code, std::string_view state, std::string_view message) {
  std::string p = "\xff" + Le(code, 2);
  if (!state.empty()) p += "#" + std::string(state);
  return p + std::string(message);
}
std::string Eof(uint16_t status = 2) { return "\xfe" + Le(0, 2) + Le(status, 2); }
// An OK packet with header 0xfe: the end of rows under CLIENT_DEPRECATE_EOF.
std::string OkEnd(uint16_t status = 2) {
  return std::string("\xfe\x00\x00", 3) + Le(status, 2) + Le(0, 2);
}
std::string ColumnDef(std::string_view name) {
  return Lenenc("def") + Lenenc("db") + Lenenc("t") + Lenenc("t") + Lenenc(name) + Lenenc(name) +
         "\x0c" + Le(45, 2) + Le(255, 4) + "\xfd" + Le(0, 2) + '\0' + Le(0, 2);
}
std::string Row(const Cells& cells) {
  std::string p;
  for (const auto& c : cells) p += c ? Lenenc(*c) : std::string("\xfb");
  return p;
}

// Numbers each packet's sequence id from `first`.
std::string Script(const std::vector<std::string>& payloads, uint8_t first) {
  std::string out;
  for (const std::string& p : payloads) out += Frame3(p, first++);
  return out;
}

struct Written {
  std::string payload;
  int sequence;
};
std::vector<Written> Packets(const std::string& bytes) {
  std::vector<Written> out;
  size_t pos = 0;
  while (pos + 4 <= bytes.size()) {
    const auto* h = reinterpret_cast<const uint8_t*>(bytes.data() + pos);
    size_t len = h[0] | (h[1] << 8) | (h[2] << 16);
    out.push_back({bytes.substr(pos + 4, len), h[3]});
    pos += 4 + len;
  }
  EXPECT_EQ(pos, bytes.size());
  return out;
}

// ----------------------------------------------------------------- harness

class NoTlsHost : public WireVm::Host {
 public:
  Status StartTls() override {
    ++calls;
    return MakeError(ErrorCode::kTls, "this test host has no TLS");
  }
  int calls = 0;
};

// A VM whose server is `server_bytes`, delivered 7 bytes at a time.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::string server_bytes)
      : stream_(std::move(server_bytes), 7), framer_(Pack(), &stream_, 1u << 24), vm_(Pack(), &framer_, &host_) {}

  WireVm& vm() { return vm_; }
  NoTlsHost& host() { return host_; }
  MemoryStream& stream() { return stream_; }
  std::vector<Written> written() const { return Packets(stream_.written()); }
  std::string Bytes(std::string_view var) const {
    const Value& v = vm_.Get(var);
    return v.is_bytes() ? v.b : "<not bytes>";
  }
  uint64_t Int(std::string_view var) const {
    const Value& v = vm_.Get(var);
    return v.is_int() ? v.i : UINT64_MAX;
  }

  struct Log {
    std::vector<std::string> events;  // event names; "rows:N" for a batch of N rows
    std::vector<Cells> rows;
    std::vector<std::string> columns;
    Status status;
  };

  // Runs procedure `name` to its end or first error, recording what it yields.
  Log Run(std::string_view name) {
    Log log;
    log.status = vm_.Begin(name);
    if (!log.status.ok()) return log;
    for (int guard = 0; guard < 100000; ++guard) {
      auto y = vm_.Run();
      if (!y.ok()) {
        log.status = y.error();
        return log;
      }
      switch (*y) {
        case WireVm::Yield::kDone: return log;
        case WireVm::Yield::kEvent:
          log.events.push_back(vm_.event());
          if (vm_.event() == "column") log.columns.push_back(Bytes("column_name"));
          break;
        case WireVm::Yield::kRows: {
          const RowBatch& b = vm_.rows();
          log.events.push_back("rows:" + std::to_string(b.rows()));
          for (size_t r = 0; r < b.rows(); ++r) {
            Cells row;
            for (size_t c = 0; c < b.columns(); ++c) {
              auto cell = b.cell(r, c);
              row.push_back(cell ? std::optional<std::string>(std::string(*cell)) : std::nullopt);
            }
            log.rows.push_back(row);
          }
          break;
        }
      }
    }
    ADD_FAILURE() << "procedure " << name << " did not end";
    return log;
  }

 private:
  NoTlsHost host_;
  MemoryStream stream_;
  Framer framer_;
  WireVm vm_;
};

void SetLogin(WireVm& vm, std::string_view user, std::string_view password, std::string_view db) {
  vm.Set("user", Value::Bytes(user));
  vm.Set("password", Value::Bytes(password));
  vm.Set("database", Value::Bytes(db));
  vm.Set("endpoint", Value::Bytes(std::string_view("127.0.0.1:3306")));
}

// The fields of a HandshakeResponse41 written with lenenc auth data.
struct Response {
  uint64_t caps = 0;
  uint64_t max_packet = 0;
  int charset = 0;
  bool filler_zero = false;
  uint64_t ext_caps = 0;
  std::string user, auth, database, plugin;
  bool ok = false;
};
Response ParseResponse(std::string_view p) {
  Response r;
  if (p.size() < 32) return r;
  auto u32 = [&](size_t at) {
    uint64_t v = 0;
    for (size_t i = 0; i < 4; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[at + i])) << (8 * i);
    return v;
  };
  r.caps = u32(0);
  r.max_packet = u32(4);
  r.charset = static_cast<uint8_t>(p[8]);
  r.filler_zero = p.substr(9, 19) == std::string(19, '\0');
  r.ext_caps = u32(28);
  std::string_view rest = p.substr(32);
  auto cstr = [&](std::string* out) {
    size_t nul = rest.find('\0');
    if (nul == std::string_view::npos) return false;
    *out = std::string(rest.substr(0, nul));
    rest.remove_prefix(nul + 1);
    return true;
  };
  if (!cstr(&r.user) || rest.empty()) return r;
  size_t n = static_cast<uint8_t>(rest[0]);  // short responses only in these tests
  if (n >= 251 || rest.size() < 1 + n) return r;
  r.auth = std::string(rest.substr(1, n));
  rest.remove_prefix(1 + n);
  if ((r.caps & Cap("CLIENT_CONNECT_WITH_DB")) && !cstr(&r.database)) return r;
  if ((r.caps & Cap("CLIENT_PLUGIN_AUTH")) && !cstr(&r.plugin)) return r;
  r.ok = rest.empty();
  return r;
}

// ----------------------------------------------------------------- connect

TEST(WireVmConnectTest, NativePasswordLoginWritesTheExpectedHandshakeResponse) {
  ScriptedServer s(Script({Greeting({.caps = MysqlServerCaps()})}, 0) + Script({Ok()}, 2));
  SetLogin(s.vm(), "app", "secret", "shop");
  auto log = s.Run("connect");
  ASSERT_TRUE(log.status.ok()) << log.status.error().message;
  EXPECT_EQ(log.events, std::vector<std::string>{"greeting"});
  EXPECT_TRUE(s.vm().in_sync());
  EXPECT_FALSE(s.vm().busy());
  EXPECT_EQ(s.stream().unread(), 0u);

  auto out = s.written();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].sequence, 1);
  Response r = ParseResponse(out[0].payload);
  ASSERT_TRUE(r.ok) << "unparseable handshake response";
  EXPECT_EQ(r.caps, s.Int("client_caps"));
  EXPECT_NE(r.caps & Cap("CLIENT_PLUGIN_AUTH"), 0u);
  EXPECT_NE(r.caps & Cap("CLIENT_PROTOCOL_41"), 0u);
  EXPECT_NE(r.caps & Cap("CLIENT_SECURE_CONNECTION"), 0u);
  EXPECT_NE(r.caps & Cap("CLIENT_CONNECT_WITH_DB"), 0u);
  EXPECT_NE(r.caps & Cap("CLIENT_DEPRECATE_EOF"), 0u);
  EXPECT_EQ(r.caps & Cap("CLIENT_SSL"), 0u);
  EXPECT_EQ(r.max_packet, 1u << 30);
  EXPECT_EQ(r.charset, 45);
  EXPECT_TRUE(r.filler_zero);
  EXPECT_EQ(r.ext_caps, 0u);
  EXPECT_EQ(r.user, "app");
  EXPECT_EQ(r.auth, NativeScramble("secret", kScramble));
  EXPECT_EQ(r.auth.size(), 20u);
  EXPECT_EQ(r.database, "shop");
  EXPECT_EQ(r.plugin, "mysql_native_password");
  EXPECT_EQ(s.Bytes("server_version"), "8.0.36");
}

TEST(WireVmConnectTest, NoDatabaseMeansNoConnectWithDbAndAnEmptyPasswordNoScramble) {
  ScriptedServer s(Script({Greeting({.caps = MysqlServerCaps()})}, 0) + Script({Ok()}, 2));
  SetLogin(s.vm(), "app", "", "");
  auto log = s.Run("connect");
  ASSERT_TRUE(log.status.ok()) << log.status.error().message;
  auto out = s.written();
  ASSERT_EQ(out.size(), 1u);
  Response r = ParseResponse(out[0].payload);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.caps & Cap("CLIENT_CONNECT_WITH_DB"), 0u);
  EXPECT_EQ(r.auth, "");
  EXPECT_EQ(r.database, "");
  EXPECT_EQ(r.plugin, "mysql_native_password");
}

// The signature must verify with the public key MariaDB derives from the
// password: A = clamp(SHA-512(password)[0..31]) * B.
TEST(WireVmConnectTest, AuthSwitchToClientEd25519SignsTheNonce) {
  ASSERT_GE(sodium_init(), 0);
  const std::string nonce = "NONCE-0123456789abcdefghijklmno";  // 31 bytes + 1 below
  const std::string nonce32 = nonce + "!";
  ASSERT_EQ(nonce32.size(), 32u);
  ScriptedServer s(Script({Greeting({.version = "5.5.5-10.11.6-MariaDB", .caps = MariadbServerCaps()})}, 0) +
                   Script({"\xfe" + std::string("client_ed25519") + '\0' + nonce32}, 2) +
                   Script({Ok()}, 4));
  SetLogin(s.vm(), "app", "ed-secret", "");
  s.vm().Set("caps_add", Value::Int(Cap("MARIADB_CLIENT_PROGRESS")));
  auto log = s.Run("connect");
  ASSERT_TRUE(log.status.ok()) << log.status.error().message;
  EXPECT_EQ(s.Bytes("auth_plugin"), "client_ed25519");

  auto out = s.written();
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].sequence, 1);
  EXPECT_EQ(out[1].sequence, 3);
  Response r = ParseResponse(out[0].payload);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.caps & Cap("CLIENT_LONG_PASSWORD"), 0u) << "MariaDB cleared bit 0";
  EXPECT_EQ(r.ext_caps, Cap("MARIADB_CLIENT_PROGRESS") >> 32) << "extended caps in the reserved bytes";
  EXPECT_EQ(r.auth, NativeScramble("ed-secret", kScramble));

  const std::string& signature = out[1].payload;
  ASSERT_EQ(signature.size(), crypto_sign_BYTES);
  const std::string h = Sha512("ed-secret");
  unsigned char public_key[crypto_sign_PUBLICKEYBYTES];
  ASSERT_EQ(crypto_scalarmult_ed25519_base(public_key, reinterpret_cast<const unsigned char*>(h.data())), 0);
  EXPECT_EQ(crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                        reinterpret_cast<const unsigned char*>(nonce32.data()),
                                        nonce32.size(), public_key),
            0)
      << "the ed25519 signature does not verify";
}

TEST(WireVmConnectTest, CachingSha2FastAuthSendsTheSha256Scramble) {
  ScriptedServer s(Script({Greeting({.caps = MysqlServerCaps(), .plugin = "caching_sha2_password"})}, 0) +
                   Script({"\x01\x03", Ok()}, 2));
  SetLogin(s.vm(), "app", "sha2-pw", "");
  auto log = s.Run("connect");
  ASSERT_TRUE(log.status.ok()) << log.status.error().message;
  auto out = s.written();
  ASSERT_EQ(out.size(), 1u);
  Response r = ParseResponse(out[0].payload);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.plugin, "caching_sha2_password");
  EXPECT_EQ(r.auth, CachingSha2Scramble("sha2-pw", kScramble));
}

TEST(WireVmConnectTest, CachingSha2FullAuthWithoutTlsOrKeyIsRefused) {
  ScriptedServer s(Script({Greeting({.caps = MysqlServerCaps(), .plugin = "caching_sha2_password"})}, 0) +
                   Script({"\x01\x04"}, 2));
  SetLogin(s.vm(), "app", "sha2-pw", "");
  auto log = s.Run("connect");
  ASSERT_FALSE(log.status.ok());
  EXPECT_EQ(log.status.error().code, ErrorCode::kAuth);
  EXPECT_NE(log.status.error().message.find("needs full authentication"), std::string::npos)
      << log.status.error().message;
  EXPECT_EQ(s.written().size(), 1u) << "the password is never sent in clear";
}

TEST(WireVmConnectTest, AccessDeniedIsAnAuthErrorWithTheServerCode) {
  ScriptedServer s(Script({Greeting({.caps = MysqlServerCaps()})}, 0) +
                   Script({Err(1045, "28000", "Access denied for user 'app'@'localhost' (using password: YES)")}, 2));
  SetLogin(s.vm(), "app", "wrong", "");
  auto log = s.Run("connect");
  ASSERT_FALSE(log.status.ok());
  const Error& e = log.status.error();
  EXPECT_EQ(e.code, ErrorCode::kAuth);
  EXPECT_EQ(e.server_code, 1045);
  EXPECT_EQ(e.sqlstate, "28000");
  EXPECT_EQ(e.message, "Access denied for user 'app'@'localhost' (using password: YES)");
  EXPECT_FALSE(s.vm().in_sync());
}

TEST(WireVmConnectTest, AnErrorInsteadOfAGreetingCarriesTheServerCode) {
  ScriptedServer s(Script({Err(1040, "", "Too many connections")}, 0));
  SetLogin(s.vm(), "app", "pw", "");
  auto log = s.Run("connect");
  ASSERT_FALSE(log.status.ok());
  EXPECT_EQ(log.status.error().code, ErrorCode::kServer);
  EXPECT_EQ(log.status.error().server_code, 1040);
  EXPECT_EQ(log.status.error().sqlstate, "");
  EXPECT_EQ(log.status.error().message, "Too many connections");
  EXPECT_TRUE(s.written().empty());
}

TEST(WireVmConnectTest, AnUnknownProtocolVersionIsAProtocolError) {
  std::string old = Greeting({.caps = MysqlServerCaps()});
  old[0] = 9;
  ScriptedServer s(Script({old}, 0));
  SetLogin(s.vm(), "app", "pw", "");
  auto log = s.Run("connect");
  ASSERT_FALSE(log.status.ok());
  EXPECT_EQ(log.status.error().code, ErrorCode::kProtocol);
  EXPECT_NE(log.status.error().message.find("protocol version 9"), std::string::npos)
      << log.status.error().message;
  EXPECT_NE(log.status.error().message.find("127.0.0.1:3306"), std::string::npos);
}

TEST(WireVmConnectTest, TlsRequiredButNotOfferedFailsBeforeSendingCredentials) {
  ScriptedServer s(Script({Greeting({.caps = MysqlServerCaps()})}, 0));
  SetLogin(s.vm(), "app", "pw", "");
  s.vm().Set("tls_mode", Value::Int(2));
  s.vm().Set("tls_mode_name", Value::Bytes(std::string_view("required")));
  auto log = s.Run("connect");
  ASSERT_FALSE(log.status.ok());
  EXPECT_EQ(log.status.error().code, ErrorCode::kTls);
  EXPECT_NE(log.status.error().message.find("ssl-mode=required"), std::string::npos)
      << log.status.error().message;
  EXPECT_TRUE(s.written().empty());
  EXPECT_EQ(s.host().calls, 0);
}

TEST(WireVmConnectTest, OfferedTlsSendsAnSslRequestThenAsksTheHost) {
  ScriptedServer s(Script({Greeting({.caps = MysqlServerCaps() | Cap("CLIENT_SSL")})}, 0));
  SetLogin(s.vm(), "app", "pw", "");
  auto log = s.Run("connect");
  ASSERT_FALSE(log.status.ok());
  EXPECT_EQ(log.status.error().code, ErrorCode::kTls);
  EXPECT_EQ(s.host().calls, 1);
  auto out = s.written();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].payload.size(), 32u) << "an SSLRequest, not the credentials";
  Response r = ParseResponse(out[0].payload + std::string("\0\0", 2));
  EXPECT_NE(r.caps & Cap("CLIENT_SSL"), 0u);
  EXPECT_FALSE(s.vm().in_sync());
}

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
