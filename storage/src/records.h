// Values of the store: records as compact JSON objects (field tables in
// docs/formats/store.md). Decoding checks every field's presence and type.
#pragma once

#include <string>
#include <string_view>

#include "sqlx/messages/result.h"
#include "sqlx/storage/store.h"

namespace sqlx::storage {

// kInvalidArgument when a string field is not valid UTF-8 (JSON cannot hold it).
Result<std::string> EncodeConnection(const ConnectionRecord& record);
Result<std::string> EncodeSchema(const SchemaRecord& record);

// kIo naming `where` (the store and key) when the value is not a record.
Result<ConnectionRecord> DecodeConnection(std::string_view value, std::string_view where);
Result<SchemaRecord> DecodeSchema(std::string_view value, std::string_view where);

// The `meta` values: a JSON number and a JSON string.
std::string EncodeFormatVersion(int64_t version);
Result<int64_t> DecodeFormatVersion(std::string_view value, std::string_view where);
Result<std::string> EncodeSalt(const std::string& hex);
Result<std::string> DecodeSalt(std::string_view value, std::string_view where);

}  // namespace sqlx::storage
