// `sqlx rollout` as the rollout integration tests drive it: the desired
// schema of FleetDatabases' tables with a change, the dev server it is
// learned on, and the command's exit code and JSON answer.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "fleet_databases.h"
#include "sqlx_cluster.h"
#include "test_env.h"

namespace sqlx::testing {

// The tables FleetDatabases makes, `t0_extra` added to t0's definition,
// written to DIR/desired.sql: its path.
inline std::string DesiredSql(const std::string& dir, int tables, const std::string& t0_extra) {
  std::string sql;
  for (int t = 0; t < tables; ++t) {
    sql += "CREATE TABLE t" + std::to_string(t) + " (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, created DATETIME" +
           (t == 0 ? t0_extra : "") + ", KEY k_name (name));\n";
  }
  const std::string path = dir + "/desired.sql";
  WriteFile(path, sql);
  return path;
}

// The dev server a .sql desired state is learned on: root on the shared MariaDB.
inline std::string DevUrl() { return "mysql://root@127.0.0.1:" + MariaDbPort() + "?ssl-mode=disabled"; }
inline Env RootPassword() { return {{"SQLX_PASSWORD", MariaDbRootPassword()}}; }

// `sqlx --format json rollout ARGS`: its exit code and answer.
inline std::pair<int, nlohmann::json> Rollout(SqlxCluster& cluster, std::vector<std::string> args) {
  args.insert(args.begin(), {"--format", "json", "rollout"});
  const RunResult r = cluster.Sqlx(args, "", RootPassword());
  const nlohmann::json answer = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_TRUE(answer.is_object()) << DescribeRun(r);
  return {r.exit_code, answer};
}

}  // namespace sqlx::testing
