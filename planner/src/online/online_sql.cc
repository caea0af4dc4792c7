#include "online_sql.h"

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "sqlx/planner/render_sql.h"
#include "sqlx/transports/session.h"

namespace sqlx::planner::online {

Result<std::vector<Row>> Rows(transports::Session& session, const std::string& sql) {
  SQLX_ASSIGN_OR_RETURN(auto stream, session.Query(sql));
  std::vector<Row> out;
  SQLX_ASSIGN_OR_RETURN(bool has, stream->NextResult());
  while (has) {
    SQLX_ASSIGN_OR_RETURN(const transports::RowBatch* batch, stream->NextBatch());
    if (batch == nullptr) break;
    for (size_t r = 0; r < batch->rows(); ++r) {
      Row row;
      for (size_t c = 0; c < batch->columns(); ++c) {
        auto cell = batch->cell(r, c);
        row.push_back(cell ? std::optional<std::string>(std::string(*cell)) : std::nullopt);
      }
      out.push_back(std::move(row));
    }
  }
  return out;
}

Result<uint64_t> Number(transports::Session& session, const std::string& sql) {
  SQLX_ASSIGN_OR_RETURN(std::vector<Row> rows, Rows(session, sql));
  if (rows.empty() || rows.front().empty()) return MakeError(ErrorCode::kInternal, "no row from: " + sql);
  const auto& v = rows.front().front();
  return v ? std::strtoull(v->c_str(), nullptr, 10) : 0;
}

Result<uint64_t> Run(transports::Session& session, const std::string& sql) {
  SQLX_ASSIGN_OR_RETURN(transports::Completion done, session.Execute(sql));
  return done.affected_rows;
}

Status Exec(transports::Session& session, const std::string& sql) {
  SQLX_ASSIGN_OR_RETURN(transports::Completion done, session.Execute(sql));
  (void)done;
  return Status::Ok();
}

Status RunDdl(transports::Session& session, const std::string& sql, const OnlineOptions& options,
              std::atomic<bool>* in_statement, const std::atomic<bool>* stop) {
  auto stopped = [stop] { return stop != nullptr && stop->load(); };
  for (int attempt = 1;; ++attempt) {
    if (attempt > 1 && stopped()) return MakeError(ErrorCode::kCancelled, "stopped before attempt " + std::to_string(attempt));
    if (in_statement != nullptr) in_statement->store(true);
    auto done = Run(session, sql);
    if (in_statement != nullptr) in_statement->store(false);
    if (done.ok()) return Status::Ok();
    if (done.error().server_code != kLockWaitTimeout || attempt >= options.cutover_attempts || stopped())
      return done.error();
    const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(std::min(2000, 100 << std::min(attempt, 5)));
    while (std::chrono::steady_clock::now() < until) {
      if (stopped()) return done.error();
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

// `name` unquoted from the backticks at text[pos] (doubled backticks inside);
// pos is left after the closing one. "" when text[pos] is not a backtick.
std::string UnquoteAt(const std::string& text, size_t* pos) {
  if (*pos >= text.size() || text[*pos] != '`') return "";
  std::string out;
  size_t i = *pos + 1;
  while (i < text.size()) {
    if (text[i] == '`') {
      if (i + 1 < text.size() && text[i + 1] == '`') {
        out += '`';
        i += 2;
        continue;
      }
      break;
    }
    out += text[i++];
  }
  *pos = i + 1;
  return out;
}

std::string KeyKind(const std::string& data_type, const std::string& results_charset) {
  static const std::set<std::string> kNumbers = {"tinyint", "smallint", "mediumint", "int",
                                                 "bigint",  "decimal",  "year"};
  static const std::set<std::string> kBinary = {"binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"};
  static const std::set<std::string> kText = {"char", "varchar", "tinytext", "text", "mediumtext", "longtext",
                                              "date", "datetime", "timestamp", "time"};
  if (kNumbers.count(data_type)) return "number";
  if (kBinary.count(data_type)) return "binary";
  if (kText.count(data_type)) return "text:" + results_charset;
  return "";
}

namespace {

std::string Hex(const std::string& bytes) {
  static const char* const kDigits = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return out;
}

}  // namespace

std::string Literal(const std::string& kind, const std::string& value) {
  if (kind == "number") {
    // Digits, sign and decimal point only: anything else is written as text.
    bool plain = !value.empty();
    for (char c : value) plain = plain && ((c >= '0' && c <= '9') || c == '-' || c == '.');
    if (plain) return value;
    return QuoteString(value);
  }
  if (kind == "binary") return "X'" + Hex(value) + "'";
  const std::string charset = kind.rfind("text:", 0) == 0 ? kind.substr(5) : "utf8mb4";
  return "_" + charset + " X'" + Hex(value) + "'";
}

std::string ImplicitDefault(const std::string& data_type, const std::string& column_type) {
  static const std::set<std::string> kZero = {"tinyint", "smallint", "mediumint", "int",    "bigint", "decimal",
                                              "float",   "double",   "bit",       "year"};
  if (kZero.count(data_type)) return "0";
  if (data_type == "date") return "'0000-00-00'";
  if (data_type == "datetime" || data_type == "timestamp") return "'0000-00-00 00:00:00'";
  if (data_type == "time") return "'00:00:00'";
  if (data_type == "enum") {
    // enum('a','b'): the first value, as the server wrote it (quotes doubled).
    const size_t open = column_type.find('\'');
    if (open != std::string::npos) {
      size_t i = open + 1;
      while (i < column_type.size()) {
        if (column_type[i] == '\'' && i + 1 < column_type.size() && column_type[i + 1] == '\'') {
          i += 2;
          continue;
        }
        if (column_type[i] == '\'') break;
        ++i;
      }
      return column_type.substr(open, i - open + 1);
    }
  }
  return "''";
}

std::string Columns(const std::vector<std::string>& names, const std::string& prefix) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + (prefix.empty() ? "" : prefix + ".") + QuoteIdentifier(n);
  return out;
}

namespace {

std::string Col(const std::string& alias, const std::string& name) {
  return (alias.empty() ? "" : alias + ".") + QuoteIdentifier(name);
}

// (k1 OP1 v1) over a row: k1 > v1 OR (k1 = v1 AND (k2 > v2 OR ...)); the last
// column compares with `last` (">" or "<=" / "<").
std::string RowCompare(const MigrationState& s, const std::string& alias, const std::vector<std::string>& bound,
                       const char* strict, const char* last, size_t i = 0) {
  const std::string c = Col(alias, s.key_columns[i]);
  if (i + 1 == s.key_columns.size()) return c + " " + last + " " + bound[i];
  return "(" + c + " " + strict + " " + bound[i] + " OR (" + c + " = " + bound[i] + " AND " +
         RowCompare(s, alias, bound, strict, last, i + 1) + "))";
}

}  // namespace

std::string KeyAfter(const MigrationState& s, const std::string& alias, const std::vector<std::string>& bound) {
  return RowCompare(s, alias, bound, ">", ">");
}

std::string KeyAtMost(const MigrationState& s, const std::string& alias, const std::vector<std::string>& bound) {
  return RowCompare(s, alias, bound, "<", "<=");
}

std::string ChunkRange(const MigrationState& s, const std::string& alias, const std::vector<std::string>& after,
                       const std::vector<std::string>& upto) {
  std::string out;
  if (!after.empty()) out = KeyAfter(s, alias, after);
  if (!upto.empty()) out += (out.empty() ? "" : " AND ") + KeyAtMost(s, alias, upto);
  return out.empty() ? "1" : out;
}

std::string KeyJoin(const MigrationState& s, const std::string& a, const std::string& b) {
  std::string out;
  for (const std::string& k : s.key_columns) out += (out.empty() ? "" : " AND ") + Col(a, k) + " = " + Col(b, k);
  return out;
}

std::string RowsDiffer(const std::vector<std::string>& columns, const std::string& a, const std::string& b) {
  if (columns.empty()) return "";
  std::string same;
  for (const std::string& c : columns) same += (same.empty() ? "" : " AND ") + Col(a, c) + " <=> " + Col(b, c);
  return "NOT (" + same + ")";
}

std::vector<std::string> CaptureTriggers(const MigrationState& s, const std::string& table, const std::string& into,
                                         const std::string& prefix, bool ignore) {
  const std::string target = QuoteIdentifier(into);
  // Forward: the new columns without a default get ALTER TABLE's value.
  std::string columns = Columns(s.copy_columns), values = Columns(s.copy_columns, "NEW");
  if (!ignore) {
    for (size_t i = 0; i < s.fill_columns.size(); ++i) {
      columns += ", " + QuoteIdentifier(s.fill_columns[i]);
      values += ", " + s.fill_values[i];
    }
  }
  const std::string insert = std::string(ignore ? "INSERT IGNORE INTO " : "INSERT INTO ") + target + " (" + columns +
                             ") VALUES (" + values + ")";
  // target.k = ROW.k AND ... (ROW: OLD or NEW).
  auto by_key = [&](const std::string& row) {
    std::string out;
    for (const std::string& k : s.key_columns)
      out += (out.empty() ? "" : " AND ") + target + "." + QuoteIdentifier(k) + " = " + row + "." + QuoteIdentifier(k);
    return out;
  };
  const std::string by_old_key = by_key("OLD"), by_new_key = by_key("NEW");
  const std::string on = " ON " + QuoteIdentifier(table) + " FOR EACH ROW ";
  const std::string del_old = "DELETE FROM " + target + " WHERE " + by_old_key;
  // An update changes the row in place: a delete would trip the keys that
  // reference it in the target (RESTRICT refuses the writer, CASCADE or SET
  // NULL changes the children) whenever the target carries them (just
  // before a swap, or left so by a session that died there), and an UPDATE
  // cascades a new key to them as the writer's own UPDATE would have. A row
  // the target does not hold yet is left to the copy of its chunk, still
  // ahead; but a row whose key moved is inserted under its new key (that
  // key may be in a chunk already copied). ROW_COUNT() = 0 after the UPDATE
  // means "not there" when the key changed: a found row then changes.
  std::string same_key, assign;
  for (const std::string& k : s.key_columns)
    same_key += (same_key.empty() ? "" : " AND ") + std::string("NEW.") + QuoteIdentifier(k) + " <=> OLD." +
                QuoteIdentifier(k);
  for (const std::string& c : s.copy_columns)
    assign += (assign.empty() ? "" : ", ") + target + "." + QuoteIdentifier(c) + " = NEW." + QuoteIdentifier(c);
  const std::string update = "UPDATE " + target + " SET " + assign + " WHERE " + by_old_key;
  const std::string moved = "IF ROW_COUNT() = 0 AND NOT (" + same_key + ") THEN " + insert + "; END IF";
  // The body of statements: marked while it writes when the table has
  // triggers of its own (their twins on `into` must not fire for the
  // capture's writes). NOW(6) is the triggering statement's start time, the
  // same in every trigger it fires and different in the writer's next
  // statement: a mark left behind by a failing statement matches nothing
  // (the handler clears it anyway).
  auto body = [&](const std::vector<std::string>& statements) {
    std::string out;
    for (const std::string& statement : statements) out += statement + "; ";
    if (s.triggers.empty()) return statements.size() == 1 ? statements[0] : "BEGIN " + out + "END";
    const std::string mark = s.CaptureMark();
    return "BEGIN DECLARE EXIT HANDLER FOR SQLEXCEPTION BEGIN SET " + mark + " = NULL; RESIGNAL; END; SET " + mark +
           " = NOW(6); " + out + "SET " + mark + " = NULL; END";
  };
  // A forward insert needs no delete first: the shadow only holds rows the
  // table holds, and the table had no row with the new key. The reverse side
  // deletes first (the old table may hold what a revert would clash with).
  const std::string ins_body = ignore ? body({"DELETE FROM " + target + " WHERE " + by_new_key, insert}) : body({insert});
  return {
      "CREATE TRIGGER IF NOT EXISTS " + QuoteIdentifier(s.TriggerName(prefix + "ins")) + " AFTER INSERT" + on + ins_body,
      "CREATE TRIGGER IF NOT EXISTS " + QuoteIdentifier(s.TriggerName(prefix + "upd")) + " AFTER UPDATE" + on +
          body({update, moved}),
      "CREATE TRIGGER IF NOT EXISTS " + QuoteIdentifier(s.TriggerName(prefix + "del")) + " AFTER DELETE" + on +
          body({del_old}),
  };
}

}  // namespace sqlx::planner::online
