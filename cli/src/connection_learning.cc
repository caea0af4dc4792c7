// Sessions, the store and server learning as the commands share them.
#include "connection_learning.h"

#include <chrono>
#include <ctime>

#include "sqlx/flo/learn_database.h"
#include "sqlx/flo/learn_server.h"

namespace sqlx::cli {



Result<std::unique_ptr<transports::Session>> OpenSession(const GlobalOptions& g,
                                                         const transports::ConnectionUrl& url, bool learning) {
  transports::SessionOptions options;
  if (learning) options.on_greeting = flo::LearnSessionGreeting();
  options.pack_dir = g.pack_dir;
  options.max_packet = g.max_packet;
  options.connect_timeout = std::chrono::seconds(g.connect_timeout_s);
  return transports::Session::Open(url, options);
}

DriverOptions DriverOptionsFor(const GlobalOptions& g) {
  DriverOptions options;
  options.pack_dir = g.pack_dir;
  options.max_packet = g.max_packet;
  options.connect_timeout = std::chrono::seconds(g.connect_timeout_s);
  return options;
}

Result<std::unique_ptr<storage::Store>> OpenStore(const GlobalOptions& g) {
  storage::StoreOptions options;
  options.dir = g.store_dir.empty() ? storage::Store::DefaultDir() : g.store_dir;
  return storage::Store::Open(options);
}

Result<storage::ConnectionRecord> LearnAndStoreConnection(const GlobalOptions& g, const transports::ConnectionUrl& url,
                                                          storage::Store& store) {
  DriverOptions options = DriverOptionsFor(g);
  SQLX_ASSIGN_OR_RETURN(options.fingerprint_salt, store.FingerprintSalt());
  SQLX_ASSIGN_OR_RETURN(std::unique_ptr<Driver> driver, CreateDriver(url, options));
  SQLX_ASSIGN_OR_RETURN(flo::LearnedServer learned, driver->Capabilities());
  return StoreConnection(url, learned, store);
}

Result<storage::ConnectionRecord> StoreConnection(const transports::ConnectionUrl& url,
                                                  const flo::LearnedServer& learned, storage::Store& store) {
  SQLX_ASSIGN_OR_RETURN(std::optional<storage::ConnectionRecord> existing, store.GetConnection(url.ConnectionName()));
  storage::ConnectionRecord record;
  const int64_t now = UnixNowNs();
  record.name = url.ConnectionName();
  record.created_at_ns = existing ? existing->created_at_ns : now;
  record.updated_at_ns = now;
  record.learned_at_ns = now;
  record.capability_json = learned.ToCapabilityJson();
  record.server_fingerprint = learned.fingerprint;
  SQLX_RETURN_IF_ERROR(store.PutConnection(record));
  return record;
}

}  // namespace sqlx::cli
