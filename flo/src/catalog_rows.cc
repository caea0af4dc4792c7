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

}  // namespace sqlx::flo
