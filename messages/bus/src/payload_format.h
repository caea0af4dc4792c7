// How a payload travels on the bus: the headers the bus sets and the pure
// encode/decode of a payload into parts (zstd, split). No NATS here, so the
// format is unit-tested without a server. Described for people in docs/bus.md.
//
// A payload of S bytes published on subject T with msg id M:
//   body := S >= compress_min and zstd(payload) is smaller ? zstd(payload) : payload
//   parts := body cut into pieces of at most max_part bytes (one part if it fits)
//   part 0 is the head message, on T, seen by consumers:
//     Nats-Msg-Id: M                     (when M is not empty)
//     Sqlx-Encoding: zstd                (only when compressed)
//     Sqlx-Size: S                       (when compressed or split)
//     Sqlx-Chunk-Count: n                (only when split, n >= 2)
//     Sqlx-Chunk-Seqs: q1,...,q(n-1)     stream sequences of parts 1..n-1
//   parts 1..n-1 are stored first, on "_sqlx.chunk." + T (same stream,
//   outside every consumer's filter), fetched back by direct get:
//     Nats-Msg-Id: M "~chunk~" i         (when M is not empty: retries dedupe)
//     Sqlx-Msg-Id: M
//     Sqlx-Chunk-Index: i
//     Sqlx-Chunk-Count: n
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "sqlx/messages/bus.h"
#include "sqlx/messages/result.h"

namespace sqlx::bus {

inline constexpr std::string_view kChunkSubjectPrefix = "_sqlx.chunk.";
inline constexpr std::string_view kHeaderMsgId = "Nats-Msg-Id";
inline constexpr std::string_view kHeaderEncoding = "Sqlx-Encoding";
inline constexpr std::string_view kHeaderSize = "Sqlx-Size";
inline constexpr std::string_view kHeaderChunkCount = "Sqlx-Chunk-Count";
inline constexpr std::string_view kHeaderChunkSeqs = "Sqlx-Chunk-Seqs";
inline constexpr std::string_view kHeaderChunkMsgId = "Sqlx-Msg-Id";
inline constexpr std::string_view kHeaderChunkIndex = "Sqlx-Chunk-Index";
inline constexpr std::string_view kEncodingZstd = "zstd";
inline constexpr std::string_view kChunkMsgIdInfix = "~chunk~";
// Room left for headers below max_payload when splitting.
inline constexpr std::size_t kHeaderRoom = 4096;
// Most parts one payload may have (keeps Sqlx-Chunk-Seqs within kHeaderRoom).
inline constexpr std::size_t kMaxParts = 200;
inline constexpr int kZstdLevel = 3;

struct EncodedPayload {
  bool compressed = false;
  std::size_t original_size = 0;
  Bytes compressed_body;                             // owns the bytes when compressed
  std::vector<std::span<const std::uint8_t>> parts;  // into the input or compressed_body
};

// REQUIRES: max_part > 0. `payload` (and the result's parts) must outlive the
// use of the result's parts.
Result<EncodedPayload> EncodePayload(std::span<const std::uint8_t> payload,
                                     std::size_t compress_min, std::size_t max_part);

// Joins `parts` and undoes the encoding. `declared_size` is Sqlx-Size (absent
// for a plain single part). Never allocates more than `limit` for the output.
Result<Bytes> DecodePayload(bool compressed, std::optional<std::size_t> declared_size,
                            const std::vector<std::span<const std::uint8_t>>& parts,
                            std::size_t limit);

// A decimal header value: digits only, no sign, no overflow.
std::optional<std::uint64_t> ParseHeaderNumber(std::string_view text);
// "1,2,3" → {1,2,3}; nullopt on anything else (empty items, junk).
std::optional<std::vector<std::uint64_t>> ParseSequenceList(std::string_view text);

}  // namespace sqlx::bus
