// Cron schedules: a table of {expression, from, next fire time} per syntax
// form and calendar corner (month ends, leap days, the DOM/DOW rule, year
// rollover, the horizon), every error message, and NextAfter checked against
// a minute-by-minute reference over random expressions whose values the
// generator knows independently of the parser.
#include "sqlx/orchestrator/cron.h"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "sqlx/messages/clock.h"

namespace sqlx::orchestrator {
namespace {

constexpr int64_t kNsPerMinute = 60'000'000'000;
constexpr int64_t kMinutesPerDay = 1440;

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : (a - b + 1) / b; }  // b > 0

// Howard Hinnant's days_from_civil / civil_from_days: the reference calendar,
// independent of the <chrono> one the schedule uses.
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

struct Civil {
  unsigned month;
  unsigned day;
  unsigned weekday;  // 0 = Sunday
};

Civil CivilFromDays(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const int64_t days = z - 719468;
  const unsigned weekday = static_cast<unsigned>(days >= -4 ? (days + 4) % 7 : (days + 5) % 7 + 6);
  return {m, d, weekday};
}

// "2025-03-01T12:34:56Z" (seconds optional) as UTC nanoseconds.
int64_t Utc(const char* text) {
  int y = 0;
  unsigned mo = 0, d = 0, h = 0, mi = 0, s = 0;
  const int n = std::sscanf(text, "%d-%u-%uT%u:%u:%u", &y, &mo, &d, &h, &mi, &s);
  EXPECT_GE(n, 5) << text;
  return ((DaysFromCivil(y, mo, d) * 24 + h) * 60 + mi) * kNsPerMinute + int64_t{s} * 1'000'000'000;
}

std::string Show(const std::optional<int64_t>& ns) { return ns ? Rfc3339(*ns) : "none"; }

std::string NextText(const char* expr, int64_t from) {
  auto schedule = ParseCron(expr);
  if (!schedule.ok()) return "error: " + schedule.error().message;
  return Show(schedule->NextAfter(from));
}

struct NextCase {
  const char* name;
  const char* expr;
  const char* from;
  const char* next;  // Rfc3339, or "none"
};

void ExpectNext(const std::vector<NextCase>& cases) {
  for (const NextCase& c : cases) EXPECT_EQ(NextText(c.expr, Utc(c.from)), c.next) << c.name << ": " << c.expr;
}

TEST(CronTest, EachSyntaxFormFiresWhereItSays) {
  // 2025-01-01 is a Wednesday.
  ExpectNext({
      {"every minute, from mid-minute", "* * * * *", "2025-01-01T10:20:30Z", "2025-01-01T10:21:00Z"},
      {"strictly after a whole minute", "* * * * *", "2025-01-01T10:20:00Z", "2025-01-01T10:21:00Z"},
      {"one value each", "30 4 * * *", "2025-01-01T10:00:00Z", "2025-01-02T04:30:00Z"},
      {"a list", "5,35 * * * *", "2025-01-01T10:06:00Z", "2025-01-01T10:35:00Z"},
      {"a range, past its end", "0 9-17 * * *", "2025-01-01T17:30:00Z", "2025-01-02T09:00:00Z"},
      {"a range, inside", "0 9-17 * * *", "2025-01-01T12:30:00Z", "2025-01-01T13:00:00Z"},
      {"*/n", "*/15 * * * *", "2025-01-01T10:16:00Z", "2025-01-01T10:30:00Z"},
      {"*/n wraps to the next hour", "*/15 * * * *", "2025-01-01T10:45:00Z", "2025-01-01T11:00:00Z"},
      {"a-b/n", "10-40/10 * * * *", "2025-01-01T10:41:00Z", "2025-01-01T11:10:00Z"},
      {"a-b/n hits the start", "10-40/10 * * * *", "2025-01-01T10:09:59Z", "2025-01-01T10:10:00Z"},
      {"a/n runs to the field's end", "50/5 * * * *", "2025-01-01T10:56:00Z", "2025-01-01T11:50:00Z"},
      {"a/n second value", "50/5 * * * *", "2025-01-01T10:50:00Z", "2025-01-01T10:55:00Z"},
      {"hour step", "0 */6 * * *", "2025-01-01T12:00:00Z", "2025-01-01T18:00:00Z"},
      {"mixed list", "0 1,5-7,20/2 * * *", "2025-01-01T07:00:00Z", "2025-01-01T20:00:00Z"},
      {"a step bigger than its range", "0 0 1-5/10 * *", "2025-01-01T00:00:00Z", "2025-02-01T00:00:00Z"},
      {"month name", "0 0 * FEB *", "2025-03-01T00:00:00Z", "2026-02-01T00:00:00Z"},
      {"month names any case, in a range", "0 0 1 jan-Mar *", "2025-03-02T00:00:00Z", "2026-01-01T00:00:00Z"},
      {"month name in a list", "0 0 1 jun,DEC *", "2025-01-01T00:00:00Z", "2025-06-01T00:00:00Z"},
      {"month name with a step", "0 0 1 FEB/6 *", "2025-03-01T00:00:00Z", "2025-08-01T00:00:00Z"},
      {"weekday name", "0 0 * * mon", "2025-01-01T00:00:00Z", "2025-01-06T00:00:00Z"},
      {"weekday range", "0 0 * * MON-FRI", "2025-01-04T00:00:00Z", "2025-01-06T00:00:00Z"},
      {"0 is Sunday", "0 0 * * 0", "2025-01-01T00:00:00Z", "2025-01-05T00:00:00Z"},
      {"7 is Sunday", "0 0 * * 7", "2025-01-01T00:00:00Z", "2025-01-05T00:00:00Z"},
      {"a range up to 7 reaches Sunday", "0 0 * * 5-7", "2025-01-11T00:01:00Z", "2025-01-12T00:00:00Z"},
      {"a range up to 7 from Friday", "0 0 * * 5-7", "2025-01-06T00:00:00Z", "2025-01-10T00:00:00Z"},
      {"a weekday a/n reaches 7, Sunday", "0 0 * * 1/2", "2025-01-04T00:00:00Z", "2025-01-05T00:00:00Z"},
      {"*/2 weekdays: Sun Tue Thu Sat", "0 0 * * */2", "2025-01-02T00:00:00Z", "2025-01-04T00:00:00Z"},
      {"@hourly", "@hourly", "2025-01-01T10:20:00Z", "2025-01-01T11:00:00Z"},
      {"@daily", "@daily", "2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z"},
      {"@midnight", "@midnight", "2025-01-01T23:59:59Z", "2025-01-02T00:00:00Z"},
      {"@weekly: Sunday midnight", "@weekly", "2025-01-01T00:00:00Z", "2025-01-05T00:00:00Z"},
      {"@monthly", "@monthly", "2025-01-31T12:00:00Z", "2025-02-01T00:00:00Z"},
      {"@yearly", "@yearly", "2025-06-01T00:00:00Z", "2026-01-01T00:00:00Z"},
      {"@annually", "@annually", "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z"},
      {"a macro in any case", "@DAILY", "2025-01-01T00:00:00Z", "2025-01-02T00:00:00Z"},
      {"tabs and runs of spaces", " \t0   12\t*  * \t* ", "2025-01-01T00:00:00Z", "2025-01-01T12:00:00Z"},
      {"leading zeros", "05 007 * * *", "2025-01-01T00:00:00Z", "2025-01-01T07:05:00Z"},
  });
}

TEST(CronTest, BothDayFieldsRestrictedMatchEitherDay) {
  ExpectNext({
      {"the first Friday comes before the 13th", "0 0 13 * FRI", "2025-01-01T00:00:00Z", "2025-01-03T00:00:00Z"},
      {"the 13th (a Monday) comes before Friday", "0 0 13 * FRI", "2025-01-10T00:01:00Z", "2025-01-13T00:00:00Z"},
      {"the 1st or Monday", "0 0 1 * 1", "2025-01-28T00:00:00Z", "2025-02-01T00:00:00Z"},
      // Either field starting with '*' (even */n) makes the two an AND.
      {"*/13 day-of-month and Friday: both", "0 0 */13 * FRI", "2025-01-01T00:00:00Z", "2025-02-14T00:00:00Z"},
      {"13th and */2 weekday: both", "0 0 13 * */2", "2025-01-01T00:00:00Z", "2025-02-13T00:00:00Z"},
      {"only the day of month", "0 0 13 * *", "2025-01-01T00:00:00Z", "2025-01-13T00:00:00Z"},
      {"only the weekday", "0 0 * * FRI", "2025-01-04T00:00:00Z", "2025-01-10T00:00:00Z"},
      {"30 February or a Monday of February", "0 0 30 2 MON", "2025-01-01T00:00:00Z", "2025-02-03T00:00:00Z"},
  });
}

TEST(CronTest, MonthEndsAndLeapDaysAreSkippedOrFound) {
  ExpectNext({
      {"31st skips April", "0 0 31 * *", "2025-04-01T00:00:00Z", "2025-05-31T00:00:00Z"},
      {"31st skips February", "0 0 31 * *", "2025-01-31T00:00:00Z", "2025-03-31T00:00:00Z"},
      {"29 February from 2025", "0 0 29 2 *", "2025-01-01T00:00:00Z", "2028-02-29T00:00:00Z"},
      {"29 February in a leap year", "0 0 29 2 *", "2024-01-01T00:00:00Z", "2024-02-29T00:00:00Z"},
      {"2000 is a leap year", "0 0 29 2 *", "1999-03-01T00:00:00Z", "2000-02-29T00:00:00Z"},
      {"2100 is not: 2104 is past the horizon", "0 0 29 2 *", "2097-01-01T00:00:00Z", "none"},
      {"30 February never comes", "0 0 30 2 *", "2025-01-01T00:00:00Z", "none"},
      {"the 31st of a 30-day month never comes", "0 0 31 4,6,9,11 *", "2025-01-01T00:00:00Z", "none"},
      {"last minute of a leap day", "59 23 29 FEB *", "2024-02-29T23:58:00Z", "2024-02-29T23:59:00Z"},
      {"1 March after 28 February in a common year", "0 0 1 3 *", "2025-02-28T23:59:00Z", "2025-03-01T00:00:00Z"},
  });
}

TEST(CronTest, YearsRollOver) {
  ExpectNext({
      {"New Year's Eve's last minute, a year on", "59 23 31 12 *", "2025-12-31T23:59:00Z", "2026-12-31T23:59:00Z"},
      {"New Year from its eve", "0 0 1 1 *", "2025-12-31T23:59:59Z", "2026-01-01T00:00:00Z"},
      {"December only, from January", "0 12 1 DEC *", "2026-01-01T00:00:00Z", "2026-12-01T12:00:00Z"},
      {"every minute across New Year", "* * * * *", "2025-12-31T23:59:00Z", "2026-01-01T00:00:00Z"},
      {"before the epoch", "0 0 1 1 *", "1969-06-01T00:00:00Z", "1970-01-01T00:00:00Z"},
      {"a Sunday before the epoch", "0 0 * * SUN", "1969-12-29T00:00:00Z", "1970-01-04T00:00:00Z"},
  });
  // The last nanosecond of a year.
  EXPECT_EQ(NextText("0 0 1 1 *", Utc("2026-01-01T00:00:00Z") - 1), "2026-01-01T00:00:00Z");
}

TEST(CronTest, TheHorizonIsFiveYearsWithTheirLeapDays) {
  // 2099-02-27 to 2104-02-29 is 1827 days (2100 is no leap year).
  ExpectNext({
      {"exactly at the horizon", "0 0 29 2 *", "2099-02-27T00:00:00Z", "2104-02-29T00:00:00Z"},
      {"a minute past it", "0 0 29 2 *", "2099-02-26T23:59:00Z", "none"},
  });
  EXPECT_EQ(kCronHorizonDays, 1827);
}

TEST(CronTest, TimesAtTheEndsOfInt64AreHandled) {
  auto every = ParseCron("* * * * *");
  ASSERT_TRUE(every.ok());
  EXPECT_EQ(every->NextAfter(INT64_MAX), std::nullopt) << "no whole minute after it fits";
  const int64_t last_minute = INT64_MAX / kNsPerMinute * kNsPerMinute;
  EXPECT_EQ(every->NextAfter(last_minute), std::nullopt);
  EXPECT_EQ(every->NextAfter(last_minute - 1), last_minute);
  const std::optional<int64_t> first = every->NextAfter(INT64_MIN);
  ASSERT_TRUE(first.has_value());
  EXPECT_GT(*first, INT64_MIN);
  EXPECT_EQ(*first % kNsPerMinute, 0);
  EXPECT_LE(*first - INT64_MIN, kNsPerMinute);
}

TEST(CronTest, FiresAtOnlyWholeMatchingMinutes) {
  auto schedule = ParseCron("30 4 * * MON");
  ASSERT_TRUE(schedule.ok());
  EXPECT_TRUE(schedule->FiresAt(Utc("2025-01-06T04:30:00Z")));
  EXPECT_FALSE(schedule->FiresAt(Utc("2025-01-06T04:30:00Z") + 1)) << "not a whole minute";
  EXPECT_FALSE(schedule->FiresAt(Utc("2025-01-06T04:31:00Z")));
  EXPECT_FALSE(schedule->FiresAt(Utc("2025-01-07T04:30:00Z"))) << "a Tuesday";
  EXPECT_TRUE(schedule->FiresAt(Utc("1969-12-29T04:30:00Z"))) << "a Monday before the epoch";
}

TEST(CronTest, CanonicalTextIsNormalizedAndReparsesToItself) {
  const std::vector<std::pair<const char*, const char*>> cases = {
      {"  0  9\t* jan-mar  mon-fri ", "0 9 * JAN-MAR MON-FRI"},
      {"*/5 * * * *", "*/5 * * * *"},
      {"0 0 1,15 * sun", "0 0 1,15 * SUN"},
      {"@Daily", "@daily"},
      {" @ANNUALLY\n", "@annually"},
  };
  for (const auto& [expr, canonical] : cases) {
    auto schedule = ParseCron(expr);
    ASSERT_TRUE(schedule.ok()) << expr << ": " << schedule.error().message;
    EXPECT_EQ(schedule->canonical(), canonical);
    auto again = ParseCron(schedule->canonical());
    ASSERT_TRUE(again.ok()) << canonical;
    EXPECT_EQ(again->canonical(), canonical);
  }
}

TEST(CronTest, EveryErrorNamesTheFieldTheTokenAndWhatIsAllowed) {
  const std::string fields =
      "expected 5 (minute hour day-of-month month day-of-week) or one of "
      "@hourly @daily @midnight @weekly @monthly @yearly @annually";
  const std::vector<std::pair<const char*, std::string>> cases = {
      {"", "cron expression \"\" has 0 fields: " + fields},
      {"* * * *", "cron expression \"* * * *\" has 4 fields: " + fields},
      {"0 * * * * 2025", "cron expression \"0 * * * * 2025\" has 6 fields: " + fields},
      {"@reboot", "cron macro \"@reboot\" is not supported: expected one of "
                  "@hourly @daily @midnight @weekly @monthly @yearly @annually"},
      {"@Daily *", "cron expression \"@Daily *\" has fields after @daily: a macro stands alone"},
      {"60 * * * *", "cron field 1 (minute) \"60\": out of range 0-59"},
      {"0 25 * * *", "cron field 2 (hour) \"25\": out of range 0-23"},
      {"0 0 0 * *", "cron field 3 (day-of-month) \"0\": out of range 1-31"},
      {"0 0 32 * *", "cron field 3 (day-of-month) \"32\": out of range 1-31"},
      {"0 0 * 13 *", "cron field 4 (month) \"13\": out of range 1-12 or JAN-DEC"},
      {"0 0 * * 8", "cron field 5 (day-of-week) \"8\": out of range 0-7 or SUN-SAT"},
      {"0 99999999999999999999 * * *", "cron field 2 (hour) \"99999999999999999999\": out of range 0-23"},
      {"0 1,24 * * *", "cron field 2 (hour) \"24\": out of range 0-23"},
      {"0 20-24 * * *", "cron field 2 (hour) \"24\": out of range 0-23"},
      {"x * * * *", "cron field 1 (minute) \"x\": not a number: expected 0-59"},
      {"MON * * * *", "cron field 1 (minute) \"MON\": not a number: expected 0-59"},
      {"0 0 ? * *", "cron field 3 (day-of-month) \"?\": not a number: expected 1-31"},
      {"0 0 L * *", "cron field 3 (day-of-month) \"L\": not a number: expected 1-31"},
      {"*5 * * * *", "cron field 1 (minute) \"*5\": not a number: expected 0-59"},
      {"1-2-3 * * * *", "cron field 1 (minute) \"2-3\": not a number: expected 0-59"},
      {"0 0 * JANUARY *", "cron field 4 (month) \"JANUARY\": not a number or name: expected 1-12 or JAN-DEC"},
      {"0 0 * MON *", "cron field 4 (month) \"MON\": not a number or name: expected 1-12 or JAN-DEC"},
      {"0 0 * * MON-FUN", "cron field 5 (day-of-week) \"FUN\": not a number or name: expected 0-7 or SUN-SAT"},
      {"-5 * * * *", "cron field 1 (minute) \"-5\": missing value: expected 0-59"},
      {"5- * * * *", "cron field 1 (minute) \"5-\": missing value: expected 0-59"},
      {"0 0 * /2 *", "cron field 4 (month) \"/2\": missing value: expected 1-12 or JAN-DEC"},
      {"*/0 * * * *", "cron field 1 (minute) \"*/0\": step must be 1-60"},
      {"*/61 * * * *", "cron field 1 (minute) \"*/61\": step must be 1-60"},
      {"*/ * * * *", "cron field 1 (minute) \"*/\": step must be 1-60"},
      {"0 */x * * *", "cron field 2 (hour) \"*/x\": step must be 1-24"},
      {"0 1-5/+2 * * *", "cron field 2 (hour) \"1-5/+2\": step must be 1-24"},
      {"0 0 */99999999999 * *", "cron field 3 (day-of-month) \"*/99999999999\": step must be 1-31"},
      {"0 0 1 */13 *", "cron field 4 (month) \"*/13\": step must be 1-12"},
      {"0 0 * * 1/8", "cron field 5 (day-of-week) \"1/8\": step must be 1-7"},
      {"0 0 1 1 1/2/3", "cron field 5 (day-of-week) \"1/2/3\": step must be 1-7"},
      {"0 17-9 * * *", "cron field 2 (hour) \"17-9\": range runs backwards: write the lower value first"},
      {"0 0 * * SAT-SUN", "cron field 5 (day-of-week) \"SAT-SUN\": range runs backwards: write the lower value first"},
      {"1,,2 * * * *",
       "cron field 1 (minute) \"1,,2\": empty list element: expected a value, a range or a step between commas"},
      {"0 0 1, * *",
       "cron field 3 (day-of-month) \"1,\": empty list element: expected a value, a range or a step between commas"},
      {", * * * *",
       "cron field 1 (minute) \",\": empty list element: expected a value, a range or a step between commas"},
  };
  for (const auto& [expr, message] : cases) {
    auto schedule = ParseCron(expr);
    ASSERT_FALSE(schedule.ok()) << expr << " parsed as " << schedule->canonical();
    EXPECT_EQ(schedule.error().code, ErrorCode::kInvalidArgument) << expr;
    EXPECT_EQ(schedule.error().message, message) << expr;
  }
}

// ---- NextAfter against a minute-by-minute reference -----------------------

// A random field: its text and, worked out beside it, its values.
struct FieldSpec {
  int min;
  int max;  // day-of-week: 7
  int steps;
  std::vector<std::string> names;  // names[i] is value min + i
};

const std::array<FieldSpec, 5> kSpecs = {{
    {0, 59, 60, {}},
    {0, 23, 24, {}},
    {1, 31, 31, {}},
    {1, 12, 12, {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
    {0, 7, 7, {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
}};

struct RandomField {
  std::string text;
  uint64_t values = 0;
};

class Generator {
 public:
  explicit Generator(uint64_t seed) : rng_(seed) {}

  int Uniform(int lo, int hi) { return lo + static_cast<int>(rng_() % static_cast<uint64_t>(hi - lo + 1)); }

  std::string Value(const FieldSpec& f, int v) {
    const size_t name = static_cast<size_t>(v - f.min);
    if (name < f.names.size() && Uniform(0, 2) == 0) {
      std::string text = f.names[name];
      for (char& c : text)
        if (Uniform(0, 1) == 0) c = static_cast<char>(c - 'A' + 'a');
      return text;
    }
    return std::to_string(v);
  }

  // A list of one to three elements, each of a random form, or a lone `*`.
  RandomField Field(const FieldSpec& f) {
    if (Uniform(0, 3) == 0) return {"*", Range(f.min, f.max, 1)};
    RandomField field;
    const int elements = Uniform(1, 3);
    for (int i = 0; i < elements; ++i) {
      if (i > 0) field.text += ',';
      int lo = Uniform(f.min, f.max);
      int hi = Uniform(lo, f.max);
      int step = 1;
      switch (Uniform(0, 5)) {
        case 0:  // *
          field.text += "*";
          lo = f.min;
          hi = f.max;
          break;
        case 1:  // N
          field.text += Value(f, lo);
          hi = lo;
          break;
        case 2:  // A-B
          field.text += Value(f, lo) + "-" + Value(f, hi);
          break;
        case 3:  // */S
          step = Uniform(1, f.steps);
          field.text += "*/" + std::to_string(step);
          lo = f.min;
          hi = f.max;
          break;
        case 4:  // A-B/S
          step = Uniform(1, f.steps);
          field.text += Value(f, lo) + "-" + Value(f, hi) + "/" + std::to_string(step);
          break;
        default:  // A/S
          step = Uniform(1, f.steps);
          field.text += Value(f, lo) + "/" + std::to_string(step);
          hi = f.max;
          break;
      }
      field.values |= Range(lo, hi, step);
    }
    return field;
  }

  RandomField Pick(const std::vector<RandomField>& choices) {
    return choices[static_cast<size_t>(Uniform(0, static_cast<int>(choices.size()) - 1))];
  }

  int64_t Start() {
    // 1906 to 2096, a quarter of them on a whole minute.
    const int64_t ns = static_cast<int64_t>(rng_() % 6'000'000'000'000'000'000ULL) - 2'000'000'000'000'000'000;
    return Uniform(0, 3) == 0 ? ns - ns % kNsPerMinute : ns;
  }

 private:
  static uint64_t Range(int lo, int hi, int step) {
    uint64_t bits = 0;
    for (int v = lo; v <= hi; v += step) bits |= uint64_t{1} << v;
    return bits;
  }

  std::mt19937_64 rng_;
};

struct Reference {
  std::string expr;
  std::array<uint64_t, 5> values{};
  bool either_day = false;

  bool Fires(int64_t of_day, const Civil& c) const {
    const uint64_t weekdays = values[4] | (values[4] >> 7 & 1);
    const bool dom = (values[2] >> c.day & 1) != 0;
    const bool dow = (weekdays >> c.weekday & 1) != 0;
    return (values[0] >> (of_day % 60) & 1) && (values[1] >> (of_day / 60) & 1) && (values[3] >> c.month & 1) &&
           (either_day ? dom || dow : dom && dow);
  }

  // Minute by minute from the first whole minute after `from` to the horizon.
  std::optional<int64_t> NextAfter(int64_t from) const {
    const int64_t first = FloorDiv(from, kNsPerMinute) + 1;
    const int64_t last = first - 1 + kCronHorizonDays * kMinutesPerDay;
    int64_t day = INT64_MIN;
    Civil civil{};
    for (int64_t minute = first; minute <= last; ++minute) {
      const int64_t d = FloorDiv(minute, kMinutesPerDay);
      if (d != day) civil = CivilFromDays(day = d);
      if (Fires(minute - d * kMinutesPerDay, civil)) return minute * kNsPerMinute;
    }
    return std::nullopt;
  }
};

TEST(CronTest, NextAfterAgreesWithAMinuteByMinuteSearch) {
  Generator gen(20250101);
  int fired = 0;
  int none = 0;
  for (int i = 0; i < 400; ++i) {
    Reference ref;
    std::array<bool, 5> starts_with_star{};
    for (size_t f = 0; f < kSpecs.size(); ++f) {
      RandomField field = gen.Field(kSpecs[f]);
      // One in eight asks for month ends and leap days, which some years lack.
      if (i % 8 == 0 && f == 2)
        field = gen.Pick({{"29", 1u << 29}, {"30", 1u << 30}, {"31", 1u << 31}, {"29-31", 7u << 29}});
      if (i % 8 == 0 && f == 3)
        field = gen.Pick({{"2", 1u << 2}, {"FEB", 1u << 2}, {"4,6,9,11", 0xa50u}, {"feb,apr", 0x14u}});
      ref.expr += (f > 0 ? " " : "") + field.text;
      ref.values[f] = field.values;
      starts_with_star[f] = field.text[0] == '*';
    }
    ref.either_day = !starts_with_star[2] && !starts_with_star[4];
    auto schedule = ParseCron(ref.expr);
    ASSERT_TRUE(schedule.ok()) << ref.expr << ": " << schedule.error().message;
    int64_t from = gen.Start();
    // The first fire time and the one after it.
    for (int step = 0; step < 2; ++step) {
      const std::optional<int64_t> want = ref.NextAfter(from);
      const std::optional<int64_t> got = schedule->NextAfter(from);
      ASSERT_EQ(Show(got), Show(want)) << ref.expr << " after " << Rfc3339(from, 9);
      if (!got) {
        ++none;
        break;
      }
      EXPECT_TRUE(schedule->FiresAt(*got)) << ref.expr << " at " << Rfc3339(*got);
      ++fired;
      from = *got;
    }
  }
  EXPECT_GT(fired, 600) << "most random expressions should fire";
  EXPECT_GT(none, 0) << "some should not, within the horizon";
}

}  // namespace
}  // namespace sqlx::orchestrator
