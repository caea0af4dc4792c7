// IR diff → Plan. Tables are compared by name (after explicit rename hints),
// columns by name in the target order, keys, foreign keys and checks by name.
// Each table's changes become one ALTER TABLE; foreign keys are dropped
// before anything else changes and added after every table exists; bodies
// (views, routines, triggers, events) are dropped first and created last.
// docs/formats/plan.md.
#include <algorithm>
#include <cctype>
#include <functional>
#include <set>
#include <unordered_map>

#include "sqlx/planner/plan.h"
#include "sqlx/planner/render_sql.h"

namespace sqlx::planner {

namespace {

int Severity(OpClass c) {
  switch (c) {
    case OpClass::kSafe: return 0;
    case OpClass::kBackwardIncompatible: return 1;
    case OpClass::kDataDependent: return 2;
    case OpClass::kDestructive: return 3;
  }
  return 0;
}

void Raise(Operation* op, OpClass c, const std::string& note) {
  if (Severity(c) > Severity(op->op_class)) op->op_class = c;
  if (!note.empty()) op->notes.push_back(note);
}

template <class T>
const T* Named(const std::vector<T>& list, const std::string& name) {
  for (const T& item : list)
    if (item.name == name) return &item;
  return nullptr;
}

// The items of a list by name, for lookups inside loops over another list
// (Named() there makes a diff quadratic in the number of tables). The first
// item of a name wins, as with Named(). REQUIRES: `list` outlives this.
template <class T>
class NameIndex {
 public:
  explicit NameIndex(const std::vector<T>& list) {
    by_name_.reserve(list.size());
    for (const T& item : list) by_name_.emplace(item.name, &item);
  }
  const T* Find(const std::string& name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : it->second;
  }

 private:
  std::unordered_map<std::string, const T*> by_name_;
};

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// ---- Type changes ------------------------------------------------------------

struct TypeShape {
  std::string base;                 // "int", "varchar", "decimal", "enum", ...
  std::vector<std::string> args;    // inside the parentheses, split on top-level commas
  bool is_unsigned = false;
};

TypeShape ShapeOf(const std::string& column_type) {
  TypeShape t;
  const std::string lower = Lower(column_type);
  const size_t open = lower.find('(');
  t.base = lower.substr(0, std::min(open, lower.find(' ')));
  t.is_unsigned = lower.find(" unsigned") != std::string::npos;
  if (open == std::string::npos) return t;
  std::string current;
  bool quoted = false;
  for (size_t i = open + 1; i < column_type.size(); ++i) {
    const char c = column_type[i];
    if (quoted) {
      current += c;
      if (c == '\'' && i + 1 < column_type.size() && column_type[i + 1] == '\'') {
        current += column_type[++i];
      } else if (c == '\'') {
        quoted = false;
      }
    } else if (c == '\'') {
      quoted = true;
      current += c;
    } else if (c == ',') {
      t.args.push_back(current);
      current.clear();
    } else if (c == ')') {
      t.args.push_back(current);
      break;
    } else {
      current += c;
    }
  }
  return t;
}

int Rank(const std::string& base, const std::vector<std::string>& family) {
  auto it = std::find(family.begin(), family.end(), base);
  return it == family.end() ? -1 : static_cast<int>(it - family.begin());
}

uint64_t Number(const std::string& s) {
  uint64_t v = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) break;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

// Classifies a column type change; returns the class and a note.
std::pair<OpClass, std::string> TypeChange(const std::string& column, const std::string& from, const std::string& to) {
  const TypeShape a = ShapeOf(from), b = ShapeOf(to);
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
    if (!a.args.empty() && !b.args.empty() && Number(b.args[0]) < Number(a.args[0]))
      return {OpClass::kDestructive, what + ": narrowed (longer values are cut)"};
    return {OpClass::kSafe, ""};
  }
  if (a_chars && Rank(b.base, kTexts) >= 0) return {OpClass::kSafe, ""};
  if (a.base == b.base && (a.base == "decimal" || a.base == "numeric")) {
    const uint64_t ap = a.args.empty() ? 10 : Number(a.args[0]), bp = b.args.empty() ? 10 : Number(b.args[0]);
    const uint64_t as = a.args.size() > 1 ? Number(a.args[1]) : 0, bs = b.args.size() > 1 ? Number(b.args[1]) : 0;
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
  const std::string c = Lower(charset);
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

struct TableDiff {
  std::vector<std::string> clauses;      // one ALTER TABLE (without foreign keys)
  std::vector<std::string> partitioning; // separate ALTER statements
  std::vector<std::string> fk_drops;     // DROP FOREIGN KEY clauses
  std::vector<std::string> fk_adds;      // ADD CONSTRAINT ... FOREIGN KEY clauses
  Operation op;                          // changes, notes, class
  Operation fk_drop_op, fk_add_op;
};

std::map<std::string, std::string> CreateOptions(const std::string& text) {
  std::map<std::string, std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find(' ', start);
    if (end == std::string::npos) end = text.size();
    const std::string token = text.substr(start, end - start);
    const size_t eq = token.find('=');
    if (!token.empty()) out[Lower(token.substr(0, eq))] = token;
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
TableDiff DiffTable(const ir::Table& from, const ir::Table& to, const std::map<std::string, std::string>& renames,
                    const std::set<std::string>& rebuilt_fks = {}) {
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

std::string Statements(const std::vector<std::string>& statements) {
  std::string out;
  for (const std::string& s : statements) out += (out.empty() ? "" : ";\n") + s;
  return out;
}

// The table's ALTER statements (main clauses, then partitioning).
std::string TableSql(const std::string& name, const TableDiff& d) {
  std::vector<std::string> statements;
  if (!d.clauses.empty()) statements.push_back(AlterTable(name, d.clauses));
  for (const std::string& p : d.partitioning) statements.push_back(AlterTable(name, {p}));
  return Statements(statements);
}

// CREATE OR REPLACE VIEW under the client character set the view records.
std::string ViewSql(const ir::View& v) {
  std::string sql = "CREATE OR REPLACE" + RenderCreateView(v).substr(std::string("CREATE").size());
  if (v.charset.empty()) return sql;
  return "SET character_set_client = " + v.charset + ";\nSET collation_connection = " +
         (v.collation.empty() ? v.charset : v.collation) + ";\n" + sql + ";\nSET NAMES utf8mb4";
}

// Foreign keys (by the starting table's name) that join on a column whose
// type, character set or collation changes: the server refuses to change a
// column under a live foreign key, so they are dropped first and added again
// after, although their definition stays. `table_old`: new → old table name;
// `column_old`: table (new) → new → old column name.
std::map<std::string, std::set<std::string>> ForeignKeysOnRetypedColumns(
    const ir::Database& from, const ir::Database& to, const std::map<std::string, std::string>& table_old,
    const std::map<std::string, std::map<std::string, std::string>>& column_old) {
  std::set<std::pair<std::string, std::string>> retyped;  // (starting table, starting column)
  const NameIndex<ir::Table> from_tables(from.tables);
  for (const ir::Table& t : to.tables) {
    auto renamed = table_old.find(t.name);
    const ir::Table* was = from_tables.Find(renamed == table_old.end() ? t.name : renamed->second);
    if (was == nullptr) continue;
    const auto columns_renamed = column_old.find(t.name);
    const NameIndex<ir::Column> was_columns(was->columns);
    for (const ir::Column& c : t.columns) {
      std::string old_name = c.name;
      if (columns_renamed != column_old.end() && columns_renamed->second.count(c.name))
        old_name = columns_renamed->second.at(c.name);
      const ir::Column* wc = was_columns.Find(old_name);
      if (wc != nullptr && (wc->column_type != c.column_type || wc->charset != c.charset || wc->collation != c.collation))
        retyped.emplace(was->name, wc->name);
    }
  }
  std::map<std::string, std::set<std::string>> out;
  if (retyped.empty()) return out;
  for (const ir::Table& t : from.tables) {
    for (const ir::ForeignKey& fk : t.foreign_keys) {
      bool joins = false;
      for (const std::string& c : fk.columns) joins = joins || retyped.count({t.name, c});
      if (fk.referenced_schema.empty())
        for (const std::string& c : fk.referenced_columns) joins = joins || retyped.count({fk.referenced_table, c});
      if (joins) out[t.name].insert(fk.name);
    }
  }
  return out;
}

// `db` without its tables: what RenderStatements needs to order views,
// routines, triggers and events (rendering every table is most of its work).
ir::Database BodiesOf(const ir::Database& db) {
  ir::Database bodies;
  bodies.name = db.name;
  bodies.charset = db.charset;
  bodies.collation = db.collation;
  bodies.views = db.views;
  bodies.routines = db.routines;
  bodies.triggers = db.triggers;
  bodies.events = db.events;
  return bodies;
}

ir::Table WithoutForeignKeys(ir::Table t) {
  t.foreign_keys.clear();
  return t;
}

std::map<std::string, std::string> Inverse(const std::map<std::string, std::string>& m) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : m) out[v] = k;
  return out;
}

}  // namespace

const char* OpClassName(OpClass c) {
  switch (c) {
    case OpClass::kSafe: return "safe";
    case OpClass::kDataDependent: return "data-dependent";
    case OpClass::kDestructive: return "destructive";
    case OpClass::kBackwardIncompatible: return "backward-incompatible";
  }
  return "safe";
}

Result<Plan> Diff(const ir::Database& from_in, const ir::Database& to_in, const DiffOptions& options) {
  // Canonical lists; an input that is canonical already (learned, or read
  // from a snapshot) is used as it is rather than copied.
  ir::Database from_copy, to_copy;
  auto canonical = [](const ir::Database& in, ir::Database* copy) -> const ir::Database& {
    if (ir::IsCanonical(in)) return in;
    *copy = in;
    ir::Canonicalize(copy);
    return *copy;
  };
  const ir::Database& from = canonical(from_in, &from_copy);
  const ir::Database& to = canonical(to_in, &to_copy);
  Plan plan;
  plan.database = from.name.empty() ? to.name : from.name;
  plan.from_hash = ir::CanonicalProfileHash(from);
  plan.to_hash = ir::CanonicalProfileHash(to);

  // Rename hints: checked, then applied to a copy of `from` by name mapping.
  std::map<std::string, std::string> table_old;  // new → old
  for (const auto& [old_name, new_name] : options.table_renames) {
    if (!Named(from.tables, old_name))
      return MakeError(ErrorCode::kInvalidArgument, "--rename-table " + old_name + "=" + new_name + ": there is no table `" +
                                                        old_name + "` in the starting schema");
    if (!Named(to.tables, new_name))
      return MakeError(ErrorCode::kInvalidArgument, "--rename-table " + old_name + "=" + new_name + ": there is no table `" +
                                                        new_name + "` in the desired schema");
    table_old[new_name] = old_name;
  }
  auto old_table_name = [&](const std::string& name) {
    auto it = table_old.find(name);
    return it == table_old.end() ? name : it->second;
  };
  std::map<std::string, std::map<std::string, std::string>> column_old;  // table (new) → new col → old col
  for (const auto& [table, columns] : options.column_renames) {
    const ir::Table* t_to = Named(to.tables, table);
    const ir::Table* t_from = Named(from.tables, old_table_name(table));
    if (!t_to || !t_from)
      return MakeError(ErrorCode::kInvalidArgument, "--rename " + table + ".…: table `" + table +
                                                        "` must exist on both sides (rename tables with --rename-table)");
    for (const auto& [old_col, new_col] : columns) {
      if (!Named(t_from->columns, old_col) || !Named(t_to->columns, new_col))
        return MakeError(ErrorCode::kInvalidArgument, "--rename " + table + "." + old_col + "=" + new_col +
                                                          ": needs column `" + old_col + "` before and `" + new_col +
                                                          "` after");
      column_old[table][new_col] = old_col;
    }
  }

  const NameIndex<ir::Table> from_tables(from.tables), to_tables(to.tables);
  const NameIndex<ir::View> from_view_index(from.views), to_views(to.views);
  const NameIndex<ir::Trigger> from_triggers(from.triggers), to_triggers(to.triggers);
  const NameIndex<ir::Event> from_events(from.events), to_events(to.events);
  auto routine_key = [](const ir::Routine& r) { return r.kind + '\0' + r.name; };
  std::unordered_map<std::string, const ir::Routine*> from_routines, to_routines;
  std::unordered_multimap<std::string, const ir::Routine*> to_routines_by_name;
  for (const ir::Routine& r : from.routines) from_routines.emplace(routine_key(r), &r);
  for (const ir::Routine& r : to.routines) {
    to_routines.emplace(routine_key(r), &r);
    to_routines_by_name.emplace(r.name, &r);
  }
  const std::map<std::string, std::set<std::string>> rebuilt_fks = ForeignKeysOnRetypedColumns(from, to, table_old,
                                                                                               column_old);

  std::vector<Operation> drops_bodies, drop_fks, renames, tables, drops_tables, add_fks, creates;
  auto body_changed = [](const auto* was, const auto& now) { return was == nullptr || !(*was == now); };

  // Database defaults.
  if (from.charset != to.charset || from.collation != to.collation) {
    Operation op;
    op.kind = "alter_database";
    op.sql = "ALTER DATABASE CHARACTER SET " + to.charset + " COLLATE " + to.collation;
    op.reverse_sql = "ALTER DATABASE CHARACTER SET " + from.charset + " COLLATE " + from.collation;
    op.changes.push_back("default collation " + from.collation + " -> " + to.collation);
    tables.push_back(op);
  }

  // Triggers and events that go or change are dropped first; created last.
  // Dropped newest-first (the reverse creates them again in order: the
  // server orders triggers on one event by creation).
  for (auto t_it = from.triggers.rbegin(); t_it != from.triggers.rend(); ++t_it) {
    const ir::Trigger& t = *t_it;
    if (!body_changed(to_triggers.Find(t.name), t)) continue;
    Operation op{0, "drop_trigger", t.name};
    op.sql_mode = t.sql_mode;
    op.sql = "DROP TRIGGER " + QuoteIdentifier(t.name);
    op.reverse_sql = RenderCreateTrigger(t);
    op.changes.push_back("drop trigger " + QuoteIdentifier(t.name));
    if (!to_triggers.Find(t.name)) Raise(&op, OpClass::kBackwardIncompatible, "trigger dropped");
    drops_bodies.push_back(op);
  }
  for (const ir::Event& e : from.events) {
    if (!body_changed(to_events.Find(e.name), e)) continue;
    Operation op{0, "drop_event", e.name};
    op.sql_mode = e.sql_mode;
    op.sql = "DROP EVENT " + QuoteIdentifier(e.name);
    op.reverse_sql = RenderCreateEvent(e);
    op.changes.push_back("drop event " + QuoteIdentifier(e.name));
    drops_bodies.push_back(op);
  }
  // Views that go, readers before what they read (the reverse re-creates
  // them in dependency order).
  std::vector<const ir::View*> from_views;
  for (const Statement& st : RenderStatements(BodiesOf(from)))
    if (st.kind == "view") from_views.push_back(from_view_index.Find(st.name));
  for (auto v_it = from_views.rbegin(); v_it != from_views.rend(); ++v_it) {
    const ir::View& v = **v_it;
    if (to_views.Find(v.name)) continue;  // changed views are replaced later
    Operation op{0, "drop_view", v.name};
    op.sql = "DROP VIEW " + QuoteIdentifier(v.name);
    op.reverse_sql = ViewSql(v);
    op.changes.push_back("drop view " + QuoteIdentifier(v.name));
    Raise(&op, OpClass::kBackwardIncompatible, "view dropped");
    drops_bodies.push_back(op);
  }
  for (const ir::Routine& r : from.routines) {
    const auto found = to_routines.find(routine_key(r));
    const ir::Routine* now = found == to_routines.end() ? nullptr : found->second;
    if (!body_changed(now, r)) continue;
    Operation op{0, "drop_routine", r.name};
    op.sql = "DROP " + r.kind + " " + QuoteIdentifier(r.name);
    op.reverse_sql = RenderCreateRoutine(r);
    op.sql_mode = r.sql_mode;
    op.changes.push_back("drop " + Lower(r.kind) + " " + QuoteIdentifier(r.name));
    if (!now) Raise(&op, OpClass::kBackwardIncompatible, Lower(r.kind) + " dropped");
    drops_bodies.push_back(op);
  }

  // Tables.
  for (const ir::Table& t : to.tables) {
    const std::string was_name = old_table_name(t.name);
    const ir::Table* was = from_tables.Find(was_name);
    if (was == nullptr) {
      Operation op{0, "create_table", t.name};
      op.sql = RenderCreateTable(WithoutForeignKeys(t));
      op.reverse_sql = "DROP TABLE " + QuoteIdentifier(t.name);
      op.reverse_loses_data = true;
      op.changes.push_back("create table " + QuoteIdentifier(t.name));
      tables.push_back(op);
      TableDiff fks = DiffTable(WithoutForeignKeys(t), t, {});
      if (!fks.fk_adds.empty()) {
        Operation add = fks.fk_add_op;
        add.kind = "add_foreign_keys";
        add.object = t.name;
        add.sql = AlterTable(t.name, fks.fk_adds);
        add.reverse_sql = AlterTable(t.name, DiffTable(t, WithoutForeignKeys(t), {}).fk_drops);
        add_fks.push_back(add);
      }
      continue;
    }
    if (was_name != t.name) {
      Operation op{0, "rename_table", t.name};
      op.sql = "RENAME TABLE " + QuoteIdentifier(was_name) + " TO " + QuoteIdentifier(t.name);
      op.reverse_sql = "RENAME TABLE " + QuoteIdentifier(t.name) + " TO " + QuoteIdentifier(was_name);
      op.changes.push_back("rename table " + QuoteIdentifier(was_name) + " to " + QuoteIdentifier(t.name));
      Raise(&op, OpClass::kBackwardIncompatible, "table " + QuoteIdentifier(was_name) + " renamed");
      renames.push_back(op);
    }
    const auto col_renames = column_old.count(t.name) ? column_old[t.name] : std::map<std::string, std::string>{};
    const auto rebuilt = rebuilt_fks.find(was_name);
    const std::set<std::string> no_fks;
    const std::set<std::string>& rebuild = rebuilt == rebuilt_fks.end() ? no_fks : rebuilt->second;
    TableDiff d = DiffTable(*was, t, col_renames, rebuild);
    const TableDiff back = DiffTable(t, *was, Inverse(col_renames), rebuild);
    if (!d.fk_drops.empty()) {
      Operation op = d.fk_drop_op;
      op.kind = "drop_foreign_keys";
      op.object = was_name != t.name ? was_name : t.name;
      op.sql = AlterTable(op.object, d.fk_drops);
      op.reverse_sql = AlterTable(op.object, back.fk_adds);
      drop_fks.push_back(op);
    }
    const std::string sql = TableSql(t.name, d);
    if (!sql.empty()) {
      Operation op = d.op;
      op.kind = "alter_table";
      op.object = t.name;
      op.sql = sql;
      op.reverse_sql = TableSql(t.name, back);
      op.reverse_loses_data = std::any_of(d.clauses.begin(), d.clauses.end(), [](const std::string& c) {
        return c.rfind("DROP COLUMN", 0) == 0;
      }) || op.op_class == OpClass::kDestructive;
      op.rows_estimate = was->stats.rows_estimate;
      tables.push_back(op);
    }
    if (!d.fk_adds.empty()) {
      Operation op = d.fk_add_op;
      op.kind = "add_foreign_keys";
      op.object = t.name;
      op.sql = AlterTable(t.name, d.fk_adds);
      op.reverse_sql = AlterTable(t.name, back.fk_drops);
      op.rows_estimate = was->stats.rows_estimate;
      add_fks.push_back(op);
    }
  }
  std::set<std::string> renamed_away;
  for (const auto& [new_name, old_name] : table_old) renamed_away.insert(old_name);
  for (const ir::Table& t : from.tables) {
    if (to_tables.Find(t.name) || renamed_away.count(t.name)) continue;
    // Its foreign keys go first (another table dropped in the same plan may
    // be their parent); others' keys to it were dropped above.
    if (!t.foreign_keys.empty()) {
      TableDiff fks = DiffTable(t, WithoutForeignKeys(t), {});
      Operation drop = fks.fk_drop_op;
      drop.kind = "drop_foreign_keys";
      drop.object = t.name;
      drop.sql = AlterTable(t.name, fks.fk_drops);
      drop.reverse_sql = AlterTable(t.name, DiffTable(WithoutForeignKeys(t), t, {}).fk_adds);
      drop_fks.push_back(drop);
    }
    Operation op{0, "drop_table", t.name};
    op.sql = "DROP TABLE " + QuoteIdentifier(t.name);
    op.reverse_sql = RenderCreateTable(WithoutForeignKeys(t));
    op.reverse_loses_data = true;
    op.rows_estimate = t.stats.rows_estimate;
    op.changes.push_back("drop table " + QuoteIdentifier(t.name));
    Raise(&op, OpClass::kDestructive,
          "table " + QuoteIdentifier(t.name) + " dropped with its data (about " + std::to_string(t.stats.rows_estimate) +
              " rows when learned)");
    drops_tables.push_back(op);
  }

  // Bodies: routines, then views (replaced or created, in dependency order),
  // then triggers and events.
  std::vector<Statement> rendered = RenderStatements(BodiesOf(to));
  for (const Statement& s : rendered) {
    Operation op;
    op.object = s.name;
    op.sql_mode = s.sql_mode;
    if (s.kind == "routine") {
      const ir::Routine* now = nullptr;
      for (auto [it, end] = to_routines_by_name.equal_range(s.name); it != end; ++it)
        if (RenderCreateRoutine(*it->second) == s.sql) now = it->second;
      const auto found = now ? from_routines.find(routine_key(*now)) : from_routines.end();
      const ir::Routine* was = found == from_routines.end() ? nullptr : found->second;
      if (now == nullptr || !body_changed(was, *now)) continue;
      op.kind = "create_routine";
      op.sql = s.sql;
      op.reverse_sql = "DROP " + now->kind + " " + QuoteIdentifier(now->name);
      op.changes.push_back((was ? "replace " : "create ") + Lower(now->kind) + " " + QuoteIdentifier(now->name));
    } else if (s.kind == "view") {
      const ir::View* now = to_views.Find(s.name);
      const ir::View* was = from_view_index.Find(s.name);
      if (now == nullptr || !body_changed(was, *now)) continue;
      op.kind = was ? "replace_view" : "create_view";
      op.sql = ViewSql(*now);
      op.reverse_sql = was ? ViewSql(*was) : "DROP VIEW " + QuoteIdentifier(s.name);
      op.changes.push_back((was ? "replace view " : "create view ") + QuoteIdentifier(s.name));
    } else if (s.kind == "trigger") {
      const ir::Trigger* now = to_triggers.Find(s.name);
      if (now == nullptr || !body_changed(from_triggers.Find(s.name), *now)) continue;
      op.kind = "create_trigger";
      op.sql = s.sql;
      op.reverse_sql = "DROP TRIGGER " + QuoteIdentifier(s.name);
      op.changes.push_back("create trigger " + QuoteIdentifier(s.name));
    } else if (s.kind == "event") {
      const ir::Event* now = to_events.Find(s.name);
      if (now == nullptr || !body_changed(from_events.Find(s.name), *now)) continue;
      op.kind = "create_event";
      op.sql = s.sql;
      op.reverse_sql = "DROP EVENT " + QuoteIdentifier(s.name);
      op.changes.push_back("create event " + QuoteIdentifier(s.name));
    } else {
      continue;
    }
    creates.push_back(op);
  }

  for (auto* group : {&drops_bodies, &drop_fks, &renames, &tables, &drops_tables, &add_fks, &creates}) {
    for (Operation& op : *group) {
      op.id = static_cast<int>(plan.operations.size()) + 1;
      plan.operations.push_back(std::move(op));
    }
  }
  return plan;
}

Plan ReversePlan(const Plan& plan) {
  static const std::map<std::string, std::string> kInverse = {
      {"create_table", "drop_table"},           {"drop_table", "create_table"},
      {"add_foreign_keys", "drop_foreign_keys"}, {"drop_foreign_keys", "add_foreign_keys"},
      {"create_view", "drop_view"},             {"drop_view", "create_view"},
      {"create_routine", "drop_routine"},       {"drop_routine", "create_routine"},
      {"create_trigger", "drop_trigger"},       {"drop_trigger", "create_trigger"},
      {"create_event", "drop_event"},           {"drop_event", "create_event"}};
  Plan back;
  back.database = plan.database;
  back.from_hash = plan.to_hash;
  back.to_hash = plan.from_hash;
  for (auto it = plan.operations.rbegin(); it != plan.operations.rend(); ++it) {
    if (it->reverse_sql.empty()) continue;
    Operation op = *it;
    op.id = static_cast<int>(back.operations.size()) + 1;
    auto kind = kInverse.find(it->kind);
    op.kind = kind == kInverse.end() ? it->kind : kind->second;
    op.sql = it->reverse_sql;
    op.strategy = Strategy::kUnknown;  // not chosen for the reverse: its SQL has no ALGORITHM clause
    op.strategy_reason = "undoes operation " + std::to_string(it->id) + ": the server chooses the algorithm";
    op.prechecks.clear();
    op.reverse_sql = it->sql;
    op.changes = {"undo: " + (it->changes.empty() ? it->kind : it->changes.front()) +
                  (it->changes.size() > 1 ? " (and " + std::to_string(it->changes.size() - 1) + " more)" : "")};
    back.operations.push_back(std::move(op));
  }
  return back;
}

std::string PlanScript(const Plan& plan) {
  std::string out = "-- SQLx OS plan for " + plan.database + "\n-- from " + plan.from_hash + "\n-- to   " +
                    plan.to_hash + "\n";
  for (const Operation& op : plan.operations) {
    out += "\n-- " + std::to_string(op.id) + ". " + op.kind + " " + op.object + " (" + OpClassName(op.op_class) + ")\n";
    const bool body = op.kind == "create_routine" || op.kind == "create_trigger" || op.kind == "create_event";
    if (body) {
      std::string delimiter = ";;";
      while (op.sql.find(delimiter) != std::string::npos) delimiter += ";";
      out += "SET @sqlx_old_sql_mode = @@sql_mode;\nSET sql_mode = " + QuoteString(op.sql_mode) + ";\nDELIMITER " +
             delimiter + "\n" + op.sql + delimiter + "\nDELIMITER ;\nSET sql_mode = @sqlx_old_sql_mode;\n";
    } else {
      out += op.sql + ";\n";
    }
  }
  return out;
}

}  // namespace sqlx::planner
