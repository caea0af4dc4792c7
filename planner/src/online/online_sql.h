// SQL text and small queries of the online-migration engine.
#pragma once

#include <atomic>
#include <optional>
#include <string>
#include <vector>

#include "sqlx/messages/result.h"
#include "sqlx/planner/online.h"
#include "sqlx/planner/render_sql.h"

namespace sqlx::planner::online {

using Row = std::vector<std::optional<std::string>>;

// Server error codes the engine waits out and retries.
inline constexpr int kLockWaitTimeout = 1205;
inline constexpr int kDeadlock = 1213;

inline std::string Q(const std::string& name) { return QuoteIdentifier(name); }

// Every row of the first result of `sql`.
Result<std::vector<Row>> Rows(transports::Session& session, const std::string& sql);
// The first column of the first row as a number (0 for NULL); an error when
// there is no row.
Result<uint64_t> Number(transports::Session& session, const std::string& sql);
// Runs a statement that returns no rows; the affected-row count.
Result<uint64_t> Run(transports::Session& session, const std::string& sql);
Status Exec(transports::Session& session, const std::string& sql);

// DDL that needs a table's metadata lock, retried (options.cutover_attempts
// times, with backoff) while other transactions hold it: lock_wait_timeout
// is short, because waiting queues the writers behind it.
// `in_statement` (when given) is true while a statement is on its way to or
// from the server, false between attempts; `stop` (when given) ends the
// retries.
Status RunDdl(transports::Session& session, const std::string& sql, const OnlineOptions& options,
              std::atomic<bool>* in_statement = nullptr, const std::atomic<bool>* stop = nullptr);

// `name` unquoted from the backticks at text[*pos] (doubled backticks inside);
// *pos is left after the closing one. "" when text[*pos] is not a backtick.
std::string UnquoteAt(const std::string& text, size_t* pos);

// How a key column's values are written back into SQL: "number" (digits as
// they are), "binary" (X'..'), "text:CHARSET" (_CHARSET X'..': no escaping,
// compared in the column's collation). Empty when the type cannot key a
// chunk (float, enum, set, spatial, JSON).
std::string KeyKind(const std::string& data_type, const std::string& results_charset);
// `value` (as the text protocol returned it) as a literal of `kind`.
std::string Literal(const std::string& kind, const std::string& value);

// The value ALTER TABLE gives existing rows in a new NOT NULL column without
// a default, as a SQL literal.
std::string ImplicitDefault(const std::string& data_type, const std::string& column_type);

// "`a`, `b`" (each name prefixed "PREFIX." when prefix is given).
std::string Columns(const std::vector<std::string>& names, const std::string& prefix = "");
// key > bound (row order over several columns), with `alias.` on each column.
std::string KeyAfter(const MigrationState& s, const std::string& alias, const std::vector<std::string>& bound);
// key <= bound.
std::string KeyAtMost(const MigrationState& s, const std::string& alias, const std::vector<std::string>& bound);
// The chunk (after, upto]: after empty = from the start; upto empty = to the end.
std::string ChunkRange(const MigrationState& s, const std::string& alias, const std::vector<std::string>& after,
                       const std::vector<std::string>& upto);
// alias1.k = alias2.k AND ...
std::string KeyJoin(const MigrationState& s, const std::string& a, const std::string& b);
// NOT (a.c <=> b.c AND ...) over `columns`; "" when there are none.
std::string RowsDiffer(const std::vector<std::string>& columns, const std::string& a, const std::string& b);

// The change-capture triggers: on `table`, every write carried into `into`
// (forward: plain INSERT, so a write the new definition refuses is refused;
// reverse: INSERT IGNORE, so the new table never refuses a write because of
// the old one). `prefix` names them: "" (ins/upd/del) or "r" (rins/...).
// When the table has triggers of its own, each capture marks its writes
// (s.CaptureMark() = NOW(6) while it writes): the twins of those triggers on
// `into` then stay silent for them (online_triggers.h).
std::vector<std::string> CaptureTriggers(const MigrationState& s, const std::string& table, const std::string& into,
                                         const std::string& prefix, bool ignore);

}  // namespace sqlx::planner::online
