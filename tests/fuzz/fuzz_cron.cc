// Fuzzes cron schedules (orchestrator/cron.h): expressions come from users.
// Bytes 0-7 are the start time (little-endian int64 nanoseconds), the rest the
// expression. A failure is kInvalidArgument; a schedule's canonical text
// parses to itself; its next fire time is a whole minute after the start,
// within the horizon, a fire time, found again from just before it, and no
// earlier minute fires (the first few thousand are checked).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "sqlx/orchestrator/cron.h"

namespace {

constexpr int64_t kNsPerMinute = 60'000'000'000;
constexpr int64_t kMinutesChecked = 3000;

int64_t LittleEndian64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return static_cast<int64_t>(v);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sqlx::orchestrator::ParseCron;
  if (size < 8) return 0;
  const int64_t start = LittleEndian64(data);
  const std::string_view expr(reinterpret_cast<const char*>(data + 8), size - 8);
  auto schedule = ParseCron(expr);
  if (!schedule.ok()) {
    if (schedule.error().code != sqlx::ErrorCode::kInvalidArgument) std::abort();
    if (schedule.error().message.rfind("cron ", 0) != 0) std::abort();  // says what it is about
    return 0;
  }
  auto again = ParseCron(schedule->canonical());
  if (!again.ok() || again->canonical() != schedule->canonical()) std::abort();

  const std::optional<int64_t> next = schedule->NextAfter(start);
  if (next) {
    if (*next <= start || *next % kNsPerMinute != 0 || !schedule->FiresAt(*next)) std::abort();
    const uint64_t ahead = static_cast<uint64_t>(*next) - static_cast<uint64_t>(start);
    if (ahead > static_cast<uint64_t>(sqlx::orchestrator::kCronHorizonDays) * 1440 * kNsPerMinute) std::abort();
    if (schedule->NextAfter(*next - 1) != next) std::abort();
    if (again->NextAfter(start) != next) std::abort();
  }
  // The whole minutes after the start and before the next fire time do not fire.
  int64_t minute = start / kNsPerMinute - (start % kNsPerMinute < 0 ? 1 : 0) + 1;
  for (int64_t i = 0; i < kMinutesChecked && minute <= INT64_MAX / kNsPerMinute; ++i, ++minute) {
    const int64_t t = minute * kNsPerMinute;
    if (next && t >= *next) break;
    if (schedule->FiresAt(t)) std::abort();
  }
  return 0;
}
