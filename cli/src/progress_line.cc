// The progress line: "\r", the text, then "erase to end of line" (ANSI EL),
// written unbuffered to stderr.
#include "progress_line.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <string>

namespace sqlx::cli {

namespace {

constexpr std::string_view kEraseLine = "\r\033[K";

// Columns of the terminal on stderr; 80 when it does not say.
size_t TerminalWidth() {
  winsize size{};
  if (::ioctl(STDERR_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0) return size.ws_col;
  return 80;
}

void WriteStderr(std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(STDERR_FILENO, text.data(), text.size());
    if (n <= 0) return;  // a progress line is not worth an error: dropped on purpose
    text.remove_prefix(static_cast<size_t>(n));
  }
}

}  // namespace

ProgressLine::ProgressLine(bool wanted) : enabled_(wanted && ::isatty(STDERR_FILENO) == 1) {}

void ProgressLine::Show(std::string_view text) {
  if (!enabled_) return;
  std::string line(kEraseLine);
  line += "sqlx: ";
  line += text;
  // One column left free: a line that fills the last one wraps on some terminals.
  const size_t width = TerminalWidth();
  const size_t limit = kEraseLine.size() + (width > 1 ? width - 1 : 1);
  if (line.size() > limit) {
    size_t cut = limit;
    while (cut > 0 && (static_cast<unsigned char>(line[cut]) & 0xC0) == 0x80) --cut;  // not inside a UTF-8 character
    line.resize(cut);
  }
  WriteStderr(line);
  shown_ = true;
}

void ProgressLine::Clear() {
  if (!shown_) return;
  WriteStderr(kEraseLine);
  shown_ = false;
}

}  // namespace sqlx::cli
