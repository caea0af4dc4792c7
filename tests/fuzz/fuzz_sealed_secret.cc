// Fuzzes opening a sealed secret (sqlx/messages/secrets.h, docs/formats/
// secrets.md): sealed passwords come from the store and in jobs over the bus,
// and either may hold any bytes. Open must refuse what does not verify,
// without a crash; what it opens must be the size the layout says. Sealing
// the input itself must always open back to it, and only with its associated
// data. The input is the sealed bytes; key 00 01 .. 1f and associated data
// "connection/prod-db" are the seeds' (tests/fuzz/make-seeds sealed_secret).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "sqlx/messages/secrets.h"

namespace {

constexpr std::string_view kAssociatedData = "connection/prod-db";

const sqlx::secrets::SecretKey& FixedKey() {
  static const sqlx::secrets::SecretKey key = [] {
    std::string bytes;
    for (int i = 0; i < static_cast<int>(sqlx::secrets::kKeySize); ++i) bytes.push_back(static_cast<char>(i));
    auto made = sqlx::secrets::SecretKey::FromBytes(bytes);
    if (!made.ok()) __builtin_trap();  // a harness bug, not a finding
    return std::move(made).value();
  }();
  return key;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using sqlx::secrets::Open;
  using sqlx::secrets::Seal;
  const auto& key = FixedKey();
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  auto opened = Open(key, input, kAssociatedData);
  if (opened.ok() && opened->size() + sqlx::secrets::kSealOverhead != size) __builtin_trap();

  auto sealed = Seal(key, input, kAssociatedData);
  if (!sealed.ok()) __builtin_trap();
  auto back = Open(key, *sealed, kAssociatedData);
  if (!back.ok() || *back != input) __builtin_trap();
  if (Open(key, *sealed, input).ok() && input != kAssociatedData) __builtin_trap();
  return 0;
}
