// Periods as commands and options spell them (retention, gate waits,
// relative times): a count and one unit of s m h d w.
#include "sqlx/messages/clock.h"

#include <gtest/gtest.h>

namespace sqlx {
namespace {

TEST(ParsePeriodSecondsTest, ReadsACountAndOneUnit) {
  EXPECT_EQ(ParsePeriodSeconds("30s"), 30);
  EXPECT_EQ(ParsePeriodSeconds("15m"), 900);
  EXPECT_EQ(ParsePeriodSeconds("2h"), 7200);
  EXPECT_EQ(ParsePeriodSeconds("90d"), 90 * 86400);
  EXPECT_EQ(ParsePeriodSeconds("1w"), 604800);
  EXPECT_EQ(ParsePeriodSeconds("0m"), 0);
  EXPECT_EQ(ParsePeriodSeconds("52000w"), 52000 * 604800LL);  // 1000 years is the most
}

TEST(ParsePeriodSecondsTest, RefusesAnythingElse) {
  for (const char* bad : {"", "s", "5", "-5m", "+5m", "5x", "5 m", "m5", "1.5h", "5mm", "60000w"})
    EXPECT_FALSE(ParsePeriodSeconds(bad).has_value()) << bad;
}

}  // namespace
}  // namespace sqlx
