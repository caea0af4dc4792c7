// Learned schemas and their history: `schemas` holds the current record of
// each database, `schema_versions` every version ever current.
#include <set>
#include <utility>

#include "records.h"
#include "sqlx/messages/parallel.h"
#include "rocks_store.h"
#include "store_keys.h"

namespace sqlx::storage {
namespace {

Status ValidateSchemaNames(std::string_view connection, std::string_view database) {
  SQLX_RETURN_IF_ERROR(ValidateName("connection name", connection));
  return ValidateName("database name", database);
}

std::string Describe(std::string_view connection, std::string_view database) {
  return "schema of " + std::string(database) + " under " + std::string(connection);
}

}  // namespace

Result<RocksStore::StagedSchema> RocksStore::StageSchema(const SchemaRecord& record) {
  SQLX_RETURN_IF_ERROR(ValidateSchemaNames(record.connection, record.database));
  SQLX_ASSIGN_OR_RETURN(std::optional<SchemaRecord> current,
                        GetSchema(record.connection, record.database));
  StagedSchema staged;
  PutSchemaOutcome& outcome = staged.outcome;
  SchemaRecord next = record;
  if (current && current->profile_hash == record.profile_hash) {
    // Same schema: the current record is relearned; its version record keeps
    // the learned_at and status of the learn that created it.
    next = *current;
    next.learned_at_ns = record.learned_at_ns;
    next.status = record.status;
    outcome.change = PutSchemaOutcome::Change::kUnchanged;
    outcome.previous_hash = current->profile_hash;
  } else {
    next.version = current ? current->version + 1 : 1;
    outcome.change =
        current ? PutSchemaOutcome::Change::kChanged : PutSchemaOutcome::Change::kNew;
    if (current) outcome.previous_hash = current->profile_hash;
  }
  outcome.version = next.version;
  // A new version's record and the current record are the same bytes.
  SQLX_ASSIGN_OR_RETURN(staged.value, EncodeSchema(next));
  if (outcome.change != PutSchemaOutcome::Change::kUnchanged)
    staged.version_key = SchemaVersionKey(record.connection, record.database, next.version);
  staged.current_key = SchemaKey(record.connection, record.database);
  return staged;
}

Result<PutSchemaOutcome> RocksStore::PutSchema(const SchemaRecord& record) {
  SQLX_ASSIGN_OR_RETURN(std::vector<PutSchemaOutcome> outcomes, PutSchemas({record}));
  return outcomes.front();
}

Result<std::vector<PutSchemaOutcome>> RocksStore::PutSchemas(const std::vector<SchemaRecord>& records) {
  std::set<std::string> keys;
  for (const SchemaRecord& r : records) {
    SQLX_RETURN_IF_ERROR(ValidateSchemaNames(r.connection, r.database));
    if (!keys.insert(SchemaKey(r.connection, r.database)).second) {
      return MakeError(ErrorCode::kInvalidArgument,
                       Describe(r.connection, r.database) + " appears twice in one write");
    }
  }
  // One writer per store process (the RocksDB lock); this mutex makes the
  // reads of the current versions and the write of the next ones indivisible.
  std::lock_guard<std::mutex> lock(schema_mu_);
  // Room for a current and a version record each (the profile JSON escaped
  // once more), so that the batch is not copied as it grows.
  size_t reserve = 0;
  for (const SchemaRecord& r : records) reserve += 2 * (r.profile_json.size() + r.profile_json.size() / 4 + 512);
  rocksdb::WriteBatch batch(reserve);
  // Each record read and encoded on its own (a learn of many databases
  // writes megabytes of escaped JSON), then all put in order.
  std::vector<std::optional<Result<StagedSchema>>> staged(records.size());
  ForEachIndex(records.size(), [&](size_t i) { staged[i] = StageSchema(records[i]); });
  std::vector<PutSchemaOutcome> outcomes;
  outcomes.reserve(records.size());
  for (std::optional<Result<StagedSchema>>& s : staged) {
    if (!(*s).ok()) return (*s).error();
    StagedSchema& one = (*s).value();
    if (!one.version_key.empty()) batch.Put(family_[kSchemaVersions], one.version_key, one.value);
    batch.Put(family_[kSchemas], one.current_key, one.value);
    outcomes.push_back(std::move(one.outcome));
  }
  const std::string what = records.size() == 1 ? Describe(records[0].connection, records[0].database)
                                               : std::to_string(records.size()) + " schemas";
  SQLX_RETURN_IF_ERROR(Write(batch, "writing " + what));
  return outcomes;
}

Result<std::optional<SchemaRecord>> RocksStore::GetSchema(std::string_view connection,
                                                          std::string_view database) {
  SQLX_RETURN_IF_ERROR(ValidateSchemaNames(connection, database));
  SQLX_ASSIGN_OR_RETURN(std::optional<std::string> value,
                        Get(kSchemas, SchemaKey(connection, database)));
  if (!value) return std::optional<SchemaRecord>();
  SQLX_ASSIGN_OR_RETURN(SchemaRecord record,
                        DecodeSchema(*value, "store " + dir_ + " " + Describe(connection, database)));
  return std::optional<SchemaRecord>(std::move(record));
}

Result<std::optional<SchemaRecord>> RocksStore::GetSchemaVersion(std::string_view connection,
                                                                 std::string_view database,
                                                                 uint64_t version) {
  SQLX_RETURN_IF_ERROR(ValidateSchemaNames(connection, database));
  SQLX_ASSIGN_OR_RETURN(std::optional<std::string> value,
                        Get(kSchemaVersions, SchemaVersionKey(connection, database, version)));
  if (!value) return std::optional<SchemaRecord>();
  SQLX_ASSIGN_OR_RETURN(SchemaRecord record,
                        DecodeSchema(*value, "store " + dir_ + " " + Describe(connection, database) +
                                                 " version " + std::to_string(version)));
  return std::optional<SchemaRecord>(std::move(record));
}

Result<std::vector<SchemaRecord>> RocksStore::ListSchemaVersions(std::string_view connection,
                                                                 std::string_view database) {
  SQLX_RETURN_IF_ERROR(ValidateSchemaNames(connection, database));
  const std::string prefix = SchemaVersionPrefix(connection, database);
  const std::string where = "store " + dir_ + " " + Describe(connection, database);
  std::vector<SchemaRecord> records;
  SQLX_RETURN_IF_ERROR(Scan(kSchemaVersions, prefix, [&](std::string_view key,
                                                         std::string_view value) {
    std::optional<uint64_t> version = VersionFromKey(key, prefix);
    if (!version) {
      return Status(MakeError(ErrorCode::kIo, where + " has a malformed version key; restore "
                                                      "the store from a backup"));
    }
    Result<SchemaRecord> record = DecodeSchema(value, where + " version " + std::to_string(*version));
    if (!record.ok()) return Status(std::move(record).error());
    records.push_back(std::move(record).value());
    return Status::Ok();
  }));
  return records;
}

Result<std::vector<std::string>> RocksStore::ListDatabases(std::string_view connection) {
  SQLX_RETURN_IF_ERROR(ValidateName("connection name", connection));
  const std::string prefix = SchemaPrefix(connection);
  std::vector<std::string> databases;
  SQLX_RETURN_IF_ERROR(Scan(kSchemas, prefix, [&](std::string_view key, std::string_view) {
    databases.emplace_back(key.substr(prefix.size()));
    return Status::Ok();
  }));
  return databases;
}

std::string_view ChangeName(PutSchemaOutcome::Change change) {
  switch (change) {
    case PutSchemaOutcome::Change::kNew:
      return "new";
    case PutSchemaOutcome::Change::kChanged:
      return "changed";
    case PutSchemaOutcome::Change::kUnchanged:
      return "unchanged";
  }
  return "unknown";
}

}  // namespace sqlx::storage
