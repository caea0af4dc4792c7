// Running sqlx as the test MariaDB's root (password through SQLX_PASSWORD,
// never argv), and the live profile hash of a database.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sqlx_cli.h"
#include "test_env.h"

namespace sqlx::testing {

inline std::string RootUrl(const std::string& db = "") {
  return "mysql://root@127.0.0.1:" + MariaDbPort() + (db.empty() ? "" : "/" + db);
}

inline Env RootSqlxEnv() {
  Env env = SqlxBaseEnv();
  env["SQLX_PASSWORD"] = MariaDbRootPassword();
  return env;
}

// Runs sqlx to its exit; no output may hold the root password.
inline RunResult RootSqlx(const std::vector<std::string>& args) {
  RunResult r = RunSqlx(args, RootSqlxEnv());
  EXPECT_EQ(r.out.find(MariaDbRootPassword()), std::string::npos) << r.out;
  EXPECT_EQ(r.err.find(MariaDbRootPassword()), std::string::npos) << r.err;
  return r;
}

// The live profile hash of `db` ("" and a failure when it cannot be learned).
inline std::string LiveHash(const std::string& db) {
  RunResult r = RootSqlx({"--format", "json", "snapshot", RootUrl(db)});
  EXPECT_EQ(r.exit_code, 0) << DescribeRun(r);
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  return j.is_object() ? j.value("profile_hash", "") : "";
}

}  // namespace sqlx::testing
