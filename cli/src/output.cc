#include "output.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

namespace sqlx::cli {

OutputBuffer::OutputBuffer(int fd, size_t capacity) : fd_(fd), capacity_(capacity) {
  buf_.reserve(capacity + 4096);
}

OutputBuffer::~OutputBuffer() { Flush(); }

bool OutputBuffer::Flush() {
  size_t off = 0;
  while (off < buf_.size() && !failed_) {
    ssize_t n = ::write(fd_, buf_.data() + off, buf_.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      failed_ = true;
      break;
    }
    off += static_cast<size_t>(n);
  }
  buf_.clear();
  return !failed_;
}

namespace {

// 1 for bytes the batch format escapes.
constexpr bool NeedsEscape(unsigned char c) { return c == 0 || c == '\t' || c == '\n' || c == '\\'; }

struct EscapeTable {
  bool t[256];
  constexpr EscapeTable() : t() {
    for (int i = 0; i < 256; ++i) t[i] = NeedsEscape(static_cast<unsigned char>(i));
  }
};
constexpr EscapeTable kEscape;

void AppendEscaped(std::string_view v, std::string& out) {
  const char* p = v.data();
  const char* end = p + v.size();
  const char* run = p;
  for (; p != end; ++p) {
    unsigned char c = static_cast<unsigned char>(*p);
    if (!kEscape.t[c]) continue;
    out.append(run, static_cast<size_t>(p - run));
    out += '\\';
    out += c == 0 ? '0' : c == '\t' ? 't' : c == '\n' ? 'n' : '\\';
    run = p + 1;
  }
  out.append(run, static_cast<size_t>(end - run));
}

}  // namespace

void AppendTsv(const transports::RowBatch& batch, OutputBuffer* out) {
  std::string& buf = out->raw();
  const size_t columns = batch.columns();
  for (size_t r = 0; r < batch.rows(); ++r) {
    for (size_t c = 0; c < columns; ++c) {
      if (c != 0) buf += '\t';
      if (batch.is_null(r, c)) {
        buf.append("NULL", 4);
      } else {
        AppendEscaped(batch.value(r, c), buf);
      }
    }
    buf += '\n';
    out->MaybeFlush();
  }
}

void AppendTsvHeader(const std::vector<transports::Column>& columns, OutputBuffer* out) {
  for (size_t c = 0; c < columns.size(); ++c) {
    if (c != 0) out->Append('\t');
    AppendEscaped(columns[c].name, out->raw());
  }
  out->Append('\n');
}

namespace {

bool ValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<unsigned char>(s[i + k]) >> 6) != 2) return false;
    if (n == 2 && c < 0xc2) return false;
    i += n;
  }
  return true;
}

void AppendJsonString(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out += kHex[c >> 4];
          out += kHex[c & 15];
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  out += '"';
}

void AppendBase64(std::string_view s, std::string& out) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t i = 0;
  for (; i + 2 < s.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(s[i]) << 16) | (static_cast<uint8_t>(s[i + 1]) << 8) |
                 static_cast<uint8_t>(s[i + 2]);
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < s.size()) {
    uint32_t v = static_cast<uint8_t>(s[i]) << 16;
    if (i + 1 < s.size()) v |= static_cast<uint8_t>(s[i + 1]) << 8;
    out += kAlphabet[v >> 18];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < s.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
}

}  // namespace

std::vector<std::string> JsonKeys(const std::vector<transports::Column>& columns) {
  std::vector<std::string> keys;
  std::set<std::string> used;
  for (const auto& c : columns) {
    std::string key = c.name;
    for (int n = 2; used.count(key) != 0; ++n) key = c.name + "_" + std::to_string(n);
    used.insert(key);
    keys.push_back(key);
  }
  return keys;
}

void AppendNdjson(const transports::RowBatch& batch, const std::vector<std::string>& keys,
                  OutputBuffer* out) {
  std::string& buf = out->raw();
  for (size_t r = 0; r < batch.rows(); ++r) {
    buf += '{';
    for (size_t c = 0; c < batch.columns(); ++c) {
      if (c != 0) buf += ',';
      AppendJsonString(c < keys.size() ? keys[c] : "col" + std::to_string(c + 1), buf);
      buf += ':';
      if (batch.is_null(r, c)) {
        buf += "null";
      } else if (std::string_view v = batch.value(r, c); ValidUtf8(v)) {
        AppendJsonString(v, buf);
      } else {
        buf += "{\"base64\":\"";
        AppendBase64(v, buf);
        buf += "\"}";
      }
    }
    buf += "}\n";
    out->MaybeFlush();
  }
}

}  // namespace sqlx::cli
