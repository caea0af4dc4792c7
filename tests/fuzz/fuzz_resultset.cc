// Fuzzes query results: byte 0 selects the client's capabilities (bit 0:
// CLIENT_DEPRECATE_EOF, bit 1: tiny row batches), the rest is what the server
// sends after COM_QUERY (OK / ERR, or column count, column definitions,
// optional EOF, text rows, end of rows). Every row is read to the end.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"

using sqlx::transports::Value;
using sqlx::transports::fuzz::Capability;
using sqlx::transports::fuzz::RealPack;
using sqlx::transports::fuzz::ScriptedVm;

namespace {

// What "connect" settles on with MariaDB 10.11, minus CLIENT_DEPRECATE_EOF.
uint64_t BaseClientCaps() {
  static const uint64_t caps = [] {
    uint64_t bits = 0;
    for (const char* name :
         {"CLIENT_LONG_FLAG", "CLIENT_CONNECT_WITH_DB", "CLIENT_PROTOCOL_41", "CLIENT_TRANSACTIONS",
          "CLIENT_SECURE_CONNECTION", "CLIENT_MULTI_RESULTS", "CLIENT_PS_MULTI_RESULTS",
          "CLIENT_PLUGIN_AUTH", "CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA"}) {
      bits |= Capability(RealPack(), name);
    }
    return bits;
  }();
  return caps;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const uint8_t mode = data[0];
  ScriptedVm s(std::string(reinterpret_cast<const char*>(data) + 1, size - 1));
  auto& vm = s.vm();
  uint64_t caps = BaseClientCaps();
  if (mode & 1) caps |= Capability(RealPack(), "CLIENT_DEPRECATE_EOF");
  vm.Set("client_caps", Value::Int(caps));
  vm.Set("sql", Value::Bytes(std::string_view("SELECT 1, NULL, 'x'")));
  if (mode & 2) vm.SetBatchLimits(2, 64);
  (void)s.RunProcedure("query");
  return 0;
}
