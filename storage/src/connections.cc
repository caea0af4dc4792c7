// Connection records: one value per connection name in `connections`.
#include "records.h"
#include "rocks_store.h"
#include "store_keys.h"

namespace sqlx::storage {

Status RocksStore::PutConnection(const ConnectionRecord& record) {
  SQLX_RETURN_IF_ERROR(ValidateName("connection name", record.name));
  SQLX_ASSIGN_OR_RETURN(std::string value, EncodeConnection(record));
  rocksdb::WriteBatch batch;
  batch.Put(family_[kConnections], ConnectionKey(record.name), value);
  return Write(batch, "writing connection '" + record.name + "'");
}

Result<std::optional<ConnectionRecord>> RocksStore::GetConnection(std::string_view name) {
  SQLX_RETURN_IF_ERROR(ValidateName("connection name", name));
  SQLX_ASSIGN_OR_RETURN(std::optional<std::string> value, Get(kConnections, ConnectionKey(name)));
  if (!value) return std::optional<ConnectionRecord>();
  SQLX_ASSIGN_OR_RETURN(
      ConnectionRecord record,
      DecodeConnection(*value, "store " + dir_ + " connection '" + std::string(name) + "'"));
  return std::optional<ConnectionRecord>(std::move(record));
}

Result<std::vector<ConnectionRecord>> RocksStore::ListConnections() {
  std::vector<ConnectionRecord> records;
  SQLX_RETURN_IF_ERROR(Scan(kConnections, "", [&](std::string_view key, std::string_view value) {
    Result<ConnectionRecord> record =
        DecodeConnection(value, "store " + dir_ + " connection '" + std::string(key) + "'");
    if (!record.ok()) return Status(std::move(record).error());
    records.push_back(std::move(record).value());
    return Status::Ok();
  }));
  return records;
}

Result<ConnectionRecord> PutLearnedConnection(Store& store, std::string_view name, std::string capability_json,
                                              std::string fingerprint, int64_t now_ns) {
  SQLX_ASSIGN_OR_RETURN(std::optional<ConnectionRecord> known, store.GetConnection(name));
  ConnectionRecord record = known.value_or(ConnectionRecord{});
  if (!known) record.created_at_ns = now_ns;
  record.name = std::string(name);
  record.capability_json = std::move(capability_json);
  record.server_fingerprint = std::move(fingerprint);
  record.updated_at_ns = now_ns;
  record.learned_at_ns = now_ns;
  SQLX_RETURN_IF_ERROR(store.PutConnection(record));
  return record;
}

}  // namespace sqlx::storage
