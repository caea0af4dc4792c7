// A MariaDB of a test's own (scripts/services/mariadb-up in a temp state dir
// on a free port), for tests that could take the shared server down with
// them: the test process's SQLX_TEST_MARIADB_* point at it while it lives.
#pragma once

#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sqlx_cli.h"
#include "subprocess.h"
#include "temp_dir.h"
#include "test_env.h"

namespace sqlx::testing {

// A TCP port on 127.0.0.1 nobody listens on right now.
inline int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
    port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

// Runs scripts/services/ scripts with a state dir of their own, and takes
// the `export NAME=VALUE` lines they print into this process's environment
// (restored as it was when this goes).
class OwnServices {
 public:
  OwnServices(const std::string& prefix, const Env& extra) : state_(std::make_unique<TempDir>(prefix)) {
    env_ = {{"PATH", std::getenv("PATH") != nullptr ? std::getenv("PATH") : "/usr/bin:/bin"},
            {"HOME", ::testing::TempDir()},
            {"SQLX_TEST_STATE", state_->path()}};
    for (const auto& [name, value] : extra) env_[name] = value;
  }
  ~OwnServices() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        ::setenv(name.c_str(), value->c_str(), 1);
      } else {
        ::unsetenv(name.c_str());
      }
    }
  }
  OwnServices(const OwnServices&) = delete;
  OwnServices& operator=(const OwnServices&) = delete;
  // False (and error() set) when `name` fails or there is no state dir:
  // never the scripts' default one, where the shared services live.
  bool Start(const std::string& name) {
    if (state_->path().empty()) {
      error_ = "cannot create a temp state dir";
      return false;
    }
    RunResult r = Run(name);
    if (r.exit_code != 0) {
      error_ = name + " failed: " + DescribeRun(r);
      return false;
    }
    Export(r.out);
    return true;
  }
  void Stop(const std::string& name) {
    if (state_->path().empty()) return;
    RunResult r = Run(name);
    EXPECT_EQ(r.exit_code, 0) << name << ": " << DescribeRun(r);
  }
  const std::string& error() const { return error_; }
  const std::string& env(const std::string& name) { return env_[name]; }

 private:
  RunResult Run(const std::string& name) {
    return Subprocess({SourceDir() + "/scripts/services/" + name}, env_).Wait(DeadlineIn(std::chrono::seconds(240)));
  }
  void Export(const std::string& lines) {
    std::istringstream in(lines);
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("export ", 0) != 0 || line.find('=') == std::string::npos) continue;
      const std::string name = line.substr(7, line.find('=') - 7), value = line.substr(line.find('=') + 1);
      if (saved_.count(name) == 0) {
        const char* was = std::getenv(name.c_str());
        saved_[name] = was != nullptr ? std::optional<std::string>(was) : std::nullopt;
      }
      ::setenv(name.c_str(), value.c_str(), 1);
      env_[name] = value;
    }
  }

  std::unique_ptr<TempDir> state_;
  Env env_;
  std::map<std::string, std::optional<std::string>> saved_;  // what Export replaced
  std::string error_;
};

// One MariaDB of the test's own, stopped when it goes.
class OwnMariaDb {
 public:
  OwnMariaDb()
      : services_("sqlx-own-db.", {{"SQLX_TEST_MARIADB_PORT", std::to_string(FreePort())},
                                   {"SQLX_TEST_ROOT_PASSWORD", MariaDbRootPassword()}}) {
    started_ = services_.Start("mariadb-up");
  }
  ~OwnMariaDb() {
    if (started_) services_.Stop("mariadb-down");
  }
  OwnMariaDb(const OwnMariaDb&) = delete;
  OwnMariaDb& operator=(const OwnMariaDb&) = delete;
  const std::string& error() const { return services_.error(); }
  // Its port on 127.0.0.1 (0 when it did not start).
  int port() { return started_ ? std::stoi(services_.env("SQLX_TEST_MARIADB_PORT")) : 0; }

 private:
  OwnServices services_;
  bool started_ = false;
};

}  // namespace sqlx::testing
