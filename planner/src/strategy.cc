// Strategy choice per operation from the server's capabilities (strategy.h).
// Each change of a table needs at least some algorithm; the table's ALTER
// gets the strongest its changes need, with the change that decided it as
// the reason. What was measured on MariaDB 10.11 (add_drop_reorder):
//   INSTANT: ADD/DROP/reorder column, SET DEFAULT, rename, column comment,
//     VARCHAR widened in its length-byte class, ENUM values appended, ON UPDATE,
//     INVISIBLE, table comment and default charset, DROP FOREIGN KEY / CHECK.
//   INPLACE, LOCK=NONE: ADD/DROP INDEX, ADD UNIQUE, NOT NULL, collation of an
//     indexed column, ROW_FORMAT, PRIMARY KEY change (a rebuild).
//   COPY only: column type changes, charset conversion, ADD CHECK, STORED
//     generated columns, ADD FOREIGN KEY with foreign_key_checks on.
//   LOCK=SHARED at least: FULLTEXT and SPATIAL indexes.
#include "sqlx/planner/strategy.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "column_types.h"
#include "sqlx/planner/duration.h"
#include "sqlx/planner/guardrails.h"
#include "sqlx/planner/render_sql.h"

namespace sqlx::planner {

namespace {

using nlohmann::json;

int Rank(Strategy s) {
  switch (s) {
    case Strategy::kUnknown: return -1;
    case Strategy::kNone: return 0;
    case Strategy::kInstant: return 1;
    case Strategy::kInplace: return 2;
    case Strategy::kOnlineCopy: return 3;
    case Strategy::kCopy: return 4;
  }
  return -1;
}

template <class T>
const T* Named(const std::vector<T>& list, const std::string& name) {
  for (const T& item : list)
    if (item.name == name) return &item;
  return nullptr;
}

bool IsInnoDb(const std::string& engine) { return engine.empty() || LowerAscii(engine) == "innodb"; }

// The strongest need among a table's changes.
class Need {
 public:
  explicit Need(const ServerCapabilities& server) : server_(server) {}

  // An instant change; in place where the server has no ALGORITHM=INSTANT
  // or `capable` is false (`capability` names what was missing).
  void Instant(bool capable, const std::string& change, const std::string& capability) {
    if (capable && server_.algorithm_instant) {
      Raise(Strategy::kInstant, change + ": instant" + (capability.empty() ? "" : " (" + capability + ")"));
    } else if (!server_.algorithm_instant) {
      Raise(Strategy::kInplace, change + ": in place (" + server_.basis + ": no ALGORITHM=INSTANT assumed)");
    } else {
      Raise(Strategy::kInplace, change + ": in place, LOCK=NONE (not instant: " + capability + ")");
    }
  }
  void Raise(Strategy s, const std::string& reason) {
    if (Rank(s) > Rank(strategy_)) {
      strategy_ = s;
      reason_ = reason;
    }
  }
  Strategy strategy() const { return strategy_; }
  const std::string& reason() const { return reason_; }

 private:
  const ServerCapabilities& server_;
  Strategy strategy_ = Strategy::kNone;
  std::string reason_;
};

// Storage bytes of an ENUM (by value count) or SET (by member count).
int EnumBytes(const ColumnType& t) {
  const size_t n = t.args.size();
  if (t.base == "enum") return n <= 255 ? 1 : 2;
  const size_t bytes = (n + 7) / 8;
  return bytes > 4 ? 8 : static_cast<int>(bytes == 0 ? 1 : bytes);
}

void ColumnNeeds(const ir::Column& a, const ir::Column& b, bool renamed, bool fulltext, const ServerCapabilities& server,
                 Need* need) {
  const std::string col = "column " + QuoteIdentifier(b.name);
  const bool mariadb = server.flavor == "MariaDB";  // what was measured (the file's opening comment)
  if (renamed) need->Instant(server.instant_rename_column, "rename " + col, "instant_rename_column");
  if (a.default_value != b.default_value) need->Instant(true, col + " default", "");
  if (a.comment != b.comment) need->Instant(mariadb, col + " comment", "measured on MariaDB only");
  if (a.on_update != b.on_update) need->Instant(mariadb, col + " ON UPDATE", "measured on MariaDB only");
  if (a.invisible != b.invisible) need->Instant(mariadb, col + " visibility", "measured on MariaDB only");
  if (a.nullable != b.nullable)
    need->Raise(Strategy::kInplace, col + (b.nullable ? " allows NULL" : " becomes NOT NULL") + ": rebuilt in place, LOCK=NONE");
  if (a.auto_increment != b.auto_increment)
    need->Raise(Strategy::kOnlineCopy, col + " AUTO_INCREMENT changed: the table is copied");
  if (a.generation_kind != b.generation_kind || a.generation_expression != b.generation_expression)
    need->Raise(Strategy::kOnlineCopy, col + " generation changed: the table is copied");
  if (a.charset != b.charset && !a.charset.empty() && !b.charset.empty()) {
    need->Raise(Strategy::kOnlineCopy, col + " character set " + a.charset + " -> " + b.charset + ": the table is copied");
  } else if (a.collation != b.collation) {
    need->Raise(Strategy::kInplace, col + " collation " + a.collation + " -> " + b.collation +
                                        ": its indexes are rebuilt in place, LOCK=NONE");
  }
  if (a.column_type == b.column_type) return;
  const ColumnType ta = ParseColumnType(a.column_type), tb = ParseColumnType(b.column_type);
  const std::string change = col + " " + a.column_type + " -> " + b.column_type;
  if (ta.base == "varchar" && tb.base == "varchar" && !ta.args.empty() && !tb.args.empty() && a.charset == b.charset) {
    const uint64_t ca = LeadingNumber(ta.args[0]), cb = LeadingNumber(tb.args[0]);
    const uint64_t bytes_a = ca * MaxBytesPerChar(a.charset), bytes_b = cb * MaxBytesPerChar(b.charset);
    if (cb >= ca && (bytes_a > 255) == (bytes_b > 255)) {
      need->Instant(server.instant_varchar_widening && !fulltext, change + " (same length bytes)",
                    "instant_varchar_widening");
      return;
    }
    if (cb >= ca) {
      need->Raise(Strategy::kOnlineCopy, change + ": the length prefix grows from 1 to 2 bytes, the table is copied");
      return;
    }
  }
  if (ta.base == tb.base && (ta.base == "enum" || ta.base == "set") && tb.args.size() >= ta.args.size() &&
      std::equal(ta.args.begin(), ta.args.end(), tb.args.begin()) && EnumBytes(ta) == EnumBytes(tb)) {
    need->Instant(true, change + " (values appended)", "");
    return;
  }
  need->Raise(Strategy::kOnlineCopy, change + ": a type change copies the table");
}

bool HasFulltext(const ir::Table& t) {
  return std::any_of(t.indexes.begin(), t.indexes.end(), [](const ir::Index& i) { return i.kind == "FULLTEXT"; });
}

// Columns dropped, added, changed and reordered (`renames`: new column → old).
void ColumnsNeeds(const ir::Table& from, const ir::Table& to, const std::map<std::string, std::string>& renames,
                  const ServerCapabilities& server, Need* need) {
  auto old_name = [&](const std::string& name) {
    auto it = renames.find(name);
    return it == renames.end() ? name : it->second;
  };
  // A FULLTEXT index adds a hidden FTS_DOC_ID column: no instant column change.
  const bool fulltext = HasFulltext(from) || HasFulltext(to);
  auto why = [&](const char* capability) { return fulltext ? std::string("the table has a FULLTEXT index") : capability; };
  std::set<std::string> kept_old;
  for (const ir::Column& c : to.columns) kept_old.insert(old_name(c.name));
  for (const ir::Column& c : from.columns) {
    if (kept_old.count(c.name)) continue;
    need->Instant(server.instant_drop_column && !fulltext, "drop column " + QuoteIdentifier(c.name),
                  why("instant_drop_column"));
  }
  std::vector<std::string> old_order, new_order;  // kept columns by their new names
  for (const ir::Column& c : from.columns) {
    for (const ir::Column& n : to.columns)
      if (old_name(n.name) == c.name) old_order.push_back(n.name);
  }
  for (size_t i = 0; i < to.columns.size(); ++i) {
    const ir::Column& c = to.columns[i];
    const ir::Column* was = Named(from.columns, old_name(c.name));
    if (was != nullptr) {
      new_order.push_back(c.name);
      ColumnNeeds(*was, c, old_name(c.name) != c.name, fulltext, server, need);
      continue;
    }
    const std::string add = "add column " + QuoteIdentifier(c.name);
    const bool last = std::all_of(to.columns.begin() + static_cast<std::ptrdiff_t>(i), to.columns.end(),
                                  [&](const ir::Column& n) { return Named(from.columns, old_name(n.name)) == nullptr; });
    if (c.generation_kind == "STORED") {
      need->Raise(Strategy::kOnlineCopy, add + ": a STORED generated column is computed by copying the table");
    } else if (c.auto_increment) {
      need->Raise(Strategy::kOnlineCopy, add + ": an AUTO_INCREMENT column is filled by copying the table");
    } else if (last) {
      need->Instant(server.instant_add_column && !fulltext, add + " at the end", why("instant_add_column"));
    } else {
      need->Instant(server.instant_add_column_anywhere && !fulltext, add + " before the last column",
                    why("instant_add_column_anywhere"));
    }
  }
  if (old_order != new_order)
    need->Instant(server.instant_add_column_anywhere && !fulltext, "columns reordered", why("instant_add_column_anywhere"));
}

// Whether every column of `key` exists in `table` (the starting one) and is
// NOT NULL there: InnoDB then rebuilds the table for a new primary key in
// place, with concurrent writes (ALGORITHM=INPLACE, LOCK=NONE).
bool PrimaryKeyColumnsNotNull(const ir::Table& table, const ir::Index& key) {
  for (const ir::IndexPart& part : key.parts) {
    if (part.column.empty()) return false;
    const ir::Column* column = Named(table.columns, part.column);
    if (column == nullptr || column->nullable) return false;
  }
  return !key.parts.empty();
}

// Keys and checks dropped, changed or added.
void KeysNeeds(const ir::Table& from, const ir::Table& to, const ServerCapabilities& server, Need* need) {
  const bool mariadb = server.flavor == "MariaDB";
  auto same_index = [](ir::Index a, ir::Index b) {
    a.position = b.position = 0;
    return a == b;
  };
  for (const ir::Index& index : from.indexes) {
    const ir::Index* now = Named(to.indexes, index.name);
    if (now != nullptr && same_index(index, *now)) continue;
    if (index.kind == "PRIMARY") {
      // Rebuilt in place with concurrent writes when no column has to turn
      // NOT NULL for the new key (then the server refuses INPLACE).
      const ir::Index* key = Named(to.indexes, std::string("PRIMARY"));
      if (key != nullptr && PrimaryKeyColumnsNotNull(from, *key)) {
        need->Raise(Strategy::kInplace, "primary key changed over NOT NULL columns: rebuilt in place, LOCK=NONE");
      } else {
        need->Raise(Strategy::kOnlineCopy, "primary key changed: a column turns NOT NULL or the key goes; "
                                           "the table is rebuilt, for a shadow copy");
      }
    } else {
      need->Raise(Strategy::kInplace, (now ? "change index " : "drop index ") + QuoteIdentifier(index.name) +
                                          ": in place, LOCK=NONE");
    }
  }
  for (const ir::Index& index : to.indexes) {
    const ir::Index* was = Named(from.indexes, index.name);
    if (was != nullptr && same_index(index, *was)) continue;
    const std::string name = index.kind == "PRIMARY" ? std::string("primary key") : "index " + QuoteIdentifier(index.name);
    if (index.kind == "PRIMARY" && was != nullptr) {
      continue;  // a changed key: decided with the drop above
    } else if (index.kind == "PRIMARY" && PrimaryKeyColumnsNotNull(from, index)) {
      need->Raise(Strategy::kInplace, "add primary key over NOT NULL columns: rebuilt in place, LOCK=NONE");
    } else if (index.kind == "PRIMARY") {
      need->Raise(Strategy::kOnlineCopy, "add primary key: a column turns NOT NULL; the table is rebuilt, for a "
                                         "shadow copy");
    } else if (index.kind == "FULLTEXT" || index.kind == "SPATIAL") {
      need->Raise(Strategy::kCopy, "add " + LowerAscii(index.kind) + " " + name +
                                       ": the server builds it under a shared lock (writes wait)");
    } else {
      need->Raise(Strategy::kInplace, "add " + name + ": built in place, LOCK=NONE");
    }
  }
  for (const ir::Check& check : from.checks) {
    if (Named(to.checks, check.name) == nullptr)
      need->Instant(mariadb, "drop check " + QuoteIdentifier(check.name), "measured on MariaDB only");
  }
  for (const ir::Check& check : to.checks) {
    const ir::Check* was = Named(from.checks, check.name);
    if (was == nullptr || !(*was == check))
      need->Raise(Strategy::kOnlineCopy, "check " + QuoteIdentifier(check.name) + ": verified by copying the table");
  }
}

// Engine, table defaults and options, partitioning.
void OptionsNeeds(const ir::Table& from, const ir::Table& to, const ServerCapabilities& server, Need* need) {
  const bool mariadb = server.flavor == "MariaDB";
  if (LowerAscii(from.engine) != LowerAscii(to.engine))
    need->Raise(Strategy::kOnlineCopy, "engine " + from.engine + " -> " + to.engine + ": the table is copied");
  if (from.charset != to.charset || from.collation != to.collation)
    need->Instant(mariadb, "table default collation", "measured on MariaDB only");
  if (from.comment != to.comment) need->Instant(mariadb, "table comment", "measured on MariaDB only");
  if (from.row_format != to.row_format) need->Raise(Strategy::kInplace, "row format: rebuilt in place, LOCK=NONE");
  if (from.create_options != to.create_options) need->Raise(Strategy::kInplace, "table options: in place, LOCK=NONE");
  if (!(from.partitioning == to.partitioning))
    need->Raise(Strategy::kCopy, "partitioning changed: the table is copied under a lock");
}

// The strategy of changing `from` into `to` (`renames`: new column → old).
Need TableNeeds(const ir::Table& from, const ir::Table& to, const std::map<std::string, std::string>& renames,
                const ServerCapabilities& server) {
  Need need(server);
  ColumnsNeeds(from, to, renames, server, &need);
  KeysNeeds(from, to, server, &need);
  OptionsNeeds(from, to, server, &need);
  if (need.strategy() == Strategy::kNone) need.Raise(Strategy::kInplace, "no change recognized: in place, LOCK=NONE");
  // INSTANT and LOCK=NONE are InnoDB's: other engines copy under a lock.
  if (!IsInnoDb(from.engine))
    need.Raise(Strategy::kCopy, "engine " + from.engine + ": ALTER TABLE copies the table under a lock (" + need.reason() + ")");
  return need;
}

// The clause that holds the server to `s`; "" where none is written.
std::string AlgorithmClause(Strategy s) {
  switch (s) {
    case Strategy::kInstant: return "ALGORITHM=INSTANT";
    case Strategy::kInplace: return "ALGORITHM=INPLACE, LOCK=NONE";
    case Strategy::kOnlineCopy:
    case Strategy::kCopy: return "ALGORITHM=COPY";
    default: return "";
  }
}

// Appends `clause` to the first statement of `sql` (an ALTER TABLE).
std::string WithClause(const std::string& sql, const std::string& clause) {
  if (clause.empty() || sql.rfind("ALTER TABLE ", 0) != 0) return sql;
  size_t end = sql.find(";\nALTER TABLE ");
  if (end == std::string::npos) end = sql.size();
  return sql.substr(0, end) + ",\n  " + clause + sql.substr(end);
}

bool OnlyPartitioning(const std::string& sql) {
  const size_t nl = sql.find('\n');
  if (nl == std::string::npos) return false;
  const std::string clause = sql.substr(nl + 3);
  return clause.rfind("PARTITION BY", 0) == 0 || clause.rfind("REMOVE PARTITIONING", 0) == 0;
}

std::string NoneReason(const std::string& kind) {
  if (kind == "create_table") return "a new table: nothing to copy";
  if (kind == "drop_table") return "drops the table: metadata only";
  if (kind == "rename_table") return "renames the table: metadata only";
  if (kind == "alter_database") return "database defaults: metadata only";
  return "not a table change";
}

json ParseObject(const std::string& text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return doc.is_object() ? doc : json();
}

}  // namespace

const char* StrategyName(Strategy s) {
  switch (s) {
    case Strategy::kUnknown: return "unknown";
    case Strategy::kNone: return "none";
    case Strategy::kInstant: return "instant";
    case Strategy::kInplace: return "inplace";
    case Strategy::kOnlineCopy: return "online-copy";
    case Strategy::kCopy: return "copy";
  }
  return "unknown";
}

bool StrategyFromName(const std::string& name, Strategy* out) {
  for (Strategy s : {Strategy::kUnknown, Strategy::kNone, Strategy::kInstant, Strategy::kInplace, Strategy::kOnlineCopy,
                     Strategy::kCopy}) {
    if (name == StrategyName(s)) {
      *out = s;
      return true;
    }
  }
  return false;
}

Result<ServerCapabilities> CapabilitiesFromJson(const std::string& capability_json) {
  const json doc = ParseObject(capability_json);
  if (doc.is_null() || !doc.contains("capabilities") || !doc["capabilities"].is_object())
    return MakeError(ErrorCode::kInvalidArgument,
                     "capability JSON: not a capability matrix (expected an object with \"capabilities\"; "
                     "see `sqlx capabilities --format json`)");
  ServerCapabilities s;
  s.flavor = doc.value("flavor", "");
  if (doc.contains("version_number") && doc["version_number"].is_number_unsigned())
    s.version_number = doc["version_number"].get<uint32_t>();
  const json& caps = doc["capabilities"];
  auto flag = [&](const char* name) {
    return caps.contains(name) && caps[name].is_object() && caps[name].value("value", json()) == json(true);
  };
  std::string instant_variable;
  if (caps.contains("innodb_instant_alter_column_allowed") && caps["innodb_instant_alter_column_allowed"].is_object()) {
    const json v = caps["innodb_instant_alter_column_allowed"].value("value", json());
    if (v.is_string()) instant_variable = v.get<std::string>();
  }
  const bool mariadb = s.flavor == "MariaDB";
  s.algorithm_instant = mariadb ? s.version_number >= 100300 : s.version_number >= 80012;
  s.instant_add_column = flag("instant_add_column");
  s.instant_drop_column = flag("instant_drop_column");
  if (mariadb) {
    s.instant_add_column_anywhere = instant_variable.empty() ? s.instant_drop_column : instant_variable == "add_drop_reorder";
    s.instant_rename_column = s.version_number >= 100300;
    s.instant_varchar_widening = s.version_number >= 100400;
  } else {
    s.instant_add_column_anywhere = s.version_number >= 80029;
    s.instant_rename_column = s.version_number >= 80028;
  }
  s.basis = "learned: " + (s.flavor.empty() ? std::string("server") : s.flavor) + " " + doc.value("version", "") +
            (instant_variable.empty() ? "" : ", innodb_instant_alter_column_allowed=" + instant_variable);
  return s;
}

ServerCapabilities DefaultCapabilities() {
  ServerCapabilities s;
  s.basis = "default (no server): nothing instant assumed";
  return s;
}

namespace {

// Names across the plan's renames: the starting name of a table, the
// renames of a table's columns (new → old).
class Renames {
 public:
  explicit Renames(const DiffOptions& options) : options_(options) {
    for (const auto& [old_name, new_name] : options.table_renames) table_old_[new_name] = old_name;
  }
  std::string OldTable(const std::string& name) const {
    auto it = table_old_.find(name);
    return it == table_old_.end() ? name : it->second;
  }
  std::map<std::string, std::string> Columns(const std::string& table) const {
    std::map<std::string, std::string> out;
    auto it = options_.column_renames.find(table);
    if (it != options_.column_renames.end())
      for (const auto& [old_col, new_col] : it->second) out[new_col] = old_col;
    return out;
  }

 private:
  const DiffOptions& options_;
  std::map<std::string, std::string> table_old_;
};

std::vector<std::string> OldNames(const std::vector<std::string>& names, const std::map<std::string, std::string>& renames) {
  std::vector<std::string> out;
  for (const std::string& n : names) {
    auto it = renames.find(n);
    out.push_back(it == renames.end() ? n : it->second);
  }
  return out;
}

// Orphan checks of the foreign keys `after` gains over `before`, in the
// names before the plan. A key over a column the plan adds is not checked.
std::vector<PreCheck> ForeignKeyPreChecks(const ir::Table& before, const ir::Table& after, const ir::Database& from,
                                          const std::string& database, const Renames& renames) {
  std::vector<PreCheck> out;
  for (const ir::ForeignKey& fk : after.foreign_keys) {
    const ir::ForeignKey* was = Named(before.foreign_keys, fk.name);
    if (was != nullptr && *was == fk) continue;
    const std::vector<std::string> child = OldNames(fk.columns, renames.Columns(after.name));
    const bool same_schema = fk.referenced_schema.empty() || fk.referenced_schema == database;
    const std::string parent = same_schema ? renames.OldTable(fk.referenced_table) : fk.referenced_table;
    const ir::Table* parent_before = same_schema ? Named(from.tables, parent) : nullptr;
    const std::vector<std::string> parent_columns = OldNames(fk.referenced_columns, renames.Columns(fk.referenced_table));
    auto exists_in = [](const ir::Table* t, const std::vector<std::string>& columns) {
      return t == nullptr || std::all_of(columns.begin(), columns.end(),
                                         [&](const std::string& c) { return Named(t->columns, c) != nullptr; });
    };
    if (!exists_in(&before, child) || !exists_in(parent_before, parent_columns)) continue;
    out.push_back(ForeignKeyPreCheck(fk.name, before.name, child, same_schema ? "" : fk.referenced_schema, parent,
                                     parent_columns, !same_schema || parent_before != nullptr));
  }
  return out;
}

}  // namespace

Status ChooseStrategies(const ir::Database& from_in, const ir::Database& to_in, const DiffOptions& options,
                        const ServerCapabilities& server, Plan* plan) {
  if (!plan->strategy_basis.empty())
    return MakeError(ErrorCode::kInvalidArgument, "the plan's strategies were chosen already (" + plan->strategy_basis + ")");
  ir::Database from = from_in, to = to_in;
  ir::Canonicalize(&from);
  ir::Canonicalize(&to);
  plan->strategy_basis = server.basis;
  const Renames renames(options);
  std::set<std::string> created;
  for (Operation& op : plan->operations) {
    // drop_foreign_keys names the table as it was; the others as it will be.
    const ir::Table* before = Named(from.tables, op.kind == "drop_foreign_keys" ? op.object : renames.OldTable(op.object));
    const ir::Table* after = Named(to.tables, op.object);
    if (before != nullptr) op.bytes_estimate = before->stats.data_length + before->stats.index_length;
    if (op.kind == "create_table") created.insert(op.object);
    if (op.kind == "alter_table" && before != nullptr && after != nullptr) {
      const auto columns = renames.Columns(op.object);
      const Need need = TableNeeds(*before, *after, columns, server);
      op.strategy = need.strategy();
      op.strategy_reason = need.reason();
      if (!OnlyPartitioning(op.sql)) op.sql = WithClause(op.sql, AlgorithmClause(op.strategy));
      op.prechecks = TablePreChecks(*before, *after, columns);
    } else if (op.kind == "drop_foreign_keys") {
      op.strategy = server.algorithm_instant && server.flavor == "MariaDB" ? Strategy::kInstant : Strategy::kInplace;
      op.strategy_reason = "drop foreign key: metadata only";
      op.sql = WithClause(op.sql, AlgorithmClause(op.strategy));
    } else if (op.kind == "add_foreign_keys" && after != nullptr) {
      const bool is_new = created.count(op.object) > 0;
      op.strategy = Strategy::kCopy;
      op.strategy_reason = is_new ? "new foreign key on a table this plan creates: an empty copy"
                                  : "new foreign key: with foreign_key_checks on the server checks it by copying "
                                    "the table (writes wait); INPLACE would need foreign_key_checks=0, which skips "
                                    "the check of existing rows";
      op.sql = WithClause(op.sql, AlgorithmClause(op.strategy));
      if (!is_new && before != nullptr) op.prechecks = ForeignKeyPreChecks(*before, *after, from, to.name, renames);
    } else {
      op.strategy = Strategy::kNone;
      op.strategy_reason = NoneReason(op.kind);
    }
  }
  EstimateDurations(AssumedRewriteRates(), plan);
  return Status::Ok();
}

}  // namespace sqlx::planner
