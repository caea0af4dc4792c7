// CatalogBuilder: the databases being learned, their schemata, tables and
// columns, and the finished (canonical, hashed) result. Indexes, keys,
// checks and partitions are in catalog_indexes.cc; views, routines,
// triggers and events in catalog_programs.cc.
#include <algorithm>
#include <atomic>
#include <cctype>
#include <thread>

#include "catalog.h"

namespace sqlx::flo {

namespace {

// Types whose bare COLUMN_DEFAULT (MySQL) is a number, written unquoted.
bool IsNumericType(const std::string& data_type) {
  static const char* const kNumeric[] = {"tinyint", "smallint", "mediumint", "int",  "integer", "bigint",
                                         "decimal", "numeric",  "float",     "double", "real"};
  const std::string t = AsciiLower(data_type);
  return std::any_of(std::begin(kNumeric), std::end(kNumeric), [&](const char* n) { return t == n; });
}

// Types that take no DEFAULT NULL in SHOW CREATE TABLE on MySQL.
bool IsBlobLikeType(const std::string& data_type) {
  const std::string t = AsciiLower(data_type);
  return t.find("blob") != std::string::npos || t.find("text") != std::string::npos || t == "json" ||
         t == "geometry" || t.find("point") != std::string::npos || t.find("polygon") != std::string::npos ||
         t.find("linestring") != std::string::npos || t == "geometrycollection";
}

// MySQL's CURRENT_TIMESTAMP / CURRENT_TIMESTAMP(6) as MariaDB writes it
// (current_timestamp(), current_timestamp(6)); other text unchanged.
std::string MariaDbTimestamp(const std::string& text) {
  static constexpr std::string_view kName = "current_timestamp";
  if (AsciiLower(text).rfind(kName, 0) != 0) return text;
  const std::string rest = text.substr(kName.size());
  return std::string(kName) + (rest.empty() ? "()" : rest);
}

// COLUMNS.EXTRA as MariaDB ("auto_increment, INVISIBLE", "on update
// current_timestamp(), INVISIBLE", "STORED GENERATED") and MySQL
// ("DEFAULT_GENERATED on update CURRENT_TIMESTAMP", "VIRTUAL GENERATED") write it.
struct Extra {
  bool auto_increment = false;
  bool default_generated = false;
  bool invisible = false;
  std::string on_update;
  std::string generation_kind;
};

Extra ReadExtra(const std::string& extra) {
  Extra out;
  const std::string lower = AsciiLower(extra);
  out.auto_increment = lower.find("auto_increment") != std::string::npos;
  out.default_generated = lower.find("default_generated") != std::string::npos;
  out.invisible = lower.find("invisible") != std::string::npos;
  if (lower.find("virtual generated") != std::string::npos) out.generation_kind = "VIRTUAL";
  if (lower.find("stored generated") != std::string::npos || lower.find("persistent generated") != std::string::npos)
    out.generation_kind = "STORED";
  const size_t on = lower.find("on update ");
  if (on != std::string::npos) {
    const size_t start = on + 10;
    size_t end = extra.find(',', start);
    if (end == std::string::npos) end = extra.size();
    out.on_update = extra.substr(start, end - start);
    const size_t invisible = AsciiLower(out.on_update).find(" invisible");
    if (invisible != std::string::npos) out.on_update.resize(invisible);
  }
  return out;
}

// CREATE_OPTIONS ("stats_persistent=1 row_format=COMPACT partitioned") into
// the declared row format and the remaining options.
void ReadCreateOptions(const std::string& options, ir::Table* table) {
  size_t pos = 0;
  while (pos < options.size()) {
    size_t end = options.find(' ', pos);
    if (end == std::string::npos) end = options.size();
    const std::string token = options.substr(pos, end - pos);
    pos = end + 1;
    if (token.empty() || AsciiLower(token) == "partitioned") continue;
    if (AsciiLower(token).rfind("row_format=", 0) == 0) {
      table->row_format = token.substr(11);
      continue;
    }
    table->create_options += (table->create_options.empty() ? "" : " ") + token;
  }
}

// Every token of a base table's CREATE_OPTIONS, lowercase (NULL: unknown).
void NoteCreateOptions(const std::optional<std::string>& options, std::set<std::string>* tokens, bool* unknown) {
  if (!options) {
    *unknown = true;
    return;
  }
  size_t pos = 0;
  while (pos < options->size()) {
    size_t end = options->find(' ', pos);
    if (end == std::string::npos) end = options->size();
    if (end > pos) tokens->insert(AsciiLower(options->substr(pos, end - pos)));
    pos = end + 1;
  }
}

}  // namespace

CatalogBuilder::CatalogBuilder(const LearnPack& pack, const std::string& flavor, uint32_t version,
                               const std::vector<std::string>& names)
    : pack_(pack), flavor_(flavor), version_(version), names_(names) {
  for (const std::string& name : names) dbs_[name].db.name = name;
}

CatalogBuilder::DbState* CatalogBuilder::Db(const std::optional<std::string>& name) {
  if (!name) return nullptr;
  auto it = dbs_.find(*name);
  return it == dbs_.end() ? nullptr : &it->second;
}

bool CatalogBuilder::Known(const std::string& database) const {
  auto it = dbs_.find(database);
  return it != dbs_.end() && it->second.seen;
}

ir::Table* CatalogBuilder::FindTable(DbState* db, const std::optional<std::string>& table) {
  if (db == nullptr || !table) return nullptr;
  auto it = db->tables.find(*table);
  return it == db->tables.end() ? nullptr : &db->db.tables[it->second];
}

Status CatalogBuilder::Require(const CatalogRows& rows,
                               std::initializer_list<std::pair<const char*, int*>> columns) const {
  for (const auto& [name, index] : columns) {
    SQLX_ASSIGN_OR_RETURN(*index, RequireColumn(rows, name, pack_.file));
  }
  return Status::Ok();
}

void CatalogBuilder::NotVisible(const std::string& database, const std::string& text) {
  auto it = dbs_.find(database);
  if (it != dbs_.end()) it->second.db.not_visible.push_back(text);
}

void CatalogBuilder::NotVisibleEverywhere(const std::string& text) {
  for (auto& [name, state] : dbs_) state.db.not_visible.push_back(text);
}

bool CatalogBuilder::ColumnDefaultIsExpression() const {
  for (const LearnRule& rule : pack_.catalog.column_default_is_expression) {
    std::string ignored;
    if (RuleMatchesServer(rule, flavor_, version_, &ignored)) return rule.value == "true";
  }
  return pack_.catalog.column_default_is_expression_default == "true";
}

std::string CatalogBuilder::IndexAlgorithm(const DbState& db, const std::string& table,
                                           const std::string& index_type) const {
  auto engine = db.table_engines.find(table);
  if (engine != db.table_engines.end()) {
    for (const auto& [name, algorithm] : pack_.catalog.default_index_algorithms) {
      if (AsciiLower(name) == AsciiLower(engine->second) && algorithm == index_type) return "";
    }
  }
  return index_type;
}

Status CatalogBuilder::AddSchemata(const CatalogRows& rows) {
  int name, charset, collation;
  SQLX_RETURN_IF_ERROR(Require(rows, {{"SCHEMA_NAME", &name},
                                      {"DEFAULT_CHARACTER_SET_NAME", &charset},
                                      {"DEFAULT_COLLATION_NAME", &collation}}));
  for (const CatalogRow& row : rows.rows) {
    DbState* db = Db(Cell(row, name));
    if (db == nullptr) continue;
    db->seen = true;
    db->db.charset = CellText(row, charset);
    db->db.collation = CellText(row, collation);
  }
  return Status::Ok();
}

Status CatalogBuilder::AddTables(const CatalogRows& rows) {
  int schema, name, type, engine, table_rows, data_length, index_length, auto_increment, collation, charset,
      options, comment;
  SQLX_RETURN_IF_ERROR(Require(rows, {{"TABLE_SCHEMA", &schema},
                                      {"TABLE_NAME", &name},
                                      {"TABLE_TYPE", &type},
                                      {"ENGINE", &engine},
                                      {"TABLE_ROWS", &table_rows},
                                      {"DATA_LENGTH", &data_length},
                                      {"INDEX_LENGTH", &index_length},
                                      {"AUTO_INCREMENT", &auto_increment},
                                      {"TABLE_COLLATION", &collation},
                                      {"CHARACTER_SET_NAME", &charset},
                                      {"CREATE_OPTIONS", &options},
                                      {"TABLE_COMMENT", &comment}}));
  tables_read_ = true;
  for (const CatalogRow& row : rows.rows) {
    DbState* db = Db(Cell(row, schema));
    if (db == nullptr) continue;
    const std::string table_type = CellText(row, type);
    const std::string table_name = CellText(row, name);
    if (table_type == "VIEW" || table_type == "TEMPORARY") continue;  // views: the "views" query
    if (ir::IsMigrationArtifact(table_name)) continue;  // an online migration's shadow (docs/formats/ir.md)
    if (table_type == "SEQUENCE") {
      db->db.not_visible.push_back("sequence `" + table_name + "`: sequences are not represented in the IR yet");
      continue;
    }
    if (table_type == "SYSTEM VERSIONED") {
      db->db.not_visible.push_back("table `" + table_name +
                                   "`: WITH SYSTEM VERSIONING is not represented in the IR yet");
    }
    ir::Table table;
    table.name = table_name;
    table.engine = CellText(row, engine);
    table.charset = CellText(row, charset);
    table.collation = CellText(row, collation);
    table.comment = CellText(row, comment);
    ReadCreateOptions(CellText(row, options), &table);
    NoteCreateOptions(Cell(row, options), &db->create_option_tokens, &db->create_options_unknown);
    table.stats.rows_estimate = CellNumber(row, table_rows);
    table.stats.data_length = CellNumber(row, data_length);
    table.stats.index_length = CellNumber(row, index_length);
    table.stats.auto_increment = CellNumber(row, auto_increment);
    db->tables[table.name] = db->db.tables.size();
    db->table_engines[table.name] = table.engine;
    db->db.tables.push_back(std::move(table));
    ++db->counts.tables;
  }
  return Status::Ok();
}

Status CatalogBuilder::AddColumns(const CatalogRows& rows) {
  int schema, table_col, name, position, default_col, nullable, data_type, column_type, charset, collation, extra,
      comment;
  SQLX_RETURN_IF_ERROR(Require(rows, {{"TABLE_SCHEMA", &schema},
                                      {"TABLE_NAME", &table_col},
                                      {"COLUMN_NAME", &name},
                                      {"ORDINAL_POSITION", &position},
                                      {"COLUMN_DEFAULT", &default_col},
                                      {"IS_NULLABLE", &nullable},
                                      {"DATA_TYPE", &data_type},
                                      {"COLUMN_TYPE", &column_type},
                                      {"CHARACTER_SET_NAME", &charset},
                                      {"COLLATION_NAME", &collation},
                                      {"EXTRA", &extra},
                                      {"COLUMN_COMMENT", &comment}}));
  const int generation = rows.Find("GENERATION_EXPRESSION");
  const bool default_is_expression = ColumnDefaultIsExpression();
  for (const CatalogRow& row : rows.rows) {
    ir::Table* table = FindTable(Db(Cell(row, schema)), Cell(row, table_col));
    if (table == nullptr) continue;  // a view's columns, or a table not learned
    ir::Column column;
    column.name = CellText(row, name);
    column.position = static_cast<uint32_t>(CellNumber(row, position));
    column.column_type = CellText(row, column_type);
    column.nullable = CellText(row, nullable) == "YES";
    const Extra x = ReadExtra(CellText(row, extra));
    column.auto_increment = x.auto_increment;
    column.on_update = x.on_update;
    column.generation_kind = x.generation_kind;
    column.invisible = x.invisible;
    if (!x.generation_kind.empty()) column.generation_expression = CellText(row, generation);
    column.charset = CellText(row, charset);
    column.collation = CellText(row, collation);
    column.comment = CellText(row, comment);
    const std::optional<std::string> raw_default = Cell(row, default_col);
    if (!x.generation_kind.empty()) {
      // A generated column has no default (MariaDB reports 'NULL').
    } else if (default_is_expression) {
      column.default_value = raw_default;  // SQL already: NULL, 'text', 3, current_timestamp()
    } else if (!raw_default) {
      if (column.nullable && !IsBlobLikeType(CellText(row, data_type))) column.default_value = "NULL";
    } else if (x.default_generated) {
      column.default_value = MariaDbTimestamp(*raw_default);
    } else if (IsNumericType(CellText(row, data_type))) {
      column.default_value = *raw_default;
    } else {
      column.default_value = QuoteSqlLiteral(*raw_default);
    }
    if (!default_is_expression) column.on_update = MariaDbTimestamp(column.on_update);
    table->columns.push_back(std::move(column));
  }
  return Status::Ok();
}

std::vector<std::string> CatalogBuilder::WithCreateOption(std::string_view token) const {
  if (!tables_read_) return names_;
  const std::string wanted = AsciiLower(token);
  std::vector<std::string> out;
  for (const std::string& name : names_) {
    auto it = dbs_.find(name);
    if (it == dbs_.end()) continue;
    const DbState& db = it->second;
    if (db.create_options_unknown || db.create_option_tokens.count(wanted) > 0) out.push_back(name);
  }
  return out;
}

namespace {

// Threads that build learned databases: this machine's cores, at most 4
// (canonical JSON and SHA-256 are CPU-bound; past that the gain is small).
unsigned BuildThreads(size_t work) {
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return static_cast<unsigned>(std::min<size_t>({work, cores, 4}));
}

// Canonical IR, profile hash and stored JSON of one database.
void Build(ir::Database db, LearnedDatabase* out) {
  out->schema = std::move(db);
  ir::Canonicalize(&out->schema);
  out->profile_hash = ir::CanonicalProfileHash(out->schema);
  out->json = ir::ToCanonicalJson(out->schema, /*for_hash=*/false);
  out->not_visible = out->schema.not_visible;
}

}  // namespace

std::vector<LearnedDatabase> CatalogBuilder::Finish(const std::function<void(const LearnProgress&)>& progress) {
  std::vector<LearnedDatabase> out(names_.size());
  std::vector<size_t> work;             // indexes into out to build
  std::vector<ir::Database*> sources;   // their learned IR, in work order
  std::map<std::string, size_t> first;  // name → its first index (a name given twice is built once)
  for (size_t i = 0; i < names_.size(); ++i) {
    const std::string& name = names_[i];
    out[i].name = name;
    DbState& state = dbs_[name];
    if (!state.seen) {
      out[i].error = MakeError(ErrorCode::kNotFound, "unknown database '" + name +
                                                         "': the server has none by that name, or does not "
                                                         "show it to this user (check the name and the grants)");
      continue;
    }
    out[i].counts = state.counts;
    if (first.emplace(name, i).second) {
      work.push_back(i);
      sources.push_back(&state.db);
    }
  }

  std::atomic<size_t> next{0}, done{0};
  auto build_some = [&](bool report) {
    for (size_t k = next++; k < work.size(); k = next++) {
      LearnedDatabase& learned = out[work[k]];
      Build(std::move(*sources[k]), &learned);
      const size_t built = ++done;
      if (report && progress) {
        progress({LearnProgress::Phase::kBuilding, static_cast<int>(built), static_cast<int>(work.size()),
                  learned.name});
      }
    }
  };
  std::vector<std::thread> helpers;
  for (unsigned t = 1; t < BuildThreads(work.size()); ++t) helpers.emplace_back(build_some, false);
  build_some(true);
  for (std::thread& helper : helpers) helper.join();

  for (size_t i = 0; i < names_.size(); ++i) {
    auto it = first.find(names_[i]);
    if (it != first.end() && it->second != i) out[i] = out[it->second];
  }
  return out;
}

}  // namespace sqlx::flo
