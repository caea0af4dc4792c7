// Bus: connect with endless reconnects and backoff, state callbacks, close,
// drain, core publish; the cluster's stream presets.
#include <algorithm>
#include <random>
#include <string>

#include "connection.h"

namespace sqlx::bus {
namespace {

ErrorCode CodeFor(natsStatus status) {
  switch (status) {
    case NATS_TIMEOUT: return ErrorCode::kTimeout;
    case NATS_NO_SERVER: return ErrorCode::kConnectionRefused;
    case NATS_CONNECTION_CLOSED:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_STALE_CONNECTION: return ErrorCode::kClosed;
    case NATS_NOT_FOUND:
    case NATS_NO_RESPONDERS: return ErrorCode::kNotFound;
    case NATS_MAX_PAYLOAD: return ErrorCode::kLimit;
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBJECT: return ErrorCode::kInvalidArgument;
    case NATS_PROTOCOL_ERROR: return ErrorCode::kProtocol;
    case NATS_SSL_ERROR: return ErrorCode::kTls;
    case NATS_NOT_PERMITTED:
    case NATS_CONNECTION_AUTH_FAILED: return ErrorCode::kAuth;
    case NATS_IO_ERROR: return ErrorCode::kIo;
    case NATS_ERR: return ErrorCode::kServer;
    default: return ErrorCode::kInternal;
  }
}

void OnDisconnected(natsConnection*, void* closure) {
  static_cast<Bus::Connection*>(closure)->SetState(ConnectionState::kDisconnected, true);
}
void OnReconnected(natsConnection*, void* closure) {
  static_cast<Bus::Connection*>(closure)->SetState(ConnectionState::kConnected, true);
}
void OnConnected(natsConnection*, void* closure) {
  static_cast<Bus::Connection*>(closure)->SetState(ConnectionState::kConnected, false);
}
void OnClosed(natsConnection*, void* closure) {
  static_cast<Bus::Connection*>(closure)->SetState(ConnectionState::kClosed, false);
}
void OnAsyncError(natsConnection*, natsSubscription* sub, natsStatus status, void* closure) {
  std::string text = natsStatus_GetText(status);
  if (sub != nullptr) text += std::string(" on subscription ") + natsSubscription_GetSubject(sub);
  static_cast<Bus::Connection*>(closure)->SetLastError(std::move(text));
}

// Doubling delay from reconnect_wait_min to reconnect_wait_max, +0..10% jitter.
int64_t ReconnectDelay(natsConnection*, int attempts, void* closure) {
  const auto& o = static_cast<Bus::Connection*>(closure)->options;
  const int64_t min_ms = std::max<int64_t>(1, o.reconnect_wait_min.count());
  const int64_t max_ms = std::max<int64_t>(min_ms, o.reconnect_wait_max.count());
  int64_t delay = min_ms;
  for (int i = 1; i < attempts && delay < max_ms; ++i) delay *= 2;
  delay = std::min(delay, max_ms);
  thread_local std::minstd_rand rng{std::random_device{}()};
  return delay + static_cast<int64_t>(rng() % static_cast<unsigned>(delay / 10 + 1));
}

}  // namespace

Error NatsError(natsStatus status, std::string_view what, jsErrCode js_error) {
  std::string message(what);
  message += ": ";
  message += natsStatus_GetText(status);
  natsStatus last = NATS_OK;
  const char* detail = nats_GetLastError(&last);
  if (detail != nullptr && *detail != '\0' && last == status &&
      std::string_view(detail) != natsStatus_GetText(status)) {
    message += ": ";
    message += detail;
  }
  if (js_error != 0) message += " (JetStream error " + std::to_string(js_error) + ")";
  return MakeError(CodeFor(status), std::move(message));
}

Bus::Connection::~Connection() {
  if (nc != nullptr) {
    natsConnection_Close(nc);
    // Callbacks run on NATS's thread with `this` as closure: wait for the last one.
    (void)WaitClosed(Millis{5000});  // ignored on purpose: destroying anyway
  }
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
}

void Bus::Connection::SetState(ConnectionState state, bool count) {
  std::function<void(const ConnectionStatus&)> notify;
  ConnectionStatus copy;
  {
    std::lock_guard<std::mutex> lock(mu);
    status.state = state;
    if (count && state == ConnectionState::kDisconnected) ++status.disconnects;
    if (count && state == ConnectionState::kConnected) ++status.reconnects;
    if (state == ConnectionState::kConnected && nc != nullptr) {
      char url[512] = {0};
      if (natsConnection_GetConnectedUrl(nc, url, sizeof url) == NATS_OK) status.server = url;
    }
    copy = status;
    notify = options.on_state_change;
  }
  if (notify) notify(copy);
  if (state == ConnectionState::kClosed) {
    std::lock_guard<std::mutex> lock(mu);
    closed = true;
    closed_cv.notify_all();
  }
}

void Bus::Connection::SetLastError(std::string error) {
  std::lock_guard<std::mutex> lock(mu);
  status.last_error = std::move(error);
}

bool Bus::Connection::WaitClosed(Millis timeout) {
  std::unique_lock<std::mutex> lock(mu);
  return closed_cv.wait_for(lock, timeout, [this] { return closed; });
}

jsOptions Bus::Connection::JsOptions() const {
  jsOptions o;
  jsOptions_Init(&o);
  o.Wait = options.request_timeout.count();
  return o;
}

std::string_view ConnectionStateName(ConnectionState state) {
  switch (state) {
    case ConnectionState::kConnected: return "connected";
    case ConnectionState::kDisconnected: return "disconnected";
    case ConnectionState::kClosed: return "closed";
  }
  return "unknown";
}

Bus::Bus(std::shared_ptr<Connection> connection) : conn_(std::move(connection)) {}
Bus::~Bus() = default;

Result<std::unique_ptr<Bus>> Bus::Connect(std::string_view url, ConnectOptions options) {
  auto conn = std::make_shared<Connection>(std::move(options));
  const ConnectOptions& o = conn->options;
  OwnedOptions opts;
  const std::string url_text(url);
  natsStatus s = natsOptions_Create(&opts.p);
  if (s == NATS_OK) s = natsOptions_SetURL(opts.p, url_text.c_str());
  if (s == NATS_OK) s = natsOptions_SetName(opts.p, o.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(opts.p, o.connect_timeout.count());
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(opts.p, -1);
  if (s == NATS_OK) s = natsOptions_SetCustomReconnectDelay(opts.p, ReconnectDelay, conn.get());
  if (s == NATS_OK) s = natsOptions_SetDisconnectedCB(opts.p, OnDisconnected, conn.get());
  if (s == NATS_OK) s = natsOptions_SetReconnectedCB(opts.p, OnReconnected, conn.get());
  if (s == NATS_OK) s = natsOptions_SetClosedCB(opts.p, OnClosed, conn.get());
  if (s == NATS_OK) s = natsOptions_SetErrorHandler(opts.p, OnAsyncError, conn.get());
  if (s == NATS_OK) s = natsOptions_SetSendAsap(opts.p, o.send_asap);
  if (s == NATS_OK && o.retry_on_failed_connect) {
    s = natsOptions_SetRetryOnFailedConnect(opts.p, true, OnConnected, conn.get());
  }
  if (s != NATS_OK) return NatsError(s, "NATS options");

  s = natsConnection_Connect(&conn->nc, opts.p);
  if (s == NATS_NOT_YET_CONNECTED) {
    conn->SetState(ConnectionState::kDisconnected, false);
  } else if (s != NATS_OK) {
    conn->nc = nullptr;
    Error e = NatsError(s, "cannot connect to NATS at " + url_text);
    e.message += ": check that nats-server runs there (with -js for JetStream)";
    return e;
  } else {
    conn->SetState(ConnectionState::kConnected, false);
  }
  jsOptions jo = conn->JsOptions();
  s = natsConnection_JetStream(&conn->js, conn->nc, &jo);
  if (s != NATS_OK) return NatsError(s, "JetStream context");
  return std::unique_ptr<Bus>(new Bus(std::move(conn)));
}

ConnectionStatus Bus::status() const {
  std::lock_guard<std::mutex> lock(conn_->mu);
  return conn_->status;
}

std::int64_t Bus::max_payload() const { return natsConnection_GetMaxPayload(conn_->nc); }

Status Bus::PublishCore(std::string_view subject, std::span<const std::uint8_t> payload) {
  const std::string subj(subject);
  const natsStatus s = natsConnection_Publish(conn_->nc, subj.c_str(), payload.data(),
                                              static_cast<int>(payload.size()));
  if (s != NATS_OK) return NatsError(s, "publish on " + subj);
  return Status::Ok();
}

Status Bus::Drain(Millis timeout) {
  const natsStatus s = natsConnection_DrainTimeout(conn_->nc, timeout.count());
  if (s != NATS_OK && s != NATS_CONNECTION_CLOSED) return NatsError(s, "drain");
  if (!conn_->WaitClosed(timeout + Millis{1000})) {
    return MakeError(ErrorCode::kTimeout, "drain did not finish within " +
                                              std::to_string(timeout.count()) + " ms");
  }
  return Status::Ok();
}

void Bus::Close() { natsConnection_Close(conn_->nc); }

StreamConfig JobsStream(std::string_view prefix) {
  StreamConfig c;
  c.name = std::string(prefix) + "_JOBS";
  c.subjects = {std::string(prefix) + ".jobs.>"};
  c.retention = Retention::kWorkQueue;
  return c;
}

StreamConfig EventsStream(std::string_view prefix) {
  StreamConfig c;
  c.name = std::string(prefix) + "_EVENTS";
  c.subjects = {std::string(prefix) + ".events.>"};
  c.retention = Retention::kLimits;
  c.max_age = std::chrono::hours(24 * 7);
  return c;
}

ConsumerConfig WorkerConsumer() {
  ConsumerConfig c;
  c.durable = "workers";
  return c;
}

ConsumerConfig OrchestratorConsumer() {
  ConsumerConfig c;
  c.durable = "orchestrator";
  c.max_deliver = 20;
  c.max_ack_pending = 10000;
  return c;
}

}  // namespace sqlx::bus
