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

#include "column_types.h"
#include "diff_internal.h"
#include "sqlx/planner/duration.h"
#include "sqlx/planner/plan.h"
#include "sqlx/planner/render_sql.h"

namespace sqlx::planner {

namespace {

using internal::AlterTable;
using internal::DiffTable;
using internal::Named;
using internal::NameIndex;
using internal::Raise;
using internal::TableDiff;
using internal::TableSql;
using internal::WithoutForeignKeys;

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
    op.changes.push_back("drop " + LowerAscii(r.kind) + " " + QuoteIdentifier(r.name));
    if (!now) Raise(&op, OpClass::kBackwardIncompatible, LowerAscii(r.kind) + " dropped");
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
      op.changes.push_back((was ? "replace " : "create ") + LowerAscii(now->kind) + " " + QuoteIdentifier(now->name));
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
  EstimateDurations(AssumedRewriteRates(), &back);  // for the strategies the reverse leaves unknown
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
