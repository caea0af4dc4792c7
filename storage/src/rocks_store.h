// RocksStore: Store over one RocksDB database with one column family per
// record kind (docs/formats/store.md). Open, lock wait and the format check
// are in rocks_store.cc; each record kind's methods in its own file.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "sqlx/storage/store.h"

namespace sqlx::storage {

// The store's format; a store with a larger format_version is refused.
inline constexpr int64_t kFormatVersion = 1;

class RocksStore final : public Store {
 public:
  enum Family : size_t {
    kMeta,
    kConnections,
    kSchemas,
    kSchemaVersions,
    kAuditEvents,
    kAuditNodes,
    kAuditIndex,
    kAuditCheckpoints,
    kMigrations,
    kFleet,
    kFamilyCount
  };
  // Column family names, indexed by Family. A store made before a family
  // existed gets it (empty) on the next Open.
  static constexpr std::array<const char*, kFamilyCount> kFamilyNames = {
      "meta", "connections", "schemas", "schema_versions",
      "audit_events", "audit_nodes", "audit_index", "audit_checkpoints",
      "migrations", "fleet"};

  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~RocksStore() override;

  Status PutConnection(const ConnectionRecord& record) override;
  Result<std::optional<ConnectionRecord>> GetConnection(std::string_view name) override;
  Result<std::vector<ConnectionRecord>> ListConnections() override;

  Result<PutSchemaOutcome> PutSchema(const SchemaRecord& record) override;
  Result<std::vector<PutSchemaOutcome>> PutSchemas(const std::vector<SchemaRecord>& records) override;
  Result<std::optional<SchemaRecord>> GetSchema(std::string_view connection,
                                                std::string_view database) override;
  Result<std::optional<SchemaRecord>> GetSchemaVersion(std::string_view connection,
                                                       std::string_view database,
                                                       uint64_t version) override;
  Result<std::vector<SchemaRecord>> ListSchemaVersions(std::string_view connection,
                                                       std::string_view database) override;
  Result<std::vector<std::string>> ListDatabases(std::string_view connection) override;

  Status PutMigration(const MigrationRecord& record) override;
  Result<std::optional<MigrationRecord>> GetMigration(std::string_view id) override;
  Result<std::vector<MigrationRecord>> ListMigrations() override;

  Status WriteFleet(const std::vector<FleetWrite>& writes) override;
  // Adds `writes` to `batch` (keys validated), for a write that also holds
  // other records (AuditLog::Append with fleet writes).
  Status StageFleet(const std::vector<FleetWrite>& writes, rocksdb::WriteBatch* batch);
  Result<std::optional<std::string>> GetFleet(std::string_view key) override;
  Result<std::vector<std::pair<std::string, std::string>>> ScanFleet(std::string_view prefix) override;

  Result<std::string> FingerprintSalt() override;

 private:
  friend class RocksAuditLog;  // the audit log shares the database and its helpers
  using Visit = std::function<Status(std::string_view key, std::string_view value)>;

  // Takes ownership of `db` and of every handle in `handles`.
  RocksStore(std::string dir, rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*> handles);

  // Writes format_version on a new store; refuses a newer one.
  Status CheckFormatVersion();

  // The value under `key`, or nullopt when absent.
  Result<std::optional<std::string>> Get(Family family, std::string_view key);
  // Applies `batch` atomically, synced to disk unless `synced` is false (an
  // unsynced batch becomes durable with the next synced one, or is lost
  // whole in a crash before it).
  Status Write(rocksdb::WriteBatch& batch, std::string_view what, bool synced = true);
  // Calls `visit` for every key starting with `prefix`, in key order; stops at
  // the first error it returns.
  Status Scan(Family family, std::string_view prefix, const Visit& visit);
  // kIo: "store DIR: WHAT: rocksdb message".
  Error ToError(const rocksdb::Status& status, std::string_view what) const;

  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // every opened family
  std::array<rocksdb::ColumnFamilyHandle*, kFamilyCount> family_{};
  // What PutSchemas writes for one record: its outcome and encoded value,
  // under the current key and (a new version) the version key.
  struct StagedSchema {
    PutSchemaOutcome outcome;
    std::string value;
    std::string current_key;
    std::string version_key;  // empty: unchanged, no new version
  };
  // Reads `record`'s current version and encodes what it becomes; writes
  // nothing. Safe on several threads at once. REQUIRES: schema_mu_ held (by
  // the calling PutSchemas).
  Result<StagedSchema> StageSchema(const SchemaRecord& record);
  std::mutex schema_mu_;  // held across PutSchema's read-modify-write
  std::mutex salt_mu_;    // held while the salt is read or created
};

}  // namespace sqlx::storage
