// The `fleet` column family: the orchestrator's records under its own key
// prefixes (docs/formats/fleet.md). The store checks keys, not values.
#include "rocks_store.h"

namespace sqlx::storage {

namespace {

Status ValidateFleetKey(std::string_view key) {
  if (key.empty() || key.size() > 1024)
    return MakeError(ErrorCode::kInvalidArgument, "fleet record key must be 1 to 1024 bytes (got " +
                                                      std::to_string(key.size()) + ")");
  return Status::Ok();
}

}  // namespace

Status RocksStore::StageFleet(const std::vector<FleetWrite>& writes, rocksdb::WriteBatch* batch) {
  for (const FleetWrite& w : writes) {
    SQLX_RETURN_IF_ERROR(ValidateFleetKey(w.key));
    if (w.value) {
      batch->Put(family_[kFleet], w.key, *w.value);
    } else {
      batch->Delete(family_[kFleet], w.key);
    }
  }
  return Status::Ok();
}

Status RocksStore::WriteFleet(const std::vector<FleetWrite>& writes) {
  rocksdb::WriteBatch batch;
  SQLX_RETURN_IF_ERROR(StageFleet(writes, &batch));
  return Write(batch, writes.size() == 1 ? "writing fleet record " + writes[0].key
                                         : "writing " + std::to_string(writes.size()) + " fleet records");
}

Result<std::optional<std::string>> RocksStore::GetFleet(std::string_view key) {
  SQLX_RETURN_IF_ERROR(ValidateFleetKey(key));
  return Get(kFleet, key);
}

Result<std::vector<std::pair<std::string, std::string>>> RocksStore::ScanFleet(std::string_view prefix) {
  std::vector<std::pair<std::string, std::string>> out;
  SQLX_RETURN_IF_ERROR(Scan(kFleet, prefix, [&](std::string_view key, std::string_view value) {
    out.emplace_back(std::string(key), std::string(value));
    return Status::Ok();
  }));
  return out;
}

}  // namespace sqlx::storage
