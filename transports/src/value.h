// Value: what wire-pack expressions compute and VM variables hold — null, an
// unsigned 64-bit integer, or a byte string.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace sqlx::transports {

struct Value {
  enum class Kind : uint8_t { kNull, kInt, kBytes };

  Kind kind = Kind::kNull;
  uint64_t i = 0;
  std::string b;  // bytes; only meaningful when kind == kBytes

  static Value Int(uint64_t v) {
    Value out;
    out.kind = Kind::kInt;
    out.i = v;
    return out;
  }
  static Value Bytes(std::string_view v) {
    Value out;
    out.kind = Kind::kBytes;
    out.b.assign(v.data(), v.size());
    return out;
  }
  static Value Bytes(std::string&& v) {
    Value out;
    out.kind = Kind::kBytes;
    out.b = std::move(v);
    return out;
  }

  bool is_null() const { return kind == Kind::kNull; }
  bool is_int() const { return kind == Kind::kInt; }
  bool is_bytes() const { return kind == Kind::kBytes; }
  // Null is false, an integer is true when non-zero, bytes when non-empty.
  bool Truthy() const {
    switch (kind) {
      case Kind::kNull: return false;
      case Kind::kInt: return i != 0;
      case Kind::kBytes: return !b.empty();
    }
    return false;
  }
};

const char* ValueKindName(Value::Kind kind);

}  // namespace sqlx::transports
