// Server-level learning against the real MariaDB started by scripts/services/up:
// flavor and version, limits from variables, probed and inferred features,
// auth plugins, redacted grants, TLS posture, what a low-privilege user cannot
// see, the fingerprint, the canonical JSON, and that learning writes nothing.
#include "sqlx/flo/learn_server.h"

#include <gtest/gtest.h>

#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "test_env.h"

namespace sqlx::flo {
namespace {

using sqlx::testing::MariaDbCa;
using sqlx::testing::MariaDbRootPassword;
using sqlx::testing::MariaDbUrl;
using transports::ConnectionUrl;
using transports::Session;

ConnectionUrl Url(const std::string& user, const std::string& password, const std::string& query = "") {
  auto url = transports::ParseConnectionUrl(MariaDbUrl(user, password, "", query));
  EXPECT_TRUE(url.ok()) << url.error().ToString();
  return url.ok() ? *url : ConnectionUrl{};
}

// verify-ca against the test CA: TLS on, trust "custom".
ConnectionUrl VerifiedUrl(const std::string& user, const std::string& password) {
  return Url(user, password, "ssl-mode=verify-ca&ssl-ca=" + MariaDbCa());
}

std::unique_ptr<Session> MustOpen(const ConnectionUrl& url) {
  auto session = Session::Open(url, {});
  EXPECT_TRUE(session.ok()) << session.error().ToString();
  return session.ok() ? std::move(session).value() : nullptr;
}

// Every row of a query, cells as text ("NULL" for NULL).
std::vector<std::vector<std::string>> Rows(Session& s, const std::string& sql) {
  std::vector<std::vector<std::string>> rows;
  auto stream = s.Query(sql);
  EXPECT_TRUE(stream.ok()) << sql;
  if (!stream.ok()) return rows;
  auto more = (*stream)->NextResult();
  EXPECT_TRUE(more.ok()) << sql << ": " << more.error().ToString();
  if (!more.ok() || !*more) return rows;
  for (;;) {
    auto batch = (*stream)->NextBatch();
    EXPECT_TRUE(batch.ok()) << sql;
    if (!batch.ok() || *batch == nullptr) break;
    for (size_t r = 0; r < (*batch)->rows(); ++r) {
      std::vector<std::string> row;
      for (size_t c = 0; c < (*batch)->columns(); ++c)
        row.emplace_back((*batch)->is_null(r, c) ? "NULL" : std::string((*batch)->value(r, c)));
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

std::string Scalar(Session& s, const std::string& sql) {
  auto rows = Rows(s, sql);
  return rows.empty() || rows[0].empty() ? std::string() : rows[0][0];
}

// Learns through a fresh session of `url`.
struct Learned {
  std::unique_ptr<Session> session;
  LearnedServer server;
  std::map<std::string, Capability> caps;
};

std::optional<Learned> MustLearn(const ConnectionUrl& url, const std::string& salt = "00ff") {
  Learned l;
  l.session = MustOpen(url);
  if (l.session == nullptr) return std::nullopt;
  LearnServerOptions options;
  options.fingerprint_salt = salt;
  auto learned = LearnServer(*l.session, url, options);
  EXPECT_TRUE(learned.ok()) << learned.error().ToString();
  if (!learned.ok()) return std::nullopt;
  l.server = std::move(learned).value();
  for (const auto& c : l.server.capabilities) l.caps[c.name] = c;
  return l;
}

// The features MariaDB 10.11 has, and how each is learned.
const std::map<std::string, Evidence>& ExpectedFeatures() {
  static const std::map<std::string, Evidence> kFeatures = {
      {"cte", Evidence::kProbe},
      {"window_functions", Evidence::kProbe},
      {"json_functions", Evidence::kProbe},
      {"check_constraints", Evidence::kProbe},
      {"generated_columns", Evidence::kProbe},
      {"sequences", Evidence::kProbe},
      {"system_versioned_tables", Evidence::kProbe},
      {"invisible_columns", Evidence::kProbe},
      {"savepoints", Evidence::kProbe},
      {"descending_indexes", Evidence::kInferred},
      {"instant_add_column", Evidence::kInferred},
      {"instant_drop_column", Evidence::kInferred},
  };
  return kFeatures;
}

void ExpectFeaturesTrue(const Learned& l, const std::string& who) {
  for (const auto& [name, evidence] : ExpectedFeatures()) {
    auto it = l.caps.find(name);
    ASSERT_NE(it, l.caps.end()) << who << ": " << name;
    EXPECT_EQ(it->second.value, "true") << who << ": " << name << " result " << it->second.result;
    EXPECT_EQ(it->second.evidence, evidence) << who << ": " << name;
    EXPECT_FALSE(it->second.source.empty()) << who << ": " << name;
    EXPECT_FALSE(it->second.result.empty()) << who << ": " << name;
  }
}

// The Com_ counters of writes and DDL, as this session has counted them.
std::map<std::string, std::string> WriteCounters(Session& s) {
  std::map<std::string, std::string> out;
  for (const auto& row : Rows(s, "SHOW SESSION STATUS WHERE Variable_name LIKE 'Com_create%' OR "
                                 "Variable_name LIKE 'Com_alter%' OR Variable_name LIKE 'Com_drop%' OR "
                                 "Variable_name IN ('Com_insert', 'Com_insert_select', 'Com_update', "
                                 "'Com_update_multi', 'Com_delete', 'Com_delete_multi', 'Com_replace', "
                                 "'Com_truncate', 'Com_rename_table', 'Com_grant', 'Com_revoke')"))
    out[row[0]] = row[1];
  return out;
}

TEST(FloLearnServerTest, RootLearnsFlavorVersionLimitsAndFeatures) {
  auto l = MustLearn(VerifiedUrl("root", MariaDbRootPassword()));
  ASSERT_TRUE(l.has_value());
  const LearnedServer& s = l->server;
  EXPECT_EQ(s.flavor, "MariaDB");
  EXPECT_EQ(s.server_version, l->session->server().greeting.server_version);
  // SELECT VERSION() is the oracle for the numeric version.
  unsigned major = 0, minor = 0, patch = 0;
  ASSERT_EQ(std::sscanf(Scalar(*l->session, "SELECT VERSION()").c_str(), "%u.%u.%u", &major, &minor, &patch), 3);
  EXPECT_EQ(s.version_number, major * 10000 + minor * 100 + patch);
  EXPECT_EQ(s.version, std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch));

  ExpectFeaturesTrue(*l, "root");
  EXPECT_EQ(l->caps["cte"].source, "WITH p AS (SELECT 1 AS x) SELECT x FROM p");
  EXPECT_EQ(l->caps["cte"].result, "ok");
  EXPECT_EQ(l->caps["invisible_columns"].source.rfind("PREPARE sqlx_probe FROM 'CREATE TABLE", 0), 0u);
  // The server has the variable, so it decides before the version rules do.
  EXPECT_NE(l->caps["instant_add_column"].source.find("@@innodb_instant_alter_column_allowed"), std::string::npos)
      << l->caps["instant_add_column"].source;
  EXPECT_NE(l->caps["descending_indexes"].source.find("version >= 10.8.1"), std::string::npos);
  EXPECT_EQ(l->caps["max_identifier_length"].value, "64");
  EXPECT_EQ(l->caps["max_identifier_length"].evidence, Evidence::kInferred);
  EXPECT_NE(l->caps["max_identifier_length"].source.find("flavor MariaDB"), std::string::npos);
  EXPECT_EQ(l->caps["is_replica"].value, "false");

  EXPECT_EQ(l->caps["max_allowed_packet"].value, Scalar(*l->session, "SELECT @@max_allowed_packet"));
  EXPECT_EQ(l->caps["max_allowed_packet"].evidence, Evidence::kVariable);
  EXPECT_EQ(l->caps["max_allowed_packet"].source, "@@max_allowed_packet");
  EXPECT_EQ(l->caps["max_connections"].value, Scalar(*l->session, "SELECT @@max_connections"));
  EXPECT_EQ(l->caps["isolation_level"].value, "\"" + Scalar(*l->session, "SELECT @@tx_isolation") + "\"");
  EXPECT_EQ(l->caps["collation_server"].value, "\"" + Scalar(*l->session, "SELECT @@collation_server") + "\"");
  EXPECT_EQ(l->caps["lower_case_table_names"].value, Scalar(*l->session, "SELECT @@lower_case_table_names"));
  // MySQL-only: tolerated, recorded as absent.
  EXPECT_EQ(l->caps["sql_require_primary_key"].value, "null");
  EXPECT_EQ(l->caps["sql_require_primary_key"].result, "absent on this server");
  EXPECT_TRUE(s.not_visible.empty()) << s.not_visible[0];
}

TEST(FloLearnServerTest, SecurityPostureComesFromTheSessionAndTheServer) {
  auto l = MustLearn(VerifiedUrl("sqlx_native", "native-pw"));
  ASSERT_TRUE(l.has_value());
  const auto& info = l->session->server();
  ASSERT_TRUE(info.tls.active);
  EXPECT_EQ(l->caps["tls"].value, "true");
  EXPECT_EQ(l->caps["tls_version"].value, "\"" + info.tls.version + "\"");
  EXPECT_EQ(l->caps["tls_version"].evidence, Evidence::kSession);
  EXPECT_EQ(l->caps["tls_cipher"].value, "\"" + info.tls.cipher + "\"");
  EXPECT_EQ(l->caps["tls_trust"].value, "\"custom\"");
  EXPECT_EQ(l->caps["auth_plugin"].value, "\"mysql_native_password\"");
  EXPECT_EQ(l->caps["protocol_capabilities"].evidence, Evidence::kGreeting);
  auto flags = nlohmann::json::parse(l->caps["protocol_capabilities"].value);
  EXPECT_EQ(flags.get<std::vector<std::string>>(), info.greeting.server_capabilities);

  const auto& plugins = l->server.auth_plugins;
  EXPECT_NE(std::find(plugins.begin(), plugins.end(), "mysql_native_password"), plugins.end());
  EXPECT_NE(std::find(plugins.begin(), plugins.end(), "ed25519"), plugins.end());

  ASSERT_FALSE(l->server.grants.empty());
  auto root = MustOpen(Url("root", MariaDbRootPassword()));
  ASSERT_NE(root, nullptr);
  const std::string hash =
      Scalar(*root, "SELECT authentication_string FROM mysql.user WHERE User = 'sqlx_native' AND Host = '127.0.0.1'");
  ASSERT_FALSE(hash.empty());
  bool redacted = false;
  for (const auto& g : l->server.grants) {
    EXPECT_NE(g.find("GRANT"), std::string::npos) << g;
    EXPECT_EQ(g.find(hash), std::string::npos) << g;
    redacted = redacted || g.find("IDENTIFIED BY PASSWORD '<redacted>'") != std::string::npos;
  }
  EXPECT_TRUE(redacted);
  // sqlx_native may not read replication status: unknown, not "no".
  EXPECT_EQ(l->caps["is_replica"].value, "null");
}

TEST(FloLearnServerTest, Ed25519HashesInGrantsAreRedacted) {
  auto l = MustLearn(Url("sqlx_ed", "ed-pw"));
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->caps["auth_plugin"].value, "\"client_ed25519\"");
  auto root = MustOpen(Url("root", MariaDbRootPassword()));
  ASSERT_NE(root, nullptr);
  const std::string hash =
      Scalar(*root, "SELECT authentication_string FROM mysql.user WHERE User = 'sqlx_ed' AND Host = '127.0.0.1'");
  ASSERT_FALSE(hash.empty());
  ASSERT_FALSE(l->server.grants.empty());
  for (const auto& g : l->server.grants) EXPECT_EQ(g.find(hash), std::string::npos) << g;
  EXPECT_NE(l->server.grants[0].find("USING '<redacted>'"), std::string::npos) << l->server.grants[0];
}

TEST(FloLearnServerTest, WithoutTlsThePostureSaysOff) {
  auto l = MustLearn(Url("sqlx_native", "native-pw", "ssl-mode=disabled"));
  ASSERT_TRUE(l.has_value());
  EXPECT_EQ(l->caps["tls"].value, "false");
  EXPECT_EQ(l->caps["tls_version"].value, "null");
  EXPECT_EQ(l->caps["tls_trust"].value, "null");
}

// Users with USAGE only, created and dropped by each test (ctest may run the
// tests of this file in parallel: each test has its own user).
class FloLearnLowPrivilegeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = MustOpen(Url("root", MariaDbRootPassword()));
    ASSERT_NE(root_, nullptr);
  }
  void TearDown() override {
    for (const auto& user : users_) {
      if (root_ != nullptr) {
        EXPECT_TRUE(root_->Execute("DROP USER IF EXISTS '" + user + "'@'127.0.0.1'").ok());
      }
    }
  }
  // Creates `user` with password 'low-pw' and no privileges.
  ConnectionUrl CreateUser(const std::string& user) {
    users_.push_back(user);
    EXPECT_TRUE(root_->Execute("DROP USER IF EXISTS '" + user + "'@'127.0.0.1'").ok());
    EXPECT_TRUE(root_->Execute("CREATE USER '" + user + "'@'127.0.0.1' IDENTIFIED BY 'low-pw'").ok());
    return Url(user, "low-pw");
  }
  std::unique_ptr<Session> root_;
  std::vector<std::string> users_;
};

TEST_F(FloLearnLowPrivilegeTest, StillLearnsAndListsWhatItCannotSee) {
  auto l = MustLearn(CreateUser("sqlx_low"));
  ASSERT_TRUE(l.has_value());
  // PREPARE checks CREATE only after parsing: the parse probes still answer.
  ExpectFeaturesTrue(*l, "sqlx_low");
  EXPECT_EQ(l->caps["sequences"].result.rfind("parsed; ERROR 1142", 0), 0u) << l->caps["sequences"].result;
  // Replication status needs SLAVE MONITOR: not visible, and not claimed false.
  EXPECT_EQ(l->caps["is_replica"].value, "null");
  ASSERT_FALSE(l->server.not_visible.empty());
  EXPECT_EQ(l->server.not_visible[0].rfind("is_replica: ERROR 1227", 0), 0u) << l->server.not_visible[0];
  for (const auto& c : l->server.capabilities) {
    if (c.result.find("ERROR 1227") != std::string::npos || c.result.find("denied") != std::string::npos) {
      EXPECT_NE(c.value, "false") << c.name << ": " << c.result;
    }
  }
  ASSERT_EQ(l->server.grants.size(), 1u);
  EXPECT_EQ(l->server.grants[0].rfind("GRANT USAGE ON *.* TO `sqlx_low`@`127.0.0.1`", 0), 0u);
  EXPECT_NE(l->server.grants[0].find("'<redacted>'"), std::string::npos);
}

TEST_F(FloLearnLowPrivilegeTest, LearningWritesNothing) {
  for (const auto& url : {Url("root", MariaDbRootPassword()), CreateUser("sqlx_low_ro")}) {
    auto session = MustOpen(url);
    ASSERT_NE(session, nullptr);
    // This session's counters: other tests may write to the server meanwhile.
    auto before = WriteCounters(*session);
    ASSERT_GT(before.size(), 20u);
    auto learned = LearnServer(*session, url, {});
    ASSERT_TRUE(learned.ok()) << learned.error().ToString();
    EXPECT_EQ(WriteCounters(*session), before) << url.user;
    EXPECT_EQ(Scalar(*session, "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'sqlx_probe_nodb'"),
              "0");
  }
}

// A temporary learn pack directory: the shipped pack plus `extra` capabilities.
struct ExtendedPack {
  explicit ExtendedPack(const nlohmann::json& extra) {
    char tmpl[] = "/tmp/sqlx_flo_pack_XXXXXX";
    dir = ::mkdtemp(tmpl);
    std::ifstream in(sqlx::testing::SourceDir() + "/flo/packs/mysql.learn.json");
    nlohmann::json pack = nlohmann::json::parse(in);
    for (const auto& e : extra) pack["capabilities"].push_back(e);
    std::ofstream(dir + "/mysql.learn.json") << pack.dump();
  }
  ~ExtendedPack() { std::filesystem::remove_all(dir); }
  std::string dir;
};

TEST_F(FloLearnLowPrivilegeTest, ProbeOutcomesAreReadAsThePackSays) {
  ExtendedPack pack(nlohmann::json::parse(R"json([
    {"name": "t_syntax", "kind": "query", "sql": "SELEC 1"},
    {"name": "t_unknown", "kind": "query", "sql": "SELEC 1", "on_error": "unknown"},
    {"name": "t_rows", "kind": "query", "sql": "SELECT 1 UNION SELECT 2 UNION SELECT 3", "yields": "has_rows"},
    {"name": "t_no_rows", "kind": "query", "sql": "SELECT 1 FROM DUAL WHERE 0", "yields": "has_rows"},
    {"name": "t_missing_table", "kind": "query", "sql": "SELECT 1 FROM information_schema.SQLX_NO_SUCH",
     "fallback": [{"flavor": "MariaDB", "min_version": 100000, "value": true}], "default": false},
    {"name": "t_unpreparable", "kind": "parse", "sql": "DEALLOCATE PREPARE a",
     "fallback": [{"flavor": "MySQL", "value": true}], "default": false},
    {"name": "t_parse_syntax", "kind": "parse", "sql": "CREATE TABLE sqlx_probe_nodb.t (a INT INVISIBL)"},
    {"name": "t_script", "kind": "script", "sql": ["START TRANSACTION READ ONLY", "SELEC 1"], "cleanup": ["ROLLBACK"]},
    {"name": "t_privilege", "kind": "query", "sql": "SELECT 1 FROM mysql.user LIMIT 0"}
  ])json"));
  const ConnectionUrl url = CreateUser("sqlx_low_pack");
  auto session = MustOpen(url);
  ASSERT_NE(session, nullptr);
  LearnServerOptions options;
  options.learn_pack_dir = pack.dir;
  auto learned = LearnServer(*session, url, options);
  ASSERT_TRUE(learned.ok()) << learned.error().ToString();
  std::map<std::string, Capability> caps;
  for (const auto& c : learned->capabilities) caps[c.name] = c;

  EXPECT_EQ(caps["t_syntax"].value, "false");
  EXPECT_EQ(caps["t_syntax"].result.rfind("ERROR 1064 (42000)", 0), 0u) << caps["t_syntax"].result;
  EXPECT_EQ(caps["t_unknown"].value, "null");
  EXPECT_EQ(caps["t_rows"].value, "true");
  EXPECT_EQ(caps["t_rows"].result, "3 rows");
  EXPECT_EQ(caps["t_no_rows"].value, "false");
  // A missing catalog table decides nothing: the fallback rule does, marked inferred.
  EXPECT_EQ(caps["t_missing_table"].value, "true");
  EXPECT_EQ(caps["t_missing_table"].evidence, Evidence::kInferred);
  EXPECT_EQ(caps["t_missing_table"].source, "rule: flavor MariaDB, version >= 10.0.0");
  EXPECT_EQ(caps["t_missing_table"].result.rfind("ERROR 1109", 0), 0u) << caps["t_missing_table"].result;
  // ER_UNSUPPORTED_PS: no rule matches MariaDB, so the default, inferred.
  EXPECT_EQ(caps["t_unpreparable"].value, "false");
  EXPECT_EQ(caps["t_unpreparable"].evidence, Evidence::kInferred);
  EXPECT_EQ(caps["t_unpreparable"].result.rfind("ERROR 1295", 0), 0u) << caps["t_unpreparable"].result;
  EXPECT_NE(caps["t_unpreparable"].source.find("default"), std::string::npos);
  EXPECT_EQ(caps["t_parse_syntax"].value, "false");
  EXPECT_EQ(caps["t_parse_syntax"].evidence, Evidence::kProbe);
  EXPECT_EQ(caps["t_script"].value, "false");
  EXPECT_EQ(Scalar(*session, "SELECT @@in_transaction"), "0");  // the cleanup ran
  EXPECT_EQ(caps["t_privilege"].value, "null");
  bool listed = false;
  for (const auto& n : learned->not_visible) listed = listed || n.rfind("t_privilege: ERROR 1142", 0) == 0;
  EXPECT_TRUE(listed);
}

TEST(FloLearnServerTest, FingerprintIsStablePerSaltAndDiffersAcrossSalts) {
  auto a = MustLearn(Url("sqlx_native", "native-pw"), "0011");
  auto b = MustLearn(Url("sqlx_native", "native-pw"), "0011");
  auto c = MustLearn(Url("sqlx_native", "native-pw"), "0012");
  ASSERT_TRUE(a && b && c);
  const std::string& f = a->server.fingerprint;
  ASSERT_EQ(f.size(), 64u);
  EXPECT_EQ(f.find_first_not_of("0123456789abcdef"), std::string::npos) << f;
  EXPECT_EQ(b->server.fingerprint, f);
  EXPECT_NE(c->server.fingerprint, f);
}

TEST(FloLearnServerTest, CapabilityJsonIsCanonicalAndComplete) {
  auto l = MustLearn(Url("sqlx_native", "native-pw"));
  ASSERT_TRUE(l.has_value());
  const std::string text = l->server.ToCapabilityJson();
  auto doc = nlohmann::json::parse(text);
  EXPECT_EQ(doc.dump(), text);  // sorted keys, no whitespace: parse and dump is the identity
  EXPECT_EQ(doc["flavor"], "MariaDB");
  EXPECT_EQ(doc["version_number"], l->server.version_number);
  EXPECT_EQ(doc["capabilities"].size(), l->server.capabilities.size());
  EXPECT_EQ(doc["capabilities"]["cte"]["value"], true);
  EXPECT_EQ(doc["capabilities"]["cte"]["evidence"], "probe");
  EXPECT_EQ(doc["capabilities"]["instant_add_column"]["evidence"], "inferred");
  EXPECT_TRUE(doc["capabilities"]["max_allowed_packet"]["value"].is_number());
  EXPECT_TRUE(doc["capabilities"]["protocol_capabilities"]["value"].is_array());
  EXPECT_EQ(doc["grants"].size(), l->server.grants.size());
  EXPECT_TRUE(doc["not_visible"].is_array());
  EXPECT_FALSE(doc.contains("fingerprint"));  // stored beside it as server_fingerprint
}

TEST(FloLearnServerTest, ALostConnectionIsAnErrorNotAProbeOutcome) {
  auto url = Url("sqlx_native", "native-pw");
  auto session = MustOpen(url);
  auto root = MustOpen(Url("root", MariaDbRootPassword()));
  ASSERT_TRUE(session && root);
  const auto id = session->server().greeting.connection_id;
  ASSERT_TRUE(root->Execute("KILL CONNECTION " + std::to_string(id)).ok());
  auto learned = LearnServer(*session, url, {});
  ASSERT_FALSE(learned.ok());
  EXPECT_NE(learned.error().code, ErrorCode::kServer) << learned.error().ToString();
}

TEST(FloLearnServerTest, AMissingLearnPackDirectoryIsAnError) {
  auto url = Url("sqlx_native", "native-pw");
  auto session = MustOpen(url);
  ASSERT_NE(session, nullptr);
  LearnServerOptions options;
  options.learn_pack_dir = "/nonexistent/sqlx-learn-packs";
  auto learned = LearnServer(*session, url, options);
  ASSERT_FALSE(learned.ok());
  EXPECT_EQ(learned.error().code, ErrorCode::kNotFound);
  EXPECT_NE(learned.error().message.find("/nonexistent/sqlx-learn-packs"), std::string::npos);
}

}  // namespace
}  // namespace sqlx::flo
