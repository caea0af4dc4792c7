#include "expr.h"

#include <algorithm>
#include <cctype>
#include <span>

#include "crypto_primitives.h"

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

using Args = std::vector<Value>;
using Fn = Result<Value> (*)(Args& args, const EvalContext& ctx);

Error EvalError(std::string message) { return MakeError(ErrorCode::kPack, std::move(message)); }

crypto::ByteView View(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}
Value FromBytes(const crypto::Bytes& bytes) {
  return Value::Bytes(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}
Result<Value> ToValue(Result<crypto::Bytes> r) {
  if (!r.ok()) return r.error();
  return FromBytes(*r);
}

Status Want(const Args& args, size_t i, Value::Kind kind, const char* fn) {
  if (args[i].kind != kind) {
    return EvalError(std::string(fn) + "(): argument " + std::to_string(i + 1) + " must be " +
                     ValueKindName(kind) + ", got " + ValueKindName(args[i].kind));
  }
  return Status::Ok();
}

#define WANT(i, kind) SQLX_RETURN_IF_ERROR(Want(args, i, Value::Kind::kind, kName))

Result<Value> FnLen(Args& args, const EvalContext&) {
  static constexpr const char* kName = "len";
  WANT(0, kBytes);
  return Value::Int(args[0].b.size());
}
Result<Value> FnConcat(Args& args, const EvalContext&) {
  static constexpr const char* kName = "concat";
  std::string out;
  for (size_t i = 0; i < args.size(); ++i) {
    WANT(i, kBytes);
    out += args[i].b;
  }
  return Value::Bytes(std::move(out));
}
Result<Value> FnSlice(Args& args, const EvalContext&) {
  static constexpr const char* kName = "slice";
  WANT(0, kBytes);
  WANT(1, kInt);
  const std::string& b = args[0].b;
  size_t start = std::min<uint64_t>(args[1].i, b.size());
  size_t n = b.size() - start;
  if (args.size() > 2) {
    WANT(2, kInt);
    n = std::min<uint64_t>(n, args[2].i);
  }
  return Value::Bytes(std::string_view(b).substr(start, n));
}
Result<Value> FnByte(Args& args, const EvalContext&) {
  static constexpr const char* kName = "byte";
  WANT(0, kBytes);
  WANT(1, kInt);
  if (args[1].i >= args[0].b.size()) return Value{};
  return Value::Int(static_cast<uint8_t>(args[0].b[args[1].i]));
}
Result<Value> FnStartsWith(Args& args, const EvalContext&) {
  static constexpr const char* kName = "starts_with";
  WANT(0, kBytes);
  WANT(1, kBytes);
  return Value::Int(std::string_view(args[0].b).starts_with(args[1].b) ? 1 : 0);
}
Result<Value> FnTrimNul(Args& args, const EvalContext&) {
  static constexpr const char* kName = "trim_nul";
  WANT(0, kBytes);
  std::string_view v = args[0].b;
  while (!v.empty() && v.back() == '\0') v.remove_suffix(1);
  return Value::Bytes(v);
}
Result<Value> FnZeros(Args& args, const EvalContext&) {
  static constexpr const char* kName = "zeros";
  WANT(0, kInt);
  if (args[0].i > (1u << 20)) return EvalError("zeros(): size over 1 MiB");
  return Value::Bytes(std::string(args[0].i, '\0'));
}
Result<Value> FnMax(Args& args, const EvalContext&) {
  static constexpr const char* kName = "max";
  WANT(0, kInt);
  WANT(1, kInt);
  return Value::Int(std::max(args[0].i, args[1].i));
}
Result<Value> FnMin(Args& args, const EvalContext&) {
  static constexpr const char* kName = "min";
  WANT(0, kInt);
  WANT(1, kInt);
  return Value::Int(std::min(args[0].i, args[1].i));
}
Result<Value> FnStr(Args& args, const EvalContext&) {
  if (args[0].is_int()) return Value::Bytes(std::to_string(args[0].i));
  if (args[0].is_null()) return Value::Bytes(std::string_view("null"));
  return args[0];
}
Result<Value> FnHex(Args& args, const EvalContext&) {
  static constexpr const char* kName = "hex";
  static constexpr char kDigits[] = "0123456789abcdef";
  if (args[0].is_int()) {
    std::string out;
    uint64_t v = args[0].i;
    do {
      out.insert(out.begin(), kDigits[v & 15]);
      v >>= 4;
    } while (v != 0);
    return Value::Bytes("0x" + out);
  }
  WANT(0, kBytes);
  std::string out;
  for (unsigned char c : args[0].b) {
    out += kDigits[c >> 4];
    out += kDigits[c & 15];
  }
  return Value::Bytes(std::move(out));
}
Result<Value> FnXor(Args& args, const EvalContext&) {
  static constexpr const char* kName = "xor";
  WANT(0, kBytes);
  WANT(1, kBytes);
  return ToValue(crypto::XorRepeat(View(args[0].b), View(args[1].b)));
}
template <const char* kAlgo>
Result<Value> FnDigest(Args& args, const EvalContext&) {
  const char* kName = kAlgo;
  WANT(0, kBytes);
  return ToValue(crypto::Digest(kAlgo, View(args[0].b)));
}
constexpr char kSha1[] = "sha1";
constexpr char kSha256[] = "sha256";
constexpr char kSha512[] = "sha512";
constexpr char kMd5[] = "md5";
template <const char* kAlgo>
Result<Value> FnHmac(Args& args, const EvalContext&) {
  const char* kName = "hmac";
  WANT(0, kBytes);
  WANT(1, kBytes);
  return ToValue(crypto::Hmac(kAlgo, View(args[0].b), View(args[1].b)));
}
template <const char* kAlgo>
Result<Value> FnRsaOaep(Args& args, const EvalContext&) {
  const char* kName = "rsa_oaep";
  WANT(0, kBytes);
  WANT(1, kBytes);
  return ToValue(crypto::RsaOaepEncrypt(View(args[0].b), View(args[1].b), kAlgo));
}
Result<Value> FnEd25519Expanded(Args& args, const EvalContext&) {
  static constexpr const char* kName = "ed25519_sign_expanded";
  WANT(0, kBytes);
  WANT(1, kBytes);
  return ToValue(crypto::Ed25519SignExpanded(View(args[0].b), View(args[1].b)));
}
Result<Value> FnEd25519(Args& args, const EvalContext&) {
  static constexpr const char* kName = "ed25519_sign";
  WANT(0, kBytes);
  WANT(1, kBytes);
  return ToValue(crypto::Ed25519Sign(View(args[0].b), View(args[1].b)));
}
Result<Value> FnPeek(Args& args, const EvalContext& ctx) {
  static constexpr const char* kName = "peek";
  WANT(0, kInt);
  if (!ctx.in_decode) return EvalError("peek() is only available inside a layout");
  return Value::Bytes(ctx.unread.substr(0, std::min<uint64_t>(args[0].i, ctx.unread.size())));
}
Result<Value> FnRemaining(Args&, const EvalContext& ctx) {
  if (!ctx.in_decode) return EvalError("remaining() is only available inside a layout");
  return Value::Int(ctx.unread.size());
}
Result<Value> FnIsNull(Args& args, const EvalContext&) {
  return Value::Int(args[0].is_null() ? 1 : 0);
}
#undef WANT

struct FunctionSpec {
  const char* name;
  size_t min_args;
  size_t max_args;
  Fn fn;
};

constexpr FunctionSpec kFunctions[] = {
    {"len", 1, 1, FnLen},
    {"concat", 1, 16, FnConcat},
    {"slice", 2, 3, FnSlice},
    {"byte", 2, 2, FnByte},
    {"starts_with", 2, 2, FnStartsWith},
    {"trim_nul", 1, 1, FnTrimNul},
    {"zeros", 1, 1, FnZeros},
    {"max", 2, 2, FnMax},
    {"min", 2, 2, FnMin},
    {"str", 1, 1, FnStr},
    {"hex", 1, 1, FnHex},
    {"is_null", 1, 1, FnIsNull},
    {"xor", 2, 2, FnXor},
    {"sha1", 1, 1, FnDigest<kSha1>},
    {"sha256", 1, 1, FnDigest<kSha256>},
    {"sha512", 1, 1, FnDigest<kSha512>},
    {"md5", 1, 1, FnDigest<kMd5>},
    {"hmac_sha1", 2, 2, FnHmac<kSha1>},
    {"hmac_sha256", 2, 2, FnHmac<kSha256>},
    {"hmac_sha512", 2, 2, FnHmac<kSha512>},
    {"rsa_oaep_sha1", 2, 2, FnRsaOaep<kSha1>},
    {"rsa_oaep_sha256", 2, 2, FnRsaOaep<kSha256>},
    {"ed25519_sign_expanded", 2, 2, FnEd25519Expanded},
    {"ed25519_sign", 2, 2, FnEd25519},
    {"peek", 1, 1, FnPeek},
    {"remaining", 0, 0, FnRemaining},
};

enum class Op : uint8_t {
  kLiteral, kVar, kNot, kBitNot, kNeg, kCall, kTernary,
  kOr, kAnd, kBitOr, kBitXor, kBitAnd, kEq, kNe, kLt, kLe, kGt, kGe, kShl, kShr, kAdd, kSub,
};

}  // namespace

struct Expr::Node {
  Op op = Op::kLiteral;
  Value literal;
  size_t slot = 0;
  Fn fn = nullptr;
  const char* fn_name = "";
  std::vector<std::unique_ptr<Node>> kids;
};

namespace {

class Parser {
 public:
  Parser(std::string_view src, const std::map<std::string, uint64_t, std::less<>>& constants,
         SymbolTable& symbols)
      : src_(src), constants_(constants), symbols_(symbols) {}

  Result<std::unique_ptr<Expr::Node>> ParseAll() {
    if (src_.size() > kMaxSource) {
      return MakeError(ErrorCode::kPack, "expression of " + std::to_string(src_.size()) +
                                             " characters is over the limit of " +
                                             std::to_string(kMaxSource) + ": split it");
    }
    auto node = ParseTernary();
    if (!node.ok()) return node;
    SkipSpace();
    if (pos_ != src_.size()) return Fail("unexpected '" + std::string(1, src_[pos_]) + "'");
    return node;
  }

 private:
  using NodeP = std::unique_ptr<Expr::Node>;

  // The parser, the evaluator and the node destructors recurse: a pack must
  // not be able to overflow the stack. The length bounds the depth of
  // operator chains, kMaxNesting the depth of (), calls, ?: and unary
  // operators (each ( counts twice). Real packs stay far below both.
  static constexpr size_t kMaxSource = 4096;
  static constexpr int kMaxNesting = 128;
  struct Nest {
    explicit Nest(int* depth) : depth_(depth) { ++*depth_; }
    ~Nest() { --*depth_; }
    int* depth_;
  };

  Error Fail(const std::string& what) const {
    return MakeError(ErrorCode::kPack, "expression \"" + std::string(src_) + "\" at column " +
                                           std::to_string(pos_ + 1) + ": " + what);
  }
  void SkipSpace() {
    while (pos_ < src_.size() && std::isspace(static_cast<unsigned char>(src_[pos_]))) ++pos_;
  }
  bool Eat(std::string_view tok) {
    SkipSpace();
    if (src_.substr(pos_).starts_with(tok)) {
      // Don't split "||" into "|" "|", "<<" into "<" "<", "<=" into "<" "=".
      if (tok.size() == 1 && pos_ + 1 < src_.size()) {
        char next = src_[pos_ + 1];
        if ((tok == "|" && next == '|') || (tok == "&" && next == '&') ||
            (tok == "<" && (next == '<' || next == '=')) ||
            (tok == ">" && (next == '>' || next == '=')) || (tok == "!" && next == '=') ||
            (tok == "=" && next == '='))
          return false;
      }
      pos_ += tok.size();
      return true;
    }
    return false;
  }
  static NodeP Binary(Op op, NodeP a, NodeP b) {
    auto n = std::make_unique<Expr::Node>();
    n->op = op;
    n->kids.push_back(std::move(a));
    n->kids.push_back(std::move(b));
    return n;
  }

  Result<NodeP> ParseTernary() {
    Nest nest(&depth_);
    if (depth_ > kMaxNesting) return Fail("nested too deeply");
    auto cond = ParseBinary(0);
    if (!cond.ok()) return cond;
    if (!Eat("?")) return cond;
    auto a = ParseTernary();
    if (!a.ok()) return a;
    if (!Eat(":")) return Fail("expected ':' in ?: expression");
    auto b = ParseTernary();
    if (!b.ok()) return b;
    auto n = std::make_unique<Expr::Node>();
    n->op = Op::kTernary;
    n->kids.push_back(std::move(cond).value());
    n->kids.push_back(std::move(a).value());
    n->kids.push_back(std::move(b).value());
    return n;
  }

  struct Level {
    std::vector<std::pair<const char*, Op>> ops;
  };
  static const std::vector<Level>& Levels() {
    static const std::vector<Level> levels = {
        {{{"||", Op::kOr}}},
        {{{"&&", Op::kAnd}}},
        {{{"|", Op::kBitOr}}},
        {{{"^", Op::kBitXor}}},
        {{{"&", Op::kBitAnd}}},
        {{{"==", Op::kEq}, {"!=", Op::kNe}}},
        {{{"<=", Op::kLe}, {">=", Op::kGe}, {"<", Op::kLt}, {">", Op::kGt}}},
        {{{"<<", Op::kShl}, {">>", Op::kShr}}},
        {{{"+", Op::kAdd}, {"-", Op::kSub}}},
    };
    return levels;
  }

  // Precedence climbing over Levels(), loosest first, as in C. Eat() never
  // splits a two-character operator ("<<", "<=") into one-character ones.
  Result<NodeP> ParseBinary(size_t level) {
    const auto& levels = Levels();
    if (level >= levels.size()) return ParseUnary();
    auto lhs = ParseBinary(level + 1);
    if (!lhs.ok()) return lhs;
    NodeP node = std::move(lhs).value();
    for (;;) {
      bool matched = false;
      for (const auto& [tok, op] : levels[level].ops) {
        if (Eat(tok)) {
          auto rhs = ParseBinary(level + 1);
          if (!rhs.ok()) return rhs;
          node = Binary(op, std::move(node), std::move(rhs).value());
          matched = true;
          break;
        }
      }
      if (!matched) return node;
    }
  }

  Result<NodeP> ParseUnary() {
    Nest nest(&depth_);
    if (depth_ > kMaxNesting) return Fail("nested too deeply");
    Op op;
    if (Eat("!")) {
      op = Op::kNot;
    } else if (Eat("~")) {
      op = Op::kBitNot;
    } else if (Eat("-")) {
      op = Op::kNeg;
    } else {
      return ParsePrimary();
    }
    auto kid = ParseUnary();
    if (!kid.ok()) return kid;
    auto n = std::make_unique<Expr::Node>();
    n->op = op;
    n->kids.push_back(std::move(kid).value());
    return n;
  }

  static NodeP Literal(Value v) {
    auto n = std::make_unique<Expr::Node>();
    n->op = Op::kLiteral;
    n->literal = std::move(v);
    return n;
  }

  Result<NodeP> ParsePrimary() {
    SkipSpace();
    if (pos_ >= src_.size()) return Fail("unexpected end of expression");
    char c = src_[pos_];
    if (c == '(') {
      ++pos_;
      auto inner = ParseTernary();
      if (!inner.ok()) return inner;
      if (!Eat(")")) return Fail("expected ')'");
      return inner;
    }
    if ((c == 'x' || c == 'X') && pos_ + 1 < src_.size() && src_[pos_ + 1] == '\'') {
      ++pos_;
      auto s = ParseQuoted();
      if (!s.ok()) return s.error();
      std::string bytes;
      const std::string& hex = *s;
      if (hex.size() % 2 != 0) return Fail("x'...' needs an even number of hex digits");
      for (size_t i = 0; i < hex.size(); i += 2) {
        int hi = HexDigit(hex[i]), lo = HexDigit(hex[i + 1]);
        if (hi < 0 || lo < 0) return Fail("x'...' holds a non-hex digit");
        bytes += static_cast<char>(hi * 16 + lo);
      }
      return Literal(Value::Bytes(std::move(bytes)));
    }
    if (c == '\'') {
      auto s = ParseQuoted();
      if (!s.ok()) return s.error();
      return Literal(Value::Bytes(std::move(s).value()));
    }
    if (std::isdigit(static_cast<unsigned char>(c))) return ParseNumber();
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') return ParseName();
    return Fail("unexpected '" + std::string(1, c) + "'");
  }

  static int HexDigit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // 'text' with '' for a quote and \0 \n \t \\ escapes.
  Result<std::string> ParseQuoted() {
    ++pos_;  // opening quote
    std::string out;
    while (pos_ < src_.size()) {
      char c = src_[pos_++];
      if (c == '\'') {
        if (pos_ < src_.size() && src_[pos_] == '\'') {
          out += '\'';
          ++pos_;
          continue;
        }
        return out;
      }
      if (c == '\\' && pos_ < src_.size()) {
        char e = src_[pos_++];
        switch (e) {
          case '0': out += '\0'; break;
          case 'n': out += '\n'; break;
          case 't': out += '\t'; break;
          default: out += e; break;
        }
        continue;
      }
      out += c;
    }
    return Fail("unterminated string");
  }

  Result<NodeP> ParseNumber() {
    size_t start = pos_;
    int base = 10;
    if (src_.substr(pos_).starts_with("0x") || src_.substr(pos_).starts_with("0X")) {
      base = 16;
      pos_ += 2;
    }
    uint64_t v = 0;
    size_t digits = 0;
    while (pos_ < src_.size()) {
      int d = HexDigit(src_[pos_]);
      if (d < 0 || d >= base) break;
      if (v > (UINT64_MAX - static_cast<uint64_t>(d)) / static_cast<uint64_t>(base))
        return Fail("number too large");
      v = v * static_cast<uint64_t>(base) + static_cast<uint64_t>(d);
      ++pos_;
      ++digits;
    }
    if (digits == 0) {
      pos_ = start;
      return Fail("malformed number");
    }
    return Literal(Value::Int(v));
  }

  Result<NodeP> ParseName() {
    size_t start = pos_;
    while (pos_ < src_.size() &&
           (std::isalnum(static_cast<unsigned char>(src_[pos_])) || src_[pos_] == '_'))
      ++pos_;
    std::string_view name = src_.substr(start, pos_ - start);
    SkipSpace();
    if (pos_ < src_.size() && src_[pos_] == '(') {
      ++pos_;
      const FunctionSpec* spec = nullptr;
      for (const auto& f : kFunctions)
        if (name == f.name) spec = &f;
      if (spec == nullptr) {
        pos_ = start;
        return Fail("unknown function '" + std::string(name) + "'");
      }
      auto n = std::make_unique<Expr::Node>();
      n->op = Op::kCall;
      n->fn = spec->fn;
      n->fn_name = spec->name;
      if (!Eat(")")) {
        for (;;) {
          auto arg = ParseTernary();
          if (!arg.ok()) return arg;
          n->kids.push_back(std::move(arg).value());
          if (Eat(")")) break;
          if (!Eat(",")) return Fail("expected ',' or ')' in call to " + std::string(name));
        }
      }
      if (n->kids.size() < spec->min_args || n->kids.size() > spec->max_args) {
        return Fail(std::string(name) + "() takes " + std::to_string(spec->min_args) +
                    (spec->max_args != spec->min_args ? ".." + std::to_string(spec->max_args) : "") +
                    " arguments, got " + std::to_string(n->kids.size()));
      }
      return n;
    }
    if (name == "true") return Literal(Value::Int(1));
    if (name == "false") return Literal(Value::Int(0));
    if (name == "null") return Literal(Value{});
    auto it = constants_.find(name);
    if (it != constants_.end()) return Literal(Value::Int(it->second));
    auto n = std::make_unique<Expr::Node>();
    n->op = Op::kVar;
    n->slot = symbols_.Intern(name);
    return n;
  }

  std::string_view src_;
  size_t pos_ = 0;
  int depth_ = 0;
  const std::map<std::string, uint64_t, std::less<>>& constants_;
  SymbolTable& symbols_;
};

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
  if (n.op == Op::kEq || n.op == Op::kNe) {
    bool eq = x.kind == y.kind && (x.kind == Value::Kind::kNull ||
                                   (x.kind == Value::Kind::kInt ? x.i == y.i : x.b == y.b));
    return Value::Int((n.op == Op::kEq) == eq ? 1 : 0);
  }
  if (n.op == Op::kAdd && x.is_bytes() && y.is_bytes()) return Value::Bytes(x.b + y.b);
  if (!x.is_int() || !y.is_int()) {
    return EvalError(std::string("arithmetic on ") + ValueKindName(x.kind) + " and " +
                     ValueKindName(y.kind));
  }
  uint64_t l = x.i, r = y.i;
  switch (n.op) {
    case Op::kBitOr: return Value::Int(l | r);
    case Op::kBitXor: return Value::Int(l ^ r);
    case Op::kBitAnd: return Value::Int(l & r);
    case Op::kLt: return Value::Int(l < r);
    case Op::kLe: return Value::Int(l <= r);
    case Op::kGt: return Value::Int(l > r);
    case Op::kGe: return Value::Int(l >= r);
    case Op::kShl: return Value::Int(r >= 64 ? 0 : l << r);
    case Op::kShr: return Value::Int(r >= 64 ? 0 : l >> r);
    case Op::kAdd: return Value::Int(l + r);
    case Op::kSub: return Value::Int(l - r);
    default: return EvalError("internal: bad binary operator");
  }
}

Result<Value> EvalNode(const Expr::Node& n, const EvalContext& ctx) {
  switch (n.op) {
    case Op::kLiteral: return n.literal;
    case Op::kVar: return (*ctx.vars)[n.slot];
    case Op::kNot: {
      auto v = EvalNode(*n.kids[0], ctx);
      if (!v.ok()) return v;
      return Value::Int(v->Truthy() ? 0 : 1);
    }
    case Op::kBitNot: {
      auto v = IntOf(*n.kids[0], ctx, "~");
      if (!v.ok()) return v.error();
      return Value::Int(~*v);
    }
    case Op::kNeg: {
      auto v = IntOf(*n.kids[0], ctx, "-");
      if (!v.ok()) return v.error();
      return Value::Int(0 - *v);
    }
    case Op::kTernary: {
      auto c = EvalNode(*n.kids[0], ctx);
      if (!c.ok()) return c;
      return EvalNode(*n.kids[c->Truthy() ? 1 : 2], ctx);
    }
    case Op::kOr:
    case Op::kAnd: {
      auto a = EvalNode(*n.kids[0], ctx);
      if (!a.ok()) return a;
      bool t = a->Truthy();
      if (n.op == Op::kOr ? t : !t) return Value::Int(t ? 1 : 0);
      auto b = EvalNode(*n.kids[1], ctx);
      if (!b.ok()) return b;
      return Value::Int(b->Truthy() ? 1 : 0);
    }
    case Op::kCall: {
      Args args;
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
    case Op::kLiteral: return n.literal.is_int();
    case Op::kCall: return false;
    default:
      for (const auto& k : n.kids)
        if (!IsIntOnly(*k)) return false;
      return true;
  }
}

bool EvalInt(const Expr::Node& n, const std::vector<Value>& vars, uint64_t* out) {
  uint64_t a = 0, b = 0;
  switch (n.op) {
    case Op::kLiteral: *out = n.literal.i; return true;
    case Op::kVar: {
      const Value& v = vars[n.slot];
      if (!v.is_int()) return false;
      *out = v.i;
      return true;
    }
    case Op::kNot:
      if (!EvalInt(*n.kids[0], vars, &a)) return false;
      *out = a == 0;
      return true;
    case Op::kBitNot:
      if (!EvalInt(*n.kids[0], vars, &a)) return false;
      *out = ~a;
      return true;
    case Op::kNeg:
      if (!EvalInt(*n.kids[0], vars, &a)) return false;
      *out = 0 - a;
      return true;
    case Op::kTernary:
      if (!EvalInt(*n.kids[0], vars, &a)) return false;
      return EvalInt(*n.kids[a != 0 ? 1 : 2], vars, out);
    case Op::kAnd:
    case Op::kOr:
      if (!EvalInt(*n.kids[0], vars, &a)) return false;
      if (n.op == Op::kAnd ? a == 0 : a != 0) {
        *out = a != 0;
        return true;
      }
      if (!EvalInt(*n.kids[1], vars, &b)) return false;
      *out = b != 0;
      return true;
    case Op::kCall: return false;
    default: break;
  }
  if (!EvalInt(*n.kids[0], vars, &a) || !EvalInt(*n.kids[1], vars, &b)) return false;
  switch (n.op) {
    case Op::kEq: *out = a == b; return true;
    case Op::kNe: *out = a != b; return true;
    case Op::kBitOr: *out = a | b; return true;
    case Op::kBitXor: *out = a ^ b; return true;
    case Op::kBitAnd: *out = a & b; return true;
    case Op::kLt: *out = a < b; return true;
    case Op::kLe: *out = a <= b; return true;
    case Op::kGt: *out = a > b; return true;
    case Op::kGe: *out = a >= b; return true;
    case Op::kShl: *out = b >= 64 ? 0 : a << b; return true;
    case Op::kShr: *out = b >= 64 ? 0 : a >> b; return true;
    case Op::kAdd: *out = a + b; return true;
    case Op::kSub: *out = a - b; return true;
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
  Parser parser(source, constants, symbols);
  auto root = parser.ParseAll();
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
  return root_ && root_->op == Op::kLiteral && root_->literal.Truthy();
}

}  // namespace sqlx::transports
