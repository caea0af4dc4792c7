// MemoryStream: a ByteStream over in-memory bytes, for unit tests and fuzz
// targets that play the server side without a socket. Reads return the
// scripted server bytes (at most `max_chunk` at a time, to exercise
// reassembly); writes are recorded. Frame3/Unframe3 build and split
// MySQL-style packets.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "byte_stream.h"

namespace sqlx::transports::testing {

class MemoryStream : public ByteStream {
 public:
  explicit MemoryStream(std::string server_bytes, size_t max_chunk = SIZE_MAX)
      : in_(std::move(server_bytes)), max_chunk_(max_chunk) {}

  Status StartTls(const TlsOptions&) override {
    return MakeError(ErrorCode::kTls, "MemoryStream has no TLS");
  }
  Result<size_t> ReadSome(uint8_t* buffer, size_t capacity) override {
    if (pos_ >= in_.size()) return MakeError(ErrorCode::kClosed, "server closed the connection");
    size_t n = std::min({capacity, in_.size() - pos_, max_chunk_});
    std::memcpy(buffer, in_.data() + pos_, n);
    pos_ += n;
    return n;
  }
  Status WriteAll(const uint8_t* data, size_t size) override {
    written_.append(reinterpret_cast<const char*>(data), size);
    return Status::Ok();
  }
  void SetReadTimeout(std::chrono::milliseconds) override {}
  TlsInfo tls_info() const override { return {}; }
  void Close() override {}

  const std::string& written() const { return written_; }
  size_t unread() const { return in_.size() - pos_; }

 private:
  std::string in_;
  size_t pos_ = 0;
  size_t max_chunk_;
  std::string written_;
};

// Frames `payload` as one MySQL-style packet (3-byte length, sequence id),
// for building scripted server bytes in tests.
inline std::string Frame3(std::string_view payload, uint8_t seq) {
  std::string out;
  out += static_cast<char>(payload.size() & 0xff);
  out += static_cast<char>((payload.size() >> 8) & 0xff);
  out += static_cast<char>((payload.size() >> 16) & 0xff);
  out += static_cast<char>(seq);
  out.append(payload.data(), payload.size());
  return out;
}

// One packet of Frame3 form read back: its header's length and sequence id,
// and the payload (cut short when the bytes end first).
struct Frame3Packet {
  size_t length = 0;
  int sequence = 0;
  std::string payload;
};

// Splits bytes in Frame3 form (e.g. what a MemoryStream had written to it)
// back into packets. `*tiles` says whether the frames cover the bytes
// exactly, with nothing cut short or left over.
inline std::vector<Frame3Packet> Unframe3(std::string_view bytes, bool* tiles) {
  std::vector<Frame3Packet> out;
  size_t pos = 0;
  while (pos + 4 <= bytes.size()) {
    const auto* h = reinterpret_cast<const uint8_t*>(bytes.data() + pos);
    const size_t len = h[0] | (h[1] << 8) | (h[2] << 16);
    out.push_back({len, h[3], std::string(bytes.substr(pos + 4, len))});
    pos += 4 + len;
  }
  *tiles = pos == bytes.size();
  return out;
}

}  // namespace sqlx::transports::testing
