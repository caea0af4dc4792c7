// Fidelity: every fixture schema (real applications in tests/fixtures/schemas
// and SQLx OS's own tests/fixtures/sqlx/features.sql) is loaded, learned,
// rendered to SQL by the planner, re-created with the stock client in an
// empty database, and learned again. The profile hashes must be identical,
// and so must the server's own SHOW CREATE output for every table, view,
// routine, trigger and event (the server is the oracle), with
// AUTO_INCREMENT=n removed and the one thing information_schema cannot show
// normalized: a declared USING BTREE on an engine whose keys are B-trees
// anyway (docs/formats/ddl.md).
#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "schema_fixtures.h"
#include "server_schema.h"
#include "sqlx/planner/render_sql.h"
#include "temp_dir.h"

namespace sqlx {
namespace {

using testing::FixtureDatabases;
using testing::RootSql;

struct Fixture {
  const char* file;  // under tests/fixtures/schemas, or "sqlx/..." under tests/fixtures
};
void PrintTo(const Fixture& f, std::ostream* os) { *os << f.file; }

std::string FixturePath(const std::string& file) {
  if (file.rfind("sqlx/", 0) == 0) return testing::SourceDir() + "/tests/fixtures/" + file;
  return testing::FixtureSchemaDir() + "/" + file;
}

class FidelityTest : public ::testing::TestWithParam<Fixture> {};

TEST_P(FidelityTest, RenderedSqlRecreatesTheSameSchema) {
  const std::string file = GetParam().file;
  FixtureDatabases fx;
  const std::string a = fx.Create("fid_a");
  testing::RunResult load =
      testing::RootClient({a, "--init-command=SET FOREIGN_KEY_CHECKS=0", "-e", "source " + FixturePath(file)});
  ASSERT_EQ(load.exit_code, 0) << "loading " << file << ":\n" << load.err;

  const flo::LearnedDatabase original = testing::LearnAsRoot({a})[0];
  ASSERT_FALSE(original.profile_hash.empty());
  EXPECT_TRUE(original.not_visible.empty()) << "root sees everything; not visible: " << original.not_visible[0];

  testing::TempDir dir("sqlx-fidelity.");
  const std::string script = dir.path() + "/schema.sql";
  std::ofstream(script) << planner::RenderScript(original.schema);

  // An empty database with the original's defaults, filled by the stock client.
  const std::string b = fx.Name("fid_b");
  RootSql("DROP DATABASE IF EXISTS `" + b + "`; CREATE DATABASE `" + b + "` CHARACTER SET " +
          original.schema.charset + " COLLATE " + original.schema.collation);
  fx.Adopt(b);
  testing::RunResult recreate = testing::RootClient({b, "--abort-source-on-error", "-e", "source " + script});
  ASSERT_EQ(recreate.exit_code, 0) << "re-creating " << file << " from " << script << ":\n" << recreate.err;

  const flo::LearnedDatabase copy = testing::LearnAsRoot({b})[0];
  EXPECT_EQ(copy.profile_hash, original.profile_hash) << file;
  EXPECT_EQ(copy.counts.tables, original.counts.tables);
  EXPECT_EQ(copy.counts.views, original.counts.views);
  EXPECT_EQ(copy.counts.routines, original.counts.routines);
  EXPECT_EQ(copy.counts.triggers, original.counts.triggers);
  EXPECT_EQ(copy.counts.events, original.counts.events);
  EXPECT_EQ(testing::ShowCreateAll(b), testing::ShowCreateAll(a)) << file;
}

std::string FixtureName(const ::testing::TestParamInfo<Fixture>& info) {
  std::string name = info.param.file;
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

INSTANTIATE_TEST_SUITE_P(
    Fixtures, FidelityTest,
    ::testing::Values(Fixture{"sqlx/features.sql"}, Fixture{"employees/employees.sql"},
                      Fixture{"mediawiki/v1.29.1.sql"}, Fixture{"mediawiki/v1.30.0.sql"}, Fixture{"nacos/v1.4.0.sql"},
                      Fixture{"nacos/v2.3.0.sql"}, Fixture{"nacos/v3.0.0.sql"}, Fixture{"opencart/v1.5.6.4.sql"},
                      Fixture{"opencart/v2.3.0.2.sql"}, Fixture{"opencart/v3.0.5.0.sql"}, Fixture{"phpbb/v3.0.0.sql"},
                      Fixture{"phpbb/v3.0.14.sql"}, Fixture{"roundcube/v1.4.0.sql"}, Fixture{"roundcube/v1.6.0.sql"},
                      Fixture{"sakila/v1.3.sql"}, Fixture{"sakila/v1.5.sql"}, Fixture{"spring-batch/v4.3.10.sql"},
                      Fixture{"spring-batch/v5.0.0.sql"}, Fixture{"zabbix/v5.0.5.sql"}, Fixture{"zabbix/v6.0.5.sql"}),
    FixtureName);

}  // namespace
}  // namespace sqlx
