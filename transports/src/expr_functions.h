// The function library of wire-pack expressions: byte helpers and the named
// crypto primitives. Each function checks its argument kinds and returns an
// Error (never throws, never asserts) on bad input.
#pragma once

#include <string_view>
#include <vector>

#include "expr.h"

namespace sqlx::transports {

using ExprArgs = std::vector<Value>;
using ExprFn = Result<Value> (*)(ExprArgs& args, const EvalContext& ctx);

struct ExprFunction {
  const char* name;
  size_t min_args;
  size_t max_args;
  ExprFn fn;
};

// The function named `name`, or nullptr.
const ExprFunction* FindExprFunction(std::string_view name);

}  // namespace sqlx::transports
