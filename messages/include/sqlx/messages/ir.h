// The IR: one database's schema as structured data. Tables, columns, indexes,
// keys, checks, partitions and options are fields (rendered to DDL by code);
// only view, routine, trigger and event bodies are text. Canonical JSON form
// and profile hash: docs/formats/ir.md.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sqlx/messages/result.h"

namespace sqlx::ir {

// Tables and triggers whose names start with this prefix belong to a running
// online migration (its shadow table, change-capture triggers; planner/online.h):
// learning leaves them out of the IR (docs/formats/ir.md).
inline constexpr std::string_view kMigrationArtifactPrefix = "_sqlx_";
inline bool IsMigrationArtifact(std::string_view name) { return name.substr(0, kMigrationArtifactPrefix.size()) == kMigrationArtifactPrefix; }

struct Column {
  std::string name;
  uint32_t position = 0;                     // 1-based ORDINAL_POSITION
  std::string column_type;                   // full type: "int(10) unsigned", "enum('a','b')"
  bool nullable = true;
  std::optional<std::string> default_value;  // normalized: NULL/literal/expression (docs/formats/ir.md)
  bool auto_increment = false;
  std::string on_update;                     // "current_timestamp()" or empty
  std::string generation_kind;               // "VIRTUAL", "STORED" or empty
  std::string generation_expression;
  bool invisible = false;
  std::string charset;                       // empty for non-string types
  std::string collation;
  std::string comment;

  bool operator==(const Column&) const = default;
};

struct IndexPart {
  std::string column;                        // empty for an expression part
  std::optional<uint32_t> prefix_length;     // SUB_PART
  bool descending = false;
  std::string expression;                    // functional index part (MySQL 8)

  bool operator==(const IndexPart&) const = default;
};

struct Index {
  std::string name;
  std::string kind;     // "PRIMARY", "UNIQUE", "INDEX", "FULLTEXT", "SPATIAL"
  std::string algorithm;  // "BTREE", "HASH", or empty (the engine default)
  std::vector<IndexPart> parts;
  std::string comment;
  bool ignored = false;   // MariaDB IGNORED / MySQL INVISIBLE index
  // 1-based place in the server's own key order (what SHOW CREATE TABLE
  // lists), 0 when unknown. Not hashed: the same keys in another order are
  // the same schema; the DDL renderer keeps the order.
  uint32_t position = 0;

  bool operator==(const Index&) const = default;
};

struct ForeignKey {
  std::string name;
  std::vector<std::string> columns;
  std::string referenced_schema;  // empty when it is the database itself
  std::string referenced_table;
  std::vector<std::string> referenced_columns;
  std::string on_update;          // "RESTRICT", "CASCADE", "SET NULL", "NO ACTION", "SET DEFAULT"
  std::string on_delete;

  bool operator==(const ForeignKey&) const = default;
};

struct Check {
  std::string name;
  std::string clause;
  bool column_level = false;  // MariaDB: written on a column

  bool operator==(const Check&) const = default;
};

struct Partition {
  std::string name;
  std::string description;  // VALUES LESS THAN / IN text
  std::string comment;
  std::vector<std::string> subpartitions;

  bool operator==(const Partition&) const = default;
};

struct Partitioning {
  std::string method;          // "RANGE", "LIST", "HASH", "KEY", "RANGE COLUMNS", ...
  std::string expression;
  std::string subpartition_method;
  std::string subpartition_expression;
  std::vector<Partition> partitions;

  bool operator==(const Partitioning&) const = default;
};

// Volatile: never part of the profile hash.
struct TableStats {
  uint64_t rows_estimate = 0;
  uint64_t data_length = 0;
  uint64_t index_length = 0;
  uint64_t auto_increment = 0;

  bool operator==(const TableStats&) const = default;
};

struct Table {
  std::string name;
  std::string engine;
  std::string row_format;     // as declared (CREATE_OPTIONS), empty when default
  std::string charset;
  std::string collation;
  std::string comment;
  std::string create_options; // remaining CREATE_OPTIONS, normalized (no row_format, no partitioned)
  std::vector<Column> columns;        // by position
  std::vector<Index> indexes;         // PRIMARY first, then by name
  std::vector<ForeignKey> foreign_keys;  // by name
  std::vector<Check> checks;          // by name
  std::optional<Partitioning> partitioning;
  TableStats stats;

  bool operator==(const Table&) const = default;
};

struct View {
  std::string name;
  std::string definition;     // body; self-references normalized (docs/formats/ir.md)
  std::string algorithm;      // "UNDEFINED", "MERGE", "TEMPTABLE"
  std::string security;       // "DEFINER", "INVOKER"
  std::string check_option;   // "NONE", "CASCADED", "LOCAL"
  std::string definer;
  std::string charset;        // client charset/collation recorded with the view
  std::string collation;

  bool operator==(const View&) const = default;
};

struct RoutineParameter {
  std::string mode;  // "IN", "OUT", "INOUT" (empty for functions)
  std::string name;
  std::string type;  // DTD_IDENTIFIER

  bool operator==(const RoutineParameter&) const = default;
};

struct Routine {
  std::string name;
  std::string kind;  // "PROCEDURE" or "FUNCTION"
  std::vector<RoutineParameter> parameters;
  // The parameter list exactly as declared (what SHOW CREATE shows between
  // the parentheses); empty when the catalog cannot show it (then rendered
  // from `parameters`).
  std::string parameter_list;
  std::string returns;        // functions: as SHOW CREATE shows it (with CHARSET/COLLATE where known)
  std::string body;
  bool deterministic = false;
  std::string data_access;    // "CONTAINS SQL", "NO SQL", "READS SQL DATA", "MODIFIES SQL DATA"
  std::string security;
  std::string definer;
  std::string comment;
  std::string sql_mode;

  bool operator==(const Routine&) const = default;
};

struct Trigger {
  std::string name;
  std::string table;
  std::string timing;   // "BEFORE", "AFTER"
  std::string event;    // "INSERT", "UPDATE", "DELETE"
  uint32_t order = 0;   // ACTION_ORDER
  std::string body;
  std::string definer;
  std::string sql_mode;

  bool operator==(const Trigger&) const = default;
};

struct Event {
  std::string name;
  std::string definer;
  std::string body;
  std::string schedule;       // "AT ..." or "EVERY n unit [STARTS ...] [ENDS ...]"
  std::string on_completion;  // "PRESERVE", "NOT PRESERVE"
  std::string status;         // "ENABLED", "DISABLED", "SLAVESIDE_DISABLED"
  std::string comment;
  std::string sql_mode;

  bool operator==(const Event&) const = default;
};

struct Database {
  std::string name;       // not part of the hash
  std::string charset;
  std::string collation;
  std::vector<Table> tables;    // by name
  std::vector<View> views;
  std::vector<Routine> routines;  // by kind, then name
  std::vector<Trigger> triggers;  // by table, timing, event, order
  std::vector<Event> events;
  // What the learning user could not see ("triggers: needs the TRIGGER
  // privilege"), so that absence is never mistaken for "none".
  std::vector<std::string> not_visible;

  bool operator==(const Database&) const = default;
};

// Sorts every list into its canonical order (the comments above), so that
// catalog row order never matters.
void Canonicalize(Database* db);

// Whether Canonicalize would leave `db` as it is (linear; no copy): lets a
// caller that needs canonical input skip copying an IR that already is.
bool IsCanonical(const Database& db);

// The canonical JSON (RFC 8785 key order and string form; docs/formats/ir.md).
// With `for_hash`, the database's own name and volatile values (stats,
// AUTO_INCREMENT counters) are left out and self-references inside bodies
// are already normalized.
std::string ToCanonicalJson(const Database& db, bool for_hash = false);

// Parses ToCanonicalJson(db, false) output back. kInvalidArgument names the
// JSON pointer at fault. A top-level "profile_hash" key (snapshot files) is
// accepted and must equal ProfileHash of the content.
Result<Database> FromJson(const std::string& json_text);

// Lowercase hex SHA-256 of ToCanonicalJson(Canonicalize(db), true).
std::string ProfileHash(const Database& db);

// ProfileHash of a database Canonicalize already ran on, without the copy
// ProfileHash makes. REQUIRES: `canonical` is canonical (else the hash
// depends on catalog row order).
std::string CanonicalProfileHash(const Database& canonical);

}  // namespace sqlx::ir
