// How database learning runs against the real MariaDB: the number of
// statements does not grow with the number of databases, partitions are read
// only where needed, a helper session gives the same result, nothing is
// written, a limited user lists what it could not see, an unknown database is
// an entry with an error, a lost connection fails the learn, and system
// schemas are listed only when asked.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "flo_learn_fixture.h"

namespace sqlx {
namespace {

using namespace flo_learn_test;  // NOLINT: the fixture of these tests (and its names)

TEST(FloLearnDatabaseTest, OneDatabaseAndFourTakeTheSameNumberOfStatements) {
  FixtureDatabases fx;
  const std::vector<std::string> names = LoadFourApplications(fx);
  auto session = MustOpenForLearning(RootUrl());
  ASSERT_NE(session, nullptr);
  auto questions = [&] { return SessionStatus(*session, "Questions")["Questions"]; };
  const uint64_t q0 = questions();
  std::vector<LearnedDatabase> one = MustLearn(*session, {names[0]});
  const uint64_t q1 = questions();
  std::vector<LearnedDatabase> four = MustLearn(*session, names);
  const uint64_t q2 = questions();
  ASSERT_EQ(one.size(), 1u);
  ASSERT_EQ(four.size(), 4u);
  // Round trips: the same for one database as for four. Besides the
  // batched catalog queries, one round trip carries every SHOW CREATE VIEW
  // and one every SHOW CREATE TRIGGER (information_schema rewrites both).
  EXPECT_EQ(one[0].catalog_statements, four[0].catalog_statements);
  EXPECT_LE(four[0].catalog_statements, 18);
  auto per_object = [](const std::vector<LearnedDatabase>& dbs) {
    uint64_t n = 0;
    for (const LearnedDatabase& db : dbs) n += db.counts.views + db.counts.triggers;
    return n;
  };
  const int batched = four[0].catalog_statements - 2;
  EXPECT_EQ(static_cast<uint64_t>(batched) + per_object(one) + 1, q1 - q0);  // + the SHOW STATUS itself
  EXPECT_EQ(static_cast<uint64_t>(batched) + per_object(four) + 1, q2 - q1);
  EXPECT_EQ(one[0].profile_hash, four[0].profile_hash);

  // Without the multi-statement capability each view and trigger takes its
  // own round trip, and the result is the same.
  auto plain = MustOpen(RootUrl());
  ASSERT_NE(plain, nullptr);
  std::vector<LearnedDatabase> single = MustLearn(*plain, {names[0]});
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0].profile_hash, one[0].profile_hash);
  EXPECT_EQ(static_cast<uint64_t>(single[0].catalog_statements), batched + per_object(one));
}

// Sakila (no partitions) and the feature schema (a partitioned table).
std::pair<std::string, std::string> LoadPlainAndFeatureSchemas(FixtureDatabases& fx) {
  std::string plain = fx.Load("sakila", "sakila/v1.5.sql");
  std::string feat = fx.Create("feat");
  CreateFeatureSchema(feat);
  return {plain, feat};
}

// PARTITIONS opens every table it covers: it is read only for databases
// with a partitioned table, and not at all when there is none.
TEST(FloLearnDatabaseTest, PartitionsAreReadOnlyWhereATableIsPartitioned) {
  FixtureDatabases fx;
  const auto [plain, feat] = LoadPlainAndFeatureSchemas(fx);
  auto session = MustOpenForLearning(RootUrl());
  ASSERT_NE(session, nullptr);
  std::vector<LearnedDatabase> alone = MustLearn(*session, {plain});
  std::vector<LearnedDatabase> both = MustLearn(*session, {plain, feat});
  ASSERT_EQ(alone.size(), 1u);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(alone[0].catalog_statements + 1, both[0].catalog_statements);
  EXPECT_EQ(alone[0].profile_hash, both[0].profile_hash);
  const ir::Table* t = FindTable(both[1].schema, "t");
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->partitioning.has_value());
  EXPECT_EQ(t->partitioning->partitions.size(), 2u);
  for (const ir::Table& table : both[0].schema.tables) EXPECT_FALSE(table.partitioning.has_value()) << table.name;
}

// With a helper session part of the catalog queries run on it, at the same
// time: the databases learned are the same, in the same number of
// statements, some of them on each session.
TEST(FloLearnDatabaseTest, AHelperSessionGivesTheSameResult) {
  FixtureDatabases fx;
  const auto [plain, feat] = LoadPlainAndFeatureSchemas(fx);
  auto session = MustOpen(RootUrl());
  auto helper = MustOpen(RootUrl());
  ASSERT_NE(session, nullptr);
  ASSERT_NE(helper, nullptr);
  auto questions = [](transports::Session& s) { return SessionStatus(s, "Questions")["Questions"]; };
  auto learned_alone = flo::LearnDatabases(*session, {plain, feat, "sqlx_no_such_db"});
  ASSERT_TRUE(learned_alone.ok()) << learned_alone.error().ToString();
  const std::vector<LearnedDatabase>& alone = *learned_alone;
  flo::LearnDatabaseOptions options;
  options.helper_session = helper.get();
  const uint64_t main_before = questions(*session), helper_before = questions(*helper);
  auto shared = flo::LearnDatabases(*session, {plain, feat, "sqlx_no_such_db"}, options);
  ASSERT_TRUE(shared.ok()) << shared.error().ToString();
  const uint64_t on_main = questions(*session) - main_before - 1, on_helper = questions(*helper) - helper_before - 1;
  ASSERT_EQ(shared->size(), 3u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ((*shared)[i].profile_hash, alone[i].profile_hash) << alone[i].name;
    EXPECT_EQ((*shared)[i].json, alone[i].json) << alone[i].name;
    EXPECT_EQ((*shared)[i].not_visible, alone[i].not_visible) << alone[i].name;
  }
  EXPECT_TRUE((*shared)[2].error.has_value());
  EXPECT_EQ((*shared)[0].catalog_statements, alone[0].catalog_statements);
  EXPECT_EQ(on_main + on_helper, static_cast<uint64_t>(alone[0].catalog_statements));
  EXPECT_GT(on_main, 0u);
  EXPECT_GT(on_helper, 0u);
}

TEST(FloLearnDatabaseTest, LearningWritesNothing) {
  FixtureDatabases fx;
  const std::string name = fx.Load("sakila", "sakila/v1.5.sql");
  auto session = MustOpenForLearning(RootUrl());
  ASSERT_NE(session, nullptr);
  std::map<std::string, uint64_t> before = SessionStatus(*session, "Com\\_%");
  std::vector<LearnedDatabase> learned = MustLearn(*session, {name, "sqlx_test"});
  std::map<std::string, uint64_t> after = SessionStatus(*session, "Com\\_%");
  ASSERT_FALSE(before.empty());
  for (const auto& [counter, value] : after) {
    // The learn (SELECTs on the catalog, SHOW CREATE VIEW / TRIGGER) and this check.
    if (counter == "Com_select" || counter == "Com_show_create_table" || counter == "Com_show_create_trigger" ||
        counter == "Com_show_status")
      continue;
    EXPECT_EQ(value, before[counter]) << counter << " moved: learning ran a statement that is not a SELECT";
  }
  EXPECT_GT(after["Com_select"], before["Com_select"]);
}

TEST(FloLearnDatabaseTest, AUserWithOnlySelectListsWhatItCouldNotSee) {
  FixtureDatabases fx;
  const std::string name = fx.Load("sakila", "sakila/v1.5.sql");
  RootSql("CREATE EVENT ev ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DISABLE DO SELECT 1", name);
  testing::TemporaryUser user("sqlx_ro", "ro-pw", {"SELECT ON `" + name + "`.*"});

  auto session = MustOpenForLearning(testing::Url(user.name(), "ro-pw", ""));
  ASSERT_NE(session, nullptr);
  std::vector<LearnedDatabase> learned = MustLearn(*session, {name});
  ASSERT_EQ(learned.size(), 1u);
  const LearnedDatabase& db = learned[0];
  EXPECT_EQ(db.counts.tables, 16u);
  EXPECT_EQ(db.counts.triggers, 0u);
  EXPECT_EQ(db.counts.events, 0u);
  EXPECT_EQ(db.counts.routines, 0u);
  EXPECT_TRUE(Mentions(db.not_visible, "triggers: not visible without the TRIGGER privilege")) << db.not_visible.size();
  EXPECT_TRUE(Mentions(db.not_visible, "events: not visible without the EVENT privilege"));
  EXPECT_TRUE(Mentions(db.not_visible, "routines: only those this user may execute or alter"));
  EXPECT_TRUE(Mentions(db.not_visible, "view `actor_info`: definition not visible"));
  EXPECT_EQ(db.schema.not_visible, db.not_visible);

  // SHOW VIEW and SELECT on mysql.proc show view and routine bodies; triggers
  // and events still need their own privileges.
  user.Grant("SHOW VIEW ON `" + name + "`.*");
  user.Grant("SELECT ON mysql.proc");
  auto session2 = MustOpenForLearning(testing::Url(user.name(), "ro-pw", ""));
  ASSERT_NE(session2, nullptr);
  std::vector<LearnedDatabase> more = MustLearn(*session2, {name});
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].counts.routines, 6u);
  EXPECT_FALSE(Mentions(more[0].not_visible, "routines:"));
  EXPECT_FALSE(Mentions(more[0].not_visible, "definition not visible"));
  EXPECT_TRUE(Mentions(more[0].not_visible, "triggers: not visible"));
  EXPECT_TRUE(Mentions(more[0].not_visible, "events: not visible"));
  for (const auto& r : more[0].schema.routines) EXPECT_FALSE(r.body.empty()) << r.name;
  EXPECT_NE(more[0].profile_hash, db.profile_hash);
}

TEST(FloLearnDatabaseTest, AnUnknownDatabaseIsAnEntryWithAnErrorAndTheOthersAreLearned) {
  FixtureDatabases fx;
  const std::string name = fx.Load("employees", "employees/employees.sql");
  auto session = MustOpenForLearning(RootUrl());
  ASSERT_NE(session, nullptr);
  auto learned = flo::LearnDatabases(*session, {"sqlx_no_such_db", name, "it's \\ odd"});
  ASSERT_TRUE(learned.ok()) << learned.error().ToString();
  ASSERT_EQ(learned->size(), 3u);
  ASSERT_TRUE((*learned)[0].error.has_value());
  EXPECT_EQ((*learned)[0].error->code, ErrorCode::kNotFound);
  EXPECT_NE((*learned)[0].error->message.find("unknown database 'sqlx_no_such_db'"), std::string::npos);
  EXPECT_FALSE((*learned)[1].error.has_value());
  EXPECT_EQ((*learned)[1].counts.tables, 6u);
  EXPECT_TRUE((*learned)[2].error.has_value());  // quoted safely, found nowhere
}

TEST(FloLearnDatabaseTest, AConnectionLostBeforeOrDuringTheLearnFailsIt) {
  FixtureDatabases fx;
  const std::string name = fx.Load("employees", "employees/employees.sql");
  {
    auto session = MustOpenForLearning(RootUrl());
    ASSERT_NE(session, nullptr);
    const std::string id = testing::Scalar(*session, "SELECT CONNECTION_ID()").value_or("0");
    RootSql("KILL CONNECTION " + id);
    auto learned = flo::LearnDatabases(*session, {name});
    EXPECT_FALSE(learned.ok());
  }
  // A learn pack whose events query kills the session: the catalog queries
  // before it ran, the learn still fails as a whole.
  testing::TempDir dir("sqlx_killing_pack_");
  testing::WriteKillingLearnPack(dir.path());
  auto session = MustOpenForLearning(RootUrl());
  ASSERT_NE(session, nullptr);
  flo::LearnDatabaseOptions options;
  options.learn_pack_dir = dir.path();
  auto learned = flo::LearnDatabases(*session, {name}, options);
  ASSERT_FALSE(learned.ok());
  EXPECT_NE(learned.error().message.find("catalog query 'events' failed"), std::string::npos)
      << learned.error().ToString();
}

TEST(FloLearnDatabaseTest, DatabasesAreListedWithoutSystemSchemasUnlessAsked) {
  auto session = MustOpenForLearning(RootUrl());
  ASSERT_NE(session, nullptr);
  auto user = flo::ListDatabases(*session, false);
  auto all = flo::ListDatabases(*session, true);
  ASSERT_TRUE(user.ok()) << user.error().ToString();
  ASSERT_TRUE(all.ok()) << all.error().ToString();
  for (const char* system : {"information_schema", "mysql", "performance_schema", "sys"}) {
    EXPECT_EQ(std::count(user->begin(), user->end(), system), 0) << system;
    EXPECT_EQ(std::count(all->begin(), all->end(), system), 1) << system;
  }
  EXPECT_EQ(std::count(user->begin(), user->end(), "sqlx_test"), 1);
  EXPECT_TRUE(std::is_sorted(user->begin(), user->end()));
}

}  // namespace
}  // namespace sqlx
