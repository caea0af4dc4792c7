// Pre-check SQL (SQL in, SQL out), consent refusals and statement splitting.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sqlx/planner/guardrails.h"

namespace sqlx::planner {
namespace {

ir::Column Col(const std::string& name, const std::string& type, bool nullable = true,
               const std::string& charset = "") {
  ir::Column c;
  c.name = name;
  c.column_type = type;
  c.nullable = nullable;
  c.charset = charset;
  return c;
}

ir::Table Users() {
  ir::Table t;
  t.name = "users";
  t.columns = {Col("id", "int(11)", false), Col("email", "varchar(100)", true, "utf8mb4"), Col("age", "int(11)"),
               Col("role", "enum('admin','user','guest')"), Col("flags", "set('a','b','c')"),
               Col("price", "decimal(10,2)"), Col("bio", "text", true, "utf8mb4")};
  t.indexes = {{"PRIMARY", "PRIMARY", "", {{"id", std::nullopt, false, ""}}, "", false, 1}};
  return t;
}

std::vector<std::string> Sql(const std::vector<PreCheck>& checks) {
  std::vector<std::string> out;
  for (const PreCheck& c : checks) out.push_back(c.sql);
  return out;
}

struct Case {
  const char* name;
  void (*change)(ir::Table&);
  std::vector<std::string> sql;
};

TEST(GuardrailsTest, PreCheckSqlPerChange) {
  const Case cases[] = {
      {"nothing data-dependent", [](ir::Table& t) { t.columns[2].default_value = "0"; }, {}},
      {"NOT NULL", [](ir::Table& t) { t.columns[2].nullable = false; },
       {"SELECT COUNT(*) FROM `users` WHERE `age` IS NULL"}},
      {"varchar narrowed", [](ir::Table& t) { t.columns[1].column_type = "varchar(40)"; },
       {"SELECT COUNT(*) FROM `users` WHERE CHAR_LENGTH(`email`) > 40"}},
      {"varchar widened", [](ir::Table& t) { t.columns[1].column_type = "varchar(200)"; }, {}},
      {"text to tinytext", [](ir::Table& t) { t.columns[6].column_type = "tinytext"; },
       {"SELECT COUNT(*) FROM `users` WHERE CHAR_LENGTH(`bio`) > 63"}},
      {"int to tinyint", [](ir::Table& t) { t.columns[2].column_type = "tinyint(4)"; },
       {"SELECT COUNT(*) FROM `users` WHERE `age` < -128 OR `age` > 127"}},
      {"int to unsigned", [](ir::Table& t) { t.columns[2].column_type = "int(10) unsigned"; },
       {"SELECT COUNT(*) FROM `users` WHERE `age` < 0 OR `age` > 4294967295"}},
      {"int to bigint", [](ir::Table& t) { t.columns[2].column_type = "bigint(20)"; }, {}},
      {"decimal narrowed", [](ir::Table& t) { t.columns[5].column_type = "decimal(6,2)"; },
       {"SELECT COUNT(*) FROM `users` WHERE ABS(`price`) >= 10000"}},
      {"enum value removed", [](ir::Table& t) { t.columns[3].column_type = "enum('admin','user')"; },
       {"SELECT COUNT(*) FROM `users` WHERE `role` IS NOT NULL AND `role` NOT IN ('admin', 'user')"}},
      {"enum value appended", [](ir::Table& t) { t.columns[3].column_type = "enum('admin','user','guest','x')"; }, {}},
      {"set member removed", [](ir::Table& t) { t.columns[4].column_type = "set('a','c')"; },
       {"SELECT COUNT(*) FROM `users` WHERE FIND_IN_SET('b', `flags`) > 0"}},
      {"new unique key",
       [](ir::Table& t) { t.indexes.push_back({"u_email", "UNIQUE", "", {{"email", std::nullopt, false, ""}}, "", false, 2}); },
       {"SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM `users` WHERE `email` IS NOT NULL GROUP BY "
        "`email` HAVING COUNT(*) > 1) AS sqlx_duplicates"}},
      {"new unique key over a prefix and two columns",
       [](ir::Table& t) {
         t.indexes.push_back({"u", "UNIQUE", "", {{"email", 10u, false, ""}, {"age", std::nullopt, false, ""}}, "", false, 2});
       },
       {"SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM `users` WHERE `email` IS NOT NULL AND `age` "
        "IS NOT NULL GROUP BY LEFT(`email`, 10), `age` HAVING COUNT(*) > 1) AS sqlx_duplicates"}},
      {"unique key implied by the primary key",
       [](ir::Table& t) {
         t.indexes.push_back({"u", "UNIQUE", "", {{"id", std::nullopt, false, ""}, {"age", std::nullopt, false, ""}}, "", false, 2});
       },
       {}},
      {"unique key over a column the plan adds",
       [](ir::Table& t) {
         t.columns.push_back(Col("code", "int(11)"));
         t.indexes.push_back({"u", "UNIQUE", "", {{"code", std::nullopt, false, ""}}, "", false, 2});
       },
       {}},
      {"new check", [](ir::Table& t) { t.checks.push_back({"adult", "`age` >= 18", false}); },
       {"SELECT COUNT(*) FROM `users` WHERE NOT (`age` >= 18)"}},
  };
  for (const Case& c : cases) {
    ir::Table to = Users();
    c.change(to);
    EXPECT_EQ(Sql(TablePreChecks(Users(), to)), c.sql) << c.name;
  }
}

TEST(GuardrailsTest, PreChecksUseTheNamesBeforeARename) {
  ir::Table to = Users();
  to.columns[2].name = "years";
  to.columns[2].nullable = false;
  EXPECT_EQ(Sql(TablePreChecks(Users(), to, {{"years", "age"}})),
            std::vector<std::string>{"SELECT COUNT(*) FROM `users` WHERE `age` IS NULL"});
}

TEST(GuardrailsTest, ForeignKeyPreCheckCountsOrphans) {
  PreCheck c = ForeignKeyPreCheck("fk", "orders", {"customer_id"}, "", "customers", {"id"}, true);
  EXPECT_EQ(c.sql,
            "SELECT COUNT(*) FROM `orders` AS sqlx_c WHERE sqlx_c.`customer_id` IS NOT NULL AND NOT EXISTS (SELECT 1 "
            "FROM `customers` AS sqlx_p WHERE sqlx_p.`id` = sqlx_c.`customer_id`)");
  EXPECT_NE(c.what.find("new foreign key `fk`"), std::string::npos);
  c = ForeignKeyPreCheck("fk", "orders", {"a", "b"}, "other", "p", {"x", "y"}, false);
  EXPECT_EQ(c.sql, "SELECT COUNT(*) FROM `orders` AS sqlx_c WHERE sqlx_c.`a` IS NOT NULL AND sqlx_c.`b` IS NOT NULL");
}

Operation Op(int id, const std::string& kind, const std::string& object, OpClass cls, Strategy s) {
  Operation op;
  op.id = id;
  op.kind = kind;
  op.object = object;
  op.op_class = cls;
  op.strategy = s;
  return op;
}

TEST(GuardrailsTest, RefusalsNameTheFlagThatAllows) {
  Plan plan;
  plan.operations = {Op(1, "alter_table", "a", OpClass::kDestructive, Strategy::kInstant),
                     Op(2, "alter_table", "b", OpClass::kSafe, Strategy::kOnlineCopy),
                     Op(3, "create_table", "c", OpClass::kSafe, Strategy::kNone),
                     Op(4, "add_foreign_keys", "c", OpClass::kDataDependent, Strategy::kCopy),
                     Op(5, "add_foreign_keys", "d", OpClass::kDataDependent, Strategy::kCopy),
                     Op(6, "alter_table", "e", OpClass::kSafe, Strategy::kUnknown),
                     Op(7, "create_view", "v", OpClass::kSafe, Strategy::kUnknown)};
  // Operation 2 (online-copy) runs online: whether the live table allows
  // that is apply's check (OnlineCopyObstacle), not a consent.
  std::vector<std::string> r = Refusals(plan, {});
  ASSERT_EQ(r.size(), 3u);
  EXPECT_NE(r[0].find("1. alter_table a: destructive"), std::string::npos) << r[0];
  EXPECT_NE(r[0].find("--allow-destructive"), std::string::npos);
  EXPECT_NE(r[1].find("5. add_foreign_keys d: blocks writes"), std::string::npos) << r[1];
  EXPECT_NE(r[1].find("--allow-blocking"), std::string::npos);
  EXPECT_NE(r[2].find("6. alter_table e: no strategy chosen"), std::string::npos) << r[2];
  EXPECT_EQ(Refusals(plan, {true, false}).size(), 2u);
  EXPECT_EQ(Refusals(plan, {false, true}).size(), 1u);
  EXPECT_TRUE(Refusals(plan, {true, true}).empty());
}

TEST(GuardrailsTest, DestructiveChangesOfEmptyTablesNeedNoConsent) {
  Plan plan;
  plan.operations = {Op(1, "create_table", "n", OpClass::kSafe, Strategy::kNone),
                     Op(2, "alter_table", "a", OpClass::kDestructive, Strategy::kInstant),
                     Op(3, "drop_table", "b", OpClass::kDestructive, Strategy::kNone),
                     Op(4, "alter_table", "n", OpClass::kDestructive, Strategy::kInstant),
                     Op(5, "alter_table", "a", OpClass::kDestructive, Strategy::kInstant)};
  // Tables to check live: each once, not the one the plan creates.
  EXPECT_EQ(DestructiveTables(plan), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(EmptyTableCheck("we`ird"), "SELECT NOT EXISTS (SELECT 1 FROM `we``ird`)");
  EXPECT_EQ(Refusals(plan, {}).size(), 4u);
  ApplyConsent only_a_empty;
  only_a_empty.empty_tables = {"a"};
  std::vector<std::string> r = Refusals(plan, only_a_empty);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_NE(r[0].find("3. drop_table b: destructive"), std::string::npos) << r[0];
  EXPECT_NE(r[1].find("4. alter_table n: destructive"), std::string::npos) << r[1];
}

TEST(GuardrailsTest, StatementsSplitOutsideBodies) {
  Operation view;
  view.kind = "create_view";
  view.sql = "SET character_set_client = utf8mb4;\nSET collation_connection = utf8mb4_general_ci;\n"
             "CREATE OR REPLACE VIEW `v` AS select ';\nx' AS `a`;\nSET NAMES utf8mb4";
  EXPECT_EQ(OperationStatements(view),
            (std::vector<std::string>{"SET character_set_client = utf8mb4", "SET collation_connection = utf8mb4_general_ci",
                                      "CREATE OR REPLACE VIEW `v` AS select ';\nx' AS `a`", "SET NAMES utf8mb4"}));
  Operation alter;
  alter.kind = "alter_table";
  alter.sql = "ALTER TABLE `t`\n  ADD COLUMN `a` int;\nALTER TABLE `t`\n  REMOVE PARTITIONING";
  EXPECT_EQ(OperationStatements(alter).size(), 2u);
  Operation routine;
  routine.kind = "create_routine";
  routine.sql = "CREATE PROCEDURE `p`()\nBEGIN\n  SELECT 1;\nSELECT 2;\nEND";
  EXPECT_EQ(OperationStatements(routine), std::vector<std::string>{routine.sql});
}

}  // namespace
}  // namespace sqlx::planner
