// Max-deliveries advisories: the server gave up on a message; the
// orchestrator records a dead letter for each one.
#include <nlohmann/json.hpp>

#include <string>

#include "connection.h"

namespace sqlx::bus {

struct DeadLetterSubscription::State {
  std::shared_ptr<Bus::Connection> conn;
  natsSubscription* sub = nullptr;
  ~State() {
    if (sub != nullptr) (void)natsSubscription_Unsubscribe(sub);  // ignored: closing anyway
    natsSubscription_Destroy(sub);
  }
};

Result<DeadLetterSubscription> Bus::SubscribeDeadLetters(std::string_view stream,
                                                         std::string_view durable) {
  auto state = std::make_unique<DeadLetterSubscription::State>();
  state->conn = conn_;
  const std::string subject = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES." +
                              std::string(stream) + "." + std::string(durable);
  natsStatus s = natsConnection_SubscribeSync(&state->sub, conn_->nc, subject.c_str());
  // Make sure the server registered the interest before the caller goes on.
  if (s == NATS_OK) s = natsConnection_FlushTimeout(conn_->nc, conn_->options.request_timeout.count());
  if (s != NATS_OK) return NatsError(s, "subscribe to " + subject);
  return DeadLetterSubscription(std::move(state));
}

DeadLetterSubscription::DeadLetterSubscription(std::unique_ptr<State> state)
    : state_(std::move(state)) {}
DeadLetterSubscription::DeadLetterSubscription(DeadLetterSubscription&&) noexcept = default;
DeadLetterSubscription& DeadLetterSubscription::operator=(DeadLetterSubscription&&) noexcept =
    default;
DeadLetterSubscription::~DeadLetterSubscription() = default;

Result<std::optional<DeadLetter>> DeadLetterSubscription::Next(Millis timeout) {
  natsMsg* msg = nullptr;
  const natsStatus s = natsSubscription_NextMsg(&msg, state_->sub, timeout.count());
  if (s == NATS_TIMEOUT) return std::optional<DeadLetter>();
  if (s != NATS_OK) return NatsError(s, "wait for a max-deliveries advisory");
  const std::string body(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  natsMsg_Destroy(msg);
  // {"type":"io.nats.jetstream.advisory.v1.max_deliver","stream":"S",
  //  "consumer":"C","stream_seq":7,"deliveries":3,...}
  const auto json = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("stream_seq") || !json["stream_seq"].is_number_unsigned()) {
    return MakeError(ErrorCode::kProtocol,
                     "max-deliveries advisory without a stream_seq: " + body.substr(0, 200));
  }
  DeadLetter d;
  d.stream = json.value("stream", "");
  d.consumer = json.value("consumer", "");
  d.stream_sequence = json["stream_seq"].get<std::uint64_t>();
  if (json.contains("deliveries") && json["deliveries"].is_number_unsigned()) {
    d.deliveries = json["deliveries"].get<std::uint64_t>();
  }
  return std::optional<DeadLetter>(std::move(d));
}

}  // namespace sqlx::bus
