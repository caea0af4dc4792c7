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

Result<std::string> EncodeSchema(const SchemaRecord& record) {
  return Encode(record, "schema of " + record.database + " under " + record.connection);
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
