// The diff suite (issue #5): for every case of diff_cases.cc, database A is
// built from from_sql and seeded with rows, database B from to_sql; the plan
// Diff(A, B) is run on A with the stock client. Then A must learn to B's
// profile hash, the server's SHOW CREATE of every object in A must equal B's,
// and every seeded row must still be there in every table and column that
// still exists — a plan that drops and re-creates a table fails. No operation
// may be destructive unless the case allows it (and then one must be).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "diff_cases.h"
#include "schema_fixtures.h"
#include "server_schema.h"
#include "sqlx/planner/plan.h"
#include "sqlx/planner/render_sql.h"

namespace sqlx {
namespace {

using testing::DiffCase;
using testing::RootSql;

constexpr int kSeedRows = 3;

// What a column's type is made of, lowercased: "varchar", {"20"}.
std::string BaseType(const std::string& column_type) {
  std::string base = column_type.substr(0, column_type.find_first_of("( "));
  for (char& c : base) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return base;
}

bool IsGeometry(const std::string& base) {
  static const char* kTypes[] = {"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
                                 "multipolygon", "geometrycollection"};
  return std::any_of(std::begin(kTypes), std::end(kTypes), [&](const char* t) { return base == t; });
}

// Row i's value for `column` as an SQL literal: i in numbers, 'v<i>' in
// strings ('<i>' where only one character fits), the first value of an
// ENUM or SET, a point for geometry, a JSON object where a json_valid check
// guards the column. Equal i gives equal values in every table, so foreign
// keys between seeded columns hold.
std::string SeedValue(const ir::Table& table, const ir::Column& column, int i) {
  const std::string base = BaseType(column.column_type);
  const std::string n = std::to_string(i);
  for (const ir::Check& check : table.checks)
    if (check.column_level && check.name == column.name && check.clause.find("json_valid") != std::string::npos)
      return "'{\"k\": " + n + "}'";
  if (base == "enum" || base == "set") {
    // enum('a','b'): the first quoted value, as written (quotes doubled inside).
    const size_t open = column.column_type.find('(');
    size_t end = open + 2;
    while (end < column.column_type.size() &&
           (column.column_type[end] != '\'' || column.column_type.compare(end, 2, "''") == 0))
      end += column.column_type[end] == '\'' ? 2 : 1;
    return column.column_type.substr(open + 1, end - open);
  }
  if (base == "bit") return column.column_type == "bit(1)" ? std::to_string(i % 2) : n;
  if (base == "year") return std::to_string(2000 + i);
  if (base == "date") return "'2024-01-0" + n + "'";
  if (base == "datetime" || base == "timestamp") return "'2024-01-0" + n + " 10:00:00'";
  if (base == "time") return "'10:00:0" + n + "'";
  if (IsGeometry(base)) return "ST_GeomFromText('POINT(" + n + " " + n + ")')";
  static const char* kNumbers[] = {"tinyint", "smallint", "mediumint", "int", "integer", "bigint", "decimal",
                                   "numeric", "float", "double", "real"};
  if (std::any_of(std::begin(kNumbers), std::end(kNumbers), [&](const char* t) { return base == t; })) return n;
  const size_t open = column.column_type.find('(');
  const bool one_char = open != std::string::npos && std::atoi(column.column_type.c_str() + open + 1) < 2;
  return one_char ? "'" + n + "'" : "'v" + n + "'";
}

bool Seeded(const ir::Column& c) { return c.generation_kind.empty(); }

// INSERTs of kSeedRows rows into every table (foreign key checks off: the
// rows agree with each other, the insert order does not matter).
std::string SeedSql(const ir::Database& db) {
  std::string sql = "SET FOREIGN_KEY_CHECKS=0;\n";
  for (const ir::Table& t : db.tables) {
    std::string columns;
    for (const ir::Column& c : t.columns)
      if (Seeded(c)) columns += (columns.empty() ? "" : ", ") + planner::QuoteIdentifier(c.name);
    if (columns.empty()) continue;
    sql += "INSERT INTO " + planner::QuoteIdentifier(t.name) + " (" + columns + ") VALUES ";
    for (int i = 1; i <= kSeedRows; ++i) {
      std::string values;
      for (const ir::Column& c : t.columns)
        if (Seeded(c)) values += (values.empty() ? "" : ", ") + SeedValue(t, c, i);
      sql += (i > 1 ? ", (" : "(") + values + ")";
    }
    sql += ";\n";
  }
  return sql;
}

// Rows of some tables: table → sorted rows, each row its cells as the
// client prints them (tab-separated; geometry as WKT).
using Rows = std::map<std::string, std::vector<std::vector<std::string>>>;
using ColumnsOf = std::map<std::string, std::vector<std::string>>;  // table → the columns to read

Rows ReadRows(const std::string& db, const ColumnsOf& columns_of, const ir::Database& schema) {
  std::string sql;
  std::vector<std::string> order;
  for (const auto& [table, columns] : columns_of) {
    const ir::Table* t = nullptr;
    for (const ir::Table& x : schema.tables)
      if (x.name == table) t = &x;
    std::string select;
    for (const std::string& name : columns) {
      std::string cell = planner::QuoteIdentifier(name);
      for (const ir::Column& c : t->columns)
        if (c.name == name && IsGeometry(BaseType(c.column_type))) cell = "ST_AsText(" + cell + ")";
      select += (select.empty() ? "" : ", ") + cell;
    }
    sql += "SELECT '#rows'; SELECT " + (select.empty() ? std::string("1") : select) + " FROM " +
           planner::QuoteIdentifier(table) + ";\n";
    order.push_back(table);
  }
  Rows rows;
  if (sql.empty()) return rows;
  std::istringstream out(RootSql(sql, db));
  std::string line;
  auto next = order.begin();
  std::vector<std::vector<std::string>>* current = nullptr;
  while (std::getline(out, line)) {
    if (line == "#rows") {
      current = &rows[*next++];
      continue;
    }
    std::vector<std::string> cells;
    std::istringstream fields(line);
    std::string cell;
    while (std::getline(fields, cell, '\t')) cells.push_back(cell);
    if (!line.empty() && line.back() == '\t') cells.emplace_back();
    if (current != nullptr) current->push_back(cells);
  }
  for (auto& [table, list] : rows) std::sort(list.begin(), list.end());
  return rows;
}

// The same value read before and after a type change: equal text, equal
// numbers (1 → 1.00), or a time gaining fractional digits.
bool SameValue(const std::string& before, const std::string& after) {
  if (before == after) return true;
  char* end_a = nullptr;
  char* end_b = nullptr;
  const double a = std::strtod(before.c_str(), &end_a), b = std::strtod(after.c_str(), &end_b);
  if (!before.empty() && !after.empty() && *end_a == '\0' && *end_b == '\0') return a == b;
  return after.size() > before.size() && after.compare(0, before.size(), before) == 0 && after[before.size()] == '.' &&
         after.find_first_not_of('0', before.size() + 1) == std::string::npos;
}

struct Hints {
  planner::DiffOptions options;
  std::map<std::string, std::string> table_new;  // old name → new name
};

Hints ParseRenames(const std::string& text) {
  Hints hints;
  std::istringstream parts(text);
  std::string part;
  while (std::getline(parts, part, ';')) {
    const size_t eq = part.find('=');
    if (part.rfind("table ", 0) == 0) {
      const std::string old_name = part.substr(6, eq - 6), new_name = part.substr(eq + 1);
      hints.options.table_renames[old_name] = new_name;
      hints.table_new[old_name] = new_name;
    } else {
      const size_t dot = part.find('.');
      hints.options.column_renames[part.substr(0, dot)][part.substr(dot + 1, eq - dot - 1)] = part.substr(eq + 1);
    }
  }
  return hints;
}

// What became of the rows read `before` (of `seeded_columns`) in `db`,
// whose schema is now `after`: one line per table whose rows were lost or
// added, and per value that changed, in every table and column that still
// exists (under its new name where `hints` rename it). Empty when all is well.
std::vector<std::string> RowsLost(const std::string& db, const Rows& before, const ColumnsOf& seeded_columns,
                                  const Hints& hints, const ir::Database& after) {
  std::vector<std::string> problems;
  ColumnsOf kept_before, kept_after;
  auto new_name = [&](const std::string& table) {
    const auto renamed = hints.table_new.find(table);
    return renamed == hints.table_new.end() ? table : renamed->second;
  };
  for (const auto& [table, columns] : seeded_columns) {
    const std::string now = new_name(table);
    const ir::Table* t = nullptr;
    for (const ir::Table& x : after.tables)
      if (x.name == now) t = &x;
    if (t == nullptr) continue;  // dropped (the case allows it)
    const auto col_hints = hints.options.column_renames.find(now);
    for (const std::string& column : columns) {
      std::string column_now = column;
      if (col_hints != hints.options.column_renames.end() && col_hints->second.count(column))
        column_now = col_hints->second.at(column);
      for (const ir::Column& col : t->columns) {
        if (col.name != column_now || !Seeded(col)) continue;
        kept_before[table].push_back(column);
        kept_after[now].push_back(column_now);
      }
    }
    kept_before[table];  // a table whose columns all went still keeps its rows
    kept_after[now];
  }
  const Rows now_rows = ReadRows(db, kept_after, after);
  for (const auto& [table, columns] : kept_before) {
    const std::string now = new_name(table);
    const auto& was = before.at(table);
    const auto found = now_rows.find(now);
    const size_t count = found == now_rows.end() ? 0 : found->second.size();
    if (count != was.size()) {
      problems.push_back("rows of `" + now + "` lost or added: " + std::to_string(was.size()) + " rows before, " +
                         std::to_string(count) + " after");
      continue;
    }
    // Project the rows read before onto the surviving columns, then compare.
    const std::vector<std::string>& all = seeded_columns.at(table);
    std::vector<std::vector<std::string>> projected;
    for (const auto& row : was) {
      std::vector<std::string> cells;
      for (const std::string& column : columns)
        cells.push_back(row.at(static_cast<size_t>(std::find(all.begin(), all.end(), column) - all.begin())));
      projected.push_back(cells);
    }
    std::sort(projected.begin(), projected.end());
    const auto& is = found->second;
    for (size_t r = 0; r < projected.size() && !columns.empty(); ++r) {
      for (size_t k = 0; k < projected[r].size(); ++k) {
        const std::string value = k < is[r].size() ? is[r][k] : "(missing)";
        if (!SameValue(projected[r][k], value))
          problems.push_back("`" + now + "`.`" + kept_after[now][k] + "` row " + std::to_string(r) + ": " +
                             projected[r][k] + " -> " + value);
      }
    }
  }
  return problems;
}

std::string LoadSql(const std::string& db, const std::string& sql) {
  return testing::RunClientScript(db, sql, {"--init-command=SET FOREIGN_KEY_CHECKS=0"});
}

}  // namespace
}  // namespace sqlx

namespace sqlx::testing {
void PrintTo(const DiffCase& c, std::ostream* os) { *os << c.name; }
}  // namespace sqlx::testing

namespace sqlx {
namespace {

class DiffCasesTest : public ::testing::TestWithParam<DiffCase> {};

TEST_P(DiffCasesTest, ThePlanReachesTheDesiredSchemaAndKeepsTheRows) {
  const DiffCase& c = GetParam();
  if (*c.skip) GTEST_SKIP() << c.skip;
  testing::FixtureDatabases fx;
  const std::string a = fx.Create("dc_from"), b = fx.Create("dc_to");
  ASSERT_EQ(LoadSql(a, c.from_sql), "") << "from_sql";
  ASSERT_EQ(LoadSql(b, c.to_sql), "") << "to_sql";
  const std::vector<flo::LearnedDatabase> learned = testing::LearnAsRoot({a, b});
  const ir::Database& from = learned[0].schema;
  const ir::Database& to = learned[1].schema;
  ASSERT_FALSE(from.collation.empty());
  ASSERT_FALSE(to.collation.empty());

  // Seed A and read back what every table holds.
  ASSERT_EQ(testing::RunClientScript(a, SeedSql(from)), "") << SeedSql(from);
  ColumnsOf seeded_columns;
  for (const ir::Table& t : from.tables)
    for (const ir::Column& col : t.columns)
      if (Seeded(col)) seeded_columns[t.name].push_back(col.name);
  const Rows before = ReadRows(a, seeded_columns, from);

  const Hints hints = ParseRenames(c.renames);
  auto plan = planner::Diff(from, to, hints.options);
  ASSERT_TRUE(plan.ok()) << plan.error().ToString();
  const std::string script = planner::PlanScript(*plan);
  if (c.empty_plan) {
    EXPECT_TRUE(plan->operations.empty()) << "only formatting differs, yet:\n" << script;
    EXPECT_EQ(learned[0].profile_hash, learned[1].profile_hash);
  } else {
    EXPECT_FALSE(plan->operations.empty()) << "the schemas differ";
  }
  bool destructive = false;
  for (const planner::Operation& op : plan->operations) {
    destructive = destructive || op.op_class == planner::OpClass::kDestructive;
    if (!c.allow_destructive) {
      EXPECT_NE(op.op_class, planner::OpClass::kDestructive) << op.kind << " " << op.object << ": " << op.sql;
    }
  }
  if (c.allow_destructive) {
    EXPECT_TRUE(destructive) << "the case drops something, the plan says it does not:\n" << script;
  }

  const std::string error = testing::RunClientScript(a, script);
  ASSERT_EQ(error, "") << "--- script:\n" << script;

  const ir::Database after = testing::LearnAsRoot({a})[0].schema;
  EXPECT_EQ(ir::ProfileHash(after), learned[1].profile_hash) << "--- script:\n" << script;
  auto rest = planner::Diff(after, to);
  ASSERT_TRUE(rest.ok());
  for (const planner::Operation& op : rest->operations)
    ADD_FAILURE() << "left after the plan: " << op.kind << " " << op.object << ": " << op.sql;
  EXPECT_EQ(testing::ShowCreateAll(a), testing::ShowCreateAll(b)) << "--- script:\n" << script;

  for (const std::string& problem : RowsLost(a, before, seeded_columns, hints, after)) ADD_FAILURE() << problem;
}

// The row check itself: a "plan" that drops and re-creates a table, or that
// changes a value, must fail it.
TEST(DiffCasesHarnessTest, TheRowCheckCatchesARecreatedTableAndAChangedValue) {
  testing::FixtureDatabases fx;
  const std::string a = fx.Create("dc_rows");
  ASSERT_EQ(LoadSql(a, "CREATE TABLE t (id int NOT NULL PRIMARY KEY, a int, b varchar(20))"), "");
  const ir::Database from = testing::LearnAsRoot({a})[0].schema;
  ASSERT_EQ(testing::RunClientScript(a, SeedSql(from)), "");
  const ColumnsOf columns = {{"t", {"id", "a", "b"}}};
  const Rows before = ReadRows(a, columns, from);
  EXPECT_EQ(RowsLost(a, before, columns, {}, from), std::vector<std::string>{});

  ASSERT_EQ(testing::RunClientScript(a, "UPDATE t SET b = 'x' WHERE id = 2"), "");
  EXPECT_EQ(RowsLost(a, before, columns, {}, from).size(), 1u);
  ASSERT_EQ(testing::RunClientScript(a, "DROP TABLE t; CREATE TABLE t (id int NOT NULL PRIMARY KEY, a int, b varchar(20))"),
            "");
  const std::vector<std::string> lost = RowsLost(a, before, columns, {}, testing::LearnAsRoot({a})[0].schema);
  ASSERT_EQ(lost.size(), 1u);
  EXPECT_NE(lost[0].find("3 rows before, 0 after"), std::string::npos) << lost[0];
}

INSTANTIATE_TEST_SUITE_P(Cases, DiffCasesTest, ::testing::ValuesIn(testing::DiffCases()),
                         [](const ::testing::TestParamInfo<DiffCase>& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace sqlx
