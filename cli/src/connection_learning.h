// What several commands share: opening a session, the actor system and the
// store with the global options, and learning a server's capabilities into
// the store (`sqlx capabilities`).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "commands.h"
#include "sqlx/actors/system.h"
#include "sqlx/driver.h"
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

// The actor system's options of --pack-dir, --max-packet and
// --connect-timeout (the one-shot commands run their jobs through the
// actors, as the workers do: docs/actors.md).
actors::SystemOptions SystemOptionsFor(const GlobalOptions& g);

// Learns the server at `url` through the actors (its fingerprint salted
// with the store's salt) and stores it as the connection's record (the
// snapshot actor's write); returns that record.
Result<storage::ConnectionRecord> LearnAndStoreConnection(const GlobalOptions& g, const transports::ConnectionUrl& url,
                                                          storage::Store& store);

}  // namespace sqlx::cli
