// The mariadb client's batch-mode statement splitting (client/mysql.cc:
// read_and_execute and add_line), re-stated line by line: the client reads a
// line, may take it whole as one of its own commands, else scans it byte by
// byte for quotes, comments, backslash commands and the delimiter.
#include "sqlx/planner/sql_split.h"

#include <algorithm>
#include <array>
#include <cstdint>

namespace sqlx::planner {

namespace {

// The client's own commands: name, one-character form after a backslash,
// and whether it takes an argument.
struct ClientCommand {
  std::string_view name;
  char shortcut;
  bool takes_params;
};
constexpr std::array<ClientCommand, 25> kClientCommands = {{
    {"?", '?', true},        {"clear", 'c', false},   {"connect", 'r', true},  {"delimiter", 'd', true},
    {"edit", 'e', false},    {"ego", 'G', false},     {"exit", 'q', false},    {"go", 'g', false},
    {"help", 'h', true},     {"nopager", 'n', false}, {"notee", 't', false},   {"pager", 'P', true},
    {"print", 'p', false},   {"prompt", 'R', true},   {"quit", 'q', false},    {"rehash", '#', false},
    {"source", '.', true},   {"status", 's', true},   {"system", '!', true},   {"tee", 'T', true},
    {"use", 'u', true},      {"charset", 'C', true},  {"warnings", 'W', false}, {"nowarning", 'w', false},
    {"sandbox", '-', false},
}};

constexpr std::string_view kDelimiterName = "delimiter";
constexpr size_t kMaxDelimiter = 15;  // the client keeps 15 bytes of a DELIMITER argument

// The client's ctype tests (its latin1/utf8 tables for ASCII).
bool IsSpace(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
bool IsGraph(unsigned char c) { return c > ' ' && c != 0x7f; }

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (Lower(a[i]) != Lower(b[i])) return false;
  return true;
}

bool IsDelimiterCommand(std::string_view text) {
  return text.size() >= kDelimiterName.size() && EqualsIgnoreCase(text.substr(0, kDelimiterName.size()), kDelimiterName);
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && !IsGraph(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && !IsGraph(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Length of the valid UTF-8 multi-byte character at `s`'s start, or 0.
size_t Utf8CharLength(std::string_view s) {
  const auto b0 = static_cast<unsigned char>(s[0]);
  size_t n = 0;
  if (b0 >= 0xC2 && b0 <= 0xDF) n = 2;
  else if (b0 >= 0xE0 && b0 <= 0xEF) n = 3;
  else if (b0 >= 0xF0 && b0 <= 0xF4) n = 4;
  if (n == 0 || s.size() < n) return 0;
  for (size_t i = 1; i < n; ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) return 0;
  return n;
}

// The argument of a client command line ("delimiter $$", "\d //"): after the
// command word and spaces; quoted ('…', "…", `…`) up to the closing quote,
// else up to the next space; a backslash keeps the character after it.
// Empty when there is none.
std::string CommandArgument(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && IsSpace(static_cast<unsigned char>(text[i]))) ++i;
  if (i < text.size() && text[i] == '\\') {
    i += 2;
  } else {
    while (i < text.size() && !IsSpace(static_cast<unsigned char>(text[i]))) ++i;
  }
  while (i < text.size() && IsSpace(static_cast<unsigned char>(text[i]))) ++i;
  if (i >= text.size()) return {};
  char quote = 0;
  if (text[i] == '\'' || text[i] == '"' || text[i] == '`') quote = text[i++];
  std::string arg;
  for (; i < text.size(); ++i) {
    if (text[i] == '\\' && i + 1 < text.size()) {
      arg += text[++i];
    } else if ((quote == 0 && text[i] == ' ') || (quote != 0 && text[i] == quote)) {
      break;
    } else {
      arg += text[i];
    }
  }
  return arg;
}

class ScriptSplitter {
 public:
  explicit ScriptSplitter(const SqlSplitOptions& options) : options_(options), delimiter_(options.delimiter) {}

  Status Line(std::string_view line, int number);
  std::vector<ScriptStatement> Finish();

 private:
  const ClientCommand* FindNamedCommand(std::string_view text) const;
  Status RunNamedCommand(const ClientCommand& command, std::string_view text, bool at_statement_end);
  Status SetDelimiter(std::string_view command_text);
  Status Backslash(std::string_view line, size_t& pos);
  void EndStatement();
  void Emit(std::string_view text, std::string client_command = {}, int line = 0);
  void Put(char c);
  void Flush() { segment_start_ = buffer_.size(); }
  void Clear() {
    buffer_.clear();
    segment_start_ = 0;
    first_line_ = 0;
  }

  const SqlSplitOptions& options_;
  std::string delimiter_;
  std::string buffer_;        // the statement so far (the client's buffer and its line's output)
  size_t segment_start_ = 0;  // where this line's not yet flushed output starts in buffer_
  int first_line_ = 0;        // line of the statement's first visible character, 0 before it
  int line_ = 0;              // the line being read
  char in_string_ = 0;        // the open quote, 0 outside quotes
  bool ml_comment_ = false;   // inside /* … */
  bool need_space_ = false;   // a comment just ended: the next visible character gets a space before it
  std::vector<ScriptStatement> statements_;
};

void ScriptSplitter::Put(char c) {
  if (first_line_ == 0 && IsGraph(static_cast<unsigned char>(c))) first_line_ = line_;
  buffer_ += c;
}

void ScriptSplitter::Emit(std::string_view text, std::string client_command, int line) {
  std::string_view trimmed = Trim(text);
  if (trimmed.empty()) return;
  statements_.push_back({std::string(trimmed), line != 0 ? line : (first_line_ != 0 ? first_line_ : line_),
                         std::move(client_command)});
}

// The client's find_command on a whole line or statement: its first word
// names a command, and there is an argument only if the command takes one.
const ClientCommand* ScriptSplitter::FindNamedCommand(std::string_view text) const {
  size_t start = 0;
  while (start < text.size() && IsSpace(static_cast<unsigned char>(text[start]))) ++start;
  text.remove_prefix(start);
  if (text.find("\\g") != std::string_view::npos) return nullptr;
  if (text.find(delimiter_) != std::string_view::npos && !IsDelimiterCommand(text)) return nullptr;
  size_t word_end = text.find_first_of(" \t");
  bool has_args = false;
  if (word_end != std::string_view::npos) {
    size_t rest = word_end;
    while (rest < text.size() && IsSpace(static_cast<unsigned char>(text[rest]))) ++rest;
    has_args = rest < text.size();
  } else {
    word_end = text.size();
  }
  const std::string_view word = text.substr(0, word_end);
  for (const ClientCommand& command : kClientCommands) {
    if (EqualsIgnoreCase(word, command.name) && (!has_args || command.takes_params)) return &command;
  }
  return nullptr;
}

Status ScriptSplitter::SetDelimiter(std::string_view command_text) {
  std::string arg = CommandArgument(command_text);
  if (arg.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "line " + std::to_string(line_) + ": DELIMITER must be followed by a delimiter");
  }
  if (arg.find('\\') != std::string::npos) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "line " + std::to_string(line_) + ": a DELIMITER cannot contain a backslash");
  }
  if (arg.size() > kMaxDelimiter) arg.resize(kMaxDelimiter);
  delimiter_ = std::move(arg);
  return {};
}

Status ScriptSplitter::RunNamedCommand(const ClientCommand& command, std::string_view text, bool at_statement_end) {
  if (command.name == kDelimiterName) return SetDelimiter(text);
  if (command.name == "clear") return {};
  if (command.name == "go" || command.name == "ego") {
    // The client sends its buffer: empty at a line's start, the command's own
    // words at a statement's end.
    if (at_statement_end) Emit(text);
    return {};
  }
  Emit(text, std::string(command.name));
  return {};
}

// A backslash outside comments, not escaped by a string: a one-character
// client command (\g ends the statement, \c clears it, \d sets the
// delimiter, ...). `pos` is at the backslash; on return, at the last byte
// consumed.
Status ScriptSplitter::Backslash(std::string_view line, size_t& pos) {
  const size_t start = pos;
  if (++pos >= line.size()) return {};  // a backslash ending the line is dropped
  const char c = line[pos];
  if (in_string_ != 0 || c == 'N') {  // an escape inside a string; \N is NULL
    Put('\\');
    Put(c);
    return {};
  }
  const ClientCommand* command = nullptr;
  for (const ClientCommand& candidate : kClientCommands) {
    if (candidate.shortcut == c) {
      command = &candidate;
      break;
    }
  }
  if (command == nullptr) {  // the client complains and keeps both characters
    Put('\\');
    Put(c);
    return {};
  }
  Flush();
  if (c == 'g' || c == 'G') {
    EndStatement();
    return {};
  }
  if (c == 'c') {
    Clear();
    return {};
  }
  if (c == 'd') SQLX_RETURN_IF_ERROR(SetDelimiter(line.substr(start)));
  size_t end = pos;
  if (command->takes_params) {
    // The argument runs to the next delimiter (the new one after \d), which is consumed.
    const size_t found = line.find(delimiter_, pos + 1);
    end = found == std::string_view::npos ? line.size() : found;
    pos = found == std::string_view::npos ? line.size() - 1 : found + delimiter_.size() - 1;
  }
  if (c != 'd') Emit(line.substr(start, end - start), std::string(command->name), line_);
  return {};
}

void ScriptSplitter::EndStatement() {
  Flush();
  Emit(buffer_);
  Clear();
}

Status ScriptSplitter::Line(std::string_view line, int number) {
  line_ = number;
  if (buffer_.empty() && !ml_comment_ && in_string_ == 0) {
    if (const ClientCommand* command = FindNamedCommand(line)) return RunNamedCommand(*command, line, false);
  }
  segment_start_ = buffer_.size();
  bool ss_comment = false;  // inside /*! … */ (the client forgets it at a line's end)
  need_space_ = false;
  auto at = [&](size_t i) -> char { return i < line.size() ? line[i] : '\0'; };
  for (size_t pos = 0; pos < line.size(); ++pos) {
    char c = line[pos];
    if (IsSpace(static_cast<unsigned char>(c)) && buffer_.empty()) continue;  // spaces before a statement
    if (const size_t mb = Utf8CharLength(line.substr(pos)); mb > 0) {
      if (!ml_comment_)
        for (size_t i = 0; i < mb; ++i) Put(line[pos + i]);
      pos += mb - 1;
      continue;
    }
    if (!ml_comment_ && c == '\\' && in_string_ != '`' && !(in_string_ == '"' && options_.ansi_quotes) &&
        !(in_string_ != 0 && options_.no_backslash_escapes)) {
      SQLX_RETURN_IF_ERROR(Backslash(line, pos));
    } else if (!ml_comment_ && in_string_ == 0 && line.substr(pos, delimiter_.size()) == delimiter_) {
      pos += delimiter_.size() - 1;
      Flush();
      if (const ClientCommand* command = FindNamedCommand(buffer_)) {
        const std::string text = buffer_;
        SQLX_RETURN_IF_ERROR(RunNamedCommand(*command, text, true));
        Clear();
      } else {
        EndStatement();
      }
    } else if (!ml_comment_ && in_string_ == 0 &&
               (c == '#' || (c == '-' && at(pos + 1) == '-' &&
                             (IsSpace(static_cast<unsigned char>(at(pos + 2))) || at(pos + 2) == '\0' ||
                              buffer_.empty())))) {
      break;  // a comment to the end of the line
    } else if (in_string_ == 0 && c == '/' && at(pos + 1) == '*' &&
               !(at(pos + 2) == '!' || (at(pos + 2) == 'M' && at(pos + 3) == '!'))) {
      ++pos;
      ml_comment_ = true;
      Flush();
    } else if (ml_comment_ && !ss_comment && c == '*' && at(pos + 1) == '/') {
      ++pos;
      ml_comment_ = false;
      Flush();
      need_space_ = true;
    } else {
      if (in_string_ == 0 && c == '/' && at(pos + 1) == '*' && at(pos + 2) == '!') {
        ss_comment = true;
      } else if (in_string_ == 0 && ss_comment && c == '*' && at(pos + 1) == '/') {
        ss_comment = false;
      }
      if (c == in_string_) {
        in_string_ = 0;
      } else if (!ml_comment_ && in_string_ == 0 && (c == '\'' || c == '"' || c == '`')) {
        in_string_ = c;
      }
      if (!ml_comment_) {
        if (need_space_ && !IsSpace(static_cast<unsigned char>(c))) Put(' ');
        need_space_ = false;
        Put(c);
      }
    }
  }
  if (!buffer_.empty() && !ml_comment_) {
    const std::string_view segment = std::string_view(buffer_).substr(segment_start_);
    if (!IsDelimiterCommand(segment) || in_string_ != 0) buffer_ += '\n';
  }
  if (std::all_of(buffer_.begin(), buffer_.end(), [](char b) { return IsSpace(static_cast<unsigned char>(b)); }))
    Clear();
  return {};
}

std::vector<ScriptStatement> ScriptSplitter::Finish() {
  Emit(buffer_);  // the client sends what is left even without a delimiter
  Clear();
  return std::move(statements_);
}

}  // namespace

Result<std::vector<ScriptStatement>> SplitSqlScript(std::string_view script, const SqlSplitOptions& options) {
  if (options.delimiter.empty() || options.delimiter.find('\\') != std::string::npos)
    return MakeError(ErrorCode::kInvalidArgument, "the initial delimiter must be non-empty and hold no backslash");
  if (script.substr(0, 3) == "\xEF\xBB\xBF") script.remove_prefix(3);
  ScriptSplitter splitter(options);
  int number = 0;
  while (!script.empty()) {
    const size_t nl = script.find('\n');
    const std::string_view line = script.substr(0, nl);
    SQLX_RETURN_IF_ERROR(splitter.Line(line, ++number));
    script.remove_prefix(nl == std::string_view::npos ? script.size() : nl + 1);
  }
  return splitter.Finish();
}

}  // namespace sqlx::planner
