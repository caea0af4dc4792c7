// MemoryStream: a ByteStream over in-memory bytes, for unit tests and fuzz
// targets that play the server side without a socket. Reads return the
// scripted server bytes (at most `max_chunk` at a time, to exercise
// reassembly); writes are recorded.
#pragma once

#include <algorithm>
#include <cstring>
#include <string>

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

}  // namespace sqlx::transports::testing
