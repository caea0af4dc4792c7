// Store: the local RocksDB database holding connections, learned schema
// snapshots (with history) and the per-store fingerprint salt. One process
// owns a store at a time; key layout in docs/formats/store.md.
//
// Thread-safety: a Store may be used from several threads; writes are atomic
// (one RocksDB WriteBatch each) and synced before they return.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sqlx/messages/result.h"

namespace sqlx::storage {

struct StoreOptions {
  std::string dir;  // created if absent (with parents)
  // How long Open waits for a store held by another process. Default 10 s.
  std::chrono::milliseconds lock_wait{10000};
};

// One server connection as learned: name is "user@host:port".
struct ConnectionRecord {
  std::string name;
  std::string capability_json;     // flo's capability matrix (JSON text)
  std::string server_fingerprint;  // hex SHA-256 of host:port:version:salt
  int64_t created_at_ns = 0;       // UTC, ns since the epoch
  int64_t updated_at_ns = 0;
  int64_t learned_at_ns = 0;
};

// The current learned schema of one database under one connection.
struct SchemaRecord {
  std::string connection;
  std::string database;
  std::string profile_hash;  // lowercase hex SHA-256
  std::string profile_json;  // canonical IR JSON
  std::string status;        // "learned", or "partial" when some objects were not visible
  uint64_t version = 0;      // 1, 2, ... (a new version only when the hash changes)
  int64_t learned_at_ns = 0;
};

// One online migration (planner/online.h): its id and its state as the
// planner writes it (JSON text; the store does not read it). Every
// checkpoint of a running migration replaces the record, synced.
struct MigrationRecord {
  std::string id;    // 8 lowercase hex digits
  std::string json;  // planner::MigrationToJson
};

// One write to the `fleet` family: `value` set puts it, nullopt deletes it.
struct FleetWrite {
  std::string key;
  std::optional<std::string> value;
};

struct PutSchemaOutcome {
  enum class Change { kNew, kChanged, kUnchanged };
  Change change = Change::kNew;
  uint64_t version = 0;          // the current version after the put
  std::string previous_hash;     // empty for kNew
};
// "new", "changed", "unchanged": how commands, messages and events say it.
std::string_view ChangeName(PutSchemaOutcome::Change change);

class Store;

// Records a server as just learned: the connection's record with this
// capability matrix and fingerprint, learned and updated at `now_ns`, its
// created_at kept from the record it replaces. Returns what was written.
Result<ConnectionRecord> PutLearnedConnection(Store& store, std::string_view name, std::string capability_json,
                                              std::string fingerprint, int64_t now_ns);

class Store {
 public:
  // Opens (creating if needed) the store in options.dir. A store held by
  // another process is retried until lock_wait passes, then fails with kIo
  // naming the directory and saying what to do. A store written by a newer
  // format version fails with kUnsupported.
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);
  // $SQLX_HOME, else $HOME/.sqlx.
  static std::string DefaultDir();
  virtual ~Store() = default;

  virtual Status PutConnection(const ConnectionRecord& record) = 0;
  virtual Result<std::optional<ConnectionRecord>> GetConnection(std::string_view name) = 0;
  virtual Result<std::vector<ConnectionRecord>> ListConnections() = 0;

  // Records a learned schema. A new version is written only when the hash
  // differs from the current one; otherwise only learned_at is refreshed.
  // The version record and the "current" pointer change in one atomic batch:
  // a crash never leaves a half-written snapshot current.
  virtual Result<PutSchemaOutcome> PutSchema(const SchemaRecord& record) = 0;
  // PutSchema for several databases in one atomic, synced write (one learn
  // of many databases costs one disk sync, not one per database). Outcomes
  // in the order of `records`. kInvalidArgument when a (connection,
  // database) pair appears twice.
  virtual Result<std::vector<PutSchemaOutcome>> PutSchemas(const std::vector<SchemaRecord>& records) = 0;
  virtual Result<std::optional<SchemaRecord>> GetSchema(std::string_view connection,
                                                        std::string_view database) = 0;
  virtual Result<std::optional<SchemaRecord>> GetSchemaVersion(std::string_view connection,
                                                               std::string_view database,
                                                               uint64_t version) = 0;
  // Every version, oldest first.
  virtual Result<std::vector<SchemaRecord>> ListSchemaVersions(std::string_view connection,
                                                               std::string_view database) = 0;
  // Databases with a current schema under `connection`, sorted.
  virtual Result<std::vector<std::string>> ListDatabases(std::string_view connection) = 0;

  // Online migrations, by id (docs/formats/store.md).
  virtual Status PutMigration(const MigrationRecord& record) = 0;
  virtual Result<std::optional<MigrationRecord>> GetMigration(std::string_view id) = 0;
  // Every migration, in id order.
  virtual Result<std::vector<MigrationRecord>> ListMigrations() = 0;

  // The orchestrator's records (connections it manages, jobs, schedules,
  // API tokens: docs/formats/fleet.md), under its own key prefixes; the
  // store does not read the values. A write is atomic and synced.
  virtual Status WriteFleet(const std::vector<FleetWrite>& writes) = 0;
  virtual Result<std::optional<std::string>> GetFleet(std::string_view key) = 0;
  // Every (key, value) whose key starts with `prefix`, in key order.
  virtual Result<std::vector<std::pair<std::string, std::string>>> ScanFleet(std::string_view prefix) = 0;

  // 32 random bytes (hex), created on first use and kept: the salt of
  // server fingerprints, so they cannot be precomputed from host and version.
  virtual Result<std::string> FingerprintSalt() = 0;

  const std::string& dir() const { return dir_; }

 protected:
  std::string dir_;
};

}  // namespace sqlx::storage
