// JCS string form and a strict JSON reader; see canonical_json.h.
#include "canonical_json.h"

#include <algorithm>
#include <cstdint>

namespace sqlx::json {

size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t len = 0;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;  // overlong
    if (b0 == 0xED) hi = 0x9F;  // surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;  // overlong
    if (b0 == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k)
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  return len;
}

namespace {

constexpr char kHex[] = "0123456789abcdef";

void AppendEscapedByte(uint8_t b, std::string* out) {
  out->append("\\u00");
  out->push_back(kHex[b >> 4]);
  out->push_back(kHex[b & 0xF]);
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

// Printable ASCII other than '"' and '\\': copied as is.
bool IsPlainAscii(uint8_t b) { return b >= 0x20 && b < 0x80 && b != '"' && b != '\\'; }

}  // namespace

void AppendString(std::string_view s, std::string* out) {
  out->push_back('"');
  for (size_t i = 0; i < s.size();) {
    // Runs of plain ASCII (nearly all of an IR) are appended in one piece.
    size_t run = i;
    while (run < s.size() && IsPlainAscii(static_cast<uint8_t>(s[run]))) ++run;
    if (run > i) {
      out->append(s.data() + i, run - i);
      i = run;
      if (i == s.size()) break;
    }
    auto b = static_cast<uint8_t>(s[i]);
    switch (b) {
      case '"': out->append("\\\""); ++i; continue;
      case '\\': out->append("\\\\"); ++i; continue;
      case '\b': out->append("\\b"); ++i; continue;
      case '\f': out->append("\\f"); ++i; continue;
      case '\n': out->append("\\n"); ++i; continue;
      case '\r': out->append("\\r"); ++i; continue;
      case '\t': out->append("\\t"); ++i; continue;
      default: break;
    }
    if (b < 0x20) {
      AppendEscapedByte(b, out);
      ++i;
      continue;
    }
    size_t len = Utf8SequenceLength(s, i);
    if (len == 0) {
      AppendEscapedByte(b, out);
      ++i;
      continue;
    }
    out->append(s.substr(i, len));
    i += len;
  }
  out->push_back('"');
}

std::string PointerToken(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out.push_back(c);
  }
  return out;
}

const Value* Value::Find(std::string_view key) const {
  for (size_t i = 0; i < keys.size(); ++i)
    if (keys[i] == key) return &items[i];
  return nullptr;
}

const char* KindName(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::kNull: return "null";
    case Value::Kind::kBool: return "a boolean";
    case Value::Kind::kNumber: return "a number";
    case Value::Kind::kString: return "a string";
    case Value::Kind::kArray: return "an array";
    case Value::Kind::kObject: return "an object";
  }
  return "?";
}

namespace {

constexpr int kMaxDepth = 64;

class Reader {
 public:
  explicit Reader(std::string_view text) : s_(text) {}

  Result<Value> Document() {
    Value v;
    if (!ParseValue("", 0, &v)) return Fail();
    SkipSpace();
    if (pos_ != s_.size()) {
      Set("", "unexpected text after the document");
      return Fail();
    }
    return v;
  }

 private:
  Error Fail() const {
    return MakeError(ErrorCode::kInvalidArgument,
                     "IR JSON is not valid at byte " + std::to_string(err_pos_) + " (JSON pointer \"" +
                         err_pointer_ + "\"): " + err_);
  }
  bool Set(const std::string& pointer, std::string message) {
    err_pos_ = pos_;
    err_pointer_ = pointer;
    err_ = std::move(message);
    return false;
  }
  void SkipSpace() {
    while (pos_ < s_.size() && (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool Literal(std::string_view word) {
    if (s_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  bool ParseValue(const std::string& pointer, int depth, Value* out) {
    if (depth > kMaxDepth) return Set(pointer, "nested deeper than 64 levels");
    SkipSpace();
    if (pos_ >= s_.size()) return Set(pointer, "unexpected end of input");
    char c = s_[pos_];
    if (c == '{') return ParseObject(pointer, depth, out);
    if (c == '[') return ParseArray(pointer, depth, out);
    if (c == '"') {
      out->kind = Value::Kind::kString;
      return ParseString(pointer, &out->text);
    }
    if (Literal("true")) {
      out->kind = Value::Kind::kBool;
      out->boolean = true;
      return true;
    }
    if (Literal("false")) {
      out->kind = Value::Kind::kBool;
      return true;
    }
    if (Literal("null")) {
      out->kind = Value::Kind::kNull;
      return true;
    }
    if (c == '-' || (c >= '0' && c <= '9')) return ParseNumber(pointer, out);
    return Set(pointer, "expected a value");
  }

  bool ParseObject(const std::string& pointer, int depth, Value* out) {
    out->kind = Value::Kind::kObject;
    ++pos_;
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return true;
    }
    for (;;) {
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != '"') return Set(pointer, "expected a key string");
      std::string key;
      if (!ParseString(pointer, &key)) return false;
      std::string member = pointer + "/" + PointerToken(key);
      SkipSpace();
      if (pos_ >= s_.size() || s_[pos_] != ':') return Set(member, "expected ':'");
      ++pos_;
      out->keys.push_back(std::move(key));
      out->items.emplace_back();
      if (!ParseValue(member, depth + 1, &out->items.back())) return false;
      SkipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == '}') {
        ++pos_;
        return NoDuplicateKeys(pointer, *out);
      }
      return Set(pointer, "expected ',' or '}'");
    }
  }

  // Sorting keeps a hostile object with many keys at n log n.
  bool NoDuplicateKeys(const std::string& pointer, const Value& object) {
    std::vector<const std::string*> keys;
    keys.reserve(object.keys.size());
    for (const auto& k : object.keys) keys.push_back(&k);
    std::sort(keys.begin(), keys.end(), [](const std::string* a, const std::string* b) { return *a < *b; });
    for (size_t i = 1; i < keys.size(); ++i)
      if (*keys[i] == *keys[i - 1])
        return Set(pointer + "/" + PointerToken(*keys[i]), "duplicate key \"" + *keys[i] + "\"");
    return true;
  }

  bool ParseArray(const std::string& pointer, int depth, Value* out) {
    out->kind = Value::Kind::kArray;
    ++pos_;
    SkipSpace();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return true;
    }
    for (;;) {
      out->items.emplace_back();
      std::string element = pointer + "/" + std::to_string(out->items.size() - 1);
      if (!ParseValue(element, depth + 1, &out->items.back())) return false;
      SkipSpace();
      if (pos_ < s_.size() && s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (pos_ < s_.size() && s_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return Set(pointer, "expected ',' or ']'");
    }
  }

  // RFC 8259 number grammar; the IR reader decides which numbers it accepts.
  bool ParseNumber(const std::string& pointer, Value* out) {
    size_t start = pos_;
    auto digits = [&] {
      size_t from = pos_;
      while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
      return pos_ - from;
    };
    if (s_[pos_] == '-') ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '0') {
      ++pos_;
    } else if (digits() == 0) {
      return Set(pointer, "malformed number");
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (digits() == 0) return Set(pointer, "malformed number");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (digits() == 0) return Set(pointer, "malformed number");
    }
    out->kind = Value::Kind::kNumber;
    out->text = std::string(s_.substr(start, pos_ - start));
    return true;
  }

  bool Hex4(const std::string& pointer, uint32_t* out) {
    if (pos_ + 4 > s_.size()) return Set(pointer, "truncated \\u escape");
    uint32_t v = 0;
    for (int k = 0; k < 4; ++k) {
      char c = s_[pos_++];
      v <<= 4;
      if (c >= '0' && c <= '9') v |= static_cast<uint32_t>(c - '0');
      else if (c >= 'a' && c <= 'f') v |= static_cast<uint32_t>(c - 'a' + 10);
      else if (c >= 'A' && c <= 'F') v |= static_cast<uint32_t>(c - 'A' + 10);
      else return Set(pointer, "malformed \\u escape");
    }
    *out = v;
    return true;
  }

  bool ParseEscape(const std::string& pointer, std::string* out) {
    if (pos_ >= s_.size()) return Set(pointer, "unterminated string");
    char c = s_[pos_++];
    switch (c) {
      case '"': out->push_back('"'); return true;
      case '\\': out->push_back('\\'); return true;
      case '/': out->push_back('/'); return true;
      case 'b': out->push_back('\b'); return true;
      case 'f': out->push_back('\f'); return true;
      case 'n': out->push_back('\n'); return true;
      case 'r': out->push_back('\r'); return true;
      case 't': out->push_back('\t'); return true;
      case 'u': break;
      default: return Set(pointer, std::string("unknown escape \\") + c);
    }
    uint32_t cp = 0;
    if (!Hex4(pointer, &cp)) return false;
    if (cp >= 0x80 && cp <= 0xFF) {  // a raw byte (see AppendString)
      out->push_back(static_cast<char>(cp));
      return true;
    }
    if (cp >= 0xDC00 && cp <= 0xDFFF) return Set(pointer, "lone low surrogate in \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
      uint32_t low = 0;
      if (!Literal("\\u") || !Hex4(pointer, &low) || low < 0xDC00 || low > 0xDFFF)
        return Set(pointer, "high surrogate not followed by a low surrogate");
      cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
    }
    AppendUtf8(cp, out);
    return true;
  }

  bool ParseString(const std::string& pointer, std::string* out) {
    ++pos_;  // opening quote
    for (;;) {
      if (pos_ >= s_.size()) return Set(pointer, "unterminated string");
      auto b = static_cast<uint8_t>(s_[pos_]);
      if (b == '"') {
        ++pos_;
        return true;
      }
      if (b == '\\') {
        ++pos_;
        if (!ParseEscape(pointer, out)) return false;
        continue;
      }
      if (b < 0x20) return Set(pointer, "unescaped control character in a string");
      size_t len = Utf8SequenceLength(s_, pos_);
      if (len == 0) return Set(pointer, "ill-formed UTF-8 in a string");
      out->append(s_.substr(pos_, len));
      pos_ += len;
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
  size_t err_pos_ = 0;
  std::string err_pointer_;
  std::string err_;
};

}  // namespace

Result<Value> ReadJson(std::string_view text) { return Reader(text).Document(); }

}  // namespace sqlx::json
