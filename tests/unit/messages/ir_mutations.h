// One change to each IR field in turn, on the sample database: the
// every-field hash test and the FlatBuffers round-trip test both run them.
// ir_every_field_test.cc checks that the paths cover ir_fields.h.
#pragma once

#include <algorithm>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "ir_sample.h"
#include "sqlx/messages/ir.h"

namespace sqlx::ir::testing {

struct Mutation {
  const char* path;  // the field it changes
  const char* what;
  std::function<void(Database&)> apply;
};

inline Table& Orders(Database& d) { return TableNamed(d, "orders"); }
inline Table& Customers(Database& d) { return TableNamed(d, "customers"); }
inline Column& Note(Database& d) { return Orders(d).columns[4]; }
inline Index& ByCustomer(Database& d) { return Orders(d).indexes[1]; }
inline Index& ByNote(Database& d) { return Orders(d).indexes[2]; }
inline ForeignKey& Pair(Database& d) { return Orders(d).foreign_keys[1]; }
inline Partitioning& Parts(Database& d) { return *Orders(d).partitioning; }
template <class T>
inline void Reverse(std::vector<T>& v) { std::reverse(v.begin(), v.end()); }

// Each entry changes exactly one field of the sample (the every-field test
// below checks the set of paths against ir_fields.h).
inline const std::vector<Mutation>& HashedMutations() {
  static const std::vector<Mutation> kMutations = {
      {"charset", "value", [](Database& d) { d.charset = "latin1"; }},
      {"collation", "value", [](Database& d) { d.collation = "utf8mb4_bin"; }},
      {"not_visible", "added", [](Database& d) { d.not_visible.push_back("routines: needs SELECT on mysql.proc"); }},
      {"not_visible", "removed", [](Database& d) { d.not_visible.pop_back(); }},
      {"tables", "removed", [](Database& d) { d.tables.pop_back(); }},
      {"tables", "added", [](Database& d) { d.tables.push_back(Table{}); }},
      {"tables.name", "value", [](Database& d) { Orders(d).name = "orders2"; }},
      {"tables.engine", "value", [](Database& d) { Orders(d).engine = "MyISAM"; }},
      {"tables.row_format", "value", [](Database& d) { Orders(d).row_format = "COMPRESSED"; }},
      {"tables.charset", "value", [](Database& d) { Orders(d).charset = "latin1"; }},
      {"tables.collation", "value", [](Database& d) { Orders(d).collation = "utf8mb4_bin"; }},
      {"tables.comment", "emptied", [](Database& d) { Orders(d).comment = ""; }},
      {"tables.comment", "case", [](Database& d) { Orders(d).comment = "Customer orders"; }},
      {"tables.create_options", "value", [](Database& d) { Orders(d).create_options = ""; }},
      {"tables.columns", "removed", [](Database& d) { Orders(d).columns.pop_back(); }},
      {"tables.columns.name", "value", [](Database& d) { Note(d).name = "notes"; }},
      {"tables.columns.position", "gap", [](Database& d) { Note(d).position = 6; }},
      {"tables.columns.position", "swapped",
       [](Database& d) { std::swap(Orders(d).columns[0].position, Orders(d).columns[1].position); }},
      {"tables.columns.column_type", "value", [](Database& d) { Note(d).column_type = "varchar(101)"; }},
      {"tables.columns.nullable", "flipped", [](Database& d) { Note(d).nullable = false; }},
      {"tables.columns.default_value", "removed", [](Database& d) { Note(d).default_value.reset(); }},
      {"tables.columns.default_value", "NULL removed",
       [](Database& d) { Orders(d).columns[1].default_value.reset(); }},
      {"tables.columns.default_value", "added", [](Database& d) { Orders(d).columns[0].default_value = "0"; }},
      {"tables.columns.default_value", "empty added",
       [](Database& d) { Orders(d).columns[0].default_value = ""; }},
      {"tables.columns.default_value", "value", [](Database& d) { Note(d).default_value = "'N/A'"; }},
      {"tables.columns.auto_increment", "flipped", [](Database& d) { Orders(d).columns[0].auto_increment = false; }},
      {"tables.columns.on_update", "removed", [](Database& d) { Orders(d).columns[2].on_update = ""; }},
      {"tables.columns.generation_kind", "value",
       [](Database& d) { Orders(d).columns[3].generation_kind = "VIRTUAL"; }},
      {"tables.columns.generation_expression", "value",
       [](Database& d) { Orders(d).columns[3].generation_expression = "`id` * 3"; }},
      {"tables.columns.invisible", "flipped", [](Database& d) { Note(d).invisible = false; }},
      {"tables.columns.charset", "value", [](Database& d) { Note(d).charset = "utf8mb3"; }},
      {"tables.columns.collation", "value", [](Database& d) { Note(d).collation = "utf8mb4_general_ci"; }},
      {"tables.columns.comment", "value", [](Database& d) { Note(d).comment = "free text "; }},
      {"tables.indexes", "removed", [](Database& d) { Orders(d).indexes.pop_back(); }},
      {"tables.indexes.name", "value", [](Database& d) { ByNote(d).name = "idx_note2"; }},
      {"tables.indexes.kind", "value", [](Database& d) { ByNote(d).kind = "INDEX"; }},
      {"tables.indexes.algorithm", "value", [](Database& d) { ByNote(d).algorithm = ""; }},
      {"tables.indexes.comment", "value", [](Database& d) { ByCustomer(d).comment = "Lookups"; }},
      {"tables.indexes.ignored", "flipped", [](Database& d) { ByCustomer(d).ignored = false; }},
      {"tables.indexes.parts", "reordered", [](Database& d) { Reverse(ByCustomer(d).parts); }},
      {"tables.indexes.parts", "added", [](Database& d) { ByCustomer(d).parts.push_back({"id", {}, false, ""}); }},
      {"tables.indexes.parts", "removed", [](Database& d) { ByCustomer(d).parts.pop_back(); }},
      {"tables.indexes.parts.column", "value", [](Database& d) { ByCustomer(d).parts[1].column = "note"; }},
      {"tables.indexes.parts.prefix_length", "removed", [](Database& d) { ByNote(d).parts[0].prefix_length.reset(); }},
      {"tables.indexes.parts.prefix_length", "added", [](Database& d) { ByCustomer(d).parts[0].prefix_length = 4; }},
      {"tables.indexes.parts.prefix_length", "value", [](Database& d) { ByNote(d).parts[0].prefix_length = 11; }},
      {"tables.indexes.parts.descending", "flipped", [](Database& d) { ByCustomer(d).parts[1].descending = false; }},
      {"tables.indexes.parts.expression", "value", [](Database& d) { ByNote(d).parts[1].expression = "`id` + 2"; }},
      {"tables.foreign_keys", "removed", [](Database& d) { Orders(d).foreign_keys.pop_back(); }},
      {"tables.foreign_keys.name", "value", [](Database& d) { Pair(d).name = "fk_pair2"; }},
      {"tables.foreign_keys.columns", "reordered", [](Database& d) { Reverse(Pair(d).columns); }},
      {"tables.foreign_keys.columns", "removed", [](Database& d) { Pair(d).columns.pop_back(); }},
      {"tables.foreign_keys.referenced_schema", "emptied", [](Database& d) { Pair(d).referenced_schema = ""; }},
      {"tables.foreign_keys.referenced_schema", "added",
       [](Database& d) { Orders(d).foreign_keys[0].referenced_schema = "crm"; }},
      {"tables.foreign_keys.referenced_table", "value", [](Database& d) { Pair(d).referenced_table = "acct"; }},
      {"tables.foreign_keys.referenced_columns", "reordered", [](Database& d) { Reverse(Pair(d).referenced_columns); }},
      {"tables.foreign_keys.referenced_columns", "added",
       [](Database& d) { Pair(d).referenced_columns.push_back("x"); }},
      {"tables.foreign_keys.on_update", "value", [](Database& d) { Pair(d).on_update = "CASCADE"; }},
      {"tables.foreign_keys.on_delete", "value", [](Database& d) { Pair(d).on_delete = "RESTRICT"; }},
      {"tables.checks", "removed", [](Database& d) { Orders(d).checks.pop_back(); }},
      {"tables.checks.name", "value", [](Database& d) { Orders(d).checks[0].name = "chk_d"; }},
      {"tables.checks.clause", "value", [](Database& d) { Orders(d).checks[0].clause = "`doubled` > 0"; }},
      {"tables.checks.column_level", "flipped", [](Database& d) { Orders(d).checks[1].column_level = false; }},
      {"tables.partitioning", "removed", [](Database& d) { Orders(d).partitioning.reset(); }},
      {"tables.partitioning", "added", [](Database& d) { Customers(d).partitioning = Partitioning{}; }},
      {"tables.partitioning.method", "value", [](Database& d) { Parts(d).method = "RANGE COLUMNS"; }},
      {"tables.partitioning.expression", "value", [](Database& d) { Parts(d).expression = "`created`"; }},
      {"tables.partitioning.subpartition_method", "value", [](Database& d) { Parts(d).subpartition_method = "KEY"; }},
      {"tables.partitioning.subpartition_expression", "value",
       [](Database& d) { Parts(d).subpartition_expression = "`customer_id`"; }},
      {"tables.partitioning.partitions", "reordered", [](Database& d) { Reverse(Parts(d).partitions); }},
      {"tables.partitioning.partitions", "removed", [](Database& d) { Parts(d).partitions.pop_back(); }},
      {"tables.partitioning.partitions.name", "value", [](Database& d) { Parts(d).partitions[0].name = "p00"; }},
      {"tables.partitioning.partitions.description", "value",
       [](Database& d) { Parts(d).partitions[0].description = "200"; }},
      {"tables.partitioning.partitions.comment", "value", [](Database& d) { Parts(d).partitions[1].comment = "x"; }},
      {"tables.partitioning.partitions.subpartitions", "reordered",
       [](Database& d) { Reverse(Parts(d).partitions[0].subpartitions); }},
      {"tables.partitioning.partitions.subpartitions", "added",
       [](Database& d) { Parts(d).partitions[0].subpartitions.push_back("p0sp2"); }},
      {"views", "removed", [](Database& d) { d.views.pop_back(); }},
      {"views.name", "value", [](Database& d) { d.views[1].name = "v_orders2"; }},
      {"views.definition", "value", [](Database& d) { d.views[1].definition += " limit 1"; }},
      {"views.algorithm", "value", [](Database& d) { d.views[1].algorithm = "TEMPTABLE"; }},
      {"views.security", "value", [](Database& d) { d.views[1].security = "INVOKER"; }},
      {"views.check_option", "value", [](Database& d) { d.views[1].check_option = "LOCAL"; }},
      {"views.definer", "value", [](Database& d) { d.views[1].definer = "root@%"; }},
      {"views.charset", "value", [](Database& d) { d.views[1].charset = "utf8mb4"; }},
      {"views.collation", "value", [](Database& d) { d.views[1].collation = "latin1_bin"; }},
      {"routines", "removed", [](Database& d) { d.routines.pop_back(); }},
      {"routines.name", "value", [](Database& d) { d.routines[1].name = "p_touch2"; }},
      {"routines.kind", "value", [](Database& d) { d.routines[1].kind = "FUNCTION"; }},
      {"routines.parameters", "reordered", [](Database& d) { Reverse(d.routines[1].parameters); }},
      {"routines.parameters", "removed", [](Database& d) { d.routines[0].parameters.clear(); }},
      {"routines.parameters.mode", "value", [](Database& d) { d.routines[1].parameters[0].mode = "INOUT"; }},
      {"routines.parameters.name", "value", [](Database& d) { d.routines[1].parameters[0].name = "aa"; }},
      {"routines.parameters.type", "value", [](Database& d) { d.routines[1].parameters[0].type = "bigint(20)"; }},
      {"routines.parameter_list", "value", [](Database& d) { d.routines[1].parameter_list = "IN a BIGINT"; }},
      {"routines.returns", "value", [](Database& d) { d.routines[0].returns = "bigint(20)"; }},
      {"routines.body", "value", [](Database& d) { d.routines[0].body = "RETURN n * 3"; }},
      {"routines.deterministic", "flipped", [](Database& d) { d.routines[0].deterministic = false; }},
      {"routines.data_access", "value", [](Database& d) { d.routines[0].data_access = "CONTAINS SQL"; }},
      {"routines.security", "value", [](Database& d) { d.routines[0].security = "DEFINER"; }},
      {"routines.definer", "value", [](Database& d) { d.routines[0].definer = "app@%"; }},
      {"routines.comment", "value", [](Database& d) { d.routines[0].comment = ""; }},
      {"routines.sql_mode", "value", [](Database& d) { d.routines[0].sql_mode = ""; }},
      {"triggers", "removed", [](Database& d) { d.triggers.pop_back(); }},
      {"triggers.name", "value", [](Database& d) { d.triggers[0].name = "trg_bi2"; }},
      {"triggers.table", "value", [](Database& d) { d.triggers[0].table = "customers"; }},
      {"triggers.timing", "value", [](Database& d) { d.triggers[0].timing = "AFTER"; }},
      {"triggers.event", "value", [](Database& d) { d.triggers[0].event = "DELETE"; }},
      {"triggers.order", "value", [](Database& d) { d.triggers[0].order = 2; }},
      {"triggers.body", "value", [](Database& d) { d.triggers[0].body = "SET NEW.note = 'y'"; }},
      {"triggers.definer", "value", [](Database& d) { d.triggers[0].definer = "app@%"; }},
      {"triggers.sql_mode", "value", [](Database& d) { d.triggers[0].sql_mode = ""; }},
      {"events", "removed", [](Database& d) { d.events.pop_back(); }},
      {"events.name", "value", [](Database& d) { d.events[0].name = "ev_a2"; }},
      {"events.definer", "value", [](Database& d) { d.events[0].definer = "app@%"; }},
      {"events.body", "value", [](Database& d) { d.events[0].body = "DO 2"; }},
      {"events.schedule", "value", [](Database& d) { d.events[0].schedule = "EVERY 2 DAY"; }},
      {"events.on_completion", "value", [](Database& d) { d.events[0].on_completion = "NOT PRESERVE"; }},
      {"events.status", "value", [](Database& d) { d.events[0].status = "SLAVESIDE_DISABLED"; }},
      {"events.comment", "value", [](Database& d) { d.events[0].comment = "Purge"; }},
      {"events.sql_mode", "value", [](Database& d) { d.events[0].sql_mode = ""; }},
  };
  return kMutations;
}

// Each entry changes one field the hash leaves out.
inline const std::vector<Mutation>& UnhashedMutations() {
  static const std::vector<Mutation> kMutations = {
      {"name", "value", [](Database& d) { d.name = "shop_staging"; }},
      {"tables.stats", "reset", [](Database& d) { Orders(d).stats = TableStats{}; }},
      {"tables.stats.rows_estimate", "value", [](Database& d) { Orders(d).stats.rows_estimate++; }},
      {"tables.stats.data_length", "value", [](Database& d) { Orders(d).stats.data_length++; }},
      {"tables.stats.index_length", "value", [](Database& d) { Orders(d).stats.index_length++; }},
      {"tables.stats.auto_increment", "value", [](Database& d) { Orders(d).stats.auto_increment++; }},
      {"tables.indexes.position", "value", [](Database& d) { ByNote(d).position += 7; }},
  };
  return kMutations;
}

}  // namespace sqlx::ir::testing
