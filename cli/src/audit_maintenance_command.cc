// `sqlx audit prune` and `sqlx audit repair`: the two subcommands that change
// the log other than by appending. Both verify the whole log first and
// change nothing when it does not verify (exit 3); both record what they did
// as an event in the same batch as the change (audit.prune, audit.repair).
#include <cctype>
#include <iostream>

#include <nlohmann/json.hpp>

#include "audit_access.h"
#include "commands.h"
#include "connection_learning.h"

namespace sqlx::cli {
namespace {

using nlohmann::json;

// --older-than: a period ("90d", also written "-90d": units s m h d w)
// before now, or an RFC 3339 time.
Result<int64_t> ParseCutoff(const std::string& text, int64_t now_ns) {
  const bool period = text.size() >= 2 && std::isdigit(static_cast<unsigned char>(text[0])) != 0 &&
                      text.find_first_not_of("0123456789") == text.size() - 1;
  Result<int64_t> parsed = ParseTime(period ? "-" + text : text, now_ns);
  if (!parsed.ok()) {
    return MakeError(ErrorCode::kInvalidArgument, "--older-than: cannot read '" + text +
                                                      "': give a period before now (90d, 12h, 30m; units s m h d "
                                                      "w) or an RFC 3339 time (2026-01-01T00:00:00Z)");
  }
  const int64_t cutoff = *parsed;
  if (cutoff > now_ns) {
    return MakeError(ErrorCode::kInvalidArgument, "--older-than " + text + " is in the future (" +
                                                      Rfc3339(cutoff, 3) + "): give a time before now");
  }
  return cutoff;
}

json VerifiedJson(const storage::AuditVerifyReport& r) {
  json out = {{"ok", r.ok}, {"events", r.events}, {"pruned", r.pruned}, {"anchored", r.anchored},
              {"message", r.message}};
  if (r.fault) out["fault"] = {{"kind", std::string(storage::AuditFaultName(*r.fault))}, {"seq", r.bad_seq}};
  return out;
}

// The log did not verify: nothing was changed. Records the refusal (when the
// log still takes appends) and exits 3.
int RefuseUnverified(const GlobalOptions& g, storage::AuditLog& log, const std::string& action,
                     const storage::AuditVerifyReport& verified, json details) {
  const std::string message = "nothing changed: the audit log does not verify: " + verified.message;
  details["verified"] = VerifiedJson(verified);
  details["verified"].erase("message");
  const Error failure = MakeError(ErrorCode::kInvalidArgument, message);
  return FinishAudited(g, log, action, &failure, details, [&] {
    if (g.format == "json") {
      std::cout << json{{"ok", false}, {"message", message}, {"verified", VerifiedJson(verified)}}.dump() << "\n";
    } else {
      std::cout << "FAILED: " << message << "\n";
    }
    return kExitDrift;
  });
}

}  // namespace

int RunAuditPrune(const GlobalOptions& g, const AuditArgs& args) {
  const int64_t now = UnixNowNs();
  auto cutoff = ParseCutoff(args.older_than, now);
  if (!cutoff.ok()) return ReportError(g, cutoff.error());
  auto anchors = TrustAnchors(g, args);
  if (!anchors.ok()) return ReportError(g, anchors.error());
  auto opened = OpenAuditStore(g);
  if (!opened.ok()) return ReportError(g, opened.error());
  storage::AuditLog& log = *opened->log;
  const json request = {{"older_than", args.older_than}, {"cutoff", Rfc3339(*cutoff, 3)}};
  storage::AuditEvent record = storage::NewAuditEvent("audit.prune");
  record.details_json = request.dump();
  auto report = log.Prune({*cutoff, *anchors}, std::move(record));
  if (!report.ok()) return FailAudited(g, log, "audit.prune", report.error(), request);
  if (!report->verified.ok) return RefuseUnverified(g, log, "audit.prune", report->verified, request);
  if (g.format == "json") {
    std::cout << json{{"ok", true},
                      {"pruned", report->pruned},
                      {"first_seq", report->first_seq},
                      {"last_seq", report->last_seq},
                      {"pruned_total", report->verified.pruned + report->pruned},
                      {"cutoff", Rfc3339(*cutoff, 3)},
                      {"cutoff_ns", *cutoff},
                      {"recorded_seq", report->recorded.seq}}
                     .dump()
              << "\n";
  } else {
    std::cout << "pruned " << report->pruned << " event(s) older than " << Rfc3339(*cutoff, 3)
              << " to their leaf hash";
    if (report->pruned > 0) std::cout << " (seq " << report->first_seq << " to " << report->last_seq << ")";
    std::cout << "; " << report->verified.pruned + report->pruned << " pruned in all; recorded as event "
              << report->recorded.seq << "\n";
  }
  return kExitOk;
}

int RunAuditRepair(const GlobalOptions& g, const AuditArgs& args) {
  auto anchors = TrustAnchors(g, args);
  if (!anchors.ok()) return ReportError(g, anchors.error());
  auto opened = OpenAuditStore(g);
  if (!opened.ok()) return ReportError(g, opened.error());
  storage::AuditLog& log = *opened->log;
  auto report = log.RepairHead(*anchors, storage::NewAuditEvent("audit.repair"));
  if (!report.ok()) return FailAudited(g, log, "audit.repair", report.error(), json::object());
  if (!report->verified.ok) return RefuseUnverified(g, log, "audit.repair", report->verified, json::object());
  const json out = {{"ok", true},
                    {"repaired", report->repaired},
                    {"size", report->size},
                    {"damage", report->damage},
                    {"verified", VerifiedJson(report->verified)}};
  auto print = [&] {
    if (g.format == "json") {
      std::cout << out.dump() << "\n";
    } else if (report->repaired) {
      std::cout << "repaired: the audit head was rebuilt from " << report->verified.events
                << " verified events and the repair recorded as event " << report->recorded.seq << " ("
                << report->damage << ")\n";
    } else {
      std::cout << "ok: the audit head matches the " << report->size << " stored events; nothing to repair\n";
    }
    return kExitOk;
  };
  if (report->repaired) return print();  // the repair event is already in the log
  return FinishAudited(g, log, "audit.repair", nullptr, {{"repaired", false}, {"size", report->size}}, print);
}

}  // namespace sqlx::cli
