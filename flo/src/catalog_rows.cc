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
             ReplaceAll(query.sql, "{object}", QuoteSqlIdentifier(objects[i].first) + "." + QuoteSqlIdentifier(objects[i].second));
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
