// Real application schemas (tests/fixtures/schemas, see its SOURCES.md)
// loaded into throwaway databases on the test MariaDB, as root, with the
// stock `mariadb` client (several files use DELIMITER). Every database a
// FixtureDatabases creates is dropped when it is destroyed.
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "subprocess.h"
#include "test_env.h"

namespace sqlx::testing {

// $SQLX_FIXTURE_SCHEMAS, else tests/fixtures/schemas in the source tree.
inline std::string FixtureSchemaDir() {
  if (const char* dir = std::getenv("SQLX_FIXTURE_SCHEMAS"); dir != nullptr && *dir != '\0') return dir;
  return SourceDir() + "/tests/fixtures/schemas";
}

// The mariadb client as root over TCP (password through MYSQL_PWD, not argv).
inline RunResult RootClient(const std::vector<std::string>& args) {
  std::string client = "/usr/bin/mariadb";
  if (!std::filesystem::exists(client)) client = "/usr/bin/mysql";
  std::vector<std::string> argv = {client, "--no-defaults", "-h127.0.0.1", "-P" + MariaDbPort(), "-uroot",
                                   "--batch", "--skip-column-names"};
  argv.insert(argv.end(), args.begin(), args.end());
  Env env = {{"MYSQL_PWD", MariaDbRootPassword()}, {"LANG", "C.UTF-8"}};
  return Subprocess(argv, env).Wait(DeadlineIn(std::chrono::seconds(120)));
}

// Runs `sql` as root (in `db` when given); a failure fails the test.
inline std::string RootSql(const std::string& sql, const std::string& db = "") {
  std::vector<std::string> args;
  if (!db.empty()) args.push_back(db);
  args.push_back("-e");
  args.push_back(sql);
  RunResult r = RootClient(args);
  EXPECT_EQ(r.exit_code, 0) << sql << "\n" << r.err;
  return r.out;
}

// Databases created for one test process: names are "sqlx_fx<pid>_<tag>" so
// that test processes running in parallel never share one.
class FixtureDatabases {
 public:
  FixtureDatabases() = default;
  ~FixtureDatabases() {
    for (const std::string& db : created_) RootSql("DROP DATABASE IF EXISTS `" + db + "`");
  }
  FixtureDatabases(const FixtureDatabases&) = delete;
  FixtureDatabases& operator=(const FixtureDatabases&) = delete;

  std::string Name(const std::string& tag) const { return "sqlx_fx" + std::to_string(::getpid()) + "_" + tag; }

  // A fresh, empty database (dropped first if left over).
  std::string Create(const std::string& tag) {
    const std::string db = Name(tag);
    RootSql("DROP DATABASE IF EXISTS `" + db + "`; CREATE DATABASE `" + db + "`");
    created_.push_back(db);
    return db;
  }

  // Drops `db` with the others when this is destroyed.
  void Adopt(const std::string& db) { created_.push_back(db); }

  // A fresh database holding fixture `file` ("sakila/v1.5.sql"), loaded with
  // foreign key checks off (files create tables in any order).
  std::string Load(const std::string& tag, const std::string& file) {
    const std::string db = Create(tag);
    const std::string path = FixtureSchemaDir() + "/" + file;
    EXPECT_TRUE(std::filesystem::exists(path)) << path << " is missing: set SQLX_FIXTURE_SCHEMAS";
    RunResult r = RootClient({db, "--init-command=SET FOREIGN_KEY_CHECKS=0", "-e", "source " + path});
    EXPECT_EQ(r.exit_code, 0) << "loading " << path << " into " << db << ":\n" << r.err;
    return db;
  }

 private:
  std::vector<std::string> created_;
};

// An account '<prefix><pid>'@'127.0.0.1' created as root (replacing one
// left over) with `grants` ("SELECT ON `db`.*", ...), dropped on destruction.
class TemporaryUser {
 public:
  TemporaryUser(const std::string& prefix, const std::string& password, const std::vector<std::string>& grants)
      : name_(prefix + std::to_string(::getpid())), account_("'" + name_ + "'@'127.0.0.1'") {
    RootSql("DROP USER IF EXISTS " + account_ + "; CREATE USER " + account_ + " IDENTIFIED BY '" + password + "'");
    for (const std::string& grant : grants) Grant(grant);
  }
  ~TemporaryUser() { RootSql("DROP USER IF EXISTS " + account_); }
  TemporaryUser(const TemporaryUser&) = delete;
  TemporaryUser& operator=(const TemporaryUser&) = delete;

  void Grant(const std::string& what) { RootSql("GRANT " + what + " TO " + account_); }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::string account_;
};

}  // namespace sqlx::testing
