// Shared by the `sqlx audit` subcommands (audit_access.h).
#include "audit_access.h"

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <exception>
#include <iostream>

#include "audit_trail.h"
#include "connection_learning.h"
#include "files.h"
#include "sqlx/storage/audit_proof.h"

namespace sqlx::cli {

using nlohmann::json;

Result<OpenedLog> OpenAuditStore(const GlobalOptions& g) {
  OpenedLog out;
  SQLX_ASSIGN_OR_RETURN(out.store, OpenStore(g));
  SQLX_ASSIGN_OR_RETURN(out.log, OpenAuditLog(g, *out.store));
  return out;
}

int FinishAudited(const GlobalOptions& g, storage::AuditLog& log, const std::string& action, const Error* error,
                  const json& details, const std::function<int()>& report) {
  Status st = RecordAudit(log, action, {}, error, details.dump());
  if (!st.ok()) {
    // A failed command (a damaged log, above all) still reports what it found.
    if (error == nullptr) return ReportError(g, st.error());
    std::cerr << "sqlx: warning: this " << action << " could not be recorded: " << st.error().ToString() << "\n";
  }
  return report();
}

int FailAudited(const GlobalOptions& g, storage::AuditLog& log, const std::string& action, const Error& error,
                const json& details) {
  return FinishAudited(g, log, action, &error, details, [&] { return ReportError(g, error); });
}

Result<storage::AuditVerifyOptions> TrustAnchors(const GlobalOptions& g, const AuditArgs& args) {
  storage::AuditVerifyOptions options;
  if (!args.pubkey_file.empty()) {
    SQLX_ASSIGN_OR_RETURN(options.trusted_key, storage::LoadPublicKey(args.pubkey_file));
  }
  if (!args.checkpoint_files.empty()) {
    SQLX_ASSIGN_OR_RETURN(options.trusted_checkpoint, ReadCheckpoint(args.checkpoint_files.front()));
  }
  if (!options.trusted_key && !options.trusted_checkpoint && !AuditKeyFile(g).empty()) {
    SQLX_ASSIGN_OR_RETURN(storage::AuditSigningKey key, storage::AuditSigningKey::Load(AuditKeyFile(g)));
    options.trusted_key = key.public_key();
  }
  return options;
}

Result<int64_t> ParseTime(const std::string& text, int64_t now_ns) {
  auto bad = [&] {
    return MakeError(ErrorCode::kInvalidArgument, "cannot read the time '" + text +
                                                      "': use RFC 3339 (2024-05-01T12:00:00Z) or -15m, -2h, -7d");
  };
  if (!text.empty() && text[0] == '-') {
    const std::optional<int64_t> seconds = ParsePeriodSeconds(std::string_view(text).substr(1));
    if (!seconds) return bad();
    return now_ns - *seconds * 1000000000LL;
  }
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &consumed) != 3 || consumed != 10) {
    return bad();
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int64_t frac_ns = 0;
  int64_t offset_s = 0;
  size_t pos = 10;
  if (pos < text.size()) {
    if ((text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') ||
        std::sscanf(text.c_str() + pos + 1, "%2d:%2d:%2d%n", &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &consumed) != 3 ||
        consumed != 8) {
      return bad();
    }
    pos += 9;
    if (pos < text.size() && text[pos] == '.') {
      int64_t scale = 100000000;
      for (++pos; pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) != 0; ++pos) {
        frac_ns += (text[pos] - '0') * scale;
        scale /= 10;
      }
    }
    if (pos < text.size() && (text[pos] == 'Z' || text[pos] == 'z') && pos + 1 == text.size()) {
      // UTC
    } else {
      int oh = 0;
      int om = 0;
      if (pos + 6 != text.size() || (text[pos] != '+' && text[pos] != '-') ||
          std::sscanf(text.c_str() + pos + 1, "%2d:%2d", &oh, &om) != 2) {
        return bad();
      }
      offset_s = (text[pos] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
    }
  }
  const std::time_t secs = timegm(&tm);
  // Times are i64 nanoseconds: 1677-09-21 to 2262-04-11.
  if (secs <= INT64_MIN / 1000000000LL + 86400 || secs >= INT64_MAX / 1000000000LL - 86400) return bad();
  return (static_cast<int64_t>(secs) - offset_s) * 1000000000LL + frac_ns;
}

Result<storage::Checkpoint> ReadCheckpoint(const std::string& path) {
  SQLX_ASSIGN_OR_RETURN(std::string text, ReadTextFile(path, 1 << 20));
  auto c = storage::ParseCheckpointJson(text);
  if (!c.ok()) return MakeError(ErrorCode::kInvalidArgument, path + ": " + c.error().message);
  return c;
}

}  // namespace sqlx::cli
