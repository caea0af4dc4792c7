// Wire-pack Values in tests: short constructors, and EXPECT_EQ on them with
// readable failure messages: "int 255 (0xff)", "bytes 'abc' (3 bytes)", or
// "bytes x'00ff' (2 bytes)" when not all bytes are printable.
#pragma once

#include <cstdint>
#include <ostream>
#include <string_view>

#include "value.h"

namespace sqlx::transports {

namespace testing {
inline Value Int(uint64_t v) { return Value::Int(v); }
inline Value Bytes(std::string_view v) { return Value::Bytes(v); }
inline Value Null() { return Value{}; }
}  // namespace testing

inline void PrintTo(const Value& v, std::ostream* os) {
  switch (v.kind) {
    case Value::Kind::kNull:
      *os << "null";
      return;
    case Value::Kind::kInt:
      *os << "int " << v.i << " (0x" << std::hex << v.i << std::dec << ")";
      return;
    case Value::Kind::kBytes: {
      bool printable = true;
      for (unsigned char c : v.b) printable = printable && c >= 0x20 && c < 0x7f;
      if (printable) {
        *os << "bytes '" << v.b << "'";
      } else {
        static constexpr char kDigits[] = "0123456789abcdef";
        *os << "bytes x'";
        for (unsigned char c : v.b) *os << kDigits[c >> 4] << kDigits[c & 15];
        *os << "'";
      }
      *os << " (" << v.b.size() << " bytes)";
      return;
    }
  }
}

// Same kind and same content.
inline bool operator==(const Value& a, const Value& b) {
  if (a.kind != b.kind) return false;
  if (a.is_int()) return a.i == b.i;
  if (a.is_bytes()) return a.b == b.b;
  return true;
}

}  // namespace sqlx::transports
