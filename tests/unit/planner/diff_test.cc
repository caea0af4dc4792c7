// Diff classification, rename hints, ordering and plan.json, on hand-built
// IRs. (tests/integration/plan_diff_test.cc runs real version pairs through
// the server and checks the resulting profile hash.)
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "sqlx/planner/plan.h"

namespace sqlx::planner {
namespace {

ir::Column Col(const std::string& name, uint32_t position, const std::string& type, bool nullable = true) {
  ir::Column c;
  c.name = name;
  c.position = position;
  c.column_type = type;
  c.nullable = nullable;
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
  t.columns = {Col("id", 1, "int(11)", false), Col("note", 2, "varchar(20)"), Col("state", 3, "enum('new','paid')"),
               Col("total", 4, "decimal(8,2)")};
  t.columns[1].charset = "utf8mb4";
  t.columns[1].collation = "utf8mb4_general_ci";
  t.indexes = {{"PRIMARY", "PRIMARY", "", {{"id", std::nullopt, false, ""}}, "", false, 1},
               {"by_note", "INDEX", "", {{"note", std::nullopt, false, ""}}, "", false, 2}};
  t.stats.rows_estimate = 1200;
  db.tables = {t};
  return db;
}

ir::Table& Orders(ir::Database& db) { return db.tables[0]; }

const Operation* Find(const Plan& plan, const std::string& kind, const std::string& object) {
  for (const Operation& op : plan.operations)
    if (op.kind == kind && op.object == object) return &op;
  return nullptr;
}

bool Noted(const Operation& op, const std::string& part) {
  return std::any_of(op.notes.begin(), op.notes.end(), [&](const std::string& n) { return n.find(part) != std::string::npos; });
}

Operation AlterOf(const ir::Database& to) {
  auto plan = Diff(Shop(), to);
  EXPECT_TRUE(plan.ok());
  const Operation* op = plan.ok() ? Find(*plan, "alter_table", "orders") : nullptr;
  EXPECT_NE(op, nullptr);
  return op ? *op : Operation{};
}

TEST(DiffTest, TheSameSchemaGivesAnEmptyPlanEvenUnderAnotherNameOrKeyOrder) {
  ir::Database to = Shop();
  to.name = "shop_copy";
  std::swap(Orders(to).indexes[0].position, Orders(to).indexes[1].position);
  auto plan = Diff(Shop(), to);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->operations.empty());
  EXPECT_EQ(plan->from_hash, plan->to_hash);
}

TEST(DiffTest, WideningIsSafeAndNarrowingIsDestructive) {
  ir::Database to = Shop();
  Orders(to).columns[1].column_type = "varchar(40)";
  Orders(to).columns[3].column_type = "decimal(10,2)";
  EXPECT_EQ(AlterOf(to).op_class, OpClass::kSafe);
  Orders(to).columns[1].column_type = "varchar(10)";
  Operation op = AlterOf(to);
  EXPECT_EQ(op.op_class, OpClass::kDestructive);
  EXPECT_TRUE(Noted(op, "column `note` type varchar(20) -> varchar(10): narrowed"));
  EXPECT_NE(op.sql.find("MODIFY COLUMN `note` varchar(10) CHARACTER SET utf8mb4"), std::string::npos) << op.sql;
  to = Shop();
  Orders(to).columns[3].column_type = "decimal(8,1)";
  EXPECT_EQ(AlterOf(to).op_class, OpClass::kDestructive);
  to = Shop();
  Orders(to).columns[0].column_type = "smallint(6)";
  EXPECT_EQ(AlterOf(to).op_class, OpClass::kDestructive);
}

TEST(DiffTest, EnumValueRemovalIsDestructiveAndAdditionSafe) {
  ir::Database to = Shop();
  Orders(to).columns[2].column_type = "enum('new','paid','shipped')";
  EXPECT_EQ(AlterOf(to).op_class, OpClass::kSafe);
  Orders(to).columns[2].column_type = "enum('new')";
  Operation op = AlterOf(to);
  EXPECT_EQ(op.op_class, OpClass::kDestructive);
  EXPECT_TRUE(Noted(op, "value 'paid' removed"));
  Orders(to).columns[2].column_type = "enum('paid','new')";
  EXPECT_EQ(AlterOf(to).op_class, OpClass::kDataDependent);
}

TEST(DiffTest, NotNullAndNewUniqueKeysDependOnTheData) {
  ir::Database to = Shop();
  Orders(to).columns[1].nullable = false;
  Operation op = AlterOf(to);
  EXPECT_EQ(op.op_class, OpClass::kDataDependent);
  EXPECT_TRUE(Noted(op, "becomes NOT NULL"));
  to = Shop();
  Orders(to).indexes.push_back({"uk_total", "UNIQUE", "", {{"total", std::nullopt, false, ""}}, "", false, 3});
  op = AlterOf(to);
  EXPECT_EQ(op.op_class, OpClass::kDataDependent);
  EXPECT_NE(op.sql.find("ADD UNIQUE KEY `uk_total` (`total`)"), std::string::npos) << op.sql;
}

TEST(DiffTest, CharsetsThatHoldFewerCharactersAreDestructive) {
  ir::Database to = Shop();
  Orders(to).columns[1].charset = "latin1";
  Orders(to).columns[1].collation = "latin1_swedish_ci";
  Operation op = AlterOf(to);
  EXPECT_EQ(op.op_class, OpClass::kDestructive);
  EXPECT_TRUE(Noted(op, "utf8mb4 -> latin1 can lose characters"));
}

TEST(DiffTest, DroppingColumnsTablesAndIndexesIsDestructiveWithAReverse) {
  ir::Database to = Shop();
  Orders(to).columns.pop_back();
  Orders(to).indexes.pop_back();
  Operation op = AlterOf(to);
  EXPECT_EQ(op.op_class, OpClass::kDestructive);
  EXPECT_NE(op.sql.find("DROP INDEX `by_note`"), std::string::npos);
  EXPECT_NE(op.sql.find("DROP COLUMN `total`"), std::string::npos);
  EXPECT_NE(op.reverse_sql.find("ADD COLUMN `total` decimal(8,2) NULL AFTER `state`"), std::string::npos) << op.reverse_sql;
  EXPECT_TRUE(op.reverse_loses_data);
  EXPECT_EQ(op.rows_estimate, 1200u);

  to.tables.clear();
  auto plan = Diff(Shop(), to);
  ASSERT_TRUE(plan.ok());
  const Operation* drop = Find(*plan, "drop_table", "orders");
  ASSERT_NE(drop, nullptr);
  EXPECT_EQ(drop->op_class, OpClass::kDestructive);
  EXPECT_TRUE(Noted(*drop, "about 1200 rows"));
}

TEST(DiffTest, ColumnsAreAddedAndMovedInTheTargetOrder) {
  ir::Database to = Shop();
  ir::Table& t = Orders(to);
  t.columns = {Col("id", 1, "int(11)", false), Col("created", 2, "datetime"), t.columns[2], t.columns[1], t.columns[3]};
  for (uint32_t i = 0; i < t.columns.size(); ++i) t.columns[i].position = i + 1;
  Operation op = AlterOf(to);
  EXPECT_NE(op.sql.find("ADD COLUMN `created` datetime NULL AFTER `id`"), std::string::npos) << op.sql;
  EXPECT_NE(op.sql.find("MODIFY COLUMN `state` enum('new','paid') NULL AFTER `created`"), std::string::npos) << op.sql;
  EXPECT_EQ(op.sql.find("MODIFY COLUMN `total`"), std::string::npos) << "unchanged and in place: " << op.sql;
}

TEST(DiffTest, RenamesComeOnlyFromHints) {
  ir::Database to = Shop();
  Orders(to).columns[1].name = "remark";
  Orders(to).indexes[1].parts[0].column = "remark";
  auto guessed = Diff(Shop(), to);
  ASSERT_TRUE(guessed.ok());
  const Operation* op = Find(*guessed, "alter_table", "orders");
  ASSERT_NE(op, nullptr);
  EXPECT_NE(op->sql.find("DROP COLUMN `note`"), std::string::npos) << "no hint, no rename: " << op->sql;

  DiffOptions hints;
  hints.column_renames["orders"]["note"] = "remark";
  auto renamed = Diff(Shop(), to, hints);
  ASSERT_TRUE(renamed.ok());
  op = Find(*renamed, "alter_table", "orders");
  ASSERT_NE(op, nullptr);
  EXPECT_NE(op->sql.find("CHANGE COLUMN `note` `remark` varchar(20)"), std::string::npos) << op->sql;
  EXPECT_EQ(op->sql.find("DROP COLUMN"), std::string::npos) << op->sql;
  EXPECT_EQ(op->op_class, OpClass::kBackwardIncompatible);

  ir::Database moved = Shop();
  Orders(moved).name = "purchases";
  DiffOptions table_hint;
  table_hint.table_renames["orders"] = "purchases";
  auto plan = Diff(Shop(), moved, table_hint);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->operations.size(), 1u);
  EXPECT_EQ(plan->operations[0].sql, "RENAME TABLE `orders` TO `purchases`");

  DiffOptions wrong;
  wrong.table_renames["nope"] = "purchases";
  auto bad = Diff(Shop(), moved, wrong);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("no table `nope` in the starting schema"), std::string::npos);
}

TEST(DiffTest, ForeignKeysAreDroppedFirstAndAddedLast) {
  ir::Database from = Shop();
  ir::Database to = Shop();
  ir::Table lines;
  lines.name = "lines";
  lines.engine = "InnoDB";
  lines.columns = {Col("order_id", 1, "int(11)", false)};
  lines.foreign_keys = {{"fk_order", {"order_id"}, "", "orders", {"id"}, "RESTRICT", "CASCADE"}};
  to.tables.push_back(lines);
  auto plan = Diff(from, to);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->operations.size(), 2u);
  EXPECT_EQ(plan->operations[0].kind, "create_table");
  EXPECT_EQ(plan->operations[0].sql.find("FOREIGN KEY"), std::string::npos);
  EXPECT_EQ(plan->operations[1].kind, "add_foreign_keys");
  EXPECT_EQ(plan->operations[1].op_class, OpClass::kDataDependent);

  auto back = Diff(to, from);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->operations.size(), 2u);
  EXPECT_EQ(back->operations[0].kind, "drop_foreign_keys");
  EXPECT_EQ(back->operations[1].kind, "drop_table");
}

TEST(DiffTest, PlanJsonRoundTripsAndBadFilesSayWhere) {
  ir::Database to = Shop();
  Orders(to).columns.pop_back();
  auto plan = Diff(Shop(), to);
  ASSERT_TRUE(plan.ok());
  const std::string json = PlanToJson(*plan);
  auto back = PlanFromJson(json);
  ASSERT_TRUE(back.ok()) << back.error().ToString();
  EXPECT_EQ(PlanToJson(*back), json);

  EXPECT_NE(PlanFromJson("[]").error().message.find("not a JSON object"), std::string::npos);
  std::string other = json;
  other.replace(other.find("\"format_version\": 1"), 19, "\"format_version\": 9");
  EXPECT_NE(PlanFromJson(other).error().message.find("/format_version"), std::string::npos);
  std::string bad_class = json;
  bad_class.replace(bad_class.find("\"destructive\""), 13, "\"harmless\"");
  EXPECT_NE(PlanFromJson(bad_class).error().message.find("/operations/0/class"), std::string::npos);
}

TEST(DiffTest, TheReversePlanUndoesNewestFirst) {
  ir::Database to = Shop();
  Orders(to).columns.pop_back();
  ir::View v{"v", "select 1 AS `one`", "UNDEFINED", "DEFINER", "NONE", "root@localhost", "utf8mb4", "utf8mb4_general_ci"};
  to.views.push_back(v);
  auto plan = Diff(Shop(), to);
  ASSERT_TRUE(plan.ok());
  Plan back = ReversePlan(*plan);
  ASSERT_EQ(back.operations.size(), plan->operations.size());
  EXPECT_EQ(back.operations[0].sql, "DROP VIEW `v`");
  EXPECT_EQ(back.operations[0].kind, "drop_view");
  EXPECT_EQ(back.from_hash, plan->to_hash);
}

TEST(DiffTest, AGeneratedColumnTurningStoredIsReCreatedWithItsKeys) {
  // The server cannot MODIFY a column between VIRTUAL and STORED.
  ir::Database from = Shop();
  ir::Column twice = Col("twice", 5, "decimal(9,2)");
  twice.generation_kind = "VIRTUAL";
  twice.generation_expression = "`total` * 2";
  Orders(from).columns.push_back(twice);
  Orders(from).indexes.push_back({"by_twice", "INDEX", "", {{"twice", std::nullopt, false, ""}}, "", false, 3});
  ir::Database to = from;
  Orders(to).columns.back().generation_kind = "STORED";
  auto plan = Diff(from, to);
  ASSERT_TRUE(plan.ok());
  const Operation* op = Find(*plan, "alter_table", "orders");
  ASSERT_NE(op, nullptr);
  EXPECT_EQ(op->sql,
            "ALTER TABLE `orders`\n  DROP INDEX `by_twice`,\n  DROP COLUMN `twice`,\n  ADD COLUMN `twice` decimal(9,2) "
            "GENERATED ALWAYS AS (`total` * 2) STORED AFTER `total`,\n  ADD KEY `by_twice` (`twice`)");
  EXPECT_EQ(op->op_class, OpClass::kSafe) << "a generated column's values are computed again";
  // A plain column becoming generated loses its data.
  ir::Database generated = Shop();
  Orders(generated).columns[3].generation_kind = "STORED";
  Orders(generated).columns[3].generation_expression = "1";
  EXPECT_EQ(AlterOf(generated).op_class, OpClass::kDestructive);
}

TEST(DiffTest, OnlyIgnoringAKeyUsesAlterIndex) {
  // A dropped and re-added key that is otherwise the same keeps its old flag.
  ir::Database to = Shop();
  Orders(to).indexes[1].ignored = true;
  Operation op = AlterOf(to);
  EXPECT_EQ(op.sql, "ALTER TABLE `orders`\n  ALTER INDEX `by_note` IGNORED");
  EXPECT_EQ(op.reverse_sql, "ALTER TABLE `orders`\n  ALTER INDEX `by_note` NOT IGNORED");
  EXPECT_EQ(op.op_class, OpClass::kSafe);
}

TEST(DiffTest, ForeignKeysOnARetypedColumnAreDroppedAndAddedAgain) {
  // The server refuses to change a column a live foreign key joins on.
  ir::Database from = Shop();
  ir::Table lines;
  lines.name = "lines";
  lines.engine = "InnoDB";
  lines.columns = {Col("order_id", 1, "int(11)", false), Col("qty", 2, "int(11)")};
  lines.foreign_keys = {{"fk_order", {"order_id"}, "", "orders", {"id"}, "RESTRICT", "CASCADE"}};
  from.tables.push_back(lines);
  ir::Database to = from;
  Orders(to).columns[0].column_type = "bigint(20)";  // the referenced column
  to.tables[1].columns[0].column_type = "bigint(20)";
  auto plan = Diff(from, to);
  ASSERT_TRUE(plan.ok());
  std::vector<std::string> kinds;
  for (const Operation& op : plan->operations) kinds.push_back(op.kind + " " + op.object);
  EXPECT_EQ(kinds, (std::vector<std::string>{"drop_foreign_keys lines", "alter_table lines", "alter_table orders",
                                             "add_foreign_keys lines"}));
  // Retyping a column no key joins on leaves the key alone.
  ir::Database qty = from;
  qty.tables[1].columns[1].column_type = "bigint(20)";
  plan = Diff(from, qty);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->operations.size(), 1u);
  EXPECT_EQ(plan->operations[0].kind, "alter_table");
}

TEST(DiffTest, AColumnsOwnCheckChangesWithTheColumnNotByDropConstraint) {
  ir::Database from = Shop();
  Orders(from).checks = {{"total", "`total` > 0", true}};
  ir::Database to = Shop();  // the check is gone
  auto plan = Diff(from, to);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->operations.size(), 1u);
  EXPECT_EQ(plan->operations[0].sql, "ALTER TABLE `orders`\n  MODIFY COLUMN `total` decimal(8,2) NULL");
  Orders(to).checks = {{"total", "`total` >= 0", true}};
  plan = Diff(from, to);
  ASSERT_TRUE(plan.ok());
  ASSERT_EQ(plan->operations.size(), 1u);
  EXPECT_EQ(plan->operations[0].sql.find("DROP CONSTRAINT"), std::string::npos) << plan->operations[0].sql;
  EXPECT_NE(plan->operations[0].sql.find("CHECK (`total` >= 0)"), std::string::npos) << plan->operations[0].sql;
}

TEST(DiffTest, AriasImplicitTransactionalOptionIsNotDeclared) {
  // CREATE_OPTIONS shows transactional=1 for every Aria table; SHOW CREATE
  // TABLE shows it only where it was declared.
  ir::Database to = Shop();
  Orders(to).engine = "Aria";
  Orders(to).create_options = "transactional=1";
  EXPECT_EQ(AlterOf(to).sql, "ALTER TABLE `orders`\n  ENGINE=Aria");
  Orders(to).create_options = "transactional=1 page_checksum=0";
  EXPECT_EQ(AlterOf(to).sql, "ALTER TABLE `orders`\n  ENGINE=Aria page_checksum=0");
}

}  // namespace
}  // namespace sqlx::planner
