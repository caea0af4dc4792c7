// Running a reverse plan's operations online (apply_plan.cc: an abandon
// undoes the plan's operations its copying run ran; docs/rollouts.md).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "sqlx/messages/result.h"
#include "sqlx/planner/plan.h"
#include "sqlx/transports/session.h"

namespace sqlx {

// Runs `back`'s operations in order on `session` (its database the
// default), so that no writer is blocked for long:
// - each statement waits at most 1 s for metadata locks, retried with
//   backoff (10 attempts), as the online engine's swap does;
// - an ALTER TABLE runs with ALGORITHM=INPLACE, LOCK=NONE, so one the
//   server could only run by copying the table fails, naming it (a
//   repartitioning is refused outright);
// - one that adds foreign keys counts the child rows whose parent is
//   missing before and after adding them as metadata
//   (foreign_key_checks = 0, what the server can do online): any, and it
//   fails naming the count (after, the keys are dropped again);
// - a statement the server refuses because its effect is already there (a
//   redelivered undo cut short: "can't DROP", "duplicate column", "table
//   exists", ...) is passed over with a line in `warnings`; the caller's
//   hash check then tells whether the database is where it should be.
// The session's lock_wait_timeout (DEFAULT) and sql_mode
// (`session_sql_mode`) are put back. `on_step` is called after each
// operation with its time.
Status UndoOperations(transports::Session& session, const planner::Plan& back, const std::string& session_sql_mode,
                      const std::function<void(const planner::Operation&, std::chrono::milliseconds)>& on_step,
                      std::vector<std::string>* warnings);

}  // namespace sqlx
