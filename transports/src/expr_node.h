// Expression syntax trees: shared by the parser (expr_parser.cc) and the
// evaluator (expr.cc). Internal to transports.
#pragma once

#include <memory>
#include <vector>

#include "expr.h"
#include "expr_functions.h"

namespace sqlx::transports {

enum class ExprOp : uint8_t {
  kLiteral, kVar, kNot, kBitNot, kNeg, kCall, kTernary,
  kOr, kAnd, kBitOr, kBitXor, kBitAnd, kEq, kNe, kLt, kLe, kGt, kGe, kShl, kShr, kAdd, kSub,
};

struct Expr::Node {
  ExprOp op = ExprOp::kLiteral;
  Value literal;
  size_t slot = 0;
  ExprFn fn = nullptr;
  const char* fn_name = "";
  std::vector<std::unique_ptr<Node>> kids;
};

// Parses `src` into a tree; names in `constants` become literals, other names
// variables interned in `symbols`. Errors are kPack with the column.
Result<std::unique_ptr<Expr::Node>> ParseExpr(std::string_view src,
                                              const std::map<std::string, uint64_t, std::less<>>& constants,
                                              SymbolTable& symbols);

}  // namespace sqlx::transports
