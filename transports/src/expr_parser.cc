// The expression parser: precedence climbing over a C-like grammar.
#include <cctype>

#include "expr_node.h"

namespace sqlx::transports {

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
  static NodeP Binary(ExprOp op, NodeP a, NodeP b) {
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
    n->op = ExprOp::kTernary;
    n->kids.push_back(std::move(cond).value());
    n->kids.push_back(std::move(a).value());
    n->kids.push_back(std::move(b).value());
    return n;
  }

  struct Level {
    std::vector<std::pair<const char*, ExprOp>> ops;
  };
  static const std::vector<Level>& Levels() {
    static const std::vector<Level> levels = {
        {{{"||", ExprOp::kOr}}},
        {{{"&&", ExprOp::kAnd}}},
        {{{"|", ExprOp::kBitOr}}},
        {{{"^", ExprOp::kBitXor}}},
        {{{"&", ExprOp::kBitAnd}}},
        {{{"==", ExprOp::kEq}, {"!=", ExprOp::kNe}}},
        {{{"<=", ExprOp::kLe}, {">=", ExprOp::kGe}, {"<", ExprOp::kLt}, {">", ExprOp::kGt}}},
        {{{"<<", ExprOp::kShl}, {">>", ExprOp::kShr}}},
        {{{"+", ExprOp::kAdd}, {"-", ExprOp::kSub}}},
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
    ExprOp op;
    if (Eat("!")) {
      op = ExprOp::kNot;
    } else if (Eat("~")) {
      op = ExprOp::kBitNot;
    } else if (Eat("-")) {
      op = ExprOp::kNeg;
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
    n->op = ExprOp::kLiteral;
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
      const ExprFunction* spec = FindExprFunction(name);
      if (spec == nullptr) {
        pos_ = start;
        return Fail("unknown function '" + std::string(name) + "'");
      }
      auto n = std::make_unique<Expr::Node>();
      n->op = ExprOp::kCall;
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
    n->op = ExprOp::kVar;
    n->slot = symbols_.Intern(name);
    return n;
  }

  std::string_view src_;
  size_t pos_ = 0;
  int depth_ = 0;
  const std::map<std::string, uint64_t, std::less<>>& constants_;
  SymbolTable& symbols_;
};

}  // namespace

Result<std::unique_ptr<Expr::Node>> ParseExpr(std::string_view src,
                                              const std::map<std::string, uint64_t, std::less<>>& constants,
                                              SymbolTable& symbols) {
  Parser parser(src, constants, symbols);
  return parser.ParseAll();
}

}  // namespace sqlx::transports
