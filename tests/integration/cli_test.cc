// The built `sqlx` binary as a user runs it, against the real MariaDB:
// output formats (text, JSON, TSV byte-identical to `mariadb --batch`),
// exit codes, where the URL and password come from, password hygiene, and
// pack errors. Each run gets an explicit environment.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sqlx_cli.h"
#include "subprocess.h"
#include "temp_dir.h"
#include "test_env.h"

namespace sqlx {
namespace {

namespace fs = std::filesystem;
using sqlx::testing::Deadline;
using sqlx::testing::DeadlineIn;
using sqlx::testing::Env;
using sqlx::testing::MariaDbPort;
using sqlx::testing::MariaDbUrl;
using sqlx::testing::RunResult;
using sqlx::testing::SqlxBinary;
using sqlx::testing::Subprocess;
using sqlx::testing::TempDir;

constexpr const char* kPassword = sqlx::testing::kNativePassword;
using sqlx::testing::ExpectNoPassword;
using sqlx::testing::RunSqlx;
Env BaseEnv() { return sqlx::testing::SqlxBaseEnv(); }
Deadline ChildDeadline() { return sqlx::testing::SqlxDeadline(); }

std::string NativeUrl() { return MariaDbUrl("sqlx_native", kPassword); }
std::string NativeUrlNoPassword() { return MariaDbUrl("sqlx_native", ""); }
Env EnvWithPassword() { return sqlx::testing::SqlxEnvWithPassword(); }

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

size_t CountNewlines(const std::string& s) { return static_cast<size_t>(std::count(s.begin(), s.end(), '\n')); }

std::string Describe(const RunResult& r) { return sqlx::testing::DescribeRun(r); }

// Where a program is on $PATH, or empty.
std::string FindOnPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    std::string candidate = dir + "/" + name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// --- ping ---------------------------------------------------------------------------------

TEST(CliTest, PingPrintsServerTlsAuthPluginAndRtt) {
  RunResult r = RunSqlx({"ping", NativeUrlNoPassword()}, EnvWithPassword());
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find("connected to sqlx_native@127.0.0.1:" + MariaDbPort()), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("server:      MariaDB"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("tls:         TLSv1."), std::string::npos) << r.out;  // preferred on loopback
  EXPECT_NE(r.out.find("auth plugin: mysql_native_password"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ping rtt:    "), std::string::npos) << r.out;
  EXPECT_EQ(r.err, "");
}

TEST(CliTest, PingJsonIsExactlyOneDocument) {
  RunResult r = RunSqlx({"--format", "json", "ping", NativeUrlNoPassword()}, EnvWithPassword());
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  ASSERT_EQ(CountNewlines(r.out), 1u) << r.out;
  nlohmann::json j;
  ASSERT_NO_THROW(j = nlohmann::json::parse(r.out)) << r.out;
  EXPECT_EQ(j["ok"], true);
  EXPECT_EQ(j["flavor"], "MariaDB");
  EXPECT_EQ(j["auth_plugin"], "mysql_native_password");
  EXPECT_EQ(j["connection"], "sqlx_native@127.0.0.1:" + MariaDbPort());
  ASSERT_TRUE(j["tls"].is_object()) << j.dump();
  EXPECT_EQ(j["tls"]["version"].get<std::string>().rfind("TLSv1.", 0), 0u);
  ASSERT_TRUE(j["rtt_ms"].is_number());
  EXPECT_GE(j["rtt_ms"].get<double>(), 0.0);
}

TEST(CliTest, PingVerifiesTheServerWithTheTestCa) {
  std::string url = MariaDbUrl("sqlx_native", "", "sqlx_test", "ssl-mode=verify-identity&ssl-ca=" + testing::MariaDbCa());
  RunResult r = RunSqlx({"--format", "json", "ping", url}, EnvWithPassword());
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["tls"]["verified"], true);
  EXPECT_EQ(j["tls"]["trust"], "custom");
}

TEST(CliTest, PasswordComesFromSqlxPassword) {
  RunResult without = RunSqlx({"ping", NativeUrlNoPassword()});
  EXPECT_EQ(without.exit_code, 1) << Describe(without);
  RunResult with = RunSqlx({"ping", NativeUrlNoPassword()}, EnvWithPassword());
  EXPECT_EQ(with.exit_code, 0) << Describe(with);
}

TEST(CliTest, SqlxUrlIsUsedWhenNoUrlIsGiven) {
  Env env = EnvWithPassword();
  env["SQLX_URL"] = NativeUrlNoPassword();
  RunResult ping = RunSqlx({"ping"}, env);
  ASSERT_EQ(ping.exit_code, 0) << Describe(ping);
  EXPECT_NE(ping.out.find("connected to sqlx_native@127.0.0.1:" + MariaDbPort()), std::string::npos);
  RunResult query = RunSqlx({"--format", "tsv", "query", "SELECT DATABASE(), CURRENT_USER()"}, env);
  ASSERT_EQ(query.exit_code, 0) << Describe(query);
  EXPECT_EQ(query.out, "sqlx_test\tsqlx_native@127.0.0.1\n");
}

// --- query --------------------------------------------------------------------------------

// Values that exercise the batch format's escapes: NULL, tab, newline,
// backslash, NUL, multi-byte UTF-8, an empty string, the word NULL, numbers.
constexpr const char* kTrickySql =
    "SELECT NULL AS n, 'a\\tb' AS tab, 'line1\\nline2' AS nl, 'back\\\\slash' AS bs, "
    "CONCAT('nul', CHAR(0), 'x') AS nul, 'h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac "
    "\xf0\x9f\x98\x80' AS utf8, '' AS empty, 'NULL' AS word, 1.50 AS num, -3 AS neg, 'cr\\rhere' AS cr "
    "UNION ALL SELECT 'x', '\\t', '\\n', '\\\\', CHAR(0), '\xc3\xbc', ' ', 'null', 0, 0, '' ";

TEST(CliTest, QueryTsvIsByteIdenticalToTheMariadbClient) {
  const std::string mariadb = FindOnPath("mariadb");
  ASSERT_FALSE(mariadb.empty()) << "the mariadb client is not on PATH: run scripts/install-deps";
  Env env = BaseEnv();
  env["MYSQL_PWD"] = kPassword;  // keeps the password out of the client's argv
  // utf8mb4 like sqlx, whatever the locale says.
  RunResult peer = Subprocess({mariadb, "--no-defaults", "-h127.0.0.1", "-P" + MariaDbPort(), "-usqlx_native",
                               "--default-character-set=utf8mb4", "--batch", "--skip-column-names",
                               "sqlx_test", "-e", kTrickySql},
                              env)
                       .Wait(ChildDeadline());
  ASSERT_EQ(peer.exit_code, 0) << Describe(peer);
  ASSERT_EQ(CountNewlines(peer.out), 2u) << peer.out;
  RunResult ours = RunSqlx({"--format", "tsv", "query", NativeUrlNoPassword(), kTrickySql}, EnvWithPassword());
  ASSERT_EQ(ours.exit_code, 0) << Describe(ours);
  EXPECT_EQ(ours.out, peer.out);
  EXPECT_NE(ours.out.find("NULL\ta\\tb\tline1\\nline2\tback\\\\slash\tnul\\0x\t"), std::string::npos) << ours.out;
  EXPECT_EQ(ours.err, "");
}

TEST(CliTest, QueryJsonPrintsOneParsableObjectPerRow) {
  RunResult r = RunSqlx({"--format", "json", "query", NativeUrlNoPassword(),
                         "SELECT seq, CONCAT('v', seq) AS v, NULL AS n, UNHEX('FF00') AS bin FROM seq_1_to_5"},
                        EnvWithPassword());
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  auto lines = Lines(r.out);
  ASSERT_EQ(lines.size(), 5u) << r.out;
  for (size_t i = 0; i < lines.size(); ++i) {
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(lines[i])) << lines[i];
    EXPECT_EQ(j["seq"], std::to_string(i + 1));
    EXPECT_EQ(j["v"], "v" + std::to_string(i + 1));
    EXPECT_TRUE(j["n"].is_null());
    EXPECT_EQ(j["bin"]["base64"], "/wA=");
  }
}

TEST(CliTest, QueryTextPrintsAHeaderThenTheRows) {
  RunResult r = RunSqlx({"query", NativeUrlNoPassword(), "SELECT seq AS num FROM seq_1_to_3"}, EnvWithPassword());
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "num\n1\n2\n3\n");
}

// --- exit codes ---------------------------------------------------------------------------

TEST(CliTest, WrongPasswordExitsOneWithAOneLineMessage) {
  const std::string password = "wrong-pw-58213";
  RunResult r = RunSqlx({"ping", MariaDbUrl("sqlx_native", "")}, [&] {
    Env env = BaseEnv();
    env["SQLX_PASSWORD"] = password;
    return env;
  }());
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_EQ(CountNewlines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("1045"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("sqlx_native"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
  ExpectNoPassword(r, password);
}

TEST(CliTest, WrongPasswordInJsonModePrintsAnErrorDocument) {
  Env env = BaseEnv();
  env["SQLX_PASSWORD"] = "wrong-pw-58213";
  RunResult r = RunSqlx({"--format", "json", "ping", NativeUrlNoPassword()}, env);
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  ASSERT_EQ(CountNewlines(r.out), 1u) << r.out;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ok"], false);
  EXPECT_EQ(j["error"]["code"], "auth");
  EXPECT_EQ(j["error"]["server_code"], 1045);
  ExpectNoPassword(r, "wrong-pw-58213");
}

TEST(CliTest, MalformedUrlExitsTwo) {
  RunResult r = RunSqlx({"ping", "mysql://@127.0.0.1:" + MariaDbPort()});
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("invalid connection URL"), std::string::npos) << r.err;
  RunResult bad_param = RunSqlx({"ping", NativeUrl() + "?ssl-mod=required"});
  EXPECT_EQ(bad_param.exit_code, 2) << Describe(bad_param);
}

TEST(CliTest, MissingSqlArgumentExitsTwo) {
  RunResult r = RunSqlx({"query", NativeUrlNoPassword()}, EnvWithPassword());
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("missing the SQL"), std::string::npos) << r.err;
  RunResult none = RunSqlx({"query"}, EnvWithPassword());
  EXPECT_EQ(none.exit_code, 2) << Describe(none);
}

// With SQLX_URL set, the lone URL must not run as SQL there: the server's
// syntax error would echo it, password included.
TEST(CliTest, MissingSqlArgumentWithSqlxUrlSetDoesNotRunTheUrl) {
  Env env = EnvWithPassword();
  env["SQLX_URL"] = NativeUrlNoPassword();
  const std::string password = "url-pw-30417";
  RunResult r = RunSqlx({"query", MariaDbUrl("sqlx_native", password)}, env);
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("missing the SQL"), std::string::npos) << r.err;
  ExpectNoPassword(r, password);
}

TEST(CliTest, UnknownSubcommandExitsTwo) {
  RunResult r = RunSqlx({"frobnicate", NativeUrlNoPassword()}, EnvWithPassword());
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
}

TEST(CliTest, NoUrlAndNoSqlxUrlExitsTwo) {
  RunResult r = RunSqlx({"ping"}, EnvWithPassword());
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("SQLX_URL"), std::string::npos) << r.err;
}

TEST(CliTest, DbOptionDifferentFromTheUrlsDatabaseExitsTwo) {
  RunResult r = RunSqlx({"query", NativeUrlNoPassword(), "--db", "mysql", "SELECT 1"}, EnvWithPassword());
  EXPECT_EQ(r.exit_code, 2) << Describe(r);
  EXPECT_NE(r.err.find("--db"), std::string::npos) << r.err;
}

TEST(CliTest, DbOptionSelectsTheDatabase) {
  RunResult r = RunSqlx({"--format", "tsv", "query", MariaDbUrl("sqlx_native", "", ""), "--db", "mysql",
                         "SELECT DATABASE()"},
                        EnvWithPassword());
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, "mysql\n");
}

TEST(CliTest, ServerErrorExitsOne) {
  RunResult r = RunSqlx({"query", NativeUrlNoPassword(), "SELECT * FROM sqlx_no_such_table"}, EnvWithPassword());
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.err.find("1146"), std::string::npos) << r.err;
}

// --- password hygiene ---------------------------------------------------------------------

TEST(CliTest, UrlPasswordIsBlankedFromTheProcessArguments) {
  const Deadline deadline = ChildDeadline();
  Subprocess child({SqlxBinary(), "query", NativeUrl(), "SELECT SLEEP(2)"}, BaseEnv());
  ASSERT_GT(child.pid(), 0);
  // The warning is printed after argv was blanked: read cmdline then.
  ASSERT_TRUE(child.ReadUntil([](const RunResult& r) { return r.err.find("blanked") != std::string::npos; },
                              deadline))
      << child.result().err;
  std::ifstream in("/proc/" + std::to_string(child.pid()) + "/cmdline", std::ios::binary);
  std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  RunResult r = child.Wait(deadline);
  ASSERT_EQ(r.exit_code, 0) << Describe(r);
  ASSERT_FALSE(cmdline.empty());
  EXPECT_EQ(cmdline.find(kPassword), std::string::npos) << cmdline;
  EXPECT_NE(cmdline.find("sqlx_native:"), std::string::npos) << cmdline;
  EXPECT_NE(cmdline.find("SELECT SLEEP(2)"), std::string::npos) << cmdline;
  EXPECT_NE(r.err.find("SQLX_PASSWORD"), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "SLEEP(2)\n0\n");
  ExpectNoPassword(r);
}

TEST(CliTest, PasswordNeverAppearsInOutputEvenWhenVerbose) {
  struct Case {
    std::vector<std::string> args;
    int exit_code;
  };
  for (const Case& c : std::vector<Case>{
           {{"-vv", "ping", NativeUrl()}, 0},
           {{"-vv", "--format", "json", "ping", NativeUrl()}, 0},
           {{"-vv", "query", NativeUrl(), "SELECT 1"}, 0},
           {{"-vv", "query", NativeUrl(), "SELECT * FROM sqlx_no_such_table"}, 1},
           {{"-vv", "ping", NativeUrl() + "?ssl-mode=verify-ca&ssl-ca=" + testing::MariaDbRogueCa()}, 1},
           {{"-vv", "ping", MariaDbUrl("sqlx_native", kPassword, "sqlx_no_such_db")}, 1},
       }) {
    RunResult r = RunSqlx(c.args);  // RunSqlx checks stdout and stderr
    EXPECT_EQ(r.exit_code, c.exit_code) << c.args.back() << "\n" << Describe(r);
  }
  RunResult r = RunSqlx({"-vv", "ping", NativeUrlNoPassword()}, EnvWithPassword());
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.err.find("connecting to"), std::string::npos) << r.err;  // -vv logs did run
}

// --- packs --------------------------------------------------------------------------------

TEST(CliTest, EmptyPackDirFailsNamingTheDirectory) {
  const TempDir temp("sqlx_cli_test_empty_packs_");
  const fs::path dir = temp.path();
  RunResult r = RunSqlx({"--pack-dir", dir.string(), "ping", NativeUrlNoPassword()}, EnvWithPassword());
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.err.find(dir.string()), std::string::npos) << r.err;
}

TEST(CliTest, MalformedPackFailsNamingTheFileAndJsonPointer) {
  const TempDir temp("sqlx_cli_test_bad_pack_");
  const fs::path dir = temp.path();
  const fs::path source = fs::path(testing::SourceDir()) / "transports" / "packs";
  fs::copy_file(source / "registry.json", dir / "registry.json");
  nlohmann::json pack;
  {
    std::ifstream in(source / "mysql.wire.json");
    pack = nlohmann::json::parse(in);
  }
  ASSERT_EQ(pack["layouts"]["greeting"][3]["name"], "connection_id");
  pack["layouts"]["greeting"][3]["type"] = "u33";
  { std::ofstream(dir / "mysql.wire.json") << pack.dump(2); }
  RunResult r = RunSqlx({"--pack-dir", dir.string(), "ping", NativeUrlNoPassword()}, EnvWithPassword());
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_NE(r.err.find((dir / "mysql.wire.json").string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/layouts/greeting/3"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace sqlx
