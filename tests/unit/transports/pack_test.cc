// WirePack loading: every compile error names the file and the JSON pointer
// at fault; comments are ignored; the shipped MySQL pack loads whole.
#include "pack.h"

#include <gtest/gtest.h>

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace sqlx::transports {
namespace {

using nlohmann::json;

constexpr const char* kLabel = "test.wire.json";

// The smallest pack that loads; each error case breaks one thing in it.
json MinimalPack() {
  return json::parse(R"({
    "name": "t",
    "format_version": 1,
    "framing": {"header": [{"name": "length", "width": 3}, {"name": "sequence", "width": 1}],
                "length": "length", "sequence": "sequence", "max_payload": 16777215},
    "encodings": {"e": {"kind": "prefix_varint", "direct_max": 250, "null": 251,
                        "markers": {"252": 2, "254": 8}}},
    "flags": {"caps": {"A": 1, "B": 2}},
    "constants": {"K": 7},
    "defaults": {"d": 1, "s": "x"},
    "layouts": {"l": [{"name": "a", "type": "u8"}],
                "row": [{"name": "cell", "type": "varbytes", "encoding": "e", "nullable": true,
                         "repeat": "n"}]},
    "tables": {"plugins": {"p1": {"initial": [{"set": {"x": "1"}}]}}},
    "procedures": {"p": [{"send": "l"}]}
  })");
}

Result<std::shared_ptr<const WirePack>> ParseJson(const json& j) {
  return WirePack::Parse(j.dump(), kLabel);
}

TEST(WirePackTest, TheMinimalPackLoads) {
  auto pack = ParseJson(MinimalPack());
  ASSERT_TRUE(pack.ok()) << pack.error().message;
  EXPECT_EQ((*pack)->name(), "t");
  EXPECT_EQ((*pack)->file(), kLabel);
  EXPECT_NE((*pack)->procedure("p"), nullptr);
  EXPECT_EQ((*pack)->procedure("nope"), nullptr);
  EXPECT_EQ((*pack)->framing().header_size, 4u);
  EXPECT_EQ((*pack)->constants().at("K"), 7u);
  EXPECT_EQ((*pack)->constants().at("B"), 2u);  // flags are constants too
}

struct PackErrorCase {
  const char* name;
  std::function<void(json&)> mutate;
  const char* pointer;       // expected after "wire pack test.wire.json at "
  const char* message_part;  // expected after the pointer
};

std::vector<PackErrorCase> PackErrorCases() {
  return {
      // Top level.
      {"missing name", [](json& j) { j.erase("name"); }, "/name", "missing"},
      {"name not a string", [](json& j) { j["name"] = 5; }, "/name", "missing"},
      {"wrong format_version", [](json& j) { j["format_version"] = 2; }, "/format_version",
       "this build reads format_version 1"},
      {"missing format_version", [](json& j) { j.erase("format_version"); }, "/format_version",
       "format_version 1"},
      // Found by fuzz_pack: reading a float this large as an int is undefined.
      {"format_version far out of range", [](json& j) { j["format_version"] = 1e199; }, "/format_version",
       "format_version 1"},
      {"format_version a float", [](json& j) { j["format_version"] = 1.0; }, "/format_version", "format_version 1"},
      {"bad byte_order", [](json& j) { j["byte_order"] = "middle"; }, "/byte_order", "little or big"},
      {"top level is an array", [](json& j) { j = json::array(); }, "/", "a pack is a JSON object"},
      {"flag value not a number", [](json& j) { j["flags"]["caps"]["A"] = "one"; }, "/flags/caps/A",
       "a flag value is an unsigned number"},
      {"negative constant", [](json& j) { j["constants"]["K"] = -1; }, "/constants/K",
       "a constant is an unsigned number"},
      {"default of the wrong type", [](json& j) { j["defaults"]["d"] = true; }, "/defaults/d",
       "a default is an unsigned number or a string"},
      {"missing procedures", [](json& j) { j.erase("procedures"); }, "/procedures", "missing"},
      // Framing.
      {"missing framing", [](json& j) { j.erase("framing"); }, "/framing", "missing"},
      {"max_payload too big for a 3-byte length",
       [](json& j) { j["framing"]["max_payload"] = 16777216; }, "/framing/max_payload",
       "does not fit the length field"},
      {"max_payload too big for a 1-byte length",
       [](json& j) {
         j["framing"]["header"][0]["width"] = 1;
         j["framing"]["max_payload"] = 256;
       },
       "/framing/max_payload", "does not fit the length field"},
      {"max_payload not a number", [](json& j) { j["framing"]["max_payload"] = "big"; },
       "/framing/max_payload", "must be an unsigned number"},
      {"header width 9", [](json& j) { j["framing"]["header"][1]["width"] = 9; }, "/framing/header/1",
       "a width of 1..8 bytes"},
      {"empty header", [](json& j) { j["framing"]["header"] = json::array(); }, "/framing/header",
       "non-empty array"},
      {"length names no header field", [](json& j) { j["framing"]["length"] = "len"; },
       "/framing/length", "names no header field: 'len'"},
      {"sequence names no header field", [](json& j) { j["framing"]["sequence"] = "seq"; },
       "/framing/sequence", "names no header field: 'seq'"},
      // Encodings.
      {"marker not above direct_max", [](json& j) { j["encodings"]["e"]["markers"]["250"] = 2; },
       "/encodings/e/markers/250", "a marker is a byte above direct_max"},
      {"marker above 255", [](json& j) { j["encodings"]["e"]["markers"]["256"] = 2; },
       "/encodings/e/markers/256", "a marker is a byte above direct_max"},
      {"marker width 9", [](json& j) { j["encodings"]["e"]["markers"]["252"] = 9; },
       "/encodings/e/markers/252", "a width of 1..8"},
      {"marker width 0", [](json& j) { j["encodings"]["e"]["markers"]["253"] = 0; },
       "/encodings/e/markers/253", "a width of 1..8"},
      {"no markers", [](json& j) { j["encodings"]["e"]["markers"] = json::object(); },
       "/encodings/e/markers", "needs at least one marker"},
      {"unknown encoding kind", [](json& j) { j["encodings"]["e"]["kind"] = "leb128"; },
       "/encodings/e/kind", "only \"prefix_varint\" is defined"},
      {"direct_max over 255", [](json& j) { j["encodings"]["e"]["direct_max"] = 300; },
       "/encodings/e/direct_max", "must be a number 0..255"},
      // Layouts.
      {"unknown field type", [](json& j) { j["layouts"]["l"][0]["type"] = "u7"; }, "/layouts/l/0/type",
       "unknown field type 'u7'"},
      {"field without a type", [](json& j) { j["layouts"]["l"][0].erase("type"); }, "/layouts/l/0",
       "a field is an object with a \"type\""},
      {"field without a name", [](json& j) { j["layouts"]["l"][0].erase("name"); }, "/layouts/l/0",
       "a u8 field needs a \"name\""},
      {"bytes field without len", [](json& j) { j["layouts"]["l"][0]["type"] = "bytes"; },
       "/layouts/l/0", "a bytes field needs \"len\""},
      {"varint with an unknown encoding",
       [](json& j) { j["layouts"]["l"][0] = {{"name", "a"}, {"type", "varint"}, {"encoding", "nope"}}; },
       "/layouts/l/0/encoding", "names no encoding: 'nope'"},
      {"let without a value", [](json& j) { j["layouts"]["l"][0]["type"] = "let"; }, "/layouts/l/0",
       "a let field needs a \"value\""},
      {"bad expression in a field's if", [](json& j) { j["layouts"]["l"][0]["if"] = "1 +"; },
       "/layouts/l/0/if", "expression \"1 +\" at column 4: unexpected end of expression"},
      {"bad expression in a field's len",
       [](json& j) { j["layouts"]["l"][0] = {{"name", "a"}, {"type", "bytes"}, {"len", "nolen(1)"}}; },
       "/layouts/l/0/len", "unknown function 'nolen'"},
      {"layout not an array", [](json& j) { j["layouts"]["l"] = json::object(); }, "/layouts/l",
       "a layout is an array of fields"},
      // Steps.
      {"unknown step kind", [](json& j) { j["procedures"]["p"][0] = {{"jump", "x"}}; }, "/procedures/p/0",
       "unknown step; expected one of send"},
      {"empty step", [](json& j) { j["procedures"]["p"][0] = json::object(); }, "/procedures/p/0",
       "a step is a non-empty object"},
      {"bad expression in /procedures/x/0/if",
       [](json& j) { j["procedures"]["x"] = json::parse(R"([{"if": "a ==", "then": []}])"); },
       "/procedures/x/0/if", "expression \"a ==\" at column 5: unexpected end of expression"},
      {"if without then", [](json& j) { j["procedures"]["x"] = json::parse(R"([{"if": "1"}])"); },
       "/procedures/x/0", "an if step needs \"then\""},
      {"while without do", [](json& j) { j["procedures"]["x"] = json::parse(R"([{"while": "1"}])"); },
       "/procedures/x/0", "a loop step needs \"do\""},
      {"bad expression in a set",
       [](json& j) { j["procedures"]["p"][0] = json::parse(R"({"set": {"v": "'open"}})"); },
       "/procedures/p/0/set/v", "unterminated string"},
      {"call to a missing procedure", [](json& j) { j["procedures"]["p"][0] = {{"call", "nope"}}; },
       "/procedures/p/0/call", "names no procedure: 'nope'"},
      {"call to a missing procedure in a nested block",
       [](json& j) {
         j["procedures"]["p"][0] = json::parse(R"({"if": "1", "then": [{"return": true}],
                                                   "else": [{"call": "nope"}]})");
       },
       "/procedures/p/0/else/0/call", "names no procedure: 'nope'"},
      {"call to a missing procedure in a table hook",
       [](json& j) { j["tables"]["plugins"]["p1"]["initial"][0] = {{"call", "nope"}}; },
       "/tables/plugins/p1/initial/0/call", "names no procedure: 'nope'"},
      {"call_named with a missing table",
       [](json& j) {
         j["procedures"]["p"][0] =
             json::parse(R"({"call_named": {"table": "nope", "entry": "'p1'", "hook": "initial"}})");
       },
       "/procedures/p/0/call_named", "names no table: 'nope'"},
      {"call_named without a hook",
       [](json& j) {
         j["procedures"]["p"][0] = json::parse(R"({"call_named": {"table": "plugins", "entry": "'p1'"}})");
       },
       "/procedures/p/0/call_named", "expected {table, entry, hook}"},
      {"send of a missing layout", [](json& j) { j["procedures"]["p"][0] = {{"send", "nope"}}; },
       "/procedures/p/0/send", "names no layout: 'nope'"},
      {"recv decoding a missing layout",
       [](json& j) { j["procedures"]["p"][0] = json::parse(R"({"recv": [{"decode": "nope"}]})"); },
       "/procedures/p/0/recv/0/decode", "names no layout: 'nope'"},
      {"recv without cases", [](json& j) { j["procedures"]["p"][0] = {{"recv", json::array()}}; },
       "/procedures/p/0/recv", "expected a non-empty array of cases"},
      {"bad when in a recv case",
       [](json& j) { j["procedures"]["p"][0] = json::parse(R"({"recv": [{"when": "x ="}]})"); },
       "/procedures/p/0/recv/0/when", "expression \"x =\""},
      {"rows over a layout with an integer field",
       [](json& j) {
         j["procedures"]["p"][0] = json::parse(R"({"rows": {"layout": "l", "end": [{"when": "1"}]}})");
       },
       "/layouts/l/0", "a row layout may hold only byte-string fields"},
      {"rows over a missing layout",
       [](json& j) {
         j["procedures"]["p"][0] = json::parse(R"({"rows": {"layout": "nope", "end": [{"when": "1"}]}})");
       },
       "/procedures/p/0/rows/layout", "names no layout: 'nope'"},
      {"fail with an unknown code",
       [](json& j) { j["procedures"]["p"][0] = json::parse(R"({"fail": {"code": "oops", "message": "'m'"}})"); },
       "/procedures/p/0/fail/code", "unknown error code 'oops'"},
      {"fail without a message",
       [](json& j) { j["procedures"]["p"][0] = json::parse(R"({"fail": {"code": "protocol"}})"); },
       "/procedures/p/0/fail", "needs a \"message\" unless server_error is true"},
      {"a procedure name with '/' and '~' is escaped in the pointer",
       [](json& j) { j["procedures"]["a/b~c"] = json::parse(R"([{"bogus": 1}])"); },
       "/procedures/a~1b~0c/0", "unknown step"},
      {"table entry not an object", [](json& j) { j["tables"]["plugins"]["p1"] = 3; },
       "/tables/plugins/p1", "an entry maps hook names to step arrays"},
  };
}

TEST(WirePackTest, ErrorsNameTheFileAndTheJsonPointer) {
  for (const PackErrorCase& c : PackErrorCases()) {
    json j = MinimalPack();
    c.mutate(j);
    auto pack = ParseJson(j);
    ASSERT_FALSE(pack.ok()) << c.name << " should not load";
    EXPECT_EQ(pack.error().code, ErrorCode::kPack) << c.name;
    const std::string want = std::string("wire pack ") + kLabel + " at " + c.pointer + ": ";
    const std::string& m = pack.error().message;
    EXPECT_EQ(m.rfind(want, 0), 0u) << c.name << "\n  want prefix: " << want << "\n  got: " << m;
    EXPECT_NE(m.find(c.message_part), std::string::npos) << c.name << ": " << m;
  }
}

// A value of the wrong JSON type deep inside a step: an error with the file
// label, never an escaped exception.
TEST(WirePackTest, WrongJsonTypesAreErrorsNotExceptions) {
  const std::vector<std::function<void(json&)>> mutations = {
      [](json& j) { j["procedures"]["p"][0] = {{"emit", 5}}; },
      [](json& j) { j["procedures"]["p"][0] = {{"call", json::array()}}; },
      [](json& j) { j["layouts"]["l"][0]["name"] = 7; },
      [](json& j) { j["framing"]["length"] = 3; },
      [](json& j) { j["encodings"]["e"] = "lenenc"; },
      [](json& j) { j["procedures"]["p"][0] = {{"fail", {{"code", 1}, {"message", "'m'"}}}}; },
      [](json& j) { j["layouts"]["l"][0]["if"] = json::object(); },
      [](json& j) { j["procedures"]["p"] = "send"; },
  };
  for (size_t i = 0; i < mutations.size(); ++i) {
    json j = MinimalPack();
    mutations[i](j);
    auto pack = ParseJson(j);
    ASSERT_FALSE(pack.ok()) << "mutation " << i;
    EXPECT_EQ(pack.error().code, ErrorCode::kPack) << "mutation " << i;
    EXPECT_NE(pack.error().message.find(std::string("wire pack ") + kLabel), std::string::npos)
        << "mutation " << i << ": " << pack.error().message;
  }
}

TEST(WirePackTest, InvalidJsonNamesTheFile) {
  // 1e999 overflows a double: nlohmann throws out_of_range, not parse_error (found by fuzz_pack).
  for (const char* text : {"", "{", "{\"name\": }", "not json", "{\"name\": 1e999}"}) {
    auto pack = WirePack::Parse(text, kLabel);
    ASSERT_FALSE(pack.ok()) << text;
    EXPECT_EQ(pack.error().code, ErrorCode::kPack);
    EXPECT_NE(pack.error().message.find(std::string("wire pack ") + kLabel + " is not valid JSON"),
              std::string::npos)
        << pack.error().message;
  }
}

TEST(WirePackTest, DeeplyNestedStepsAreAnErrorNotAStackOverflow) {
  // Found by tests/fuzz (fuzz_pack): compiling nested blocks recursed without bound.
  json steps = json::array({json{{"return", true}}});
  for (int i = 0; i < 5000; ++i) steps = json::array({json{{"if", "1"}, {"then", steps}}});
  json j = MinimalPack();
  j["procedures"]["p"] = steps;
  auto pack = ParseJson(j);
  ASSERT_FALSE(pack.ok());
  EXPECT_EQ(pack.error().code, ErrorCode::kPack);
  EXPECT_NE(pack.error().message.find("nested more than 32 levels deep"), std::string::npos)
      << pack.error().message.substr(0, 200);
}

TEST(WirePackTest, AMissingFileIsNotFoundAndNamesThePath) {
  auto pack = WirePack::Load("/nonexistent/dir/x.wire.json");
  ASSERT_FALSE(pack.ok());
  EXPECT_EQ(pack.error().code, ErrorCode::kNotFound);
  EXPECT_NE(pack.error().message.find("/nonexistent/dir/x.wire.json"), std::string::npos);
}

TEST(WirePackTest, CommentKeysAndCommentOnlyEntriesAreIgnored) {
  json j = MinimalPack();
  j["#"] = "top-level comment";
  j["framing"]["#"] = "framing comment";
  j["encodings"]["#"] = "encodings comment";
  j["encodings"]["e"]["markers"]["#"] = "marker comment";
  j["flags"]["#"] = "flags comment";
  j["flags"]["caps"]["#"] = "flag comment";
  j["constants"]["#"] = "constants comment";
  j["defaults"]["#"] = "defaults comment";
  j["layouts"]["#"] = "layouts comment";
  j["layouts"]["l"] = json::parse(R"([{"#": "a comment line"},
                                      {"#": "a field comment", "name": "a", "type": "u8"},
                                      {"#": "two", "#2": "comment keys"}])");
  j["tables"]["#"] = "tables comment";
  j["tables"]["plugins"]["#"] = "table comment";
  j["tables"]["plugins"]["p1"]["#"] = "entry comment";
  j["procedures"]["#"] = "procedures comment";
  j["procedures"]["p"] = json::parse(R"([{"#": "first a comment"},
                                         {"send": "l", "#": "inline"},
                                         {"set": {"#": "ignored", "v": "K"}},
                                         {"#": "last"}])");
  auto pack = ParseJson(j);
  ASSERT_TRUE(pack.ok()) << pack.error().message;
  const WirePack& p = **pack;
  const Block* proc = p.procedure("p");
  ASSERT_NE(proc, nullptr);
  ASSERT_EQ(proc->steps.size(), 2u);
  EXPECT_EQ(proc->steps[0].kind, StepKind::kSend);
  EXPECT_EQ(proc->steps[0].path, "/procedures/p/1") << "pointers keep the JSON index";
  ASSERT_NE(proc->steps[0].layout, nullptr);
  EXPECT_EQ(proc->steps[0].layout->fields.size(), 1u);
  EXPECT_EQ(proc->steps[0].layout->fields[0].path, "/layouts/l/1");
  ASSERT_EQ(proc->steps[1].sets.size(), 1u);
  EXPECT_EQ(p.procedure("#"), nullptr);
  EXPECT_EQ(p.constants().count("#"), 0u);
  EXPECT_EQ(p.defaults().count("#"), 0u);
  ASSERT_NE(p.flag_set("caps"), nullptr);
  EXPECT_EQ(p.flag_set("caps")->size(), 2u);
  EXPECT_EQ(p.flag_set("#"), nullptr);
  EXPECT_EQ(p.named_entries("plugins"), std::vector<std::string>{"p1"});
  ASSERT_NE(p.named_entry("plugins", "p1"), nullptr);
  EXPECT_EQ(p.named_entry("plugins", "p1")->size(), 1u);
  EXPECT_EQ(p.named_entries("#").size(), 0u);
}

TEST(WirePackTest, TheShippedMysqlPackLoadsWithItsProcedures) {
  auto loaded = WirePack::Load(SQLX_SOURCE_DIR "/transports/packs/mysql.wire.json");
  ASSERT_TRUE(loaded.ok()) << loaded.error().message;
  const WirePack& p = **loaded;
  EXPECT_EQ(p.name(), "mysql");
  EXPECT_TRUE(p.little_endian());
  for (const char* proc : {"connect", "ping", "query", "init_db", "quit"}) {
    const Block* b = p.procedure(proc);
    ASSERT_NE(b, nullptr) << proc;
    EXPECT_FALSE(b->steps.empty()) << proc;
  }
  EXPECT_EQ(p.framing().header_size, 4u);
  EXPECT_EQ(p.framing().max_payload, 0xffffffu);
  EXPECT_EQ(p.framing().length_index, 0u);
  EXPECT_EQ(p.framing().sequence_index, 1);
  EXPECT_TRUE(p.framing().check_sequence);
  const auto* caps = p.flag_set("capabilities");
  ASSERT_NE(caps, nullptr);
  EXPECT_EQ(caps->at("CLIENT_PLUGIN_AUTH"), 0x80000u);
  EXPECT_EQ(caps->at("MARIADB_CLIENT_PROGRESS"), uint64_t{1} << 32);
  EXPECT_NE(p.flag_set("status"), nullptr);
  EXPECT_EQ(p.named_entries("auth_plugins"),
            (std::vector<std::string>{"caching_sha2_password", "client_ed25519",
                                      "mysql_native_password"}));
  for (const char* var : {"user", "password", "database", "tls_mode", "max_packet", "sql"})
    EXPECT_EQ(p.defaults().count(var), 1u) << var;
}

}  // namespace
}  // namespace sqlx::transports
