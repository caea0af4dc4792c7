// Duration estimates: a table of {name, kind, strategy, bytes, rates,
// expected ms}; the plan's total and basis; the estimates through plan.json,
// and a plan.json without them (older files) still read.
#include "sqlx/planner/duration.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sqlx/planner/plan.h"

namespace sqlx::planner {
namespace {

RewriteRates Rates(double copy, double inplace) { return {copy, inplace, "test rates"}; }

Operation Op(const std::string& kind, Strategy strategy, uint64_t bytes) {
  Operation op;
  op.id = 1;
  op.kind = kind;
  op.object = "t";
  op.strategy = strategy;
  op.bytes_estimate = bytes;
  return op;
}

struct DurationCase {
  const char* name;
  const char* kind;
  Strategy strategy;
  uint64_t bytes;
  uint64_t expected_ms;
};

TEST(DurationTest, EachStrategyCostsItsBytesAtItsRate) {
  const RewriteRates rates = Rates(/*copy=*/10e6, /*inplace=*/20e6);
  const std::vector<DurationCase> cases = {
      {"instant is metadata only", "alter_table", Strategy::kInstant, 1'000'000'000, 0},
      {"none changes no rows", "drop_table", Strategy::kNone, 1'000'000'000, 0},
      {"inplace at the inplace rate", "alter_table", Strategy::kInplace, 40'000'000, 2000},
      {"copy at the copy rate", "alter_table", Strategy::kCopy, 40'000'000, 4000},
      {"online-copy runs as a copy", "alter_table", Strategy::kOnlineCopy, 40'000'000, 4000},
      {"an unknown ALTER is taken as a copy", "alter_table", Strategy::kUnknown, 40'000'000, 4000},
      {"an unknown foreign key add is taken as a copy", "add_foreign_keys", Strategy::kUnknown, 10'000'000, 1000},
      {"an unknown create changes no rows", "create_table", Strategy::kUnknown, 40'000'000, 0},
      {"an unknown size costs nothing known", "alter_table", Strategy::kCopy, 0, 0},
      {"a partial millisecond rounds up", "alter_table", Strategy::kCopy, 1, 1},
  };
  for (const DurationCase& c : cases)
    EXPECT_EQ(EstimateDurationMs(Op(c.kind, c.strategy, c.bytes), rates), c.expected_ms) << c.name;
  EXPECT_EQ(EstimateDurationMs(Op("alter_table", Strategy::kCopy, 1000), Rates(0, 0)), 0u) << "no rate, no estimate";
}

TEST(DurationTest, ThePlanTotalIsTheSumAndNamesItsBasis) {
  Plan plan;
  plan.operations = {Op("alter_table", Strategy::kCopy, 30'000'000), Op("alter_table", Strategy::kInplace, 40'000'000),
                     Op("alter_table", Strategy::kInstant, 50'000'000)};
  EstimateDurations(Rates(10e6, 20e6), &plan);
  EXPECT_EQ(plan.operations[0].duration_estimate_ms, 3000u);
  EXPECT_EQ(plan.operations[1].duration_estimate_ms, 2000u);
  EXPECT_EQ(plan.operations[2].duration_estimate_ms, 0u);
  EXPECT_EQ(TotalDurationEstimateMs(plan), 5000u);
  EXPECT_EQ(plan.duration_basis, "test rates");
  EXPECT_NE(AssumedRewriteRates().basis.find("assumed"), std::string::npos) << "the default says it is an assumption";
}

TEST(DurationTest, EstimatesSurvivePlanJsonAndTheirAbsenceReadsAsNone) {
  Plan plan;
  plan.database = "shop";
  plan.operations = {Op("alter_table", Strategy::kCopy, 30'000'000)};
  EstimateDurations(Rates(10e6, 20e6), &plan);
  const std::string text = PlanToJson(plan);
  EXPECT_NE(text.find("\"duration_estimate_ms\": 3000"), std::string::npos) << text;
  auto back = PlanFromJson(text);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->operations[0].duration_estimate_ms, 3000u);
  EXPECT_EQ(back->duration_basis, "test rates");

  // A plan.json written before the estimates existed.
  std::string old = text;
  for (const std::string key : {"\"duration_basis\"", "\"duration_estimate_ms\"", "\"duration_estimate_ms\""}) {
    const size_t at = old.find(key);
    ASSERT_NE(at, std::string::npos) << key;
    old.erase(at, old.find('\n', at) - at + 1);
  }
  ASSERT_EQ(old.find("duration"), std::string::npos) << old;
  auto older = PlanFromJson(old);
  ASSERT_TRUE(older.ok()) << older.error().ToString() << "\n" << old;
  EXPECT_EQ(older->operations[0].duration_estimate_ms, 0u);
  EXPECT_EQ(older->duration_basis, "");
}

}  // namespace
}  // namespace sqlx::planner
