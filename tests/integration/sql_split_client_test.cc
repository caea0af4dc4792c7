// planner::SplitSqlScript against the real mariadb client: for every fixture
// schema file and tests/fixtures/sqlx/*.sql (split_edges.sql holds the odd
// cases), the client run with -v (which echoes each statement it sends) must
// send exactly the statements, in order and byte for byte, that the splitter
// returns. The fixture files hold no `CREATE DATABASE` or `USE`.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "schema_fixtures.h"
#include "sqlx/planner/sql_split.h"
#include "test_env.h"

namespace sqlx {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> ScriptFiles() {
  std::vector<std::string> files;
  for (const std::string& dir : {testing::FixtureSchemaDir(), testing::SourceDir() + "/tests/fixtures/sqlx"}) {
    for (const auto& entry : fs::recursive_directory_iterator(dir))
      if (entry.is_regular_file() && entry.path().extension() == ".sql") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// The statements the client echoed with -v in batch mode: each between two
// lines of 14 dashes. (The files send no statement returning rows.)
std::vector<std::string> EchoedStatements(const std::string& out) {
  static const std::string kRule = "--------------";
  std::vector<std::string> statements;
  std::istringstream in(out);
  std::string line;
  bool inside = false;
  std::string current;
  while (std::getline(in, line)) {
    if (line == kRule) {
      if (inside) statements.push_back(current.substr(0, current.empty() ? 0 : current.size() - 1));
      inside = !inside;
      current.clear();
    } else if (inside) {
      current += line + "\n";
    }
  }
  return statements;
}

TEST(SqlSplitClientTest, SplitsEveryFixtureFileAsTheClientDoes) {
  const std::vector<std::string> files = ScriptFiles();
  ASSERT_GT(files.size(), 20u);
  for (const std::string& file : files) {
    SCOPED_TRACE(file);
    std::ifstream in(file, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    auto ours = planner::SplitSqlScript(text.str());
    ASSERT_TRUE(ours.ok()) << ours.error().ToString();
    // No database selected: the server refuses every table statement at once
    // (nothing is created, and it is quick); --force goes on, and the client
    // has echoed each statement before sending it.
    testing::RunResult r = testing::RootClient({"-v", "--force", "-e", "source " + file});
    const std::vector<std::string> theirs = EchoedStatements(r.out);
    ASSERT_FALSE(theirs.empty()) << r.err;
    EXPECT_EQ(ours->size(), theirs.size());
    for (size_t i = 0; i < std::min(ours->size(), theirs.size()); ++i) {
      ASSERT_EQ((*ours)[i].text, theirs[i]) << "statement " << i << " (our line " << (*ours)[i].line << ")";
      EXPECT_TRUE((*ours)[i].client_command.empty()) << (*ours)[i].text;
    }
  }
}

}  // namespace
}  // namespace sqlx
