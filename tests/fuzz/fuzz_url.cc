// Fuzzes connection-URL parsing (URLs come from users, files and the
// environment); a parsed URL is printed every way it can be.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sqlx/transports/url.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto url = sqlx::transports::ParseConnectionUrl(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (url.ok()) {
    (void)url->Endpoint();
    (void)url->ConnectionName();
    (void)url->Redacted();
  }
  return 0;
}
