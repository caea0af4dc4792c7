// Runs a learn pack's statements over one session and turns their outcomes
// into capabilities: variables, probes, inference rules, auth plugins and
// grants. A server error is an outcome; any other error (the connection is
// gone, a stream is still open) ends the learn.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "learn_pack.h"
#include "sqlx/flo/learn_server.h"
#include "sqlx/messages/result.h"
#include "sqlx/transports/session.h"

namespace sqlx::flo {

// One statement's outcome: its column names and rows (text cells, nullopt
// for NULL), or the server's error.
struct StatementOutcome {
  bool ok = true;
  Error error;  // when !ok: a kServer error
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
};

// Runs `sql` and reads every row of its first result.
Result<StatementOutcome> RunStatement(transports::Session& session, std::string_view sql);

// Runs `sql` (one or more statements) and reads every result. The list ends
// early with a failed outcome when a statement fails: the server runs none
// after it. A server error is an outcome; anything else fails.
Result<std::vector<StatementOutcome>> RunStatements(transports::Session& session, std::string_view sql);

// `text` with every `placeholder` replaced by `with`.
std::string ReplaceAll(std::string text, std::string_view placeholder, std::string_view with);

// `sql` as a single-quoted SQL string literal ('' for a quote).
std::string QuoteSqlString(std::string_view sql);

// The grant with the quoted string after each marker (case-insensitive)
// replaced by '<redacted>': SHOW GRANTS on MariaDB prints password hashes.
std::string RedactGrant(std::string_view grant, const std::vector<std::string>& markers);

// Fills `out` (capabilities, auth_plugins, grants, not_visible) for the
// server behind `session`. REQUIRES: `pack`, `session` and `out` outlive it;
// out->flavor and out->version_number are set.
class ServerProbes {
 public:
  ServerProbes(const LearnPack& pack, transports::Session& session, LearnedServer* out)
      : pack_(pack), session_(session), out_(out) {}

  // The pack's variables in one statement.
  Status ReadVariables();
  // The pack's capabilities in pack order. REQUIRES: ReadVariables() ran
  // (inference rules read variables).
  Status RunCapabilities();
  // Auth plugins and grants.
  Status ReadSecurity();

 private:
  Result<Capability> RunProbe(const CapabilityProbe& probe);
  Result<StatementOutcome> RunParseProbe(const CapabilityProbe& probe, std::string* source);
  Result<StatementOutcome> RunScript(const CapabilityProbe& probe);
  // Reads a failed probe's error as the pack's error classes say.
  void ReadError(const CapabilityProbe& probe, const Error& error, Capability* cap);
  // The first matching rule's value and a description of it, or the default.
  void Infer(const std::vector<LearnRule>& rules, const std::string& default_value, Capability* cap) const;
  bool RuleMatches(const LearnRule& rule, std::string* description) const;
  void NotVisible(const std::string& what, const Error& error);

  const LearnPack& pack_;
  transports::Session& session_;
  LearnedServer* out_;
  std::map<std::string, std::string> variables_;  // lowercase name → value, as the server has them
};

}  // namespace sqlx::flo
