// The first value a query returns, read over a session (apply's counts and
// session variables).
#pragma once

#include <cstdint>
#include <string>

#include "sqlx/messages/result.h"
#include "sqlx/transports/session.h"

namespace sqlx {

// The first column of the first row `sql` returns (a count, a variable); an
// error when it returns no row.
Result<std::string> FirstValue(transports::Session& session, const std::string& sql);
// FirstValue as a number.
Result<uint64_t> CountOf(transports::Session& session, const std::string& sql);

}  // namespace sqlx
