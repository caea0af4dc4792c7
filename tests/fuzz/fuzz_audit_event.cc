// Fuzzes the decoder of an audit event's canonical bytes (they arrive inside
// proofs and from the store); what decodes must encode back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sqlx/storage/audit_event.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto event = sqlx::storage::DecodeCanonicalBytes(bytes);
  if (event.ok() && sqlx::storage::CanonicalBytes(*event) != bytes) __builtin_trap();
  return 0;
}
