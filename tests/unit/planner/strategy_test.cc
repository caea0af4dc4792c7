// Strategy choice across capability sets: a table of {name, change, server,
// expected strategy, reason fragment}, the ALGORITHM= clause written into
// the ALTER, foreign keys, non-table operations, the capability JSON, and
// strategies through plan.json.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "sqlx/planner/duration.h"
#include "sqlx/planner/plan.h"
#include "sqlx/planner/strategy.h"

namespace sqlx::planner {
namespace {

ir::Column Col(const std::string& name, uint32_t position, const std::string& type, bool nullable = true) {
  ir::Column c;
  c.name = name;
  c.position = position;
  c.column_type = type;
  c.nullable = nullable;
  if (type.find("char") != std::string::npos || type.find("text") != std::string::npos) {
    c.charset = "utf8mb4";
    c.collation = "utf8mb4_general_ci";
  }
  return c;
}

ir::Database Shop() {
  ir::Database db;
  db.name = "shop";
  db.charset = "utf8mb4";
  db.collation = "utf8mb4_general_ci";
  ir::Table t;
  t.name = "orders";
  t.engine = "InnoDB";
  t.charset = "utf8mb4";
  t.collation = "utf8mb4_general_ci";
  t.columns = {Col("id", 1, "int(11)", false), Col("note", 2, "varchar(20)"), Col("state", 3, "enum('new','paid')"),
               Col("total", 4, "decimal(8,2)")};
  t.indexes = {{"PRIMARY", "PRIMARY", "", {{"id", std::nullopt, false, ""}}, "", false, 1},
               {"by_note", "INDEX", "", {{"note", std::nullopt, false, ""}}, "", false, 2}};
  t.stats.rows_estimate = 1200;
  t.stats.data_length = 65536;
  t.stats.index_length = 16384;
  ir::Table c;
  c.name = "customers";
  c.engine = "InnoDB";
  c.columns = {Col("id", 1, "int(11)", false)};
  c.indexes = {{"PRIMARY", "PRIMARY", "", {{"id", std::nullopt, false, ""}}, "", false, 1}};
  db.tables = {c, t};
  return db;
}

ir::Table& Orders(ir::Database& db) { return db.tables[1]; }

ServerCapabilities MariaDb1011() {
  auto caps = CapabilitiesFromJson(
      R"({"flavor":"MariaDB","version":"10.11.19","version_number":101119,"capabilities":{)"
      R"("instant_add_column":{"value":true},"instant_drop_column":{"value":true},)"
      R"("innodb_instant_alter_column_allowed":{"value":"add_drop_reorder"}}})");
  EXPECT_TRUE(caps.ok());
  return *caps;
}

ServerCapabilities MariaDbAddLast() {
  auto caps = CapabilitiesFromJson(
      R"({"flavor":"MariaDB","version":"10.6.1","version_number":100601,"capabilities":{)"
      R"("instant_add_column":{"value":true},"instant_drop_column":{"value":false},)"
      R"("innodb_instant_alter_column_allowed":{"value":"add_last"}}})");
  EXPECT_TRUE(caps.ok());
  return *caps;
}

ServerCapabilities MySql80() {
  auto caps = CapabilitiesFromJson(
      R"({"flavor":"MySQL","version":"8.0.20","version_number":80020,"capabilities":{)"
      R"("instant_add_column":{"value":true},"instant_drop_column":{"value":false}}})");
  EXPECT_TRUE(caps.ok());
  return *caps;
}

const Operation* Find(const Plan& plan, const std::string& kind, const std::string& object) {
  for (const Operation& op : plan.operations)
    if (op.kind == kind && op.object == object) return &op;
  return nullptr;
}

Plan Planned(const ir::Database& to, const ServerCapabilities& server, const DiffOptions& options = {}) {
  auto plan = Diff(Shop(), to, options);
  EXPECT_TRUE(plan.ok());
  if (!plan.ok()) return {};
  EXPECT_TRUE(ChooseStrategies(Shop(), to, options, server, &*plan).ok());
  return *plan;
}

struct Case {
  const char* name;
  std::function<void(ir::Table&)> change;
  std::function<ServerCapabilities()> server;
  Strategy expected;
  const char* reason;  // a fragment of strategy_reason
};

TEST(StrategyTest, ChoosesPerChangeAndServer) {
  const Case cases[] = {
      {"add column at the end, MariaDB 10.11", [](ir::Table& t) { t.columns.push_back(Col("x", 5, "int(11)")); },
       MariaDb1011, Strategy::kInstant, "add column `x` at the end: instant"},
      {"add column at the end, MySQL 8.0.20", [](ir::Table& t) { t.columns.push_back(Col("x", 5, "int(11)")); },
       MySql80, Strategy::kInstant, "instant_add_column"},
      {"add column first, MariaDB 10.11",
       [](ir::Table& t) { t.columns.insert(t.columns.begin(), Col("x", 1, "int(11)")); }, MariaDb1011,
       Strategy::kInstant, "before the last column: instant"},
      {"add column first, add_last only",
       [](ir::Table& t) { t.columns.insert(t.columns.begin(), Col("x", 1, "int(11)")); }, MariaDbAddLast,
       Strategy::kInplace, "not instant: instant_add_column_anywhere"},
      {"add column first, MySQL 8.0.20",
       [](ir::Table& t) { t.columns.insert(t.columns.begin(), Col("x", 1, "int(11)")); }, MySql80,
       Strategy::kInplace, "instant_add_column_anywhere"},
      {"drop column, MariaDB 10.11", [](ir::Table& t) { t.columns.erase(t.columns.begin() + 3); }, MariaDb1011,
       Strategy::kInstant, "drop column `total`: instant"},
      {"drop column, add_last only", [](ir::Table& t) { t.columns.erase(t.columns.begin() + 3); }, MariaDbAddLast,
       Strategy::kInplace, "instant_drop_column"},
      {"drop column without a server", [](ir::Table& t) { t.columns.erase(t.columns.begin() + 3); },
       DefaultCapabilities, Strategy::kInplace, "no ALGORITHM=INSTANT assumed"},
      {"add column with a FULLTEXT index",
       [](ir::Table& t) {
         t.indexes.push_back({"ft", "FULLTEXT", "", {{"note", std::nullopt, false, ""}}, "", false, 3});
         t.columns.push_back(Col("x", 5, "int(11)"));
       },
       MariaDb1011, Strategy::kCopy, "fulltext"},
      {"default changed", [](ir::Table& t) { t.columns[3].default_value = "0.00"; }, MariaDb1011, Strategy::kInstant,
       "column `total` default: instant"},
      {"varchar widened within 1 length byte", [](ir::Table& t) { t.columns[1].column_type = "varchar(60)"; },
       MariaDb1011, Strategy::kInstant, "same length bytes"},
      {"varchar widened across the length byte", [](ir::Table& t) { t.columns[1].column_type = "varchar(100)"; },
       MariaDb1011, Strategy::kOnlineCopy, "from 1 to 2 bytes"},
      {"varchar widened on MySQL", [](ir::Table& t) { t.columns[1].column_type = "varchar(60)"; }, MySql80,
       Strategy::kInplace, "instant_varchar_widening"},
      {"int to bigint", [](ir::Table& t) { t.columns[0].column_type = "bigint(20)"; }, MariaDb1011,
       Strategy::kOnlineCopy, "a type change copies the table"},
      {"enum value appended", [](ir::Table& t) { t.columns[2].column_type = "enum('new','paid','sent')"; },
       MariaDb1011, Strategy::kInstant, "values appended"},
      {"enum value removed", [](ir::Table& t) { t.columns[2].column_type = "enum('new')"; }, MariaDb1011,
       Strategy::kOnlineCopy, "type change"},
      {"charset conversion",
       [](ir::Table& t) {
         t.columns[1].charset = "latin1";
         t.columns[1].collation = "latin1_swedish_ci";
       },
       MariaDb1011, Strategy::kOnlineCopy, "character set utf8mb4 -> latin1"},
      {"NOT NULL", [](ir::Table& t) { t.columns[3].nullable = false; }, MariaDb1011, Strategy::kInplace,
       "becomes NOT NULL"},
      {"secondary index added",
       [](ir::Table& t) { t.indexes.push_back({"by_total", "INDEX", "", {{"total", std::nullopt, false, ""}}, "", false, 3}); },
       MariaDb1011, Strategy::kInplace, "add index `by_total`: built in place"},
      {"unique key added",
       [](ir::Table& t) { t.indexes.push_back({"u_note", "UNIQUE", "", {{"note", std::nullopt, false, ""}}, "", false, 2}); },
       MariaDb1011, Strategy::kInplace, "add index `u_note`"},
      {"index dropped", [](ir::Table& t) { t.indexes.pop_back(); }, MariaDb1011, Strategy::kInplace,
       "drop index `by_note`"},
      {"primary key changed over a nullable column",
       [](ir::Table& t) { t.indexes[0].parts.push_back({"state", std::nullopt, false, ""}); }, MariaDb1011,
       Strategy::kOnlineCopy, "primary key changed"},
      {"primary key changed over NOT NULL columns",
       [](ir::Table& t) { t.indexes[0].parts[0].descending = true; },  // (`id` DESC): `id` is NOT NULL
       MariaDb1011, Strategy::kInplace, "primary key changed over NOT NULL columns"},
      {"table comment", [](ir::Table& t) { t.comment = "orders"; }, MariaDb1011, Strategy::kInstant,
       "table comment: instant"},
      {"check added", [](ir::Table& t) { t.checks.push_back({"positive", "`total` > 0", false}); }, MariaDb1011,
       Strategy::kOnlineCopy, "check `positive`"},
      {"MyISAM table gets an index",
       [](ir::Table& t) { t.indexes.push_back({"by_total", "INDEX", "", {{"total", std::nullopt, false, ""}}, "", false, 3}); },
       MariaDb1011, Strategy::kCopy, "engine MyISAM"},
      {"MyISAM table default changed", [](ir::Table& t) { t.columns[3].default_value = "0.00"; }, MariaDb1011,
       Strategy::kCopy, "engine MyISAM"},
  };
  for (const Case& c : cases) {
    ir::Database from = Shop(), to = Shop();
    if (std::string(c.name).find("MyISAM") != std::string::npos) Orders(from).engine = Orders(to).engine = "MyISAM";
    c.change(Orders(to));
    auto plan = Diff(from, to);
    ASSERT_TRUE(plan.ok()) << c.name;
    ASSERT_TRUE(ChooseStrategies(from, to, {}, c.server(), &*plan).ok()) << c.name;
    const Operation* op = Find(*plan, "alter_table", "orders");
    ASSERT_NE(op, nullptr) << c.name;
    EXPECT_EQ(StrategyName(op->strategy), std::string(StrategyName(c.expected))) << c.name << ": " << op->strategy_reason;
    EXPECT_NE(op->strategy_reason.find(c.reason), std::string::npos) << c.name << ": " << op->strategy_reason;
    EXPECT_EQ(op->bytes_estimate, 65536u + 16384u) << c.name;
  }
}

TEST(StrategyTest, TheStrongestChangeDecidesAndItsClauseIsWritten) {
  ir::Database to = Shop();
  Orders(to).columns.push_back(Col("x", 5, "int(11)"));  // instant
  Orders(to).columns[3].nullable = false;                 // in place
  Plan plan = Planned(to, MariaDb1011());
  const Operation* op = Find(plan, "alter_table", "orders");
  ASSERT_NE(op, nullptr);
  EXPECT_EQ(op->strategy, Strategy::kInplace);
  EXPECT_NE(op->sql.find(",\n  ALGORITHM=INPLACE, LOCK=NONE"), std::string::npos) << op->sql;
  EXPECT_EQ(op->reverse_sql.find("ALGORITHM"), std::string::npos) << op->reverse_sql;

  to = Shop();
  Orders(to).columns.push_back(Col("x", 5, "int(11)"));
  plan = Planned(to, MariaDb1011());
  op = Find(plan, "alter_table", "orders");
  ASSERT_NE(op, nullptr);
  EXPECT_EQ(op->sql, "ALTER TABLE `orders`\n  ADD COLUMN `x` int(11) NULL AFTER `total`,\n  ALGORITHM=INSTANT")
      << op->sql;
}

TEST(StrategyTest, PartitioningIsACopyWithoutAClauseOnItsOwnStatement) {
  ir::Database to = Shop();
  ir::Partitioning p;
  p.method = "HASH";
  p.expression = "`id`";
  p.partitions = {{"p0", "", "", {}}, {"p1", "", "", {}}};
  Orders(to).partitioning = p;
  const Plan plan = Planned(to, MariaDb1011());
  const Operation* op = Find(plan, "alter_table", "orders");
  ASSERT_NE(op, nullptr);
  EXPECT_EQ(op->strategy, Strategy::kCopy);
  EXPECT_EQ(op->sql.find("ALGORITHM"), std::string::npos) << op->sql;
}

TEST(StrategyTest, ForeignKeysAndOtherOperations) {
  ir::Database to = Shop();
  Orders(to).columns.push_back(Col("customer_id", 5, "int(11)"));
  Orders(to).foreign_keys.push_back({"fk_customer", {"customer_id"}, "", "customers", {"id"}, "RESTRICT", "RESTRICT"});
  ir::Table log;
  log.name = "log";
  log.engine = "InnoDB";
  log.columns = {Col("order_id", 1, "int(11)", false)};
  log.indexes = {{"o", "INDEX", "", {{"order_id", std::nullopt, false, ""}}, "", false, 1}};
  log.foreign_keys.push_back({"fk_log", {"order_id"}, "", "orders", {"id"}, "CASCADE", "CASCADE"});
  to.tables.push_back(log);
  Plan plan = Planned(to, MariaDb1011());
  const Operation* add = Find(plan, "add_foreign_keys", "orders");
  ASSERT_NE(add, nullptr);
  EXPECT_EQ(add->strategy, Strategy::kCopy);
  EXPECT_NE(add->strategy_reason.find("foreign_key_checks=0"), std::string::npos);
  EXPECT_NE(add->sql.find("ALGORITHM=COPY"), std::string::npos);
  EXPECT_TRUE(add->prechecks.empty()) << "customer_id is added by the plan: nothing to check before";
  const Operation* create = Find(plan, "create_table", "log");
  ASSERT_NE(create, nullptr);
  EXPECT_EQ(create->strategy, Strategy::kNone);
  const Operation* log_fk = Find(plan, "add_foreign_keys", "log");
  ASSERT_NE(log_fk, nullptr);
  EXPECT_NE(log_fk->strategy_reason.find("a table this plan creates"), std::string::npos);

  Plan back = ReversePlan(plan);
  for (const Operation& op : back.operations) EXPECT_EQ(op.strategy, Strategy::kUnknown) << op.kind;
}

TEST(StrategyTest, CapabilityJsonIsReadAndBadJsonRefused) {
  const ServerCapabilities m = MariaDb1011();
  EXPECT_TRUE(m.algorithm_instant);
  EXPECT_TRUE(m.instant_add_column_anywhere);
  EXPECT_TRUE(m.instant_varchar_widening);
  EXPECT_NE(m.basis.find("MariaDB 10.11.19"), std::string::npos);
  const ServerCapabilities old = MariaDbAddLast();
  EXPECT_FALSE(old.instant_add_column_anywhere);
  EXPECT_FALSE(old.instant_drop_column);
  EXPECT_FALSE(MySql80().instant_rename_column);
  EXPECT_FALSE(DefaultCapabilities().algorithm_instant);
  EXPECT_FALSE(CapabilitiesFromJson("[]").ok());
  EXPECT_FALSE(CapabilitiesFromJson("{\"flavor\":\"MariaDB\"}").ok());
}

TEST(StrategyTest, StrategiesAndPreChecksSurvivePlanJson) {
  ir::Database to = Shop();
  Orders(to).columns[3].nullable = false;
  Plan plan = Planned(to, MariaDb1011());
  ASSERT_FALSE(plan.operations.empty());
  ASSERT_FALSE(plan.operations[0].prechecks.empty());
  auto back = PlanFromJson(PlanToJson(plan));
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(back->strategy_basis, plan.strategy_basis);
  EXPECT_EQ(back->operations[0].strategy, plan.operations[0].strategy);
  EXPECT_EQ(back->operations[0].strategy_reason, plan.operations[0].strategy_reason);
  EXPECT_EQ(back->operations[0].bytes_estimate, plan.operations[0].bytes_estimate);
  EXPECT_GT(plan.operations[0].duration_estimate_ms, 0u) << "an in-place rebuild of 80 KiB takes some time";
  EXPECT_EQ(back->operations[0].duration_estimate_ms, plan.operations[0].duration_estimate_ms);
  EXPECT_EQ(back->duration_basis, AssumedRewriteRates().basis);
  EXPECT_EQ(back->operations[0].prechecks, plan.operations[0].prechecks);
  EXPECT_FALSE(ChooseStrategies(Shop(), to, {}, MariaDb1011(), &plan).ok()) << "chosen twice";

  std::string text = PlanToJson(plan);
  text.replace(text.find("\"inplace\""), 9, "\"fastest\"");
  auto bad = PlanFromJson(text);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("/operations/0/strategy"), std::string::npos) << bad.error().message;
}

}  // namespace
}  // namespace sqlx::planner
