// Cron expressions: parsing into one bit set per field, and the next fire time
// by walking the calendar a month, a day or an hour at a time.
#include "sqlx/orchestrator/cron.h"

#include <array>
#include <bit>
#include <charconv>
#include <chrono>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace sqlx::orchestrator {
namespace {

constexpr int64_t kNsPerMinute = 60'000'000'000;
constexpr int64_t kMinutesPerDay = 24 * 60;
// The last whole minute whose nanoseconds fit in an int64_t.
constexpr int64_t kLastMinute = INT64_MAX / kNsPerMinute;

constexpr std::array<std::string_view, 12> kMonthNames = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                                          "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
constexpr std::array<std::string_view, 7> kWeekdayNames = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

// One of the five fields: the values a value or a range may name.
struct FieldSpec {
  std::string_view name;                    // as error messages name it
  int min;                                  // lowest value
  int max;                                  // highest value (day-of-week: 7, Sunday again)
  int steps;                                // a step is 1..steps, the number of distinct values
  std::span<const std::string_view> names;  // names[i] is value min + i
  std::string_view allowed;                 // what error messages say is allowed
};

constexpr std::array<FieldSpec, 5> kFields = {{
    {"minute", 0, 59, 60, {}, "0-59"},
    {"hour", 0, 23, 24, {}, "0-23"},
    {"day-of-month", 1, 31, 31, {}, "1-31"},
    {"month", 1, 12, 12, kMonthNames, "1-12 or JAN-DEC"},
    {"day-of-week", 0, 7, 7, kWeekdayNames, "0-7 or SUN-SAT"},
}};

struct Macro {
  std::string_view name;
  std::string_view fields;
};

constexpr std::array<Macro, 7> kMacros = {{
    {"@hourly", "0 * * * *"},
    {"@daily", "0 0 * * *"},
    {"@midnight", "0 0 * * *"},
    {"@weekly", "0 0 * * 0"},
    {"@monthly", "0 0 1 * *"},
    {"@yearly", "0 0 1 1 *"},
    {"@annually", "0 0 1 1 *"},
}};

char Upper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }
char Lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (Upper(a[i]) != Upper(b[i])) return false;
  return true;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

std::string MacroList() {
  std::string list;
  for (const Macro& m : kMacros) {
    if (!list.empty()) list += ' ';
    list += m.name;
  }
  return list;
}

Error ExpressionError(std::string_view expr, std::string_view problem) {
  return MakeError(ErrorCode::kInvalidArgument,
                   "cron expression \"" + std::string(expr) + "\" " + std::string(problem));
}

Error FieldError(size_t index, std::string_view token, std::string_view problem) {
  return MakeError(ErrorCode::kInvalidArgument, "cron field " + std::to_string(index + 1) + " (" +
                                                    std::string(kFields[index].name) + ") \"" +
                                                    std::string(token) + "\": " + std::string(problem));
}

// A number or name of field `index`. `element`, the list element the token
// is part of, is what an error quotes when the token is empty ("-5", "1-").
Result<int> ParseValue(size_t index, std::string_view token, std::string_view element) {
  const FieldSpec& f = kFields[index];
  if (token.empty()) return FieldError(index, element, "missing value: expected " + std::string(f.allowed));
  if (AllDigits(token)) {
    int value = 0;
    auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), value);
    if (ec != std::errc() || end != token.data() + token.size() || value < f.min || value > f.max)
      return FieldError(index, token, "out of range " + std::string(f.allowed));
    return value;
  }
  for (size_t i = 0; i < f.names.size(); ++i)
    if (EqualsIgnoreCase(token, f.names[i])) return f.min + static_cast<int>(i);
  return FieldError(index, token,
                    (f.names.empty() ? "not a number: expected " : "not a number or name: expected ") +
                        std::string(f.allowed));
}

// One list element of field `index` (`*`, `N`, `A-B`, each with an optional
// `/S`) as a bit set of its values.
Result<uint64_t> ParseElement(size_t index, std::string_view element) {
  const FieldSpec& f = kFields[index];
  std::string_view base = element;
  int step = 1;
  const size_t slash = element.find('/');
  if (slash != std::string_view::npos) {
    base = element.substr(0, slash);
    const std::string_view text = element.substr(slash + 1);
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), step);
    if (!AllDigits(text) || ec != std::errc() || end != text.data() + text.size() || step < 1 || step > f.steps)
      return FieldError(index, element, "step must be 1-" + std::to_string(f.steps));
  }
  int lo = f.min;
  int hi = f.max;
  if (base != "*") {
    const size_t dash = base.find('-');
    SQLX_ASSIGN_OR_RETURN(lo, ParseValue(index, base.substr(0, dash), element));
    if (dash != std::string_view::npos) {
      SQLX_ASSIGN_OR_RETURN(hi, ParseValue(index, base.substr(dash + 1), element));
      if (lo > hi) return FieldError(index, element, "range runs backwards: write the lower value first");
    } else if (slash == std::string_view::npos) {
      hi = lo;  // `A/S` runs from A to the field's end; a lone `A` is A only
    }
  }
  uint64_t bits = 0;
  for (int v = lo; v <= hi; v += step) bits |= uint64_t{1} << v;
  return bits;
}

// A whole field: its list elements' values together.
Result<uint64_t> ParseField(size_t index, std::string_view text) {
  uint64_t bits = 0;
  size_t start = 0;
  for (;;) {
    const size_t comma = text.find(',', start);
    const std::string_view element = text.substr(start, comma == std::string_view::npos ? text.npos : comma - start);
    if (element.empty())
      return FieldError(index, text, "empty list element: expected a value, a range or a step between commas");
    SQLX_ASSIGN_OR_RETURN(uint64_t element_bits, ParseElement(index, element));
    bits |= element_bits;
    if (comma == std::string_view::npos) return bits;
    start = comma + 1;
  }
}

std::vector<std::string_view> SplitFields(std::string_view expr) {
  std::vector<std::string_view> fields;
  size_t i = 0;
  while (i < expr.size()) {
    while (i < expr.size() && IsSpace(expr[i])) ++i;
    const size_t start = i;
    while (i < expr.size() && !IsSpace(expr[i])) ++i;
    if (i > start) fields.push_back(expr.substr(start, i - start));
  }
  return fields;
}

struct CivilDay {
  unsigned month;    // 1-12
  unsigned day;      // 1-31
  unsigned weekday;  // 0 = Sunday
};

CivilDay Civil(int64_t day) {
  const std::chrono::sys_days date{std::chrono::days{day}};
  const std::chrono::year_month_day ymd{date};
  return {static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
          std::chrono::weekday{date}.c_encoding()};
}

int64_t FirstDayOfNextMonth(int64_t day) {
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{day}}};
  const std::chrono::year_month next = ymd.year() / ymd.month() + std::chrono::months{1};
  return std::chrono::sys_days{next / 1}.time_since_epoch().count();
}

}  // namespace

Result<CronSchedule> ParseCron(std::string_view expr) {
  const std::vector<std::string_view> fields = SplitFields(expr);
  if (!fields.empty() && fields[0].front() == '@') {
    std::string name;
    for (char c : fields[0]) name += Lower(c);
    if (fields.size() > 1)
      return ExpressionError(expr, "has fields after " + name + ": a macro stands alone");
    for (const Macro& m : kMacros) {
      if (m.name != name) continue;
      SQLX_ASSIGN_OR_RETURN(CronSchedule schedule, ParseCron(m.fields));
      schedule.canonical_ = name;
      return schedule;
    }
    return MakeError(ErrorCode::kInvalidArgument,
                     "cron macro \"" + std::string(fields[0]) + "\" is not supported: expected one of " + MacroList());
  }
  if (fields.size() != kFields.size())
    return ExpressionError(expr, "has " + std::to_string(fields.size()) +
                                     " fields: expected 5 (minute hour day-of-month month day-of-week) or one of " +
                                     MacroList());
  std::array<uint64_t, 5> bits{};
  CronSchedule schedule;
  for (size_t i = 0; i < fields.size(); ++i) {
    SQLX_ASSIGN_OR_RETURN(bits[i], ParseField(i, fields[i]));
    if (i > 0) schedule.canonical_ += ' ';
    for (char c : fields[i]) schedule.canonical_ += Upper(c);
  }
  schedule.minutes_ = bits[0];
  schedule.hours_ = static_cast<uint32_t>(bits[1]);
  schedule.days_ = static_cast<uint32_t>(bits[2]);
  schedule.months_ = static_cast<uint16_t>(bits[3]);
  schedule.weekdays_ = static_cast<uint8_t>((bits[4] | bits[4] >> 7) & 0x7f);  // 7 is Sunday, 0
  schedule.either_day_ = fields[2].front() != '*' && fields[4].front() != '*';
  return schedule;
}

bool CronSchedule::DayMatches(unsigned day_of_month, unsigned weekday) const {
  const bool dom = (days_ >> day_of_month & 1) != 0;
  const bool dow = (weekdays_ >> weekday & 1) != 0;
  return either_day_ ? dom || dow : dom && dow;
}

int CronSchedule::FirstMinuteOfDay(int from) const {
  int minute = from % 60;
  for (int hour = from / 60; hour < 24; ++hour, minute = 0) {
    if ((hours_ >> hour & 1) == 0) continue;
    const uint64_t rest = minutes_ >> minute;
    if (rest != 0) return hour * 60 + minute + std::countr_zero(rest);
  }
  return -1;
}

std::optional<int64_t> CronSchedule::NextAfter(int64_t unix_ns) const {
  // Fire minutes k with unix_ns < k * 1 min <= unix_ns + the horizon.
  const int64_t first = FloorDiv(unix_ns, kNsPerMinute) + 1;
  const int64_t last = first - 1 + kCronHorizonDays * kMinutesPerDay;
  int64_t day = FloorDiv(first, kMinutesPerDay);
  int from = static_cast<int>(first - day * kMinutesPerDay);
  const int64_t last_day = FloorDiv(last, kMinutesPerDay);
  while (day <= last_day) {
    const CivilDay civil = Civil(day);
    if ((months_ >> civil.month & 1) == 0) {
      day = FirstDayOfNextMonth(day);
      from = 0;
      continue;
    }
    if (DayMatches(civil.day, civil.weekday)) {
      const int minute = FirstMinuteOfDay(from);
      if (minute >= 0) {
        const int64_t k = day * kMinutesPerDay + minute;
        if (k > last || k > kLastMinute) return std::nullopt;
        return k * kNsPerMinute;
      }
    }
    ++day;
    from = 0;
  }
  return std::nullopt;
}

bool CronSchedule::FiresAt(int64_t unix_ns) const {
  if (unix_ns % kNsPerMinute != 0) return false;
  const int64_t minute = unix_ns / kNsPerMinute;
  const int64_t day = FloorDiv(minute, kMinutesPerDay);
  const int64_t of_day = minute - day * kMinutesPerDay;
  const CivilDay civil = Civil(day);
  return (months_ >> civil.month & 1) != 0 && DayMatches(civil.day, civil.weekday) &&
         (hours_ >> (of_day / 60) & 1) != 0 && (minutes_ >> (of_day % 60) & 1) != 0;
}

}  // namespace sqlx::orchestrator
