// Learn packs: the shipped pack loads; every malformed pack is an error naming
// the file and the JSON pointer at fault; packs are found like wire packs;
// greeting version strings are read as the pack's rules say.
#include "learn_pack.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <nlohmann/json.hpp>

#include "learn_pack_fixture.h"
#include "test_env.h"

namespace sqlx::flo {
namespace {

using nlohmann::json;
using testing::MinimalPack;

constexpr const char* kLabel = "test.learn.json";

std::string ShippedPackDir() { return sqlx::testing::SourceDir() + "/flo/packs"; }

Result<LearnPack> ParseJson(const json& j) { return LearnPack::Parse(j.dump(), kLabel); }

TEST(LearnPackTest, TheShippedMySqlPackLoads) {
  auto pack = LocateLearnPack("mysql", ShippedPackDir());
  ASSERT_TRUE(pack.ok()) << pack.error().message;
  EXPECT_EQ(pack->name, "mysql");
  EXPECT_FALSE(pack->variables.empty());
  EXPECT_FALSE(pack->capabilities.empty());
  for (const char* name : {"cte", "window_functions", "json_functions", "check_constraints", "generated_columns",
                           "sequences", "system_versioned_tables", "invisible_columns", "descending_indexes",
                           "savepoints", "instant_add_column", "instant_drop_column", "max_identifier_length"}) {
    bool found = false;
    for (const auto& c : pack->capabilities) found = found || c.name == name;
    EXPECT_TRUE(found) << name;
  }
}

TEST(LearnPackTest, TheMinimalPackLoadsWithCommentsSkipped) {
  auto pack = ParseJson(MinimalPack());
  ASSERT_TRUE(pack.ok()) << pack.error().message;
  EXPECT_EQ(pack->file, kLabel);
  ASSERT_EQ(pack->capabilities.size(), 4u);
  EXPECT_EQ(pack->capabilities[1].kind, ProbeKind::kParse);
  EXPECT_EQ(pack->capabilities[1].default_value, "false");
  ASSERT_EQ(pack->capabilities[1].rules.size(), 1u);
  EXPECT_EQ(pack->capabilities[1].rules[0].min_version, 100300u);
  EXPECT_EQ(pack->capabilities[1].rules[0].value, "true");
  EXPECT_EQ(pack->capabilities[2].cleanup, std::vector<std::string>{"ROLLBACK"});
  EXPECT_EQ(pack->capabilities[3].rules[0].variable_in, std::vector<std::string>{"on"});
  EXPECT_EQ(pack->variables[0].variables, std::vector<std::string>{"max_allowed_packet"});
}

struct PackErrorCase {
  const char* name;
  std::function<void(json&)> mutate;
  const char* pointer;       // expected after "learn pack test.learn.json at "
  const char* message_part;  // expected after the pointer
};

TEST(LearnPackTest, MalformedPacksNameTheFileAndPointer) {
  const PackErrorCase cases[] = {
      {"unknown top-level key", [](json& j) { j["probes"] = json::array(); }, "/probes", "unknown key"},
      {"wrong format", [](json& j) { j["format_version"] = 2; }, "/format_version", "expected 1"},
      {"no name", [](json& j) { j.erase("name"); }, "/name", "missing"},
      {"flavor without marker", [](json& j) { j["version"]["flavors"][0].erase("marker"); },
       "/version/flavors/0/marker", "missing"},
      {"error number is text", [](json& j) { j["errors"]["privilege"][0] = "1142"; }, "/errors/privilege/0",
       "error number"},
      {"query without names", [](json& j) { j["variables"]["query"] = "SHOW VARIABLES"; }, "/variables/query",
       "{names}"},
      {"unknown variable type", [](json& j) { j["variables"]["read"][0]["type"] = "int"; },
       "/variables/read/0/type", "unknown type 'int'"},
      {"prepare without statement", [](json& j) { j["parse_probe"]["prepare"] = "PREPARE p"; },
       "/parse_probe/prepare", "{statement}"},
      {"unknown kind", [](json& j) { j["capabilities"][1]["kind"] = "guess"; }, "/capabilities/1/kind",
       "unknown kind 'guess'"},
      {"typo in a probe key", [](json& j) { j["capabilities"][2]["falback"] = json::array(); },
       "/capabilities/2/falback", "unknown key"},
      {"script sql not a list", [](json& j) { j["capabilities"][3]["sql"] = "SAVEPOINT s"; },
       "/capabilities/3/sql", "array of strings"},
      {"rule version is text", [](json& j) { j["capabilities"][2]["fallback"][0]["min_version"] = "10.3"; },
       "/capabilities/2/fallback/0/min_version", "version number"},
      {"rule variable without in", [](json& j) { j["capabilities"][4]["rules"][0].erase("in"); },
       "/capabilities/4/rules/0", "go together"},
      {"rule value missing", [](json& j) { j["capabilities"][4]["rules"][0].erase("value"); },
       "/capabilities/4/rules/0/value", "missing"},
      {"infer with sql", [](json& j) { j["capabilities"][4]["sql"] = "SELECT 1"; }, "/capabilities/4/sql",
       "runs no statement"},
      {"probe with rules", [](json& j) { j["capabilities"][1]["rules"] = json::array(); },
       "/capabilities/1/rules", "fallback"},
      {"duplicate name", [](json& j) { j["capabilities"][2]["name"] = "cte"; }, "/capabilities/2/name",
       "duplicate capability 'cte'"},
      {"name clashes with a variable", [](json& j) { j["capabilities"][1]["name"] = "max_allowed_packet"; },
       "/capabilities/1/name", "also a variable"},
      {"backslash in a parse probe", [](json& j) { j["capabilities"][2]["sql"] = "CREATE TABLE x.t (a CHAR(1) DEFAULT '\\\\')"; },
       "/capabilities/2/sql", "backslash"},
      {"bad yields", [](json& j) { j["capabilities"][1]["yields"] = "rows"; }, "/capabilities/1/yields",
       "has_rows"},
      {"no security", [](json& j) { j.erase("security"); }, "/security", "missing"},
      {"redact marker not a string", [](json& j) { j["security"]["redact_quoted_after"][0] = 1; },
       "/security/redact_quoted_after/0", "non-empty string"},
  };
  for (const auto& c : cases) {
    json j = MinimalPack();
    c.mutate(j);
    auto pack = ParseJson(j);
    ASSERT_FALSE(pack.ok()) << c.name;
    EXPECT_EQ(pack.error().code, ErrorCode::kPack) << c.name;
    const std::string expected = std::string("learn pack ") + kLabel + " at " + c.pointer + ": ";
    EXPECT_EQ(pack.error().message.rfind(expected, 0), 0u) << c.name << ": " << pack.error().message;
    EXPECT_NE(pack.error().message.find(c.message_part), std::string::npos) << c.name << ": " << pack.error().message;
  }
}

TEST(LearnPackTest, InvalidJsonNamesTheFileAndByte) {
  auto pack = LearnPack::Parse("{\"name\": ", kLabel);
  ASSERT_FALSE(pack.ok());
  EXPECT_EQ(pack.error().code, ErrorCode::kPack);
  EXPECT_NE(pack.error().message.find("learn pack test.learn.json is not valid JSON (byte"), std::string::npos)
      << pack.error().message;
  auto huge = LearnPack::Parse("{\"name\": 1e999}", kLabel);
  ASSERT_FALSE(huge.ok());
  EXPECT_EQ(huge.error().code, ErrorCode::kPack);
}

// A temporary directory removed at the end of the test.
struct TempDir {
  TempDir() {
    char tmpl[] = "/tmp/sqlx_learn_pack_XXXXXX";
    path = ::mkdtemp(tmpl);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::string path;
};

TEST(LearnPackTest, AnExplicitDirectoryWithoutThePackIsAnErrorNotAFallback) {
  TempDir dir;
  auto pack = LocateLearnPack("mysql", dir.path);
  ASSERT_FALSE(pack.ok());
  EXPECT_EQ(pack.error().code, ErrorCode::kNotFound);
  EXPECT_NE(pack.error().message.find("no mysql.learn.json in learn pack directory " + dir.path),
            std::string::npos)
      << pack.error().message;
}

TEST(LearnPackTest, TheEnvironmentDirectoryIsSearchedAndItsErrorsNameTheFile) {
  TempDir dir;
  json j = MinimalPack();
  j["capabilities"][1]["kind"] = "guess";
  std::ofstream(dir.path + "/t.learn.json") << j.dump();
  ASSERT_EQ(::setenv("SQLX_LEARN_PACK_DIR", dir.path.c_str(), 1), 0);
  auto dirs = LearnPackSearchDirs("");
  ASSERT_FALSE(dirs.empty());
  EXPECT_EQ(dirs[0].path, dir.path);
  EXPECT_TRUE(dirs[0].chosen);
  auto pack = LocateLearnPack("t", "");
  auto missing = LocateLearnPack("mysql", "");
  ::unsetenv("SQLX_LEARN_PACK_DIR");
  ASSERT_FALSE(pack.ok());
  EXPECT_NE(pack.error().message.find("learn pack " + dir.path + "/t.learn.json at /capabilities/1/kind"),
            std::string::npos)
      << pack.error().message;
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
}

TEST(LearnPackTest, WithoutOptionsTheSourceTreePackIsFound) {
  auto dirs = LearnPackSearchDirs("");
  ASSERT_FALSE(dirs.empty());
  EXPECT_EQ(dirs.back().path, ShippedPackDir());
  EXPECT_FALSE(dirs.back().chosen);
}

struct VersionCase {
  const char* greeting;
  const char* flavor;
  const char* version;
  uint32_t number;
};

TEST(LearnPackTest, GreetingVersionsAreReadWithThePackRules) {
  auto pack = LocateLearnPack("mysql", ShippedPackDir());
  ASSERT_TRUE(pack.ok()) << pack.error().message;
  const VersionCase cases[] = {
      {"5.5.5-10.11.19-MariaDB-0+deb12u1", "MariaDB", "10.11.19", 101119},
      {"5.5.5-10.3.2-MariaDB", "MariaDB", "10.3.2", 100302},
      {"11.4.2-MariaDB-log", "MariaDB", "11.4.2", 110402},
      {"8.0.36", "MySQL", "8.0.36", 80036},
      {"8.0.36-28", "MySQL", "8.0.36", 80036},  // Percona Server
      {"5.7.44-log", "MySQL", "5.7.44", 50744},
      {"5.5.5", "MySQL", "5.5.5", 50505},       // a real 5.5.5: the prefix needs a version after it
      {"8.4", "MySQL", "8.4", 80400},
      {"9", "MySQL", "9", 90000},
      {"8.0.123", "MySQL", "8.0.123", 0},        // patch beyond two digits: no number
      {"1.2.3456789012345", "MySQL", "1.2.3456789012345", 0},
      {"", "MySQL", "", 0},
      {"garbage-MariaDB", "MariaDB", "", 0},
      {"5.5.5-", "MySQL", "5.5.5", 50505},
      {"10.", "MySQL", "10", 100000},
  };
  for (const auto& c : cases) {
    ServerVersion v = ParseServerVersion(pack->version, c.greeting);
    EXPECT_EQ(v.flavor, c.flavor) << c.greeting;
    EXPECT_EQ(v.version, c.version) << c.greeting;
    EXPECT_EQ(v.version_number, c.number) << c.greeting;
  }
}

TEST(LearnPackTest, VersionNumbersPrintAsDottedVersions) {
  EXPECT_EQ(FormatVersionNumber(100302), "10.3.2");
  EXPECT_EQ(FormatVersionNumber(80029), "8.0.29");
  EXPECT_EQ(FormatVersionNumber(0), "0.0.0");
}

}  // namespace
}  // namespace sqlx::flo
