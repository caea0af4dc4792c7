// Compiles a wire pack's JSON into WirePack. Every error names the file and
// the JSON pointer at fault, so a pack author can fix it without a debugger.
// This file: the whole pack, its constants, steps, procedures and tables;
// pack_layouts.cc: framing, encodings and layouts.
#include "pack.h"

#include <fstream>
#include <sstream>

#include "pack_compiler.h"

namespace sqlx::transports {

using nlohmann::json;

namespace {

Result<ErrorCode> ErrorCodeFromName(std::string_view name) {
  for (int i = 1; i <= static_cast<int>(ErrorCode::kClosed); ++i) {
    auto code = static_cast<ErrorCode>(i);
    if (ErrorCodeName(code) == name) return code;
  }
  return MakeError(ErrorCode::kPack, "unknown error code '" + std::string(name) + "'");
}

}  // namespace

bool PackCompiler::IsComment(const std::string& key) { return !key.empty() && key[0] == '#'; }

bool PackCompiler::IsCommentOnly(const json& j) {
  if (!j.is_object() || j.empty()) return false;
  for (const auto& [k, v] : j.items())
    if (!IsComment(k)) return false;
  return true;
}

std::string PackCompiler::Child(const std::string& path, const std::string& key) {
  std::string escaped;
  for (char c : key) {
    if (c == '~') {
      escaped += "~0";
    } else if (c == '/') {
      escaped += "~1";
    } else {
      escaped += c;
    }
  }
  return path + "/" + escaped;
}
std::string PackCompiler::Child(const std::string& path, size_t index) {
  return path + "/" + std::to_string(index);
}

Result<Expr> PackCompiler::CompileExpr(const json& j, const std::string& path) {
  std::string source;
  if (j.is_string()) {
    source = j.get<std::string>();
  } else if (j.is_number_unsigned() || j.is_number_integer()) {
    source = std::to_string(j.get<uint64_t>());
  } else if (j.is_boolean()) {
    source = j.get<bool>() ? "true" : "false";
  } else {
    return Fail(path, "expected an expression string, got " + std::string(j.type_name()));
  }
  auto e = Expr::Compile(source, pack_.constants_, pack_.symbols_);
  if (!e.ok()) return Fail(path, e.error().message);
  return e;
}

Result<Expr> PackCompiler::CompileExprOrNumber(const json& j, const std::string& path) {
  return CompileExpr(j, path);
}

Status PackCompiler::CompileCases(const json& j, const std::string& path,
                                  std::vector<RecvCase>* out) {
  if (!j.is_array() || j.empty()) return Fail(path, "expected a non-empty array of cases");
  for (size_t i = 0; i < j.size(); ++i) {
    const json& cj = j[i];
    std::string cp = Child(path, i);
    if (!cj.is_object()) return Fail(cp, "a case is an object {when, decode, do}");
    RecvCase c;
    auto when = CompileExpr(cj.value("when", json("true")), Child(cp, "when"));
    if (!when.ok()) return when.error();
    c.when = std::move(when).value();
    if (cj.contains("decode")) {
      auto layout = FindLayout(cj["decode"], Child(cp, "decode"));
      if (!layout.ok()) return layout.error();
      c.decode = *layout;
    }
    if (cj.contains("do")) SQLX_RETURN_IF_ERROR(CompileBlock(cj["do"], Child(cp, "do"), &c.body));
    out->push_back(std::move(c));
  }
  return Status::Ok();
}

Status PackCompiler::CompileBlock(const json& j, const std::string& path, Block* out) {
  if (!j.is_array()) return Fail(path, "expected an array of steps");
  if (block_depth_ >= kMaxBlockDepth)
    return Fail(path, "steps nested more than " + std::to_string(kMaxBlockDepth) + " levels deep");
  ++block_depth_;
  Status st;
  for (size_t i = 0; i < j.size() && st.ok(); ++i) {
    if (IsCommentOnly(j[i])) continue;
    out->steps.emplace_back();
    st = CompileStep(j[i], Child(path, i), &out->steps.back());
  }
  --block_depth_;
  return st;
}

Status PackCompiler::CompileStep(const json& j, const std::string& path, Step* s) {
  if (!j.is_object() || j.empty()) return Fail(path, "a step is a non-empty object");
  s->path = path;
  auto expr_into = [&](const char* key, Expr* e) -> Status {
    auto r = CompileExpr(j[key], Child(path, key));
    if (!r.ok()) return r.error();
    *e = std::move(r).value();
    return Status::Ok();
  };
  if (j.contains("send")) {
    s->kind = StepKind::kSend;
    auto layout = FindLayout(j["send"], Child(path, "send"));
    if (!layout.ok()) return layout.error();
    s->layout = *layout;
  } else if (j.contains("send_raw")) {
    s->kind = StepKind::kSendRaw;
    SQLX_RETURN_IF_ERROR(expr_into("send_raw", &s->expr));
  } else if (j.contains("recv")) {
    s->kind = StepKind::kRecv;
    SQLX_RETURN_IF_ERROR(CompileCases(j["recv"], Child(path, "recv"), &s->cases));
  } else if (j.contains("set")) {
    SQLX_RETURN_IF_ERROR(CompileSetStep(j["set"], Child(path, "set"), s));
  } else if (j.contains("if")) {
    s->kind = StepKind::kIf;
    SQLX_RETURN_IF_ERROR(expr_into("if", &s->expr));
    if (!j.contains("then")) return Fail(path, "an if step needs \"then\"");
    SQLX_RETURN_IF_ERROR(CompileBlock(j["then"], Child(path, "then"), &s->then_block));
    if (j.contains("else"))
      SQLX_RETURN_IF_ERROR(CompileBlock(j["else"], Child(path, "else"), &s->else_block));
  } else if (j.contains("while") || j.contains("repeat")) {
    bool is_while = j.contains("while");
    s->kind = is_while ? StepKind::kWhile : StepKind::kRepeat;
    SQLX_RETURN_IF_ERROR(expr_into(is_while ? "while" : "repeat", &s->expr));
    if (!j.contains("do")) return Fail(path, "a loop step needs \"do\"");
    SQLX_RETURN_IF_ERROR(CompileBlock(j["do"], Child(path, "do"), &s->then_block));
  } else if (j.contains("break")) {
    s->kind = StepKind::kBreak;
  } else if (j.contains("return")) {
    s->kind = StepKind::kReturn;
  } else if (j.contains("fail")) {
    SQLX_RETURN_IF_ERROR(CompileFailStep(j["fail"], Child(path, "fail"), s));
  } else if (j.contains("emit")) {
    s->kind = StepKind::kEmit;
    s->name = j["emit"].get<std::string>();
  } else if (j.contains("start_tls")) {
    s->kind = StepKind::kStartTls;
  } else if (j.contains("reset_sequence")) {
    s->kind = StepKind::kResetSequence;
  } else if (j.contains("call")) {
    s->kind = StepKind::kCall;
    s->name = j["call"].get<std::string>();
  } else if (j.contains("call_named")) {
    SQLX_RETURN_IF_ERROR(CompileCallNamedStep(j["call_named"], Child(path, "call_named"), s));
  } else if (j.contains("rows")) {
    SQLX_RETURN_IF_ERROR(CompileRowsStep(j["rows"], Child(path, "rows"), s));
  } else {
    return Fail(path, "unknown step; expected one of send, send_raw, recv, set, if, while, "
                      "repeat, break, return, fail, emit, start_tls, reset_sequence, call, "
                      "call_named, rows");
  }
  return Status::Ok();
}

// {"set": {variable: expression, ...}}: `j` is the object, `sp` its pointer.
Status PackCompiler::CompileSetStep(const json& j, const std::string& sp, Step* s) {
  s->kind = StepKind::kSet;
  if (!j.is_object()) return Fail(sp, "expected {variable: expression}");
  for (const auto& [var, ej] : j.items()) {
    if (IsComment(var)) continue;
    auto e = CompileExpr(ej, Child(sp, var));
    if (!e.ok()) return e.error();
    s->sets.emplace_back(pack_.symbols_.Intern(var), std::move(e).value());
  }
  return Status::Ok();
}

// {"fail": {code, message, server_error}}: `f` is the object, `fp` its pointer.
Status PackCompiler::CompileFailStep(const json& f, const std::string& fp, Step* s) {
  s->kind = StepKind::kFail;
  if (!f.is_object() || !f.contains("code")) return Fail(fp, "expected {code, message}");
  auto code = ErrorCodeFromName(f["code"].get<std::string>());
  if (!code.ok()) return Fail(Child(fp, "code"), code.error().message);
  s->fail_code = *code;
  s->fail_from_server = f.value("server_error", false);
  if (f.contains("message")) {
    auto e = CompileExpr(f["message"], Child(fp, "message"));
    if (!e.ok()) return e.error();
    s->fail_message = std::move(e).value();
  } else if (!s->fail_from_server) {
    return Fail(fp, "needs a \"message\" unless server_error is true");
  }
  return Status::Ok();
}

// {"call_named": {table, entry, hook}}: `c` is the object, `cp` its pointer.
Status PackCompiler::CompileCallNamedStep(const json& c, const std::string& cp, Step* s) {
  s->kind = StepKind::kCallNamed;
  if (!c.is_object() || !c.contains("table") || !c.contains("entry") || !c.contains("hook"))
    return Fail(cp, "expected {table, entry, hook}");
  s->name = c["table"].get<std::string>();
  s->hook = c["hook"].get<std::string>();
  auto e = CompileExpr(c["entry"], Child(cp, "entry"));
  if (!e.ok()) return e.error();
  s->name_expr = std::move(e).value();
  return Status::Ok();
}

// {"rows": {layout, end}}: `r` is the object, `rp` its pointer. A row layout
// holds byte-string fields only: each is one cell.
Status PackCompiler::CompileRowsStep(const json& r, const std::string& rp, Step* s) {
  s->kind = StepKind::kRows;
  if (!r.is_object() || !r.contains("layout") || !r.contains("end"))
    return Fail(rp, "expected {layout, end}");
  auto layout = FindLayout(r["layout"], Child(rp, "layout"));
  if (!layout.ok()) return layout.error();
  s->layout = *layout;
  for (const Field& f : s->layout->fields) {
    if (f.type != FieldType::kVarBytes && f.type != FieldType::kCString &&
        f.type != FieldType::kRest)
      return Fail(f.path, "a row layout may hold only byte-string fields (one cell each)");
  }
  return CompileCases(r["end"], Child(rp, "end"), &s->cases);
}

Status PackCompiler::Compile(const json& root) {
  if (!root.is_object()) return Fail("", "a pack is a JSON object");
  if (!root.contains("name") || !root["name"].is_string()) return Fail("/name", "missing");
  pack_.name_ = root["name"].get<std::string>();
  // An integer 1 (a float or a huge number is not: reading one as an int
  // would be undefined).
  const json* version = root.contains("format_version") ? &root["format_version"] : nullptr;
  if (version == nullptr || !version->is_number_integer() || version->get<int64_t>() != 1)
    return Fail("/format_version", "this build reads format_version 1");
  std::string order = root.value("byte_order", "little");
  if (order != "little" && order != "big") return Fail("/byte_order", "little or big");
  pack_.little_endian_ = order == "little";

  // Constants first: expressions everywhere else may name them.
  SQLX_RETURN_IF_ERROR(CompileConstants(root));
  if (!root.contains("framing")) return Fail("/framing", "missing");
  SQLX_RETURN_IF_ERROR(CompileFraming(root["framing"], "/framing"));
  if (root.contains("encodings")) SQLX_RETURN_IF_ERROR(CompileEncodings(root["encodings"], "/encodings"));
  if (root.contains("layouts")) {
    for (const auto& [name, l] : root["layouts"].items())
      if (!IsComment(name)) SQLX_RETURN_IF_ERROR(CompileLayout(name, l, Child("/layouts", name)));
  }
  if (root.contains("tables")) SQLX_RETURN_IF_ERROR(CompileTables(root["tables"]));
  if (!root.contains("procedures") || !root["procedures"].is_object())
    return Fail("/procedures", "missing");
  for (const auto& [name, steps] : root["procedures"].items())
    if (!IsComment(name)) SQLX_RETURN_IF_ERROR(CompileBlock(steps, Child("/procedures", name), &pack_.procedures_[name]));
  return CheckCalls();
}

// "flags" (each flag is also a constant), "constants" and "defaults".
Status PackCompiler::CompileConstants(const json& root) {
  if (root.contains("flags")) {
    for (const auto& [set_name, set] : root["flags"].items()) {
      if (IsComment(set_name)) continue;
      for (const auto& [flag, bit] : set.items()) {
        if (IsComment(flag)) continue;
        if (!bit.is_number_unsigned())
          return Fail(Child(Child("/flags", set_name), flag), "a flag value is an unsigned number");
        pack_.flag_sets_[set_name][flag] = bit.get<uint64_t>();
        pack_.constants_[flag] = bit.get<uint64_t>();
      }
    }
  }
  if (root.contains("constants")) {
    for (const auto& [name, v] : root["constants"].items()) {
      if (IsComment(name)) continue;
      if (!v.is_number_unsigned())
        return Fail(Child("/constants", name), "a constant is an unsigned number");
      pack_.constants_[name] = v.get<uint64_t>();
    }
  }
  if (root.contains("defaults")) {
    for (const auto& [name, v] : root["defaults"].items()) {
      if (IsComment(name)) continue;
      if (v.is_number_unsigned()) {
        pack_.defaults_[name] = Value::Int(v.get<uint64_t>());
      } else if (v.is_string()) {
        pack_.defaults_[name] = Value::Bytes(v.get<std::string>());
      } else {
        return Fail(Child("/defaults", name), "a default is an unsigned number or a string");
      }
      pack_.symbols_.Intern(name);
    }
  }
  return Status::Ok();
}

// "tables": table -> entry -> hook -> steps.
Status PackCompiler::CompileTables(const json& j) {
  for (const auto& [table, entries] : j.items()) {
    if (IsComment(table)) continue;
    std::string tp = Child("/tables", table);
    for (const auto& [entry, hooks] : entries.items()) {
      if (IsComment(entry)) continue;
      std::string ep = Child(tp, entry);
      if (!hooks.is_object()) return Fail(ep, "an entry maps hook names to step arrays");
      for (const auto& [hook, steps] : hooks.items())
        if (!IsComment(hook)) SQLX_RETURN_IF_ERROR(CompileBlock(steps, Child(ep, hook), &pack_.tables_[table][entry][hook]));
    }
  }
  return Status::Ok();
}

// Calls must name real procedures and tables: checked once all are known.
Status PackCompiler::CheckCalls() const {
  std::vector<std::pair<const Block*, std::string>> todo;
  for (const auto& [name, block] : pack_.procedures_) todo.emplace_back(&block, "");
  for (const auto& [t, entries] : pack_.tables_)
    for (const auto& [e, hooks] : entries)
      for (const auto& [h, block] : hooks) todo.emplace_back(&block, "");
  while (!todo.empty()) {
    const Block* b = todo.back().first;
    todo.pop_back();
    for (const Step& s : b->steps) {
      if (s.kind == StepKind::kCall && pack_.procedures_.find(s.name) == pack_.procedures_.end())
        return Fail(Child(s.path, "call"), "names no procedure: '" + s.name + "'");
      if (s.kind == StepKind::kCallNamed && pack_.tables_.find(s.name) == pack_.tables_.end())
        return Fail(Child(s.path, "call_named"), "names no table: '" + s.name + "'");
      todo.emplace_back(&s.then_block, "");
      todo.emplace_back(&s.else_block, "");
      for (const RecvCase& c : s.cases) todo.emplace_back(&c.body, "");
    }
  }
  return Status::Ok();
}

Result<std::shared_ptr<const WirePack>> WirePack::Parse(const std::string& json_text,
                                                        const std::string& file_label) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    return MakeError(ErrorCode::kPack, "wire pack " + file_label + " is not valid JSON (byte " +
                                           std::to_string(e.byte) + "): " + e.what());
  } catch (const json::exception& e) {
    // The parser also throws out_of_range, e.g. for a number beyond a double (1e999).
    return MakeError(ErrorCode::kPack, "wire pack " + file_label + " is not valid JSON: " + e.what());
  }
  auto pack = std::make_shared<WirePack>();
  pack->file_ = file_label;
  PackCompiler compiler(*pack, file_label);
  try {
    SQLX_RETURN_IF_ERROR(compiler.Compile(root));
  } catch (const json::exception& e) {
    // A value of the wrong JSON type where a string/number was required.
    return MakeError(ErrorCode::kPack, "wire pack " + file_label + ": " + e.what());
  }
  return std::shared_ptr<const WirePack>(std::move(pack));
}

Result<std::shared_ptr<const WirePack>> WirePack::Load(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    return MakeError(ErrorCode::kNotFound,
                     "cannot read wire pack " + file + ": check --pack-dir or SQLX_PACK_DIR");
  }
  std::stringstream ss;
  ss << in.rdbuf();
  return Parse(ss.str(), file);
}

const Block* WirePack::procedure(std::string_view name) const {
  auto it = procedures_.find(name);
  return it == procedures_.end() ? nullptr : &it->second;
}

const NamedEntry* WirePack::named_entry(std::string_view table, std::string_view entry) const {
  auto t = tables_.find(table);
  if (t == tables_.end()) return nullptr;
  auto e = t->second.find(entry);
  return e == t->second.end() ? nullptr : &e->second;
}

std::vector<std::string> WirePack::named_entries(std::string_view table) const {
  std::vector<std::string> out;
  auto t = tables_.find(table);
  if (t != tables_.end())
    for (const auto& [name, entry] : t->second) out.push_back(name);
  return out;
}

const std::map<std::string, uint64_t, std::less<>>* WirePack::flag_set(std::string_view name) const {
  auto it = flag_sets_.find(name);
  return it == flag_sets_.end() ? nullptr : &it->second;
}

}  // namespace sqlx::transports