// Pre-check queries, consent and statement splitting (guardrails.h).
#include "sqlx/planner/guardrails.h"

#include <algorithm>
#include <set>

#include "column_types.h"
#include "sqlx/planner/render_sql.h"

namespace sqlx::planner {

namespace {

template <class T>
const T* Named(const std::vector<T>& list, const std::string& name) {
  for (const T& item : list)
    if (item.name == name) return &item;
  return nullptr;
}

std::string Count(const std::string& table, const std::string& where) {
  return "SELECT COUNT(*) FROM " + QuoteIdentifier(table) + " WHERE " + where;
}

// Integer types by width, for "does the new type hold every old value".
int IntegerRank(const std::string& base) {
  static const std::vector<std::string> kOrder = {"tinyint", "smallint", "mediumint", "int", "bigint"};
  const std::string b = base == "integer" ? "int" : base;
  return static_cast<int>(std::find(kOrder.begin(), kOrder.end(), b) - kOrder.begin());
}

bool IntegerHolds(const ColumnType& to, const ColumnType& from) {
  if (!IsInteger(from)) return false;
  const int rt = IntegerRank(to.base), rf = IntegerRank(from.base);
  if (to.is_unsigned == from.is_unsigned) return rt >= rf;
  return from.is_unsigned && rt > rf;  // unsigned into a wider signed type
}

// Checks of one column changing from `a` to `b` (column `old` in the table before).
void ColumnPreChecks(const std::string& table, const std::string& old, const ir::Column& a, const ir::Column& b,
                     std::vector<PreCheck>* out) {
  const std::string col = QuoteIdentifier(old);
  const std::string where_col = "column " + col + " of " + QuoteIdentifier(table);
  if (a.nullable && !b.nullable)
    out->push_back({"rows with NULL in " + where_col + " (it becomes NOT NULL)", Count(table, col + " IS NULL")});
  if (a.column_type == b.column_type) return;
  const ColumnType ta = ParseColumnType(a.column_type), tb = ParseColumnType(b.column_type);
  const std::string change = " (" + a.column_type + " -> " + b.column_type + ")";
  if (const auto chars = MaxChars(tb, b.charset)) {
    const auto before = MaxChars(ta, a.charset);
    if (!before || *chars < *before)
      out->push_back({"values longer than " + std::to_string(*chars) + " characters in " + where_col + change,
                      Count(table, "CHAR_LENGTH(" + col + ") > " + std::to_string(*chars))});
  }
  if (const auto bytes = MaxBytes(tb)) {
    const auto before = MaxBytes(ta);
    if (!before || *bytes < *before)
      out->push_back({"values longer than " + std::to_string(*bytes) + " bytes in " + where_col + change,
                      Count(table, "LENGTH(" + col + ") > " + std::to_string(*bytes))});
  }
  if (const auto range = IntegerRange(tb); range && !IntegerHolds(tb, ta)) {
    out->push_back({"values outside " + range->first + ".." + range->second + " in " + where_col + change,
                    Count(table, col + " < " + range->first + " OR " + col + " > " + range->second)});
  }
  if ((tb.base == "decimal" || tb.base == "numeric") && !tb.args.empty()) {
    const uint64_t p = LeadingNumber(tb.args[0]), s = tb.args.size() > 1 ? LeadingNumber(tb.args[1]) : 0;
    const bool a_decimal = (ta.base == "decimal" || ta.base == "numeric") && !ta.args.empty();
    const uint64_t pa = a_decimal ? LeadingNumber(ta.args[0]) : 0, sa = a_decimal && ta.args.size() > 1 ? LeadingNumber(ta.args[1]) : 0;
    if (p >= s && (!a_decimal || pa - sa > p - s)) {
      const std::string limit = "1" + std::string(p - s, '0');
      out->push_back({"values with more than " + std::to_string(p - s) + " integer digits in " + where_col + change,
                      Count(table, "ABS(" + col + ") >= " + limit)});
    }
  }
  if (tb.base == "enum" && (ta.base != "enum" || std::any_of(ta.args.begin(), ta.args.end(), [&](const std::string& v) {
                              return std::find(tb.args.begin(), tb.args.end(), v) == tb.args.end();
                            }))) {
    std::string list;
    for (const std::string& v : tb.args) list += (list.empty() ? "" : ", ") + v;
    out->push_back({"values not in the new ENUM of " + where_col + change,
                    Count(table, col + " IS NOT NULL AND " + col + " NOT IN (" + list + ")")});
  }
  if (tb.base == "set" && ta.base == "set") {
    std::string any;
    for (const std::string& v : ta.args) {
      if (std::find(tb.args.begin(), tb.args.end(), v) != tb.args.end()) continue;
      any += (any.empty() ? "" : " OR ") + std::string("FIND_IN_SET(") + v + ", " + col + ") > 0";
    }
    if (!any.empty()) out->push_back({"values holding a SET member removed from " + where_col + change, Count(table, any)});
  }
}

// Rows repeating another row's key `columns` (old names; prefix lengths applied).
PreCheck DuplicatesCheck(const std::string& table, const ir::Index& index, const std::vector<std::string>& columns) {
  std::string keys, not_null, names;
  for (size_t i = 0; i < columns.size(); ++i) {
    const std::string col = QuoteIdentifier(columns[i]);
    const auto& prefix = index.parts[i].prefix_length;
    keys += (i ? ", " : "") + (prefix ? "LEFT(" + col + ", " + std::to_string(*prefix) + ")" : col);
    not_null += (i ? " AND " : "") + col + " IS NOT NULL";
    names += (i ? ", " : "") + col;
  }
  const std::string key_name = index.kind == "PRIMARY" ? "the new primary key" : "new unique key " + QuoteIdentifier(index.name);
  return {"rows of " + QuoteIdentifier(table) + " repeating another row's (" + names + ") under " + key_name,
          "SELECT COALESCE(SUM(n - 1), 0) FROM (SELECT COUNT(*) AS n FROM " + QuoteIdentifier(table) + " WHERE " +
              not_null + " GROUP BY " + keys + " HAVING COUNT(*) > 1) AS sqlx_duplicates"};
}

}  // namespace

std::vector<PreCheck> TablePreChecks(const ir::Table& from, const ir::Table& to,
                                     const std::map<std::string, std::string>& renames) {
  std::vector<PreCheck> out;
  const std::string& table = from.name;
  auto old_name = [&](const std::string& name) {
    auto it = renames.find(name);
    return it == renames.end() ? name : it->second;
  };
  std::set<std::string> added;  // new names of columns the plan adds
  for (const ir::Column& b : to.columns) {
    const ir::Column* a = Named(from.columns, old_name(b.name));
    if (a == nullptr) {
      added.insert(b.name);
      continue;
    }
    ColumnPreChecks(table, a->name, *a, b, &out);
  }
  for (const ir::Index& index : to.indexes) {
    if (index.kind != "PRIMARY" && index.kind != "UNIQUE") continue;
    const ir::Index* was = Named(from.indexes, index.name);
    if (was != nullptr && was->kind == index.kind && was->parts == index.parts) continue;
    std::vector<std::string> columns;
    bool checkable = true;
    for (const ir::IndexPart& part : index.parts) {
      if (part.column.empty() || added.count(part.column)) checkable = false;
      columns.push_back(old_name(part.column));
    }
    if (!checkable) continue;
    // A unique key of the old table whose whole columns all lie in the new
    // key already keeps every new key value unique.
    const bool implied = std::any_of(from.indexes.begin(), from.indexes.end(), [&](const ir::Index& old) {
      if (old.kind != "PRIMARY" && old.kind != "UNIQUE") return false;
      return std::all_of(old.parts.begin(), old.parts.end(), [&](const ir::IndexPart& p) {
        return !p.column.empty() && !p.prefix_length &&
               std::find(columns.begin(), columns.end(), p.column) != columns.end();
      });
    });
    if (!implied) out.push_back(DuplicatesCheck(table, index, columns));
  }
  if (renames.empty()) {
    for (const ir::Check& check : to.checks) {
      const ir::Check* was = Named(from.checks, check.name);
      if (was != nullptr && was->clause == check.clause) continue;
      const bool names_added = std::any_of(added.begin(), added.end(), [&](const std::string& c) {
        return check.clause.find(QuoteIdentifier(c)) != std::string::npos;
      });
      if (names_added) continue;
      out.push_back({"rows of " + QuoteIdentifier(table) + " failing the new check " + QuoteIdentifier(check.name),
                     Count(table, "NOT (" + check.clause + ")")});
    }
  }
  return out;
}

PreCheck ForeignKeyPreCheck(const std::string& fk_name, const std::string& child,
                            const std::vector<std::string>& child_columns, const std::string& parent_schema,
                            const std::string& parent, const std::vector<std::string>& parent_columns,
                            bool parent_exists) {
  std::string not_null, match;
  for (size_t i = 0; i < child_columns.size(); ++i) {
    const std::string c = "sqlx_c." + QuoteIdentifier(child_columns[i]);
    not_null += (i ? " AND " : "") + c + " IS NOT NULL";
    if (i < parent_columns.size()) match += (i ? " AND " : "") + std::string("sqlx_p.") + QuoteIdentifier(parent_columns[i]) + " = " + c;
  }
  const std::string parent_sql =
      (parent_schema.empty() ? "" : QuoteIdentifier(parent_schema) + ".") + QuoteIdentifier(parent);
  std::string sql = "SELECT COUNT(*) FROM " + QuoteIdentifier(child) + " AS sqlx_c WHERE " + not_null;
  if (parent_exists) sql += " AND NOT EXISTS (SELECT 1 FROM " + parent_sql + " AS sqlx_p WHERE " + match + ")";
  return {"rows of " + QuoteIdentifier(child) + " without a parent in " + parent_sql + " (new foreign key " +
              QuoteIdentifier(fk_name) + ")",
          sql};
}

std::vector<std::string> DestructiveTables(const Plan& plan) {
  std::set<std::string> created;
  std::vector<std::string> out;
  for (const Operation& op : plan.operations) {
    if (op.kind == "create_table" || op.kind == "rename_table") created.insert(op.object);
    if (op.op_class != OpClass::kDestructive || (op.kind != "alter_table" && op.kind != "drop_table")) continue;
    if (created.count(op.object) || std::find(out.begin(), out.end(), op.object) != out.end()) continue;
    out.push_back(op.object);
  }
  return out;
}

std::string EmptyTableCheck(const std::string& table) {
  return "SELECT NOT EXISTS (SELECT 1 FROM " + QuoteIdentifier(table) + ")";
}

std::vector<std::string> Refusals(const Plan& plan, const ApplyConsent& consent) {
  std::vector<std::string> out;
  std::set<std::string> created;
  for (const Operation& op : plan.operations) {
    const std::string name = std::to_string(op.id) + ". " + op.kind + (op.object.empty() ? "" : " " + op.object);
    if (op.kind == "create_table") created.insert(op.object);
    const bool empty_table = (op.kind == "alter_table" || op.kind == "drop_table") &&
                             consent.empty_tables.count(op.object) > 0;
    if (op.op_class == OpClass::kDestructive && !consent.allow_destructive && !empty_table) {
      std::string why;
      for (const std::string& note : op.notes) why += (why.empty() ? "" : "; ") + note;
      out.push_back(name + ": destructive (" + (why.empty() ? "loses data or definitions" : why) +
                    "): give --allow-destructive to run it");
    }
    if (consent.allow_blocking || created.count(op.object)) continue;
    const bool alter = op.kind == "alter_table" || op.kind == "add_foreign_keys" || op.kind == "drop_foreign_keys";
    const std::string size = op.rows_estimate > 0 ? " (~" + std::to_string(op.rows_estimate) + " rows)" : "";
    // kOnlineCopy: runs as an online migration (planner/online.h); whether the
    // live table allows one is checked by apply (OnlineCopyObstacle).
    if (op.strategy == Strategy::kCopy) {
      out.push_back(name + ": blocks writes to the table while it runs" + size + " (" + op.strategy_reason +
                    "): give --allow-blocking to run it");
    } else if (op.strategy == Strategy::kUnknown && alter) {
      out.push_back(name + ": no strategy chosen (" +
                    (op.strategy_reason.empty() ? std::string("a plan without strategies") : op.strategy_reason) +
                    "): the server may block writes; give --allow-blocking to run it");
    }
  }
  return out;
}

std::vector<std::string> OperationStatements(const Operation& op) {
  if (op.kind == "create_routine" || op.kind == "create_trigger" || op.kind == "create_event") return {op.sql};
  static const char* const kStarts[] = {"ALTER ", "CREATE ", "DROP ", "RENAME ", "SET "};
  std::vector<std::string> out;
  size_t start = 0, pos = 0;
  while ((pos = op.sql.find(";\n", pos)) != std::string::npos) {
    const size_t next = pos + 2;
    const bool boundary = std::any_of(std::begin(kStarts), std::end(kStarts), [&](const char* s) {
      return op.sql.compare(next, std::char_traits<char>::length(s), s) == 0;
    });
    if (boundary) {
      out.push_back(op.sql.substr(start, pos - start));
      start = next;
    }
    pos = next;
  }
  if (start < op.sql.size()) out.push_back(op.sql.substr(start));
  return out;
}

}  // namespace sqlx::planner
