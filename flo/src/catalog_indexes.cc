// CatalogBuilder: what hangs off a table besides its columns — indexes
// (STATISTICS), foreign keys (KEY_COLUMN_USAGE + REFERENTIAL_CONSTRAINTS),
// CHECK constraints and partitions. Catalog rows come in any order: parts
// and members are collected with their ordinal and sorted at the end.
#include <algorithm>
#include <map>
#include <tuple>

#include "catalog.h"

namespace sqlx::flo {

namespace {

template <class T>
void SortByOrdinal(std::vector<std::pair<uint64_t, T>>* items) {
  std::stable_sort(items->begin(), items->end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
}

std::string IndexKind(const std::string& name, const std::string& index_type, const std::string& non_unique) {
  if (name == "PRIMARY") return "PRIMARY";
  if (index_type == "FULLTEXT" || index_type == "SPATIAL") return index_type;
  return non_unique == "0" ? "UNIQUE" : "INDEX";
}

}  // namespace

Status CatalogBuilder::AddIndexes(const CatalogRows& rows) {
  int schema, table_col, name, non_unique, seq, column, sub_part, collation, index_type, comment;
  SQLX_RETURN_IF_ERROR(Require(rows, {{"TABLE_SCHEMA", &schema},
                                      {"TABLE_NAME", &table_col},
                                      {"INDEX_NAME", &name},
                                      {"NON_UNIQUE", &non_unique},
                                      {"SEQ_IN_INDEX", &seq},
                                      {"COLUMN_NAME", &column},
                                      {"SUB_PART", &sub_part},
                                      {"COLLATION", &collation},
                                      {"INDEX_TYPE", &index_type},
                                      {"INDEX_COMMENT", &comment}}));
  const int ignored = rows.Find("IGNORED");        // MariaDB >= 10.6
  const int visible = rows.Find("IS_VISIBLE");     // MySQL >= 8.0
  const int expression = rows.Find("EXPRESSION");  // MySQL >= 8.0.13 functional parts
  std::map<std::pair<ir::Table*, std::string>, std::vector<std::pair<uint64_t, ir::IndexPart>>> parts;
  for (const CatalogRow& row : rows.rows) {
    DbState* db = Db(Cell(row, schema));
    ir::Table* table = FindTable(db, Cell(row, table_col));
    if (table == nullptr) continue;
    const std::string index_name = CellText(row, name);
    auto key = std::make_pair(table, index_name);
    if (parts.find(key) == parts.end()) {
      ir::Index index;
      index.name = index_name;
      const std::string type = CellText(row, index_type);
      index.kind = IndexKind(index_name, type, CellText(row, non_unique));
      if (index.kind != "FULLTEXT" && index.kind != "SPATIAL") index.algorithm = IndexAlgorithm(*db, table->name, type);
      index.comment = CellText(row, comment);
      index.ignored = CellText(row, ignored) == "YES" || CellText(row, visible) == "NO";
      // The catalog lists a table's keys in the server's own key order.
      index.position = static_cast<uint32_t>(table->indexes.size() + 1);
      table->indexes.push_back(std::move(index));
      parts[key];
    }
    ir::IndexPart part;
    part.column = CellText(row, column);
    if (part.column.empty()) part.expression = CellText(row, expression);
    if (Cell(row, sub_part)) part.prefix_length = static_cast<uint32_t>(CellNumber(row, sub_part));
    part.descending = CellText(row, collation) == "D";
    parts[key].emplace_back(CellNumber(row, seq), std::move(part));
  }
  for (auto& [key, list] : parts) {
    SortByOrdinal(&list);
    for (ir::Index& index : key.first->indexes) {
      if (index.name != key.second) continue;
      for (auto& [ordinal, part] : list) index.parts.push_back(std::move(part));
    }
  }
  return Status::Ok();
}

Status CatalogBuilder::AddForeignKeyColumns(const CatalogRows& rows) {
  int schema, table_col, name, column, position, ref_schema, ref_table, ref_column;
  SQLX_RETURN_IF_ERROR(Require(rows, {{"TABLE_SCHEMA", &schema},
                                      {"TABLE_NAME", &table_col},
                                      {"CONSTRAINT_NAME", &name},
                                      {"COLUMN_NAME", &column},
                                      {"ORDINAL_POSITION", &position},
                                      {"REFERENCED_TABLE_SCHEMA", &ref_schema},
                                      {"REFERENCED_TABLE_NAME", &ref_table},
                                      {"REFERENCED_COLUMN_NAME", &ref_column}}));
  using ColumnPair = std::pair<std::string, std::string>;
  std::map<std::pair<ir::Table*, std::string>, std::vector<std::pair<uint64_t, ColumnPair>>> columns;
  for (const CatalogRow& row : rows.rows) {
    DbState* db = Db(Cell(row, schema));
    ir::Table* table = FindTable(db, Cell(row, table_col));
    if (table == nullptr || !Cell(row, ref_table)) continue;
    const std::string fk_name = CellText(row, name);
    auto key = std::make_pair(table->name, fk_name);
    if (db->foreign_keys.find(key) == db->foreign_keys.end()) {
      ir::ForeignKey fk;
      fk.name = fk_name;
      fk.referenced_schema = CellText(row, ref_schema);
      if (fk.referenced_schema == db->db.name) fk.referenced_schema.clear();
      fk.referenced_table = CellText(row, ref_table);
      db->foreign_keys[key] = table->foreign_keys.size();
      table->foreign_keys.push_back(std::move(fk));
    }
    columns[{table, fk_name}].emplace_back(CellNumber(row, position),
                                           ColumnPair(CellText(row, column), CellText(row, ref_column)));
  }
  for (auto& [key, list] : columns) {
    SortByOrdinal(&list);
    for (ir::ForeignKey& fk : key.first->foreign_keys) {
      if (fk.name != key.second) continue;
      for (const auto& [ordinal, pair] : list) {
        fk.columns.push_back(pair.first);
        fk.referenced_columns.push_back(pair.second);
      }
    }
  }
  return Status::Ok();
}

Status CatalogBuilder::AddForeignKeyRules(const CatalogRows& rows) {
  int schema, table_col, name, update_rule, delete_rule;
  SQLX_RETURN_IF_ERROR(Require(rows, {{"CONSTRAINT_SCHEMA", &schema},
                                      {"TABLE_NAME", &table_col},
                                      {"CONSTRAINT_NAME", &name},
                                      {"UPDATE_RULE", &update_rule},
                                      {"DELETE_RULE", &delete_rule}}));
  for (const CatalogRow& row : rows.rows) {
    DbState* db = Db(Cell(row, schema));
    ir::Table* table = FindTable(db, Cell(row, table_col));
    if (table == nullptr) continue;
    auto it = db->foreign_keys.find({table->name, CellText(row, name)});
    if (it == db->foreign_keys.end()) continue;
    ir::ForeignKey& fk = table->foreign_keys[it->second];
    fk.on_update = CellText(row, update_rule);
    fk.on_delete = CellText(row, delete_rule);
  }
  return Status::Ok();
}

Status CatalogBuilder::AddChecks(const CatalogRows& rows) {
  int schema, table_col, name, clause;
  SQLX_RETURN_IF_ERROR(Require(rows, {{"CONSTRAINT_SCHEMA", &schema},
                                      {"TABLE_NAME", &table_col},
                                      {"CONSTRAINT_NAME", &name},
                                      {"CHECK_CLAUSE", &clause}}));
  const int level = rows.Find("LEVEL");  // MariaDB: 'Column' or 'Table'
  for (const CatalogRow& row : rows.rows) {
    DbState* db = Db(Cell(row, schema));
    ir::Table* table = FindTable(db, Cell(row, table_col));
    if (table == nullptr) continue;
    ir::Check check;
    check.name = CellText(row, name);
    check.clause = CellText(row, clause);
    if (level < 0) {
      db->db.not_visible.push_back(
          "checks: this server's catalog does not say which CHECK constraints were written on a column; "
          "all are read as table constraints");
    }
    check.column_level = CellText(row, level) == "Column";
    table->checks.push_back(std::move(check));
  }
  return Status::Ok();
}

Status CatalogBuilder::AddPartitions(const CatalogRows& rows) {
  int schema, table_col, name, sub_name, ordinal, sub_ordinal, method, sub_method, expression, sub_expression,
      description, comment;
  SQLX_RETURN_IF_ERROR(Require(rows, {{"TABLE_SCHEMA", &schema},
                                      {"TABLE_NAME", &table_col},
                                      {"PARTITION_NAME", &name},
                                      {"SUBPARTITION_NAME", &sub_name},
                                      {"PARTITION_ORDINAL_POSITION", &ordinal},
                                      {"SUBPARTITION_ORDINAL_POSITION", &sub_ordinal},
                                      {"PARTITION_METHOD", &method},
                                      {"SUBPARTITION_METHOD", &sub_method},
                                      {"PARTITION_EXPRESSION", &expression},
                                      {"SUBPARTITION_EXPRESSION", &sub_expression},
                                      {"PARTITION_DESCRIPTION", &description},
                                      {"PARTITION_COMMENT", &comment}}));
  struct Members {
    std::vector<std::pair<uint64_t, ir::Partition>> partitions;
    std::map<std::string, std::vector<std::pair<uint64_t, std::string>>> subpartitions;
  };
  std::map<ir::Table*, Members> members;
  for (const CatalogRow& row : rows.rows) {
    ir::Table* table = FindTable(Db(Cell(row, schema)), Cell(row, table_col));
    if (table == nullptr || !Cell(row, name)) continue;
    if (!table->partitioning) {
      ir::Partitioning p;
      p.method = CellText(row, method);
      p.expression = CellText(row, expression);
      p.subpartition_method = CellText(row, sub_method);
      p.subpartition_expression = CellText(row, sub_expression);
      table->partitioning = std::move(p);
    }
    Members& m = members[table];
    const std::string partition_name = CellText(row, name);
    auto known = std::find_if(m.partitions.begin(), m.partitions.end(),
                              [&](const auto& p) { return p.second.name == partition_name; });
    if (known == m.partitions.end()) {
      ir::Partition partition;
      partition.name = partition_name;
      partition.description = CellText(row, description);
      partition.comment = CellText(row, comment);
      m.partitions.emplace_back(CellNumber(row, ordinal), std::move(partition));
    }
    if (Cell(row, sub_name))
      m.subpartitions[partition_name].emplace_back(CellNumber(row, sub_ordinal), CellText(row, sub_name));
  }
  for (auto& [table, m] : members) {
    SortByOrdinal(&m.partitions);
    for (auto& [partition_ordinal, partition] : m.partitions) {
      auto& subs = m.subpartitions[partition.name];
      SortByOrdinal(&subs);
      for (auto& [subpartition_ordinal, sub] : subs) partition.subpartitions.push_back(std::move(sub));
      table->partitioning->partitions.push_back(std::move(partition));
    }
  }
  return Status::Ok();
}

}  // namespace sqlx::flo
