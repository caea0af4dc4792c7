// CatalogBuilder without a server: catalog rows as another flavor writes
// them (MySQL's bare defaults, EXTRA words, invisible indexes, no LEVEL or
// ALGORITHM columns) become the same IR form, what the catalog cannot say
// is listed, rows come in any order, and a pack query missing a column is an
// error naming it.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "catalog.h"
#include "test_env.h"

namespace sqlx::flo {
namespace {

LearnPack ShippedPack() {
  auto pack = LocateLearnPack("mysql", sqlx::testing::SourceDir() + "/flo/packs");
  EXPECT_TRUE(pack.ok()) << pack.error().message;
  return pack.ok() ? *pack : LearnPack{};
}

using Cells = std::vector<std::optional<std::string>>;

CatalogRows Rows(const std::string& query, std::vector<std::string> columns, std::vector<Cells> rows) {
  CatalogRows out;
  out.query = query;
  out.columns = std::move(columns);
  out.rows = std::move(rows);
  return out;
}

const std::nullopt_t null = std::nullopt;

class CatalogBuilderTest : public ::testing::Test {
 protected:
  // MySQL 8.0.36: bare COLUMN_DEFAULT values.
  CatalogBuilderTest() : pack_(ShippedPack()), builder_(pack_, "MySQL", 80036, {"shop", "absent"}) {
    EXPECT_TRUE(
        builder_
            .AddSchemata(Rows("schemata", {"SCHEMA_NAME", "DEFAULT_CHARACTER_SET_NAME", "DEFAULT_COLLATION_NAME"},
                              {{"shop", "utf8mb4", "utf8mb4_0900_ai_ci"}, {"other", "latin1", "x"}}))
            .ok());
    EXPECT_TRUE(builder_
                    .AddTables(Rows("tables",
                                    {"TABLE_SCHEMA", "TABLE_NAME", "TABLE_TYPE", "ENGINE", "TABLE_ROWS", "DATA_LENGTH",
                                     "INDEX_LENGTH", "AUTO_INCREMENT", "TABLE_COLLATION", "CHARACTER_SET_NAME",
                                     "CREATE_OPTIONS", "TABLE_COMMENT"},
                                    {{"shop", "t", "BASE TABLE", "InnoDB", "5", "16384", "0", "6", "utf8mb4_bin",
                                      "utf8mb4", "row_format=DYNAMIC stats_auto_recalc=0", "note"},
                                     {"shop", "v", "VIEW", null, null, null, null, null, null, null, null, "VIEW"},
                                     {"shop", "s", "SEQUENCE", "InnoDB", "1", "0", "0", null, "x", "x", "", ""}}))
                    .ok());
  }

  LearnedDatabase Shop() {
    std::vector<LearnedDatabase> all = builder_.Finish();
    EXPECT_EQ(all.size(), 2u);
    EXPECT_TRUE(all[1].error.has_value());
    return all[0];
  }

  LearnPack pack_;
  CatalogBuilder builder_;
};

TEST_F(CatalogBuilderTest, MySqlColumnDefaultsAndExtraBecomeTheMariaDbForm) {
  const std::vector<std::string> columns = {"TABLE_SCHEMA",         "TABLE_NAME",     "COLUMN_NAME", "ORDINAL_POSITION",
                                            "COLUMN_DEFAULT",       "IS_NULLABLE",    "DATA_TYPE",   "COLUMN_TYPE",
                                            "CHARACTER_SET_NAME",   "COLLATION_NAME", "EXTRA",       "COLUMN_COMMENT",
                                            "GENERATION_EXPRESSION"};
  // Out of order on purpose: columns sort by position.
  ASSERT_TRUE(
      builder_
          .AddColumns(Rows(
              "columns", columns,
              {{"shop", "t", "ts", "5", "CURRENT_TIMESTAMP", "NO", "timestamp", "timestamp", null, null,
                "DEFAULT_GENERATED on update CURRENT_TIMESTAMP", "", ""},
               {"shop", "t", "id", "1", null, "NO", "int", "int unsigned", null, null, "auto_increment", "", ""},
               {"shop", "t", "name", "2", "it's", "YES", "varchar", "varchar(10)", "utf8mb4", "utf8mb4_bin", "", "",
                ""},
               {"shop", "t", "price", "3", "4.99", "NO", "decimal", "decimal(5,2)", null, null, "INVISIBLE", "", ""},
               {"shop", "t", "body", "4", null, "YES", "text", "text", "utf8mb4", "utf8mb4_bin", "", "", ""},
               {"shop", "t", "twice", "6", null, "YES", "int", "int", null, null, "STORED GENERATED", "", "(`id` * 2)"},
               {"shop", "t", "note", "7", null, "YES", "int", "int", null, null, "", "", ""},
               {"shop", "v", "x", "1", null, "YES", "int", "int", null, null, "", "", ""}}))
          .ok());
  LearnedDatabase shop = Shop();
  ASSERT_FALSE(shop.error.has_value());
  ASSERT_EQ(shop.schema.tables.size(), 1u);
  const ir::Table& t = shop.schema.tables[0];
  EXPECT_EQ(t.row_format, "DYNAMIC");
  EXPECT_EQ(t.create_options, "stats_auto_recalc=0");
  EXPECT_EQ(t.stats.auto_increment, 6u);
  ASSERT_EQ(t.columns.size(), 7u);
  EXPECT_EQ(t.columns[0].name, "id");
  EXPECT_TRUE(t.columns[0].auto_increment);
  EXPECT_FALSE(t.columns[0].default_value.has_value());
  EXPECT_EQ(t.columns[1].default_value, std::optional<std::string>("'it''s'"));
  EXPECT_EQ(t.columns[2].default_value, std::optional<std::string>("4.99"));
  EXPECT_TRUE(t.columns[2].invisible);
  EXPECT_FALSE(t.columns[3].default_value.has_value());  // MySQL prints no DEFAULT NULL for TEXT
  EXPECT_EQ(t.columns[4].default_value, std::optional<std::string>("current_timestamp()"));
  EXPECT_EQ(t.columns[4].on_update, "current_timestamp()");
  EXPECT_EQ(t.columns[5].generation_kind, "STORED");
  EXPECT_EQ(t.columns[5].generation_expression, "(`id` * 2)");
  EXPECT_FALSE(t.columns[5].default_value.has_value());
  EXPECT_EQ(t.columns[6].default_value, std::optional<std::string>("NULL"));
  EXPECT_EQ(shop.counts.tables, 1u);
  EXPECT_EQ(shop.schema.not_visible,
            std::vector<std::string>{"sequence `s`: sequences are not represented in the IR yet"});
  EXPECT_EQ(shop.profile_hash, ir::ProfileHash(shop.schema));
}

TEST_F(CatalogBuilderTest, IndexesGroupTheirPartsInKeyOrderAndReadInvisibility) {
  ASSERT_TRUE(
      builder_
          .AddIndexes(Rows("statistics",
                           {"TABLE_SCHEMA", "TABLE_NAME", "INDEX_NAME", "NON_UNIQUE", "SEQ_IN_INDEX", "COLUMN_NAME",
                            "SUB_PART", "COLLATION", "INDEX_TYPE", "INDEX_COMMENT", "IS_VISIBLE", "EXPRESSION"},
                           {{"shop", "t", "k", "1", "2", null, null, "A", "BTREE", "", "NO", "(`a` + 1)"},
                            {"shop", "t", "k", "1", "1", "b", "10", "D", "BTREE", "", "NO", null},
                            {"shop", "t", "PRIMARY", "0", "1", "id", null, "A", "BTREE", "", "YES", null},
                            {"shop", "t", "h", "0", "1", "c", null, null, "HASH", "", "YES", null},
                            {"shop", "t", "f", "1", "1", "c", null, null, "FULLTEXT", "", "YES", null}}))
          .ok());
  const LearnedDatabase shop = Shop();
  ASSERT_EQ(shop.schema.tables.size(), 1u);
  const ir::Table& t = shop.schema.tables[0];
  ASSERT_EQ(t.indexes.size(), 4u);
  EXPECT_EQ(t.indexes[0].name, "PRIMARY");
  EXPECT_EQ(t.indexes[0].algorithm, "");
  EXPECT_EQ(t.indexes[1].kind, "FULLTEXT");
  EXPECT_EQ(t.indexes[2].kind, "UNIQUE");
  EXPECT_EQ(t.indexes[2].algorithm, "HASH");
  const ir::Index& k = t.indexes[3];
  EXPECT_TRUE(k.ignored);
  ASSERT_EQ(k.parts.size(), 2u);
  EXPECT_EQ(k.parts[0].column, "b");
  EXPECT_EQ(k.parts[0].prefix_length, std::optional<uint32_t>(10));
  EXPECT_TRUE(k.parts[0].descending);
  EXPECT_EQ(k.parts[1].column, "");
  EXPECT_EQ(k.parts[1].expression, "(`a` + 1)");
}

TEST_F(CatalogBuilderTest, WhatTheCatalogDoesNotSayIsListedNotGuessed) {
  ASSERT_TRUE(builder_
                  .AddChecks(Rows("checks", {"CONSTRAINT_SCHEMA", "TABLE_NAME", "CONSTRAINT_NAME", "CHECK_CLAUSE"},
                                  {{"shop", "t", "c1", "(`a` > 0)"}}))
                  .ok());
  ASSERT_TRUE(builder_
                  .AddViews(Rows("views",
                                 {"TABLE_SCHEMA", "TABLE_NAME", "VIEW_DEFINITION", "CHECK_OPTION", "DEFINER",
                                  "SECURITY_TYPE", "CHARACTER_SET_CLIENT", "COLLATION_CONNECTION"},
                                 {{"shop", "v", "", "NONE", "app@%", "DEFINER", "utf8mb4", "utf8mb4_0900_ai_ci"}}))
                  .ok());
  ASSERT_TRUE(builder_
                  .AddRoutines(Rows("routines",
                                    {"ROUTINE_SCHEMA", "ROUTINE_NAME", "ROUTINE_TYPE", "DTD_IDENTIFIER",
                                     "CHARACTER_SET_NAME", "COLLATION_NAME", "ROUTINE_DEFINITION", "IS_DETERMINISTIC",
                                     "SQL_DATA_ACCESS", "SECURITY_TYPE", "DEFINER", "ROUTINE_COMMENT", "SQL_MODE"},
                                    {{"shop", "f", "FUNCTION", "varchar(5)", "utf8mb4", "utf8mb4_bin", null, "NO",
                                      "CONTAINS SQL", "DEFINER", "a@%", "", ""}}))
                  .ok());
  ASSERT_TRUE(builder_
                  .AddEvents(Rows("events",
                                  {"EVENT_SCHEMA", "EVENT_NAME", "DEFINER", "EVENT_DEFINITION", "EVENT_TYPE",
                                   "EXECUTE_AT", "INTERVAL_VALUE", "INTERVAL_FIELD", "STARTS", "ENDS", "STATUS",
                                   "ON_COMPLETION", "EVENT_COMMENT", "SQL_MODE"},
                                  {{"shop", "once", "a@%", "DELETE FROM `shop`.`t`", "ONE TIME", "2030-01-01 00:00:00",
                                    null, null, null, null, "ENABLED", "NOT PRESERVE", "", ""},
                                   {"shop", "often", "a@%", "DO 1", "RECURRING", null, "1:30", "HOUR_MINUTE",
                                    "2030-01-01 00:00:00", null, "DISABLED", "PRESERVE", "", ""}}))
                  .ok());
  LearnedDatabase shop = Shop();
  const ir::Table& t = shop.schema.tables[0];
  ASSERT_EQ(t.checks.size(), 1u);
  EXPECT_FALSE(t.checks[0].column_level);
  EXPECT_EQ(shop.schema.routines[0].returns, "varchar(5) CHARSET utf8mb4 COLLATE utf8mb4_bin");
  EXPECT_EQ(shop.schema.routines[0].body, "");
  ASSERT_EQ(shop.schema.events.size(), 2u);
  EXPECT_EQ(shop.schema.events[0].name, "often");  // sorted by name
  EXPECT_EQ(shop.schema.events[0].schedule, "EVERY '1:30' HOUR_MINUTE STARTS '2030-01-01 00:00:00'");
  EXPECT_EQ(shop.schema.events[1].schedule, "AT '2030-01-01 00:00:00'");
  EXPECT_EQ(shop.schema.events[1].body, "DELETE FROM `t`");
  const std::vector<std::string>& hidden = shop.not_visible;
  auto mentions = [&](const std::string& part) {
    for (const auto& line : hidden)
      if (line.find(part) != std::string::npos) return true;
    return false;
  };
  EXPECT_TRUE(mentions("checks: this server's catalog does not say which CHECK constraints were written on a column"));
  EXPECT_TRUE(mentions("views: ALGORITHM is not in this server's catalog"));
  EXPECT_TRUE(mentions("view `v`: definition not visible"));
  EXPECT_TRUE(mentions("FUNCTION `f`: body not visible"));
}

TEST_F(CatalogBuilderTest, ARequiredColumnMissingIsAPackErrorNamingIt) {
  Status st = builder_.AddTriggers(Rows("triggers", {"TRIGGER_SCHEMA", "TRIGGER_NAME"}, {}));
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kPack);
  EXPECT_NE(st.error().message.find("catalog query 'triggers' returned no column EVENT_OBJECT_TABLE"),
            std::string::npos)
      << st.error().message;
}

TEST_F(CatalogBuilderTest, ADatabaseTheSchemataDidNotShowIsNotFound) {
  std::vector<LearnedDatabase> all = builder_.Finish();
  ASSERT_EQ(all.size(), 2u);
  ASSERT_TRUE(all[1].error.has_value());
  EXPECT_EQ(all[1].error->code, ErrorCode::kNotFound);
  EXPECT_NE(all[1].error->message.find("unknown database 'absent'"), std::string::npos);
  EXPECT_EQ(all[0].schema.charset, "utf8mb4");
}

}  // namespace
}  // namespace sqlx::flo
