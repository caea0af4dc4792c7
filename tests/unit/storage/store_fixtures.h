// Fixtures of the storage tests: a scratch directory, record builders, direct
// RocksDB access to check the on-disk layout, and scoped environment changes.
#pragma once

#include <rocksdb/db.h>
#include <stdlib.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "sqlx/storage/store.h"

namespace sqlx::storage {

// Lock wait of every Open in these tests.
inline constexpr std::chrono::milliseconds kLockWait{300};
// The connection most tests record schemas under.
inline const std::string kConn = "app@db1.example.com:3306";

// A fresh directory, removed with its contents at the end of the test.
class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") +
                          "/sqlx-store-test-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr) ADD_FAILURE() << "mkdtemp failed";
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

// The store in `dir`, or nullptr and a test failure.
inline std::unique_ptr<Store> OpenStore(const std::string& dir) {
  auto store = Store::Open({dir, kLockWait});
  if (!store.ok()) {
    ADD_FAILURE() << "Open " << dir << ": " << store.error().message;
    return nullptr;
  }
  return std::move(store).value();
}

// A learned schema whose profile_json is derived from `hash`.
inline SchemaRecord Schema(const std::string& database, const std::string& hash,
                           int64_t learned_at, const std::string& connection = kConn) {
  SchemaRecord r;
  r.connection = connection;
  r.database = database;
  r.profile_hash = hash;
  r.profile_json = R"({"tables":[{"name":"t_)" + hash + R"("}]})";
  r.status = "learned";
  r.learned_at_ns = learned_at;
  return r;
}

// PutSchema, failing the test on error.
inline PutSchemaOutcome MustPut(Store& store, const SchemaRecord& record) {
  auto outcome = store.PutSchema(record);
  EXPECT_TRUE(outcome.ok()) << outcome.error().message;
  return outcome.ok() ? *outcome : PutSchemaOutcome{};
}

// A connection record with fixed fingerprint and times (100, 200, 300).
inline ConnectionRecord Connection(const std::string& name, const std::string& capabilities) {
  return ConnectionRecord{name, capabilities, "ab12", 100, 200, 300};
}

// Opens the store's RocksDB directly, as `ldb` would: every column family.
struct RawDb {
  explicit RawDb(const std::string& dir) {
    std::vector<std::string> names;
    EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (const std::string& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(rocksdb::Options(), dir, descriptors, &handles, &raw);
    EXPECT_TRUE(s.ok()) << s.ToString();
    db.reset(raw);
  }
  ~RawDb() {
    for (auto* h : handles) EXPECT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  }
  rocksdb::ColumnFamilyHandle* Family(const std::string& name) {
    for (auto* h : handles) {
      if (h->GetName() == name) return h;
    }
    ADD_FAILURE() << "no column family " << name;
    return nullptr;
  }
  std::string Get(const std::string& family, const std::string& key) {
    std::string value;
    rocksdb::Status s = db->Get(rocksdb::ReadOptions(), Family(family), key, &value);
    EXPECT_TRUE(s.ok()) << family << " " << s.ToString();
    return value;
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  std::unique_ptr<rocksdb::DB> db;
};

// Sets or unsets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = std::getenv(name);
    if (old != nullptr) old_ = old;
    value == nullptr ? unsetenv(name) : setenv(name, value, 1);
  }
  ~ScopedEnv() { old_ ? setenv(name_, old_->c_str(), 1) : unsetenv(name_); }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

}  // namespace sqlx::storage
