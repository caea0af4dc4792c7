// Holds transports/'s promise: no database dialect in its C++ code. Every
// MySQL/MariaDB name, opcode, marker byte and layout lives in the wire pack
// (transports/packs/*.json). This test reads every file under transports/src
// and transports/include and fails on protocol-specific tokens, printing
// file:line for each hit. There is no allow-list: move the knowledge into
// the pack (or make the name generic) instead.
#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace sqlx::transports {
namespace {

namespace fs = std::filesystem;

enum class Match {
  kWord,         // case-insensitive substring
  kExact,        // case-sensitive substring (CONSTANT_PREFIXES)
  kHexByte,      // case-insensitive, not followed by another hex digit ("0xff", not "0xffff")
  kNumber,       // not inside a longer number
};

struct Token {
  const char* text;
  Match match;
};

constexpr Token kTokens[] = {
    {"mysql", Match::kWord},
    {"mariadb", Match::kWord},
    {"COM_", Match::kExact},
    {"CLIENT_", Match::kExact},
    {"SERVER_STATUS", Match::kExact},
    {"caching_sha2", Match::kWord},
    {"native_password", Match::kWord},
    {"ed25519_password", Match::kWord},
    {"client_ed25519", Match::kWord},
    {"lenenc", Match::kWord},
    // Not listed on purpose: "greeting", "handshake" and "sqlstate" are
    // generic vocabulary (a server greeting, the TLS handshake, the SQL
    // standard's SQLSTATE) and names of the documented host contract.
    {"scramble", Match::kWord},
    {"0xfe", Match::kHexByte},
    {"0xff", Match::kHexByte},
    {"0xfb", Match::kHexByte},
    {"3306", Match::kNumber},
};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }
bool IsDigit(char c) { return std::isdigit(static_cast<unsigned char>(c)) != 0; }

// True when `token` occurs in `line` under its matching rule.
bool Matches(const Token& token, std::string_view line) {
  const std::string lower = Lower(line);
  const std::string want = Lower(token.text);
  const std::string_view hay = token.match == Match::kExact ? line : std::string_view(lower);
  const std::string_view needle = token.match == Match::kExact ? std::string_view(token.text) : want;
  for (size_t at = hay.find(needle); at != std::string_view::npos; at = hay.find(needle, at + 1)) {
    const size_t end = at + needle.size();
    switch (token.match) {
      case Match::kWord:
      case Match::kExact: return true;
      case Match::kHexByte:
        if (end >= hay.size() || !IsHex(hay[end])) return true;
        break;
      case Match::kNumber:
        if ((at == 0 || !IsDigit(hay[at - 1])) && (end >= hay.size() || !IsDigit(hay[end]))) return true;
        break;
    }
  }
  return false;
}

std::vector<std::string> TokensIn(std::string_view line) {
  std::vector<std::string> hits;
  for (const Token& t : kTokens)
    if (Matches(t, line)) hits.emplace_back(t.text);
  return hits;
}

TEST(NoDialectScannerTest, FindsProtocolTokensAndIgnoresLookalikes) {
  struct Case {
    const char* line;
    std::vector<std::string> tokens;
  };
  const std::vector<Case> cases = {
      {"if (first == 0xFE) return;", {"0xfe"}},
      {"uint32_t mask = 0xffff;", {}},
      {"v & 0xff", {"0xff"}},
      {"int port = 3306;", {"3306"}},
      {"int n = 33060;", {}},
      {"// MySQL's --ssl-mode spelling", {"mysql"}},
      {"SSL_CTX_new(TLS_client_method())", {}},
      {"caps |= CLIENT_SSL;", {"CLIENT_"}},
      {"std::vector<std::string> client_capabilities;", {}},
      {"Get(\"sqlstate\")", {}},
      {"TLS handshake failed", {}},
      {"the server's Greeting", {}},
      {"lenenc_int(x)", {"lenenc"}},
      {"SERVER_STATUS_IN_TRANS", {"SERVER_STATUS"}},
      {"COM_QUERY", {"COM_"}},
      {"a generic line of C++", {}},
  };
  for (const Case& c : cases) EXPECT_EQ(TokensIn(c.line), c.tokens) << c.line;
}

struct Hit {
  std::string file;
  size_t line;
  std::string token;
  std::string text;
};

std::vector<Hit> Scan(const fs::path& root, size_t* files_scanned) {
  std::vector<Hit> hits;
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(root))
    if (entry.is_regular_file()) files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (const fs::path& file : files) {
    ++*files_scanned;
    std::ifstream in(file);
    std::string line;
    for (size_t n = 1; std::getline(in, line); ++n) {
      for (const std::string& token : TokensIn(line))
        hits.push_back({fs::relative(file, SQLX_SOURCE_DIR).string(), n, token, line});
    }
  }
  return hits;
}

TEST(NoDialectTest, TransportsCodeNamesNoDatabaseProtocol) {
  const fs::path source(SQLX_SOURCE_DIR);
  std::vector<Hit> hits;
  size_t files = 0;
  for (const char* dir : {"transports/src", "transports/include"}) {
    ASSERT_TRUE(fs::is_directory(source / dir)) << (source / dir);
    std::vector<Hit> more = Scan(source / dir, &files);
    hits.insert(hits.end(), more.begin(), more.end());
  }
  EXPECT_GE(files, 10u) << "the scan found too few files to mean anything";
  std::string report;
  for (const Hit& h : hits) {
    std::string text = h.text;
    text.erase(0, text.find_first_not_of(" \t"));
    report += "  " + h.file + ":" + std::to_string(h.line) + ": [" + h.token + "] " + text + "\n";
  }
  EXPECT_TRUE(hits.empty()) << hits.size()
                            << " protocol-specific token(s) in transports/ C++ code; move that "
                               "knowledge into the wire pack:\n"
                            << report;
}

}  // namespace
}  // namespace sqlx::transports
