#include "expr.h"

#include <algorithm>
#include <cctype>
#include <span>

#include "expr_node.h"

namespace sqlx::transports {

const char* ValueKindName(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::kNull: return "null";
    case Value::Kind::kInt: return "integer";
    case Value::Kind::kBytes: return "bytes";
  }
  return "?";
}

size_t SymbolTable::Intern(std::string_view name) {
  auto it = slots_.find(name);
  if (it != slots_.end()) return it->second;
  size_t slot = names_.size();
  names_.emplace_back(name);
  slots_.emplace(std::string(name), slot);
  return slot;
}

size_t SymbolTable::Find(std::string_view name) const {
  auto it = slots_.find(name);
  return it == slots_.end() ? SIZE_MAX : it->second;
}

namespace {

Error EvalError(std::string message) { return MakeError(ErrorCode::kPack, std::move(message)); }

Result<Value> EvalNode(const Expr::Node& n, const EvalContext& ctx);

Result<uint64_t> IntOf(const Expr::Node& n, const EvalContext& ctx, const char* op) {
  auto v = EvalNode(n, ctx);
  if (!v.ok()) return v.error();
  if (!v->is_int()) {
    return EvalError(std::string("operator ") + op + " needs integers, got " +
                     ValueKindName(v->kind));
  }
  return v->i;
}

Result<Value> EvalBinary(const Expr::Node& n, const EvalContext& ctx) {
  auto a = EvalNode(*n.kids[0], ctx);
  if (!a.ok()) return a;
  auto b = EvalNode(*n.kids[1], ctx);
  if (!b.ok()) return b;
  const Value& x = *a;
  const Value& y = *b;
  if (n.op == ExprOp::kEq || n.op == ExprOp::kNe) {
    bool eq = x.kind == y.kind && (x.kind == Value::Kind::kNull ||
                                   (x.kind == Value::Kind::kInt ? x.i == y.i : x.b == y.b));
    return Value::Int((n.op == ExprOp::kEq) == eq ? 1 : 0);
  }
  if (n.op == ExprOp::kAdd && x.is_bytes() && y.is_bytes()) return Value::Bytes(x.b + y.b);
  if (!x.is_int() || !y.is_int()) {
    return EvalError(std::string("arithmetic on ") + ValueKindName(x.kind) + " and " +
                     ValueKindName(y.kind));
  }
  uint64_t l = x.i, r = y.i;
  switch (n.op) {
    case ExprOp::kBitOr: return Value::Int(l | r);
    case ExprOp::kBitXor: return Value::Int(l ^ r);
    case ExprOp::kBitAnd: return Value::Int(l & r);
    case ExprOp::kLt: return Value::Int(l < r);
    case ExprOp::kLe: return Value::Int(l <= r);
    case ExprOp::kGt: return Value::Int(l > r);
    case ExprOp::kGe: return Value::Int(l >= r);
    case ExprOp::kShl: return Value::Int(r >= 64 ? 0 : l << r);
    case ExprOp::kShr: return Value::Int(r >= 64 ? 0 : l >> r);
    case ExprOp::kAdd: return Value::Int(l + r);
    case ExprOp::kSub: return Value::Int(l - r);
    default: return EvalError("internal: bad binary operator");
  }
}

Result<Value> EvalNode(const Expr::Node& n, const EvalContext& ctx) {
  switch (n.op) {
    case ExprOp::kLiteral: return n.literal;
    case ExprOp::kVar: return (*ctx.vars)[n.slot];
    case ExprOp::kNot: {
      auto v = EvalNode(*n.kids[0], ctx);
      if (!v.ok()) return v;
      return Value::Int(v->Truthy() ? 0 : 1);
    }
    case ExprOp::kBitNot: {
      auto v = IntOf(*n.kids[0], ctx, "~");
      if (!v.ok()) return v.error();
      return Value::Int(~*v);
    }
    case ExprOp::kNeg: {
      auto v = IntOf(*n.kids[0], ctx, "-");
      if (!v.ok()) return v.error();
      return Value::Int(0 - *v);
    }
    case ExprOp::kTernary: {
      auto c = EvalNode(*n.kids[0], ctx);
      if (!c.ok()) return c;
      return EvalNode(*n.kids[c->Truthy() ? 1 : 2], ctx);
    }
    case ExprOp::kOr:
    case ExprOp::kAnd: {
      auto a = EvalNode(*n.kids[0], ctx);
      if (!a.ok()) return a;
      bool t = a->Truthy();
      if (n.op == ExprOp::kOr ? t : !t) return Value::Int(t ? 1 : 0);
      auto b = EvalNode(*n.kids[1], ctx);
      if (!b.ok()) return b;
      return Value::Int(b->Truthy() ? 1 : 0);
    }
    case ExprOp::kCall: {
      ExprArgs args;
      args.reserve(n.kids.size());
      for (const auto& kid : n.kids) {
        auto v = EvalNode(*kid, ctx);
        if (!v.ok()) return v;
        args.push_back(std::move(v).value());
      }
      return n.fn(args, ctx);
    }
    default: return EvalBinary(n, ctx);
  }
}

// True when the tree holds only integer literals, variables and integer
// operators: such trees can be evaluated without Values.
bool IsIntOnly(const Expr::Node& n) {
  switch (n.op) {
    case ExprOp::kLiteral: return n.literal.is_int();
    case ExprOp::kCall: return false;
    default:
      for (const auto& k : n.kids)
        if (!IsIntOnly(*k)) return false;
      return true;
  }
}

bool EvalInt(const Expr::Node& n, const std::vector<Value>& vars, uint64_t* out) {
  uint64_t a = 0, b = 0;
  switch (n.op) {
    case ExprOp::kLiteral: *out = n.literal.i; return true;
    case ExprOp::kVar: {
      const Value& v = vars[n.slot];
      if (!v.is_int()) return false;
      *out = v.i;
      return true;
    }
    case ExprOp::kNot:
      if (!EvalInt(*n.kids[0], vars, &a)) return false;
      *out = a == 0;
      return true;
    case ExprOp::kBitNot:
      if (!EvalInt(*n.kids[0], vars, &a)) return false;
      *out = ~a;
      return true;
    case ExprOp::kNeg:
      if (!EvalInt(*n.kids[0], vars, &a)) return false;
      *out = 0 - a;
      return true;
    case ExprOp::kTernary:
      if (!EvalInt(*n.kids[0], vars, &a)) return false;
      return EvalInt(*n.kids[a != 0 ? 1 : 2], vars, out);
    case ExprOp::kAnd:
    case ExprOp::kOr:
      if (!EvalInt(*n.kids[0], vars, &a)) return false;
      if (n.op == ExprOp::kAnd ? a == 0 : a != 0) {
        *out = a != 0;
        return true;
      }
      if (!EvalInt(*n.kids[1], vars, &b)) return false;
      *out = b != 0;
      return true;
    case ExprOp::kCall: return false;
    default: break;
  }
  if (!EvalInt(*n.kids[0], vars, &a) || !EvalInt(*n.kids[1], vars, &b)) return false;
  switch (n.op) {
    case ExprOp::kEq: *out = a == b; return true;
    case ExprOp::kNe: *out = a != b; return true;
    case ExprOp::kBitOr: *out = a | b; return true;
    case ExprOp::kBitXor: *out = a ^ b; return true;
    case ExprOp::kBitAnd: *out = a & b; return true;
    case ExprOp::kLt: *out = a < b; return true;
    case ExprOp::kLe: *out = a <= b; return true;
    case ExprOp::kGt: *out = a > b; return true;
    case ExprOp::kGe: *out = a >= b; return true;
    case ExprOp::kShl: *out = b >= 64 ? 0 : a << b; return true;
    case ExprOp::kShr: *out = b >= 64 ? 0 : a >> b; return true;
    case ExprOp::kAdd: *out = a + b; return true;
    case ExprOp::kSub: *out = a - b; return true;
    default: return false;
  }
}

}  // namespace

Expr::Expr() = default;
Expr::~Expr() = default;
Expr::Expr(Expr&&) noexcept = default;
Expr& Expr::operator=(Expr&&) noexcept = default;

Result<Expr> Expr::Compile(std::string_view source,
                           const std::map<std::string, uint64_t, std::less<>>& constants,
                           SymbolTable& symbols) {
  auto root = ParseExpr(source, constants, symbols);
  if (!root.ok()) return root.error();
  Expr e;
  e.root_ = std::move(root).value();
  e.source_ = std::string(source);
  e.int_only_ = IsIntOnly(*e.root_);
  return e;
}

Result<Value> Expr::Eval(const EvalContext& ctx) const {
  if (!root_) return Value{};
  auto v = EvalNode(*root_, ctx);
  if (!v.ok()) {
    Error e = std::move(v).error();
    e.message = "evaluating \"" + source_ + "\": " + e.message;
    return e;
  }
  return v;
}

bool Expr::TryEvalInt(const EvalContext& ctx, uint64_t* out) const {
  return int_only_ && EvalInt(*root_, *ctx.vars, out);
}

Result<bool> Expr::EvalBool(const EvalContext& ctx) const {
  uint64_t fast = 0;
  if (TryEvalInt(ctx, &fast)) return fast != 0;
  auto v = Eval(ctx);
  if (!v.ok()) return v.error();
  return v->Truthy();
}

bool Expr::IsConstantTrue() const {
  return root_ && root_->op == ExprOp::kLiteral && root_->literal.Truthy();
}

}  // namespace sqlx::transports
