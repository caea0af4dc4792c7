// Sessions against the test MariaDB (scripts/services/up, see test_env.h):
// URLs for its fixture users, opening that must succeed, and whole results
// read into rows.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "row_cells.h"
#include "sqlx/transports/session.h"
#include "test_env.h"

namespace sqlx::testing {

// The first result of a query, fully read.
struct Table {
  std::vector<transports::Column> columns;
  std::vector<Row> rows;
  transports::Completion completion;
};

// The test MariaDB's URL for `user`, parsed; a parse error fails the test.
inline transports::ConnectionUrl Url(const std::string& user, const std::string& password,
                                     const std::string& db = "sqlx_test", const std::string& query = "") {
  auto url = transports::ParseConnectionUrl(MariaDbUrl(user, password, db, query));
  EXPECT_TRUE(url.ok()) << url.error().ToString();
  return url.ok() ? *url : transports::ConnectionUrl{};
}

// The mysql_native_password fixture user.
inline transports::ConnectionUrl NativeUrl(const std::string& db = "sqlx_test") {
  return Url("sqlx_native", "native-pw", db);
}

// An open session, or nullptr and a test failure.
inline std::unique_ptr<transports::Session> MustOpen(const transports::ConnectionUrl& url,
                                                     const transports::SessionOptions& options = {}) {
  auto session = transports::Session::Open(url, options);
  EXPECT_TRUE(session.ok()) << session.error().ToString();
  return session.ok() ? std::move(session).value() : nullptr;
}

// Reads every row of the first result; the rest of the query is drained.
inline Result<Table> QueryAll(transports::Session& session, std::string_view sql) {
  SQLX_ASSIGN_OR_RETURN(auto stream, session.Query(sql));
  SQLX_ASSIGN_OR_RETURN(bool more, stream->NextResult());
  Table t;
  if (!more) return t;
  t.columns = stream->columns();
  for (;;) {
    SQLX_ASSIGN_OR_RETURN(const transports::RowBatch* batch, stream->NextBatch());
    if (batch == nullptr) break;
    AppendRows(*batch, &t.rows);
  }
  t.completion = stream->completion();
  return t;
}

// The single cell of a one-row, one-column query, or a failure.
inline Cell Scalar(transports::Session& session, std::string_view sql) {
  auto t = QueryAll(session, sql);
  EXPECT_TRUE(t.ok()) << sql << ": " << t.error().ToString();
  if (!t.ok() || t->rows.size() != 1 || t->rows[0].size() != 1) {
    ADD_FAILURE() << sql << ": expected exactly one cell";
    return std::nullopt;
  }
  return t->rows[0][0];
}

}  // namespace sqlx::testing
