// bench_diff: planner::Diff on two generated schema pairs, 1,000 and 10,000
// tables, against its peer: reading both 10,000-table snapshot files
// (ir::FromJson of the files' text, what `sqlx plan:diff` does before it
// diffs). Each pair's "to" side changes about a third of the tables (columns
// added, dropped, widened, moved; keys, foreign keys, checks and options
// changed), drops and adds tables, and changes views, routines and triggers.
// Prints the 1k and 10k times, their ratio (near-linear: <= 12), and last
//   RESULT diff ours=<s to diff the 10k pair> peer=<s to load both 10k files> ratio=<ours/peer> unit=s
// Usage: bench_diff SMALL_TABLES LARGE_TABLES REPEAT
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "sqlx/messages/ir.h"
#include "sqlx/planner/plan.h"

namespace {

using Clock = std::chrono::steady_clock;
using namespace sqlx;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "bench_diff: %s\n", what.c_str());
  std::exit(1);
}

std::string TableName(int i) { return "table_" + std::to_string(i); }

ir::Column Col(const std::string& name, uint32_t position, const std::string& type, bool nullable,
               std::optional<std::string> default_value = std::nullopt) {
  ir::Column c;
  c.name = name;
  c.position = position;
  c.column_type = type;
  c.nullable = nullable;
  c.default_value = std::move(default_value);
  if (type.find("char") != std::string::npos || type.find("text") != std::string::npos) {
    c.charset = "utf8mb4";
    c.collation = "utf8mb4_general_ci";
  }
  return c;
}

ir::Index Key(const std::string& name, const std::string& kind, std::vector<std::string> columns, uint32_t position) {
  ir::Index index;
  index.name = name;
  index.kind = kind;
  index.position = position;
  for (const std::string& c : columns) index.parts.push_back({c, std::nullopt, false, ""});
  return index;
}

// Table i of the "from" side: 10 columns, a primary key, three secondary
// keys, a foreign key to table i-1 on most, a check on some.
ir::Table MakeTable(int i) {
  ir::Table t;
  t.name = TableName(i);
  t.engine = "InnoDB";
  t.charset = "utf8mb4";
  t.collation = "utf8mb4_general_ci";
  t.comment = i % 3 == 0 ? "table number " + std::to_string(i) : "";
  t.columns = {Col("id", 1, "int(11)", false),
               Col("parent_id", 2, "int(11)", true, "NULL"),
               Col("name", 3, "varchar(64)", false, "''"),
               Col("code", 4, "char(8)", true, "NULL"),
               Col("amount", 5, "decimal(10,2)", false, "0.00"),
               Col("state", 6, "enum('new','open','closed')", false, "'new'"),
               Col("note", 7, "text", true, "NULL"),
               Col("created", 8, "datetime", false, "current_timestamp()"),
               Col("flags", 9, "tinyint(3) unsigned", false, "0"),
               Col("score", 10, "double", true, "NULL")};
  t.columns[0].auto_increment = true;
  t.indexes = {Key("PRIMARY", "PRIMARY", {"id"}, 1), Key("by_code", "UNIQUE", {"code"}, 2),
               Key("by_name", "INDEX", {"name", "state"}, 3), Key("by_parent", "INDEX", {"parent_id"}, 4)};
  if (i > 0 && i % 4 != 0)
    t.foreign_keys = {{"fk_" + std::to_string(i) + "_parent", {"parent_id"}, "", TableName(i - 1), {"id"}, "RESTRICT",
                       "CASCADE"}};
  if (i % 5 == 0) t.checks = {{"amount_positive", "`amount` >= 0", false}};
  t.stats.rows_estimate = static_cast<uint64_t>(i) * 10;
  return t;
}

ir::Database MakeFrom(int tables) {
  ir::Database db;
  db.name = "bench_from";
  db.charset = "utf8mb4";
  db.collation = "utf8mb4_general_ci";
  for (int i = 0; i < tables; ++i) db.tables.push_back(MakeTable(i));
  for (int i = 0; i < tables / 20; ++i) {
    ir::View v;
    v.name = "view_" + std::to_string(i);
    v.definition = "select `id` AS `id`,`name` AS `name` from `" + TableName(i * 20) + "`";
    if (i > 0 && i % 2 == 0) v.definition += " union all select `id`,`name` from `view_" + std::to_string(i - 1) + "`";
    v.algorithm = "UNDEFINED";
    v.security = "DEFINER";
    v.check_option = "NONE";
    v.definer = "root@localhost";
    v.charset = "utf8mb4";
    v.collation = "utf8mb4_general_ci";
    db.views.push_back(v);
  }
  for (int i = 0; i < tables / 50; ++i) {
    ir::Routine r;
    r.name = "proc_" + std::to_string(i);
    r.kind = "PROCEDURE";
    r.parameters = {{"IN", "n", "int(11)"}};
    r.parameter_list = "IN n int";
    r.body = "BEGIN UPDATE `" + TableName(i) + "` SET flags = n; END";
    r.data_access = "CONTAINS SQL";
    r.security = "DEFINER";
    r.definer = "root@localhost";
    db.routines.push_back(r);
    ir::Trigger tr;
    tr.name = "trg_" + std::to_string(i);
    tr.table = TableName(i * 50);
    tr.timing = "BEFORE";
    tr.event = "INSERT";
    tr.order = 1;
    tr.body = "SET NEW.flags = 1";
    tr.definer = "root@localhost";
    db.triggers.push_back(tr);
  }
  return db;
}

// The "to" side: about a third of the tables change, 1% go, 1% are new.
ir::Database MakeTo(const ir::Database& from) {
  ir::Database db = from;
  db.name = "bench_to";
  std::vector<ir::Table> tables;
  const int n = static_cast<int>(from.tables.size());
  for (int i = 0; i < n; ++i) {
    ir::Table t = from.tables[static_cast<size_t>(i)];
    if (i % 100 == 99) continue;  // dropped
    switch (i % 9) {
      case 1: t.columns.push_back(Col("added", 11, "varchar(32)", true, "NULL")); break;
      case 2: t.columns[4].column_type = "decimal(12,2)"; break;
      case 3: t.columns.erase(t.columns.begin() + 6); break;  // note
      case 4: std::swap(t.columns[2], t.columns[3]); break;   // moved
      case 5: t.indexes.push_back(Key("by_created", "INDEX", {"created", "id"}, 5)); break;
      case 6: t.foreign_keys.clear(); break;
      case 7: t.comment = "changed"; t.checks.push_back({"flags_small", "`flags` < 100", false}); break;
      default: break;
    }
    for (size_t p = 0; p < t.columns.size(); ++p) t.columns[p].position = static_cast<uint32_t>(p + 1);
    tables.push_back(std::move(t));
  }
  for (int i = 0; i < n / 100; ++i) tables.push_back(MakeTable(n + i));
  db.tables = std::move(tables);
  for (size_t i = 0; i < db.views.size(); i += 3) db.views[i].definition += " where `id` > 0";
  for (size_t i = 0; i < db.routines.size(); i += 2) db.routines[i].body = "BEGIN UPDATE x SET flags = n + 1; END";
  for (size_t i = 0; i < db.triggers.size(); i += 4) db.triggers[i].body = "SET NEW.flags = 2";
  // Views, routines and triggers of dropped tables go with them.
  std::erase_if(db.triggers, [&](const ir::Trigger& tr) {
    return std::none_of(db.tables.begin(), db.tables.end(), [&](const ir::Table& t) { return t.name == tr.table; });
  });
  ir::Canonicalize(&db);
  return db;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

// The fastest of `repeat` runs of `work`.
template <class F>
double Best(int repeat, F work) {
  double best = 1e9;
  for (int r = 0; r < repeat; ++r) {
    const auto start = Clock::now();
    work();
    best = std::min(best, Seconds(start));
  }
  return best;
}

struct Pair {
  ir::Database from, to;
};

Pair MakePair(int tables) {
  Pair p;
  p.from = MakeFrom(tables);
  ir::Canonicalize(&p.from);
  p.to = MakeTo(p.from);
  return p;
}

double TimeDiff(const Pair& p, int repeat, size_t* operations) {
  return Best(repeat, [&] {
    auto plan = planner::Diff(p.from, p.to);
    if (!plan.ok()) Die("diff failed: " + plan.error().ToString());
    *operations = plan->operations.size();
  });
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) Die("usage: bench_diff SMALL_TABLES LARGE_TABLES REPEAT");
  const int small = std::atoi(argv[1]), large = std::atoi(argv[2]), repeat = std::max(1, std::atoi(argv[3]));
  if (small <= 0 || large <= small) Die("need 0 < SMALL_TABLES < LARGE_TABLES");

  const Pair small_pair = MakePair(small);
  const Pair large_pair = MakePair(large);

  // The peer: the two large snapshot files read and parsed.
  const std::filesystem::path dir = std::filesystem::temp_directory_path() / ("sqlx-bench-diff." + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string from_file = (dir / "from.json").string(), to_file = (dir / "to.json").string();
  std::ofstream(from_file) << ir::ToCanonicalJson(large_pair.from);
  std::ofstream(to_file) << ir::ToCanonicalJson(large_pair.to);
  const double peer = Best(repeat, [&] {
    for (const std::string& file : {from_file, to_file}) {
      auto db = ir::FromJson(ReadFile(file));
      if (!db.ok()) Die("reading " + file + ": " + db.error().ToString());
    }
  });
  const auto from_size = std::filesystem::file_size(from_file), to_size = std::filesystem::file_size(to_file);
  std::filesystem::remove_all(dir);

  size_t small_ops = 0, large_ops = 0;
  // The small pair runs in a tenth of the time: more runs for a best time
  // as steady as the large pair's.
  const double small_s = TimeDiff(small_pair, repeat * 10, &small_ops);
  const double large_s = TimeDiff(large_pair, repeat, &large_ops);
  std::printf("diff %d tables: %.4f s (%zu operations)\n", small, small_s, small_ops);
  std::printf("diff %d tables: %.4f s (%zu operations)\n", large, large_s, large_ops);
  std::printf("load both %d-table snapshot files (%.1f + %.1f MB): %.4f s\n", large, from_size / 1e6, to_size / 1e6,
              peer);
  std::printf("RESULT diff_scaling ours=%.4f peer=%.4f ratio=%.2f unit=s (%dx the tables; target ratio <= 12)\n",
              large_s, small_s, large_s / small_s, large / small);
  std::printf("RESULT diff ours=%.4f peer=%.4f ratio=%.2f unit=s\n", large_s, peer, large_s / peer);
  return 0;
}
