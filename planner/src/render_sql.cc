// IR → DDL. Each clause is written the way the server's SHOW CREATE writes
// it where that is a choice (upper-case keywords, backtick identifiers), so a
// rendered and re-created object reads back identical. docs/formats/ddl.md.
#include "sqlx/planner/render_sql.h"

#include <algorithm>
#include <cctype>

namespace sqlx::planner {

namespace {

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(text[i])) != std::toupper(static_cast<unsigned char>(prefix[i])))
      return false;
  }
  return true;
}

bool HasMode(std::string_view sql_mode, std::string_view mode) {
  size_t start = 0;
  while (start <= sql_mode.size()) {
    size_t comma = sql_mode.find(',', start);
    if (comma == std::string_view::npos) comma = sql_mode.size();
    if (sql_mode.substr(start, comma - start) == mode) return true;
    start = comma + 1;
  }
  return false;
}

// A default the parser takes bare: a literal, NULL, or a temporal function
// (MariaDB's COLUMN_DEFAULT form, docs/formats/ir.md). Anything else is an
// expression and needs parentheses (DEFAULT (a + 1)).
bool DefaultIsBare(std::string_view value) {
  if (value.empty()) return false;
  const char c = value.front();
  if (c == '\'' || c == '-' || c == '+' || c == '.' || std::isdigit(static_cast<unsigned char>(c))) {
    if (c != '\'') {
      // A number: digits, sign, point, exponent only.
      for (char d : value) {
        if (!std::isdigit(static_cast<unsigned char>(d)) && d != '-' && d != '+' && d != '.' && d != 'e' && d != 'E')
          return false;
      }
    }
    return true;
  }
  if (value == "NULL") return true;
  if (StartsWithNoCase(value, "b'") || StartsWithNoCase(value, "x'") || StartsWithNoCase(value, "0x")) return true;
  for (std::string_view fn : {"current_timestamp", "localtimestamp", "localtime", "now(", "sysdate("}) {
    if (StartsWithNoCase(value, fn)) return value.find(' ') == std::string_view::npos;
  }
  return false;
}

std::string JoinIdentifiers(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) out += (i ? "," : "") + QuoteIdentifier(names[i]);
  return out;
}

std::string IndexPartText(const ir::IndexPart& part) {
  std::string out = part.column.empty() ? "(" + part.expression + ")" : QuoteIdentifier(part.column);
  if (part.prefix_length) out += "(" + std::to_string(*part.prefix_length) + ")";
  if (part.descending) out += " DESC";
  return out;
}

// A partition's VALUES clause for its method.
std::string PartitionValues(const std::string& method, const std::string& description) {
  if (StartsWithNoCase(method, "RANGE")) {
    if (description == "MAXVALUE") return " VALUES LESS THAN MAXVALUE";
    return " VALUES LESS THAN (" + description + ")";
  }
  if (StartsWithNoCase(method, "LIST")) {
    if (description == "DEFAULT") return " DEFAULT";
    return " VALUES IN (" + description + ")";
  }
  return "";
}

// "KEY" and "LINEAR KEY" list columns; the rest take an expression.
std::string PartitionBy(const std::string& method, const std::string& expression) {
  if (method == "RANGE COLUMNS" || method == "LIST COLUMNS") return method + "(" + expression + ")";
  return method + " (" + expression + ")";
}

// HASH/KEY partitions with the server's own names p0..pN-1 and nothing else
// declared.
bool DefaultNamed(const ir::Partitioning& p) {
  if (p.partitions.empty() || !p.subpartition_method.empty()) return false;
  if (p.method.find("HASH") == std::string::npos && p.method.find("KEY") == std::string::npos) return false;
  for (size_t i = 0; i < p.partitions.size(); ++i) {
    const ir::Partition& part = p.partitions[i];
    if (part.name != "p" + std::to_string(i) || !part.description.empty() || !part.comment.empty() ||
        !part.subpartitions.empty())
      return false;
  }
  return true;
}

}  // namespace

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  return out + "`";
}

std::string QuoteString(std::string_view text, bool no_backslash_escapes) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "''";
    } else if (c == '\\' && !no_backslash_escapes) {
      out += "\\\\";
    } else if (c == '\0' && !no_backslash_escapes) {
      out += "\\0";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string QuoteDefiner(std::string_view definer) {
  const size_t at = definer.rfind('@');
  if (at == std::string_view::npos) return QuoteIdentifier(definer);
  return QuoteIdentifier(definer.substr(0, at)) + "@" + QuoteIdentifier(definer.substr(at + 1));
}

std::string RenderColumn(const ir::Column& c, const std::vector<ir::Check>& checks) {
  std::string out = QuoteIdentifier(c.name) + " " + c.column_type;
  if (!c.charset.empty()) out += " CHARACTER SET " + c.charset;
  if (!c.collation.empty()) out += " COLLATE " + c.collation;
  if (!c.generation_kind.empty()) {
    out += " GENERATED ALWAYS AS (" + c.generation_expression + ") " + c.generation_kind;
  } else {
    out += c.nullable ? " NULL" : " NOT NULL";
    if (c.default_value) {
      out += " DEFAULT " + (DefaultIsBare(*c.default_value) ? *c.default_value : "(" + *c.default_value + ")");
    }
    if (!c.on_update.empty()) out += " ON UPDATE " + c.on_update;
    if (c.auto_increment) out += " AUTO_INCREMENT";
  }
  if (c.invisible) out += " INVISIBLE";
  if (!c.comment.empty()) out += " COMMENT " + QuoteString(c.comment);
  for (const ir::Check& check : checks) {
    if (check.column_level && check.name == c.name) out += " CHECK (" + check.clause + ")";
  }
  return out;
}

std::string DeclaredCreateOptions(const ir::Table& table) {
  // Reported although not declared: engine -> token (lowercase, as CREATE_OPTIONS has it).
  static const std::vector<std::pair<std::string_view, std::string_view>> kImplicit = {{"aria", "transactional=1"}};
  std::string engine = table.engine;
  for (char& c : engine) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string out;
  size_t start = 0;
  while (start < table.create_options.size()) {
    size_t end = table.create_options.find(' ', start);
    if (end == std::string::npos) end = table.create_options.size();
    const std::string_view token = std::string_view(table.create_options).substr(start, end - start);
    start = end + 1;
    if (token.empty() || std::find(kImplicit.begin(), kImplicit.end(), std::pair<std::string_view, std::string_view>(
                                                                            engine, token)) != kImplicit.end())
      continue;
    out += (out.empty() ? "" : " ") + std::string(token);
  }
  return out;
}

std::string RenderIndex(const ir::Index& index) {
  std::string out;
  if (index.kind == "PRIMARY") {
    out = "PRIMARY KEY";
  } else if (index.kind == "UNIQUE") {
    out = "UNIQUE KEY " + QuoteIdentifier(index.name);
  } else if (index.kind == "FULLTEXT" || index.kind == "SPATIAL") {
    out = index.kind + " KEY " + QuoteIdentifier(index.name);
  } else {
    out = "KEY " + QuoteIdentifier(index.name);
  }
  out += " (";
  for (size_t i = 0; i < index.parts.size(); ++i) {
    // The catalog reports SUB_PART 32 for a SPATIAL key part; the server
    // refuses a prefix on one.
    ir::IndexPart part = index.parts[i];
    if (index.kind == "SPATIAL") part.prefix_length.reset();
    out += (i ? "," : "") + IndexPartText(part);
  }
  out += ")";
  if (!index.algorithm.empty()) out += " USING " + index.algorithm;
  if (!index.comment.empty()) out += " COMMENT " + QuoteString(index.comment);
  if (index.ignored) out += " IGNORED";
  return out;
}

std::string RenderForeignKey(const ir::ForeignKey& fk) {
  std::string out = "CONSTRAINT " + QuoteIdentifier(fk.name) + " FOREIGN KEY (" + JoinIdentifiers(fk.columns) +
                    ") REFERENCES ";
  if (!fk.referenced_schema.empty()) out += QuoteIdentifier(fk.referenced_schema) + ".";
  out += QuoteIdentifier(fk.referenced_table) + " (" + JoinIdentifiers(fk.referenced_columns) + ")";
  if (!fk.on_delete.empty()) out += " ON DELETE " + fk.on_delete;
  if (!fk.on_update.empty()) out += " ON UPDATE " + fk.on_update;
  return out;
}

std::string RenderCheck(const ir::Check& check) {
  return "CONSTRAINT " + QuoteIdentifier(check.name) + " CHECK (" + check.clause + ")";
}

std::string RenderPartitioning(const ir::Partitioning& p, const std::string& engine) {
  std::string out = "PARTITION BY " + PartitionBy(p.method, p.expression);
  if (!p.subpartition_method.empty()) {
    out += "\nSUBPARTITION BY " + PartitionBy(p.subpartition_method, p.subpartition_expression);
  }
  const std::string engine_clause = engine.empty() ? "" : " ENGINE = " + engine;
  // HASH and KEY partitions named by the server (p0, p1, ...; sp0 for
  // subpartitions: "PARTITIONS n") are written as a count, as SHOW CREATE
  // TABLE writes them. (The catalog cannot tell them from partitions a user
  // named p0, p1, ... explicitly.)
  if (DefaultNamed(p)) {
    out += "\nPARTITIONS " + std::to_string(p.partitions.size());
    return out;
  }
  out += "\n(";
  for (size_t i = 0; i < p.partitions.size(); ++i) {
    const ir::Partition& part = p.partitions[i];
    out += (i ? ",\n " : "") + std::string("PARTITION ") + QuoteIdentifier(part.name) +
           PartitionValues(p.method, part.description);
    if (!part.comment.empty()) out += " COMMENT = " + QuoteString(part.comment);
    if (part.subpartitions.empty()) {
      out += engine_clause;
      continue;
    }
    out += "\n (";
    for (size_t s = 0; s < part.subpartitions.size(); ++s) {
      out += (s ? ",\n  " : "") + std::string("SUBPARTITION ") + QuoteIdentifier(part.subpartitions[s]) +
             engine_clause;
    }
    out += ")";
  }
  return out + ")";
}

std::string RenderCreateTable(const ir::Table& t) {
  std::vector<std::string> lines;
  for (const ir::Column& c : t.columns) lines.push_back(RenderColumn(c, t.checks));
  // Keys in the server's order when the IR knows it (SHOW CREATE TABLE
  // then reads back the same); else in the IR's canonical order.
  std::vector<const ir::Index*> indexes;
  for (const ir::Index& index : t.indexes) indexes.push_back(&index);
  if (std::all_of(indexes.begin(), indexes.end(), [](const ir::Index* i) { return i->position > 0; })) {
    std::stable_sort(indexes.begin(), indexes.end(),
                     [](const ir::Index* a, const ir::Index* b) { return a->position < b->position; });
  }
  for (const ir::Index* index : indexes) lines.push_back(RenderIndex(*index));
  for (const ir::ForeignKey& fk : t.foreign_keys) lines.push_back(RenderForeignKey(fk));
  for (const ir::Check& check : t.checks) {
    if (!check.column_level) lines.push_back(RenderCheck(check));
  }
  std::string out = "CREATE TABLE " + QuoteIdentifier(t.name) + " (\n";
  for (size_t i = 0; i < lines.size(); ++i) out += "  " + lines[i] + (i + 1 < lines.size() ? ",\n" : "\n");
  out += ")";
  if (!t.engine.empty()) out += " ENGINE=" + t.engine;
  if (!t.charset.empty()) out += " DEFAULT CHARSET=" + t.charset;
  if (!t.collation.empty()) out += " COLLATE=" + t.collation;
  if (!t.row_format.empty()) out += " ROW_FORMAT=" + t.row_format;
  if (const std::string options = DeclaredCreateOptions(t); !options.empty()) out += " " + options;
  if (!t.comment.empty()) out += " COMMENT=" + QuoteString(t.comment);
  if (t.partitioning) out += "\n" + RenderPartitioning(*t.partitioning, t.engine);
  return out;
}

std::string RenderCreateView(const ir::View& v) {
  std::string out = "CREATE";
  if (!v.algorithm.empty()) out += " ALGORITHM=" + v.algorithm;
  if (!v.definer.empty()) out += " DEFINER=" + QuoteDefiner(v.definer);
  if (!v.security.empty()) out += " SQL SECURITY " + v.security;
  out += " VIEW " + QuoteIdentifier(v.name) + " AS " + v.definition;
  if (!v.check_option.empty() && v.check_option != "NONE") out += " WITH " + v.check_option + " CHECK OPTION";
  return out;
}

std::string RenderCreateRoutine(const ir::Routine& r) {
  const bool function = r.kind == "FUNCTION";
  std::string out = "CREATE";
  if (!r.definer.empty()) out += " DEFINER=" + QuoteDefiner(r.definer);
  out += " " + r.kind + " " + QuoteIdentifier(r.name) + "(";
  if (!r.parameter_list.empty() || r.parameters.empty()) {
    out += r.parameter_list;
  } else {
    for (size_t i = 0; i < r.parameters.size(); ++i) {
      const ir::RoutineParameter& p = r.parameters[i];
      out += i ? ", " : "";
      if (!function && !p.mode.empty()) out += p.mode + " ";
      out += QuoteIdentifier(p.name) + " " + p.type;
    }
  }
  out += ")";
  if (function) out += " RETURNS " + r.returns;
  const bool nbe = HasMode(r.sql_mode, "NO_BACKSLASH_ESCAPES");
  if (!r.comment.empty()) out += "\n    COMMENT " + QuoteString(r.comment, nbe);
  if (r.deterministic) out += "\n    DETERMINISTIC";
  if (!r.data_access.empty() && r.data_access != "CONTAINS SQL") out += "\n    " + r.data_access;
  if (!r.security.empty() && r.security != "DEFINER") out += "\n    SQL SECURITY " + r.security;
  return out + "\n" + r.body;
}

std::string RenderCreateTrigger(const ir::Trigger& t) {
  std::string out = "CREATE";
  if (!t.definer.empty()) out += " DEFINER=" + QuoteDefiner(t.definer);
  // A body that starts with white space keeps it (the catalog learns it so
  // from SHOW CREATE TRIGGER): the server shows the statement as written.
  const bool spaced = !t.body.empty() && std::isspace(static_cast<unsigned char>(t.body.front()));
  return out + " TRIGGER " + QuoteIdentifier(t.name) + " " + t.timing + " " + t.event + " ON " +
         QuoteIdentifier(t.table) + " FOR EACH ROW" + (spaced ? "" : " ") + t.body;
}

std::string RenderCreateEvent(const ir::Event& e) {
  std::string out = "CREATE";
  if (!e.definer.empty()) out += " DEFINER=" + QuoteDefiner(e.definer);
  out += " EVENT " + QuoteIdentifier(e.name) + " ON SCHEDULE " + e.schedule;
  out += " ON COMPLETION " + (e.on_completion.empty() ? std::string("NOT PRESERVE") : e.on_completion);
  if (e.status == "DISABLED") {
    out += " DISABLE";
  } else if (e.status == "SLAVESIDE_DISABLED") {
    out += " DISABLE ON SLAVE";
  } else {
    out += " ENABLE";
  }
  if (!e.comment.empty()) out += " COMMENT " + QuoteString(e.comment, HasMode(e.sql_mode, "NO_BACKSLASH_ESCAPES"));
  return out + " DO " + e.body;
}

}  // namespace sqlx::planner
