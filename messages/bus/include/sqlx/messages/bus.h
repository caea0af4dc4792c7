// The message bus: a NATS connection with JetStream streams, durable pull
// consumers and dead-letter advisories, carrying opaque bytes. Payloads larger
// than the server allows are compressed and split (docs/bus.md). No NATS type
// appears here: only the `sqlx_bus` target includes NATS.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sqlx/messages/result.h"

namespace sqlx::bus {

using Bytes = std::vector<std::uint8_t>;
using Millis = std::chrono::milliseconds;

enum class ConnectionState {
  kConnected = 1,     // connected (first time or again after a reconnect)
  kDisconnected = 2,  // lost the server; reconnecting in the background
  kClosed = 3,        // closed by Close()/Drain() or after a fatal error
};
std::string_view ConnectionStateName(ConnectionState state);

// A snapshot of the connection, for callers that log or export it.
struct ConnectionStatus {
  ConnectionState state = ConnectionState::kConnected;
  std::uint64_t disconnects = 0;  // times the connection was lost
  std::uint64_t reconnects = 0;   // times it came back
  std::string server;             // URL of the server currently (or last) connected to
  std::string last_error;         // last asynchronous error reported by the client, if any
};

struct ConnectOptions {
  // Client name shown by the server (connz). Default: "sqlx".
  std::string name = "sqlx";
  // Time allowed for each TCP connect + handshake. Default: 2 s.
  Millis connect_timeout{2000};
  // Reconnects never stop; the delay doubles from reconnect_wait_min up to
  // reconnect_wait_max (plus up to 10% jitter). Defaults: 100 ms, 5 s.
  Millis reconnect_wait_min{100};
  Millis reconnect_wait_max{5000};
  // When the first connect fails: true keeps retrying in the background and
  // Connect() returns a disconnected Bus; false returns the error. Default: false.
  bool retry_on_failed_connect = false;
  // Wait for JetStream API answers and publish acks. Default: 5 s.
  Millis request_timeout{5000};
  // Writes every outgoing message to the socket at once. NATS.c otherwise
  // leaves plain publishes to its flusher thread, which waits about 1 ms to
  // coalesce them: each Fetch's pull request (and each Nak, InProgress, Term)
  // would start that much later. Requests (publishes with a PubAck, Ack,
  // API calls) are sent at once either way. Default: true.
  bool send_asap = true;
  // Payloads at least this long are zstd-compressed when that makes them
  // smaller. Default: 4 KiB.
  std::size_t compress_min_bytes = 4096;
  // Largest chunk body; 0 = the server's max_payload minus room for headers.
  // Lowered by tests to split small payloads. Default: 0.
  std::size_t max_chunk_bytes = 0;
  // Largest payload a fetch reassembles; a message declaring more is returned
  // with an error. Default: 256 MiB.
  std::size_t max_message_bytes = std::size_t{256} << 20;
  // Called on the client's thread at every state change; must not block.
  std::function<void(const ConnectionStatus&)> on_state_change;
};

enum class Retention {
  kWorkQueue = 1,  // a message is removed once a consumer acks it (jobs)
  kLimits = 2,     // messages are kept up to max_age / max_bytes (events)
};

// A JetStream stream. Storage is always file storage (survives restarts).
struct StreamConfig {
  std::string name;                   // [A-Za-z0-9_-]+
  std::vector<std::string> subjects;  // e.g. "sqlx.jobs.>"
  Retention retention = Retention::kWorkQueue;
  // Window in which a repeated msg id is reported as a duplicate. Default: 2 min.
  Millis duplicate_window{std::chrono::minutes(2)};
  // 0 = unlimited. Defaults: 0.
  Millis max_age{0};
  std::int64_t max_bytes = 0;
};

// What a stream holds now (chunk messages included).
struct StreamState {
  std::uint64_t messages = 0;
  std::uint64_t bytes = 0;
  std::uint64_t first_sequence = 0;
  std::uint64_t last_sequence = 0;
};

// A durable pull consumer with explicit acks.
struct ConsumerConfig {
  std::string durable;
  // Subject filter; empty = the stream's only subject.
  std::string filter_subject;
  // Unacked time before redelivery; InProgress() restarts it. Default: 30 s.
  Millis ack_wait{30000};
  // Deliveries before the server gives up and emits a max-deliveries advisory.
  // Default: 5.
  int max_deliver = 5;
  // Unacked messages outstanding at once across all fetchers. Default: 1000.
  int max_ack_pending = 1000;
};

// The subjects and streams of the SQLx cluster (docs/bus.md). `prefix`
// replaces "sqlx" so that tests and several clusters can share one server.
StreamConfig JobsStream(std::string_view prefix = "sqlx");
StreamConfig EventsStream(std::string_view prefix = "sqlx");
ConsumerConfig WorkerConsumer();        // on JobsStream, durable "workers"
ConsumerConfig OrchestratorConsumer();  // on EventsStream, durable "orchestrator"

// What the server answered to a publish.
struct PubAck {
  std::string stream;
  std::uint64_t sequence = 0;  // stream sequence of the (head) message
  bool duplicate = false;      // msg id seen within the duplicate window
  std::uint32_t chunks = 0;    // extra chunk messages stored (0 = fits in one)
  bool compressed = false;
};

struct MessageMetadata {
  std::string subject;
  std::string msg_id;                 // Nats-Msg-Id, empty if none
  std::uint64_t stream_sequence = 0;
  std::uint64_t consumer_sequence = 0;
  std::uint64_t num_delivered = 0;    // 1 on first delivery
  std::uint64_t num_pending = 0;
  std::int64_t timestamp_ns = 0;
};

// One fetched message. Move-only; keeps its consumer and connection alive.
// Thread-compatible: one thread at a time per Message.
class Message {
 public:
  Message(Message&&) noexcept;
  Message& operator=(Message&&) noexcept;
  ~Message();

  const MessageMetadata& metadata() const;
  // The payload as published (decompressed, chunks joined). Empty when
  // payload_status() is not ok.
  const Bytes& payload() const;
  std::string_view payload_view() const;
  // Ok, or why the payload could not be rebuilt (a missing chunk, a corrupt
  // frame, a size over max_message_bytes). Such a message is still ackable:
  // Term() it and record why.
  const Status& payload_status() const;
  // The bytes as stored in the head message (before decompression).
  std::span<const std::uint8_t> raw() const;

  // Ack and wait for the server to confirm it. For a split payload in a
  // work-queue stream, also deletes its chunk messages.
  Status Ack();
  // Redeliver after `delay` (0 = as soon as possible).
  Status Nak(Millis delay = Millis{0});
  // Still working on it: restarts AckWait.
  Status InProgress();
  // Never redeliver.
  Status Term();

  struct State;  // defined in the bus sources
  explicit Message(std::unique_ptr<State> state);

 private:
  std::unique_ptr<State> state_;
};

// A bound durable pull consumer. One Fetch() at a time per Consumer: give
// each thread its own Consumer on the same durable (they share its messages).
class Consumer {
 public:
  Consumer(Consumer&&) noexcept;
  Consumer& operator=(Consumer&&) noexcept;
  ~Consumer();

  // Up to `batch` messages, waiting up to `timeout` for the first. An empty
  // vector means none arrived in time (not an error). Works around NATS.c
  // 3.4.1 returning a timeout early from a stale server status.
  Result<std::vector<Message>> Fetch(int batch, Millis timeout);

  // Early "timeouts" retried so far (the 3.4.1 fetch bug), for logs and tests.
  std::uint64_t early_timeouts_retried() const;

  struct State;  // defined in the bus sources
  explicit Consumer(std::shared_ptr<State> state);

 private:
  std::shared_ptr<State> state_;
};

// A message the server stopped redelivering after MaxDeliver.
struct DeadLetter {
  std::string stream;
  std::string consumer;
  std::uint64_t stream_sequence = 0;
  std::uint64_t deliveries = 0;
};

// Max-deliveries advisories of one consumer (core NATS: only those sent while
// subscribed arrive; the orchestrator records each one).
class DeadLetterSubscription {
 public:
  DeadLetterSubscription(DeadLetterSubscription&&) noexcept;
  DeadLetterSubscription& operator=(DeadLetterSubscription&&) noexcept;
  ~DeadLetterSubscription();

  // The next advisory, or nullopt when none arrived within `timeout`. An
  // advisory that does not parse is an error; the subscription stays usable.
  Result<std::optional<DeadLetter>> Next(Millis timeout);

  struct State;  // defined in the bus sources
  explicit DeadLetterSubscription(std::unique_ptr<State> state);

 private:
  std::unique_ptr<State> state_;
};

// A core-NATS subscription that answers requests (Bus::Serve). Requests are
// handled one at a time on the client's delivery thread; unsubscribed when
// destroyed.
class Responder {
 public:
  Responder(Responder&&) noexcept;
  Responder& operator=(Responder&&) noexcept;
  ~Responder();

  struct State;  // defined in the bus sources
  explicit Responder(std::unique_ptr<State> state);

 private:
  std::unique_ptr<State> state_;
};

// A connection to NATS. Thread-safe. Consumers, messages and subscriptions
// keep the underlying connection alive after the Bus is destroyed.
class Bus {
 public:
  // Connects to `url` ("nats://host:port", comma-separated for a cluster).
  static Result<std::unique_ptr<Bus>> Connect(std::string_view url, ConnectOptions options = {});
  ~Bus();
  Bus(const Bus&) = delete;
  Bus& operator=(const Bus&) = delete;

  ConnectionStatus status() const;
  // The server's max_payload (bytes).
  std::int64_t max_payload() const;

  // Creates the stream, or checks an existing one: changes the server can
  // apply (subjects, windows, limits) are applied; a different retention is
  // an error. Idempotent.
  Status EnsureStream(const StreamConfig& config);
  Status DeleteStream(std::string_view name);
  Result<StreamState> GetStreamState(std::string_view name);
  // Creates the durable consumer, or updates ack_wait / max_deliver /
  // max_ack_pending of an existing one; a different filter is an error.
  Status EnsureConsumer(std::string_view stream, const ConsumerConfig& config);

  // Stores `payload` on `subject` in the stream that captures it and waits
  // for the server's ack. `msg_id` (non-empty) becomes Nats-Msg-Id: the same
  // id within the stream's duplicate window is stored once.
  Result<PubAck> Publish(std::string_view subject, std::span<const std::uint8_t> payload,
                         std::string_view msg_id);
  // Core NATS publish: no storage, no ack, max_payload applies as is.
  Status PublishCore(std::string_view subject, std::span<const std::uint8_t> payload);

  // Core request/reply (nothing stored): sends `payload` to `subject` and
  // waits up to `timeout` for the one reply. kTimeout when no reply came (no
  // responder, or a slow one). Payloads must fit max_payload.
  Result<Bytes> Request(std::string_view subject, std::span<const std::uint8_t> payload, Millis timeout);
  // Answers requests on `subject` with what `handler` returns. The handler
  // must not block for long: requesters wait for it.
  Result<Responder> Serve(std::string_view subject, std::function<Bytes(std::span<const std::uint8_t>)> handler);

  // Binds to an existing durable pull consumer (EnsureConsumer first).
  Result<Consumer> Subscribe(std::string_view stream, std::string_view durable);
  Result<DeadLetterSubscription> SubscribeDeadLetters(std::string_view stream,
                                                      std::string_view durable);

  // Flushes what was published, stops subscriptions after their pending
  // messages, then closes. Waits up to `timeout`.
  Status Drain(Millis timeout);
  // Closes now; later calls fail with kClosed.
  void Close();

  struct Connection;  // defined in the bus sources

 private:
  explicit Bus(std::shared_ptr<Connection> connection);
  std::shared_ptr<Connection> conn_;
};

}  // namespace sqlx::bus
