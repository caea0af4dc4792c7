// Splitting scripts as the mariadb client does, table-driven: the script, the
// statements' text and first lines. (tests/integration/sql_split_client_test.cc
// compares with the real client on the fixture files.)
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "sqlx/planner/sql_split.h"

namespace sqlx::planner {
namespace {

struct Expected {
  std::string text;
  int line;
  std::string client_command = {};
};

struct SplitCase {
  const char* name;
  std::string script;
  std::vector<Expected> statements;
};

void PrintTo(const SplitCase& c, std::ostream* os) { *os << c.name; }

class SqlSplitTest : public ::testing::TestWithParam<SplitCase> {};

TEST_P(SqlSplitTest, SplitsAsTheClientDoes) {
  const SplitCase& c = GetParam();
  auto got = SplitSqlScript(c.script);
  ASSERT_TRUE(got.ok()) << got.error().ToString();
  ASSERT_EQ(got->size(), c.statements.size()) << c.script;
  for (size_t i = 0; i < got->size(); ++i) {
    EXPECT_EQ((*got)[i].text, c.statements[i].text) << "statement " << i;
    EXPECT_EQ((*got)[i].line, c.statements[i].line) << "statement " << i;
    EXPECT_EQ((*got)[i].client_command, c.statements[i].client_command) << "statement " << i;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SqlSplitTest,
    ::testing::Values(
        SplitCase{"Empty", "", {}},
        SplitCase{"OnlyWhitespaceAndComments", "  \n-- a\n# b\n/* c\n d */\n;;\n", {}},
        SplitCase{"TwoStatements", "CREATE TABLE a (x int);\nCREATE TABLE b (y int);\n",
                  {{"CREATE TABLE a (x int)", 1}, {"CREATE TABLE b (y int)", 2}}},
        SplitCase{"SameLine", "DO 1; DO 2;DO 3", {{"DO 1", 1}, {"DO 2", 1}, {"DO 3", 1}}},
        SplitCase{"LastWithoutDelimiter", "DO 1;\nDO\n2\n", {{"DO 1", 1}, {"DO\n2", 2}}},
        SplitCase{"MultiLineKeepsNewlines", "CREATE TABLE t (\n  a int,\n  b int\n);",
                  {{"CREATE TABLE t (\n  a int,\n  b int\n)", 1}}},
        SplitCase{"LineNumberSkipsLeadingComments", "-- header\n\n/* x */\n  DO 1;", {{"DO 1", 4}}},
        SplitCase{"SemicolonInSingleQuotes", "SET @a = 'x;y';", {{"SET @a = 'x;y'", 1}}},
        SplitCase{"SemicolonInDoubleQuotes", "SET @a = \"x;y\";", {{"SET @a = \"x;y\"", 1}}},
        SplitCase{"SemicolonInBackticks", "CREATE TABLE `a;b` (x int);", {{"CREATE TABLE `a;b` (x int)", 1}}},
        SplitCase{"DoubledQuote", "SET @a = 'it''s;'; DO 2;", {{"SET @a = 'it''s;'", 1}, {"DO 2", 1}}},
        SplitCase{"BackslashEscapedQuote", "SET @a = 'it\\'s;'; DO 2;", {{"SET @a = 'it\\'s;'", 1}, {"DO 2", 1}}},
        SplitCase{"BackslashInBackticksEscapesNothing", "CREATE TABLE `a\\` (x int); DO 2;",
                  {{"CREATE TABLE `a\\` (x int)", 1}, {"DO 2", 1}}},
        SplitCase{"StringSpansLines", "SET @a = 'x\n;y';\nDO 2;", {{"SET @a = 'x\n;y'", 1}, {"DO 2", 3}}},
        SplitCase{"CommentMarkersInStrings", "SET @a = '-- no # no /* no */';",
                  {{"SET @a = '-- no # no /* no */'", 1}}},
        SplitCase{"DashDashNeedsSpace", "DO 1 --2\n;", {{"DO 1 --2", 1}}},
        SplitCase{"DashDashWithSpaceIsComment", "DO 1 -- ;x\n;", {{"DO 1", 1}}},
        SplitCase{"DashDashWithTab", "DO 1 --\t;x\n;", {{"DO 1", 1}}},
        SplitCase{"DashDashAtLineEnd", "DO 1 --\n;", {{"DO 1", 1}}},
        SplitCase{"DashDashAtStatementStartNeedsNoSpace", "--x;\nDO 1;", {{"DO 1", 2}}},
        SplitCase{"DashDashMidStatementLineStart", "DO 1\n--x\n;", {{"DO 1\n--x", 1}}},
        SplitCase{"HashComment", "DO 1 # ; x\n, 2;", {{"DO 1 \n, 2", 1}}},
        SplitCase{"BlockCommentRemovedWithSpace", "DO 1/* ; */+2;", {{"DO 1 +2", 1}}},
        SplitCase{"BlockCommentAcrossLines", "DO 1 /* a\n ; b\n */ , 2;", {{"DO 1  , 2", 1}}},
        SplitCase{"ExecutableCommentKept", "/*!40101 SET NAMES utf8 */;", {{"/*!40101 SET NAMES utf8 */", 1}}},
        SplitCase{"MariaDbExecutableCommentKept", "DO 1 /*M!100000 , 2 */;", {{"DO 1 /*M!100000 , 2 */", 1}}},
        SplitCase{"HintCommentIsAComment", "SELECT /*+ x */ 1;", {{"SELECT  1", 1}}},
        SplitCase{"DelimiterInsideExecutableCommentSplits", "/*!50003 DO 1; */;", {{"/*!50003 DO 1", 1}, {"*/", 1}}},
        SplitCase{"DelimiterCommand",
                  "DELIMITER $$\nCREATE PROCEDURE p() BEGIN DO 1; DO 2; END$$\nDELIMITER ;\nDO 3;",
                  {{"CREATE PROCEDURE p() BEGIN DO 1; DO 2; END", 2}, {"DO 3", 4}}},
        SplitCase{"DelimiterAnyCase", "delimiter //\nDO 1//\nDeLiMiTeR ;\nDO 2;", {{"DO 1", 2}, {"DO 2", 4}}},
        SplitCase{"DoubleSemicolonDelimiter", "DELIMITER ;;\nDO 1;DO 2;;\nDELIMITER ;\n", {{"DO 1;DO 2", 2}}},
        SplitCase{"DelimiterWithLeadingSpaces", "   DELIMITER $$\nDO 1$$", {{"DO 1", 2}}},
        SplitCase{"DelimiterWithSemicolon", "DELIMITER $$;\nDO 1$$;", {{"DO 1", 2}}},
        SplitCase{"DelimiterQuoted", "DELIMITER '//'\nDO 1//", {{"DO 1", 2}}},
        SplitCase{"DelimiterWordInsideStatementIsText", "DO 1,\ndelimiter;", {{"DO 1,\ndelimiter", 1}}},
        SplitCase{"DelimiterLineInsideStringIsText", "SET @a = '\nDELIMITER $$\n';",
                  {{"SET @a = '\nDELIMITER $$\n'", 1}}},
        SplitCase{"MultiLineProcedureWithComments",
                  "DELIMITER ;;\nCREATE PROCEDURE p()\nBEGIN\n  -- say one\n  SELECT 1; # one\nEND ;;\nDELIMITER ;\n",
                  {{"CREATE PROCEDURE p()\nBEGIN\n  \n  SELECT 1; \nEND", 2}}},
        SplitCase{"BackslashG", "DO 1\\G DO 2\\g", {{"DO 1", 1}, {"DO 2", 1}}},
        SplitCase{"BackslashC", "DO 1\\c DO 2;", {{"DO 2", 1}}},
        SplitCase{"BackslashNIsNull", "SELECT \\N;", {{"SELECT \\N", 1}}},
        SplitCase{"BackslashD", "\\d $$\nDO 1$$", {{"DO 1", 2}}},
        SplitCase{"UseWithSemicolonIsAClientCommand", "USE shop;\nDO 1;", {{"USE shop", 1, "use"}, {"DO 1", 2}}},
        SplitCase{"UseLineIsAClientCommand", "use shop\nDO 1;", {{"use shop", 1, "use"}, {"DO 1", 2}}},
        SplitCase{"SourceShortcut", "\\. other.sql\nDO 1;", {{"\\. other.sql", 1, "source"}, {"DO 1", 2}}},
        SplitCase{"QuitLine", "DO 1;\nquit\n", {{"DO 1", 1}, {"quit", 2, "quit"}}},
        SplitCase{"CommandWordWithArgumentsIsSql", "go away;", {{"go away", 1}}},
        SplitCase{"ByteOrderMarkSkipped", "\xEF\xBB\xBF" "DO 1;", {{"DO 1", 1}}},
        SplitCase{"CarriageReturnsTrimmed", "DO 1\r\n;\r\nDO 2;\r\n", {{"DO 1", 1}, {"DO 2", 3}}},
        SplitCase{"Utf8Kept", "SET @a = 'é;ü'; -- ß\n", {{"SET @a = 'é;ü'", 1}}},
        SplitCase{"UnterminatedStringRunsToTheEnd", "SET @a = 'x;\nDO 1;", {{"SET @a = 'x;\nDO 1;", 1}}},
        SplitCase{"UnterminatedCommentDropsTheRest", "DO 1 /* x;\nDO 2;", {{"DO 1", 1}}},
        SplitCase{"DelimiterAfterStatementOnOneLine", "DO 1; DELIMITER //\nDO 2//\n",
                  // The client glues the next line to the DELIMITER command and sends it all at the end.
                  {{"DO 1", 1}, {"DELIMITER //DO 2//", 1}}}),
    [](const ::testing::TestParamInfo<SplitCase>& param_info) { return std::string(param_info.param.name); });

TEST(SqlSplitErrorsTest, DelimiterWithoutArgumentNamesTheLine) {
  auto got = SplitSqlScript("DO 1;\nDELIMITER\nDO 2;");
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(got.error().message.find("line 2"), std::string::npos) << got.error().message;
}

TEST(SqlSplitErrorsTest, DelimiterWithBackslashIsRefused) {
  auto got = SplitSqlScript("DELIMITER a\\\\b\n");
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().message.find("backslash"), std::string::npos) << got.error().message;
}

TEST(SqlSplitOptionsTest, NoBackslashEscapesMakesABackslashEndNothing) {
  SqlSplitOptions options;
  options.no_backslash_escapes = true;
  auto got = SplitSqlScript("SET @a = 'x\\'; DO 2;", options);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].text, "SET @a = 'x\\'");
}

TEST(SqlSplitOptionsTest, AnsiQuotesMakeDoubleQuotesIdentifiers) {
  SqlSplitOptions options;
  options.ansi_quotes = true;
  auto got = SplitSqlScript("CREATE TABLE \"a\\\" (x int); DO 2;", options);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
}

TEST(SqlSplitOptionsTest, InitialDelimiterIsUsed) {
  SqlSplitOptions options;
  options.delimiter = "$$";
  auto got = SplitSqlScript("DO 1; DO 2$$DO 3", options);
  ASSERT_TRUE(got.ok());
  ASSERT_EQ(got->size(), 2u);
  EXPECT_EQ((*got)[0].text, "DO 1; DO 2");
}

}  // namespace
}  // namespace sqlx::planner
