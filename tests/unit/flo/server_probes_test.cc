// The pure pieces of the probe runner: SQL string quoting and the redaction
// of password hashes in SHOW GRANTS output.
#include "server_probes.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sqlx::flo {
namespace {

struct RedactCase {
  const char* name;
  const char* grant;
  const char* redacted;
};

TEST(ServerProbesTest, PasswordHashesInGrantsAreRedacted) {
  const std::vector<std::string> markers = {"IDENTIFIED BY PASSWORD ", " USING "};
  const RedactCase cases[] = {
      {"native hash",
       "GRANT SELECT ON *.* TO `u`@`h` IDENTIFIED BY PASSWORD '*FF48E68563F59169DF2C2F820BAC747E1DA6A5D2'",
       "GRANT SELECT ON *.* TO `u`@`h` IDENTIFIED BY PASSWORD '<redacted>'"},
      {"ed25519 hash",
       "GRANT USAGE ON *.* TO `e`@`h` IDENTIFIED VIA ed25519 USING '24FjORYwAV6wiJLDpFI0doShISjOdPNUg1WR7eRAgqA'",
       "GRANT USAGE ON *.* TO `e`@`h` IDENTIFIED VIA ed25519 USING '<redacted>'"},
      {"two plugins", "GRANT USAGE ON *.* TO `x`@`h` IDENTIFIED VIA ed25519 USING 'a' OR mysql_native_password USING '*B'",
       "GRANT USAGE ON *.* TO `x`@`h` IDENTIFIED VIA ed25519 USING '<redacted>' OR mysql_native_password USING "
       "'<redacted>'"},
      {"lower case", "grant usage on *.* to u identified by password '*AB'",
       "grant usage on *.* to u identified by password '<redacted>'"},
      {"doubled quote inside", "GRANT USAGE ON *.* TO u IDENTIFIED VIA p USING 'a''b' WITH GRANT OPTION",
       "GRANT USAGE ON *.* TO u IDENTIFIED VIA p USING '<redacted>' WITH GRANT OPTION"},
      {"unterminated", "GRANT USAGE ON *.* TO u IDENTIFIED BY PASSWORD '*AB",
       "GRANT USAGE ON *.* TO u IDENTIFIED BY PASSWORD '<redacted>'"},
      {"no hash", "GRANT ALL PRIVILEGES ON `sqlx_test`.* TO `u`@`h`", "GRANT ALL PRIVILEGES ON `sqlx_test`.* TO `u`@`h`"},
      {"marker without a literal", "GRANT PROXY ON x USING y", "GRANT PROXY ON x USING y"},
  };
  for (const auto& c : cases) {
    std::string out = RedactGrant(c.grant, markers);
    EXPECT_EQ(out.find("FF48E6"), std::string::npos) << c.name;
    EXPECT_EQ(out, c.redacted) << c.name;
  }
}

TEST(ServerProbesTest, SqlStringsDoubleTheirQuotes) {
  EXPECT_EQ(QuoteSqlString("SELECT 1"), "'SELECT 1'");
  EXPECT_EQ(QuoteSqlString("SELECT 'a'"), "'SELECT ''a'''");
  EXPECT_EQ(QuoteSqlString(""), "''");
}

}  // namespace
}  // namespace sqlx::flo
