// The smallest learn pack that loads, for the learn pack tests: each error
// case breaks one thing in it.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "learn_pack.h"

namespace sqlx::flo::testing {

// A catalog section with one unconditional query per name (and a
// conditional one for "statistics"), every per-schema query filtered by
// {schemas}.
inline nlohmann::json MinimalCatalog() {
  nlohmann::json queries = nlohmann::json::array();
  queries.push_back({{"#", "a comment line"}});
  queries.push_back({{"name", "statistics"},
                     {"when", {{"flavor", "MariaDB"}, {"min_version", 100600}}},
                     {"sql", "SELECT IGNORED FROM s WHERE x IN ({schemas})"}});
  for (const char* name : kCatalogQueryNames) {
    const std::string n = name;
    const bool server_wide = n == "databases" || n == "sql_mode" || n == "privileges";
    if (IsPerObjectQuery(n)) {
      queries.push_back({{"name", n}, {"sql", "SHOW CREATE VIEW {object}"}});
      continue;
    }
    queries.push_back({{"name", n}, {"sql", "SELECT 1 FROM " + n + (server_wide ? "" : " WHERE x IN ({schemas})")}});
  }
  return {{"system_schemas", {"mysql"}},
          {"default_index_algorithms", {{"InnoDB", "BTREE"}}},
          {"column_default_is_expression",
           {{"rules", {{{"flavor", "MariaDB"}, {"min_version", 100207}, {"value", true}}}}, {"default", false}}},
          {"queries", queries},
          {"visibility",
           {{{"objects", "triggers"}, {"any_of", {{{"privilege", "TRIGGER"}}}}, {"missing", "triggers: hidden"}},
            {{"objects", "routines"},
             {"any_of", {{{"privilege", "SELECT"}, {"table", "mysql.proc"}}}},
             {"missing", "routines: hidden"}}}}};
}

inline nlohmann::json MinimalPack() {
  nlohmann::json pack = nlohmann::json::parse(R"pack({
    "name": "t",
    "format_version": 1,
    "version": {"strip_prefixes": ["5.5.5-"], "flavors": [{"marker": "MariaDB", "flavor": "MariaDB"}],
                "default_flavor": "MySQL"},
    "errors": {"privilege": [1142], "syntax": [1064], "parsed": [1142]},
    "variables": {"query": "SHOW VARIABLES WHERE Variable_name IN ({names})",
                  "read": [{"name": "max_allowed_packet", "type": "number"}]},
    "parse_probe": {"prepare": "PREPARE p FROM {statement}", "deallocate": "DEALLOCATE PREPARE p"},
    "capabilities": [
      {"#": "a comment line"},
      {"name": "cte", "kind": "query", "sql": "WITH p AS (SELECT 1) SELECT 1 FROM p"},
      {"name": "seq", "kind": "parse", "sql": "CREATE SEQUENCE x.s",
       "fallback": [{"flavor": "MariaDB", "min_version": 100300, "value": true}], "default": false},
      {"name": "sp", "kind": "script", "sql": ["START TRANSACTION", "SAVEPOINT s"], "cleanup": ["ROLLBACK"]},
      {"name": "instant", "kind": "infer",
       "rules": [{"variable": "v", "in": ["on"], "value": true}], "default": false}
    ],
    "security": {"auth_plugins": "SELECT 1", "grants": "SHOW GRANTS", "redact_quoted_after": ["USING "]}
  })pack");
  pack["catalog"] = MinimalCatalog();
  return pack;
}

}  // namespace sqlx::flo::testing
