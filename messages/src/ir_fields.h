// The one table of IR JSON keys: for each IR struct, its fields in canonical
// (byte-sorted) key order, with the ones the profile hash leaves out marked.
// Writing, reading and the every-field tests all derive from it, so a field
// added to ir.h and here is serialized, parsed and hashed with no other edit.
#pragma once

#include <concepts>
#include <optional>
#include <type_traits>
#include <vector>

#include "sqlx/messages/ir.h"

namespace sqlx::ir {

// Hashed::kNo: written by ToCanonicalJson(db, false), left out when for_hash.
enum class Hashed { kYes, kNo };

template <class C, class T>
concept Is = std::same_as<std::remove_const_t<C>, T>;

// The shapes a member takes besides strings, bools and unsigned integers
// (every other class member is an IR struct with a Fields() below).
template <class T>
struct IsVector : std::false_type {};
template <class T>
struct IsVector<std::vector<T>> : std::true_type {};
template <class T>
struct IsOptional : std::false_type {};
template <class T>
struct IsOptional<std::optional<T>> : std::true_type {};

// Each Fields(obj, visit) calls visit(key, member[, Hashed::kNo]) once per
// field, keys in strictly increasing byte order (RFC 8785 member order).
// `obj` may be const (writing) or not (reading).

template <class C, class V> requires Is<C, Column>
void Fields(C& c, V& visit) {
  visit("auto_increment", c.auto_increment);
  visit("charset", c.charset);
  visit("collation", c.collation);
  visit("column_type", c.column_type);
  visit("comment", c.comment);
  visit("default_value", c.default_value);
  visit("generation_expression", c.generation_expression);
  visit("generation_kind", c.generation_kind);
  visit("invisible", c.invisible);
  visit("name", c.name);
  visit("nullable", c.nullable);
  visit("on_update", c.on_update);
  visit("position", c.position);
}

template <class C, class V> requires Is<C, IndexPart>
void Fields(C& p, V& visit) {
  visit("column", p.column);
  visit("descending", p.descending);
  visit("expression", p.expression);
  visit("prefix_length", p.prefix_length);
}

template <class C, class V> requires Is<C, Index>
void Fields(C& i, V& visit) {
  visit("algorithm", i.algorithm);
  visit("comment", i.comment);
  visit("ignored", i.ignored);
  visit("kind", i.kind);
  visit("name", i.name);
  visit("parts", i.parts);
  visit("position", i.position, Hashed::kNo);
}

template <class C, class V> requires Is<C, ForeignKey>
void Fields(C& f, V& visit) {
  visit("columns", f.columns);
  visit("name", f.name);
  visit("on_delete", f.on_delete);
  visit("on_update", f.on_update);
  visit("referenced_columns", f.referenced_columns);
  visit("referenced_schema", f.referenced_schema);
  visit("referenced_table", f.referenced_table);
}

template <class C, class V> requires Is<C, Check>
void Fields(C& c, V& visit) {
  visit("clause", c.clause);
  visit("column_level", c.column_level);
  visit("name", c.name);
}

template <class C, class V> requires Is<C, Partition>
void Fields(C& p, V& visit) {
  visit("comment", p.comment);
  visit("description", p.description);
  visit("name", p.name);
  visit("subpartitions", p.subpartitions);
}

template <class C, class V> requires Is<C, Partitioning>
void Fields(C& p, V& visit) {
  visit("expression", p.expression);
  visit("method", p.method);
  visit("partitions", p.partitions);
  visit("subpartition_expression", p.subpartition_expression);
  visit("subpartition_method", p.subpartition_method);
}

template <class C, class V> requires Is<C, TableStats>
void Fields(C& s, V& visit) {
  visit("auto_increment", s.auto_increment);
  visit("data_length", s.data_length);
  visit("index_length", s.index_length);
  visit("rows_estimate", s.rows_estimate);
}

template <class C, class V> requires Is<C, Table>
void Fields(C& t, V& visit) {
  visit("charset", t.charset);
  visit("checks", t.checks);
  visit("collation", t.collation);
  visit("columns", t.columns);
  visit("comment", t.comment);
  visit("create_options", t.create_options);
  visit("engine", t.engine);
  visit("foreign_keys", t.foreign_keys);
  visit("indexes", t.indexes);
  visit("name", t.name);
  visit("partitioning", t.partitioning);
  visit("row_format", t.row_format);
  visit("stats", t.stats, Hashed::kNo);
}

template <class C, class V> requires Is<C, View>
void Fields(C& v, V& visit) {
  visit("algorithm", v.algorithm);
  visit("charset", v.charset);
  visit("check_option", v.check_option);
  visit("collation", v.collation);
  visit("definer", v.definer);
  visit("definition", v.definition);
  visit("name", v.name);
  visit("security", v.security);
}

template <class C, class V> requires Is<C, RoutineParameter>
void Fields(C& p, V& visit) {
  visit("mode", p.mode);
  visit("name", p.name);
  visit("type", p.type);
}

template <class C, class V> requires Is<C, Routine>
void Fields(C& r, V& visit) {
  visit("body", r.body);
  visit("comment", r.comment);
  visit("data_access", r.data_access);
  visit("definer", r.definer);
  visit("deterministic", r.deterministic);
  visit("kind", r.kind);
  visit("name", r.name);
  visit("parameter_list", r.parameter_list);
  visit("parameters", r.parameters);
  visit("returns", r.returns);
  visit("security", r.security);
  visit("sql_mode", r.sql_mode);
}

template <class C, class V> requires Is<C, Trigger>
void Fields(C& t, V& visit) {
  visit("body", t.body);
  visit("definer", t.definer);
  visit("event", t.event);
  visit("name", t.name);
  visit("order", t.order);
  visit("sql_mode", t.sql_mode);
  visit("table", t.table);
  visit("timing", t.timing);
}

template <class C, class V> requires Is<C, Event>
void Fields(C& e, V& visit) {
  visit("body", e.body);
  visit("comment", e.comment);
  visit("definer", e.definer);
  visit("name", e.name);
  visit("on_completion", e.on_completion);
  visit("schedule", e.schedule);
  visit("sql_mode", e.sql_mode);
  visit("status", e.status);
}

template <class C, class V> requires Is<C, Database>
void Fields(C& d, V& visit) {
  visit("charset", d.charset);
  visit("collation", d.collation);
  visit("events", d.events);
  visit("name", d.name, Hashed::kNo);
  visit("not_visible", d.not_visible);
  visit("routines", d.routines);
  visit("tables", d.tables);
  visit("triggers", d.triggers);
  visit("views", d.views);
}

}  // namespace sqlx::ir
