#include "sqlx/messages/clock.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace sqlx {

int64_t UnixNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
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

}  // namespace sqlx
