// Cron schedules for recurring jobs: the five-field crontab syntax with Vixie
// cron's meaning (docs/formats/cron.md), parsed once and then asked when it
// next fires. All times are UTC nanoseconds since the Unix epoch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sqlx/messages/result.h"

namespace sqlx::orchestrator {

// How far NextAfter looks: five years with their leap days. A schedule that
// can fire (every one but impossible dates such as 30 February) fires within
// it unless it needs a rare calendar coincidence (29 February on a Monday).
inline constexpr int64_t kCronHorizonDays = 5 * 365 + 2;

// A parsed cron expression. A value type: copyable, immutable, safe to share
// between threads.
class CronSchedule {
 public:
  // The expression normalized: fields separated by one space, no leading or
  // trailing whitespace, names in upper case ("0 9 * JAN-MAR MON-FRI"), a
  // macro in lower case ("@daily"). ParseCron(canonical()) gives the same
  // schedule and the same text.
  const std::string& canonical() const { return canonical_; }

  // The first fire time strictly after `unix_ns` (a whole minute), or nullopt
  // when there is none within kCronHorizonDays after it or it would not fit
  // in an int64_t. Skips non-matching months, days and hours whole: at most
  // a few thousand steps, whatever the schedule.
  std::optional<int64_t> NextAfter(int64_t unix_ns) const;

  // True when `unix_ns` is a whole minute at which the schedule fires.
  bool FiresAt(int64_t unix_ns) const;

 private:
  friend Result<CronSchedule> ParseCron(std::string_view expr);
  CronSchedule() = default;

  bool DayMatches(unsigned day_of_month, unsigned weekday) const;
  // The first minute of the day (0-1439) at or after `from` whose hour and
  // minute match, or -1.
  int FirstMinuteOfDay(int from) const;

  std::string canonical_;
  uint64_t minutes_ = 0;  // bit m: minute m (0-59)
  uint32_t hours_ = 0;    // bit h: hour h (0-23)
  uint32_t days_ = 0;     // bit d: day of month d (1-31)
  uint16_t months_ = 0;   // bit m: month m (1-12)
  uint8_t weekdays_ = 0;  // bit w: weekday w (0 = Sunday .. 6 = Saturday)
  // Both day fields are restricted (neither starts with '*'): a day matches
  // when either matches. Otherwise both must.
  bool either_day_ = false;
};

// Parses a cron expression: five whitespace-separated fields (minute hour
// day-of-month month day-of-week), each a comma list of `*`, `N`, `A-B`,
// `*/S`, `A-B/S` or `A/S`, months also JAN-DEC and weekdays SUN-SAT (any
// case; 0 and 7 are Sunday); or one of @hourly @daily @midnight @weekly
// @monthly @yearly @annually. Fails with kInvalidArgument naming the field,
// the bad token and what is allowed:
//   cron field 2 (hour) "25": out of range 0-23
Result<CronSchedule> ParseCron(std::string_view expr);

}  // namespace sqlx::orchestrator
