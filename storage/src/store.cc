// Store's static entry points: where the store lives by default, and Open.
#include "sqlx/storage/store.h"

#include <cstdlib>

#include "rocks_store.h"

namespace sqlx::storage {

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  return RocksStore::Open(options);
}

std::string Store::DefaultDir() {
  const char* sqlx_home = std::getenv("SQLX_HOME");
  if (sqlx_home != nullptr && *sqlx_home != '\0') return sqlx_home;
  const char* home = std::getenv("HOME");
  if (home != nullptr && *home != '\0') return std::string(home) + "/.sqlx";
  return "./.sqlx";
}

}  // namespace sqlx::storage
