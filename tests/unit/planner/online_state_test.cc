// A migration's checkpoint as JSON (docs/formats/migrations.md): it round
// trips, a record written before the fields added later still reads, and a
// record that misses what every version wrote is refused naming it.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "sqlx/planner/online.h"

namespace sqlx::planner {
namespace {

MigrationState Sample() {
  MigrationState s;
  s.id = "0a1b2c3d";
  s.connection = "app@127.0.0.1:3306";
  s.database = "shop";
  s.table = "orders";
  s.operation_id = 2;
  s.alter_sql = "ALTER TABLE `orders` MODIFY `amount` bigint NOT NULL";
  s.phase = "copying";
  s.key_index = "PRIMARY";
  s.key_columns = {"id"};
  s.key_kinds = {"number"};
  s.copy_columns = {"id", "amount"};
  s.compare_columns = {"amount"};
  s.fill_columns = {"note"};
  s.fill_values = {"''"};
  s.fk_names = {"fk_customer"};
  s.fk_clauses = {"FOREIGN KEY (`customer`) REFERENCES `customers` (`id`)"};
  s.triggers = {{"orders_ai", "AFTER", "INSERT", "app@%", "STRICT_TRANS_TABLES", "utf8mb4_general_ci",
                 "INSERT INTO audit VALUES (NEW.id)",
                 "CREATE DEFINER=`app`@`%` TRIGGER orders_ai AFTER INSERT ON orders FOR EACH ROW INSERT INTO audit "
                 "VALUES (NEW.id)"}};
  s.deferred_indexes = {"KEY `by_customer` (`customer`,`amount`) COMMENT 'a;b'"};
  s.last_bound = {"1000"};
  s.rows_copied = 1000;
  s.rows_estimate = 5000;
  s.chunks = 3;
  s.chunk_rows = 500;
  s.started_at_ns = 1;
  s.updated_at_ns = 2;
  return s;
}

TEST(MigrationStateJsonTest, RoundTrips) {
  const MigrationState s = Sample();
  auto back = MigrationFromJson(MigrationToJson(s));
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(MigrationToJson(*back), MigrationToJson(s));
  EXPECT_EQ(back->fk_clauses, s.fk_clauses);
  EXPECT_EQ(back->deferred_indexes, s.deferred_indexes);
  EXPECT_EQ(back->last_bound, s.last_bound);
  ASSERT_EQ(back->triggers.size(), 1u);
  EXPECT_EQ(back->triggers[0].statement, s.triggers[0].statement);
  EXPECT_EQ(back->triggers[0].definer, "app@%");
}

TEST(MigrationStateJsonTest, ARecordFromBeforeFillsForeignKeysAndTriggersStillReads) {
  MigrationState s = Sample();
  s.fill_columns.clear();
  s.fill_values.clear();
  s.fk_names.clear();
  s.fk_clauses.clear();
  s.triggers.clear();
  s.deferred_indexes.clear();
  nlohmann::json old = nlohmann::json::parse(MigrationToJson(s));
  for (const char* key : {"fill_columns", "fill_values", "fk_names", "fk_clauses", "triggers", "deferred_indexes"})
    old.erase(key);
  auto back = MigrationFromJson(old.dump());
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_TRUE(back->fk_names.empty());
  EXPECT_TRUE(back->fill_columns.empty());
  EXPECT_TRUE(back->triggers.empty());
  EXPECT_TRUE(back->deferred_indexes.empty());
  EXPECT_EQ(back->rows_copied, 1000u);
}

TEST(MigrationStateJsonTest, ARecordWithoutItsKeyIsRefused) {
  nlohmann::json broken = nlohmann::json::parse(MigrationToJson(Sample()));
  broken.erase("key_columns");
  auto back = MigrationFromJson(broken.dump());
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.error().message.find("key_columns"), std::string::npos) << back.error().message;
}

TEST(MigrationStateJsonTest, PlainIndexDefinitionsAsTheServerWritesThemAreAccepted) {
  for (const char* clause : {"KEY `k` (`a`(10),`b`) USING BTREE COMMENT 'x, y; z' IGNORED",
                             "KEY `k` (`a`) COMMENT 'it''s (a, b'", "KEY `k` (`a`) COMMENT 'back\\\\slash, \\' quote'",
                             "KEY `we``ird, name` (`a`)"}) {
    MigrationState s = Sample();
    s.deferred_indexes = {clause};
    auto back = MigrationFromJson(MigrationToJson(s));
    ASSERT_TRUE(back.ok()) << clause << ": " << back.error().ToString();
    EXPECT_EQ(back->deferred_indexes, s.deferred_indexes);
  }
}

TEST(MigrationStateJsonTest, ADeferredIndexThatIsNoPlainIndexDefinitionIsRefused) {
  for (const char* clause : {"UNIQUE KEY `u` (`a`)", "KEY `k` (`a`)\nDROP TABLE t", "DROP INDEX `k`",
                             "KEY `k` (`a`), DROP COLUMN `x`", "KEY `k` (`a`)); DROP TABLE t; -- ",
                             "KEY `k` (`a`) COMMENT 'x', DROP COLUMN `y`"}) {
    MigrationState s = Sample();
    s.deferred_indexes = {clause};
    auto back = MigrationFromJson(MigrationToJson(s));
    ASSERT_FALSE(back.ok()) << clause;
    EXPECT_NE(back.error().message.find("deferred index"), std::string::npos) << back.error().message;
  }
}

}  // namespace
}  // namespace sqlx::planner
