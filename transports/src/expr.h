// Expressions in wire packs: a small, side-effect-free language over Values.
//
//   literals    10  0x1f  'text'  x'00ff'  true  false  null
//   names       a VM variable, or a pack constant (capability bit, opcode)
//   operators   ?:  ||  &&  |  ^  &  == !=  < <= > >=  << >>  + -  ! ~ (unary -)
//               `+` on two byte strings concatenates them.
//   functions   see kFunctions in expr_functions.cc (len, concat, slice, byte, xor,
//               sha1, sha256, sha512, hmac_sha256, rsa_oaep_sha1, ...)
//
// Expressions are compiled once when a pack loads (names resolved to constant
// values or variable slots, function arity checked) and evaluated per packet.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sqlx/messages/result.h"
#include "value.h"

namespace sqlx::transports {

// Interns variable names to dense slots so evaluation never hashes strings.
class SymbolTable {
 public:
  size_t Intern(std::string_view name);
  // Returns the slot or SIZE_MAX.
  size_t Find(std::string_view name) const;
  size_t size() const { return names_.size(); }
  const std::string& name(size_t slot) const { return names_[slot]; }

 private:
  std::map<std::string, size_t, std::less<>> slots_;
  std::vector<std::string> names_;
};

// Where an expression reads from while it runs.
struct EvalContext {
  const std::vector<Value>* vars = nullptr;
  // Inside a layout decode: the bytes not yet consumed (for peek/remaining).
  std::string_view unread;
  bool in_decode = false;
};

class Expr {
 public:
  struct Node;

  Expr();
  ~Expr();
  Expr(Expr&&) noexcept;
  Expr& operator=(Expr&&) noexcept;

  // Compiles `source`. Names found in `constants` become literals, all other
  // names become variables interned in `symbols`. Errors (kPack) give the
  // offending column and what was expected.
  static Result<Expr> Compile(std::string_view source,
                              const std::map<std::string, uint64_t, std::less<>>& constants,
                              SymbolTable& symbols);

  Result<Value> Eval(const EvalContext& ctx) const;
  // Eval() then Truthy(); errors propagate.
  Result<bool> EvalBool(const EvalContext& ctx) const;

  // Fast path for hot loops: evaluates an integer-only expression without
  // building Values. Returns false when the expression is not integer-only
  // or a variable it reads does not hold an integer; use Eval() then.
  bool TryEvalInt(const EvalContext& ctx, uint64_t* out) const;

  bool empty() const { return root_ == nullptr; }
  const std::string& source() const { return source_; }
  // True when the expression is the literal `true` (lets hot loops skip it).
  bool IsConstantTrue() const;

 private:
  std::unique_ptr<Node> root_;
  std::string source_;
  bool int_only_ = false;
};

}  // namespace sqlx::transports
