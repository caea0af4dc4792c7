#include "sqlx/messages/clock.h"

#include <charconv>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace sqlx {

int64_t UnixNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string SecondsText(double seconds) {
  char out[32];
  std::snprintf(out, sizeof out, "%g s", seconds);
  return out;
}

std::string Rfc3339(int64_t ns, int fraction_digits) {
  std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  long frac = static_cast<long>(ns % 1000000000);
  if (frac < 0) {
    frac += 1000000000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[48];
  const size_t n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  if (fraction_digits == 3) std::snprintf(buf + n, sizeof(buf) - n, ".%03ldZ", frac / 1000000);
  else if (fraction_digits == 9) std::snprintf(buf + n, sizeof(buf) - n, ".%09ldZ", frac);
  else std::snprintf(buf + n, sizeof(buf) - n, "Z");
  return buf;
}

std::optional<int64_t> ParsePeriodSeconds(std::string_view text) {
  static constexpr std::string_view kUnits = "smhdw";
  static constexpr int64_t kSeconds[] = {1, 60, 3600, 86400, 604800};
  if (text.size() < 2) return std::nullopt;
  const size_t unit = kUnits.find(text.back());
  if (unit == std::string_view::npos) return std::nullopt;
  const std::string_view digits = text.substr(0, text.size() - 1);
  int64_t n = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || end != digits.data() + digits.size() || n < 0 ||
      n > int64_t{1000} * 365 * 86400 / kSeconds[unit])
    return std::nullopt;
  return n * kSeconds[unit];
}

}  // namespace sqlx
