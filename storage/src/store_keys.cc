// Key encodings of the store's column families.
#include "store_keys.h"

namespace sqlx::storage {

Status ValidateName(std::string_view what, std::string_view name) {
  if (name.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, std::string(what) + " is empty");
  }
  if (name.find(kSeparator) != std::string_view::npos) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(what) + " contains a NUL byte; remove it from the name");
  }
  return Status::Ok();
}

std::string ConnectionKey(std::string_view connection) { return std::string(connection); }

std::string SchemaPrefix(std::string_view connection) {
  std::string key(connection);
  key.push_back(kSeparator);
  return key;
}

std::string SchemaKey(std::string_view connection, std::string_view database) {
  return SchemaPrefix(connection).append(database);
}

std::string SchemaVersionPrefix(std::string_view connection, std::string_view database) {
  std::string key = SchemaKey(connection, database);
  key.push_back(kSeparator);
  return key;
}

std::string SchemaVersionKey(std::string_view connection, std::string_view database,
                             uint64_t version) {
  std::string key = SchemaVersionPrefix(connection, database);
  for (int shift = 56; shift >= 0; shift -= 8) {
    key.push_back(static_cast<char>((version >> shift) & 0xff));
  }
  return key;
}

std::optional<uint64_t> VersionFromKey(std::string_view key, std::string_view prefix) {
  if (key.size() != prefix.size() + 8 || key.substr(0, prefix.size()) != prefix) {
    return std::nullopt;
  }
  uint64_t version = 0;
  for (char c : key.substr(prefix.size())) {
    version = (version << 8) | static_cast<unsigned char>(c);
  }
  return version;
}

}  // namespace sqlx::storage
