// Connection URLs: a table of good URLs and what they parse to, bad URLs
// whose errors never show the password, TLS-mode defaults, redaction.
#include "sqlx/transports/url.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sqlx::transports {
namespace {

struct GoodUrl {
  const char* url;
  const char* scheme;
  const char* user;
  const char* password;
  const char* host;
  uint16_t port;
  const char* database;
  TlsMode tls_mode;
  const char* ca_file;
};

TEST(ConnectionUrlTest, ParsesGoodUrls) {
  const std::vector<GoodUrl> cases = {
      {"mysql://app:pw@db.example.com:3306/shop", "mysql", "app", "pw", "db.example.com", 3306,
       "shop", TlsMode::kRequired, ""},
      {"mysql://root@127.0.0.1", "mysql", "root", "", "127.0.0.1", 0, "", TlsMode::kPreferred, ""},
      {"mysql://u:@localhost/db", "mysql", "u", "", "localhost", 0, "db", TlsMode::kPreferred, ""},
      {"mysql://u:p@[::1]:3307/x", "mysql", "u", "p", "::1", 3307, "x", TlsMode::kPreferred, ""},
      {"mysql://u:p@[::1]", "mysql", "u", "p", "::1", 0, "", TlsMode::kPreferred, ""},
      {"mysql://u:p@[2001:db8::5]:3306", "mysql", "u", "p", "2001:db8::5", 3306, "",
       TlsMode::kRequired, ""},
      {"mysql://us%40er:p%40ss%3Aw@h:1/d", "mysql", "us@er", "p@ss:w", "h", 1, "d",
       TlsMode::kRequired, ""},
      {"mysql://u:p@ss:w@h/d", "mysql", "u", "p@ss:w", "h", 0, "d", TlsMode::kRequired, ""},
      {"mysql://u:p%2Fx%25@h", "mysql", "u", "p/x%", "h", 0, "", TlsMode::kRequired, ""},
      {"mariadb://u@h:3307", "mariadb", "u", "", "h", 3307, "", TlsMode::kRequired, ""},
      {"MySQL://u@h", "mysql", "u", "", "h", 0, "", TlsMode::kRequired, ""},
      {"mysql://u@127.0.0.5:65535", "mysql", "u", "", "127.0.0.5", 65535, "", TlsMode::kPreferred, ""},
      {"mysql://u@h/my%20db", "mysql", "u", "", "h", 0, "my db", TlsMode::kRequired, ""},
      {"mysql://u@h/", "mysql", "u", "", "h", 0, "", TlsMode::kRequired, ""},
      {"mysql://u@h?ssl-ca=/etc/ca.pem", "mysql", "u", "", "h", 0, "", TlsMode::kVerifyCa,
       "/etc/ca.pem"},
      {"mysql://u@localhost?ssl-ca=/etc/ca.pem", "mysql", "u", "", "localhost", 0, "",
       TlsMode::kVerifyCa, "/etc/ca.pem"},
      {"mysql://u@h?ssl-mode=disabled&ssl-ca=/x", "mysql", "u", "", "h", 0, "", TlsMode::kDisabled,
       "/x"},
      {"mysql://u@h?ssl-ca=/x&ssl-mode=verify-identity", "mysql", "u", "", "h", 0, "",
       TlsMode::kVerifyIdentity, "/x"},
      {"mysql://u@h?ssl_mode=VERIFY_IDENTITY", "mysql", "u", "", "h", 0, "", TlsMode::kVerifyIdentity,
       ""},
      {"mysql://u@h?sslmode=preferred&", "mysql", "u", "", "h", 0, "", TlsMode::kPreferred, ""},
      {"mysql://u@localhost?ssl-mode=required", "mysql", "u", "", "localhost", 0, "",
       TlsMode::kRequired, ""},
  };
  for (const GoodUrl& c : cases) {
    auto u = ParseConnectionUrl(c.url);
    ASSERT_TRUE(u.ok()) << c.url << ": " << u.error().message;
    EXPECT_EQ(u->scheme, c.scheme) << c.url;
    EXPECT_EQ(u->user, c.user) << c.url;
    EXPECT_EQ(u->password, c.password) << c.url;
    EXPECT_EQ(u->host, c.host) << c.url;
    EXPECT_EQ(u->port, c.port) << c.url;
    EXPECT_EQ(u->database, c.database) << c.url;
    EXPECT_EQ(TlsModeName(u->tls.mode), TlsModeName(c.tls_mode)) << c.url;
    EXPECT_EQ(u->tls.ca_file, c.ca_file) << c.url;
    EXPECT_EQ(u->tls.server_name, c.host) << c.url;
  }
}

TEST(ConnectionUrlTest, DefaultTlsModeIsPreferredOnlyOnLoopback) {
  struct Case {
    const char* host_part;
    TlsMode mode;
  };
  const std::vector<Case> cases = {
      {"127.0.0.1", TlsMode::kPreferred}, {"localhost", TlsMode::kPreferred},
      {"[::1]", TlsMode::kPreferred},     {"127.1.2.3", TlsMode::kPreferred},
      {"10.0.0.7", TlsMode::kRequired},   {"db.internal", TlsMode::kRequired},
      {"[fe80::1]", TlsMode::kRequired},  {"128.0.0.1", TlsMode::kRequired},
      {"localhost.example.com", TlsMode::kRequired},
  };
  for (const Case& c : cases) {
    std::string url = std::string("mysql://u@") + c.host_part + ":3306";
    auto u = ParseConnectionUrl(url);
    ASSERT_TRUE(u.ok()) << url << ": " << u.error().message;
    EXPECT_EQ(TlsModeName(u->tls.mode), TlsModeName(c.mode)) << url;
    EXPECT_FALSE(u->tls_mode_explicit) << url;
  }
}

TEST(ConnectionUrlTest, RecognisesLoopbackHosts) {
  struct Case {
    const char* host;
    bool loopback;
  };
  for (const Case& c : std::vector<Case>{{"127.0.0.1", true},
                                         {"127.255.255.254", true},
                                         {"localhost", true},
                                         {"::1", true},
                                         {"128.0.0.1", false},
                                         {"10.0.0.1", false},
                                         {"::2", false},
                                         {"127.0.0.1.example.com", false},
                                         {"", false}}) {
    EXPECT_EQ(IsLoopbackHost(c.host), c.loopback) << c.host;
  }
}

TEST(ConnectionUrlTest, ReadsServerPublicKeyParameters) {
  auto u = ParseConnectionUrl("mysql://u@h?get-server-public-key=true&server-public-key=/k.pem");
  ASSERT_TRUE(u.ok()) << u.error().message;
  EXPECT_TRUE(u->get_server_public_key);
  EXPECT_EQ(u->server_public_key_file, "/k.pem");
  auto off = ParseConnectionUrl("mysql://u@h?get_server_public_key=0");
  ASSERT_TRUE(off.ok()) << off.error().message;
  EXPECT_FALSE(off->get_server_public_key);
}

// Every bad URL holds the password "s3cret": no error message may show it.
TEST(ConnectionUrlTest, BadUrlsAreInvalidArgumentsThatNeverShowThePassword) {
  struct Case {
    const char* url;
    const char* message_part;
  };
  const std::vector<Case> cases = {
      {"mysql://u:s3cret@h:99999", "port must be a number 1..65535"},
      {"mysql://u:s3cret@h:0", "port must be a number"},
      {"mysql://u:s3cret@h:", "port must be a number"},
      {"mysql://u:s3cret@h:12ab", "port must be a number"},
      {"mysql://u:s3cret@h:-1", "port must be a number"},
      {"mysql://u:s3cret@", "empty host"},
      {"mysql://u:s3cret@:3306", "empty host"},
      {"mysql://:s3cret@h", "empty user name"},
      {"mysql://u:s3cret%zz@h", "bad %-escape in the password"},
      {"mysql://u:s3cret%4@h", "bad %-escape in the password"},
      {"mysql://u%:s3cret@h", "bad %-escape in the user name"},
      {"mysql://u:s3cret@[::1", "unclosed '['"},
      {"mysql://u:s3cret@[::1]x", "expected ':port' after ']'"},
      {"mysql://u:s3cret@h/a/b", "the path holds more than a database name"},
      {"mysql://u:s3cret@h/%zz", "bad %-escape in the database name"},
      {"mysql://u:s3cret@h?ssl-mode=bogus", "unknown ssl-mode 'bogus'"},
      {"mysql://u:s3cret@h?ssl-ca=", "ssl-ca needs a file name"},
      {"mysql://u:s3cret@h?get-server-public-key=maybe", "true or false"},
      {"mysql://u:s3cret@h?ssl-ca=%zz", "bad %-escape in parameter ssl-ca"},
      {"mysql://u:s3cret@h?foo=bar", "unknown parameter 'foo'"},
      {"mysql://u:s3cret@h:1?ssl-ca=/a@b&x=1", "unknown parameter 'x'"},
      {"mysql://u:s3cr/et@h:99999", "port must be a number"},
      {"mysql://u:s3cret", "missing user@"},
      {"mysql://u:s3c?ret@h", "missing user@"},
      {"u:s3cret@h", "missing scheme://"},
      {"mysql//u:s3cret@h:1", "missing scheme://"},
      {"://u:s3cret@h", "missing scheme://"},
  };
  for (const Case& c : cases) {
    auto u = ParseConnectionUrl(c.url);
    ASSERT_FALSE(u.ok()) << c.url << " should not parse";
    EXPECT_EQ(u.error().code, ErrorCode::kInvalidArgument) << c.url;
    const std::string& m = u.error().message;
    EXPECT_NE(m.find(c.message_part), std::string::npos) << c.url << ": " << m;
    EXPECT_EQ(m.find("s3c"), std::string::npos) << "password shown for " << c.url << ": " << m;
    EXPECT_EQ(m.find("et@"), std::string::npos) << "password shown for " << c.url << ": " << m;
  }
}

TEST(ConnectionUrlTest, ErrorsStillShowTheRestOfTheUrl) {
  auto u = ParseConnectionUrl("mysql://app:s3cret@db.example.com:99999/shop");
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.error().message.find("'mysql://app:***@db.example.com:99999/shop'"), std::string::npos)
      << u.error().message;
  auto no_password = ParseConnectionUrl("mysql://app@db.example.com:99999");
  ASSERT_FALSE(no_password.ok());
  EXPECT_NE(no_password.error().message.find("'mysql://app@db.example.com:99999'"), std::string::npos)
      << no_password.error().message;
}

TEST(ConnectionUrlTest, UnknownParametersAreRejected) {
  for (const char* url : {"mysql://u@h?sslmode2=required", "mysql://u@h?ssl-mode=required&tls=1",
                          "mysql://u@h?ssl-cert=/c.pem", "mysql://u@h?password=x"}) {
    auto u = ParseConnectionUrl(url);
    ASSERT_FALSE(u.ok()) << url;
    EXPECT_EQ(u.error().code, ErrorCode::kInvalidArgument) << url;
    EXPECT_NE(u.error().message.find("unknown parameter"), std::string::npos) << u.error().message;
  }
}

TEST(ConnectionUrlTest, RedactedHidesThePassword) {
  struct Case {
    const char* url;
    const char* redacted;
  };
  const std::vector<Case> cases = {
      {"mysql://app:s3cret@db:3306/shop", "mysql://app:***@db:3306/shop"},
      {"mysql://app:@db", "mysql://app:***@db"},
      {"mysql://root@127.0.0.1", "mysql://root@127.0.0.1"},
      {"mariadb://u:p%40ss@[::1]:3307", "mariadb://u:***@[::1]:3307"},
      {"mysql://u:s3cret@h?ssl-ca=/ca.pem", "mysql://u:***@h?ssl-ca=/ca.pem"},
      {"mysql://u:s3cret@h?ssl-mode=required&ssl-ca=/ca.pem",
       "mysql://u:***@h?ssl-mode=required&ssl-ca=/ca.pem"},
  };
  for (const Case& c : cases) {
    auto u = ParseConnectionUrl(c.url);
    ASSERT_TRUE(u.ok()) << c.url << ": " << u.error().message;
    EXPECT_EQ(u->Redacted(), c.redacted) << c.url;
  }
}

TEST(ConnectionUrlTest, EndpointAndConnectionNameBracketIpv6) {
  auto v6 = ParseConnectionUrl("mysql://app@[::1]:3307");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->Endpoint(), "[::1]:3307");
  EXPECT_EQ(v6->ConnectionName(), "app@[::1]:3307");
  auto v4 = ParseConnectionUrl("mysql://app@10.0.0.7");
  ASSERT_TRUE(v4.ok());
  EXPECT_EQ(v4->Endpoint(), "10.0.0.7") << "no port shown when unknown";
  EXPECT_EQ(v4->ConnectionName(), "app@10.0.0.7");
}

}  // namespace
}  // namespace sqlx::transports
