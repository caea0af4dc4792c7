// Fuzzes the pack expression language: the input is compiled as an
// expression (with the real pack's constants) and evaluated over variables
// holding integers, bytes and nulls, inside a decode whose unread bytes are
// the input itself (for peek/remaining).
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "expr.h"
#include "fuzz_support.h"

using namespace sqlx::transports;

namespace {

const std::map<std::string, uint64_t, std::less<>>& Constants() {
  static const auto constants = [] {
    const WirePack& pack = fuzz::RealPack();
    std::map<std::string, uint64_t, std::less<>> all = pack.constants();
    for (const char* set : {"capabilities", "status"})
      if (const auto* flags = pack.flag_set(set)) all.insert(flags->begin(), flags->end());
    return all;
  }();
  return constants;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view source(reinterpret_cast<const char*>(data), size);
  SymbolTable symbols;
  auto expr = Expr::Compile(source, Constants(), symbols);
  if (!expr.ok()) return 0;
  std::vector<Value> vars(symbols.size());
  for (size_t i = 0; i < vars.size(); ++i) {
    switch (i % 3) {
      case 0: vars[i] = Value::Int(0x0123456789abcdefull >> (i % 64)); break;
      case 1: vars[i] = Value::Bytes(source.substr(0, i * 7 % (size + 1))); break;
      default: break;  // null
    }
  }
  EvalContext ctx{&vars, source, true};
  (void)expr->Eval(ctx);
  (void)expr->EvalBool(ctx);
  uint64_t out = 0;
  (void)expr->TryEvalInt(ctx, &out);
  return 0;
}
