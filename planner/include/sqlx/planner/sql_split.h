// Splitting a SQL script into the statements the `mariadb` command-line
// client would send for it in batch mode (`mariadb db < file`, `source file`),
// without parsing SQL: quotes, comments, `DELIMITER` and the client's own
// commands decide where a statement ends. Pure: no I/O.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sqlx/messages/result.h"

namespace sqlx::planner {

struct ScriptStatement {
  // What the client sends: `--` and `#` comments and `/* */` comments removed
  // (`/*! */` and `/*M! */` kept as text), leading and trailing
  // whitespace trimmed, lines joined with '\n'. For a client command, the
  // command as written (`use shop`, `\. other.sql`).
  std::string text;
  // 1-based line of the script where the statement's first character is.
  int line = 0;
  // Empty for SQL. Otherwise the client command the client would run itself
  // instead of sending SQL ("use", "source", "quit", "connect", "system",
  // ...): the caller decides whether it can honour it. DELIMITER, go (\g,
  // \G) and clear (\c) are handled by the splitter and never reported.
  std::string client_command;
};

struct SqlSplitOptions {
  std::string delimiter = ";";  // the terminator at the start; default ";"
  // The server's sql_mode has NO_BACKSLASH_ESCAPES (a backslash inside a
  // quoted string escapes nothing). Default: false, as the client assumes.
  bool no_backslash_escapes = false;
  // The server's sql_mode has ANSI_QUOTES ("..." is an identifier, where a
  // backslash escapes nothing). Default: false.
  bool ansi_quotes = false;
};

// The statements of `script`, in order, as the client in batch mode splits
// it: a statement ends at the delimiter (";" until a DELIMITER command
// changes it) outside quotes ('…', "…", `…`, with doubled quotes and, except
// in `…`, backslash escapes) and outside comments (`#` to the end of the line;
// `-- ` with a space or control character after the dashes, or `--` at the
// very start of a statement; `/* … */`), or at `\g` / `\G`; what is left at the
// end of the script is the last statement even without a delimiter. Empty
// statements are dropped. A UTF-8 byte order mark at the start is skipped.
// Fails (kInvalidArgument, naming the line) on a DELIMITER command without a
// delimiter or with a backslash in it, which the client also refuses.
Result<std::vector<ScriptStatement>> SplitSqlScript(std::string_view script, const SqlSplitOptions& options = {});

}  // namespace sqlx::planner
