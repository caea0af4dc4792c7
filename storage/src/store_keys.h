// Key encodings of the store's column families (docs/formats/store.md).
// Names are raw bytes joined by kSeparator; versions are big-endian u64 so
// that RocksDB's bytewise order is version order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sqlx/messages/result.h"

namespace sqlx::storage {

inline constexpr char kSeparator = '\0';

// Keys of the `meta` column family.
inline constexpr std::string_view kFormatVersionKey = "format_version";
inline constexpr std::string_view kFingerprintSaltKey = "fingerprint_salt";

// kInvalidArgument when `name` is empty or holds kSeparator. `what` names the
// field in the message ("connection name", "database name").
Status ValidateName(std::string_view what, std::string_view name);

// connections: name
std::string ConnectionKey(std::string_view connection);
// schemas: connection \0 database. REQUIRES: both validated.
std::string SchemaKey(std::string_view connection, std::string_view database);
// Prefix of every `schemas` key of one connection: connection \0
std::string SchemaPrefix(std::string_view connection);
// schema_versions: connection \0 database \0 u64be(version)
std::string SchemaVersionKey(std::string_view connection, std::string_view database,
                             uint64_t version);
// Prefix of every version key of one database: connection \0 database \0
std::string SchemaVersionPrefix(std::string_view connection, std::string_view database);

// The version in a schema_versions key, or nullopt when the key does not end
// in 8 bytes after `prefix`.
std::optional<uint64_t> VersionFromKey(std::string_view key, std::string_view prefix);

}  // namespace sqlx::storage
