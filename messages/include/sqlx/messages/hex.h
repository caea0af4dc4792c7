// Lowercase hexadecimal, and random identifiers written in it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "sqlx/messages/result.h"

namespace sqlx {

// Two lowercase hex digits per byte.
std::string HexEncode(std::string_view bytes);
// The bytes of `hex` (lower or upper case); kInvalidArgument naming the
// first bad character, or an odd length.
Result<std::string> HexDecode(std::string_view hex);
// `bytes` bytes from OpenSSL's CSPRNG, hex-encoded (2 * bytes digits): ids
// of runs, schedules and the like. Aborts only if the CSPRNG fails, which
// Linux never lets happen after boot.
std::string RandomHex(size_t bytes);

}  // namespace sqlx
