#include "codec.h"

#include <cstring>

namespace sqlx::transports {

namespace {

Error Short(const Layout& layout, const Field& f, size_t need, size_t have) {
  return MakeError(ErrorCode::kProtocol,
                   "malformed '" + layout.name + "' packet: field '" + (f.name.empty() ? "(skip)" : f.name) +
                       "' needs " + std::to_string(need) + " bytes, " + std::to_string(have) +
                       " remain");
}

uint64_t ReadUint(std::string_view in, size_t width, bool little) {
  uint64_t v = 0;
  for (size_t i = 0; i < width; ++i) {
    size_t shift = little ? i : width - 1 - i;
    v |= static_cast<uint64_t>(static_cast<uint8_t>(in[i])) << (8 * shift);
  }
  return v;
}

void AppendUint(std::string& out, size_t width, uint64_t v, bool little) {
  for (size_t i = 0; i < width; ++i) {
    size_t shift = little ? i : width - 1 - i;
    out += static_cast<char>(static_cast<uint8_t>(v >> (8 * shift)));
  }
}

// Reads a prefix varint. Returns false on truncation; sets *is_null for the
// null marker; *bad for a byte that is neither direct, null nor a marker.
bool ReadVarint(const VarintEncoding& enc, bool little, std::string_view in, size_t* used,
                uint64_t* out, bool* is_null, bool* bad) {
  *is_null = false;
  *bad = false;
  if (in.empty()) return false;
  uint8_t first = static_cast<uint8_t>(in[0]);
  if (first <= enc.direct_max) {
    *out = first;
    *used = 1;
    return true;
  }
  if (enc.null_marker >= 0 && first == enc.null_marker) {
    *is_null = true;
    *used = 1;
    *out = 0;
    return true;
  }
  uint8_t w = enc.width[first];
  if (w == 0) {
    *bad = true;
    return true;
  }
  if (in.size() < 1u + w) return false;
  *out = ReadUint(in.substr(1), w, little);
  *used = 1u + w;
  return true;
}

void AppendVarint(const VarintEncoding& enc, bool little, std::string& out, uint64_t v) {
  if (v <= enc.direct_max) {
    out += static_cast<char>(v);
    return;
  }
  for (const auto& [width, marker] : enc.markers) {
    if (width >= 8 || v < (uint64_t{1} << (8 * width))) {
      out += static_cast<char>(marker);
      AppendUint(out, width, v, little);
      return;
    }
  }
}

Result<uint64_t> EvalLen(const Field& f, const EvalContext& ctx) {
  auto v = f.len.Eval(ctx);
  if (!v.ok()) return v.error();
  if (!v->is_int()) return MakeError(ErrorCode::kPack, f.path + ": len must be an integer");
  return v->i;
}

}  // namespace

Status DecodeLayout(const WirePack& pack, const Layout& layout, std::string_view payload,
                    std::vector<Value>& vars) {
  const bool little = pack.little_endian();
  std::string_view in = payload;
  EvalContext ctx{&vars, in, true};
  for (const Field& f : layout.fields) {
    ctx.unread = in;
    if (!f.when.empty()) {
      auto present = f.when.EvalBool(ctx);
      if (!present.ok()) return present.error();
      if (!*present) {
        if (f.slot != SIZE_MAX) vars[f.slot] = Value{};
        continue;
      }
    }
    if (f.optional && in.empty() && f.type != FieldType::kLet) {
      if (f.slot != SIZE_MAX) vars[f.slot] = Value{};
      continue;
    }
    Value v;
    switch (f.type) {
      case FieldType::kUint:
        if (in.size() < f.width) return Short(layout, f, f.width, in.size());
        v = Value::Int(ReadUint(in, f.width, little));
        in.remove_prefix(f.width);
        break;
      case FieldType::kVarint:
      case FieldType::kVarBytes: {
        size_t used = 0;
        uint64_t n = 0;
        bool is_null = false, bad = false;
        if (!ReadVarint(*f.encoding, little, in, &used, &n, &is_null, &bad))
          return Short(layout, f, 9, in.size());
        if (bad) {
          return MakeError(ErrorCode::kProtocol, "malformed '" + layout.name + "' packet: field '" +
                                                     f.name + "' starts with an invalid length byte");
        }
        in.remove_prefix(used);
        if (is_null) break;
        if (f.type == FieldType::kVarint) {
          v = Value::Int(n);
          break;
        }
        if (n > in.size()) return Short(layout, f, n, in.size());
        v = Value::Bytes(in.substr(0, n));
        in.remove_prefix(n);
        break;
      }
      case FieldType::kCString:
      case FieldType::kCStringOrRest: {
        size_t nul = in.find('\0');
        if (nul == std::string_view::npos) {
          if (f.type == FieldType::kCString) {
            return MakeError(ErrorCode::kProtocol, "malformed '" + layout.name + "' packet: field '" +
                                                       f.name + "' lacks its NUL terminator");
          }
          v = Value::Bytes(in);
          in = {};
        } else {
          v = Value::Bytes(in.substr(0, nul));
          in.remove_prefix(nul + 1);
        }
        break;
      }
      case FieldType::kBytes:
      case FieldType::kSkip: {
        auto n = EvalLen(f, ctx);
        if (!n.ok()) return n.error();
        if (*n > in.size()) return Short(layout, f, *n, in.size());
        if (f.type == FieldType::kBytes) v = Value::Bytes(in.substr(0, *n));
        in.remove_prefix(*n);
        break;
      }
      case FieldType::kRest:
        v = Value::Bytes(in);
        in = {};
        break;
      case FieldType::kLet: {
        auto r = f.value.Eval(ctx);
        if (!r.ok()) return r.error();
        v = std::move(r).value();
        break;
      }
    }
    if (f.slot != SIZE_MAX) vars[f.slot] = std::move(v);
  }
  return Status::Ok();
}

Result<std::string> EncodeLayout(const WirePack& pack, const Layout& layout,
                                 std::vector<Value>& vars) {
  const bool little = pack.little_endian();
  std::string out;
  EvalContext ctx{&vars, {}, false};
  for (const Field& f : layout.fields) {
    if (!f.when.empty()) {
      auto present = f.when.EvalBool(ctx);
      if (!present.ok()) return present.error();
      if (!*present) continue;
    }
    Value v;
    if (!f.value.empty()) {
      auto r = f.value.Eval(ctx);
      if (!r.ok()) return r.error();
      v = std::move(r).value();
    } else if (f.slot != SIZE_MAX) {
      v = vars[f.slot];
    }
    auto want = [&](Value::Kind kind) -> Status {
      if (v.kind == kind) return Status::Ok();
      return MakeError(ErrorCode::kPack, f.path + ": field '" + f.name + "' needs " +
                                             ValueKindName(kind) + ", has " + ValueKindName(v.kind));
    };
    switch (f.type) {
      case FieldType::kUint:
        SQLX_RETURN_IF_ERROR(want(Value::Kind::kInt));
        if (f.width < 8 && v.i >= (uint64_t{1} << (8 * f.width))) {
          return MakeError(ErrorCode::kInvalidArgument,
                           f.path + ": value " + std::to_string(v.i) + " does not fit " +
                               std::to_string(f.width) + " bytes");
        }
        AppendUint(out, f.width, v.i, little);
        break;
      case FieldType::kVarint:
        SQLX_RETURN_IF_ERROR(want(Value::Kind::kInt));
        AppendVarint(*f.encoding, little, out, v.i);
        break;
      case FieldType::kVarBytes:
        SQLX_RETURN_IF_ERROR(want(Value::Kind::kBytes));
        AppendVarint(*f.encoding, little, out, v.b.size());
        out += v.b;
        break;
      case FieldType::kCString:
      case FieldType::kCStringOrRest:
        SQLX_RETURN_IF_ERROR(want(Value::Kind::kBytes));
        if (v.b.find('\0') != std::string::npos) {
          return MakeError(ErrorCode::kInvalidArgument,
                           "'" + f.name + "' must not contain a NUL byte");
        }
        out += v.b;
        out += '\0';
        break;
      case FieldType::kBytes: {
        SQLX_RETURN_IF_ERROR(want(Value::Kind::kBytes));
        auto n = EvalLen(f, ctx);
        if (!n.ok()) return n.error();
        std::string b = v.b;
        b.resize(*n, '\0');
        out += b;
        break;
      }
      case FieldType::kRest:
        SQLX_RETURN_IF_ERROR(want(Value::Kind::kBytes));
        out += v.b;
        break;
      case FieldType::kSkip: {
        auto n = EvalLen(f, ctx);
        if (!n.ok()) return n.error();
        out.append(*n, '\0');
        break;
      }
      case FieldType::kLet:
        if (f.slot != SIZE_MAX) vars[f.slot] = std::move(v);
        break;
    }
  }
  return out;
}

Status DecodeRow(const WirePack& pack, const Layout& layout, std::string_view payload,
                 const std::vector<Value>& vars, RowBatch* batch) {
  const bool little = pack.little_endian();
  size_t base = batch->AppendPayload(payload);
  size_t pos = 0;
  EvalContext ctx{&vars, {}, false};
  auto fail = [&](std::string what) -> Status {
    batch->DropPartialRow(base);
    return MakeError(ErrorCode::kProtocol, "malformed row: " + what);
  };
  for (const Field& f : layout.fields) {
    uint64_t count = 1;
    if (!f.repeat.empty() && !f.repeat.TryEvalInt(ctx, &count)) {
      auto n = f.repeat.Eval(ctx);
      if (!n.ok()) {
        batch->DropPartialRow(base);
        return n.error();
      }
      if (!n->is_int()) return fail("repeat count is not an integer");
      count = n->i;
    }
    for (uint64_t k = 0; k < count; ++k) {
      std::string_view in = payload.substr(pos);
      switch (f.type) {
        case FieldType::kVarBytes: {
          size_t used = 0;
          uint64_t n = 0;
          bool is_null = false, bad = false;
          if (!ReadVarint(*f.encoding, little, in, &used, &n, &is_null, &bad))
            return fail("cell " + std::to_string(k + 1) + " is truncated");
          if (bad) return fail("cell " + std::to_string(k + 1) + " has an invalid length byte");
          pos += used;
          if (is_null) {
            if (!f.nullable) return fail("unexpected NULL marker");
            batch->AddNull();
            break;
          }
          if (n > payload.size() - pos)
            return fail("cell " + std::to_string(k + 1) + " claims " + std::to_string(n) +
                        " bytes, " + std::to_string(payload.size() - pos) + " remain");
          batch->AddCell(base + pos, n);
          pos += n;
          break;
        }
        case FieldType::kCString: {
          size_t nul = in.find('\0');
          if (nul == std::string_view::npos) return fail("cell lacks its NUL terminator");
          batch->AddCell(base + pos, nul);
          pos += nul + 1;
          break;
        }
        case FieldType::kRest:
          batch->AddCell(base + pos, in.size());
          pos = payload.size();
          break;
        default:
          return fail("unsupported row field type");
      }
    }
  }
  if (pos != payload.size())
    return fail(std::to_string(payload.size() - pos) + " bytes left after the last cell");
  if (batch->cells_in_partial_row() != batch->columns())
    return fail("has " + std::to_string(batch->cells_in_partial_row()) + " cells, expected " +
                std::to_string(batch->columns()));
  batch->EndRow();
  return Status::Ok();
}

}  // namespace sqlx::transports
