#include "first_value.h"

#include <cstdlib>
#include <optional>

namespace sqlx {

Result<std::string> FirstValue(transports::Session& session, const std::string& sql) {
  SQLX_ASSIGN_OR_RETURN(auto stream, session.Query(sql));
  SQLX_ASSIGN_OR_RETURN(bool has, stream->NextResult());
  std::optional<std::string> value;
  while (has) {
    SQLX_ASSIGN_OR_RETURN(const transports::RowBatch* batch, stream->NextBatch());
    if (batch == nullptr) break;
    if (!value && batch->rows() > 0 && batch->columns() > 0) value = std::string(batch->value(0, 0));
  }
  if (!value) return MakeError(ErrorCode::kInternal, "the query returned no row: " + sql);
  return *value;
}

Result<uint64_t> CountOf(transports::Session& session, const std::string& sql) {
  SQLX_ASSIGN_OR_RETURN(std::string value, FirstValue(session, sql));
  return std::strtoull(value.c_str(), nullptr, 10);
}

}  // namespace sqlx
