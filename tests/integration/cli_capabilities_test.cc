// `sqlx capabilities` as a user runs it against the real MariaDB: learned
// once into the store, read back from it, refreshed, and never holding a
// password.
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sqlx_cli.h"
#include "temp_dir.h"
#include "test_env.h"

namespace sqlx {
namespace {

namespace fs = std::filesystem;
using sqlx::testing::DescribeRun;
using sqlx::testing::MariaDbPort;
using sqlx::testing::MariaDbUrl;
using sqlx::testing::RunResult;
using sqlx::testing::RunSqlx;
using sqlx::testing::SqlxEnvWithPassword;
using sqlx::testing::TempDir;

std::string Url() { return MariaDbUrl("sqlx_native", "", "sqlx_test"); }
std::string ConnectionName() { return "sqlx_native@127.0.0.1:" + MariaDbPort(); }

nlohmann::json Json(const RunResult& r) {
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << DescribeRun(r);
  return j;
}

TEST(CliCapabilitiesTest, LearnsOnceThenReadsTheStore) {
  TempDir store("sqlx-cap-store.");
  RunResult first = RunSqlx({"--store", store.path(), "--format", "json", "capabilities", Url()},
                            SqlxEnvWithPassword());
  ASSERT_EQ(first.exit_code, 0) << DescribeRun(first);
  nlohmann::json a = Json(first);
  EXPECT_TRUE(a["learned_now"].get<bool>());
  EXPECT_EQ(a["connection"], ConnectionName());
  EXPECT_EQ(a["capabilities"]["flavor"], "MariaDB");
  EXPECT_EQ(a["capabilities"]["capabilities"]["cte"]["value"], true);
  EXPECT_EQ(a["capabilities"]["capabilities"]["cte"]["evidence"], "probe");
  EXPECT_EQ(a["capabilities"]["capabilities"]["instant_add_column"]["evidence"], "inferred");
  EXPECT_EQ(a["server_fingerprint"].get<std::string>().size(), 64u);

  // No password needed to read the store by connection name.
  RunResult stored = RunSqlx({"--store", store.path(), "--format", "json", "capabilities", "--connection",
                              ConnectionName()});
  ASSERT_EQ(stored.exit_code, 0) << DescribeRun(stored);
  nlohmann::json b = Json(stored);
  EXPECT_FALSE(b["learned_now"].get<bool>());
  EXPECT_EQ(b["capabilities"], a["capabilities"]);
  EXPECT_EQ(b["server_fingerprint"], a["server_fingerprint"]);
  EXPECT_EQ(b["learned_at"], a["learned_at"]);
}

TEST(CliCapabilitiesTest, RefreshLearnsAgainWithTheSameFingerprint) {
  TempDir store("sqlx-cap-store.");
  RunResult first = RunSqlx({"--store", store.path(), "--format", "json", "capabilities", Url()},
                            SqlxEnvWithPassword());
  ASSERT_EQ(first.exit_code, 0) << DescribeRun(first);
  RunResult again = RunSqlx({"--store", store.path(), "--format", "json", "capabilities", Url(), "--refresh"},
                            SqlxEnvWithPassword());
  ASSERT_EQ(again.exit_code, 0) << DescribeRun(again);
  EXPECT_TRUE(Json(again)["learned_now"].get<bool>());
  // Same server, same store salt: same fingerprint.
  EXPECT_EQ(Json(again)["server_fingerprint"], Json(first)["server_fingerprint"]);
}

TEST(CliCapabilitiesTest, StoresDifferSaltsAndSoFingerprints) {
  TempDir store_a("sqlx-cap-a."), store_b("sqlx-cap-b.");
  RunResult a = RunSqlx({"--store", store_a.path(), "--format", "json", "capabilities", Url()}, SqlxEnvWithPassword());
  RunResult b = RunSqlx({"--store", store_b.path(), "--format", "json", "capabilities", Url()}, SqlxEnvWithPassword());
  ASSERT_EQ(a.exit_code, 0) << DescribeRun(a);
  ASSERT_EQ(b.exit_code, 0) << DescribeRun(b);
  EXPECT_NE(Json(a)["server_fingerprint"], Json(b)["server_fingerprint"]);
}

TEST(CliCapabilitiesTest, UnknownStoredConnectionIsAnErrorSayingWhatToRun) {
  TempDir store("sqlx-cap-store.");
  RunResult r = RunSqlx({"--store", store.path(), "capabilities", "--connection", "nobody@db.example.com:3306"});
  EXPECT_EQ(r.exit_code, 1) << DescribeRun(r);
  EXPECT_NE(r.err.find("nobody@db.example.com:3306"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("sqlx capabilities URL"), std::string::npos) << r.err;
}

TEST(CliCapabilitiesTest, UrlAndConnectionTogetherIsAUsageError) {
  TempDir store("sqlx-cap-store.");
  RunResult r = RunSqlx({"--store", store.path(), "capabilities", Url(), "--connection", ConnectionName()});
  EXPECT_EQ(r.exit_code, 2) << DescribeRun(r);
}

TEST(CliCapabilitiesTest, TextOutputListsEvidenceAndGrantsWithoutPasswordHashes) {
  TempDir store("sqlx-cap-store.");
  RunResult r = RunSqlx({"--store", store.path(), "capabilities", Url()}, SqlxEnvWithPassword());
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  EXPECT_NE(r.out.find("CAPABILITY"), std::string::npos);
  EXPECT_NE(r.out.find("window_functions"), std::string::npos);
  EXPECT_NE(r.out.find("GRANT"), std::string::npos);
  // MariaDB's SHOW GRANTS prints the password hash: it must be redacted.
  EXPECT_EQ(r.out.find("PASSWORD '*"), std::string::npos) << r.out;
}

TEST(CliCapabilitiesTest, TheStoreNeverHoldsThePassword) {
  TempDir store("sqlx-cap-store.");
  RunResult r = RunSqlx({"--store", store.path(), "capabilities", Url()}, SqlxEnvWithPassword());
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  for (const auto& entry : fs::recursive_directory_iterator(store.path())) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find(sqlx::testing::kNativePassword), std::string::npos) << entry.path();
  }
}

}  // namespace
}  // namespace sqlx
