// Running the built `sqlx` binary in tests: an explicit environment, a
// deadline, and a check that the test password never reaches its output.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "subprocess.h"
#include "test_env.h"

namespace sqlx::testing {

inline constexpr const char* kNativePassword = "native-pw";
inline constexpr int kSqlxTimeoutMs = 30000;  // bounds every child run

inline Deadline SqlxDeadline() { return DeadlineIn(std::chrono::milliseconds(kSqlxTimeoutMs)); }

// The environment every sqlx run gets: nothing from ours but a locale and a
// private HOME (so the default store is never the developer's).
inline Env SqlxBaseEnv() { return {{"LANG", "C.UTF-8"}, {"HOME", ::testing::TempDir()}}; }

inline Env SqlxEnvWithPassword() {
  Env env = SqlxBaseEnv();
  env["SQLX_PASSWORD"] = kNativePassword;
  return env;
}

inline void ExpectNoPassword(const RunResult& r, const std::string& password = kNativePassword) {
  EXPECT_EQ(r.out.find(password), std::string::npos) << "password on stdout: " << r.out;
  EXPECT_EQ(r.err.find(password), std::string::npos) << "password on stderr: " << r.err;
}

// Runs sqlx to its exit; no run may print the test password.
inline RunResult RunSqlx(const std::vector<std::string>& args, const Env& env = SqlxBaseEnv()) {
  std::vector<std::string> argv = {SqlxBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  RunResult r = Subprocess(argv, env).Wait(SqlxDeadline());
  ExpectNoPassword(r);
  return r;
}

inline std::string DescribeRun(const RunResult& r) {
  return "exit " + std::to_string(r.exit_code) + "\nstdout:\n" + r.out + "\nstderr:\n" + r.err;
}

}  // namespace sqlx::testing
