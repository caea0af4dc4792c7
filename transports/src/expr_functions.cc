#include "expr_functions.h"

#include <algorithm>

#include "crypto_primitives.h"

namespace sqlx::transports {

namespace {

using Args = ExprArgs;

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

constexpr ExprFunction kFunctions[] = {
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

}  // namespace

const ExprFunction* FindExprFunction(std::string_view name) {
  for (const auto& f : kFunctions)
    if (name == f.name) return &f;
  return nullptr;
}

}  // namespace sqlx::transports
