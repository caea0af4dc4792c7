// Checks a learn pack's "catalog" section: the batched information_schema
// queries that learn databases, the system schemas, index algorithm
// defaults, how column defaults read, and which privileges make which
// objects visible. Format: docs/formats/learn-pack.md.
#include <algorithm>
#include <iterator>
#include <string_view>

#include "learn_pack_checker.h"

namespace sqlx::flo {

namespace {

bool IsCatalogQueryName(std::string_view name) {
  return std::any_of(std::begin(kCatalogQueryNames), std::end(kCatalogQueryNames),
                     [&](const char* known) { return name == known; });
}

// Queries read once per server rather than per schema.
bool IsServerWide(std::string_view name) {
  return name == "databases" || name == "sql_mode" || name == "privileges";
}

bool IsCommentLine(const nlohmann::json& j) { return j.is_object() && j.size() == 1 && j.contains("#"); }

bool Unconditional(const LearnRule& when) {
  return when.flavor.empty() && when.min_version == 0 && when.max_version == 0;
}

}  // namespace

Status LearnPackChecker::Catalog(const json& j, const std::string& path, CatalogPack* out) const {
  SQLX_RETURN_IF_ERROR(Keys(j, path, {"system_schemas", "default_index_algorithms", "column_default_is_expression",
                                      "queries", "visibility", "multi_statement"}));
  if (j.contains("multi_statement")) {
    const std::string mp = path + "/multi_statement";
    SQLX_ASSIGN_OR_RETURN(const json* multi, Object(j, "multi_statement", path));
    SQLX_RETURN_IF_ERROR(Keys(*multi, mp, {"capability", "max_statements"}));
    SQLX_ASSIGN_OR_RETURN(out->multi_statement_capability, String(*multi, "capability", mp));
    if (!multi->contains("max_statements") || !(*multi)["max_statements"].is_number_unsigned() ||
        (*multi)["max_statements"].get<uint64_t>() < 1 || (*multi)["max_statements"].get<uint64_t>() > 10000)
      return Fail(mp + "/max_statements", "expected an integer 1..10000");
    out->multi_statement_max = (*multi)["max_statements"].get<uint32_t>();
  }
  SQLX_RETURN_IF_ERROR(Strings(j, "system_schemas", path, &out->system_schemas));

  SQLX_ASSIGN_OR_RETURN(const json* algorithms, Object(j, "default_index_algorithms", path));
  for (const auto& [engine, algorithm] : algorithms->items()) {
    if (IsPackComment(engine)) continue;
    if (!algorithm.is_string() || algorithm.get<std::string>().empty())
      return Fail(path + "/default_index_algorithms/" + engine, "expected an algorithm name (\"BTREE\")");
    out->default_index_algorithms.emplace_back(engine, algorithm.get<std::string>());
  }

  const std::string defaults_path = path + "/column_default_is_expression";
  SQLX_ASSIGN_OR_RETURN(const json* defaults, Object(j, "column_default_is_expression", path));
  SQLX_RETURN_IF_ERROR(Keys(*defaults, defaults_path, {"rules", "default"}));
  if (!defaults->contains("rules")) return Fail(defaults_path + "/rules", "missing");
  SQLX_RETURN_IF_ERROR(Rules((*defaults)["rules"], defaults_path + "/rules", &out->column_default_is_expression));
  for (size_t i = 0; i < out->column_default_is_expression.size(); ++i) {
    const LearnRule& rule = out->column_default_is_expression[i];
    if (!rule.variable.empty())
      return Fail(defaults_path + "/rules/" + std::to_string(i), "catalog rules may not read variables");
    if (rule.value != "true" && rule.value != "false")
      return Fail(defaults_path + "/rules/" + std::to_string(i) + "/value", "expected true or false");
  }
  if (!defaults->contains("default") || !(*defaults)["default"].is_boolean())
    return Fail(defaults_path + "/default", "missing or not true / false");
  out->column_default_is_expression_default = (*defaults)["default"].dump();

  SQLX_RETURN_IF_ERROR(CatalogQueries(j, path, out));
  return Visibility(j, path, out);
}

Status LearnPackChecker::CatalogQueries(const json& j, const std::string& path, CatalogPack* out) const {
  const std::string queries_path = path + "/queries";
  if (!j.contains("queries") || !j["queries"].is_array()) return Fail(queries_path, "missing or not an array");
  const json& queries = j["queries"];
  std::vector<std::string> closed;  // names whose unconditional entry has been seen
  for (size_t i = 0; i < queries.size(); ++i) {
    const std::string p = queries_path + "/" + std::to_string(i);
    const json& q = queries[i];
    if (IsCommentLine(q)) continue;
    SQLX_RETURN_IF_ERROR(Keys(q, p, {"name", "when", "sql", "unsupported", "only_with_create_option"}));
    CatalogQuery query;
    SQLX_ASSIGN_OR_RETURN(query.name, String(q, "name", p));
    if (!IsCatalogQueryName(query.name)) {
      std::string known;
      for (const char* n : kCatalogQueryNames) known += (known.empty() ? "" : ", ") + std::string(n);
      return Fail(p + "/name", "unknown catalog query '" + query.name + "' (" + known + ")");
    }
    if (std::find(closed.begin(), closed.end(), query.name) != closed.end())
      return Fail(p, "unreachable: an earlier '" + query.name + "' entry has no \"when\"");
    if (q.contains("when")) SQLX_RETURN_IF_ERROR(Rule(q["when"], p + "/when", /*needs_value=*/false, &query.when));
    if (q.contains("sql") == q.contains("unsupported"))
      return Fail(p, "give exactly one of \"sql\" and \"unsupported\"");
    if (q.contains("sql")) {
      SQLX_ASSIGN_OR_RETURN(query.sql, String(q, "sql", p));
      const bool has_placeholder = query.sql.find("{schemas}") != std::string::npos;
      const bool has_object = query.sql.find("{object}") != std::string::npos;
      if (IsPerObjectQuery(query.name) != has_object)
        return Fail(p + "/sql", IsPerObjectQuery(query.name)
                                    ? "'" + query.name + "' runs once per object: it must contain {object}"
                                    : "{object} is only for per-object queries (view_sources, trigger_sources)");
      if (IsPerObjectQuery(query.name) && has_placeholder)
        return Fail(p + "/sql", "'" + query.name + "' runs once per object: no {schemas}");
      if (!IsServerWide(query.name) && !IsPerObjectQuery(query.name) && !has_placeholder)
        return Fail(p + "/sql", "must contain {schemas} (a query per schema would not batch)");
      if (IsServerWide(query.name) && has_placeholder)
        return Fail(p + "/sql", "'" + query.name + "' is read once per server: no {schemas}");
    } else {
      SQLX_ASSIGN_OR_RETURN(query.unsupported, String(q, "unsupported", p));
    }
    if (q.contains("only_with_create_option")) {
      SQLX_ASSIGN_OR_RETURN(query.only_with_create_option, String(q, "only_with_create_option", p));
      if (query.only_with_create_option.empty() || query.only_with_create_option.find(' ') != std::string::npos)
        return Fail(p + "/only_with_create_option", "must be one CREATE_OPTIONS token (no spaces)");
      if (query.sql.empty() || IsServerWide(query.name))
        return Fail(p + "/only_with_create_option", "only a query with \"sql\" and {schemas} can be narrowed");
    }
    if (Unconditional(query.when)) closed.push_back(query.name);
    out->queries.push_back(std::move(query));
  }
  for (const char* name : kCatalogQueryNames) {
    if (std::find(closed.begin(), closed.end(), name) == closed.end())
      return Fail(queries_path, "no entry without \"when\" for '" + std::string(name) + "' (every server needs one)");
  }
  return Status::Ok();
}

Status LearnPackChecker::Visibility(const json& j, const std::string& path, CatalogPack* out) const {
  const std::string vis_path = path + "/visibility";
  if (!j.contains("visibility") || !j["visibility"].is_array()) return Fail(vis_path, "missing or not an array");
  for (size_t i = 0; i < j["visibility"].size(); ++i) {
    const std::string p = vis_path + "/" + std::to_string(i);
    const json& v = j["visibility"][i];
    if (IsCommentLine(v)) continue;
    SQLX_RETURN_IF_ERROR(Keys(v, p, {"objects", "any_of", "missing"}));
    VisibilityRule rule;
    SQLX_ASSIGN_OR_RETURN(rule.objects, String(v, "objects", p));
    if (rule.objects != "triggers" && rule.objects != "events" && rule.objects != "routines")
      return Fail(p + "/objects", "unknown objects '" + rule.objects + "' (triggers, events, routines)");
    SQLX_ASSIGN_OR_RETURN(rule.missing, String(v, "missing", p));
    if (!v.contains("any_of") || !v["any_of"].is_array() || v["any_of"].empty())
      return Fail(p + "/any_of", "missing or not a non-empty array of {privilege, table?}");
    for (size_t k = 0; k < v["any_of"].size(); ++k) {
      const std::string np = p + "/any_of/" + std::to_string(k);
      const json& n = v["any_of"][k];
      SQLX_RETURN_IF_ERROR(Keys(n, np, {"privilege", "table"}));
      PrivilegeNeed need;
      SQLX_ASSIGN_OR_RETURN(need.privilege, String(n, "privilege", np));
      if (n.contains("table")) {
        SQLX_ASSIGN_OR_RETURN(need.table, String(n, "table", np));
        if (need.table.find('.') == std::string::npos) return Fail(np + "/table", "expected schema.table");
      }
      rule.any_of.push_back(std::move(need));
    }
    out->visibility.push_back(std::move(rule));
  }
  return Status::Ok();
}

}  // namespace sqlx::flo
