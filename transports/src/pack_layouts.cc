// The byte-level sections of a wire pack: framing (the packet header),
// encodings (prefix varints) and layouts (the fields of one packet).
#include <algorithm>
#include <cstdlib>
#include <memory>

#include "pack_compiler.h"

namespace sqlx::transports {
namespace {

struct UintType {
  const char* name;
  uint8_t width;
};
constexpr UintType kUintTypes[] = {{"u8", 1}, {"u16", 2}, {"u24", 3}, {"u32", 4},
                                   {"u48", 6}, {"u64", 8}};

struct NamedFieldType {
  const char* name;
  FieldType type;
};
constexpr NamedFieldType kFieldTypes[] = {
    {"varint", FieldType::kVarint},     {"varbytes", FieldType::kVarBytes},
    {"cstring", FieldType::kCString},   {"cstring_or_rest", FieldType::kCStringOrRest},
    {"bytes", FieldType::kBytes},       {"rest", FieldType::kRest},
    {"skip", FieldType::kSkip},         {"let", FieldType::kLet},
};

// Sets f->type (and f->width for "u8".."u64") from a pack's type name;
// false for a name no table lists.
bool SetFieldType(const std::string& type, Field* f) {
  bool known = false;
  for (const auto& u : kUintTypes) {
    if (type == u.name) {
      f->type = FieldType::kUint;
      f->width = u.width;
      known = true;
    }
  }
  for (const auto& t : kFieldTypes) {
    if (type == t.name) {
      f->type = t.type;
      known = true;
    }
  }
  return known;
}

}  // namespace

Status PackCompiler::CompileFraming(const json& j, const std::string& path) {
  if (!j.is_object()) return Fail(path, "framing must be an object");
  Framing& f = pack_.framing_;
  const json& header = j.value("header", json());
  if (!header.is_array() || header.empty())
    return Fail(Child(path, "header"), "must be a non-empty array of {name, width}");
  for (size_t i = 0; i < header.size(); ++i) {
    const json& h = header[i];
    std::string hp = Child(Child(path, "header"), i);
    if (!h.is_object() || !h.contains("name") || !h.contains("width") ||
        !h["width"].is_number_unsigned() || h["width"].get<uint64_t>() < 1 ||
        h["width"].get<uint64_t>() > 8)
      return Fail(hp, "each header field needs a name and a width of 1..8 bytes");
    f.header.push_back({h["name"].get<std::string>(), static_cast<uint8_t>(h["width"].get<uint64_t>())});
    f.header_size += f.header.back().width;
  }
  auto index_of = [&](const std::string& key, bool required) -> Result<int> {
    if (!j.contains(key)) {
      if (required) return Fail(Child(path, key), "missing");
      return -1;
    }
    std::string want = j[key].get<std::string>();
    for (size_t i = 0; i < f.header.size(); ++i)
      if (f.header[i].name == want) return static_cast<int>(i);
    return Fail(Child(path, key), "names no header field: '" + want + "'");
  };
  auto len = index_of("length", true);
  if (!len.ok()) return len.error();
  f.length_index = static_cast<size_t>(*len);
  auto seq = index_of("sequence", false);
  if (!seq.ok()) return seq.error();
  f.sequence_index = *seq;
  if (!j.contains("max_payload") || !j["max_payload"].is_number_unsigned())
    return Fail(Child(path, "max_payload"), "must be an unsigned number");
  f.max_payload = j["max_payload"].get<uint64_t>();
  uint64_t len_width = f.header[f.length_index].width;
  if (len_width < 8 && f.max_payload >= (uint64_t{1} << (8 * len_width)))
    return Fail(Child(path, "max_payload"), "does not fit the length field");
  f.check_sequence = j.value("check_sequence", true);
  return Status::Ok();
}

Status PackCompiler::CompileEncodings(const json& j, const std::string& path) {
  if (!j.is_object()) return Fail(path, "encodings must be an object");
  for (const auto& [name, e] : j.items()) {
    if (IsComment(name)) continue;
    std::string ep = Child(path, name);
    if (e.value("kind", "") != "prefix_varint")
      return Fail(Child(ep, "kind"), "only \"prefix_varint\" is defined");
    auto enc = std::make_unique<VarintEncoding>();
    enc->name = name;
    if (!e.contains("direct_max") || !e["direct_max"].is_number_unsigned() ||
        e["direct_max"].get<uint64_t>() > 255)
      return Fail(Child(ep, "direct_max"), "must be a number 0..255");
    enc->direct_max = e["direct_max"].get<uint64_t>();
    if (e.contains("null")) enc->null_marker = e["null"].get<int>();
    const json& markers = e.value("markers", json::object());
    for (const auto& [marker_text, width_j] : markers.items()) {
      if (IsComment(marker_text)) continue;
      int marker = std::atoi(marker_text.c_str());
      if (marker <= static_cast<int>(enc->direct_max) || marker > 255 || !width_j.is_number_unsigned() ||
          width_j.get<uint64_t>() < 1 || width_j.get<uint64_t>() > 8)
        return Fail(Child(Child(ep, "markers"), marker_text),
                    "a marker is a byte above direct_max mapping to a width of 1..8");
      enc->width[marker] = static_cast<uint8_t>(width_j.get<uint64_t>());
      enc->markers.emplace_back(static_cast<uint8_t>(width_j.get<uint64_t>()),
                                static_cast<uint8_t>(marker));
    }
    std::sort(enc->markers.begin(), enc->markers.end());
    if (enc->markers.empty()) return Fail(Child(ep, "markers"), "needs at least one marker");
    pack_.encodings_[name] = std::move(enc);
  }
  return Status::Ok();
}

Status PackCompiler::CompileLayout(const std::string& name, const json& j, const std::string& path) {
  if (!j.is_array()) return Fail(path, "a layout is an array of fields");
  auto layout = std::make_unique<Layout>();
  layout->name = name;
  for (size_t i = 0; i < j.size(); ++i) {
    const json& fj = j[i];
    std::string fp = Child(path, i);
    if (IsCommentOnly(fj)) continue;
    if (!fj.is_object() || !fj.contains("type") || !fj["type"].is_string())
      return Fail(fp, "a field is an object with a \"type\"");
    Field f;
    f.path = fp;
    std::string type = fj["type"].get<std::string>();
    if (!SetFieldType(type, &f)) return Fail(Child(fp, "type"), "unknown field type '" + type + "'");
    f.name = fj.value("name", "");
    if (f.name.empty() && f.type != FieldType::kSkip && !fj.contains("value"))
      return Fail(fp, "a " + type + " field needs a \"name\"");
    if (!f.name.empty()) f.slot = pack_.symbols_.Intern(f.name);
    if (f.type == FieldType::kVarint || f.type == FieldType::kVarBytes) {
      std::string enc = fj.value("encoding", "");
      auto it = pack_.encodings_.find(enc);
      if (it == pack_.encodings_.end())
        return Fail(Child(fp, "encoding"), "names no encoding: '" + enc + "'");
      f.encoding = it->second.get();
    }
    if (f.type == FieldType::kBytes || f.type == FieldType::kSkip) {
      if (!fj.contains("len")) return Fail(fp, "a " + type + " field needs \"len\"");
      auto e = CompileExprOrNumber(fj["len"], Child(fp, "len"));
      if (!e.ok()) return e.error();
      f.len = std::move(e).value();
    }
    if (fj.contains("if")) {
      auto e = CompileExpr(fj["if"], Child(fp, "if"));
      if (!e.ok()) return e.error();
      f.when = std::move(e).value();
    }
    if (fj.contains("value")) {
      auto e = CompileExpr(fj["value"], Child(fp, "value"));
      if (!e.ok()) return e.error();
      f.value = std::move(e).value();
    } else if (f.type == FieldType::kLet) {
      return Fail(fp, "a let field needs a \"value\"");
    }
    if (fj.contains("repeat")) {
      auto e = CompileExpr(fj["repeat"], Child(fp, "repeat"));
      if (!e.ok()) return e.error();
      f.repeat = std::move(e).value();
    }
    f.nullable = fj.value("nullable", false);
    f.optional = fj.value("optional", false);
    layout->fields.push_back(std::move(f));
  }
  pack_.layouts_[name] = std::move(layout);
  return Status::Ok();
}

Result<const Layout*> PackCompiler::FindLayout(const json& j, const std::string& path) const {
  if (!j.is_string()) return Fail(path, "expected a layout name");
  auto it = pack_.layouts_.find(j.get<std::string>());
  if (it == pack_.layouts_.end())
    return Fail(path, "names no layout: '" + j.get<std::string>() + "'");
  return it->second.get();
}

}  // namespace sqlx::transports
