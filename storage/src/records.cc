// JSON encoding of store records. The field lists below are the only place
// the JSON shape is written; encode and decode both derive from them.
#include "records.h"

#include <nlohmann/json.hpp>

namespace sqlx::storage {

// to_json/from_json live in the records' namespace so nlohmann finds them.
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(ConnectionRecord, name, capability_json, server_fingerprint,
                                   created_at_ns, updated_at_ns, learned_at_ns)
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(SchemaRecord, connection, database, profile_hash,
                                   profile_json, status, version, learned_at_ns)

namespace {

template <class T>
Result<std::string> Encode(const T& record, std::string_view what) {
  try {
    return nlohmann::json(record).dump();
  } catch (const nlohmann::json::exception& e) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(what) + " cannot be stored: " + e.what());
  }
}

// from_json's at() and get<>() throw on a missing field or a wrong type; the
// loop catches what get<>() would convert silently (sign, fractions).
template <class T>
Result<T> Decode(std::string_view value, std::string_view where) {
  auto malformed = [&](const std::string& why) {
    return MakeError(ErrorCode::kIo, std::string(where) + " holds a malformed record (" + why +
                                         "); restore the store from a backup");
  };
  nlohmann::json j = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return malformed("not a JSON object");
  for (const auto& [key, field] : j.items()) {
    if (key.ends_with("_ns") && !field.is_number_integer()) {
      return malformed(key + " is not an integer");
    }
    if (key == "version" && !field.is_number_unsigned()) {
      return malformed("version is not an unsigned integer");
    }
  }
  try {
    return j.get<T>();
  } catch (const nlohmann::json::exception& e) {
    return malformed(e.what());
  }
}

}  // namespace

Result<std::string> EncodeConnection(const ConnectionRecord& record) {
  return Encode(record, "connection '" + record.name + "'");
}

namespace {

// Appends `s` as a JSON string exactly as nlohmann's dump() writes it, or
// returns false at the first byte that is not ASCII (nlohmann then validates
// and writes the UTF-8 itself). nlohmann escapes byte by byte through a
// UTF-8 decoder; a schema's profile JSON, hundreds of KB of nearly only
// plain ASCII, is copied here in runs.
bool AppendAsciiJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->reserve(out->size() + s.size() + s.size() / 8 + 2);
  out->push_back('"');
  size_t i = 0;
  while (i < s.size()) {
    size_t run = i;
    while (run < s.size()) {
      const auto b = static_cast<unsigned char>(s[run]);
      if (b < 0x20 || b >= 0x80 || b == '"' || b == '\\') break;
      ++run;
    }
    out->append(s.data() + i, run - i);
    i = run;
    if (i == s.size()) break;
    const auto b = static_cast<unsigned char>(s[i++]);
    switch (b) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default:
        if (b >= 0x80) return false;
        out->append("\\u00");
        out->push_back(kHex[b >> 4]);
        out->push_back(kHex[b & 0xF]);
    }
  }
  out->push_back('"');
  return true;
}

}  // namespace

Result<std::string> EncodeSchema(const SchemaRecord& record) {
  const std::string what = "schema of " + record.database + " under " + record.connection;
  std::string profile;
  if (!AppendAsciiJsonString(record.profile_json, &profile)) return Encode(record, what);
  // The rest of the record through the field list, profile_json spliced in:
  // the same bytes as Encode(record). Keys are sorted and every string before
  // profile_json is escaped, so its first `"profile_json":""` is the field.
  SchemaRecord shell = record;
  shell.profile_json.clear();
  SQLX_ASSIGN_OR_RETURN(std::string value, Encode(shell, what));
  static constexpr std::string_view kEmptyField = "\"profile_json\":\"\"";
  const size_t at = value.find(kEmptyField);
  if (at == std::string::npos) return Encode(record, what);
  value.replace(at + kEmptyField.size() - 2, 2, profile);
  return value;
}

Result<ConnectionRecord> DecodeConnection(std::string_view value, std::string_view where) {
  return Decode<ConnectionRecord>(value, where);
}

Result<SchemaRecord> DecodeSchema(std::string_view value, std::string_view where) {
  return Decode<SchemaRecord>(value, where);
}

std::string EncodeFormatVersion(int64_t version) { return nlohmann::json(version).dump(); }

Result<int64_t> DecodeFormatVersion(std::string_view value, std::string_view where) {
  nlohmann::json j = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!j.is_number_integer() || j.get<int64_t>() < 1) {
    return MakeError(ErrorCode::kIo, std::string(where) + " holds a malformed format_version '" +
                                         std::string(value) + "'; restore the store from a backup");
  }
  return j.get<int64_t>();
}

Result<std::string> EncodeSalt(const std::string& hex) { return Encode(hex, "fingerprint salt"); }

Result<std::string> DecodeSalt(std::string_view value, std::string_view where) {
  nlohmann::json j = nlohmann::json::parse(value, nullptr, /*allow_exceptions=*/false);
  if (!j.is_string() || j.get<std::string>().empty()) {
    return MakeError(ErrorCode::kIo, std::string(where) +
                                         " holds a malformed fingerprint_salt; restore the store "
                                         "from a backup");
  }
  return j.get<std::string>();
}

}  // namespace sqlx::storage
