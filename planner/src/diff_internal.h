// Internal to planner/: what diff.cc and table_diff.cc share. Not a public
// header.
#pragma once

#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "sqlx/messages/ir.h"
#include "sqlx/planner/plan.h"

namespace sqlx::planner::internal {


inline int Severity(OpClass c) {
  switch (c) {
    case OpClass::kSafe: return 0;
    case OpClass::kBackwardIncompatible: return 1;
    case OpClass::kDataDependent: return 2;
    case OpClass::kDestructive: return 3;
  }
  return 0;
}

inline void Raise(Operation* op, OpClass c, const std::string& note) {
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

// One table's changes: the clauses of its ALTER TABLE and, apart, the
// foreign keys to drop before and add after every table's change.
struct TableDiff {
  std::vector<std::string> clauses;      // one ALTER TABLE (without foreign keys)
  std::vector<std::string> partitioning; // separate ALTER statements
  std::vector<std::string> fk_drops;     // DROP FOREIGN KEY clauses
  std::vector<std::string> fk_adds;      // ADD CONSTRAINT ... FOREIGN KEY clauses
  Operation op;                          // changes, notes, class
  Operation fk_drop_op, fk_add_op;
};

// `renames`: new column name → old column name. `rebuilt_fks`: foreign keys
// to drop and add again although unchanged (a column they join on changes
// type: the server refuses that under a live foreign key).
TableDiff DiffTable(const ir::Table& from, const ir::Table& to, const std::map<std::string, std::string>& renames,
                    const std::set<std::string>& rebuilt_fks = {});

// ALTER TABLE `table` with the clauses, one per line.
std::string AlterTable(const std::string& table, const std::vector<std::string>& clauses);
// The table's ALTER statements (main clauses, then partitioning), ";\n"-joined.
std::string TableSql(const std::string& name, const TableDiff& d);
ir::Table WithoutForeignKeys(ir::Table t);

}  // namespace sqlx::planner::internal
