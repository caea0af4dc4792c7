// Framer: cuts a byte stream into packets as a pack's "framing" section says
// (a fixed header holding the payload length and a sequence number; payloads
// of exactly max_payload bytes continue in the next frame).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "byte_stream.h"
#include "pack.h"
#include "sqlx/messages/result.h"

namespace sqlx::transports {

class Framer {
 public:
  // `stream` must outlive the Framer. `max_packet` bounds a joined payload:
  // larger packets fail with kLimit before any memory is reserved for them.
  Framer(const WirePack& pack, ByteStream* stream, uint64_t max_packet);

  // Reads one logical packet, joining continuation frames. The view stays
  // valid until the next ReadPacket() call.
  Result<std::string_view> ReadPacket();

  // Writes `payload` as one logical packet (split into frames as needed).
  Status WritePacket(std::string_view payload);

  void ResetSequence() { sequence_ = 0; }
  // True when bytes beyond the last packet were already read (a TLS upgrade
  // must not start then: they would be plaintext from the peer).
  bool HasBufferedBytes() const { return read_end_ > read_pos_; }
  void set_max_packet(uint64_t max_packet) { max_packet_ = max_packet; }
  uint64_t bytes_read() const { return bytes_read_; }

 private:
  Status Fill(size_t need);
  uint64_t ReadUint(const uint8_t* p, size_t width) const;
  void WriteUint(uint8_t* p, size_t width, uint64_t v) const;
  Result<std::string_view> ReadFrame(uint64_t* frame_len);

  const Framing& framing_;
  bool little_endian_;
  ByteStream* stream_;
  uint64_t max_packet_;
  uint64_t sequence_ = 0;
  uint64_t sequence_mod_ = 256;
  std::vector<uint8_t> buf_;
  size_t read_pos_ = 0;
  size_t read_end_ = 0;
  std::string joined_;
  std::string write_buf_;
  uint64_t bytes_read_ = 0;
};

}  // namespace sqlx::transports
