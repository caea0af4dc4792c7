// Fuzzes the connection handshake: the input is everything the server sends
// (greeting, auth switch / more data, OK / ERR) while the pack's "connect"
// procedure logs in with a password. Any Result is fine; crashes are not.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_support.h"

using sqlx::transports::Value;
using sqlx::transports::fuzz::ScriptedVm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ScriptedVm s(std::string(reinterpret_cast<const char*>(data), size));
  auto& vm = s.vm();
  vm.Set("user", Value::Bytes(std::string_view("sqlx_native")));
  vm.Set("password", Value::Bytes(std::string_view("native-pw")));
  vm.Set("database", Value::Bytes(std::string_view("sqlx_test")));
  vm.Set("endpoint", Value::Bytes(std::string_view("127.0.0.1:3306")));
  // ssl-mode=disabled, as the seeds were captured; ScriptedVm would pretend a
  // TLS upgrade, but then the sequence numbers of the seeds no longer match.
  vm.Set("tls_mode", Value::Int(0));
  vm.Set("tls_mode_name", Value::Bytes(std::string_view("disabled")));
  // Lets caching_sha2_password ask for the server's RSA key (a PEM to parse).
  vm.Set("get_server_public_key", Value::Int(1));
  (void)s.RunProcedure("connect");
  return 0;
}
