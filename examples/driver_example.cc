// The C++ driver in a few lines (docs/driver.md): connect to $SQLX_URL,
// ping, snapshot the database named by argv[1], show its profile hash and
// the start of its rendered SQL, and diff it against itself; then plan and
// apply a small change (a new table, added to the IR) and apply the plan
// back, which leaves the database as it was. It changes the database: give
// it a scratch one.
//
//   SQLX_URL=mysql://app@127.0.0.1:3306 SQLX_PASSWORD=... driver_example scratch
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>

#include "sqlx/driver.h"

namespace {

int Fail(const sqlx::Error& error) {
  std::cerr << "driver_example: " << error.ToString() << "\n";
  return 1;
}

// `db` with one more table: driver_example_notes (name varchar(64) PRIMARY
// KEY, note varchar(200)), in the database's default character set.
sqlx::ir::Database WithNotesTable(sqlx::ir::Database db) {
  sqlx::ir::Table notes;
  notes.name = "driver_example_notes";
  notes.engine = "InnoDB";
  notes.charset = db.charset;
  notes.collation = db.collation;
  notes.columns.push_back({.name = "name", .position = 1, .column_type = "varchar(64)", .nullable = false,
                           .charset = db.charset, .collation = db.collation});
  notes.columns.push_back({.name = "note", .position = 2, .column_type = "varchar(200)", .default_value = "NULL",
                           .charset = db.charset, .collation = db.collation});
  notes.indexes.push_back({.name = "PRIMARY", .kind = "PRIMARY", .parts = {{.column = "name"}}, .position = 1});
  db.tables.push_back(std::move(notes));
  sqlx::ir::Canonicalize(&db);
  return db;
}

// Plans `from` -> `to` for this server and applies it: 0 when applied, else
// 1 (and why on stderr).
int PlanAndApply(sqlx::Driver& driver, const std::string& label, const sqlx::ir::Database& from,
                  const sqlx::ir::Database& to) {
  auto plan = driver.Diff(from, to);
  if (!plan.ok()) return Fail(plan.error());
  for (const sqlx::planner::Operation& op : plan->operations)
    std::cout << label << ": " << op.id << ". " << op.kind << " " << op.object << " ["
              << sqlx::planner::OpClassName(op.op_class) << ", " << sqlx::planner::StrategyName(op.strategy) << "]\n";
  sqlx::ApplyOptions options;
  options.database = from.name;
  auto report = driver.Apply(*plan, options);  // no store: no snapshots kept, no audit events
  if (!report.ok()) return Fail(report.error());
  std::cout << label << ": " << sqlx::ApplyResultName(report->result) << ", " << report->applied.size()
            << " operation(s), profile hash " << report->live_hash << "\n";
  if (report->result == sqlx::ApplyResult::kApplied) return 0;
  for (const std::string& refusal : report->refusals) std::cerr << "  " << refusal << "\n";
  return report->error ? Fail(*report->error) : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const char* url = std::getenv("SQLX_URL");
  if (url == nullptr || argc != 2) {
    std::cerr << "usage: SQLX_URL=mysql://user@host:port [SQLX_PASSWORD=...] driver_example DATABASE\n";
    return 2;
  }
  auto driver = sqlx::CreateDriver(url);  // the password: from the URL, else $SQLX_PASSWORD
  if (!driver.ok()) return Fail(driver.error());

  auto ping = (*driver)->Ping();
  if (!ping.ok()) return Fail(ping.error());
  std::cout << "server: " << ping->flavor << " " << ping->version << " (tls "
            << (ping->tls.active ? ping->tls.version : "off") << ", rtt " << ping->rtt.count() << " ms)\n";

  auto snapshot = (*driver)->Snapshot(argv[1]);
  if (!snapshot.ok()) return Fail(snapshot.error());
  std::cout << "profile hash: " << snapshot->profile_hash << "\n";

  const std::string script = (*driver)->RenderSql(snapshot->schema);
  std::cout << "rendered SQL: " << std::count(script.begin(), script.end(), '\n') << " lines\n";
  std::istringstream sql(script);
  std::string line;
  for (int shown = 0; shown < 5 && std::getline(sql, line);) {
    if (line.empty() || line.starts_with("/*!")) continue;  // the script's session settings
    std::cout << "  " << line << "\n";
    ++shown;
  }

  auto plan = (*driver)->Diff(snapshot->schema, snapshot->schema);
  if (!plan.ok()) return Fail(plan.error());
  std::cout << "operations: " << plan->operations.size() << "\n";

  // A change: the IR with a new table, planned and applied; then back. The
  // way back drops the table, which is destructive, but the table is empty:
  // Apply checks that live and needs no allow_destructive for it.
  const sqlx::ir::Database desired = WithNotesTable(snapshot->schema);
  if (int failed = PlanAndApply(**driver, "apply", snapshot->schema, desired)) return failed;
  if (int failed = PlanAndApply(**driver, "undo", desired, snapshot->schema)) return failed;

  (*driver)->Close();
  return 0;
}
