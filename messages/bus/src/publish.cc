// JetStream publish with Nats-Msg-Id and the server's ack; payloads past
// max_payload are compressed and split (payload_format.h).
#include <string>
#include <utility>
#include <vector>

#include "connection.h"
#include "payload_format.h"

namespace sqlx::bus {
namespace {

using Headers = std::vector<std::pair<std::string_view, std::string>>;

// Publishes one message and returns the server's ack.
Result<PubAck> PublishOne(Bus::Connection& conn, const std::string& subject,
                          std::span<const std::uint8_t> body, const std::string& msg_id,
                          const Headers& headers) {
  OwnedMsg msg;
  natsStatus s = natsMsg_Create(&msg.p, subject.c_str(), nullptr,
                                reinterpret_cast<const char*>(body.data()),
                                static_cast<int>(body.size()));
  for (const auto& [key, value] : headers) {
    if (s != NATS_OK) break;
    const std::string k(key);
    s = natsMsgHeader_Set(msg.p, k.c_str(), value.c_str());
  }
  if (s != NATS_OK) return NatsError(s, "build message for " + subject);

  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = conn.options.request_timeout.count();
  if (!msg_id.empty()) po.MsgId = msg_id.c_str();
  OwnedPubAck ack;
  jsErrCode jerr = jsErrCode(0);
  s = js_PublishMsg(&ack.p, conn.js, msg.p, &po, &jerr);
  if (s == NATS_NO_RESPONDERS) {
    return MakeError(ErrorCode::kNotFound,
                     "no JetStream stream stores subject " + subject +
                         ": create it with Bus::EnsureStream (chunks need the stream's _sqlx.chunk. "
                         "subjects)");
  }
  if (s != NATS_OK) return NatsError(s, "publish on " + subject, jerr);
  PubAck out;
  out.stream = ack.p->Stream ? ack.p->Stream : "";
  out.sequence = ack.p->Sequence;
  out.duplicate = ack.p->Duplicate;
  return out;
}

// Stores parts 1..n-1 on the chunk subject; returns their sequences
// ("q1,q2,...") and sets `stream` to the stream that holds them.
Result<std::string> PublishChunks(Bus::Connection& conn, const std::string& subject,
                                  const std::string& id, const EncodedPayload& encoded,
                                  std::string& stream) {
  const std::size_t count = encoded.parts.size();
  const std::string chunk_subject = std::string(kChunkSubjectPrefix) + subject;
  std::string seqs;
  for (std::size_t i = 1; i < count; ++i) {
    const Headers headers = {{kHeaderChunkMsgId, id},
                             {kHeaderChunkIndex, std::to_string(i)},
                             {kHeaderChunkCount, std::to_string(count)}};
    const std::string chunk_id =
        id.empty() ? std::string() : id + std::string(kChunkMsgIdInfix) + std::to_string(i);
    SQLX_ASSIGN_OR_RETURN(PubAck chunk,
                          PublishOne(conn, chunk_subject, encoded.parts[i], chunk_id, headers));
    if (i > 1 && chunk.stream != stream) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "chunks of " + subject + " landed in streams " + stream + " and " +
                           chunk.stream + ": subjects overlap across streams");
    }
    stream = chunk.stream;
    if (!seqs.empty()) seqs += ',';
    seqs += std::to_string(chunk.sequence);
  }
  return seqs;
}

}  // namespace

Result<PubAck> Bus::Publish(std::string_view subject, std::span<const std::uint8_t> payload,
                            std::string_view msg_id) {
  const std::string subj(subject);
  const std::string id(msg_id);
  if (subj.rfind("_sqlx.", 0) == 0) {
    return MakeError(ErrorCode::kInvalidArgument, "subject " + subj + " is reserved for the bus");
  }
  if (natsConnection_IsClosed(conn_->nc)) {
    return MakeError(ErrorCode::kClosed, "publish on " + subj +
                                             ": the NATS connection is closed (Close or Drain)");
  }
  const std::int64_t max_payload = natsConnection_GetMaxPayload(conn_->nc);
  std::size_t max_part = conn_->options.max_chunk_bytes;
  if (max_part == 0) {
    if (max_payload <= static_cast<std::int64_t>(2 * kHeaderRoom)) {
      return MakeError(ErrorCode::kClosed,
                       "not connected to NATS yet (max_payload unknown): retry publishing");
    }
    max_part = static_cast<std::size_t>(max_payload) - kHeaderRoom;
  }
  SQLX_ASSIGN_OR_RETURN(EncodedPayload encoded,
                        EncodePayload(payload, conn_->options.compress_min_bytes, max_part));
  const std::size_t count = encoded.parts.size();

  // Parts 1..n-1 first: the head must never be visible before its chunks.
  std::string stream;
  SQLX_ASSIGN_OR_RETURN(const std::string seqs, PublishChunks(*conn_, subj, id, encoded, stream));
  Headers headers;
  if (encoded.compressed) headers.emplace_back(kHeaderEncoding, std::string(kEncodingZstd));
  if (encoded.compressed || count > 1) {
    headers.emplace_back(kHeaderSize, std::to_string(encoded.original_size));
  }
  if (count > 1) {
    headers.emplace_back(kHeaderChunkCount, std::to_string(count));
    headers.emplace_back(kHeaderChunkSeqs, seqs);
  }
  SQLX_ASSIGN_OR_RETURN(PubAck head, PublishOne(*conn_, subj, encoded.parts[0], id, headers));
  if (count > 1 && head.stream != stream) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "the chunks of " + subj + " went to stream " + stream + ", the head to " +
                         head.stream + ": create the stream with Bus::EnsureStream");
  }
  head.chunks = static_cast<std::uint32_t>(count - 1);
  head.compressed = encoded.compressed;
  return head;
}

}  // namespace sqlx::bus
