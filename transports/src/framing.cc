#include "framing.h"

#include <cstring>

namespace sqlx::transports {

namespace {
constexpr size_t kInitialBuffer = 256 * 1024;
}

Framer::Framer(const WirePack& pack, ByteStream* stream, uint64_t max_packet)
    : framing_(pack.framing()),
      little_endian_(pack.little_endian()),
      stream_(stream),
      max_packet_(max_packet) {
  if (framing_.sequence_index >= 0) {
    size_t w = framing_.header[static_cast<size_t>(framing_.sequence_index)].width;
    sequence_mod_ = w >= 8 ? 0 : (uint64_t{1} << (8 * w));
  }
  buf_.resize(kInitialBuffer);
}

uint64_t Framer::ReadUint(const uint8_t* p, size_t width) const {
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i) {
    size_t shift = little_endian_ ? i : width - 1 - i;
    v |= static_cast<uint64_t>(p[i]) << (8 * shift);
  }
  return v;
}

void Framer::WriteUint(uint8_t* p, size_t width, uint64_t v) const {
  for (size_t i = 0; i < width; ++i) {
    size_t shift = little_endian_ ? i : width - 1 - i;
    p[i] = static_cast<uint8_t>(v >> (8 * shift));
  }
}

Status Framer::Fill(size_t need) {
  if (read_end_ - read_pos_ >= need) return Status::Ok();
  if (read_pos_ + need > buf_.size()) {
    // Compact, then grow if one frame is larger than the buffer.
    size_t have = read_end_ - read_pos_;
    if (have > 0 && read_pos_ > 0) std::memmove(buf_.data(), buf_.data() + read_pos_, have);
    read_pos_ = 0;
    read_end_ = have;
    if (need > buf_.size()) buf_.resize(need);
  }
  while (read_end_ - read_pos_ < need) {
    auto n = stream_->ReadSome(buf_.data() + read_end_, buf_.size() - read_end_);
    if (!n.ok()) {
      Error e = std::move(n).error();
      if (e.code == ErrorCode::kClosed && read_end_ > read_pos_) {
        e.message = "server closed the connection in the middle of a packet (" +
                    std::to_string(read_end_ - read_pos_) + " of " + std::to_string(need) +
                    " bytes received)";
      }
      return e;
    }
    read_end_ += *n;
    bytes_read_ += *n;
  }
  return Status::Ok();
}

Result<std::string_view> Framer::ReadFrame(uint64_t* frame_len) {
  SQLX_RETURN_IF_ERROR(Fill(framing_.header_size));
  const uint8_t* h = buf_.data() + read_pos_;
  uint64_t len = 0;
  uint64_t seq = 0;
  size_t off = 0;
  for (size_t i = 0; i < framing_.header.size(); ++i) {
    uint64_t v = ReadUint(h + off, framing_.header[i].width);
    if (i == framing_.length_index) len = v;
    if (static_cast<int>(i) == framing_.sequence_index) seq = v;
    off += framing_.header[i].width;
  }
  if (len > framing_.max_payload) {
    return MakeError(ErrorCode::kProtocol, "server sent a frame of " + std::to_string(len) +
                                               " bytes, over the protocol maximum of " +
                                               std::to_string(framing_.max_payload));
  }
  if (framing_.sequence_index >= 0 && framing_.check_sequence && seq != sequence_) {
    return MakeError(ErrorCode::kProtocol, "packets out of order: got sequence " +
                                               std::to_string(seq) + ", expected " +
                                               std::to_string(sequence_));
  }
  sequence_ = sequence_mod_ == 0 ? sequence_ + 1 : (sequence_ + 1) % sequence_mod_;
  SQLX_RETURN_IF_ERROR(Fill(framing_.header_size + len));
  const char* payload = reinterpret_cast<const char*>(buf_.data() + read_pos_ + framing_.header_size);
  read_pos_ += framing_.header_size + len;
  *frame_len = len;
  return std::string_view(payload, len);
}

Result<std::string_view> Framer::ReadPacket() {
  uint64_t len = 0;
  auto first = ReadFrame(&len);
  if (!first.ok()) return first;
  if (len > max_packet_) {
    return MakeError(ErrorCode::kLimit, "server sent a packet of " + std::to_string(len) +
                                            " bytes, over the client's max packet size of " +
                                            std::to_string(max_packet_) + "; raise --max-packet");
  }
  if (len < framing_.max_payload) return first;
  // Continuation: join frames until one is shorter than max_payload.
  joined_.assign(first->data(), first->size());
  while (len == framing_.max_payload) {
    auto next = ReadFrame(&len);
    if (!next.ok()) return next;
    if (joined_.size() + next->size() > max_packet_) {
      return MakeError(ErrorCode::kLimit,
                       "server sent a packet over " + std::to_string(max_packet_) +
                           " bytes, the client's max packet size; raise it with --max-packet");
    }
    joined_.append(next->data(), next->size());
  }
  return std::string_view(joined_);
}

Status Framer::WritePacket(std::string_view payload) {
  const size_t hs = framing_.header_size;
  size_t pos = 0;
  for (;;) {
    size_t chunk = std::min<uint64_t>(payload.size() - pos, framing_.max_payload);
    write_buf_.resize(hs + chunk);
    auto* h = reinterpret_cast<uint8_t*>(write_buf_.data());
    size_t off = 0;
    for (size_t i = 0; i < framing_.header.size(); ++i) {
      uint64_t v = 0;
      if (i == framing_.length_index) v = chunk;
      if (static_cast<int>(i) == framing_.sequence_index) v = sequence_;
      WriteUint(h + off, framing_.header[i].width, v);
      off += framing_.header[i].width;
    }
    std::memcpy(write_buf_.data() + hs, payload.data() + pos, chunk);
    sequence_ = sequence_mod_ == 0 ? sequence_ + 1 : (sequence_ + 1) % sequence_mod_;
    SQLX_RETURN_IF_ERROR(
        stream_->WriteAll(reinterpret_cast<const uint8_t*>(write_buf_.data()), write_buf_.size()));
    pos += chunk;
    // A frame of exactly max_payload promises a continuation, even an empty one.
    if (chunk < framing_.max_payload) break;
  }
  if (write_buf_.capacity() > (1u << 20)) std::string().swap(write_buf_);
  return Status::Ok();
}

}  // namespace sqlx::transports
