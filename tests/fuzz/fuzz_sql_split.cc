// Fuzzes the statement splitter (planner/sql_split.h): .sql files come from
// users. The first byte picks the options; the rest is the script. Every
// statement must be non-empty, trimmed, and start on a line of the script;
// SQL statements in the order of their lines.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "sqlx/planner/sql_split.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  sqlx::planner::SqlSplitOptions options;
  options.no_backslash_escapes = (data[0] & 1) != 0;
  options.ansi_quotes = (data[0] & 2) != 0;
  if ((data[0] & 4) != 0) options.delimiter = "$$";
  const std::string_view script(reinterpret_cast<const char*>(data + 1), size - 1);
  auto statements = sqlx::planner::SplitSqlScript(script, options);
  if (!statements.ok()) return 0;
  size_t lines = 1;
  for (char c : script) lines += c == '\n' ? 1 : 0;
  int previous = 0;
  for (const sqlx::planner::ScriptStatement& s : *statements) {
    if (s.text.empty() || static_cast<unsigned char>(s.text.front()) <= ' ' ||
        static_cast<unsigned char>(s.text.back()) <= ' ')
      std::abort();  // untrimmed or empty
    if (s.line < 1 || static_cast<size_t>(s.line) > lines) std::abort();  // not a line of the script
    // SQL statements come in the order they start; a client command may run
    // in the middle of a statement (`\. file` on its second line), as in the client.
    if (!s.client_command.empty()) continue;
    if (s.line < previous) std::abort();
    previous = s.line;
  }
  return 0;
}
