// One table's diff: the ALTER TABLE clauses that take a table from one IR
// to another (diff_internal.h; docs/formats/plan.md). diff.cc orders them with
// every other operation into the plan.
#include <algorithm>
#include <cctype>
#include <functional>

#include "column_types.h"
#include "diff_internal.h"
#include "sqlx/planner/render_sql.h"

namespace sqlx::planner::internal {

namespace {

// ---- Type changes ------------------------------------------------------------

int Rank(const std::string& base, const std::vector<std::string>& family) {
  auto it = std::find(family.begin(), family.end(), base);
  return it == family.end() ? -1 : static_cast<int>(it - family.begin());
}

// Classifies a column type change; returns the class and a note.
std::pair<OpClass, std::string> TypeChange(const std::string& column, const std::string& from, const std::string& to) {
  const ColumnType a = ParseColumnType(from), b = ParseColumnType(to);
  const std::string what = "column `" + column + "` type " + from + " -> " + to;
  static const std::vector<std::string> kInts = {"tinyint", "smallint", "mediumint", "int", "bigint"};
  static const std::vector<std::string> kTexts = {"tinytext", "text", "mediumtext", "longtext"};
  static const std::vector<std::string> kBlobs = {"tinyblob", "blob", "mediumblob", "longblob"};
  for (const auto* family : {&kInts, &kTexts, &kBlobs}) {
    const int ra = Rank(a.base, *family), rb = Rank(b.base, *family);
    if (ra >= 0 && rb >= 0) {
      if (rb < ra || (family == &kInts && a.is_unsigned != b.is_unsigned))
        return {OpClass::kDestructive, what + ": narrowed (values out of range are lost)"};
      return {OpClass::kSafe, ""};
    }
  }
  const bool a_chars = a.base == "varchar" || a.base == "char", b_chars = b.base == "varchar" || b.base == "char";
  if (a_chars && b_chars) {
    if (!a.args.empty() && !b.args.empty() && LeadingNumber(b.args[0]) < LeadingNumber(a.args[0]))
      return {OpClass::kDestructive, what + ": narrowed (longer values are cut)"};
    return {OpClass::kSafe, ""};
  }
  if (a_chars && Rank(b.base, kTexts) >= 0) return {OpClass::kSafe, ""};
  if (a.base == b.base && (a.base == "decimal" || a.base == "numeric")) {
    const uint64_t ap = a.args.empty() ? 10 : LeadingNumber(a.args[0]), bp = b.args.empty() ? 10 : LeadingNumber(b.args[0]);
    const uint64_t as = a.args.size() > 1 ? LeadingNumber(a.args[1]) : 0, bs = b.args.size() > 1 ? LeadingNumber(b.args[1]) : 0;
    if (bs < as || bp - bs < ap - as) return {OpClass::kDestructive, what + ": narrowed (digits are lost)"};
    return {OpClass::kSafe, ""};
  }
  if (a.base == b.base && (a.base == "enum" || a.base == "set")) {
    for (const std::string& value : a.args) {
      if (std::find(b.args.begin(), b.args.end(), value) == b.args.end())
        return {OpClass::kDestructive, what + ": value " + value + " removed"};
    }
    for (size_t i = 0; i < a.args.size(); ++i) {
      if (b.args[i] != a.args[i]) return {OpClass::kDataDependent, what + ": values reordered (stored numbers change)"};
    }
    return {OpClass::kSafe, ""};
  }
  return {OpClass::kDataDependent, what + ": a conversion the live data must allow"};
}

// Character sets by the characters they hold: a change to one that holds
// fewer may lose characters.
int CharsetBreadth(const std::string& charset) {
  const std::string c = LowerAscii(charset);
  if (c == "utf8mb4" || c == "utf16" || c == "utf16le" || c == "utf32") return 3;
  if (c == "utf8mb3" || c == "utf8" || c == "ucs2") return 2;
  if (c == "binary") return 4;
  return 1;
}

// ---- Tables ------------------------------------------------------------------

// What differs between two versions of a column, for the summary.
std::string ColumnChanges(const ir::Column& a, const ir::Column& b) {
  std::vector<std::string> parts;
  auto text = [](const std::optional<std::string>& v) { return v ? *v : std::string("none"); };
  if (a.column_type != b.column_type) parts.push_back(a.column_type + " -> " + b.column_type);
  if (a.nullable != b.nullable) parts.push_back(b.nullable ? "NULL allowed" : "NOT NULL");
  if (a.default_value != b.default_value) parts.push_back("default " + text(a.default_value) + " -> " + text(b.default_value));
  if (a.charset != b.charset || a.collation != b.collation) parts.push_back("collation " + (a.collation.empty() ? "none" : a.collation) + " -> " + (b.collation.empty() ? "none" : b.collation));
  if (a.auto_increment != b.auto_increment) parts.push_back(b.auto_increment ? "AUTO_INCREMENT" : "no AUTO_INCREMENT");
  if (a.on_update != b.on_update) parts.push_back("on update " + (b.on_update.empty() ? "none" : b.on_update));
  if (a.generation_kind != b.generation_kind || a.generation_expression != b.generation_expression) parts.push_back("generation changed");
  if (a.invisible != b.invisible) parts.push_back(b.invisible ? "INVISIBLE" : "visible");
  if (a.comment != b.comment) parts.push_back("comment changed");
  std::string out;
  for (const std::string& p : parts) out += (out.empty() ? ": " : ", ") + p;
  return out;
}



std::map<std::string, std::string> CreateOptions(const std::string& text) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string token = text.substr(start, end - start);
    const size_t eq = token.find('=');
    if (!token.empty()) out[LowerAscii(token.substr(0, eq))] = token;
    start = end + 1;
  }
  return out;
}

// The two differ in nothing but being IGNORED (ALTER INDEX … [NOT] IGNORED:
// the server keeps a dropped and re-added key that is otherwise the same,
// with its old flag).
bool OnlyIgnoredDiffers(ir::Index a, ir::Index b) {
  a.ignored = b.ignored;
  a.position = b.position;
  return a == b;
}

// a == b but for `position` (not schema) and, with `ignore_name`, the name
// (a renamed column). Compared in place when those agree already, the usual
// case: copying every column and key of every table twice was most of a
// large diff's time.
template <class T>
bool SameExceptPlace(const T& a, const T& b, bool ignore_name = false) {
  if (a.position == b.position && (!ignore_name || a.name == b.name)) return a == b;
  T x = a, y = b;
  x.position = y.position = 0;
  if (ignore_name) x.name = y.name;
  return x == y;
}

// `renames`: new column name → old column name. `rebuilt_fks`: foreign keys
// to drop and add again although unchanged (a column they join on changes
// type: the server refuses that under a live foreign key).
}  // namespace

TableDiff DiffTable(const ir::Table& from, const ir::Table& to, const std::map<std::string, std::string>& renames,
                    const std::set<std::string>& rebuilt_fks) {
  TableDiff d;
  Operation& op = d.op;
  auto old_name = [&](const std::string& name) {
    auto it = renames.find(name);
    return it == renames.end() ? name : it->second;
  };
  const NameIndex<ir::Column> from_columns(from.columns);
  // A column that turns between plain, VIRTUAL and STORED cannot be modified
  // in place (the server: "not yet supported for generated columns"): it is
  // dropped and added again, and so are the keys on it.
  std::set<std::string> recreated;  // new names
  for (const ir::Column& c : to.columns) {
    const ir::Column* was = from_columns.Find(old_name(c.name));
    if (was != nullptr && was->generation_kind != c.generation_kind) recreated.insert(c.name);
  }
  auto touches_recreated = [&](const ir::Index& index) {
    return std::any_of(index.parts.begin(), index.parts.end(),
                       [&](const ir::IndexPart& part) { return recreated.count(part.column) > 0; });
  };
  std::set<std::string> kept_old;
  for (const ir::Column& c : to.columns)
    if (!recreated.count(c.name)) kept_old.insert(old_name(c.name));

  // Foreign keys: dropped when gone or changed, added when new or changed.
  const NameIndex<ir::ForeignKey> from_fks(from.foreign_keys), to_fks(to.foreign_keys);
  for (const ir::ForeignKey& fk : from.foreign_keys) {
    const ir::ForeignKey* now = to_fks.Find(fk.name);
    if (now == nullptr || !(*now == fk) || rebuilt_fks.count(fk.name)) {
      d.fk_drops.push_back("DROP FOREIGN KEY " + QuoteIdentifier(fk.name));
      d.fk_drop_op.changes.push_back("drop foreign key " + QuoteIdentifier(fk.name));
    }
  }
  for (const ir::ForeignKey& fk : to.foreign_keys) {
    const ir::ForeignKey* was = from_fks.Find(fk.name);
    if (was == nullptr || !(*was == fk) || rebuilt_fks.count(fk.name)) {
      d.fk_adds.push_back("ADD " + RenderForeignKey(fk));
      d.fk_add_op.changes.push_back("add foreign key " + QuoteIdentifier(fk.name) + " -> " +
                                    QuoteIdentifier(fk.referenced_table));
      Raise(&d.fk_add_op, OpClass::kDataDependent,
            "foreign key " + QuoteIdentifier(fk.name) + ": every existing row must have its parent");
    }
  }

  // Keys and checks that go or change are dropped first.
  const NameIndex<ir::Index> from_indexes(from.indexes), to_indexes(to.indexes);
  for (const ir::Index& index : from.indexes) {
    const ir::Index* now = to_indexes.Find(index.name);
    if (now != nullptr && !touches_recreated(*now) &&
        (SameExceptPlace(index, *now) || OnlyIgnoredDiffers(index, *now)))
      continue;
    d.clauses.push_back(index.kind == "PRIMARY" ? "DROP PRIMARY KEY" : "DROP INDEX " + QuoteIdentifier(index.name));
    op.changes.push_back((now ? "change " : "drop ") + std::string(index.kind == "PRIMARY" ? "primary key" : "index ") +
                         (index.kind == "PRIMARY" ? "" : QuoteIdentifier(index.name)));
    if (now == nullptr) Raise(&op, OpClass::kDestructive, "index " + QuoteIdentifier(index.name) + " dropped");
  }
  const NameIndex<ir::Check> from_checks(from.checks), to_checks(to.checks);
  for (const ir::Check& check : from.checks) {
    const ir::Check* now = to_checks.Find(check.name);
    if (now != nullptr && *now == check) continue;
    // A column's own CHECK goes with the column's new definition (MODIFY
    // below) or with the column; DROP CONSTRAINT does not reach it.
    if (check.column_level && (now == nullptr || now->column_level)) continue;
    d.clauses.push_back("DROP CONSTRAINT " + QuoteIdentifier(check.name));
    op.changes.push_back((now ? "change check " : "drop check ") + QuoteIdentifier(check.name));
  }
  // Columns that go.
  for (const ir::Column& c : from.columns) {
    if (kept_old.count(c.name)) continue;
    d.clauses.push_back("DROP COLUMN " + QuoteIdentifier(c.name));
    const bool renewed = std::any_of(recreated.begin(), recreated.end(),
                                     [&](const std::string& name) { return old_name(name) == c.name; });
    op.changes.push_back((renewed ? "re-create column " : "drop column ") + QuoteIdentifier(c.name));
    if (renewed && !c.generation_kind.empty() && !to.columns.empty()) {
      const ir::Column* now = nullptr;
      for (const ir::Column& x : to.columns)
        if (old_name(x.name) == c.name) now = &x;
      if (now != nullptr && !now->generation_kind.empty()) {
        op.notes.push_back("generated column " + QuoteIdentifier(c.name) + " re-created as " + now->generation_kind +
                           ": its values are computed again");
        continue;
      }
    }
    Raise(&op, OpClass::kDestructive, "column " + QuoteIdentifier(c.name) + " dropped: its data is lost");
  }
  // Columns in the target order: added, changed, renamed or moved.
  std::vector<std::string> current;
  for (const ir::Column& c : from.columns)
    if (kept_old.count(c.name)) current.push_back(c.name);
  for (size_t i = 0; i < to.columns.size(); ++i) {
    const ir::Column& c = to.columns[i];
    const std::string place = i == 0 ? " FIRST" : " AFTER " + QuoteIdentifier(to.columns[i - 1].name);
    const std::string was_name = old_name(c.name);
    const ir::Column* was = recreated.count(c.name) ? nullptr : from_columns.Find(was_name);
    if (was == nullptr) {
      d.clauses.push_back("ADD COLUMN " + RenderColumn(c, to.checks) + place);
      op.changes.push_back("add column " + QuoteIdentifier(c.name) + " " + c.column_type);
      current.insert(current.begin() + static_cast<std::ptrdiff_t>(std::min(i, current.size())), c.name);
      continue;
    }
    const auto at = std::find(current.begin(), current.end(), was_name);
    const bool moved = at - current.begin() != static_cast<std::ptrdiff_t>(i);
    const ir::Column& a = *was;
    const ir::Column& b = c;
    const bool renamed = was_name != c.name;
    const bool changed = !SameExceptPlace(a, b, /*ignore_name=*/true);
    // A column-level CHECK is written on the column: compare it too.
    const ir::Check* check_was = from_checks.Find(was_name);
    const ir::Check* check_now = to_checks.Find(c.name);
    const bool check_changed = (check_was && check_was->column_level) != (check_now && check_now->column_level) ||
                               (check_was && check_now && check_was->clause != check_now->clause);
    if (!changed && !moved && !renamed && !check_changed) continue;
    std::string clause = renamed ? "CHANGE COLUMN " + QuoteIdentifier(was_name) + " " : "MODIFY COLUMN ";
    clause += RenderColumn(c, to.checks);
    if (moved) clause += place;
    d.clauses.push_back(clause);
    std::string change = renamed ? "rename column " + QuoteIdentifier(was_name) + " to " + QuoteIdentifier(c.name)
                                 : "modify column " + QuoteIdentifier(c.name);
    change += ColumnChanges(a, b);
    if (moved) change += ", moved" + place;
    op.changes.push_back(change);
    if (renamed) Raise(&op, OpClass::kBackwardIncompatible, "column " + QuoteIdentifier(was_name) + " renamed");
    if (a.column_type != b.column_type) {
      auto [cls, note] = TypeChange(c.name, a.column_type, b.column_type);
      Raise(&op, cls, note);
    }
    if (a.nullable && !b.nullable)
      Raise(&op, OpClass::kDataDependent, "column " + QuoteIdentifier(c.name) + " becomes NOT NULL: no row may hold NULL");
    if (!a.charset.empty() && !b.charset.empty() && CharsetBreadth(b.charset) < CharsetBreadth(a.charset))
      Raise(&op, OpClass::kDestructive,
            "column " + QuoteIdentifier(c.name) + " charset " + a.charset + " -> " + b.charset + " can lose characters");
    current.erase(at);
    current.insert(current.begin() + static_cast<std::ptrdiff_t>(std::min(i, current.size())), c.name);
  }
  // Keys and checks that are new or changed, keys in the target's key order.
  std::vector<const ir::Index*> indexes;
  for (const ir::Index& index : to.indexes) indexes.push_back(&index);
  std::stable_sort(indexes.begin(), indexes.end(),
                   [](const ir::Index* a, const ir::Index* b) { return a->position < b->position; });
  for (const ir::Index* index : indexes) {
    const ir::Index* was = from_indexes.Find(index->name);
    if (was != nullptr && !touches_recreated(*index) && SameExceptPlace(*was, *index)) continue;
    if (was != nullptr && !touches_recreated(*index) && OnlyIgnoredDiffers(*was, *index)) {
      d.clauses.push_back("ALTER INDEX " + QuoteIdentifier(index->name) + (index->ignored ? " IGNORED" : " NOT IGNORED"));
      op.changes.push_back((index->ignored ? "ignore index " : "stop ignoring index ") + QuoteIdentifier(index->name));
      continue;
    }
    d.clauses.push_back("ADD " + RenderIndex(*index));
    if (!was) op.changes.push_back("add " + (index->kind == "PRIMARY" ? std::string("primary key") : "index " + QuoteIdentifier(index->name)));
    if (index->kind == "PRIMARY" || index->kind == "UNIQUE")
      Raise(&op, OpClass::kDataDependent,
            (index->kind == "PRIMARY" ? std::string("primary key") : "unique key " + QuoteIdentifier(index->name)) +
                ": no two rows may share a key");
  }
  for (const ir::Check& check : to.checks) {
    const ir::Check* was = from_checks.Find(check.name);
    if (was != nullptr && *was == check) continue;
    if (check.column_level) continue;  // written on its column above
    d.clauses.push_back("ADD " + RenderCheck(check));
    if (!was) op.changes.push_back("add check " + QuoteIdentifier(check.name));
    Raise(&op, OpClass::kDataDependent, "check " + QuoteIdentifier(check.name) + ": every row must pass it");
  }
  // Table options.
  std::string options;
  if (from.engine != to.engine && !to.engine.empty()) {
    options += " ENGINE=" + to.engine;
    op.changes.push_back("engine " + from.engine + " -> " + to.engine);
  }
  if (from.charset != to.charset || from.collation != to.collation) {
    if (!to.charset.empty()) options += " DEFAULT CHARSET=" + to.charset;
    if (!to.collation.empty()) options += " COLLATE=" + to.collation;
    op.changes.push_back("default collation " + from.collation + " -> " + to.collation);
  }
  if (from.row_format != to.row_format) {
    options += " ROW_FORMAT=" + (to.row_format.empty() ? std::string("DEFAULT") : to.row_format);
    op.changes.push_back("row format " + (from.row_format.empty() ? "default" : from.row_format) + " -> " +
                         (to.row_format.empty() ? "default" : to.row_format));
  }
  if (DeclaredCreateOptions(from) != DeclaredCreateOptions(to)) {
    const auto a = CreateOptions(DeclaredCreateOptions(from)), b = CreateOptions(DeclaredCreateOptions(to));
    for (const auto& [key, token] : b) {
      auto it = a.find(key);
      if (it == a.end() || it->second != token) options += " " + token;
    }
    for (const auto& [key, token] : a) {
      if (!b.count(key)) options += " " + token.substr(0, token.find('=')) + "=DEFAULT";
    }
    op.changes.push_back("options '" + from.create_options + "' -> '" + to.create_options + "'");
  }
  if (from.comment != to.comment) {
    options += " COMMENT=" + QuoteString(to.comment);
    op.changes.push_back("comment changed");
  }
  if (!options.empty()) d.clauses.push_back(options.substr(1));
  if (!(from.partitioning == to.partitioning)) {
    if (!to.partitioning) {
      d.partitioning.push_back("REMOVE PARTITIONING");
      op.changes.push_back("remove partitioning");
    } else {
      d.partitioning.push_back(RenderPartitioning(*to.partitioning, to.engine));
      op.changes.push_back((from.partitioning ? "repartition " : "partition ") + std::string("by ") +
                           to.partitioning->method);
    }
  }
  return d;
}

std::string AlterTable(const std::string& table, const std::vector<std::string>& clauses) {
  std::string sql = "ALTER TABLE " + QuoteIdentifier(table);
  for (size_t i = 0; i < clauses.size(); ++i) sql += (i ? ",\n  " : "\n  ") + clauses[i];
  return sql;
}

namespace {
std::string Statements(const std::vector<std::string>& statements) {
  std::string out;
  for (const std::string& s : statements) out += (out.empty() ? "" : ";\n") + s;
  return out;
}
}  // namespace

// The table's ALTER statements (main clauses, then partitioning).
std::string TableSql(const std::string& name, const TableDiff& d) {
  std::vector<std::string> statements;
  if (!d.clauses.empty()) statements.push_back(AlterTable(name, d.clauses));
  for (const std::string& p : d.partitioning) statements.push_back(AlterTable(name, {p}));
  return Statements(statements);
}

ir::Table WithoutForeignKeys(ir::Table t) {
  t.foreign_keys.clear();
  return t;
}


}  // namespace sqlx::planner::internal
