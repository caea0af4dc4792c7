// RFC 8785 (JCS) text for the value kinds the IR uses — objects, arrays,
// strings, unsigned integers, booleans — and a strict reader for them that
// names the JSON pointer of whatever it rejects. Format: docs/formats/ir.md.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "sqlx/messages/result.h"

namespace sqlx::json {

// Length (1..4) of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF) that starts at s[i], or 0 when s[i]
// starts none. REQUIRES: i < s.size().
size_t Utf8SequenceLength(std::string_view s, size_t i);

// Appends `s` as a JCS string literal: `"` and `\` escaped, U+0000..U+001F as
// \b \f \n \r \t or \u00xx (lowercase hex), everything else as is. A byte that
// is not part of well-formed UTF-8 is written as \u00xx with xx its value
// (0x80..0xff); ReadJson turns such escapes back into that byte, so every
// byte string survives exactly and distinct byte strings stay distinct.
void AppendString(std::string_view s, std::string* out);

// RFC 6901 pointer token: "~" as "~0", "/" as "~1".
std::string PointerToken(std::string_view key);

struct Value {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  std::string text;          // kString: the bytes; kNumber: as written
  std::vector<std::string> keys;  // kObject: keys[i] names items[i], input order
  std::vector<Value> items;  // kArray elements or kObject member values

  // kObject: the member named `key`, or nullptr.
  const Value* Find(std::string_view key) const;
};

// "an object", "a string", ... for messages.
const char* KindName(Value::Kind kind);

// Parses one JSON document (RFC 8259; whitespace allowed). Rejects, with
// kInvalidArgument naming the byte offset and the JSON pointer: syntax
// errors, ill-formed UTF-8, lone surrogates, duplicate keys, nesting deeper
// than 64. In strings, \u0080..\u00ff stand for the single raw byte (the
// inverse of AppendString), not for U+0080..U+00FF: write such characters as
// themselves.
Result<Value> ReadJson(std::string_view text);

}  // namespace sqlx::json
