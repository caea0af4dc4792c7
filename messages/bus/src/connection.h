// The shared state behind Bus, Consumer, Message and DeadLetterSubscription:
// the NATS connection and JetStream context, and NATS status → Error.
#pragma once

#include <nats/nats.h>

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "sqlx/messages/bus.h"

namespace sqlx::bus {

// Owns nc and js. Lives as long as anything created from it (shared_ptr).
struct Bus::Connection {
  explicit Connection(ConnectOptions o) : options(std::move(o)) {}
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  const ConnectOptions options;
  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;

  // The status and the closed flag, written by NATS's callback thread.
  mutable std::mutex mu;
  std::condition_variable closed_cv;
  ConnectionStatus status;
  bool closed = false;

  void SetState(ConnectionState state, bool count);
  void SetLastError(std::string error);
  // Waits until the closed callback ran, up to `timeout`.
  bool WaitClosed(Millis timeout);
  // jsOptions with Wait = request_timeout.
  jsOptions JsOptions() const;
};

// "what: <NATS text>[: <detail>]" with a code chosen from `status`;
// `js_error` is JetStream's error code when the server gave one.
Error NatsError(natsStatus status, std::string_view what, jsErrCode js_error = jsErrCode(0));

// Owns one NATS object and destroys it with `Destroy` on every path.
template <class T, void (*Destroy)(T*)>
struct NatsOwned {
  NatsOwned() = default;
  NatsOwned(const NatsOwned&) = delete;
  NatsOwned& operator=(const NatsOwned&) = delete;
  ~NatsOwned() { Destroy(p); }
  T* p = nullptr;
};
using OwnedMsg = NatsOwned<natsMsg, natsMsg_Destroy>;
using OwnedPubAck = NatsOwned<jsPubAck, jsPubAck_Destroy>;
using OwnedStreamInfo = NatsOwned<jsStreamInfo, jsStreamInfo_Destroy>;
using OwnedConsumerInfo = NatsOwned<jsConsumerInfo, jsConsumerInfo_Destroy>;
using OwnedOptions = NatsOwned<natsOptions, natsOptions_Destroy>;

// Nanoseconds for NATS durations.
inline std::int64_t Nanos(Millis ms) { return static_cast<std::int64_t>(ms.count()) * 1000000; }

}  // namespace sqlx::bus
