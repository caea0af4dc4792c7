// Fuzzes command replies: the input is the server's answer to COM_PING, then
// (on the same connection, if it is still in step) to COM_INIT_DB; each is
// an OK or ERR packet in a well-formed stream.
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
  vm.Set("database", Value::Bytes(std::string_view("sqlx_test")));
  (void)s.RunProcedure("ping");
  if (vm.in_sync()) (void)s.RunProcedure("init_db");
  return 0;
}
