// Durable pull consumers: Fetch (with the NATS.c 3.4.1 early-timeout
// workaround), payload reassembly, and the acks of a fetched message.
#include <atomic>
#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "connection.h"
#include "payload_format.h"

namespace sqlx::bus {
namespace {

using Clock = std::chrono::steady_clock;

std::optional<std::string_view> Header(natsMsg* msg, std::string_view key) {
  const std::string k(key);
  const char* value = nullptr;
  if (natsMsgHeader_Get(msg, k.c_str(), &value) != NATS_OK || value == nullptr) {
    return std::nullopt;
  }
  return std::string_view(value);
}

std::span<const std::uint8_t> Data(natsMsg* msg) {
  return {reinterpret_cast<const std::uint8_t*>(natsMsg_GetData(msg)),
          static_cast<std::size_t>(natsMsg_GetDataLength(msg))};
}

Error BadHeader(std::string_view key, std::string_view value) {
  return MakeError(ErrorCode::kProtocol,
                   "bad " + std::string(key) + " header '" + std::string(value) + "'");
}

}  // namespace

struct Consumer::State {
  std::shared_ptr<Bus::Connection> conn;
  natsSubscription* sub = nullptr;
  std::string stream;
  std::string durable;
  bool work_queue = false;
  std::atomic<std::uint64_t> early_timeouts{0};
  ~State() { natsSubscription_Destroy(sub); }  // binds only: the durable stays
};

struct Message::State {
  std::shared_ptr<Consumer::State> consumer;
  natsMsg* msg = nullptr;
  MessageMetadata metadata;
  Bytes payload;
  Status payload_status;
  std::vector<std::uint64_t> chunk_seqs;
  ~State() { natsMsg_Destroy(msg); }
};

namespace {

// Reads parts 1..n-1 by direct get and checks each one's headers.
Status ReadChunks(const Consumer::State& consumer, const std::string& msg_id,
                  const std::vector<std::uint64_t>& seqs,
                  std::vector<std::unique_ptr<OwnedMsg>>& out) {
  const std::size_t count = seqs.size() + 1;
  for (std::size_t i = 1; i < count; ++i) {
    jsDirectGetMsgOptions o;
    jsDirectGetMsgOptions_Init(&o);
    o.Sequence = seqs[i - 1];
    jsOptions jo = consumer.conn->JsOptions();
    out.push_back(std::make_unique<OwnedMsg>());
    const natsStatus s =
        js_DirectGetMsg(&out.back()->p, consumer.conn->js, consumer.stream.c_str(), &jo, &o);
    const std::string which = "chunk " + std::to_string(i) + " of " + std::to_string(count) +
                              " of message '" + msg_id + "' (stream " + consumer.stream +
                              " seq " + std::to_string(o.Sequence) + ")";
    if (s == NATS_NOT_FOUND) {
      return MakeError(ErrorCode::kNotFound, which + " is missing: the payload is incomplete");
    }
    if (s != NATS_OK) return NatsError(s, "read " + which);
    natsMsg* chunk = out.back()->p;
    const auto id = Header(chunk, kHeaderChunkMsgId);
    const auto index = Header(chunk, kHeaderChunkIndex);
    const auto total = Header(chunk, kHeaderChunkCount);
    if (!id || *id != msg_id || !index || ParseHeaderNumber(*index) != i || !total ||
        ParseHeaderNumber(*total) != count) {
      return MakeError(ErrorCode::kProtocol,
                       which + " holds another message's chunk (msg id, index or count differ)");
    }
  }
  return Status::Ok();
}

// Rebuilds the payload of a head message; errors describe why it cannot be.
Result<Bytes> Reassemble(const Consumer::State& consumer, natsMsg* head,
                         const std::string& msg_id, std::vector<std::uint64_t>& chunk_seqs) {
  const std::size_t limit = consumer.conn->options.max_message_bytes;
  bool compressed = false;
  if (const auto enc = Header(head, kHeaderEncoding)) {
    if (*enc != kEncodingZstd) return BadHeader(kHeaderEncoding, *enc);
    compressed = true;
  }
  std::optional<std::size_t> size;
  if (const auto text = Header(head, kHeaderSize)) {
    const auto n = ParseHeaderNumber(*text);
    if (!n) return BadHeader(kHeaderSize, *text);
    size = static_cast<std::size_t>(*n);
  }
  std::vector<std::span<const std::uint8_t>> parts = {Data(head)};
  std::vector<std::unique_ptr<OwnedMsg>> chunks;
  if (const auto count_text = Header(head, kHeaderChunkCount)) {
    const auto count = ParseHeaderNumber(*count_text);
    const auto seqs_text = Header(head, kHeaderChunkSeqs);
    if (!count || *count < 2 || *count > kMaxParts) return BadHeader(kHeaderChunkCount, *count_text);
    auto seqs = seqs_text ? ParseSequenceList(*seqs_text) : std::nullopt;
    if (!seqs || seqs->size() + 1 != *count) {
      return BadHeader(kHeaderChunkSeqs, seqs_text.value_or(""));
    }
    if (!size) return MakeError(ErrorCode::kProtocol, "split payload without Sqlx-Size");
    chunk_seqs = *seqs;
    SQLX_RETURN_IF_ERROR(ReadChunks(consumer, msg_id, chunk_seqs, chunks));
    for (const auto& c : chunks) parts.push_back(Data(c->p));
  }
  return DecodePayload(compressed, size, parts, limit);
}

MessageMetadata ReadMetadata(natsMsg* msg) {
  MessageMetadata m;
  m.subject = natsMsg_GetSubject(msg) ? natsMsg_GetSubject(msg) : "";
  m.msg_id = std::string(Header(msg, kHeaderMsgId).value_or(""));
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg) == NATS_OK) {
    m.stream_sequence = meta->Sequence.Stream;
    m.consumer_sequence = meta->Sequence.Consumer;
    m.num_delivered = meta->NumDelivered;
    m.num_pending = meta->NumPending;
    m.timestamp_ns = meta->Timestamp;
    jsMsgMetaData_Destroy(meta);
  }
  return m;
}

}  // namespace

Result<Consumer> Bus::Subscribe(std::string_view stream, std::string_view durable) {
  auto state = std::make_shared<Consumer::State>();
  state->conn = conn_;
  state->stream = std::string(stream);
  state->durable = std::string(durable);
  jsOptions jo = conn_->JsOptions();
  jsErrCode jerr = jsErrCode(0);

  jsStreamInfo* si = nullptr;
  natsStatus s = js_GetStreamInfo(&si, conn_->js, state->stream.c_str(), &jo, &jerr);
  if (s != NATS_OK) return NatsError(s, "read stream " + state->stream, jerr);
  state->work_queue = si->Config->Retention == js_WorkQueuePolicy;
  jsStreamInfo_Destroy(si);

  jsConsumerInfo* ci = nullptr;
  s = js_GetConsumerInfo(&ci, conn_->js, state->stream.c_str(), state->durable.c_str(), &jo,
                         &jerr);
  if (s != NATS_OK) {
    return NatsError(s, "read consumer " + state->durable + " on " + state->stream +
                            " (create it with Bus::EnsureConsumer)", jerr);
  }
  const std::string filter = ci->Config->FilterSubject ? ci->Config->FilterSubject : "";
  jsConsumerInfo_Destroy(ci);

  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = state->stream.c_str();
  so.Consumer = state->durable.c_str();
  s = js_PullSubscribe(&state->sub, conn_->js, filter.empty() ? nullptr : filter.c_str(),
                       state->durable.c_str(), &jo, &so, &jerr);
  if (s != NATS_OK) return NatsError(s, "bind to consumer " + state->durable, jerr);
  return Consumer(std::move(state));
}

Consumer::Consumer(std::shared_ptr<State> state) : state_(std::move(state)) {}
Consumer::Consumer(Consumer&&) noexcept = default;
Consumer& Consumer::operator=(Consumer&&) noexcept = default;
Consumer::~Consumer() = default;

std::uint64_t Consumer::early_timeouts_retried() const { return state_->early_timeouts.load(); }

Result<std::vector<Message>> Consumer::Fetch(int batch, Millis timeout) {
  if (batch < 1) return MakeError(ErrorCode::kInvalidArgument, "fetch batch must be >= 1");
  const auto deadline = Clock::now() + timeout;
  natsMsgList list{nullptr, 0};
  while (true) {
    const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
    if (left.count() <= 0) return std::vector<Message>{};
    jsErrCode jerr = jsErrCode(0);
    const natsStatus s = natsSubscription_Fetch(&list, state_->sub, batch, left.count(), &jerr);
    if (s == NATS_OK) break;
    // NATS.c 3.4.1: a stale 408/404 from an earlier request ends this fetch at
    // once as a timeout. Only our own deadline ends the wait.
    if (s == NATS_TIMEOUT || s == NATS_NOT_FOUND) {
      if (Clock::now() + Millis{5} < deadline) ++state_->early_timeouts;
      continue;
    }
    return NatsError(s, "fetch from " + state_->stream + "/" + state_->durable, jerr);
  }

  std::vector<Message> out;
  out.reserve(static_cast<std::size_t>(list.Count));
  for (int i = 0; i < list.Count; ++i) {
    auto m = std::make_unique<Message::State>();
    m->consumer = state_;
    m->msg = list.Msgs[i];
    list.Msgs[i] = nullptr;  // owned by the Message now
    m->metadata = ReadMetadata(m->msg);
    auto payload = Reassemble(*state_, m->msg, m->metadata.msg_id, m->chunk_seqs);
    if (payload.ok()) {
      m->payload = std::move(payload).value();
    } else {
      m->payload_status = std::move(payload).error();
    }
    out.push_back(Message(std::move(m)));
  }
  natsMsgList_Destroy(&list);
  return out;
}

Message::Message(std::unique_ptr<State> state) : state_(std::move(state)) {}
Message::Message(Message&&) noexcept = default;
Message& Message::operator=(Message&&) noexcept = default;
Message::~Message() = default;

const MessageMetadata& Message::metadata() const { return state_->metadata; }
const Bytes& Message::payload() const { return state_->payload; }
std::string_view Message::payload_view() const {
  return {reinterpret_cast<const char*>(state_->payload.data()), state_->payload.size()};
}
const Status& Message::payload_status() const { return state_->payload_status; }
std::span<const std::uint8_t> Message::raw() const { return Data(state_->msg); }

Status Message::Ack() {
  jsOptions jo = state_->consumer->conn->JsOptions();
  jsErrCode jerr = jsErrCode(0);
  const natsStatus s = natsMsg_AckSync(state_->msg, &jo, &jerr);
  if (s != NATS_OK) return NatsError(s, "ack " + state_->metadata.subject, jerr);
  // Chunks in a work queue have no consumer: they go with their head.
  if (state_->consumer->work_queue) {
    for (const std::uint64_t seq : state_->chunk_seqs) {
      jerr = jsErrCode(0);
      const natsStatus d = js_DeleteMsg(state_->consumer->conn->js,
                                        state_->consumer->stream.c_str(), seq, &jo, &jerr);
      if (d != NATS_OK && d != NATS_NOT_FOUND && jerr != JSSequenceNotFoundErr) {
        return NatsError(d, "acked, but deleting chunk seq " + std::to_string(seq) + " failed",
                         jerr);
      }
    }
  }
  return Status::Ok();
}

Status Message::Nak(Millis delay) {
  jsOptions jo = state_->consumer->conn->JsOptions();
  const natsStatus s = delay.count() > 0 ? natsMsg_NakWithDelay(state_->msg, delay.count(), &jo)
                                         : natsMsg_Nak(state_->msg, &jo);
  if (s != NATS_OK) return NatsError(s, "nak " + state_->metadata.subject);
  return Status::Ok();
}

Status Message::InProgress() {
  jsOptions jo = state_->consumer->conn->JsOptions();
  const natsStatus s = natsMsg_InProgress(state_->msg, &jo);
  if (s != NATS_OK) return NatsError(s, "in-progress ack " + state_->metadata.subject);
  return Status::Ok();
}

Status Message::Term() {
  jsOptions jo = state_->consumer->conn->JsOptions();
  const natsStatus s = natsMsg_Term(state_->msg, &jo);
  if (s != NATS_OK) return NatsError(s, "term " + state_->metadata.subject);
  return Status::Ok();
}

}  // namespace sqlx::bus
