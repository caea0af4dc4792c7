// A learn pack: how FLO learns one server family (version rules, variables,
// probes and inference rules) as data. The format is docs/formats/learn-pack.md;
// flo/packs/mysql.learn.json is the MySQL/MariaDB one. Loading checks the whole
// pack and names the file and JSON pointer of the first fault.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sqlx/messages/result.h"
#include "sqlx/transports/pack_search.h"

namespace sqlx::flo {

// A condition on the server and the value (JSON text) it yields. Every field
// that is set must hold; a rule with none always matches.
struct LearnRule {
  std::string flavor;                   // empty: any flavor
  uint32_t min_version = 0;             // 0: no lower bound (inclusive)
  uint32_t max_version = 0;             // 0: no upper bound (exclusive)
  std::string variable;                 // empty: no variable condition
  std::vector<std::string> variable_in; // the variable's value is one of these (case-insensitive)
  std::string value;                    // JSON text: true, false, 64
};

enum class VariableType { kNumber, kString, kBool };

// A capability read from a server variable; the first of `variables` the
// server has gives the value.
struct VariableRead {
  std::string name;
  std::vector<std::string> variables;
  VariableType type = VariableType::kString;
};

enum class ProbeKind {
  kQuery,   // run `statements[0]`; success means true
  kParse,   // PREPARE `statements[0]` (parse_probe) and deallocate it; parsed means true
  kScript,  // run `statements` in order, then `cleanup` whatever happened
  kInfer,   // no statement: `rules` decide
};

// One entry of "capabilities": a probe, or an inference when kind is kInfer.
struct CapabilityProbe {
  std::string name;
  ProbeKind kind = ProbeKind::kQuery;
  std::vector<std::string> statements;
  std::vector<std::string> cleanup;
  bool yields_has_rows = false;    // value = "the query returned rows" instead of true
  bool error_is_unknown = false;   // on_error "unknown": an error gives null, not false
  // kInfer: the rules. Other kinds: the fallback used when the probe fails in
  // a way that decides nothing (neither syntax nor privilege).
  std::vector<LearnRule> rules;
  std::string default_value = "null";  // JSON text when no rule matches
};

struct VersionRules {
  std::vector<std::string> strip_prefixes;
  std::vector<std::pair<std::string, std::string>> flavor_markers;  // marker → flavor
  std::string default_flavor;
};

struct ErrorClasses {
  std::vector<int> privilege;  // the user may not look: unknown, listed as not visible
  std::vector<int> syntax;     // the server does not know the syntax: false
  std::vector<int> parsed;     // a PREPARE got past parsing: true for parse probes
};

// The catalog queries a pack may hold (LearnDatabases runs them; the
// columns each must return are in docs/formats/learn-pack.md). Every name
// but "databases", "sql_mode" and "privileges" reads per schema and must
// contain {schemas}.
inline constexpr const char* kCatalogQueryNames[] = {
    "databases", "sql_mode", "privileges", "schemata", "tables",   "columns",
    "statistics", "foreign_key_columns", "foreign_keys", "checks", "views", "routines",
    "parameters", "triggers", "events",   "partitions", "routine_sources", "view_sources", "trigger_sources"};

// Catalog queries run once per object ({object} becomes `db`.`name`), for
// what information_schema cannot show: several per round trip when the
// session negotiated the pack's multi_statement capability.
inline bool IsPerObjectQuery(std::string_view name) {
  return name == "view_sources" || name == "trigger_sources";
}

// One catalog query, or why this server's catalog cannot answer it.
struct CatalogQuery {
  std::string name;         // one of kCatalogQueryNames
  LearnRule when;           // flavor and version bounds (value unused); empty: every server
  std::string sql;          // empty when `unsupported` is set
  std::string unsupported;  // the reason, listed in not_visible
  // When set, the query runs only for the databases holding a base table
  // whose TABLES.CREATE_OPTIONS lists this token ("partitioned"), or one
  // whose CREATE_OPTIONS could not be read; for none, it does not run (it
  // could only return no rows). Empty: it always runs.
  std::string only_with_create_option;
};

// A privilege that makes some objects visible: held on the database (global
// or database-level grant), or on `table` ("mysql.proc") when set.
struct PrivilegeNeed {
  std::string privilege;  // as information_schema names it: "TRIGGER", "SHOW VIEW"
  std::string table;      // "schema.table"; empty: the learned database
};

// Objects the catalog shows only to holders of one of `any_of`.
struct VisibilityRule {
  std::string objects;                // "triggers", "events" or "routines"
  std::vector<PrivilegeNeed> any_of;
  std::string missing;                // the not_visible text when none is held
};

struct CatalogPack {
  std::vector<std::string> system_schemas;  // left out of "all databases"
  // Per engine, the index algorithm it uses when none is declared; an
  // index of that algorithm is stored with algorithm "" (the default).
  std::vector<std::pair<std::string, std::string>> default_index_algorithms;
  // Whether COLUMNS.COLUMN_DEFAULT is already an SQL expression (MariaDB
  // >= 10.2.7) or the bare value (MySQL): rules with value true / false.
  std::vector<LearnRule> column_default_is_expression;
  std::string column_default_is_expression_default = "false";
  std::vector<CatalogQuery> queries;  // per name: conditional entries first, the unconditional one last
  std::vector<VisibilityRule> visibility;
  // The capability (a wire pack flag name) that lets one query carry many
  // statements, and how many per-object statements to send together; empty
  // capability: one statement per round trip.
  std::string multi_statement_capability;
  uint32_t multi_statement_max = 1;

  // The first query named `name` whose condition holds for the server.
  // REQUIRES: `name` is in kCatalogQueryNames (a loaded pack has one for
  // every name and server).
  const CatalogQuery& Find(std::string_view name, const std::string& flavor, uint32_t version_number) const;
};

struct LearnPack {
  std::string file;  // where it was loaded from (for messages)
  std::string name;
  VersionRules version;
  ErrorClasses errors;
  std::string variables_query;  // with {names}
  std::vector<VariableRead> variables;
  std::string prepare;          // with {statement}
  std::string deallocate;
  std::vector<CapabilityProbe> capabilities;
  std::string auth_plugins_query;
  std::string grants_query;
  std::vector<std::string> redact_quoted_after;
  CatalogPack catalog;

  // Parses and checks a pack; `file_label` names it in errors
  // ("learn pack F at /capabilities/3/kind: ...").
  static Result<LearnPack> Parse(const std::string& json_text, const std::string& file_label);
  static Result<LearnPack> Load(const std::string& file);
};

// Where learn packs are searched, in order: `dir`, $SQLX_LEARN_PACK_DIR,
// <exe>/../share/sqlx/packs, the install dir, the source tree (flo/packs).
std::vector<transports::PackDir> LearnPackSearchDirs(const std::string& dir);

// Loads "<name>.learn.json" (name = the wire pack's name) from the first
// search directory that has it. An explicit `dir` or $SQLX_LEARN_PACK_DIR
// without it is an error, never a silent fallback.
Result<LearnPack> LocateLearnPack(const std::string& name, const std::string& dir);

struct ServerVersion {
  std::string flavor;           // "MariaDB", "MySQL"
  std::string version;          // "10.11.19"; empty when the string has no number
  uint32_t version_number = 0;  // major*10000 + minor*100 + patch; 0 when unknown
};

// Reads a greeting's version string with the pack's rules. Never fails: the
// string comes from the network, and what cannot be read stays empty / 0.
ServerVersion ParseServerVersion(const VersionRules& rules, std::string_view server_version);

// Whether the rule's flavor and version bounds hold for the server (its
// variable condition, if any, is the caller's to check); `description` gets
// the conditions that held ("flavor MariaDB, version >= 10.6.0", "always").
bool RuleMatchesServer(const LearnRule& rule, const std::string& flavor, uint32_t version_number,
                       std::string* description);

// "10.3.2" for 100302: how rules print versions.
std::string FormatVersionNumber(uint32_t number);

}  // namespace sqlx::flo
