// SQL text helpers of catalog learning: string literals that read back as
// the value under either sql_mode, self-qualifier removal that leaves
// strings and comments alone, LIKE patterns of grants, and which grants make
// objects visible.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "catalog.h"

namespace sqlx::flo {
namespace {

struct QuoteCase {
  std::string value;
  const char* backslash_escapes;
  const char* no_backslash_escapes;
};

TEST(CatalogSqlTest, LiteralsQuoteQuotesAndBackslashesForEachSqlMode) {
  const QuoteCase cases[] = {
      {"sakila", "'sakila'", "'sakila'"},
      {"", "''", "''"},
      {"it's", "'it''s'", "'it''s'"},
      {"a\\b", "'a\\\\b'", "'a\\b'"},
      {"a\\'; DROP DATABASE x; -- ", "'a\\\\''; DROP DATABASE x; -- '", "'a\\''; DROP DATABASE x; -- '"},
      {"\\", "'\\\\'", "'\\'"},
      {std::string("nul\0byte", 8), "'nul\\0byte'", nullptr},
      {"line\nbreak\r\x1a", "'line\\nbreak\\r\\Z'", "'line\nbreak\r\x1a'"},
      {"ünïcødé", "'ünïcødé'", "'ünïcødé'"},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(QuoteSqlLiteral(c.value), c.backslash_escapes) << c.value;
    if (c.no_backslash_escapes != nullptr) {
      EXPECT_EQ(QuoteSqlLiteral(c.value, SqlQuoting::kNoBackslashEscapes), c.no_backslash_escapes) << c.value;
    }
  }
  EXPECT_EQ(QuoteSqlList({"a", "b'c"}, SqlQuoting::kBackslashEscapes), "'a', 'b''c'");
  EXPECT_EQ(QuoteSqlList({}, SqlQuoting::kBackslashEscapes), "");
}

struct StripCase {
  const char* name;
  const char* body;
  const char* expected;
};

TEST(CatalogSqlTest, SelfQualifiersAreRemovedOnlyFromQuotedIdentifiers) {
  const StripCase cases[] = {
      {"view body", "select `shop`.`t`.`a` AS `a` from `shop`.`t`", "select `t`.`a` AS `a` from `t`"},
      {"other database kept", "select `other`.`t`.`a` from `other`.`t`", "select `other`.`t`.`a` from `other`.`t`"},
      {"a column named like the database", "select `t`.`shop` from `t`", "select `t`.`shop` from `t`"},
      {"a table named like the database after a qualifier", "select `x`.`shop`.`c` from `x`.`shop`",
       "select `x`.`shop`.`c` from `x`.`shop`"},
      {"not followed by a dot", "select `shop` from t", "select `shop` from t"},
      {"unquoted qualifier kept (documented limit)", "select shop.t.a from shop.t", "select shop.t.a from shop.t"},
      {"single-quoted string", "select '`shop`.`t`' from `shop`.`t`", "select '`shop`.`t`' from `t`"},
      {"string with escapes", "select 'it''s `shop`.x', 'a\\'`shop`.y' from `shop`.`t`",
       "select 'it''s `shop`.x', 'a\\'`shop`.y' from `t`"},
      {"double-quoted string", "select \"`shop`.`t`\"", "select \"`shop`.`t`\""},
      {"line comment", "select 1 -- `shop`.`t`\nfrom `shop`.`t`", "select 1 -- `shop`.`t`\nfrom `t`"},
      {"hash comment", "select 1 # `shop`.`t`\n", "select 1 # `shop`.`t`\n"},
      {"block comment", "select /* `shop`.`t` */ 1", "select /* `shop`.`t` */ 1"},
      {"minus minus without space is an operator", "select 1--`shop`.`t`.`a`", "select 1--`t`.`a`"},
      {"doubled backtick in a name", "select `sh``op`.`t`", "select `sh``op`.`t`"},
      {"case differs", "select `SHOP`.`t`", "select `SHOP`.`t`"},
      {"unterminated string", "select 'abc `shop`.`t`", "select 'abc `shop`.`t`"},
      {"unterminated identifier", "select `shop", "select `shop"},
      {"qualifier before an unquoted name", "call `shop`.proc1()", "call proc1()"},
      {"dot at the end", "select `shop`.", "select `shop`."},
      {"empty", "", ""},
  };
  for (const auto& c : cases) EXPECT_EQ(StripSelfQualifiers(c.body, "shop"), c.expected) << c.name;
  EXPECT_EQ(StripSelfQualifiers("select `a``b`.`t`", "a`b"), "select `t`");
}

TEST(CatalogSqlTest, GrantPatternsMatchLikeSqlLike) {
  struct LikeCase {
    const char* pattern;
    const char* text;
    bool match;
  };
  const LikeCase cases[] = {
      {"shop", "shop", true},       {"shop", "shops", false},       {"sh_p", "shop", true},
      {"sh\\_p", "shop", false},    {"sh\\_p", "sh_p", true},       {"sqlx\\_test", "sqlx_test", true},
      {"%", "", true},              {"%", "anything", true},        {"db%", "db", true},
      {"db%", "dbx", true},         {"db%", "xdb", false},          {"%a%b%", "xxaxxbxx", true},
      {"%a%b%", "xxbxxaxx", false}, {"Shop", "shop", false},        {"", "", true},
      {"", "x", false},             {"a\\%", "a%", true},           {"a\\%", "ab", false},
  };
  for (const auto& c : cases) EXPECT_EQ(LikeMatch(c.pattern, c.text), c.match) << c.pattern << " ~ " << c.text;
}

TEST(CatalogSqlTest, PrivilegesCountGloballyOnTheDatabaseOrOnTheNamedTable) {
  const std::vector<Grant> grants = {
      {"global", "", "", "USAGE"},
      {"schema", "shop", "", "SELECT"},
      {"schema", "app\\_%", "", "TRIGGER"},
      {"table", "mysql", "proc", "SELECT"},
  };
  EXPECT_TRUE(HoldsPrivilege(grants, {"TRIGGER", ""}, "app_1"));
  EXPECT_FALSE(HoldsPrivilege(grants, {"TRIGGER", ""}, "appx1"));
  EXPECT_FALSE(HoldsPrivilege(grants, {"TRIGGER", ""}, "shop"));
  EXPECT_TRUE(HoldsPrivilege(grants, {"select", ""}, "shop"));
  EXPECT_TRUE(HoldsPrivilege(grants, {"SELECT", "mysql.proc"}, "shop"));
  EXPECT_FALSE(HoldsPrivilege(grants, {"SELECT", "mysql.event"}, "shop"));
  EXPECT_FALSE(HoldsPrivilege(grants, {"EVENT", ""}, "shop"));
  const std::vector<Grant> root = {{"global", "", "", "EVENT"}, {"global", "", "", "SELECT"}};
  EXPECT_TRUE(HoldsPrivilege(root, {"EVENT", ""}, "anything"));
  EXPECT_TRUE(HoldsPrivilege(root, {"SELECT", "mysql.proc"}, "anything"));
  const std::vector<Grant> mysql_db = {{"schema", "mysql", "", "SELECT"}};
  EXPECT_TRUE(HoldsPrivilege(mysql_db, {"SELECT", "mysql.proc"}, "shop"));
  EXPECT_FALSE(HoldsPrivilege({}, {"SELECT", "mysql.proc"}, "shop"));
}

}  // namespace
}  // namespace sqlx::flo
