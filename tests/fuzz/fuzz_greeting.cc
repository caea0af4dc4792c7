// Fuzzes the connection handshake: the input is everything the server sends
// (greeting, auth switch / more data, OK / ERR) while the pack's "connect"
// procedure logs in with a password. Any Result is fine; crashes are not.
#include <cstddef>
#include <cstdint>
#include <string>

#include "fuzz_support.h"

using sqlx::transports::Value;
using sqlx::transports::fuzz::ScriptedVm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ScriptedVm s(std::string(reinterpret_cast<const char*>(data), size));
  auto& vm = s.vm();
  vm.Set("user", Value::Bytes("sqlx_native"));
  vm.Set("password", Value::Bytes("native-pw"));
  vm.Set("database", Value::Bytes("sqlx_test"));
  vm.Set("endpoint", Value::Bytes("127.0.0.1:3306"));
  // ssl-mode=disabled, as the seeds were captured; ScriptedVm would pretend a
  // TLS upgrade, but then the sequence numbers of the seeds no longer match.
  vm.Set("tls_mode", Value::Int(0));
  vm.Set("tls_mode_name", Value::Bytes("disabled"));
  (void)s.RunProcedure("connect");
  return 0;
}
