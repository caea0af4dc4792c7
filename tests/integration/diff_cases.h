// The diff suite's table: each case is a schema before (`from_sql`) and
// after (`to_sql`), both plain SQL the stock client runs in an empty
// database whose defaults are the server's (latin1 / latin1_swedish_ci on the
// test MariaDB). tests/integration/diff_cases_test.cc runs every case.
#pragma once

#include <string>
#include <vector>

namespace sqlx::testing {

struct DiffCase {
  const char* name;      // a gtest name: letters, digits and '_'
  const char* from_sql;  // "" = an empty database
  const char* to_sql;
  bool allow_destructive = false;  // to_sql really drops something: a destructive op is then required
  bool empty_plan = false;         // only formatting differs: the plan must be empty
  // Rename hints, ';'-separated: "t.old=new" renames a column of table t
  // (t: the table's new name), "table old=new" a table.
  const char* renames = "";
  // Why the case cannot pass yet; non-empty skips it (GTEST_SKIP) with this reason.
  const char* skip = "";
};

const std::vector<DiffCase>& DiffCases();

}  // namespace sqlx::testing
