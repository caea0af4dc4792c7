// `sqlx learn` and `sqlx snapshot` as a user runs them against the real
// MariaDB: snapshots new → unchanged → changed with their versions in the
// store, an unknown database among others, usage errors, a snapshot file
// whose profile_hash is the learn's, and a learn killed half-way that leaves
// the previous snapshot current.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "holding_proxy.h"
#include "learn_pack_edit.h"
#include "schema_fixtures.h"
#include "sqlx/messages/ir.h"
#include "sqlx/storage/store.h"
#include "sqlx_cli.h"
#include "subprocess.h"
#include "temp_dir.h"
#include "test_env.h"

namespace sqlx {
namespace {

namespace fs = std::filesystem;
using testing::DescribeRun;
using testing::FixtureDatabases;
using testing::RootSql;
using testing::RunResult;
using testing::TempDir;

std::string RootUrl(const std::string& db = "") {
  return "mysql://root@127.0.0.1:" + testing::MariaDbPort() + (db.empty() ? "" : "/" + db);
}
std::string RootConnection() { return "root@127.0.0.1:" + testing::MariaDbPort(); }

testing::Env RootEnv() {
  testing::Env env = testing::SqlxBaseEnv();
  env["SQLX_PASSWORD"] = testing::MariaDbRootPassword();
  return env;
}

RunResult Sqlx(const std::vector<std::string>& args, const testing::Env& env = RootEnv()) {
  RunResult r = testing::RunSqlx(args, env);
  EXPECT_EQ(r.out.find(testing::MariaDbRootPassword()), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find(testing::MariaDbRootPassword()), std::string::npos) << r.err;
  return r;
}

nlohmann::json Json(const RunResult& r) {
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << DescribeRun(r);
  return j;
}

// The learn's JSON entry for `db`, or null.
nlohmann::json Entry(const nlohmann::json& doc, const std::string& db) {
  for (const auto& d : doc.value("databases", nlohmann::json::array()))
    if (d.value("name", "") == db) return d;
  return nullptr;
}

// Learns `db` as root into `store`; its profile hash ("" and a test failure
// when the learn failed).
std::string LearnOnce(const std::string& store, const std::string& db) {
  RunResult r = Sqlx({"--store", store, "--format", "json", "learn", RootUrl(db)});
  EXPECT_EQ(r.exit_code, 0) << DescribeRun(r);
  nlohmann::json entry = Entry(Json(r), db);
  return entry.is_object() ? entry.value("profile_hash", "") : "";
}

std::vector<storage::SchemaRecord> Versions(const std::string& store_dir, const std::string& db) {
  storage::StoreOptions options;
  options.dir = store_dir;
  auto store = storage::Store::Open(options);
  EXPECT_TRUE(store.ok()) << store.error().ToString();
  if (!store.ok()) return {};
  auto versions = (*store)->ListSchemaVersions(RootConnection(), db);
  EXPECT_TRUE(versions.ok()) << versions.error().ToString();
  return versions.ok() ? *versions : std::vector<storage::SchemaRecord>{};
}

TEST(CliLearnTest, ALearnIsNewThenUnchangedThenChangedWithVersionsInTheStore) {
  FixtureDatabases fx;
  const std::string db = fx.Load("sakila", "sakila/v1.5.sql");
  TempDir store("sqlx-learn-store.");
  RunResult first = Sqlx({"--store", store.path(), "--format", "json", "learn", RootUrl(db)});
  ASSERT_EQ(first.exit_code, 0) << DescribeRun(first);
  nlohmann::json a = Entry(Json(first), db);
  ASSERT_TRUE(a.is_object()) << first.out;
  EXPECT_EQ(Json(first)["ok"], true);
  EXPECT_EQ(Json(first)["connection"], RootConnection());
  EXPECT_EQ(a["change"], "new");
  EXPECT_EQ(a["version"], 1);
  EXPECT_EQ(a["status"], "learned");
  EXPECT_EQ(a["counts"],
            nlohmann::json({{"tables", 16}, {"views", 7}, {"routines", 6}, {"triggers", 3}, {"events", 0}}));
  EXPECT_EQ(a["profile_hash"].get<std::string>().size(), 64u);

  RunResult second = Sqlx({"--store", store.path(), "--format", "json", "learn", RootUrl(db)});
  ASSERT_EQ(second.exit_code, 0) << DescribeRun(second);
  nlohmann::json b = Entry(Json(second), db);
  EXPECT_EQ(b["change"], "unchanged");
  EXPECT_EQ(b["version"], 1);
  EXPECT_EQ(b["profile_hash"], a["profile_hash"]);

  RootSql("ALTER TABLE actor ADD COLUMN nickname VARCHAR(20)", db);
  RunResult third = Sqlx({"--store", store.path(), "learn", RootUrl(), "--databases", db});
  ASSERT_EQ(third.exit_code, 0) << DescribeRun(third);
  EXPECT_NE(third.out.find("changed (v2)"), std::string::npos) << third.out;
  EXPECT_NE(third.out.find("DATABASE"), std::string::npos) << third.out;

  std::vector<storage::SchemaRecord> versions = Versions(store.path(), db);
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].version, 1u);
  EXPECT_EQ(versions[0].profile_hash, a["profile_hash"].get<std::string>());
  EXPECT_NE(versions[1].profile_hash, versions[0].profile_hash);
  EXPECT_EQ(versions[1].status, "learned");
  auto ir = ir::FromJson(versions[1].profile_json);
  ASSERT_TRUE(ir.ok()) << ir.error().ToString();
  EXPECT_EQ(ir::ProfileHash(*ir), versions[1].profile_hash);

  // The server was learned too, as `sqlx capabilities` stores it.
  RunResult caps =
      Sqlx({"--store", store.path(), "--format", "json", "capabilities", "--connection", RootConnection()});
  ASSERT_EQ(caps.exit_code, 0) << DescribeRun(caps);
  EXPECT_EQ(Json(caps)["capabilities"]["flavor"], "MariaDB");
}

TEST(CliLearnTest, AnUnknownDatabaseIsAnErrorAndTheOthersAreStillLearned) {
  FixtureDatabases fx;
  const std::string a = fx.Load("employees", "employees/employees.sql");
  const std::string b = fx.Load("nacos", "nacos/v2.3.0.sql");
  TempDir store("sqlx-learn-store.");
  RunResult r = Sqlx(
      {"--store", store.path(), "--format", "json", "learn", RootUrl(), "--databases", a + ",sqlx_no_such_db," + b});
  EXPECT_EQ(r.exit_code, 1) << DescribeRun(r);
  nlohmann::json doc = Json(r);
  EXPECT_EQ(doc["ok"], false);
  EXPECT_EQ(Entry(doc, a)["change"], "new");
  EXPECT_EQ(Entry(doc, b)["change"], "new");
  ASSERT_EQ(doc["errors"].size(), 1u);
  EXPECT_EQ(doc["errors"][0]["database"], "sqlx_no_such_db");
  EXPECT_EQ(doc["errors"][0]["code"], "not_found");
  EXPECT_NE(r.err.find("unknown database 'sqlx_no_such_db'"), std::string::npos) << r.err;
  EXPECT_EQ(Versions(store.path(), a).size(), 1u);
  EXPECT_EQ(Versions(store.path(), b).size(), 1u);
}

TEST(CliLearnTest, ContradictoryDatabaseChoicesAreUsageErrors) {
  TempDir store("sqlx-learn-store.");
  const std::vector<std::vector<std::string>> cases = {
      {"learn", RootUrl("sqlx_test"), "--all-databases"},
      {"learn", RootUrl(), "--databases", "sqlx_test", "--all-databases"},
      {"learn", RootUrl("sqlx_test"), "--databases", "mysql"},
      {"learn", RootUrl(), "--format", "sql"},
      {"learn", "mysql://root@127.0.0.1:" + testing::MariaDbPort() + "?ssl-mode=sometimes"},
  };
  for (const auto& args : cases) {
    std::vector<std::string> argv = {"--store", store.path()};
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = Sqlx(argv);
    EXPECT_EQ(r.exit_code, 2) << DescribeRun(r);
  }
}

TEST(CliLearnTest, WithoutANameEveryDatabaseTheUserSeesIsLearnedAndHiddenObjectsAreListed) {
  FixtureDatabases fx;
  const std::string db = fx.Load("sakila", "sakila/v1.5.sql");
  testing::TemporaryUser user("sqlx_cli_ro", "ro-pw", {"SELECT ON `" + db + "`.*"});
  testing::Env env = testing::SqlxBaseEnv();
  env["SQLX_PASSWORD"] = "ro-pw";
  TempDir store("sqlx-learn-store.");
  const std::string url = "mysql://" + user.name() + "@127.0.0.1:" + testing::MariaDbPort();

  RunResult r = Sqlx({"--store", store.path(), "--format", "json", "learn", url}, env);
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  nlohmann::json doc = Json(r);
  ASSERT_EQ(doc["databases"].size(), 1u) << r.out;  // information_schema is a system schema
  nlohmann::json entry = Entry(doc, db);
  EXPECT_EQ(entry["status"], "partial");
  EXPECT_EQ(entry["counts"]["triggers"], 0);
  std::string hidden = entry["not_visible"].dump();
  EXPECT_NE(hidden.find("triggers: not visible"), std::string::npos) << hidden;
  EXPECT_NE(hidden.find("routines: only those"), std::string::npos) << hidden;

  RunResult all =
      Sqlx({"--store", store.path(), "--format", "json", "learn", url, "--all-databases", "--include-system"}, env);
  ASSERT_EQ(all.exit_code, 0) << DescribeRun(all);
  EXPECT_TRUE(Entry(Json(all), "information_schema").is_object()) << all.out;
  EXPECT_EQ(Entry(Json(all), db)["change"], "unchanged");

  RunResult text = Sqlx({"--store", store.path(), "learn", url + "/" + db}, env);
  ASSERT_EQ(text.exit_code, 0) << DescribeRun(text);
  EXPECT_NE(text.out.find("not learned (the snapshot is partial)"), std::string::npos) << text.out;
}

TEST(CliLearnTest, ASnapshotFileCarriesTheProfileHashTheLearnStored) {
  FixtureDatabases fx;
  const std::string db = fx.Load("sakila", "sakila/v1.5.sql");
  TempDir store("sqlx-learn-store.");
  const std::string hash = LearnOnce(store.path(), db);
  ASSERT_FALSE(hash.empty());

  TempDir out("sqlx-snapshot.");
  const std::string file = out.path() + "/sakila.json";
  RunResult snap = Sqlx({"snapshot", RootUrl(), "--db", db, "-o", file});
  ASSERT_EQ(snap.exit_code, 0) << DescribeRun(snap);
  EXPECT_NE(snap.out.find(hash), std::string::npos) << snap.out;
  const std::string text = testing::ReadFile(file);
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << text.substr(0, 200);
  EXPECT_EQ(doc["profile_hash"], hash);
  EXPECT_EQ(doc["name"], db);
  EXPECT_EQ(doc["tables"].size(), 16u);
  // Without "profile_hash" it is the IR: it reads back to the same hash.
  doc.erase("profile_hash");
  auto ir = ir::FromJson(doc.dump());
  ASSERT_TRUE(ir.ok()) << ir.error().ToString();
  EXPECT_EQ(ir::ProfileHash(*ir), hash);
  // Written atomically: nothing else is left in the directory.
  size_t files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(out.path())) ++files;
  EXPECT_EQ(files, 1u);

  RunResult to_stdout = Sqlx({"snapshot", RootUrl(db), "--format", "json"});
  ASSERT_EQ(to_stdout.exit_code, 0) << DescribeRun(to_stdout);
  EXPECT_EQ(to_stdout.out, text);
}

TEST(CliLearnTest, SnapshotAsSqlLoadsWithTheStockClientAndLearnsTheSameHash) {
  FixtureDatabases fx;
  const std::string a = fx.Load("sakila", "sakila/v1.5.sql");
  TempDir dir("sqlx-snapshot-sql.");
  const std::string file = dir.path() + "/sakila.sql";
  RunResult sql = Sqlx({"snapshot", RootUrl(a), "--format", "sql", "-o", file});
  ASSERT_EQ(sql.exit_code, 0) << DescribeRun(sql);
  RunResult json = Sqlx({"snapshot", RootUrl(a), "--format", "json"});
  ASSERT_EQ(json.exit_code, 0) << DescribeRun(json);
  const std::string hash = nlohmann::json::parse(json.out)["profile_hash"];
  EXPECT_NE(sql.out.find(hash), std::string::npos) << "the confirmation names the profile hash: " << sql.out;

  // The script goes into an empty database with the stock client; the copy
  // learns to the same profile hash.
  const std::string b = fx.Create("sakila_copy");
  testing::RunResult load = testing::RootClient({b, "-e", "source " + file});
  ASSERT_EQ(load.exit_code, 0) << load.err;
  RunResult copy = Sqlx({"snapshot", RootUrl(b), "--format", "json"});
  ASSERT_EQ(copy.exit_code, 0) << DescribeRun(copy);
  EXPECT_EQ(nlohmann::json::parse(copy.out)["profile_hash"], hash);

  // To stdout: the script itself, tables before the views that read them.
  RunResult out = Sqlx({"snapshot", RootUrl(a), "--format", "sql"});
  ASSERT_EQ(out.exit_code, 0) << DescribeRun(out);
  EXPECT_NE(out.out.find("-- profile_hash " + hash), std::string::npos);
  EXPECT_LT(out.out.find("CREATE TABLE `actor`"), out.out.find("VIEW `actor_info`"));

  RunResult no_db = Sqlx({"snapshot", RootUrl(), "--format", "sql"});
  EXPECT_EQ(no_db.exit_code, 2) << DescribeRun(no_db);
  RunResult unknown = Sqlx({"snapshot", RootUrl("sqlx_no_such_db"), "--format", "sql"});
  EXPECT_EQ(unknown.exit_code, 1) << DescribeRun(unknown);
  EXPECT_NE(unknown.err.find("unknown database 'sqlx_no_such_db'"), std::string::npos) << unknown.err;
  EXPECT_TRUE(unknown.out.empty()) << unknown.out;
  RunResult wrong = Sqlx({"learn", RootUrl(a), "--format", "sql"});
  EXPECT_EQ(wrong.exit_code, 2) << DescribeRun(wrong);
}

TEST(CliLearnTest, PlanDiffBetweenLiveDatabasesAppliesWithTheStockClient) {
  FixtureDatabases fx;
  const std::string a = fx.Load("rc_old", "roundcube/v1.4.0.sql");
  const std::string b = fx.Load("rc_new", "roundcube/v1.6.0.sql");
  auto hash_of = [&](const std::string& db) -> std::string {
    RunResult r = Sqlx({"snapshot", RootUrl(db), "--format", "json"});
    EXPECT_EQ(r.exit_code, 0) << DescribeRun(r);
    return r.exit_code == 0 ? nlohmann::json::parse(r.out)["profile_hash"].get<std::string>() : "";
  };
  const std::string hash_a = hash_of(a), hash_b = hash_of(b);
  ASSERT_NE(hash_a, hash_b);

  TempDir dir("sqlx-plan-cli.");
  const std::string file = dir.path() + "/plan.json";
  RunResult json = Sqlx({"plan:diff", "--from", RootUrl(a), "--to", RootUrl(b), "--format", "json", "-o", file});
  ASSERT_EQ(json.exit_code, 0) << DescribeRun(json);
  const nlohmann::json plan = nlohmann::json::parse(json.out);
  EXPECT_EQ(plan["from_hash"], hash_a);
  EXPECT_EQ(plan["to_hash"], hash_b);
  EXPECT_EQ(plan["database"], a);
  EXPECT_GT(plan["operations"].size(), 5u);
  std::ifstream written(file);
  std::string on_disk((std::istreambuf_iterator<char>(written)), std::istreambuf_iterator<char>());
  EXPECT_EQ(on_disk, json.out);

  RunResult text = Sqlx({"plan-diff", "--from", RootUrl(a), "--to", RootUrl(b)});
  ASSERT_EQ(text.exit_code, 0) << DescribeRun(text);
  EXPECT_NE(text.out.find("create_table collected_addresses  [safe]"), std::string::npos) << text.out;

  RunResult sql = Sqlx({"plan:diff", "--from", RootUrl(a), "--to", RootUrl(b), "--format", "sql"});
  ASSERT_EQ(sql.exit_code, 0) << DescribeRun(sql);
  const std::string script = dir.path() + "/plan.sql";
  std::ofstream(script) << sql.out;
  testing::RunResult applied = testing::RootClient({a, "--abort-source-on-error", "-e", "source " + script});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  EXPECT_EQ(hash_of(a), hash_b);

  RunResult desired_sql = Sqlx({"plan:diff", "--from", RootUrl(a), "--to", dir.path() + "/desired.sql"});
  EXPECT_EQ(desired_sql.exit_code, 2) << DescribeRun(desired_sql);
  EXPECT_NE(desired_sql.err.find("--dev-url"), std::string::npos) << desired_sql.err;
  RunResult no_db = Sqlx({"plan:diff", "--from", RootUrl(), "--to", RootUrl(b)});
  EXPECT_EQ(no_db.exit_code, 2) << DescribeRun(no_db);
  RunResult bad_json = Sqlx({"plan:diff", "--from", file, "--to", RootUrl(b)});
  EXPECT_EQ(bad_json.exit_code, 2) << DescribeRun(bad_json);
  EXPECT_NE(bad_json.err.find("--from " + file + ": IR JSON"), std::string::npos) << bad_json.err;
}

// `text` in single quotes for /bin/sh.
std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// On a terminal (script(1) gives stderr a pseudo-terminal) the learn shows a
// progress line on stderr, rewritten in place and erased at the end, while
// stdout, redirected to a file, is still one JSON document; with stderr a
// pipe there is no progress line.
TEST(CliLearnTest, AProgressLineIsShownOnATerminalOnly) {
  FixtureDatabases fx;
  const std::string db = fx.Load("sakila", "sakila/v1.5.sql");
  TempDir store("sqlx-learn-store.");
  TempDir out("sqlx-learn-tty.");
  const std::string json_file = out.path() + "/stdout.json";
  const std::string command = ShellQuote(testing::SqlxBinary()) + " --store " + ShellQuote(store.path()) +
                              " --format json learn " + ShellQuote(RootUrl(db)) + " > " + ShellQuote(json_file);
  RunResult tty = testing::Subprocess({"/usr/bin/script", "-qec", command, "/dev/null"}, RootEnv())
                      .Wait(testing::SqlxDeadline());
  ASSERT_EQ(tty.exit_code, 0) << DescribeRun(tty);
  const std::string erase = "\r\033[K";
  EXPECT_NE(tty.out.find(erase + "sqlx: probing the server " + RootConnection()), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find(erase + "sqlx: learning 1 database: catalog query 1/15 (schemata)"), std::string::npos) << tty.out;
  EXPECT_NE(tty.out.find(erase + "sqlx: learning 1 database: building 1/1 " + db), std::string::npos) << tty.out;
  EXPECT_EQ(tty.out.find('\n'), std::string::npos) << tty.out;  // one line, rewritten
  ASSERT_GE(tty.out.size(), erase.size());
  EXPECT_EQ(tty.out.substr(tty.out.size() - erase.size()), erase) << tty.out;  // erased at the end
  nlohmann::json doc = nlohmann::json::parse(testing::ReadFile(json_file), nullptr, false);
  ASSERT_FALSE(doc.is_discarded()) << testing::ReadFile(json_file);
  EXPECT_EQ(Entry(doc, db)["change"], "new");

  RunResult piped = Sqlx({"--store", store.path(), "--format", "json", "learn", RootUrl(db)});
  ASSERT_EQ(piped.exit_code, 0) << DescribeRun(piped);
  EXPECT_EQ(piped.err, "");
  EXPECT_EQ(Entry(Json(piped), db)["change"], "unchanged");
}

TEST(CliLearnTest, ALearnKilledHalfWayLeavesThePreviousSnapshotCurrent) {
  FixtureDatabases fx;
  const std::string db = fx.Load("employees", "employees/employees.sql");
  TempDir store("sqlx-learn-store.");
  const std::string hash = LearnOnce(store.path(), db);
  ASSERT_FALSE(hash.empty());
  RootSql("ALTER TABLE employees ADD COLUMN nickname VARCHAR(20)", db);

  // A learn pack whose events query kills the session after the tables,
  // columns, indexes, ... were read.
  TempDir packs("sqlx-killing-pack.");
  testing::WriteKillingLearnPack(packs.path());
  testing::Env env = RootEnv();
  env["SQLX_LEARN_PACK_DIR"] = packs.path();
  RunResult killed = Sqlx({"--store", store.path(), "learn", RootUrl(db)}, env);
  EXPECT_EQ(killed.exit_code, 1) << DescribeRun(killed);
  EXPECT_NE(killed.err.find("catalog query 'events' failed"), std::string::npos) << killed.err;

  std::vector<storage::SchemaRecord> versions = Versions(store.path(), db);
  ASSERT_EQ(versions.size(), 1u);
  EXPECT_EQ(versions[0].profile_hash, hash);
}

// The learn runs as a job of the actors: a connection lost mid-learn fails
// that attempt, and the supervisor runs the job again on fresh connections
// (docs/actors.md). A proxy in front of the server cuts the first
// connection half-way through what the server sends it.
TEST(CliLearnTest, ALearnWhoseConnectionIsLostMidWayIsRunAgain) {
  FixtureDatabases fx;
  const std::string db = fx.Load("sakila", "sakila/v1.5.sql");
  testing::HoldingProxy proxy(std::stoi(testing::MariaDbPort()));
  ASSERT_NE(proxy.port(), 0);
  const std::string url = "mysql://root@127.0.0.1:" + std::to_string(proxy.port()) + "/" + db;
  TempDir dry("sqlx-learn-store.");
  RunResult whole = Sqlx({"--store", dry.path(), "--format", "json", "learn", url});
  ASSERT_EQ(whole.exit_code, 0) << DescribeRun(whole);
  EXPECT_EQ(Json(whole)["attempts"], 1);
  // The learn's two connections; the next first one is cut at half of the
  // smaller's bytes: after its connect, before its learn is done.
  const std::vector<size_t> sent = proxy.server_bytes();
  ASSERT_EQ(sent.size(), 2u);
  proxy.CutNext(std::min(sent[0], sent[1]) / 2);

  TempDir store("sqlx-learn-store.");
  RunResult cut = Sqlx({"--store", store.path(), "--format", "json", "learn", url});
  ASSERT_EQ(cut.exit_code, 0) << DescribeRun(cut);
  const nlohmann::json doc = Json(cut);
  EXPECT_EQ(doc["attempts"], 2) << cut.out;
  EXPECT_NE(cut.err.find("attempt 1 of 3 failed, retrying"), std::string::npos) << cut.err;
  EXPECT_EQ(Entry(doc, db)["change"], "new");
  EXPECT_EQ(Entry(doc, db)["profile_hash"], Entry(Json(whole), db)["profile_hash"]);
  EXPECT_EQ(proxy.server_bytes().size(), 6u);  // two connections per attempt (the dry run's included)
}

}  // namespace
}  // namespace sqlx
