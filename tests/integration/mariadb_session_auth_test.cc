// The Session API against the real MariaDB started by scripts/services/up:
// authentication plugins, TLS modes, errors a user acts on, the greeting
// callback and capability proposals.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mariadb_session.h"
#include "sqlx/transports/session.h"
#include "test_env.h"

namespace sqlx::transports {
namespace {

using sqlx::testing::MariaDbCa;
using sqlx::testing::MariaDbPort;
using sqlx::testing::MariaDbRogueCa;
using sqlx::testing::MustOpen;
using sqlx::testing::NativeUrl;
using sqlx::testing::QueryAll;
using sqlx::testing::Scalar;
using sqlx::testing::Url;

// A 127.0.0.1 port nothing listens on: bound to find it free, then closed.
uint16_t FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// --- Authentication and TLS -----------------------------------------------------------

TEST(MariaDbSessionTest, NativePasswordUserAuthenticatesAndPings) {
  auto s = MustOpen(NativeUrl());
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->server().auth_plugin, "mysql_native_password");
  EXPECT_EQ(s->server().endpoint, "127.0.0.1:" + MariaDbPort());
  EXPECT_TRUE(s->Ping().ok());
  EXPECT_EQ(Scalar(*s, "SELECT CURRENT_USER()"), "sqlx_native@127.0.0.1");
  EXPECT_TRUE(s->usable());
}

TEST(MariaDbSessionTest, Ed25519UserAuthenticates) {
  auto s = MustOpen(Url("sqlx_ed", "ed-pw"));
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->server().auth_plugin, "client_ed25519");
  EXPECT_EQ(Scalar(*s, "SELECT CURRENT_USER()"), "sqlx_ed@127.0.0.1");
}

TEST(MariaDbSessionTest, Ed25519UserWithWrongPasswordIsDenied) {
  auto s = Session::Open(Url("sqlx_ed", "not-ed-pw"), {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kAuth);
  EXPECT_EQ(s.error().server_code, 1045);
}

TEST(MariaDbSessionTest, EmptyPasswordUserAuthenticates) {
  auto s = MustOpen(Url("sqlx_empty", ""));
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(Scalar(*s, "SELECT CURRENT_USER()"), "sqlx_empty@127.0.0.1");
}

TEST(MariaDbSessionTest, RequireSslUserSucceedsWithSslModeRequired) {
  auto s = MustOpen(Url("sqlx_tls", "tls-pw", "sqlx_test", "ssl-mode=required"));
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->server().tls.active);
  EXPECT_EQ(s->server().tls.version.rfind("TLSv1.", 0), 0u) << s->server().tls.version;
  EXPECT_FALSE(s->server().tls.cipher.empty());
  EXPECT_FALSE(s->server().tls.verified);
  auto status = QueryAll(*s, "SHOW SESSION STATUS LIKE 'Ssl_version'");
  ASSERT_TRUE(status.ok()) << status.error().ToString();
  ASSERT_EQ(status->rows.size(), 1u);
  EXPECT_EQ(status->rows[0][1], s->server().tls.version);  // the server agrees
}

TEST(MariaDbSessionTest, RequireSslUserIsDeniedWithSslModeDisabled) {
  auto s = Session::Open(Url("sqlx_tls", "tls-pw", "sqlx_test", "ssl-mode=disabled"), {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kAuth) << s.error().ToString();
  EXPECT_EQ(s.error().server_code, 1045);
  EXPECT_EQ(s.error().message.find("tls-pw"), std::string::npos);
}

TEST(MariaDbSessionTest, VerifyCaWithTheTestCaSucceeds) {
  auto s = MustOpen(Url("sqlx_tls", "tls-pw", "sqlx_test", "ssl-mode=verify-ca&ssl-ca=" + MariaDbCa()));
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->server().tls.active);
  EXPECT_TRUE(s->server().tls.verified);
  EXPECT_EQ(s->server().tls.trust, "custom");
  EXPECT_TRUE(s->Ping().ok());
}

TEST(MariaDbSessionTest, VerifyCaWithARogueCaFailsVerification) {
  auto s = Session::Open(
      Url("sqlx_native", "native-pw", "sqlx_test", "ssl-mode=verify-ca&ssl-ca=" + MariaDbRogueCa()), {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kTls) << s.error().ToString();
  EXPECT_NE(s.error().message.find("verification"), std::string::npos) << s.error().message;
  EXPECT_EQ(s.error().message.find("native-pw"), std::string::npos);
}

TEST(MariaDbSessionTest, VerifyIdentityAgainstTheIpAddressSanSucceeds) {
  auto s = MustOpen(
      Url("sqlx_native", "native-pw", "sqlx_test", "ssl-mode=verify-identity&ssl-ca=" + MariaDbCa()));
  ASSERT_NE(s, nullptr);
  EXPECT_TRUE(s->server().tls.verified);
  EXPECT_EQ(s->server().tls.trust, "custom");
}

TEST(MariaDbSessionTest, WrongPasswordIsAnAuthErrorNamingTheUserButNotThePassword) {
  const std::string password = "wrong-secret-7291";
  auto s = Session::Open(Url("sqlx_native", password), {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kAuth);
  EXPECT_EQ(s.error().server_code, 1045);
  EXPECT_EQ(s.error().sqlstate, "28000");
  EXPECT_NE(s.error().message.find("sqlx_native"), std::string::npos) << s.error().message;
  EXPECT_EQ(s.error().message.find(password), std::string::npos) << s.error().message;
  EXPECT_EQ(s.error().ToString().find(password), std::string::npos);
}

TEST(MariaDbSessionTest, UnknownUserIsAnAuthError) {
  auto s = Session::Open(Url("sqlx_nobody", "whatever"), {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kAuth) << s.error().ToString();
  EXPECT_EQ(s.error().server_code, 1045);
}

TEST(MariaDbSessionTest, RefusedPortIsConnectionRefusedNamingHostAndPort) {
  const uint16_t port = FreePort();
  auto url = ParseConnectionUrl("mysql://sqlx_native:native-pw@127.0.0.1:" + std::to_string(port) + "/sqlx_test");
  ASSERT_TRUE(url.ok());
  auto s = Session::Open(*url, {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kConnectionRefused) << s.error().ToString();
  EXPECT_NE(s.error().message.find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << s.error().message;
}

TEST(MariaDbSessionTest, UnknownDatabaseInTheUrlIsError1049) {
  auto s = Session::Open(NativeUrl("sqlx_no_such_db"), {});
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().server_code, 1049) << s.error().ToString();
  EXPECT_NE(s.error().message.find("sqlx_no_such_db"), std::string::npos);
}

// --- Greeting and capability proposals ------------------------------------------------

TEST(MariaDbSessionTest, GreetingCallbackSeesVersionAndCapabilityNames) {
  Greeting seen;
  int calls = 0;
  SessionOptions options;
  options.on_greeting = [&](const Greeting& g, CapabilityProposal&) {
    seen = g;
    ++calls;
  };
  auto s = MustOpen(NativeUrl(), options);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(calls, 1);
  EXPECT_NE(seen.server_version.find("MariaDB"), std::string::npos) << seen.server_version;
  EXPECT_GT(seen.connection_id, 0u);
  EXPECT_EQ(seen.pack, "mysql");
  auto has = [](const std::vector<std::string>& names, const std::string& n) {
    return std::find(names.begin(), names.end(), n) != names.end();
  };
  EXPECT_TRUE(has(seen.server_capabilities, "CLIENT_PROTOCOL_41"));
  EXPECT_TRUE(has(seen.server_capabilities, "CLIENT_SSL"));
  EXPECT_TRUE(has(seen.server_capabilities, "CLIENT_PLUGIN_AUTH"));
  EXPECT_TRUE(has(s->server().client_capabilities, "CLIENT_PROTOCOL_41"));
  EXPECT_FALSE(has(s->server().client_capabilities, "CLIENT_MULTI_STATEMENTS"));
  EXPECT_EQ(s->server().greeting.server_version, seen.server_version);
}

TEST(MariaDbSessionTest, MultiStatementsProposalGivesTwoResults) {
  SessionOptions options;
  options.on_greeting = [](const Greeting&, CapabilityProposal& p) { p.add.push_back("CLIENT_MULTI_STATEMENTS"); };
  auto s = MustOpen(NativeUrl(), options);
  ASSERT_NE(s, nullptr);
  const auto& caps = s->server().client_capabilities;
  EXPECT_NE(std::find(caps.begin(), caps.end(), "CLIENT_MULTI_STATEMENTS"), caps.end());
  auto stream = s->Query("SELECT 1; SELECT 2");
  ASSERT_TRUE(stream.ok());
  std::vector<std::string> values;
  for (;;) {
    auto more = (*stream)->NextResult();
    ASSERT_TRUE(more.ok()) << more.error().ToString();
    if (!*more) break;
    ASSERT_TRUE((*stream)->has_rows());
    auto batch = (*stream)->NextBatch();
    ASSERT_TRUE(batch.ok());
    ASSERT_NE(*batch, nullptr);
    ASSERT_EQ((*batch)->rows(), 1u);
    values.emplace_back((*batch)->value(0, 0));
  }
  EXPECT_EQ(values, (std::vector<std::string>{"1", "2"}));
  stream->reset();
  EXPECT_EQ(Scalar(*s, "SELECT 3"), "3");
}

TEST(MariaDbSessionTest, MultiStatementsWithoutTheProposalIsAServerError) {
  auto s = MustOpen(NativeUrl());
  ASSERT_NE(s, nullptr);
  auto t = QueryAll(*s, "SELECT 1; SELECT 2");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::kServer);
  EXPECT_EQ(t.error().server_code, 1064);
  EXPECT_EQ(Scalar(*s, "SELECT 3"), "3");
}

TEST(MariaDbSessionTest, ProposalWithAnUnknownCapabilityIsInvalidArgument) {
  SessionOptions options;
  options.on_greeting = [](const Greeting&, CapabilityProposal& p) { p.add.push_back("CLIENT_NO_SUCH_FLAG"); };
  auto s = Session::Open(NativeUrl(), options);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(s.error().message.find("CLIENT_NO_SUCH_FLAG"), std::string::npos) << s.error().message;
}

}  // namespace
}  // namespace sqlx::transports
