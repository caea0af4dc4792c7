// Encode/decode of bus payloads (format in payload_format.h).
#include "payload_format.h"

#include <zstd.h>

#include <charconv>
#include <string>

namespace sqlx::bus {

Result<EncodedPayload> EncodePayload(std::span<const std::uint8_t> payload,
                                     std::size_t compress_min, std::size_t max_part) {
  EncodedPayload out;
  out.original_size = payload.size();
  std::span<const std::uint8_t> body = payload;
  if (payload.size() >= compress_min && !payload.empty()) {
    out.compressed_body.resize(ZSTD_compressBound(payload.size()));
    const std::size_t n = ZSTD_compress(out.compressed_body.data(), out.compressed_body.size(),
                                        payload.data(), payload.size(), kZstdLevel);
    if (ZSTD_isError(n)) {
      return MakeError(ErrorCode::kInternal,
                       std::string("zstd compression failed: ") + ZSTD_getErrorName(n));
    }
    if (n < payload.size()) {
      out.compressed_body.resize(n);
      out.compressed = true;
      body = out.compressed_body;
    } else {
      out.compressed_body.clear();
      out.compressed_body.shrink_to_fit();
    }
  }
  const std::size_t count = body.empty() ? 1 : (body.size() + max_part - 1) / max_part;
  if (count > kMaxParts) {
    return MakeError(ErrorCode::kLimit,
                     "a payload of " + std::to_string(payload.size()) + " bytes needs " +
                         std::to_string(count) + " chunks of " + std::to_string(max_part) +
                         " bytes, more than " + std::to_string(kMaxParts) +
                         ": raise the server's max_payload or send less");
  }
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t begin = i * max_part;
    out.parts.push_back(body.subspan(begin, std::min(max_part, body.size() - begin)));
  }
  return out;
}

Result<Bytes> DecodePayload(bool compressed, std::optional<std::size_t> declared_size,
                            const std::vector<std::span<const std::uint8_t>>& parts,
                            std::size_t limit) {
  if (compressed && !declared_size) {
    return MakeError(ErrorCode::kProtocol, "compressed payload without a Sqlx-Size header");
  }
  if (declared_size && *declared_size > limit) {
    return MakeError(ErrorCode::kLimit, "payload declares " + std::to_string(*declared_size) +
                                            " bytes, more than the limit of " +
                                            std::to_string(limit) +
                                            " (ConnectOptions::max_message_bytes)");
  }
  std::size_t joined_size = 0;
  for (const auto& part : parts) joined_size += part.size();
  const std::size_t joined_limit = compressed ? ZSTD_compressBound(*declared_size) : limit;
  if (joined_size > joined_limit) {
    return MakeError(ErrorCode::kLimit, "payload parts hold " + std::to_string(joined_size) +
                                            " bytes, more than " + std::to_string(joined_limit));
  }
  if (!compressed && declared_size && joined_size != *declared_size) {
    return MakeError(ErrorCode::kProtocol, "payload parts hold " + std::to_string(joined_size) +
                                               " bytes, Sqlx-Size says " +
                                               std::to_string(*declared_size));
  }
  Bytes joined;
  joined.reserve(joined_size);
  for (const auto& part : parts) joined.insert(joined.end(), part.begin(), part.end());
  if (!compressed) return joined;

  const unsigned long long frame = ZSTD_getFrameContentSize(joined.data(), joined.size());
  if (frame == ZSTD_CONTENTSIZE_ERROR || frame == ZSTD_CONTENTSIZE_UNKNOWN ||
      frame != *declared_size) {
    return MakeError(ErrorCode::kProtocol,
                     "zstd frame does not declare the " + std::to_string(*declared_size) +
                         " bytes of Sqlx-Size: corrupt or foreign payload");
  }
  Bytes out(*declared_size);
  const std::size_t n = ZSTD_decompress(out.data(), out.size(), joined.data(), joined.size());
  if (ZSTD_isError(n)) {
    return MakeError(ErrorCode::kProtocol,
                     std::string("zstd decompression failed: ") + ZSTD_getErrorName(n));
  }
  if (n != *declared_size) {
    return MakeError(ErrorCode::kProtocol, "zstd frame holds " + std::to_string(n) +
                                               " bytes, Sqlx-Size says " +
                                               std::to_string(*declared_size));
  }
  return out;
}

std::optional<std::uint64_t> ParseHeaderNumber(std::string_view text) {
  std::uint64_t value = 0;
  if (text.empty()) return std::nullopt;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::vector<std::uint64_t>> ParseSequenceList(std::string_view text) {
  std::vector<std::uint64_t> out;
  while (true) {
    const std::size_t comma = text.find(',');
    const auto value = ParseHeaderNumber(text.substr(0, comma));
    if (!value) return std::nullopt;
    out.push_back(*value);
    if (comma == std::string_view::npos) return out;
    text.remove_prefix(comma + 1);
  }
}

}  // namespace sqlx::bus
