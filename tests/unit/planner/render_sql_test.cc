// The DDL renderer's choices that the fidelity test (tests/integration/
// fidelity_test.cc, every fixture through a real server) may not reach:
// quoting, defaults, orders with cycles, delimiters, partition forms.
#include "sqlx/planner/render_sql.h"

#include <gtest/gtest.h>

#include <string>

namespace sqlx::planner {
namespace {

ir::Column Col(const std::string& name, uint32_t position, const std::string& type) {
  ir::Column c;
  c.name = name;
  c.position = position;
  c.column_type = type;
  return c;
}

ir::Table TableWithFk(const std::string& name, const std::string& references) {
  ir::Table t;
  t.name = name;
  t.engine = "InnoDB";
  t.columns = {Col("id", 1, "int(11)"), Col("ref", 2, "int(11)")};
  t.columns[0].nullable = false;
  t.indexes = {{"PRIMARY", "PRIMARY", "", {{"id", std::nullopt, false, ""}}, "", false, 1}};
  if (!references.empty()) {
    t.foreign_keys = {{"fk_" + name, {"ref"}, "", references, {"id"}, "NO ACTION", "CASCADE"}};
  }
  return t;
}

size_t At(const std::string& text, const std::string& what) {
  const size_t at = text.find(what);
  EXPECT_NE(at, std::string::npos) << what << " not in:\n" << text;
  return at;
}

TEST(RenderSqlTest, QuotesIdentifiersStringsAndDefiners) {
  EXPECT_EQ(QuoteIdentifier("a`b"), "`a``b`");
  EXPECT_EQ(QuoteString("it's \\ here"), "'it''s \\\\ here'");
  EXPECT_EQ(QuoteString(std::string("a\0b", 3)), "'a\\0b'");
  EXPECT_EQ(QuoteString("it's \\ here", /*no_backslash_escapes=*/true), "'it''s \\ here'");
  EXPECT_EQ(QuoteDefiner("app@10.0.%"), "`app`@`10.0.%`");
  EXPECT_EQ(QuoteDefiner("we@ird@host"), "`we@ird`@`host`");
}

TEST(RenderSqlTest, ColumnsWriteLiteralsBareAndExpressionsInParentheses) {
  ir::Column c = Col("n", 1, "int(11)");
  c.nullable = false;
  c.default_value = "(1 + 1)";
  EXPECT_EQ(RenderColumn(c, {}), "`n` int(11) NOT NULL DEFAULT ((1 + 1))");
  c.default_value = "1 + 1";
  EXPECT_EQ(RenderColumn(c, {}), "`n` int(11) NOT NULL DEFAULT (1 + 1)");
  c.default_value = "-1.5";
  EXPECT_EQ(RenderColumn(c, {}), "`n` int(11) NOT NULL DEFAULT -1.5");
  c.default_value = "b'101'";
  EXPECT_EQ(RenderColumn(c, {}), "`n` int(11) NOT NULL DEFAULT b'101'");
  c.default_value = "'a'' b'";
  EXPECT_EQ(RenderColumn(c, {}), "`n` int(11) NOT NULL DEFAULT 'a'' b'");
  c.default_value = "current_timestamp(3)";
  c.on_update = "current_timestamp(3)";
  EXPECT_EQ(RenderColumn(c, {}), "`n` int(11) NOT NULL DEFAULT current_timestamp(3) ON UPDATE current_timestamp(3)");
  c.default_value = "uuid()";
  c.on_update.clear();
  EXPECT_EQ(RenderColumn(c, {}), "`n` int(11) NOT NULL DEFAULT (uuid())");
  c.default_value.reset();
  c.auto_increment = true;
  c.comment = "x'y";
  EXPECT_EQ(RenderColumn(c, {}), "`n` int(11) NOT NULL AUTO_INCREMENT COMMENT 'x''y'");

  ir::Column g = Col("g", 2, "int(11)");
  g.generation_kind = "STORED";
  g.generation_expression = "`n` * 2";
  g.invisible = true;
  EXPECT_EQ(RenderColumn(g, {{"g", "`g` > 0", true}, {"other", "`n` > 0", false}}),
            "`g` int(11) GENERATED ALWAYS AS (`n` * 2) STORED INVISIBLE CHECK (`g` > 0)");
}

TEST(RenderSqlTest, KeysFollowTheServersOrderWhenKnown) {
  ir::Table t = TableWithFk("t", "");
  t.indexes.push_back({"a_second", "INDEX", "", {{"ref", std::nullopt, true, ""}}, "", true, 3});
  t.indexes.push_back({"z_first", "UNIQUE", "HASH", {{"ref", 8u, false, ""}}, "c", false, 2});
  const std::string sql = RenderCreateTable(t);
  EXPECT_LT(At(sql, "UNIQUE KEY `z_first` (`ref`(8)) USING HASH COMMENT 'c'"),
            At(sql, "KEY `a_second` (`ref` DESC) IGNORED"));
  // Unknown positions: the IR's own (canonical) order.
  for (ir::Index& i : t.indexes) i.position = 0;
  const std::string canonical = RenderCreateTable(t);
  EXPECT_LT(At(canonical, "KEY `a_second`"), At(canonical, "KEY `z_first`"));
}

TEST(RenderSqlTest, TablesComeAfterWhatTheyReferenceAndCyclesStillRender) {
  ir::Database db;
  db.tables = {TableWithFk("a_child", "b_parent"), TableWithFk("b_parent", ""), TableWithFk("c_self", "c_self"),
               TableWithFk("x_cycle", "y_cycle"), TableWithFk("y_cycle", "x_cycle")};
  const std::vector<Statement> s = RenderStatements(db);
  ASSERT_EQ(s.size(), 5u);
  std::vector<std::string> order;
  for (const Statement& st : s) order.push_back(st.name);
  EXPECT_EQ(order, (std::vector<std::string>{"b_parent", "a_child", "c_self", "x_cycle", "y_cycle"}));
  const std::string script = RenderScript(db);
  EXPECT_LT(At(script, "FOREIGN_KEY_CHECKS=0"), At(script, "CREATE TABLE"));
  EXPECT_NE(script.find("CONSTRAINT `fk_x_cycle` FOREIGN KEY (`ref`) REFERENCES `y_cycle` (`id`) ON DELETE CASCADE "
                        "ON UPDATE NO ACTION"),
            std::string::npos);
}

TEST(RenderSqlTest, ViewsComeAfterTheViewsTheyReadAndRoutinesBeforeViews) {
  ir::Database db;
  db.tables = {TableWithFk("t", "")};
  db.views = {{"a_top", "select `m_mid`.`id` AS `id` from `m_mid`", "UNDEFINED", "DEFINER", "CASCADED",
               "root@localhost", "utf8mb4", "utf8mb4_general_ci"},
              {"m_mid", "select `t`.`id` AS `id` from `t`", "MERGE", "INVOKER", "NONE", "root@localhost", "latin1",
               "latin1_swedish_ci"}};
  db.routines = {{"f", "FUNCTION", {}, "", "int(11)", "RETURN 1", true, "NO SQL", "DEFINER", "root@localhost", "",
                  "STRICT_TRANS_TABLES"}};
  const std::string script = RenderScript(db);
  const size_t mid = At(script, "CREATE ALGORITHM=MERGE DEFINER=`root`@`localhost` SQL SECURITY INVOKER VIEW `m_mid`");
  const size_t top = At(script, "VIEW `a_top` AS select `m_mid`.`id` AS `id` from `m_mid` WITH CASCADED CHECK OPTION");
  EXPECT_LT(mid, top);
  EXPECT_LT(At(script, "FUNCTION `f`() RETURNS int(11)"), mid);
  EXPECT_LT(At(script, "SET character_set_client = latin1;\nSET collation_connection = latin1_swedish_ci;"), mid);
}

TEST(RenderSqlTest, BodiesGetADelimiterTheyDoNotHoldAndTheirSqlMode) {
  ir::Database db;
  ir::Routine p{"p", "PROCEDURE", {{"IN", "a", "int(11)"}}, "", "", "BEGIN SELECT ';;'; END", false,
                "READS SQL DATA", "INVOKER", "root@localhost", "it's", "NO_BACKSLASH_ESCAPES"};
  db.routines = {p};
  const std::string script = RenderScript(db);
  EXPECT_NE(script.find("SET sql_mode = 'NO_BACKSLASH_ESCAPES';\nDELIMITER $$\n"), std::string::npos) << script;
  EXPECT_NE(script.find("END$$\nDELIMITER ;\n"), std::string::npos) << script;
  // No parameter_list: written from the parameters.
  EXPECT_NE(script.find("PROCEDURE `p`(IN `a` int(11))\n    COMMENT 'it''s'\n    READS SQL DATA\n    SQL SECURITY INVOKER\n"),
            std::string::npos)
      << script;
  p.parameter_list = "IN a INT";
  EXPECT_NE(RenderCreateRoutine(p).find("PROCEDURE `p`(IN a INT)"), std::string::npos);
}

TEST(RenderSqlTest, TriggersKeepTheWhiteSpaceBeforeTheirBody) {
  ir::Trigger t{"tr", "t", "BEFORE", "INSERT", 1, "SET NEW.a = 1", "root@localhost", ""};
  EXPECT_EQ(RenderCreateTrigger(t),
            "CREATE DEFINER=`root`@`localhost` TRIGGER `tr` BEFORE INSERT ON `t` FOR EACH ROW SET NEW.a = 1");
  t.body = "\nBEGIN END";
  EXPECT_EQ(RenderCreateTrigger(t),
            "CREATE DEFINER=`root`@`localhost` TRIGGER `tr` BEFORE INSERT ON `t` FOR EACH ROW\nBEGIN END");
}

TEST(RenderSqlTest, EventsWriteScheduleCompletionAndStatus) {
  ir::Event e{"ev", "app@%", "DELETE FROM t", "EVERY 1 DAY STARTS '2030-01-01 00:00:00'", "PRESERVE",
              "SLAVESIDE_DISABLED", "nightly", ""};
  EXPECT_EQ(RenderCreateEvent(e),
            "CREATE DEFINER=`app`@`%` EVENT `ev` ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' ON COMPLETION "
            "PRESERVE DISABLE ON SLAVE COMMENT 'nightly' DO DELETE FROM t");
}

TEST(RenderSqlTest, PartitionsAsDeclaredOrAsACount) {
  ir::Partitioning range{"RANGE COLUMNS", "`d`", "", "", {{"p0", "'2020-01-01'", "old", {}}, {"p1", "MAXVALUE", "", {}}}};
  EXPECT_EQ(RenderPartitioning(range, "InnoDB"),
            "PARTITION BY RANGE COLUMNS(`d`)\n(PARTITION `p0` VALUES LESS THAN ('2020-01-01') COMMENT = 'old' ENGINE = "
            "InnoDB,\n PARTITION `p1` VALUES LESS THAN MAXVALUE ENGINE = InnoDB)");
  ir::Partitioning list{"LIST", "`r`", "HASH", "`id`", {{"n", "1,2", "", {"n0", "n1"}}, {"d", "DEFAULT", "", {"d0", "d1"}}}};
  EXPECT_EQ(RenderPartitioning(list, "InnoDB"),
            "PARTITION BY LIST (`r`)\nSUBPARTITION BY HASH (`id`)\n(PARTITION `n` VALUES IN (1,2)\n (SUBPARTITION `n0` "
            "ENGINE = InnoDB,\n  SUBPARTITION `n1` ENGINE = InnoDB),\n PARTITION `d` DEFAULT\n (SUBPARTITION `d0` ENGINE "
            "= InnoDB,\n  SUBPARTITION `d1` ENGINE = InnoDB))");
  ir::Partitioning key{"KEY", "`k`", "", "", {{"p0", "", "", {}}, {"p1", "", "", {}}, {"p2", "", "", {}}}};
  EXPECT_EQ(RenderPartitioning(key, "InnoDB"), "PARTITION BY KEY (`k`)\nPARTITIONS 3");
  key.partitions[1].name = "named";
  EXPECT_NE(RenderPartitioning(key, "InnoDB").find("PARTITION `named` ENGINE = InnoDB"), std::string::npos);
}

TEST(RenderSqlTest, TheScriptCanCreateItsDatabase) {
  ir::Database db;
  db.charset = "utf8mb4";
  db.collation = "utf8mb4_bin";
  ScriptOptions options;
  options.create_database = "new`db";
  options.header = "line one\nline two";
  const std::string script = RenderScript(db, options);
  EXPECT_EQ(script.rfind("-- line one\n-- line two\n", 0), 0u) << script;
  EXPECT_NE(script.find("CREATE DATABASE `new``db` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;\nUSE `new``db`;"),
            std::string::npos);
}

TEST(RenderSqlTest, SpatialKeysHaveNoPrefixAndAriaNoImplicitOption) {
  // The catalog reports SUB_PART 32 for a SPATIAL key part; the server
  // refuses a prefix there.
  ir::Index spatial{"sg", "SPATIAL", "", {{"g", 32u, false, ""}}, "", false, 2};
  EXPECT_EQ(RenderIndex(spatial), "SPATIAL KEY `sg` (`g`)");
  ir::Index prefix{"kb", "INDEX", "", {{"b", 10u, false, ""}}, "", false, 2};
  EXPECT_EQ(RenderIndex(prefix), "KEY `kb` (`b`(10))");
  ir::Table aria;
  aria.name = "log";
  aria.engine = "Aria";
  aria.create_options = "transactional=1 page_checksum=0";
  EXPECT_EQ(DeclaredCreateOptions(aria), "page_checksum=0");
  aria.engine = "MyISAM";
  EXPECT_EQ(DeclaredCreateOptions(aria), "transactional=1 page_checksum=0");
}

}  // namespace
}  // namespace sqlx::planner
