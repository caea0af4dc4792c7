// Wire-pack expressions under test: one compile-and-evaluate environment
// with two pack constants, and tables of {source, expected value}.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "expr.h"
#include "value_testing.h"

namespace sqlx::transports::testing {

inline std::string Unhex(std::string_view hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out += static_cast<char>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16));
  return out;
}

// One compile-and-evaluate environment: two pack constants, variables
// interned as expressions name them.
class ExprEnv {
 public:
  Result<Expr> Compile(std::string_view source) {
    auto e = Expr::Compile(source, constants_, symbols_);
    vars_.resize(symbols_.size());
    return e;
  }
  void Set(std::string_view name, Value v) {
    size_t slot = symbols_.Intern(name);
    vars_.resize(symbols_.size());
    vars_[slot] = std::move(v);
  }
  EvalContext Context() const { return EvalContext{&vars_, {}, false}; }
  EvalContext DecodeContext(std::string_view unread) const {
    return EvalContext{&vars_, unread, true};
  }
  // Compiles and evaluates; a compile error fails the test.
  Result<Value> Eval(std::string_view source) {
    auto e = Compile(source);
    if (!e.ok()) {
      ADD_FAILURE() << "compile \"" << source << "\": " << e.error().message;
      return e.error();
    }
    return e->Eval(Context());
  }

 private:
  std::map<std::string, uint64_t, std::less<>> constants_{{"FLAG_A", 1}, {"FLAG_B", 4}};
  SymbolTable symbols_;
  std::vector<Value> vars_;
};

struct EvalCase {
  const char* source;
  Value expected;
};

inline void ExpectEvaluates(const std::vector<EvalCase>& cases) {
  for (const EvalCase& c : cases) {
    ExprEnv env;
    auto v = env.Eval(c.source);
    ASSERT_TRUE(v.ok()) << c.source << ": " << v.error().message;
    EXPECT_EQ(*v, c.expected) << c.source;
  }
}

}  // namespace sqlx::transports::testing
