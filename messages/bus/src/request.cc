// Core request/reply: the orchestrator answers leases (docs/cluster.md) this
// way; nothing is stored, a lost request is the requester's timeout.
#include <functional>
#include <string>

#include "connection.h"

namespace sqlx::bus {

struct Responder::State {
  std::shared_ptr<Bus::Connection> conn;
  natsSubscription* sub = nullptr;
  std::function<Bytes(std::span<const std::uint8_t>)> handler;
  ~State() {
    // Drain: no new requests, and the handler (which uses this state) has
    // returned before the state goes.
    if (sub != nullptr && natsSubscription_Drain(sub) == NATS_OK)
      (void)natsSubscription_WaitForDrainCompletion(sub, 5000);
    natsSubscription_Destroy(sub);
  }
};

namespace {

void OnRequest(natsConnection* nc, natsSubscription*, natsMsg* msg, void* closure) {
  auto* state = static_cast<Responder::State*>(closure);
  OwnedMsg owned;
  owned.p = msg;
  const char* reply_to = natsMsg_GetReply(msg);
  if (reply_to == nullptr || *reply_to == '\0') return;  // a publish, not a request: nobody waits
  const std::span<const std::uint8_t> request(reinterpret_cast<const std::uint8_t*>(natsMsg_GetData(msg)),
                                              static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  const Bytes reply = state->handler(request);
  (void)natsConnection_Publish(nc, reply_to, reply.data(), static_cast<int>(reply.size()));
}

}  // namespace

Result<Bytes> Bus::Request(std::string_view subject, std::span<const std::uint8_t> payload, Millis timeout) {
  const std::string subj(subject);
  OwnedMsg reply;
  const natsStatus s = natsConnection_Request(&reply.p, conn_->nc, subj.c_str(), payload.data(),
                                              static_cast<int>(payload.size()), timeout.count());
  if (s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS) {
    return MakeError(ErrorCode::kTimeout, "no answer on " + subj + " within " + std::to_string(timeout.count()) +
                                              " ms" + (s == NATS_NO_RESPONDERS ? " (no responder)" : ""));
  }
  if (s != NATS_OK) return NatsError(s, "request on " + subj);
  const auto* data = reinterpret_cast<const std::uint8_t*>(natsMsg_GetData(reply.p));
  return Bytes(data, data + natsMsg_GetDataLength(reply.p));
}

Result<Responder> Bus::Serve(std::string_view subject, std::function<Bytes(std::span<const std::uint8_t>)> handler) {
  auto state = std::make_unique<Responder::State>();
  state->conn = conn_;
  state->handler = std::move(handler);
  const std::string subj(subject);
  natsStatus s = natsConnection_Subscribe(&state->sub, conn_->nc, subj.c_str(), OnRequest, state.get());
  if (s == NATS_OK) s = natsConnection_FlushTimeout(conn_->nc, conn_->options.request_timeout.count());
  if (s != NATS_OK) return NatsError(s, "serve requests on " + subj);
  return Responder(std::move(state));
}

Responder::Responder(std::unique_ptr<State> state) : state_(std::move(state)) {}
Responder::Responder(Responder&&) noexcept = default;
Responder& Responder::operator=(Responder&&) noexcept = default;
Responder::~Responder() = default;

}  // namespace sqlx::bus
