// WireVm running the shipped MySQL pack's connect procedure against
// scripted server bytes: what the client writes (checked against auth
// responses computed here, independently, with OpenSSL and libsodium), auth
// switches, TLS negotiation and failures.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <sodium.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "scripted_server.h"
#include "wire_vm.h"

namespace sqlx::transports {
namespace {

using testing::Cap;
using testing::Err;
using testing::Le;
using testing::Ok;
using testing::Script;
using testing::ScriptedServer;

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

// ---------------------------------------------------------------- greeting

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

// ------------------------------------------------------ handshake response

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

}  // namespace
}  // namespace sqlx::transports
