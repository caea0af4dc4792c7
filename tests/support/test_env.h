// Test environment: where the services started by scripts/services/up are.
// Integration tests FAIL (not skip) when a service is missing: scripts/test
// always starts them, so a missing one is a broken run.
#pragma once

#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

namespace sqlx::testing {

// Value of an environment variable the service scripts export, or a test
// failure naming it.
inline std::string ServiceEnv(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') {
    ADD_FAILURE() << name << " is not set: run tests through scripts/test, or `eval \"$(scripts/services/up)\"` first";
    return {};
  }
  return v;
}

inline std::string MariaDbPort() { return ServiceEnv("SQLX_TEST_MARIADB_PORT"); }
inline std::string MariaDbCa() { return ServiceEnv("SQLX_TEST_MARIADB_CA"); }
inline std::string MariaDbRogueCa() { return ServiceEnv("SQLX_TEST_MARIADB_ROGUE_CA"); }
inline std::string MariaDbRootPassword() { return ServiceEnv("SQLX_TEST_ROOT_PASSWORD"); }

// mysql://USER:PASSWORD@127.0.0.1:PORT/DB?QUERY for the test MariaDB.
inline std::string MariaDbUrl(const std::string& user, const std::string& password,
                              const std::string& db = "sqlx_test", const std::string& query = "") {
  std::string url = "mysql://" + user + (password.empty() ? "" : ":" + password) + "@127.0.0.1:" +
                    MariaDbPort() + "/" + db;
  if (!query.empty()) url += "?" + query;
  return url;
}

// nats://127.0.0.1:PORT of the test nats-server (JetStream, max_payload 8 MiB).
inline std::string NatsUrl() { return ServiceEnv("SQLX_TEST_NATS_URL"); }

inline std::string SourceDir() { return SQLX_SOURCE_DIR; }
inline std::string BinaryDir() { return SQLX_BINARY_DIR; }
inline std::string SqlxBinary() { return BinaryDir() + "/cli/sqlx"; }

}  // namespace sqlx::testing
