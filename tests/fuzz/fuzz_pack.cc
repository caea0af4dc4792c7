// Fuzzes the wire-pack compiler: the input is the JSON text of a pack.
#include <cstddef>
#include <cstdint>
#include <string>

#include "pack.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto pack = sqlx::transports::WirePack::Parse(
      std::string(reinterpret_cast<const char*>(data), size), "fuzz.wire.json");
  (void)pack;
  return 0;
}
