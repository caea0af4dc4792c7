// Checks a learn pack's JSON into LearnPack. Every error names the file and
// the JSON pointer at fault; unknown keys are errors (a typo must not turn a
// rule off silently); keys starting with '#' are comments.
#include "learn_pack.h"

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <sstream>

#include <nlohmann/json.hpp>

#include "learn_pack_checker.h"
#include "sqlx/transports/pack_search.h"

namespace sqlx::flo {

using nlohmann::json;

bool IsPackComment(const std::string& key) { return !key.empty() && key[0] == '#'; }

Status LearnPackChecker::Keys(const json& j, const std::string& path,
                              std::initializer_list<const char*> allowed) const {
  if (!j.is_object()) return Fail(path, "expected an object");
  for (const auto& [key, value] : j.items()) {
    if (IsPackComment(key)) continue;
    bool known = false;
    for (const char* a : allowed) known = known || key == a;
    if (!known) return Fail(path + "/" + key, "unknown key");
  }
  return Status::Ok();
}

Result<const json*> LearnPackChecker::Object(const json& parent, const char* key,
                                             const std::string& path) const {
  if (!parent.contains(key) || !parent[key].is_object())
    return Fail(path + "/" + key, "missing or not an object");
  return &parent[key];
}

Result<std::string> LearnPackChecker::String(const json& parent, const char* key,
                                             const std::string& path) const {
  if (!parent.contains(key) || !parent[key].is_string() || parent[key].get<std::string>().empty())
    return Fail(path + "/" + key, "missing or not a non-empty string");
  return parent[key].get<std::string>();
}

Status LearnPackChecker::Strings(const json& parent, const char* key, const std::string& path,
                                 std::vector<std::string>* out) const {
  const std::string p = path + "/" + key;
  if (!parent.contains(key) || !parent[key].is_array()) return Fail(p, "missing or not an array of strings");
  for (size_t i = 0; i < parent[key].size(); ++i) {
    const json& v = parent[key][i];
    if (!v.is_string() || v.get<std::string>().empty())
      return Fail(p + "/" + std::to_string(i), "expected a non-empty string");
    out->push_back(v.get<std::string>());
  }
  return Status::Ok();
}

Status LearnPackChecker::Ints(const json& parent, const char* key, const std::string& path,
                              std::vector<int>* out) const {
  const std::string p = path + "/" + key;
  if (!parent.contains(key) || !parent[key].is_array()) return Fail(p, "missing or not an array of error numbers");
  for (size_t i = 0; i < parent[key].size(); ++i) {
    const json& v = parent[key][i];
    if (!v.is_number_unsigned() || v.get<uint64_t>() > 65535)
      return Fail(p + "/" + std::to_string(i), "expected a server error number");
    out->push_back(static_cast<int>(v.get<uint64_t>()));
  }
  return Status::Ok();
}

Status LearnPackChecker::Version(const json& j, const std::string& path, VersionRules* out) const {
  SQLX_RETURN_IF_ERROR(Keys(j, path, {"strip_prefixes", "flavors", "default_flavor"}));
  SQLX_RETURN_IF_ERROR(Strings(j, "strip_prefixes", path, &out->strip_prefixes));
  SQLX_ASSIGN_OR_RETURN(out->default_flavor, String(j, "default_flavor", path));
  if (!j.contains("flavors") || !j["flavors"].is_array())
    return Fail(path + "/flavors", "missing or not an array of {marker, flavor}");
  for (size_t i = 0; i < j["flavors"].size(); ++i) {
    const std::string p = path + "/flavors/" + std::to_string(i);
    const json& f = j["flavors"][i];
    SQLX_RETURN_IF_ERROR(Keys(f, p, {"marker", "flavor"}));
    SQLX_ASSIGN_OR_RETURN(std::string marker, String(f, "marker", p));
    SQLX_ASSIGN_OR_RETURN(std::string flavor, String(f, "flavor", p));
    out->flavor_markers.emplace_back(std::move(marker), std::move(flavor));
  }
  return Status::Ok();
}

Status LearnPackChecker::Variables(const json& j, const std::string& path, LearnPack* pack) const {
  SQLX_RETURN_IF_ERROR(Keys(j, path, {"query", "read"}));
  SQLX_ASSIGN_OR_RETURN(pack->variables_query, String(j, "query", path));
  if (pack->variables_query.find("{names}") == std::string::npos)
    return Fail(path + "/query", "must contain {names}");
  if (!j.contains("read") || !j["read"].is_array()) return Fail(path + "/read", "missing or not an array");
  for (size_t i = 0; i < j["read"].size(); ++i) {
    const std::string p = path + "/read/" + std::to_string(i);
    const json& r = j["read"][i];
    SQLX_RETURN_IF_ERROR(Keys(r, p, {"name", "variables", "type"}));
    VariableRead read;
    SQLX_ASSIGN_OR_RETURN(read.name, String(r, "name", p));
    if (r.contains("variables")) {
      SQLX_RETURN_IF_ERROR(Strings(r, "variables", p, &read.variables));
      if (read.variables.empty()) return Fail(p + "/variables", "names no variable");
    } else {
      read.variables.push_back(read.name);
    }
    SQLX_ASSIGN_OR_RETURN(std::string type, String(r, "type", p));
    if (type == "number") read.type = VariableType::kNumber;
    else if (type == "string") read.type = VariableType::kString;
    else if (type == "bool") read.type = VariableType::kBool;
    else return Fail(p + "/type", "unknown type '" + type + "' (number, string, bool)");
    pack->variables.push_back(std::move(read));
  }
  return Status::Ok();
}

Status LearnPackChecker::Rule(const json& r, const std::string& p, bool needs_value, LearnRule* out) const {
  if (needs_value) {
    SQLX_RETURN_IF_ERROR(Keys(r, p, {"flavor", "min_version", "max_version", "variable", "in", "value"}));
  } else {
    SQLX_RETURN_IF_ERROR(Keys(r, p, {"flavor", "min_version", "max_version"}));
  }
  LearnRule rule;
  if (r.contains("flavor")) {
    SQLX_ASSIGN_OR_RETURN(rule.flavor, String(r, "flavor", p));
  }
  for (const char* bound : {"min_version", "max_version"}) {
    if (!r.contains(bound)) continue;
    if (!r[bound].is_number_unsigned() || r[bound].get<uint64_t>() > UINT32_MAX)
      return Fail(p + "/" + bound, "expected a version number (10.3.2 is 100302)");
    uint32_t& field = std::string_view(bound) == "min_version" ? rule.min_version : rule.max_version;
    field = static_cast<uint32_t>(r[bound].get<uint64_t>());
  }
  if (r.contains("variable") != r.contains("in"))
    return Fail(p, "\"variable\" and \"in\" go together");
  if (r.contains("variable")) {
    SQLX_ASSIGN_OR_RETURN(rule.variable, String(r, "variable", p));
    SQLX_RETURN_IF_ERROR(Strings(r, "in", p, &rule.variable_in));
  }
  if (needs_value) {
    if (!r.contains("value") || r["value"].is_structured()) return Fail(p + "/value", "missing or not a scalar");
    rule.value = r["value"].dump();
  }
  *out = std::move(rule);
  return Status::Ok();
}

Status LearnPackChecker::Rules(const json& j, const std::string& path, std::vector<LearnRule>* out) const {
  if (!j.is_array()) return Fail(path, "expected an array of rules");
  for (size_t i = 0; i < j.size(); ++i) {
    LearnRule rule;
    SQLX_RETURN_IF_ERROR(Rule(j[i], path + "/" + std::to_string(i), /*needs_value=*/true, &rule));
    out->push_back(std::move(rule));
  }
  return Status::Ok();
}

Status LearnPackChecker::Capability(const json& j, const std::string& path, CapabilityProbe* out) const {
  SQLX_RETURN_IF_ERROR(
      Keys(j, path, {"name", "kind", "sql", "cleanup", "yields", "on_error", "rules", "fallback", "default"}));
  SQLX_ASSIGN_OR_RETURN(out->name, String(j, "name", path));
  SQLX_ASSIGN_OR_RETURN(std::string kind, String(j, "kind", path));
  if (kind == "query") out->kind = ProbeKind::kQuery;
  else if (kind == "parse") out->kind = ProbeKind::kParse;
  else if (kind == "script") out->kind = ProbeKind::kScript;
  else if (kind == "infer") out->kind = ProbeKind::kInfer;
  else return Fail(path + "/kind", "unknown kind '" + kind + "' (query, parse, script, infer)");

  if (out->kind == ProbeKind::kInfer) {
    if (j.contains("sql")) return Fail(path + "/sql", "an infer entry runs no statement");
    if (!j.contains("rules")) return Fail(path + "/rules", "missing");
    SQLX_RETURN_IF_ERROR(Rules(j["rules"], path + "/rules", &out->rules));
  } else {
    if (j.contains("rules")) return Fail(path + "/rules", "only infer entries have rules (use \"fallback\")");
    if (out->kind == ProbeKind::kScript) {
      SQLX_RETURN_IF_ERROR(Strings(j, "sql", path, &out->statements));
      if (out->statements.empty()) return Fail(path + "/sql", "names no statement");
      if (j.contains("cleanup")) SQLX_RETURN_IF_ERROR(Strings(j, "cleanup", path, &out->cleanup));
    } else {
      SQLX_ASSIGN_OR_RETURN(std::string sql, String(j, "sql", path));
      // A parse probe is quoted into PREPARE with '' doubling only, which
      // holds under every sql_mode as long as there is no backslash.
      if (out->kind == ProbeKind::kParse && sql.find('\\') != std::string::npos)
        return Fail(path + "/sql", "a parse probe may not contain a backslash");
      out->statements.push_back(std::move(sql));
      if (j.contains("cleanup")) return Fail(path + "/cleanup", "only script entries have a cleanup");
    }
    if (j.contains("fallback")) SQLX_RETURN_IF_ERROR(Rules(j["fallback"], path + "/fallback", &out->rules));
  }
  if (j.contains("yields")) {
    if (j["yields"] != "true" && j["yields"] != "has_rows")
      return Fail(path + "/yields", "expected \"true\" or \"has_rows\"");
    out->yields_has_rows = j["yields"] == "has_rows";
  }
  if (j.contains("on_error")) {
    if (j["on_error"] != "false" && j["on_error"] != "unknown")
      return Fail(path + "/on_error", "expected \"false\" or \"unknown\"");
    out->error_is_unknown = j["on_error"] == "unknown";
  }
  if (j.contains("default")) {
    if (j["default"].is_structured()) return Fail(path + "/default", "expected a scalar");
    out->default_value = j["default"].dump();
  }
  return Status::Ok();
}

Status LearnPackChecker::Check(const json& root, LearnPack* pack) {
  SQLX_RETURN_IF_ERROR(Keys(root, "", {"name", "format_version", "version", "errors", "variables",
                                       "parse_probe", "capabilities", "security", "catalog"}));
  SQLX_ASSIGN_OR_RETURN(pack->name, String(root, "name", ""));
  if (!root.contains("format_version") || root["format_version"] != 1)
    return Fail("/format_version", "expected 1 (this build reads learn pack format 1)");

  SQLX_ASSIGN_OR_RETURN(const json* version, Object(root, "version", ""));
  SQLX_RETURN_IF_ERROR(Version(*version, "/version", &pack->version));

  SQLX_ASSIGN_OR_RETURN(const json* errors, Object(root, "errors", ""));
  SQLX_RETURN_IF_ERROR(Keys(*errors, "/errors", {"privilege", "syntax", "parsed"}));
  SQLX_RETURN_IF_ERROR(Ints(*errors, "privilege", "/errors", &pack->errors.privilege));
  SQLX_RETURN_IF_ERROR(Ints(*errors, "syntax", "/errors", &pack->errors.syntax));
  SQLX_RETURN_IF_ERROR(Ints(*errors, "parsed", "/errors", &pack->errors.parsed));

  SQLX_ASSIGN_OR_RETURN(const json* variables, Object(root, "variables", ""));
  SQLX_RETURN_IF_ERROR(Variables(*variables, "/variables", pack));

  SQLX_ASSIGN_OR_RETURN(const json* parse, Object(root, "parse_probe", ""));
  SQLX_RETURN_IF_ERROR(Keys(*parse, "/parse_probe", {"prepare", "deallocate"}));
  SQLX_ASSIGN_OR_RETURN(pack->prepare, String(*parse, "prepare", "/parse_probe"));
  if (pack->prepare.find("{statement}") == std::string::npos)
    return Fail("/parse_probe/prepare", "must contain {statement}");
  SQLX_ASSIGN_OR_RETURN(pack->deallocate, String(*parse, "deallocate", "/parse_probe"));

  if (!root.contains("capabilities") || !root["capabilities"].is_array())
    return Fail("/capabilities", "missing or not an array");
  const json& caps = root["capabilities"];
  for (size_t i = 0; i < caps.size(); ++i) {
    const std::string p = "/capabilities/" + std::to_string(i);
    if (caps[i].is_object() && caps[i].size() == 1 && caps[i].contains("#")) continue;  // comment line
    CapabilityProbe probe;
    SQLX_RETURN_IF_ERROR(Capability(caps[i], p, &probe));
    for (const auto& other : pack->capabilities)
      if (other.name == probe.name) return Fail(p + "/name", "duplicate capability '" + probe.name + "'");
    for (const auto& v : pack->variables)
      if (v.name == probe.name) return Fail(p + "/name", "'" + probe.name + "' is also a variable read");
    pack->capabilities.push_back(std::move(probe));
  }

  SQLX_ASSIGN_OR_RETURN(const json* security, Object(root, "security", ""));
  SQLX_RETURN_IF_ERROR(Keys(*security, "/security", {"auth_plugins", "grants", "redact_quoted_after"}));
  SQLX_ASSIGN_OR_RETURN(pack->auth_plugins_query, String(*security, "auth_plugins", "/security"));
  SQLX_ASSIGN_OR_RETURN(pack->grants_query, String(*security, "grants", "/security"));
  SQLX_RETURN_IF_ERROR(Strings(*security, "redact_quoted_after", "/security", &pack->redact_quoted_after));

  SQLX_ASSIGN_OR_RETURN(const json* catalog, Object(root, "catalog", ""));
  return Catalog(*catalog, "/catalog", &pack->catalog);
}

Result<LearnPack> LearnPack::Parse(const std::string& json_text, const std::string& file_label) {
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    return MakeError(ErrorCode::kPack, "learn pack " + file_label + " is not valid JSON (byte " +
                                           std::to_string(e.byte) + "): " + e.what());
  } catch (const json::exception& e) {  // out_of_range, e.g. 1e999
    return MakeError(ErrorCode::kPack, "learn pack " + file_label + " is not valid JSON: " + e.what());
  }
  LearnPack pack;
  pack.file = file_label;
  LearnPackChecker checker(file_label);
  try {
    SQLX_RETURN_IF_ERROR(checker.Check(root, &pack));
  } catch (const json::exception& e) {
    return MakeError(ErrorCode::kPack, "learn pack " + file_label + ": " + e.what());
  }
  return pack;
}

Result<LearnPack> LearnPack::Load(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kNotFound, "cannot read learn pack " + file);
  std::stringstream ss;
  ss << in.rdbuf();
  return Parse(ss.str(), file);
}

std::vector<transports::PackDir> LearnPackSearchDirs(const std::string& dir) {
  transports::PackSearch search;
  search.explicit_dir = dir;
  search.env_var = "SQLX_LEARN_PACK_DIR";
#ifdef SQLX_INSTALL_LEARN_PACK_DIR
  search.install_dir = SQLX_INSTALL_LEARN_PACK_DIR;
#endif
#ifdef SQLX_SOURCE_LEARN_PACK_DIR
  search.source_dir = SQLX_SOURCE_LEARN_PACK_DIR;
#endif
  return transports::PackSearchDirs(search);
}

Result<LearnPack> LocateLearnPack(const std::string& name, const std::string& dir) {
  const std::string file_name = name + ".learn.json";
  std::vector<transports::PackDir> dirs = LearnPackSearchDirs(dir);
  for (const transports::PackDir& d : dirs) {
    if (transports::IsRegularFile(d.path + "/" + file_name)) return LearnPack::Load(d.path + "/" + file_name);
    if (d.chosen) {
      return MakeError(ErrorCode::kNotFound, "no " + file_name + " in learn pack directory " + d.path +
                                                 " (given by the learn pack dir option or SQLX_LEARN_PACK_DIR)");
    }
  }
  std::string tried;
  for (const auto& d : dirs) tried += (tried.empty() ? "" : ", ") + d.path;
  return MakeError(ErrorCode::kNotFound,
                   "no learn pack " + file_name + " found (looked in: " + tried + "); set SQLX_LEARN_PACK_DIR");
}

ServerVersion ParseServerVersion(const VersionRules& rules, std::string_view server_version) {
  ServerVersion out;
  out.flavor = rules.default_flavor;
  for (const auto& [marker, flavor] : rules.flavor_markers) {
    if (server_version.find(marker) != std::string_view::npos) {
      out.flavor = flavor;
      break;
    }
  }
  std::string_view s = server_version;
  for (const auto& prefix : rules.strip_prefixes) {
    // Only a prefix followed by another version: "5.5.5" alone is a version.
    if (s.size() > prefix.size() && s.substr(0, prefix.size()) == prefix &&
        std::isdigit(static_cast<unsigned char>(s[prefix.size()]))) {
      s.remove_prefix(prefix.size());
      break;
    }
  }
  // Up to three dot-separated numbers at the start.
  uint64_t parts[3] = {0, 0, 0};
  size_t count = 0;
  size_t pos = 0;
  bool overflow = false;
  while (count < 3 && pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
    size_t start = pos;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (pos - start >= 6) overflow = true;
      else parts[count] = parts[count] * 10 + static_cast<uint64_t>(s[pos] - '0');
      ++pos;
    }
    ++count;
    if (count < 3 && pos + 1 < s.size() && s[pos] == '.' && std::isdigit(static_cast<unsigned char>(s[pos + 1])))
      ++pos;
    else
      break;
  }
  if (count == 0) return out;
  out.version = std::string(s.substr(0, pos));
  // major*10000 + minor*100 + patch only holds two-digit minor and patch.
  if (!overflow && parts[1] < 100 && parts[2] < 100 && parts[0] < 400000)
    out.version_number = static_cast<uint32_t>(parts[0] * 10000 + parts[1] * 100 + parts[2]);
  return out;
}

bool RuleMatchesServer(const LearnRule& rule, const std::string& flavor, uint32_t version_number,
                       std::string* description) {
  std::string parts;
  auto add = [&](const std::string& part) { parts += (parts.empty() ? "" : ", ") + part; };
  if (!rule.flavor.empty()) {
    if (flavor != rule.flavor) return false;
    add("flavor " + rule.flavor);
  }
  if (rule.min_version != 0) {
    if (version_number == 0 || version_number < rule.min_version) return false;
    add("version >= " + FormatVersionNumber(rule.min_version));
  }
  if (rule.max_version != 0) {
    if (version_number == 0 || version_number >= rule.max_version) return false;
    add("version < " + FormatVersionNumber(rule.max_version));
  }
  *description = parts.empty() ? "always" : parts;
  return true;
}

const CatalogQuery& CatalogPack::Find(std::string_view name, const std::string& flavor,
                                      uint32_t version_number) const {
  const CatalogQuery* last = nullptr;
  for (const CatalogQuery& q : queries) {
    if (q.name != name) continue;
    std::string ignored;
    if (RuleMatchesServer(q.when, flavor, version_number, &ignored)) return q;
    last = &q;
  }
  // The checker guarantees an unconditional entry per name; should a caller
  // pass an unknown name, the last entry (or an unsupported stub) answers.
  static const CatalogQuery kMissing{"", {}, "", "no query in the learn pack"};
  return last != nullptr ? *last : kMissing;
}

std::string FormatVersionNumber(uint32_t number) {
  return std::to_string(number / 10000) + "." + std::to_string(number / 100 % 100) + "." +
         std::to_string(number % 100);
}

}  // namespace sqlx::flo
