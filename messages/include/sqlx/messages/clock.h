// Wall-clock time as the project records it: UTC nanoseconds since the Unix
// epoch, written as RFC 3339 where people read it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sqlx {

// Now, in UTC nanoseconds since the epoch (the system clock).
int64_t UnixNowNs();

// `ns` as "2026-11-26T21:50:32Z", with `fraction_digits` (0, 3 or 9) digits of
// the second after a '.' when not 0: ".123Z", ".123456789Z". Times before
// the epoch round toward the past.
std::string Rfc3339(int64_t ns, int fraction_digits = 0);

// A period as a count and one unit of s m h d w ("30s", "15m", "90d"), in
// seconds; nullopt when `text` is not one (no unit, a sign, anything else,
// more than 1000 years). How commands and options spell retention, gate
// waits and relative times.
std::optional<int64_t> ParsePeriodSeconds(std::string_view text);

// A duration in seconds as messages write it: "12 s", "0.5 s".
std::string SecondsText(double seconds);

}  // namespace sqlx
