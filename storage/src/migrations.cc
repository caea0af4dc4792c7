// The `migrations` column family: one record per online migration, keyed by
// its id, replaced (synced) at every checkpoint.
#include "rocks_store.h"
#include "store_keys.h"

namespace sqlx::storage {

namespace {

Status ValidateMigrationId(std::string_view id) {
  bool hex = id.size() == 8;
  for (char c : id) hex = hex && ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
  if (!hex)
    return MakeError(ErrorCode::kInvalidArgument,
                     "migration id '" + std::string(id) + "' is not 8 lowercase hex digits (see `sqlx migrations list`)");
  return Status::Ok();
}

}  // namespace

Status RocksStore::PutMigration(const MigrationRecord& record) {
  SQLX_RETURN_IF_ERROR(ValidateMigrationId(record.id));
  rocksdb::WriteBatch batch;
  batch.Put(family_[kMigrations], record.id, record.json);
  return Write(batch, "writing migration " + record.id);
}

Result<std::optional<MigrationRecord>> RocksStore::GetMigration(std::string_view id) {
  SQLX_RETURN_IF_ERROR(ValidateMigrationId(id));
  SQLX_ASSIGN_OR_RETURN(std::optional<std::string> value, Get(kMigrations, id));
  if (!value) return std::optional<MigrationRecord>();
  return std::optional<MigrationRecord>(MigrationRecord{std::string(id), std::move(*value)});
}

Result<std::vector<MigrationRecord>> RocksStore::ListMigrations() {
  std::vector<MigrationRecord> out;
  SQLX_RETURN_IF_ERROR(Scan(kMigrations, "", [&](std::string_view key, std::string_view value) {
    out.push_back(MigrationRecord{std::string(key), std::string(value)});
    return Status::Ok();
  }));
  return out;
}

}  // namespace sqlx::storage
