// Fuzzes the bus's payload decoding (messages/bus/src/payload_format.h):
// headers and parts come from any publisher on a stream's subjects. Byte 0
// picks compression; bytes 1-4 the declared size (0xffffffff = absent); the
// rest is split into parts at each "|". A decoded payload must match its
// declared size and stay within the limit; the header parsers must not crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string_view>
#include <vector>

#include "payload_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 5) return 0;
  constexpr std::size_t kLimit = 1 << 20;
  const bool compressed = (data[0] & 1) != 0;
  const std::uint32_t declared = static_cast<std::uint32_t>(data[1]) << 24 |
                                 static_cast<std::uint32_t>(data[2]) << 16 |
                                 static_cast<std::uint32_t>(data[3]) << 8 | data[4];
  std::optional<std::size_t> size_header;
  if (declared != 0xffffffffu) size_header = declared;
  std::vector<std::span<const std::uint8_t>> parts;
  std::size_t begin = 5;
  for (std::size_t i = 5; i <= size; ++i) {
    if (i == size || data[i] == '|') {
      parts.emplace_back(data + begin, i - begin);
      begin = i + 1;
    }
  }
  auto out = sqlx::bus::DecodePayload(compressed, size_header, parts, kLimit);
  if (out.ok()) {
    if (out->size() > kLimit) std::abort();
    if (size_header && out->size() != *size_header) std::abort();
  }
  const std::string_view text(reinterpret_cast<const char*>(data + 5), size - 5);
  (void)sqlx::bus::ParseHeaderNumber(text);
  if (auto seqs = sqlx::bus::ParseSequenceList(text); seqs && seqs->empty()) std::abort();
  return 0;
}
