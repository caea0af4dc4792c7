// A live status line on stderr for long commands (`sqlx learn`): shown only
// when stderr is a terminal, rewritten in place, erased when done. Never on
// stdout, and nothing at all when stderr is a file or a pipe.
#pragma once

#include <string_view>

namespace sqlx::cli {

class ProgressLine {
 public:
  // Enabled when `wanted` and stderr is a terminal.
  explicit ProgressLine(bool wanted);
  ~ProgressLine() { Clear(); }
  ProgressLine(const ProgressLine&) = delete;
  ProgressLine& operator=(const ProgressLine&) = delete;

  // Replaces the line with "sqlx: <text>" (cut to the terminal's width, so
  // that \r can take it back). Not thread-safe: one thread shows and clears.
  void Show(std::string_view text);
  // Erases the line; call before anything else is written to stderr.
  void Clear();

  bool enabled() const { return enabled_; }

 private:
  bool enabled_;
  bool shown_ = false;
};

}  // namespace sqlx::cli
