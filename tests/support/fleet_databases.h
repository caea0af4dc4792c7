// Databases for fleet tests on one MariaDB (the shared one or a test's own,
// by port): `count` databases "<name>_<i>" with a few tables each, and an
// account '<name>'@'127.0.0.1' with a password that sees only them, so a
// learn of the server finds exactly these whatever else the server holds.
// Everything is dropped on destruction.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "subprocess.h"
#include "test_env.h"

namespace sqlx::testing {

// "ct<pid>_<tag>": the databases and account names of this test process.
inline std::string FleetName(const std::string& tag) { return "ct" + std::to_string(::getpid()) + "_" + tag; }

// The shared test MariaDB's port.
inline int SharedMariaDbPort() { return std::stoi(MariaDbPort()); }

// Runs `sql` as root on the MariaDB at 127.0.0.1:`port`; a failure fails the test.
inline std::string RootSqlAt(int port, const std::string& sql) {
  std::string client = "/usr/bin/mariadb";
  if (!std::filesystem::exists(client)) client = "/usr/bin/mysql";
  const Env env = {{"MYSQL_PWD", MariaDbRootPassword()}, {"LANG", "C.UTF-8"}};
  RunResult r = Subprocess({client, "--no-defaults", "-h127.0.0.1", "-P" + std::to_string(port), "-uroot", "--batch",
                            "--skip-column-names", "-e", sql},
                           env)
                    .Wait(DeadlineIn(std::chrono::seconds(120)));
  EXPECT_EQ(r.exit_code, 0) << "on port " << port << ": " << sql.substr(0, 200) << "\n" << r.err;
  return r.out;
}

class FleetDatabases {
 public:
  // `name`: [a-z0-9_], short (it is the account's name too).
  FleetDatabases(int port, std::string name, int count, int tables, std::string password)
      : port_(port), name_(std::move(name)), password_(std::move(password)) {
    for (int i = 0; i < count; ++i) databases_.push_back(name_ + "_" + std::to_string(i));
    std::string pattern;
    for (char c : name_ + "_") pattern += c == '_' ? std::string("\\_") : std::string(1, c);
    std::string sql = Drop() + "CREATE USER " + Account() + " IDENTIFIED BY '" + password_ + "'; GRANT ALL ON `" +
                      pattern + "%`.* TO " + Account() + ";";
    for (const std::string& db : databases_) {
      sql += "CREATE DATABASE `" + db + "`;";
      for (int t = 0; t < tables; ++t) {
        sql += "CREATE TABLE `" + db + "`.t" + std::to_string(t) +
               " (id INT PRIMARY KEY, name VARCHAR(40) NOT NULL, created DATETIME, KEY k_name (name));";
      }
    }
    RootSqlAt(port_, sql);
  }
  ~FleetDatabases() { RootSqlAt(port_, Drop()); }
  FleetDatabases(const FleetDatabases&) = delete;
  FleetDatabases& operator=(const FleetDatabases&) = delete;

  const std::vector<std::string>& databases() const { return databases_; }
  const std::string& user() const { return name_; }
  const std::string& password() const { return password_; }
  // The URL of the account, without its password, through `via_port`
  // (default: the server's own port).
  std::string Url(int via_port = 0) const {
    return "mysql://" + name_ + "@127.0.0.1:" + std::to_string(via_port != 0 ? via_port : port_) +
           "?ssl-mode=disabled";
  }
  void Sql(const std::string& sql) const { RootSqlAt(port_, sql); }

 private:
  std::string Account() const { return "'" + name_ + "'@'127.0.0.1'"; }
  std::string Drop() const {
    std::string sql = "DROP USER IF EXISTS " + Account() + ";";
    for (const std::string& db : databases_) sql += "DROP DATABASE IF EXISTS `" + db + "`;";
    return sql;
  }

  int port_;
  std::string name_;
  std::string password_;
  std::vector<std::string> databases_;
};

}  // namespace sqlx::testing
