// What several commands share: opening a session and the store with the
// global options, and learning a server's capabilities into the store
// (`sqlx capabilities`, `sqlx learn`).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "commands.h"
#include "sqlx/driver.h"
#include "sqlx/flo/learn_server.h"
#include "sqlx/messages/result.h"
#include "sqlx/messages/clock.h"
#include "sqlx/storage/store.h"
#include "sqlx/transports/session.h"

namespace sqlx::cli {

// A session to `url` with --pack-dir, --max-packet and --connect-timeout;
// `learning`: also what learning proposes at the greeting
// (flo::LearnSessionGreeting: several catalog statements per round trip).
Result<std::unique_ptr<transports::Session>> OpenSession(const GlobalOptions& g, const transports::ConnectionUrl& url,
                                                         bool learning = false);

// The driver options of --pack-dir, --max-packet and --connect-timeout.
DriverOptions DriverOptionsFor(const GlobalOptions& g);

// The store in --store, else the default directory (waits for a store in
// use by another process, then fails saying so).
Result<std::unique_ptr<storage::Store>> OpenStore(const GlobalOptions& g);

// Learns the server at `url` through a driver (Driver::Capabilities, its
// fingerprint salted with the store's salt) and stores it as
// StoreConnection does.
Result<storage::ConnectionRecord> LearnAndStoreConnection(const GlobalOptions& g, const transports::ConnectionUrl& url,
                                                          storage::Store& store);

// Stores what flo::LearnServer learned under url.ConnectionName(), keeping
// the record's creation time. REQUIRES: learned.fingerprint is salted with
// the store's salt (LearnServerOptions::fingerprint_salt or ServerFingerprint).
Result<storage::ConnectionRecord> StoreConnection(const transports::ConnectionUrl& url,
                                                  const flo::LearnedServer& learned, storage::Store& store);

}  // namespace sqlx::cli
