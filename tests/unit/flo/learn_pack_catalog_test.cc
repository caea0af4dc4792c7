// The learn pack's catalog section: the shipped pack holds a query for every
// name and picks the right variant per server; malformed sections are errors
// naming the file and JSON pointer.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "learn_pack.h"
#include "learn_pack_fixture.h"
#include "test_env.h"

namespace sqlx::flo {
namespace {

using nlohmann::json;
using testing::MinimalPack;

constexpr const char* kLabel = "test.learn.json";

LearnPack ShippedPack() {
  auto pack = LocateLearnPack("mysql", sqlx::testing::SourceDir() + "/flo/packs");
  EXPECT_TRUE(pack.ok()) << pack.error().message;
  return pack.ok() ? *pack : LearnPack{};
}

TEST(LearnPackCatalogTest, TheShippedPackAnswersEveryQueryForEveryServer) {
  LearnPack pack = ShippedPack();
  EXPECT_EQ(pack.catalog.system_schemas,
            (std::vector<std::string>{"information_schema", "mysql", "performance_schema", "sys"}));
  for (const char* name : kCatalogQueryNames) {
    for (const auto& [flavor, version] : {std::pair<std::string, uint32_t>{"MariaDB", 101119}, {"MariaDB", 100300},
                                          {"MySQL", 80036}, {"MySQL", 50744}, {"MySQL", 0}}) {
      const CatalogQuery& q = pack.catalog.Find(name, flavor, version);
      EXPECT_EQ(q.name, name) << flavor << " " << version;
      EXPECT_NE(q.sql.empty(), q.unsupported.empty()) << name << " " << flavor << " " << version;
    }
  }
}

TEST(LearnPackCatalogTest, TheFirstVariantThatHoldsForTheServerIsChosen) {
  LearnPack pack = ShippedPack();
  EXPECT_NE(pack.catalog.Find("statistics", "MariaDB", 101119).sql.find("IGNORED"), std::string::npos);
  EXPECT_EQ(pack.catalog.Find("statistics", "MariaDB", 100505).sql.find("IGNORED"), std::string::npos);
  EXPECT_NE(pack.catalog.Find("statistics", "MySQL", 80036).sql.find("IS_VISIBLE"), std::string::npos);
  // The table charset is read off its collation name, without a join (a join
  // of two catalog tables made the query five times slower).
  EXPECT_NE(pack.catalog.Find("tables", "MariaDB", 101119).sql.find("SUBSTRING_INDEX(t.TABLE_COLLATION"),
            std::string::npos);
  EXPECT_EQ(pack.catalog.Find("tables", "MariaDB", 101119).sql.find("JOIN"), std::string::npos);
  EXPECT_NE(pack.catalog.Find("checks", "MariaDB", 101119).sql.find("LEVEL"), std::string::npos);
  EXPECT_FALSE(pack.catalog.Find("checks", "MySQL", 50744).unsupported.empty());
  EXPECT_NE(pack.catalog.Find("views", "MariaDB", 101119).sql.find("ALGORITHM"), std::string::npos);
  // What information_schema rewrites is read as the server keeps it.
  EXPECT_EQ(pack.catalog.Find("view_sources", "MariaDB", 101119).sql, "SHOW CREATE VIEW {object}");
  EXPECT_NE(pack.catalog.Find("routine_sources", "MariaDB", 101119).sql.find("mysql.proc"), std::string::npos);
  EXPECT_FALSE(pack.catalog.Find("routine_sources", "MySQL", 80036).unsupported.empty());
  EXPECT_EQ(pack.catalog.multi_statement_capability, "CLIENT_MULTI_STATEMENTS");
  EXPECT_GT(pack.catalog.multi_statement_max, 1u);
}

TEST(LearnPackCatalogTest, TheMinimalCatalogLoads) {
  auto pack = LearnPack::Parse(MinimalPack().dump(), kLabel);
  ASSERT_TRUE(pack.ok()) << pack.error().message;
  const CatalogPack& c = pack->catalog;
  EXPECT_EQ(c.system_schemas, std::vector<std::string>{"mysql"});
  ASSERT_EQ(c.default_index_algorithms.size(), 1u);
  EXPECT_EQ(c.default_index_algorithms[0], (std::pair<std::string, std::string>{"InnoDB", "BTREE"}));
  ASSERT_EQ(c.column_default_is_expression.size(), 1u);
  EXPECT_EQ(c.column_default_is_expression[0].value, "true");
  EXPECT_EQ(c.column_default_is_expression_default, "false");
  EXPECT_EQ(c.queries.size(), std::size(kCatalogQueryNames) + 1);
  EXPECT_EQ(c.queries[0].when.min_version, 100600u);
  ASSERT_EQ(c.visibility.size(), 2u);
  EXPECT_EQ(c.visibility[1].any_of[0].table, "mysql.proc");
  EXPECT_EQ(c.Find("statistics", "MariaDB", 100600).sql, "SELECT IGNORED FROM s WHERE x IN ({schemas})");
  EXPECT_EQ(c.Find("statistics", "MariaDB", 100599).sql, "SELECT 1 FROM statistics WHERE x IN ({schemas})");
}

struct CatalogErrorCase {
  const char* name;
  std::function<void(json&)> mutate;  // on the "catalog" object
  const char* pointer;
  const char* message_part;
};

// Index of the first unconditional query entry named `name`.
size_t QueryIndex(const json& catalog, const std::string& name) {
  for (size_t i = 0; i < catalog["queries"].size(); ++i) {
    const json& q = catalog["queries"][i];
    if (q.value("name", "") == name && !q.contains("when")) return i;
  }
  return 0;
}

TEST(LearnPackCatalogTest, MalformedCatalogsNameTheFileAndPointer) {
  auto query = [](const char* name) {
    return [name](json& c) -> json& { return c["queries"][QueryIndex(c, name)]; };
  };
  const CatalogErrorCase cases[] = {
      {"unknown key", [](json& c) { c["querys"] = json::array(); }, "/catalog/querys", "unknown key"},
      {"unknown query name", [&](json& c) { query("tables")(c)["name"] = "tabels"; }, "/catalog/queries/6/name",
       "unknown catalog query 'tabels'"},
      {"per-schema query without {schemas}",
       [&](json& c) { query("columns")(c)["sql"] = "SELECT * FROM information_schema.COLUMNS"; },
       "/catalog/queries/7/sql", "must contain {schemas}"},
      {"server-wide query with {schemas}",
       [&](json& c) { query("privileges")(c)["sql"] = "SELECT 1 WHERE x IN ({schemas})"; },
       "/catalog/queries/4/sql", "once per server"},
      {"sql and unsupported", [&](json& c) { query("checks")(c)["unsupported"] = "no"; }, "/catalog/queries/11",
       "exactly one of"},
      {"neither sql nor unsupported", [&](json& c) { query("views")(c).erase("sql"); }, "/catalog/queries/12",
       "exactly one of"},
      {"a name without an unconditional entry",
       [&](json& c) { query("events")(c)["when"] = {{"flavor", "MySQL"}}; }, "/catalog/queries",
       "no entry without \"when\" for 'events'"},
      {"an entry after the unconditional one",
       [](json& c) { c["queries"].push_back({{"name", "events"}, {"sql", "SELECT 2 WHERE x IN ({schemas})"}}); },
       "/catalog/queries/21", "unreachable"},
      {"a per-object query without {object}",
       [&](json& c) { query("view_sources")(c)["sql"] = "SHOW CREATE VIEW v"; }, "/catalog/queries/19/sql",
       "must contain {object}"},
      {"{object} in a batched query",
       [&](json& c) { query("views")(c)["sql"] = "SELECT {object} WHERE x IN ({schemas})"; },
       "/catalog/queries/12/sql", "only for per-object queries"},
      {"multi_statement without max_statements",
       [](json& c) { c["multi_statement"] = {{"capability", "MULTI"}}; }, "/catalog/multi_statement/max_statements",
       "1..10000"},
      {"a condition reading a variable",
       [](json& c) { c["queries"][1]["when"]["variable"] = "v"; }, "/catalog/queries/1/when/variable", "unknown key"},
      {"a condition with a value", [](json& c) { c["queries"][1]["when"]["value"] = true; },
       "/catalog/queries/1/when/value", "unknown key"},
      {"an algorithm that is not a string", [](json& c) { c["default_index_algorithms"]["MEMORY"] = 1; },
       "/catalog/default_index_algorithms/MEMORY", "algorithm name"},
      {"a column default rule that is not a bool",
       [](json& c) { c["column_default_is_expression"]["rules"][0]["value"] = "yes"; },
       "/catalog/column_default_is_expression/rules/0/value", "true or false"},
      {"no column default default", [](json& c) { c["column_default_is_expression"].erase("default"); },
       "/catalog/column_default_is_expression/default", "missing"},
      {"unknown visibility objects", [](json& c) { c["visibility"][0]["objects"] = "tables"; },
       "/catalog/visibility/0/objects", "unknown objects 'tables'"},
      {"a visibility table without a schema", [](json& c) { c["visibility"][1]["any_of"][0]["table"] = "proc"; },
       "/catalog/visibility/1/any_of/0/table", "schema.table"},
      {"empty any_of", [](json& c) { c["visibility"][0]["any_of"] = json::array(); },
       "/catalog/visibility/0/any_of", "non-empty"},
      {"no system schemas", [](json& c) { c.erase("system_schemas"); }, "/catalog/system_schemas", "missing"},
      {"a create option with a space",
       [&](json& c) { query("partitions")(c)["only_with_create_option"] = "row_format=x partitioned"; },
       "/catalog/queries/17/only_with_create_option", "one CREATE_OPTIONS token"},
      {"a create option on a server-wide query",
       [&](json& c) { query("privileges")(c)["only_with_create_option"] = "partitioned"; },
       "/catalog/queries/4/only_with_create_option", "can be narrowed"},
  };
  for (const auto& c : cases) {
    json j = MinimalPack();
    c.mutate(j["catalog"]);
    auto pack = LearnPack::Parse(j.dump(), kLabel);
    ASSERT_FALSE(pack.ok()) << c.name;
    EXPECT_EQ(pack.error().code, ErrorCode::kPack) << c.name;
    const std::string expected = std::string("learn pack ") + kLabel + " at " + c.pointer;
    EXPECT_EQ(pack.error().message.rfind(expected, 0), 0u) << c.name << ": " << pack.error().message;
    EXPECT_NE(pack.error().message.find(c.message_part), std::string::npos) << c.name << ": " << pack.error().message;
  }
  json no_catalog = MinimalPack();
  no_catalog.erase("catalog");
  auto pack = LearnPack::Parse(no_catalog.dump(), kLabel);
  ASSERT_FALSE(pack.ok());
  EXPECT_NE(pack.error().message.find("at /catalog: missing"), std::string::npos) << pack.error().message;
}

}  // namespace
}  // namespace sqlx::flo
