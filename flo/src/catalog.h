// Catalog learning internals: SQL text helpers (quoting, self-reference
// normalization), running the learn pack's catalog queries into rows read
// by column name, and the builder that turns those rows into IR databases.
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "learn_pack.h"
#include "sqlx/messages/ir.h"
#include "sqlx/flo/learn_database.h"
#include "sqlx/messages/result.h"
#include "sqlx/transports/session.h"

namespace sqlx::flo {

// ---- SQL text (catalog_sql.cc) ---------------------------------------------

enum class SqlQuoting {
  kBackslashEscapes,    // the default sql_mode: ' → \', \ → \\, NUL → \0, LF → \n, CR → \r, ^Z → \Z
  kNoBackslashEscapes,  // sql_mode NO_BACKSLASH_ESCAPES: ' → '' and nothing else
};

// `value` as a single-quoted SQL string literal that the server reads back
// as exactly `value` under the given quoting.
std::string QuoteSqlLiteral(std::string_view value, SqlQuoting quoting = SqlQuoting::kBackslashEscapes);
// `name` in backticks, inner backticks doubled (as SHOW CREATE writes names).
std::string QuoteSqlIdentifier(std::string_view name);

// "'a', 'b'": the names quoted and comma-separated, for {schemas}.
std::string QuoteSqlList(const std::vector<std::string>& values, SqlQuoting quoting);

// `body` with every `db`. qualifier removed where `db` equals `database`:
// only backtick-quoted identifiers directly followed by '.', not preceded by
// '.', outside string literals ('...', "...") and comments (--, #, /* */).
// Known limits: unquoted qualifiers (db.t) are kept; under ANSI_QUOTES a
// "..." identifier is treated as a string; code inside /*! */ comments is
// kept as is.
std::string StripSelfQualifiers(std::string_view body, std::string_view database);

// `s` with ASCII letters lowercased; and comparison ignoring ASCII case.
std::string AsciiLower(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);

// SQL LIKE: '%' any run, '_' one character, '\' escapes the next one;
// case-sensitive (grant patterns on case-sensitive names).
bool LikeMatch(std::string_view pattern, std::string_view text);

// ---- Catalog rows (catalog_rows.cc) ------------------------------------------

// One catalog query's rows, cells as text (nullopt for NULL), read by
// column name.
struct CatalogRows {
  std::string query;                 // the pack's query name, for messages
  std::vector<std::string> columns;  // as the server named them
  std::vector<std::vector<std::optional<std::string>>> rows;

  // The column's index (names compare case-insensitively), or -1.
  int Find(std::string_view name) const;
};

enum class CatalogOutcome {
  kRan,          // rows holds the result
  kUnsupported,  // the pack says this server's catalog cannot answer (reason)
  kDenied,       // a privilege error (reason: the server's message)
};

// Runs the learn pack's catalog queries on one session and counts them.
class CatalogReader {
 public:
  // REQUIRES: `pack` and `session` outlive the reader.
  CatalogReader(const LearnPack& pack, transports::Session& session, std::string flavor, uint32_t version)
      : pack_(pack), session_(session), flavor_(std::move(flavor)), version_(version) {}

  // Runs query `name` with {schemas} replaced by `schemas`. A server error
  // the pack classes as a privilege error is kDenied; any other error (the
  // connection lost, a server error of another kind) fails.
  Result<CatalogOutcome> Run(std::string_view name, const std::string& schemas, CatalogRows* rows,
                             std::string* reason);
  // One object's outcome of a per-object query.
  struct ObjectOutcome {
    CatalogOutcome outcome = CatalogOutcome::kRan;
    CatalogRows rows;    // when kRan
    std::string reason;  // otherwise: the server's error or the pack's reason
  };
  // Runs per-object query `name` for each (database, object) of `objects`,
  // in order: the pack's multi_statement_max statements per round trip when
  // the session negotiated its multi_statement capability, else one. A
  // server error answers only its own object (the rest are sent again);
  // losing the connection fails.
  Result<std::vector<ObjectOutcome>> RunEach(std::string_view name,
                                             const std::vector<std::pair<std::string, std::string>>& objects);
  // Round trips so far (a batch of per-object statements counts once).
  int statements() const { return statements_; }
  // The pack's entry for query `name` on this server.
  const CatalogQuery& Query(std::string_view name) const { return pack_.catalog.Find(name, flavor_, version_); }
  const std::string& flavor() const { return flavor_; }
  uint32_t version() const { return version_; }

 private:
  const LearnPack& pack_;
  transports::Session& session_;
  std::string flavor_;
  uint32_t version_;
  int statements_ = 0;
};

using CatalogRow = std::vector<std::optional<std::string>>;

// The cell at `column` (-1: a column the query did not return), or nullopt.
std::optional<std::string> Cell(const CatalogRow& row, int column);
// Its text; "" for NULL or an absent column.
std::string CellText(const CatalogRow& row, int column);
// Its unsigned number; 0 for NULL, an absent column or text that is not one.
uint64_t CellNumber(const CatalogRow& row, int column);

// The required column's index, or a kPack error naming the query and column.
Result<int> RequireColumn(const CatalogRows& rows, std::string_view name, const std::string& pack_file);

// ---- The builder (catalog_tables.cc, catalog_programs.cc) -------------------

// Turns catalog rows for many databases into one ir::Database each. Rows of
// databases that were not requested are ignored.
class CatalogBuilder {
 public:
  // REQUIRES: `pack` outlives the builder.
  CatalogBuilder(const LearnPack& pack, const std::string& flavor, uint32_t version,
                 const std::vector<std::string>& names);

  Status AddSchemata(const CatalogRows& rows);
  Status AddTables(const CatalogRows& rows);
  Status AddColumns(const CatalogRows& rows);
  Status AddIndexes(const CatalogRows& rows);
  Status AddForeignKeyColumns(const CatalogRows& rows);
  Status AddForeignKeyRules(const CatalogRows& rows);
  Status AddChecks(const CatalogRows& rows);
  Status AddPartitions(const CatalogRows& rows);
  Status AddViews(const CatalogRows& rows);
  Status AddRoutines(const CatalogRows& rows);
  Status AddParameters(const CatalogRows& rows);
  Status AddRoutineSources(const CatalogRows& rows);
  // Views learned so far as (database, view), for view_sources.
  std::vector<std::pair<std::string, std::string>> ViewNames() const;
  // A view's SHOW CREATE VIEW row: its definition replaces VIEW_DEFINITION's.
  Status AddViewSource(const std::string& database, const std::string& view, const CatalogRows& rows);
  // Triggers learned so far as (database, trigger), for trigger_sources.
  std::vector<std::pair<std::string, std::string>> TriggerNames() const;
  // A trigger's SHOW CREATE TRIGGER row: keeps the white space the
  // statement has between FOR EACH ROW and the body.
  Status AddTriggerSource(const std::string& database, const std::string& trigger, const CatalogRows& rows);
  Status AddTriggers(const CatalogRows& rows);
  Status AddEvents(const CatalogRows& rows);

  // Adds `text` to every requested database's not_visible.
  void NotVisibleEverywhere(const std::string& text);
  void NotVisible(const std::string& database, const std::string& text);

  // The learned databases, canonical, hashed and in JSON, in `names` order;
  // a name SCHEMATA did not show gets `error`. The databases are built on up
  // to 4 threads (the work of each is independent); `progress`,
  // if set, is called on the calling thread. Moves the state out: call once,
  // last.
  std::vector<LearnedDatabase> Finish(const std::function<void(const LearnProgress&)>& progress = {});

  bool Known(const std::string& database) const;

  // The requested databases (in `names` order) holding a base table whose
  // CREATE_OPTIONS lists `token` (ASCII case-insensitive) or could not be
  // read (NULL); every requested one when the tables were not read.
  std::vector<std::string> WithCreateOption(std::string_view token) const;

 private:
  struct DbState {
    ir::Database db;
    bool seen = false;  // SCHEMATA showed it
    std::map<std::string, size_t> tables;  // name → index in db.tables
    std::map<std::string, std::string> table_engines;
    std::map<std::pair<std::string, std::string>, size_t> foreign_keys;  // (table, name) → index in table
    std::map<std::pair<std::string, std::string>, size_t> routines;      // (kind, name) → index
    std::set<std::string> create_option_tokens;  // lowercase, of every base table
    bool create_options_unknown = false;         // a base table's CREATE_OPTIONS was NULL
    ObjectCounts counts;
  };
  DbState* Db(const std::optional<std::string>& name);
  ir::Table* FindTable(DbState* db, const std::optional<std::string>& table);
  // Resolves each required column's index into its int, or fails naming the first one absent.
  Status Require(const CatalogRows& rows, std::initializer_list<std::pair<const char*, int*>> columns) const;
  std::string IndexAlgorithm(const DbState& db, const std::string& table, const std::string& index_type) const;
  bool ColumnDefaultIsExpression() const;

  const LearnPack& pack_;
  std::string flavor_;
  uint32_t version_;
  std::vector<std::string> names_;
  std::map<std::string, DbState> dbs_;
  bool tables_read_ = false;  // AddTables ran
};

// ---- Privileges (catalog_learn.cc) -------------------------------------------

// The learning user's grants as the "privileges" query returned them.
struct Grant {
  std::string scope;      // "global", "schema", "table"
  std::string schema;     // a LIKE pattern for scope "schema"
  std::string table;
  std::string privilege;  // "SELECT", "TRIGGER", ...
};

// Whether `grants` hold `need` for database `database`.
bool HoldsPrivilege(const std::vector<Grant>& grants, const PrivilegeNeed& need, const std::string& database);

}  // namespace sqlx::flo
