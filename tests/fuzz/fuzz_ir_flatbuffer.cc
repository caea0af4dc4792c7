// Fuzzes reading the IR's FlatBuffers form (IRs arrive from other processes
// over the bus and from the store). Whatever is accepted must be an IR like
// any other: it encodes to a buffer that reads back the same, and its
// canonical JSON reads back the same.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sqlx/messages/ir.h"
#include "sqlx/messages/ir_flatbuffers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto db = sqlx::ir::FromFlatBuffer(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!db.ok()) return 0;
  const std::string json = sqlx::ir::ToCanonicalJson(*db);
  auto again = sqlx::ir::FromFlatBuffer(sqlx::ir::ToFlatBuffer(*db));
  if (!again.ok() || sqlx::ir::ToCanonicalJson(*again) != json) __builtin_trap();
  auto from_json = sqlx::ir::FromJson(json);
  if (!from_json.ok() || sqlx::ir::ToCanonicalJson(*from_json) != json) __builtin_trap();
  (void)sqlx::ir::ProfileHash(*db);
  return 0;
}
