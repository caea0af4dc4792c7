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

actors::SystemOptions SystemOptionsFor(const GlobalOptions& g) {
  actors::SystemOptions options;
  options.pack_dir = g.pack_dir;
  options.max_packet = g.max_packet;
  options.connect_timeout_ms = static_cast<uint32_t>(g.connect_timeout_s) * 1000;
  return options;
}

Result<storage::ConnectionRecord> LearnAndStoreConnection(const GlobalOptions& g, const transports::ConnectionUrl& url,
                                                          storage::Store& store) {
  SQLX_ASSIGN_OR_RETURN(std::string salt, store.FingerprintSalt());
  actors::SystemOptions options = SystemOptionsFor(g);
  options.store = &store;
  actors::System system(options);
  SQLX_RETURN_IF_ERROR(system.LearnServer(url, salt, /*store=*/true));
  SQLX_ASSIGN_OR_RETURN(std::optional<storage::ConnectionRecord> record, store.GetConnection(url.ConnectionName()));
  if (!record)
    return MakeError(ErrorCode::kInternal, "the learned connection '" + url.ConnectionName() + "' was not stored");
  return *std::move(record);
}

}  // namespace sqlx::cli
