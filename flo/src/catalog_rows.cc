// Runs the learn pack's catalog queries: picks the entry for this server,
// fills in {schemas}, reads the rows with their column names, and sorts a
// failure into "the user may not look" (kDenied) or an error that ends the
// learn.
#include <algorithm>
#include <cctype>

#include "catalog.h"
#include "server_probes.h"

namespace sqlx::flo {

int CatalogRows::Find(std::string_view name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (EqualsIgnoreCase(columns[i], name)) return static_cast<int>(i);
  return -1;
}

std::optional<std::string> Cell(const CatalogRow& row, int column) {
  if (column < 0 || static_cast<size_t>(column) >= row.size()) return std::nullopt;
  return row[static_cast<size_t>(column)];
}

std::string CellText(const CatalogRow& row, int column) { return Cell(row, column).value_or(""); }

uint64_t CellNumber(const CatalogRow& row, int column) {
  const std::string text = CellText(row, column);
  if (text.empty() || text.size() > 19) return 0;
  uint64_t value = 0;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return 0;
    value = value * 10 + static_cast<uint64_t>(c - '0');
  }
  return value;
}

Result<int> RequireColumn(const CatalogRows& rows, std::string_view name, const std::string& pack_file) {
  int index = rows.Find(name);
  if (index < 0) {
    return MakeError(ErrorCode::kPack, "learn pack " + pack_file + ": catalog query '" + rows.query +
                                           "' returned no column " + std::string(name) +
                                           " (docs/formats/learn-pack.md lists the columns each query returns)");
  }
  return index;
}

Result<CatalogOutcome> CatalogReader::Run(std::string_view name, const std::string& schemas, CatalogRows* rows,
                                          std::string* reason) {
  const CatalogQuery& query = pack_.catalog.Find(name, flavor_, version_);
  rows->query = std::string(name);
  rows->columns.clear();
  rows->rows.clear();
  if (!query.unsupported.empty()) {
    *reason = query.unsupported;
    return CatalogOutcome::kUnsupported;
  }
  const std::string sql = ReplaceAll(query.sql, "{schemas}", schemas);
  ++statements_;
  SQLX_ASSIGN_OR_RETURN(StatementOutcome outcome, RunStatement(session_, sql));
  if (!outcome.ok) {
    const auto& privilege = pack_.errors.privilege;
    if (std::find(privilege.begin(), privilege.end(), outcome.error.server_code) != privilege.end()) {
      *reason = outcome.error.ToString();
      return CatalogOutcome::kDenied;
    }
    Error error = outcome.error;
    error.message = "catalog query '" + std::string(name) + "' failed: " + error.message;
    return error;
  }
  rows->columns = std::move(outcome.columns);
  rows->rows = std::move(outcome.rows);
  return CatalogOutcome::kRan;
}

namespace {

// Runs `sql` (one or more statements) and reads every result. The list ends
// early with a failed outcome when a statement fails: the server runs none
// after it.
Result<std::vector<StatementOutcome>> RunStatements(transports::Session& session, std::string_view sql) {
  std::vector<StatementOutcome> out;
  auto failed = [&](const Error& error) -> Result<std::vector<StatementOutcome>> {
    if (error.code != ErrorCode::kServer) return error;
    StatementOutcome outcome;
    outcome.ok = false;
    outcome.error = error;
    out.push_back(std::move(outcome));
    return std::move(out);
  };
  auto stream = session.Query(sql);
  if (!stream.ok()) return failed(stream.error());
  for (;;) {
    auto more = (*stream)->NextResult();
    if (!more.ok()) return failed(more.error());
    if (!*more) break;
    StatementOutcome outcome;
    for (const auto& column : (*stream)->columns()) outcome.columns.push_back(column.name);
    while ((*stream)->has_rows()) {
      auto batch = (*stream)->NextBatch();
      if (!batch.ok()) return failed(batch.error());
      if (*batch == nullptr) break;
      for (size_t r = 0; r < (*batch)->rows(); ++r) {
        std::vector<std::optional<std::string>> row;
        for (size_t c = 0; c < (*batch)->columns(); ++c) {
          auto cell = (*batch)->cell(r, c);
          row.push_back(cell ? std::optional<std::string>(std::string(*cell)) : std::nullopt);
        }
        outcome.rows.push_back(std::move(row));
      }
    }
    out.push_back(std::move(outcome));
  }
  return out;
}

std::string QuoteIdentifier(std::string_view name) {
  std::string out = "`";
  for (char c : name) out += c == '`' ? std::string("``") : std::string(1, c);
  return out + "`";
}

}  // namespace

Result<std::vector<CatalogReader::ObjectOutcome>> CatalogReader::RunEach(
    std::string_view name, const std::vector<std::pair<std::string, std::string>>& objects) {
  const CatalogQuery& query = pack_.catalog.Find(name, flavor_, version_);
  std::vector<ObjectOutcome> out(objects.size());
  if (!query.unsupported.empty()) {
    for (ObjectOutcome& o : out) {
      o.outcome = CatalogOutcome::kUnsupported;
      o.reason = query.unsupported;
    }
    return out;
  }
  const auto& caps = session_.server().client_capabilities;
  const std::string& multi = pack_.catalog.multi_statement_capability;
  const size_t per_trip = !multi.empty() && std::find(caps.begin(), caps.end(), multi) != caps.end()
                              ? pack_.catalog.multi_statement_max
                              : 1;
  size_t next = 0;
  while (next < objects.size()) {
    const size_t count = std::min(per_trip, objects.size() - next);
    std::string sql;
    for (size_t i = next; i < next + count; ++i) {
      sql += (i == next ? "" : ";") +
             ReplaceAll(query.sql, "{object}", QuoteIdentifier(objects[i].first) + "." + QuoteIdentifier(objects[i].second));
    }
    ++statements_;
    SQLX_ASSIGN_OR_RETURN(std::vector<StatementOutcome> results, RunStatements(session_, sql));
    size_t answered = 0;
    for (StatementOutcome& result : results) {
      if (answered == count) break;
      ObjectOutcome& o = out[next + answered++];
      o.rows.query = std::string(name);
      if (!result.ok) {
        const auto& privilege = pack_.errors.privilege;
        const bool denied =
            std::find(privilege.begin(), privilege.end(), result.error.server_code) != privilege.end();
        o.outcome = denied ? CatalogOutcome::kDenied : CatalogOutcome::kUnsupported;
        o.reason = result.error.ToString();
        break;  // the server ran nothing after it
      }
      o.rows.columns = std::move(result.columns);
      o.rows.rows = std::move(result.rows);
    }
    if (answered == 0) {
      return MakeError(ErrorCode::kProtocol, "catalog query '" + std::string(name) + "' returned no result");
    }
    next += answered;
  }
  return out;
}

}  // namespace sqlx::flo
