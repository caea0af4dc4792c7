// The IR's canonical JSON and profile hash: round trips, canonical order,
// what the hash ignores, reader errors, and one golden document.
#include "sqlx/messages/ir.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <random>
#include <string>

#include "canonical_json.h"
#include "ir_sample.h"

namespace sqlx::ir {
namespace {

using testing::SampleDatabase;
using testing::TableNamed;

TEST(IrJsonTest, RoundTripsJsonThroughDatabaseUnchanged) {
  const std::string text = ToCanonicalJson(SampleDatabase());
  auto db = FromJson(text);
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ(ToCanonicalJson(*db), text);
  EXPECT_EQ(ProfileHash(*db), ProfileHash(SampleDatabase()));
}

TEST(IrJsonTest, AcceptsASnapshotFileWhoseProfileHashMatches) {
  const std::string body = ToCanonicalJson(SampleDatabase());
  const std::string snapshot = "{\"profile_hash\":\"" + ProfileHash(SampleDatabase()) + "\"," + body.substr(1);
  auto db = FromJson(snapshot);
  ASSERT_TRUE(db.ok()) << db.error().message;
  EXPECT_EQ(ToCanonicalJson(*db), body);
}

TEST(IrJsonTest, RejectsASnapshotFileWhoseProfileHashDoesNotMatch) {
  const std::string body = ToCanonicalJson(SampleDatabase());
  const std::string snapshot = "{\"profile_hash\":\"" + std::string(64, '0') + "\"," + body.substr(1);
  auto db = FromJson(snapshot);
  ASSERT_FALSE(db.ok());
  EXPECT_NE(db.error().message.find("/profile_hash"), std::string::npos) << db.error().message;
  EXPECT_NE(db.error().message.find("does not match"), std::string::npos) << db.error().message;
}

TEST(IrJsonTest, RoundTripsExtremesAndOddBytes) {
  Database d = SampleDatabase();
  TableNamed(d, "orders").stats = {UINT64_MAX, 0, 9007199254740993ull, 1};
  TableNamed(d, "orders").columns[0].position = UINT32_MAX;
  d.views[0].definition = std::string("a\0b\x7f\xe9\"\\\n\xe2\x80\xa8", 11);
  const std::string text = ToCanonicalJson(d);
  EXPECT_NE(text.find("\"rows_estimate\":18446744073709551615"), std::string::npos);
  auto back = FromJson(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->views[0].definition, d.views[0].definition);
  EXPECT_EQ(ToCanonicalJson(*back), text);
}

// Every object's keys strictly increase in byte order (RFC 8785 for ASCII).
void ExpectSortedKeys(const json::Value& v, const std::string& where) {
  for (size_t i = 1; i < v.keys.size(); ++i) EXPECT_LT(v.keys[i - 1], v.keys[i]) << where;
  for (size_t i = 0; i < v.items.size(); ++i)
    ExpectSortedKeys(v.items[i], where + "/" + (v.keys.empty() ? std::to_string(i) : v.keys[i]));
}

size_t WhitespaceOutsideStrings(const std::string& text) {
  size_t count = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (in_string && text[i] == '\\') ++i;
    else if (text[i] == '"') in_string = !in_string;
    else if (!in_string && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r')) ++count;
  }
  return count;
}

TEST(IrJsonTest, KeysAreSortedAndTextHasNoWhitespace) {
  for (bool for_hash : {false, true}) {
    const std::string text = ToCanonicalJson(SampleDatabase(), for_hash);
    auto root = json::ReadJson(text);
    ASSERT_TRUE(root.ok());
    ExpectSortedKeys(*root, "");
    EXPECT_EQ(WhitespaceOutsideStrings(text), 0u);
  }
}

TEST(IrJsonTest, AbsentOptionalsAreOmittedAndEmptyValuesKept) {
  Database d;
  d.tables.push_back(Table{});
  d.tables[0].columns.push_back(Column{});
  const std::string text = ToCanonicalJson(d);
  EXPECT_EQ(text.find("default_value"), std::string::npos);
  EXPECT_EQ(text.find("partitioning"), std::string::npos);
  EXPECT_NE(text.find("\"comment\":\"\""), std::string::npos);
  EXPECT_NE(text.find("\"views\":[]"), std::string::npos);
  d.tables[0].columns[0].default_value = "";
  EXPECT_NE(ToCanonicalJson(d).find("\"default_value\":\"\""), std::string::npos);
}

TEST(IrJsonTest, ForHashLeavesOutNameAndStats) {
  const std::string full = ToCanonicalJson(SampleDatabase(), false);
  const std::string hashed = ToCanonicalJson(SampleDatabase(), true);
  EXPECT_NE(full.find("\"name\":\"shop\""), std::string::npos);
  EXPECT_NE(full.find("\"stats\":"), std::string::npos);
  EXPECT_EQ(hashed.find("\"name\":\"shop\""), std::string::npos);
  EXPECT_EQ(hashed.find("\"stats\":"), std::string::npos);
}

TEST(IrCanonicalizeTest, ShuffledListsHashTheSame) {
  const Database base = SampleDatabase();
  const std::string expected = ProfileHash(base);
  std::mt19937 rng(7);
  for (int round = 0; round < 20; ++round) {
    Database d = base;
    auto shuffle = [&](auto& list) { std::shuffle(list.begin(), list.end(), rng); };
    shuffle(d.tables);
    for (Table& t : d.tables) {
      shuffle(t.columns);
      shuffle(t.indexes);
      shuffle(t.foreign_keys);
      shuffle(t.checks);
    }
    shuffle(d.views);
    shuffle(d.routines);
    shuffle(d.triggers);
    shuffle(d.events);
    shuffle(d.not_visible);
    EXPECT_EQ(ProfileHash(d), expected) << "round " << round;
    Canonicalize(&d);
    EXPECT_EQ(ToCanonicalJson(d), ToCanonicalJson(base)) << "round " << round;
    EXPECT_TRUE(IsCanonical(d)) << "round " << round;
  }
}

TEST(IrCanonicalizeTest, IsCanonicalSaysWhetherCanonicalizeWouldChangeAnything) {
  Database d = SampleDatabase();
  Canonicalize(&d);
  ASSERT_TRUE(IsCanonical(d));
  auto changed = [&](const std::function<void(Database&)>& edit) {
    Database x = d;
    edit(x);
    Database canonical = x;
    Canonicalize(&canonical);
    EXPECT_EQ(IsCanonical(x), ToCanonicalJson(canonical) == ToCanonicalJson(x));
    return IsCanonical(x);
  };
  EXPECT_FALSE(changed([](Database& x) { std::reverse(x.tables.begin(), x.tables.end()); }));
  EXPECT_FALSE(changed([](Database& x) { std::reverse(x.tables[0].columns.begin(), x.tables[0].columns.end()); }));
  EXPECT_FALSE(changed([](Database& x) { x.not_visible = {"b", "a"}; }));
  EXPECT_FALSE(changed([](Database& x) { x.not_visible = {"a", "a"}; }));
  EXPECT_FALSE(changed([](Database& x) { TableNamed(x, "orders").foreign_keys[0].referenced_schema = x.name; }));
  EXPECT_TRUE(changed([](Database& x) { x.not_visible = {"a", "b"}; }));
}

TEST(IrCanonicalizeTest, OrdersTriggersByTableTimingEventAndOrder) {
  Database d;
  auto trigger = [](std::string name, std::string table, std::string timing, std::string event, uint32_t order) {
    Trigger t;
    t.name = std::move(name);
    t.table = std::move(table);
    t.timing = std::move(timing);
    t.event = std::move(event);
    t.order = order;
    return t;
  };
  d.triggers = {trigger("z", "b", "BEFORE", "INSERT", 1), trigger("a6", "a", "AFTER", "DELETE", 1),
                trigger("a5", "a", "AFTER", "UPDATE", 1), trigger("a4", "a", "AFTER", "INSERT", 1),
                trigger("a3", "a", "BEFORE", "DELETE", 1), trigger("a2", "a", "BEFORE", "INSERT", 2),
                trigger("a1", "a", "BEFORE", "INSERT", 1)};
  Canonicalize(&d);
  std::string names;
  for (const Trigger& t : d.triggers) names += t.name + " ";
  EXPECT_EQ(names, "a1 a2 a3 a4 a5 a6 z ");
}

TEST(IrCanonicalizeTest, PrimaryComesFirstThenIndexesByNameAndPartsKeepTheirOrder) {
  Database d;
  Table t;
  t.indexes = {{"b", "INDEX", "", {{"y", {}, false, ""}, {"x", {}, false, ""}}, "", false},
               {"a", "UNIQUE", "", {}, "", false},
               {"PRIMARY", "PRIMARY", "", {}, "", false}};
  d.tables = {t};
  Canonicalize(&d);
  ASSERT_EQ(d.tables[0].indexes.size(), 3u);
  EXPECT_EQ(d.tables[0].indexes[0].name, "PRIMARY");
  EXPECT_EQ(d.tables[0].indexes[1].name, "a");
  EXPECT_EQ(d.tables[0].indexes[2].parts[0].column, "y");
}

TEST(IrCanonicalizeTest, RoutinesByKindThenNameAndNotVisibleDeduplicated) {
  Database d;
  d.routines = {{"a", "PROCEDURE"}, {"b", "FUNCTION"}, {"a", "FUNCTION"}};
  d.not_visible = {"x", "b", "x"};
  Canonicalize(&d);
  EXPECT_EQ(d.routines[0].kind + d.routines[0].name, "FUNCTIONa");
  EXPECT_EQ(d.routines[1].kind + d.routines[1].name, "FUNCTIONb");
  EXPECT_EQ(d.routines[2].kind + d.routines[2].name, "PROCEDUREa");
  EXPECT_EQ(d.not_visible, (std::vector<std::string>{"b", "x"}));
}

TEST(IrProfileHashTest, IsLowercaseHexSha256) {
  const std::string hash = ProfileHash(SampleDatabase());
  EXPECT_EQ(hash.size(), 64u);
  EXPECT_TRUE(std::all_of(hash.begin(), hash.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }));
}

TEST(IrProfileHashTest, DatabaseNameDoesNotChangeTheHash) {
  Database d = SampleDatabase();
  const std::string before = ProfileHash(d);
  d.name = "shop_copy";
  EXPECT_EQ(ProfileHash(d), before);
  d.name = "";
  EXPECT_EQ(ProfileHash(d), before);
}

TEST(IrProfileHashTest, ForeignKeyToTheDatabaseItselfIsNameIndependent) {
  Database a = SampleDatabase();
  Database b = SampleDatabase();
  b.name = "shop_copy";
  TableNamed(a, "orders").foreign_keys[0].referenced_schema = "shop";
  TableNamed(b, "orders").foreign_keys[0].referenced_schema = "shop_copy";
  EXPECT_EQ(ProfileHash(a), ProfileHash(SampleDatabase()));
  EXPECT_EQ(ProfileHash(b), ProfileHash(SampleDatabase()));
  TableNamed(b, "orders").foreign_keys[0].referenced_schema = "shop";  // another database now
  EXPECT_NE(ProfileHash(b), ProfileHash(SampleDatabase()));
}

TEST(IrProfileHashTest, StatsAndAutoIncrementDoNotChangeTheHash) {
  Database d = SampleDatabase();
  const std::string before = ProfileHash(d);
  for (Table& t : d.tables) t.stats = {t.stats.rows_estimate + 5, 1, 2, t.stats.auto_increment + 100};
  EXPECT_EQ(ProfileHash(d), before);
}

// Hand-written per RFC 8785; the hash of kGoldenHashed computed outside the
// code under test: printf '%s' '<kGoldenHashed>' | sha256sum.
constexpr const char* kGoldenFull =
    R"j({"charset":"utf8mb4","collation":"utf8mb4_uca1400_ai_ci","events":[],"name":"g","not_visible":[],)j"
    R"j("routines":[],"tables":[{"charset":"utf8mb4","checks":[],"collation":"utf8mb4_uca1400_ai_ci",)j"
    R"j("columns":[{"auto_increment":true,"charset":"","collation":"","column_type":"int(11)","comment":"",)j"
    R"j("generation_expression":"","generation_kind":"","invisible":false,"name":"id","nullable":false,)j"
    R"j("on_update":"","position":1},{"auto_increment":false,"charset":"utf8mb4",)j"
    R"j("collation":"utf8mb4_uca1400_ai_ci","column_type":"varchar(10)","comment":"","default_value":"'x'",)j"
    R"j("generation_expression":"","generation_kind":"","invisible":false,"name":"note","nullable":true,)j"
    R"j("on_update":"","position":2}],"comment":"café \"q\"\n","create_options":"","engine":"InnoDB",)j"
    R"j("foreign_keys":[],"indexes":[{"algorithm":"BTREE","comment":"","ignored":false,"kind":"PRIMARY",)j"
    R"j("name":"PRIMARY","parts":[{"column":"id","descending":false,"expression":""}],"position":1}],"name":"t",)j"
    R"j("row_format":"","stats":{"auto_increment":6,"data_length":16384,"index_length":0,"rows_estimate":5}}],)j"
    R"j("triggers":[],"views":[{"algorithm":"UNDEFINED","charset":"utf8mb4","check_option":"NONE",)j"
    R"j("collation":"utf8mb4_general_ci","definer":"root@localhost","definition":"select `t`.`id` AS `id` from `t`",)j"
    R"j("name":"v","security":"DEFINER"}]})j";

constexpr const char* kGoldenHashed =
    R"j({"charset":"utf8mb4","collation":"utf8mb4_uca1400_ai_ci","events":[],"not_visible":[],)j"
    R"j("routines":[],"tables":[{"charset":"utf8mb4","checks":[],"collation":"utf8mb4_uca1400_ai_ci",)j"
    R"j("columns":[{"auto_increment":true,"charset":"","collation":"","column_type":"int(11)","comment":"",)j"
    R"j("generation_expression":"","generation_kind":"","invisible":false,"name":"id","nullable":false,)j"
    R"j("on_update":"","position":1},{"auto_increment":false,"charset":"utf8mb4",)j"
    R"j("collation":"utf8mb4_uca1400_ai_ci","column_type":"varchar(10)","comment":"","default_value":"'x'",)j"
    R"j("generation_expression":"","generation_kind":"","invisible":false,"name":"note","nullable":true,)j"
    R"j("on_update":"","position":2}],"comment":"café \"q\"\n","create_options":"","engine":"InnoDB",)j"
    R"j("foreign_keys":[],"indexes":[{"algorithm":"BTREE","comment":"","ignored":false,"kind":"PRIMARY",)j"
    R"j("name":"PRIMARY","parts":[{"column":"id","descending":false,"expression":""}]}],"name":"t",)j"
    R"j("row_format":""}],)j"
    R"j("triggers":[],"views":[{"algorithm":"UNDEFINED","charset":"utf8mb4","check_option":"NONE",)j"
    R"j("collation":"utf8mb4_general_ci","definer":"root@localhost","definition":"select `t`.`id` AS `id` from `t`",)j"
    R"j("name":"v","security":"DEFINER"}]})j";

constexpr const char* kGoldenHash = "9127b3abd8399f82358421b1dfb3bbf87cb505995316e777066be608ef680ada";

Database GoldenDatabase() {
  Database d;
  d.name = "g";
  d.charset = "utf8mb4";
  d.collation = "utf8mb4_uca1400_ai_ci";
  Table t;
  t.name = "t";
  t.engine = "InnoDB";
  t.charset = "utf8mb4";
  t.collation = "utf8mb4_uca1400_ai_ci";
  t.comment = "café \"q\"\n";
  Column note = testing::MakeColumn("note", 2, "varchar(10)");
  note.charset = "utf8mb4";
  note.collation = "utf8mb4_uca1400_ai_ci";
  note.default_value = "'x'";
  Column id = testing::MakeColumn("id", 1, "int(11)");
  id.nullable = false;
  id.auto_increment = true;
  t.columns = {note, id};  // catalog order does not matter
  t.indexes = {{"PRIMARY", "PRIMARY", "BTREE", {{"id", std::nullopt, false, ""}}, "", false, 1}};
  t.stats = {5, 16384, 0, 6};
  d.tables = {t};
  d.views = {{"v", "select `t`.`id` AS `id` from `t`", "UNDEFINED", "DEFINER", "NONE", "root@localhost", "utf8mb4",
              "utf8mb4_general_ci"}};
  return d;
}

TEST(IrGoldenTest, SmallDatabaseHasExactJsonAndHash) {
  Database d = GoldenDatabase();
  Canonicalize(&d);
  EXPECT_EQ(ToCanonicalJson(d), kGoldenFull);
  EXPECT_EQ(ToCanonicalJson(d, true), kGoldenHashed);
  EXPECT_EQ(ProfileHash(GoldenDatabase()), kGoldenHash);
  auto parsed = FromJson(kGoldenFull);
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  EXPECT_EQ(ProfileHash(*parsed), kGoldenHash);
}

struct ErrorCase {
  const char* name;
  std::string json;
  std::string pointer;  // quoted in the message
  const char* says;
};

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

TEST(IrFromJsonTest, ErrorsNameTheJsonPointer) {
  const ErrorCase cases[] = {
      {"typo in a key", R"({"tables":[{"name":"t","colums":[]}]})", "/tables/0/colums", "unknown key"},
      {"unknown top key", R"({"version":1})", "/version", "unknown key"},
      {"key needing escapes", R"({"tables":[{"a/b~":1}]})", "/tables/0/a~1b~0", "unknown key"},
      {"string for number", R"({"tables":[{"columns":[{"position":"1"}]}]})", "/tables/0/columns/0/position",
       "expected an integer 0..4294967295, found a string"},
      {"uint32 overflow", R"({"tables":[{"columns":[{"position":4294967296}]}]})",
       "/tables/0/columns/0/position", "found 4294967296"},
      {"negative", R"({"triggers":[{"order":-1}]})", "/triggers/0/order", "found -1"},
      {"fraction", R"({"triggers":[{"order":1.0}]})", "/triggers/0/order", "found 1.0"},
      {"exponent", R"({"triggers":[{"order":1e2}]})", "/triggers/0/order", "found 1e2"},
      {"uint64 overflow", R"({"tables":[{"stats":{"data_length":18446744073709551616}}]})",
       "/tables/0/stats/data_length", "expected an integer 0..18446744073709551615"},
      {"null", R"({"charset":null})", "/charset", "omit the key"},
      {"null optional", R"({"tables":[{"columns":[{"default_value":null}]}]})",
       "/tables/0/columns/0/default_value", "omit the key"},
      {"number for bool", R"({"tables":[{"columns":[{"nullable":1}]}]})", "/tables/0/columns/0/nullable",
       "expected true or false"},
      {"object for list", R"({"tables":{}})", "/tables", "expected an array, found an object"},
      {"deep element", R"({"tables":[{"partitioning":{"partitions":[{"subpartitions":["a",2]}]}}]})",
       "/tables/0/partitioning/partitions/0/subpartitions/1", "expected a string"},
      {"not an object", "[]", "", "expected an object, found an array"},
      {"duplicate key", R"({"views":[{"name":"a","name":"b"}]})", "/views/0/name", "duplicate key"},
      {"trailing comma", R"({"views":[{"name":"v",}]})", "/views/0", "expected a key string"},
      {"unterminated", R"({"name":"a)", "/name", "unterminated string"},
      {"trailing text", R"({} x)", "", "unexpected text after the document"},
      {"raw control char", "{\"name\":\"a\nb\"}", "/name", "unescaped control character"},
      {"ill-formed UTF-8", "{\"name\":\"\xff\"}", "/name", "ill-formed UTF-8"},
      {"lone surrogate", R"({"name":"\ud800x"})", "/name", "surrogate"},
      {"empty input", "", "", "unexpected end of input"},
      {"too deep", std::string(100, '['), Repeat("/0", 65), "deeper than 64"},
  };
  for (const auto& c : cases) {
    auto r = FromJson(c.json);
    ASSERT_FALSE(r.ok()) << c.name;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument) << c.name;
    EXPECT_NE(r.error().message.find("\"" + c.pointer + "\""), std::string::npos)
        << c.name << ": " << r.error().message;
    EXPECT_NE(r.error().message.find(c.says), std::string::npos) << c.name << ": " << r.error().message;
  }
}

TEST(IrFromJsonTest, MissingKeysTakeTheirDefaultsAndWhitespaceIsAllowed) {
  auto r = FromJson("{ \"tables\" : [ { \"name\" : \"t\" } ] }\n");
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->tables.size(), 1u);
  EXPECT_EQ(r->tables[0].name, "t");
  EXPECT_TRUE(r->tables[0].columns.empty());
  EXPECT_FALSE(r->tables[0].partitioning.has_value());
}

}  // namespace
}  // namespace sqlx::ir
