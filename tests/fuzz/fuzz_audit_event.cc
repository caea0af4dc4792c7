// Fuzzes the decoders of an audit event's canonical bytes (they arrive inside
// proofs and from the store): what decodes must encode back to the same
// bytes, and the copy-free link decoder verification uses must agree.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sqlx/storage/audit_event.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto event = sqlx::storage::DecodeCanonicalBytes(bytes);
  auto link = sqlx::storage::DecodeEventLink(bytes);
  if (event.ok() != link.ok()) __builtin_trap();
  if (!event.ok()) return 0;
  if (sqlx::storage::CanonicalBytes(*event) != bytes) __builtin_trap();
  if (link->seq != event->seq || link->prev_hash != event->prev_hash) __builtin_trap();
  return 0;
}
