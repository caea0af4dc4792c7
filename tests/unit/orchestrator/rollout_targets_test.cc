// Rollout targets: selectors (`all`, `name:`, `tag:`, each with `/GLOB`), their
// resolution against the learned fleet with servers taking turns, and the
// waves a strategy cuts the targets into.
#include "rollout_targets.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sqlx::orchestrator {
namespace {

// --- selectors ---

struct SelectorCase {
  std::string text;
  TargetSelector parsed;
};

TEST(RolloutTargetsTest, SelectorsParseAndPrintBack) {
  const std::vector<SelectorCase> cases = {
      {"all", {TargetSelector::Kind::kAll, "", "*"}},
      {"all/shop_*", {TargetSelector::Kind::kAll, "", "shop_*"}},
      {"name:db1", {TargetSelector::Kind::kName, "db1", "*"}},
      {"name:db1/shop_[0-9]", {TargetSelector::Kind::kName, "db1", "shop_[0-9]"}},
      {"tag:prod/shop_*", {TargetSelector::Kind::kTag, "prod", "shop_*"}},
  };
  for (const SelectorCase& c : cases) {
    SCOPED_TRACE(c.text);
    auto s = ParseTargetSelector(c.text);
    ASSERT_TRUE(s.ok()) << s.error().message;
    EXPECT_EQ(*s, c.parsed);
    EXPECT_EQ(TargetSelectorText(*s), c.text);
  }
}

TEST(RolloutTargetsTest, BadSelectorsSayWhatIsWrong) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "is not a selector"},
      {"prod", "'prod' is not a selector"},
      {"host:db1", "unknown selector kind 'host'"},
      {"name:", "the name after ':' is empty"},
      {"tag:/x", "the tag after ':' is empty"},
      {"tag:prod/", "the database pattern after '/' is empty"},
      {"all/a/b", "a database pattern has no '/'"},
  };
  for (const auto& [text, why] : cases) {
    SCOPED_TRACE(text);
    auto s = ParseTargetSelector(text);
    ASSERT_FALSE(s.ok());
    EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(s.error().message.find(why), std::string::npos) << s.error().message;
    EXPECT_NE(s.error().message.find("tag:TAG"), std::string::npos) << "names the accepted forms";
  }
}

std::vector<TargetCandidate> Fleet() {
  return {
      {"a1", {"prod"}, "h1:3306", {"shop_1", "shop_2", "other"}},
      {"a2", {"prod"}, "h1:3306", {"shop_3"}},
      {"b", {"prod", "eu"}, "h2:3306", {"shop_1", "shop_2"}},
      {"c", {"dev"}, "h3:3306", {"shop_1"}},
  };
}

std::vector<std::string> Names(const std::vector<ResolvedTarget>& targets) {
  std::vector<std::string> out;
  for (const ResolvedTarget& t : targets) out.push_back(t.connection + "/" + t.database);
  return out;
}

TEST(RolloutTargetsTest, ResolutionPicksEachDatabaseOnceWithServersTakingTurns) {
  auto sel = [](const std::string& text) { return *ParseTargetSelector(text); };
  auto prod = ResolveTargets({sel("tag:prod/shop_*"), sel("name:a1/shop_1")}, Fleet());
  ASSERT_TRUE(prod.ok()) << prod.error().message;
  EXPECT_EQ(Names(*prod),
            (std::vector<std::string>{"a1/shop_1", "b/shop_1", "a1/shop_2", "b/shop_2", "a2/shop_3"}));
  EXPECT_EQ((*prod)[1].server, "h2:3306");
  auto all = ResolveTargets({sel("all")}, Fleet());
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 7u);
  // The same fleet in another order resolves the same.
  std::vector<TargetCandidate> shuffled = Fleet();
  std::swap(shuffled[0], shuffled[3]);
  EXPECT_EQ(Names(*ResolveTargets({sel("all")}, shuffled)), Names(*all));
  // A database named outright is picked even when not learned.
  EXPECT_EQ(Names(*ResolveTargets({sel("name:c/new_db"), sel("tag:dev/shop_1")}, Fleet())),
            (std::vector<std::string>{"c/new_db", "c/shop_1"}));
}

TEST(RolloutTargetsTest, ResolutionNamesWhatMatchedNothing) {
  auto missing = ResolveTargets({*ParseTargetSelector("name:nosuch")}, Fleet());
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_NE(missing.error().message.find("no connection named 'nosuch'"), std::string::npos);
  auto none = ResolveTargets({*ParseTargetSelector("tag:qa"), *ParseTargetSelector("name:c/x*")}, Fleet());
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.error().message.find("tag:qa, name:c/x*"), std::string::npos) << none.error().message;
  EXPECT_FALSE(ResolveTargets({}, Fleet()).ok());
}

// --- waves ---

TEST(RolloutTargetsTest, WavesParse) {
  auto w = ParseWaves("10%,50%,100%");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(*w, (std::vector<WaveSpec>{{true, 10}, {true, 50}, {true, 100}}));
  EXPECT_EQ(WavesText(*w), "10%,50%,100%");
  EXPECT_EQ(*ParseWaves("2,5"), (std::vector<WaveSpec>{{false, 2}, {false, 5}}));
  EXPECT_TRUE(ParseWaves("")->empty());
  for (const char* bad : {"0", "10%,", "abc", "101%", "50%,10%", "-1", "5%%"}) {
    SCOPED_TRACE(bad);
    auto r = ParseWaves(bad);
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("wave '"), std::string::npos) << r.error().message;
  }
}

TEST(RolloutTargetsTest, WavePlansCoverEveryTargetOnce) {
  const std::vector<WaveSpec> pct = *ParseWaves("10%,50%,100%");
  EXPECT_EQ(PlanWaves(21, 1, pct), (std::vector<size_t>{1, 2, 8, 10}));
  EXPECT_EQ(PlanWaves(3, 1, pct), (std::vector<size_t>{1, 1, 1})) << "an empty wave is dropped";
  EXPECT_EQ(PlanWaves(6, 0, *ParseWaves("2,1")), (std::vector<size_t>{2, 1, 3})) << "the rest is one last wave";
  EXPECT_EQ(PlanWaves(4, 0, {}), (std::vector<size_t>{4}));
  EXPECT_EQ(PlanWaves(2, 5, pct), (std::vector<size_t>{2}));
  EXPECT_EQ(PlanWaves(10, 2, *ParseWaves("1,50%")), (std::vector<size_t>{2, 1, 3, 4}));
}

}  // namespace
}  // namespace sqlx::orchestrator
