// `sqlx audit`: keygen, verify, head, prove, check-proof and query over the
// store's audit log (docs/cli.md; formats in docs/formats/audit.md). Every
// command that reads the store records itself in the log after its outcome
// is known; check-proof and keygen touch no store.
#include <ctime>
#include <functional>
#include <iostream>

#include <cctype>
#include <cstdio>

#include <nlohmann/json.hpp>

#include "audit_access.h"
#include "audit_trail.h"
#include "commands.h"
#include "connection_learning.h"
#include "files.h"
#include "sqlx/storage/audit_log.h"

namespace sqlx::cli {
namespace {

using nlohmann::json;
using storage::AuditLog;

json EventJson(const storage::AuditEvent& e) { return json::parse(storage::AuditEventToJson(e)); }

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string Actor(const storage::AuditEvent& e) {
  if (!e.actor.token_subject.empty()) return "token:" + e.actor.token_subject;
  if (!e.actor.service.empty()) return "service:" + e.actor.service;
  return e.actor.os_user;
}

std::string ObjectName(const storage::AuditObject& o) {
  std::string name = o.connection;
  if (!o.database.empty()) name += (name.empty() ? "" : "/") + o.database;
  if (!o.table.empty()) name += "." + o.table;
  return name.empty() ? "-" : name;
}

// Writes `text` to --output (atomically), else stdout.
Status Emit(const AuditArgs& args, const std::string& text) {
  if (args.output.empty()) {
    std::cout << text << std::flush;
    return Status::Ok();
  }
  return WriteFileAtomically(args.output, text);
}

// --format json: one document; csv: a header and one row per event; text:
// one line per event.
void PrintEvents(const GlobalOptions& g, const storage::AuditQueryResult& result) {
  const std::vector<storage::AuditEvent>& events = result.events;
  if (result.unreadable > 0) {
    std::cerr << "sqlx: warning: " << result.unreadable
              << " indexed audit event(s) are missing or damaged and were skipped: run `sqlx audit verify`\n";
  }
  if (g.format == "json") {
    json list = json::array();
    for (const storage::AuditEvent& e : events) list.push_back(EventJson(e));
    const json out = {{"ok", true}, {"events", list}, {"unreadable", result.unreadable}, {"pruned", result.pruned}};
    std::cout << out.dump(
                     -1, ' ', false, json::error_handler_t::replace)
              << "\n";
  } else if (g.format == "csv") {
    std::cout << "seq,time,os_user,service,token_subject,host,pid,program,action,connection,database,table,"
                 "outcome,error,details,hash\n";
    for (const storage::AuditEvent& e : events) {
      std::cout << e.seq << "," << Rfc3339(e.time_ns, 3) << "," << CsvField(e.actor.os_user) << ","
                << CsvField(e.actor.service) << "," << CsvField(e.actor.token_subject) << "," << CsvField(e.host)
                << "," << e.pid << "," << CsvField(e.program) << "," << CsvField(e.action) << ","
                << CsvField(e.object.connection) << "," << CsvField(e.object.database) << ","
                << CsvField(e.object.table) << "," << storage::AuditOutcomeName(e.outcome) << ","
                << CsvField(e.error) << "," << CsvField(e.details_json) << "," << storage::ToHex(e.hash) << "\n";
    }
  } else {
    for (const storage::AuditEvent& e : events) {
      std::cout << e.seq << "  " << Rfc3339(e.time_ns, 3) << "  " << Actor(e) << "  " << e.action << "  "
                << ObjectName(e.object) << "  " << storage::AuditOutcomeName(e.outcome)
                << (e.error.empty() ? "" : ": " + e.error) << "\n";
    }
  }
}

}  // namespace

int RunAuditKeygen(const GlobalOptions& g, const std::string& out) {
  auto pub = storage::AuditSigningKey::Generate(out);
  if (!pub.ok()) return ReportError(g, pub.error());
  if (g.format == "json") {
    std::cout << json{{"ok", true}, {"key_file", out}, {"public_key_file", out + ".pub"},
                      {"public_key", storage::PublicKeyHex(*pub)}}.dump()
              << "\n";
  } else {
    std::cout << "signing key:  " << out << " (keep it outside the store; set SQLX_AUDIT_KEY=" << out << ")\n"
              << "public key:   " << out << ".pub (" << storage::PublicKeyHex(*pub) << ")\n";
  }
  return kExitOk;
}

int RunAuditVerify(const GlobalOptions& g, const AuditArgs& args) {
  auto anchors = TrustAnchors(g, args);
  if (!anchors.ok()) return ReportError(g, anchors.error());
  auto opened = OpenAuditStore(g);
  if (!opened.ok()) return ReportError(g, opened.error());
  AuditLog& log = *opened->log;
  auto report = log.Verify(*anchors);
  if (!report.ok()) {
    return FailAudited(g, log, "audit.verify", report.error(), json::object());
  }
  json out = {{"ok", report->ok},
              {"events", report->events},
              {"checkpoints", report->checkpoints},
              {"anchored", report->anchored},
              {"unsigned_tail", report->unsigned_tail},
              {"pruned", report->pruned},
              {"message", report->message}};
  if (report->fault) {
    out["fault"] = {{"kind", std::string(storage::AuditFaultName(*report->fault))}, {"seq", report->bad_seq}};
  }
  json details = out;
  details.erase("message");
  const Error failure = MakeError(ErrorCode::kInvalidArgument, report->message);
  return FinishAudited(g, log, "audit.verify", report->ok ? nullptr : &failure, details, [&] {
    if (g.format == "json") {
      std::cout << out.dump() << "\n";
    } else {
      std::cout << (report->ok ? "ok: " : "FAILED: ") << report->message << "\n";
    }
    return report->ok ? kExitOk : kExitDrift;
  });
}

int RunAuditHead(const GlobalOptions& g, const AuditArgs& args) {
  auto opened = OpenAuditStore(g);
  if (!opened.ok()) return ReportError(g, opened.error());
  AuditLog& log = *opened->log;
  Result<storage::Checkpoint> checkpoint = MakeError(ErrorCode::kInternal, "unset");
  if (!AuditKeyFile(g).empty()) {
    checkpoint = log.CheckpointNow();
  } else {
    auto latest = log.LatestCheckpoint();
    if (!latest.ok()) {
      checkpoint = latest.error();
    } else if (!latest->has_value()) {
      checkpoint = MakeError(ErrorCode::kNotFound,
                             "the audit log has no signed checkpoint: set SQLX_AUDIT_KEY (or --audit-key) to a key "
                             "made by `sqlx audit keygen --out FILE`");
    } else {
      checkpoint = **latest;
    }
  }
  if (!checkpoint.ok()) return FailAudited(g, log, "audit.export", checkpoint.error(), json::object());
  json details = {{"tree_size", checkpoint->tree_size}, {"output", args.output.empty() ? "-" : args.output}};
  // A file is written before the export is recorded; stdout after.
  if (!args.output.empty()) {
    Status st = Emit(args, storage::CheckpointToJson(*checkpoint));
    if (!st.ok()) return FailAudited(g, log, "audit.export", st.error(), details);
  }
  return FinishAudited(g, log, "audit.export", nullptr, details, [&] {
    if (args.output.empty()) {
      std::cout << storage::CheckpointToJson(*checkpoint) << std::flush;
    } else if (g.format != "json") {
      std::cerr << "checkpoint of " << checkpoint->tree_size << " events written to " << args.output << "\n";
    }
    return kExitOk;
  });
}

int RunAuditProve(const GlobalOptions& g, const AuditArgs& args) {
  auto opened = OpenAuditStore(g);
  if (!opened.ok()) return ReportError(g, opened.error());
  AuditLog& log = *opened->log;
  std::string text;
  json details;
  Status st;
  if (!args.consistency.empty()) {
    details = {{"first", args.consistency[0]}, {"second", args.consistency[1]}};
    auto proof = log.ProveConsistency(args.consistency[0], args.consistency[1]);
    if (proof.ok()) text = storage::ConsistencyProofToJson(*proof);
    st = proof.ok() ? Status::Ok() : Status(proof.error());
  } else {
    // The tree the proof is for: the given checkpoint's, else the newest.
    Result<storage::Checkpoint> at = MakeError(ErrorCode::kNotFound,
                                               "the audit log has no signed checkpoint to prove against: pass "
                                               "--checkpoint FILE or set SQLX_AUDIT_KEY");
    if (!args.checkpoint_files.empty()) {
      at = ReadCheckpoint(args.checkpoint_files.front());
    } else if (!AuditKeyFile(g).empty()) {
      at = log.CheckpointNow();
    } else if (auto latest = log.LatestCheckpoint(); latest.ok() && latest->has_value()) {
      at = **latest;
    }
    details = {{"seq", args.seq}};
    if (at.ok()) {
      details["tree_size"] = at->tree_size;
      auto proof = log.ProveInclusion(args.seq, at->tree_size);
      if (proof.ok()) text = storage::InclusionProofToJson(*proof);
      st = proof.ok() ? Status::Ok() : Status(proof.error());
    } else {
      st = at.error();
    }
  }
  if (st.ok() && !args.output.empty()) st = Emit(args, text);
  if (!st.ok()) return FailAudited(g, log, "audit.prove", st.error(), details);
  return FinishAudited(g, log, "audit.prove", nullptr, details, [&] {
    if (args.output.empty()) std::cout << text << std::flush;
    return kExitOk;
  });
}

int RunAuditCheckProof(const GlobalOptions& g, const AuditArgs& args) {
  auto text = ReadTextFile(args.proof_file, 1 << 20);
  if (!text.ok()) return ReportError(g, text.error());
  auto proof = storage::ParseProofJson(*text);
  if (!proof.ok()) {
    return ReportError(g, MakeError(ErrorCode::kInvalidArgument, args.proof_file + ": " + proof.error().message));
  }
  std::optional<storage::PublicKey> key;
  if (!args.pubkey_file.empty()) {
    auto loaded = storage::LoadPublicKey(args.pubkey_file);
    if (!loaded.ok()) return ReportError(g, loaded.error());
    key = *loaded;
  }
  std::vector<storage::Checkpoint> trusted;
  for (const std::string& file : args.checkpoint_files) {
    auto c = ReadCheckpoint(file);
    if (!c.ok()) return ReportError(g, c.error());
    trusted.push_back(*c);
  }
  storage::ProofVerdict verdict;
  if (proof->inclusion) {
    if (trusted.empty()) {
      return ReportError(g, MakeError(ErrorCode::kInvalidArgument,
                                      "an inclusion proof is checked against a checkpoint: pass --checkpoint FILE"));
    }
    const storage::Checkpoint* match = &trusted.front();
    for (const storage::Checkpoint& c : trusted) {
      if (c.tree_size == proof->inclusion->tree_size) match = &c;
    }
    verdict = storage::CheckInclusion(*proof->inclusion, *match, key);
  } else {
    verdict = storage::CheckConsistency(*proof->consistency, trusted, key);
  }
  if (g.format == "json") {
    std::cout << json{{"ok", verdict.valid}, {"valid", verdict.valid}, {"reason", verdict.reason}}.dump() << "\n";
  } else {
    std::cout << (verdict.valid ? "valid: " : "INVALID: ") << verdict.reason << "\n";
  }
  return verdict.valid ? kExitOk : kExitDrift;
}

namespace {

// `audit query --orchestrator URL`: the timeline of a running orchestrator,
// which holds its store, through GET /v1/audit/events (an auditor's or an
// admin's token in $SQLX_TOKEN; the orchestrator records the read).
int QueryOrchestrator(const GlobalOptions& g, const AuditArgs& args, const storage::AuditQuery& q) {
  std::string path = "/v1/audit/events?limit=" + std::to_string(q.limit);
  auto param = [&path](const char* name, const std::string& value) {
    if (value.empty()) return;
    std::string encoded;
    for (unsigned char c : value) {
      if (std::isalnum(c) != 0 || c == '-' || c == '_' || c == '.' || c == '~') {
        encoded.push_back(static_cast<char>(c));
      } else {
        char hex[4];
        std::snprintf(hex, sizeof hex, "%%%02X", c);
        encoded += hex;
      }
    }
    path += std::string("&") + name + "=" + encoded;
  };
  if (q.since_ns) param("since_ns", std::to_string(*q.since_ns));
  if (q.until_ns) param("until_ns", std::to_string(*q.until_ns));
  param("db", q.database);
  param("object", q.object);
  param("actor", q.actor);
  param("action", q.action);
  param("outcome", args.outcome);
  auto answer = OrchestratorGet(args.orchestrator, args.orchestrator_ca, path);
  if (!answer.ok()) return ReportError(g, answer.error());
  const json doc = json::parse(*answer, nullptr, false);
  if (!doc.is_object() || !doc.contains("events"))
    return ReportError(g, MakeError(ErrorCode::kProtocol, "the orchestrator's answer holds no events"));
  storage::AuditQueryResult result;
  result.unreadable = doc.value("unreadable", uint64_t{0});
  result.pruned = doc.value("pruned", uint64_t{0});
  for (const json& e : doc["events"]) {
    auto event = storage::AuditEventFromJson(e.dump());
    if (!event.ok()) return ReportError(g, event.error());
    result.events.push_back(std::move(event).value());
  }
  PrintEvents(g, result);
  return kExitOk;
}

}  // namespace

int RunAuditQuery(const GlobalOptions& g, const AuditArgs& args) {
  storage::AuditQuery q;
  const int64_t now = UnixNowNs();
  for (auto [text, out] : {std::pair{&args.since, &q.since_ns}, std::pair{&args.until, &q.until_ns}}) {
    if (text->empty()) continue;
    auto t = ParseTime(*text, now);
    if (!t.ok()) return ReportError(g, t.error());
    *out = *t;
  }
  if (!args.outcome.empty()) {
    q.outcome = args.outcome == "ok" ? storage::AuditOutcome::kOk : storage::AuditOutcome::kFailed;
  }
  q.database = args.db;
  q.object = args.object;
  q.actor = args.actor;
  q.action = args.action;
  q.limit = args.limit;
  if (!args.orchestrator.empty()) return QueryOrchestrator(g, args, q);
  auto opened = OpenAuditStore(g);
  if (!opened.ok()) return ReportError(g, opened.error());
  AuditLog& log = *opened->log;
  json filters = {{"since", args.since}, {"until", args.until}, {"db", args.db}, {"object", args.object},
                  {"actor", args.actor}, {"action", args.action}, {"outcome", args.outcome}, {"limit", args.limit}};
  auto events = log.Query(q);
  if (!events.ok()) return FailAudited(g, log, "audit.query", events.error(), filters);
  filters["matched"] = events->events.size();
  return FinishAudited(g, log, "audit.query", nullptr, filters, [&] {
    PrintEvents(g, *events);
    return kExitOk;
  });
}

}  // namespace sqlx::cli
