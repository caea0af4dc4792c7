// SQL text helpers for catalog learning: string literals that quote names
// safely under either sql_mode, self-reference normalization in bodies, and
// the LIKE matching of database-level grant patterns.
#include <cctype>

#include "catalog.h"

namespace sqlx::flo {

std::string QuoteSqlIdentifier(std::string_view name) {
  std::string out = "`";
  for (char c : name) {
    if (c == '`') out += '`';
    out += c;
  }
  return out + "`";
}

std::string QuoteSqlLiteral(std::string_view value, SqlQuoting quoting) {
  std::string out;
  out.reserve(value.size() + 2);
  out.push_back('\'');
  for (char c : value) {
    // '' is read as one quote under every sql_mode.
    if (c == '\'') {
      out.append("''");
      continue;
    }
    if (quoting == SqlQuoting::kNoBackslashEscapes) {
      out.push_back(c);
      continue;
    }
    switch (c) {
      case '\\': out.append("\\\\"); break;
      case '\0': out.append("\\0"); break;
      case '\n': out.append("\\n"); break;
      case '\r': out.append("\\r"); break;
      case '\x1a': out.append("\\Z"); break;
      default: out.push_back(c);
    }
  }
  out.push_back('\'');
  return out;
}

std::string QuoteSqlList(const std::vector<std::string>& values, SqlQuoting quoting) {
  std::string out;
  for (const std::string& v : values) {
    if (!out.empty()) out.append(", ");
    out.append(QuoteSqlLiteral(v, quoting));
  }
  return out;
}

namespace {

// The index just past the string literal opened by the quote at `start`
// ('' or \ escapes inside); the end of `s` when it is not closed.
size_t SkipString(std::string_view s, size_t start) {
  const char quote = s[start];
  size_t i = start + 1;
  while (i < s.size()) {
    if (s[i] == '\\') {
      i += 2;
    } else if (s[i] == quote) {
      if (i + 1 < s.size() && s[i + 1] == quote) {
        i += 2;
      } else {
        return i + 1;
      }
    } else {
      ++i;
    }
  }
  return s.size();
}

// The index just past the backtick identifier opened at `start` (`` is a
// backtick inside); `name` gets the identifier unescaped.
size_t SkipQuotedIdentifier(std::string_view s, size_t start, std::string* name) {
  size_t i = start + 1;
  name->clear();
  while (i < s.size()) {
    if (s[i] == '`') {
      if (i + 1 < s.size() && s[i + 1] == '`') {
        name->push_back('`');
        i += 2;
        continue;
      }
      return i + 1;
    }
    name->push_back(s[i]);
    ++i;
  }
  return s.size();
}

// The index of the end of the comment starting at `start`, or npos when no
// comment starts there.
size_t SkipComment(std::string_view s, size_t start) {
  const char c = s[start];
  const bool dash_dash = c == '-' && start + 1 < s.size() && s[start + 1] == '-' &&
                         (start + 2 == s.size() || std::isspace(static_cast<unsigned char>(s[start + 2])));
  if (dash_dash || c == '#') {
    size_t eol = s.find('\n', start);
    return eol == std::string_view::npos ? s.size() : eol;
  }
  if (c == '/' && start + 1 < s.size() && s[start + 1] == '*') {
    size_t end = s.find("*/", start + 2);
    return end == std::string_view::npos ? s.size() : end + 2;
  }
  return std::string_view::npos;
}

bool StartsIdentifier(char c) {
  unsigned char u = static_cast<unsigned char>(c);
  return c == '`' || std::isalnum(u) || c == '_' || c == '$' || u >= 0x80;
}

}  // namespace

std::string StripSelfQualifiers(std::string_view body, std::string_view database) {
  std::string out;
  out.reserve(body.size());
  std::string name;
  size_t i = 0;
  while (i < body.size()) {
    const char c = body[i];
    size_t end = std::string_view::npos;
    if (c == '\'' || c == '"') {
      end = SkipString(body, i);
    } else if (c == '-' || c == '#' || c == '/') {
      end = SkipComment(body, i);
    } else if (c == '`') {
      end = SkipQuotedIdentifier(body, i, &name);
      const bool qualifies = end + 1 < body.size() && body[end] == '.' && StartsIdentifier(body[end + 1]);
      const bool after_dot = i > 0 && body[i - 1] == '.';
      if (name == database && qualifies && !after_dot) {
        i = end + 1;  // drop `db`.
        continue;
      }
    }
    if (end == std::string_view::npos) end = i + 1;
    out.append(body.substr(i, end - i));
    i = end;
  }
  return out;
}

std::string AsciiLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && AsciiLower(a) == AsciiLower(b);
}

bool LikeMatch(std::string_view pattern, std::string_view text) {
  size_t p = 0, t = 0;
  size_t star_p = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '%') {
      star_p = ++p;
      star_t = t;
      continue;
    }
    if (p < pattern.size()) {
      bool escaped = pattern[p] == '\\' && p + 1 < pattern.size();
      char want = escaped ? pattern[p + 1] : pattern[p];
      if ((!escaped && want == '_') || want == text[t]) {
        p += escaped ? 2 : 1;
        ++t;
        continue;
      }
    }
    if (star_p == std::string_view::npos) return false;
    p = star_p;
    t = ++star_t;
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

}  // namespace sqlx::flo
