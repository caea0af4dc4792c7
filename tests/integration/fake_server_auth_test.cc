// Session against the scripted fake MySQL server (tests/support/
// fake_mysql_server.py): authentication flows a real MariaDB cannot produce
// (caching_sha2_password, auth switches, errors before and during the handshake).
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
using ::testing::HasSubstr;
using ::testing::Not;
using sqlx::testing::FakeServerTest;
using sqlx::testing::KeyDirEnvironment;
using sqlx::testing::kFirstConnectionId;
using sqlx::testing::QueryOutcome;
using sqlx::testing::RunQuery;

using MySqlAuthTest = FakeServerTest;

TEST_F(MySqlAuthTest, NativePasswordServesPingQueriesAndInitDb) {
  ASSERT_NO_FATAL_FAILURE(StartServer("native"));
  auto session = Connect();
  ASSERT_TRUE(session.ok()) << session.error().ToString();
  Session& s = **session;
  EXPECT_EQ(s.server().auth_plugin, "mysql_native_password");
  EXPECT_EQ(s.server().greeting.server_version, "8.0.36-sqlx-fake");
  EXPECT_EQ(s.server().greeting.connection_id, kFirstConnectionId);
  EXPECT_EQ(s.server().endpoint, Endpoint());

  Status ping = s.Ping();
  EXPECT_TRUE(ping.ok()) << ping.error().ToString();

  QueryOutcome one = RunQuery(s, "SELECT 1");
  ASSERT_FALSE(one.error) << one.error->ToString();
  ASSERT_EQ(one.columns.size(), 1u);
  EXPECT_EQ(one.columns[0].name, "1");
  EXPECT_EQ(one.columns[0].type, 8u);  // LONGLONG
  ASSERT_EQ(one.rows.size(), 1u);
  EXPECT_EQ(one.rows[0], (std::vector<std::optional<std::string>>{"1"}));

  QueryOutcome null_x = RunQuery(s, "SELECT NULL, 'x'");
  ASSERT_FALSE(null_x.error) << null_x.error->ToString();
  ASSERT_EQ(null_x.columns.size(), 2u);
  EXPECT_EQ(null_x.columns[0].name, "NULL");
  EXPECT_EQ(null_x.columns[1].name, "x");
  ASSERT_EQ(null_x.rows.size(), 1u);
  EXPECT_EQ(null_x.rows[0], (std::vector<std::optional<std::string>>{std::nullopt, "x"}));

  Status init = s.InitDb("sqlx_test");
  EXPECT_TRUE(init.ok()) << init.error().ToString();
  EXPECT_TRUE(s.usable());
  s.Close();
  ExpectServerOk("mysql_native_password scramble verified");
  EXPECT_THAT(server_->Stderr(),
              AllOf(HasSubstr("PING"), HasSubstr("QUERY 'SELECT 1'"), HasSubstr("INIT_DB sqlx_test"),
                    HasSubstr("QUIT"), Not(HasSubstr("without COM_QUIT"))));
}

TEST_F(MySqlAuthTest, CachingSha2FastAuthReportsItsPlugin) {
  ASSERT_NO_FATAL_FAILURE(StartServer("caching_sha2_fast"));
  auto session = Connect();
  ASSERT_TRUE(session.ok()) << session.error().ToString();
  EXPECT_EQ((*session)->server().auth_plugin, "caching_sha2_password");
  EXPECT_EQ((*session)->server().greeting.auth_plugin, "caching_sha2_password");
  EXPECT_TRUE((*session)->Ping().ok());
  (*session)->Close();
  ExpectServerOk("caching_sha2_password scramble verified, fast auth");
}

TEST_F(MySqlAuthTest, CachingSha2FastAuthWithAWrongPasswordIsAccessDenied) {
  ASSERT_NO_FATAL_FAILURE(StartServer("caching_sha2_fast"));
  auto session = Connect("", "not-pw");
  ASSERT_FALSE(session.ok());
  const Error& e = session.error();
  EXPECT_EQ(e.code, ErrorCode::kAuth) << e.ToString();
  EXPECT_EQ(e.server_code, 1045);
  EXPECT_EQ(e.sqlstate, "28000");
  EXPECT_THAT(e.message, AllOf(HasSubstr("Access denied for user 'u'"), HasSubstr("u@" + Endpoint()),
                               Not(HasSubstr("not-pw"))));
  ExpectServerFail("caching_sha2_password scramble mismatch");
}

TEST_F(MySqlAuthTest, CachingSha2FullAuthWithoutTlsOrKeyTellsHowToProceed) {
  ASSERT_NO_FATAL_FAILURE(StartServer("caching_sha2_full_rsa"));
  auto session = Connect();
  ASSERT_FALSE(session.ok());
  const Error& e = session.error();
  EXPECT_EQ(e.code, ErrorCode::kAuth) << e.ToString();
  EXPECT_THAT(e.message, AllOf(HasSubstr("ssl-mode=required"), HasSubstr("server-public-key="),
                               HasSubstr("get-server-public-key=true")));
  // The client gave up instead of sending the password in clear.
  ExpectServerFail("waited for full-auth reply");
}

TEST_F(MySqlAuthTest, CachingSha2FullAuthFetchesTheServerKeyWhenAllowed) {
  ASSERT_NO_FATAL_FAILURE(StartServer("caching_sha2_full_rsa"));
  auto session = Connect("ssl-mode=disabled&get-server-public-key=true");
  ASSERT_TRUE(session.ok()) << session.error().ToString();
  EXPECT_EQ((*session)->server().auth_plugin, "caching_sha2_password");
  EXPECT_FALSE((*session)->server().tls.active);
  (*session)->Close();
  ExpectServerOk("RSA-OAEP encrypted password verified");
  EXPECT_THAT(server_->Stderr(), HasSubstr("public key requested"));
}

TEST_F(MySqlAuthTest, CachingSha2FullAuthUsesAConfiguredServerKeyWithoutFetching) {
  ASSERT_NO_FATAL_FAILURE(StartServer("caching_sha2_full_rsa"));
  auto session = Connect("server-public-key=" + KeyDirEnvironment::path() + "/rsa_public_key.pem");
  ASSERT_TRUE(session.ok()) << session.error().ToString();
  (*session)->Close();
  ExpectServerOk("client used a preconfigured public key");
  EXPECT_THAT(server_->Stderr(),
              AllOf(HasSubstr("RSA-OAEP encrypted password verified"), Not(HasSubstr("public key requested"))));
}

TEST_F(MySqlAuthTest, CachingSha2FullAuthSendsThePasswordOverTls) {
  ASSERT_NO_FATAL_FAILURE(StartServer("caching_sha2_full_tls"));
  auto session = Connect("ssl-mode=required");
  ASSERT_TRUE(session.ok()) << session.error().ToString();
  EXPECT_TRUE((*session)->server().tls.active);
  EXPECT_FALSE((*session)->server().tls.version.empty());
  EXPECT_TRUE((*session)->Ping().ok());
  (*session)->Close();
  ExpectServerOk("cleartext password over TLS verified");
  EXPECT_THAT(server_->Stderr(), HasSubstr("TLS via SSLRequest"));
}

TEST_F(MySqlAuthTest, AuthSwitchAnswersWithTheNewScramble) {
  ASSERT_NO_FATAL_FAILURE(StartServer("auth_switch"));
  auto session = Connect();
  ASSERT_TRUE(session.ok()) << session.error().ToString();
  EXPECT_EQ((*session)->server().greeting.auth_plugin, "mysql_native_password");
  EXPECT_EQ((*session)->server().auth_plugin, "caching_sha2_password");
  (*session)->Close();
  ExpectServerOk("auth switch mysql_native_password -> caching_sha2_password");
}

TEST_F(MySqlAuthTest, AuthSwitchToAnUnknownPluginDisconnectsNamingThePlugins) {
  ASSERT_NO_FATAL_FAILURE(StartServer("auth_switch_unknown_plugin"));
  auto session = Connect();
  ASSERT_FALSE(session.ok());
  const Error& e = session.error();
  EXPECT_EQ(e.code, ErrorCode::kUnsupported) << e.ToString();
  EXPECT_THAT(e.message, AllOf(HasSubstr("sqlx_no_such_plugin"), HasSubstr("mysql_native_password"),
                               HasSubstr("caching_sha2_password"), HasSubstr("client_ed25519")));
  ExpectServerOk("client disconnected after auth switch to unknown plugin sqlx_no_such_plugin");
}

TEST_F(MySqlAuthTest, AccessDeniedIsAnAuthErrorWithServerCodeAndSqlstate) {
  ASSERT_NO_FATAL_FAILURE(StartServer("access_denied"));
  auto session = Connect();
  ASSERT_FALSE(session.ok());
  const Error& e = session.error();
  EXPECT_EQ(e.code, ErrorCode::kAuth) << e.ToString();
  EXPECT_EQ(e.server_code, 1045);
  EXPECT_EQ(e.sqlstate, "28000");
  EXPECT_THAT(e.message, AllOf(HasSubstr("Access denied for user 'u'@'localhost' (using password: YES)"),
                               HasSubstr("check the user name and password")));
  ExpectServerOk("sent ERR 1045 to user 'u'");
}

TEST_F(MySqlAuthTest, ErrorInsteadOfAGreetingCarriesTheServerCode) {
  ASSERT_NO_FATAL_FAILURE(StartServer("error_greeting"));
  auto session = Connect();
  ASSERT_FALSE(session.ok());
  const Error& e = session.error();
  EXPECT_EQ(e.code, ErrorCode::kServer) << e.ToString();
  EXPECT_EQ(e.server_code, 1129);
  EXPECT_EQ(e.sqlstate, "HY000");
  EXPECT_THAT(e.message, HasSubstr("Host '127.0.0.1' is blocked because of many connection errors"));
  ExpectServerOk("sent ERR 1129 instead of a greeting");
}

TEST_F(MySqlAuthTest, RequiredTlsAgainstAServerWithoutTlsFailsBeforeSendingCredentials) {
  ASSERT_NO_FATAL_FAILURE(StartServer("native"));
  auto session = Connect("ssl-mode=required");
  ASSERT_FALSE(session.ok());
  const Error& e = session.error();
  EXPECT_EQ(e.code, ErrorCode::kTls) << e.ToString();
  EXPECT_THAT(e.message, AllOf(HasSubstr("does not offer TLS"), HasSubstr(Endpoint())));
  // The server got no handshake response at all: the client closed first.
  ExpectServerFail("client closed the connection while the server waited for handshake response");
}

}  // namespace
}  // namespace sqlx::transports
