// A database in which every IR field holds a non-default value and every
// list has at least two elements, in canonical order: the base that the IR
// tests mutate, shuffle and round-trip.
#pragma once

#include <string>

#include "sqlx/messages/ir.h"

namespace sqlx::ir::testing {

inline Column MakeColumn(std::string name, uint32_t position, std::string type) {
  Column c;
  c.name = std::move(name);
  c.position = position;
  c.column_type = std::move(type);
  return c;
}

inline Table OrdersTable() {
  Table t;
  t.name = "orders";
  t.engine = "InnoDB";
  t.row_format = "DYNAMIC";
  t.charset = "utf8mb4";
  t.collation = "utf8mb4_general_ci";
  t.comment = "customer orders";
  t.create_options = "stats_persistent=1";

  Column id = MakeColumn("id", 1, "int(10) unsigned");
  id.nullable = false;
  id.auto_increment = true;
  Column customer = MakeColumn("customer_id", 2, "int(11)");
  customer.default_value = "NULL";
  Column created = MakeColumn("created", 3, "timestamp");
  created.nullable = false;
  created.default_value = "current_timestamp()";
  created.on_update = "current_timestamp()";
  Column doubled = MakeColumn("doubled", 4, "int(11)");
  doubled.generation_kind = "STORED";
  doubled.generation_expression = "`id` * 2";
  Column note = MakeColumn("note", 5, "varchar(100)");
  note.default_value = "'n/a'";
  note.invisible = true;
  note.charset = "utf8mb4";
  note.collation = "utf8mb4_bin";
  note.comment = "free text";
  t.columns = {id, customer, created, doubled, note};

  Index primary{"PRIMARY", "PRIMARY", "BTREE", {{"id", std::nullopt, false, ""}}, "", false};
  Index by_customer{"idx_customer_created", "INDEX", "BTREE",
                    {{"customer_id", std::nullopt, false, ""}, {"created", std::nullopt, true, ""}},
                    "lookups", true};
  Index by_note{"idx_note", "UNIQUE", "HASH", {{"note", 10u, false, ""}, {"", std::nullopt, false, "`id` + 1"}},
                "", false};
  t.indexes = {primary, by_customer, by_note};

  t.foreign_keys = {
      {"fk_customer", {"customer_id"}, "", "customers", {"id"}, "RESTRICT", "CASCADE"},
      {"fk_pair", {"customer_id", "id"}, "billing", "accounts", {"owner", "seq"}, "NO ACTION", "SET NULL"},
  };
  t.checks = {{"chk_doubled", "`doubled` >= 0", false}, {"note", "char_length(`note`) > 0", true}};

  Partitioning p;
  p.method = "RANGE";
  p.expression = "`id`";
  p.subpartition_method = "HASH";
  p.subpartition_expression = "`id`";
  p.partitions = {{"p0", "100", "first", {"p0sp0", "p0sp1"}}, {"p1", "MAXVALUE", "", {"p1sp0", "p1sp1"}}};
  t.partitioning = p;

  t.stats = {1000, 65536, 16384, 1001};
  return t;
}

inline Table CustomersTable() {
  Table t;
  t.name = "customers";
  t.engine = "Aria";
  t.charset = "latin1";
  t.collation = "latin1_swedish_ci";
  Column id = MakeColumn("id", 1, "int(11)");
  id.nullable = false;
  t.columns = {id, MakeColumn("name", 2, "varchar(50)")};
  t.indexes = {{"PRIMARY", "PRIMARY", "", {{"id", std::nullopt, false, ""}}, "", false},
               {"uk_name", "UNIQUE", "", {{"name", std::nullopt, false, ""}}, "", false}};
  t.stats = {2, 16384, 16384, 3};
  return t;
}

inline Database SampleDatabase() {
  Database d;
  d.name = "shop";
  d.charset = "utf8mb4";
  d.collation = "utf8mb4_general_ci";
  d.tables = {CustomersTable(), OrdersTable()};
  d.views = {
      {"v_big", "select `orders`.`id` AS `id` from `orders` where `orders`.`doubled` > 10", "MERGE", "INVOKER",
       "CASCADED", "app@%", "utf8mb4", "utf8mb4_general_ci"},
      {"v_orders", "select `orders`.`id` AS `id` from `orders`", "UNDEFINED", "DEFINER", "NONE",
       "root@localhost", "latin1", "latin1_swedish_ci"},
  };
  d.routines = {
      {"f_total", "FUNCTION", {{"", "n", "int(11)"}}, "n INT", "int(11)", "RETURN n * 2", true, "NO SQL", "INVOKER",
       "root@localhost", "doubles", "STRICT_TRANS_TABLES"},
      {"p_touch", "PROCEDURE", {{"IN", "a", "int(11)"}, {"OUT", "b", "varchar(10)"}}, "IN a INT, OUT b VARCHAR(10)", "", "BEGIN SELECT a; END",
       false, "READS SQL DATA", "DEFINER", "root@localhost", "", "ANSI_QUOTES"},
  };
  d.triggers = {
      {"trg_bi", "orders", "BEFORE", "INSERT", 1, "SET NEW.note = 'x'", "root@localhost", "STRICT_ALL_TABLES"},
      {"trg_au", "orders", "AFTER", "UPDATE", 1, "SET @n = 1", "app@%", ""},
  };
  d.events = {
      {"ev_a", "root@localhost", "DELETE FROM orders WHERE id < 0", "EVERY 1 DAY STARTS '2024-01-01 00:00:00'",
       "PRESERVE", "ENABLED", "purge", "STRICT_TRANS_TABLES"},
      {"ev_b", "app@%", "DO 1", "AT '2030-01-01 00:00:00'", "NOT PRESERVE", "DISABLED", "", ""},
  };
  d.not_visible = {"events: needs the EVENT privilege", "triggers: needs the TRIGGER privilege"};
  return d;
}

// The named table. REQUIRES: it exists.
inline Table& TableNamed(Database& d, const std::string& name) {
  for (Table& t : d.tables)
    if (t.name == name) return t;
  return d.tables.front();
}

}  // namespace sqlx::ir::testing
