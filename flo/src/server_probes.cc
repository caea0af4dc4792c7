// Runs the learn pack's variables, probes, inference rules and security
// statements; what each outcome means comes from the pack (errors classes,
// yields, on_error, fallback rules), not from this file.
#include "server_probes.h"

#include <algorithm>
#include <cctype>

#include <nlohmann/json.hpp>

#include "catalog.h"

namespace sqlx::flo {

namespace {

bool Contains(const std::vector<int>& codes, int code) {
  return std::find(codes.begin(), codes.end(), code) != codes.end();
}

// JSON text of a string; bytes that are not UTF-8 become U+FFFD.
std::string JsonString(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// A variable's value as JSON text of the pack's type; a value that does not
// fit the type is kept as a string rather than lost.
std::string TypedValue(const std::string& value, VariableType type) {
  if (type == VariableType::kNumber && !value.empty() && value.size() < 20 &&
      std::all_of(value.begin(), value.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return std::to_string(std::stoull(value));
  if (type == VariableType::kBool) {
    std::string v = AsciiLower(value);
    if (v == "on" || v == "yes" || v == "true" || v == "1") return "true";
    if (v == "off" || v == "no" || v == "false" || v == "0") return "false";
  }
  return JsonString(value);
}

// A server error is an outcome; anything else ends the learn.
Result<StatementOutcome> Outcome(const Error& error) {
  if (error.code != ErrorCode::kServer) return error;
  StatementOutcome out;
  out.ok = false;
  out.error = error;
  return out;
}

}  // namespace

std::string ReplaceAll(std::string text, std::string_view placeholder, std::string_view with) {
  for (size_t pos = text.find(placeholder); pos != std::string::npos;
       pos = text.find(placeholder, pos + with.size()))
    text.replace(pos, placeholder.size(), with);
  return text;
}

// Runs `sql` (one or more statements) and reads every result. The list ends
// early with a failed outcome when a statement fails: the server runs none
// after it.
Result<std::vector<StatementOutcome>> RunStatements(transports::Session& session, std::string_view sql) {
  std::vector<StatementOutcome> out;
  auto failed = [&](const Error& error) -> Result<std::vector<StatementOutcome>> {
    SQLX_ASSIGN_OR_RETURN(StatementOutcome outcome, Outcome(error));
    out.push_back(std::move(outcome));
    return std::move(out);
  };
  auto stream = session.Query(sql);
  if (!stream.ok()) return failed(stream.error());
  for (;;) {
    auto more = (*stream)->NextResult();
    if (!more.ok()) return failed(more.error());
    if (!*more) break;
    StatementOutcome outcome;
    for (const auto& column : (*stream)->columns()) outcome.columns.push_back(column.name);
    while ((*stream)->has_rows()) {
      auto batch = (*stream)->NextBatch();
      if (!batch.ok()) return failed(batch.error());
      if (*batch == nullptr) break;
      for (size_t r = 0; r < (*batch)->rows(); ++r) {
        std::vector<std::optional<std::string>> row;
        for (size_t c = 0; c < (*batch)->columns(); ++c) {
          auto cell = (*batch)->cell(r, c);
          row.push_back(cell ? std::optional<std::string>(std::string(*cell)) : std::nullopt);
        }
        outcome.rows.push_back(std::move(row));
      }
    }
    out.push_back(std::move(outcome));
  }
  return out;
}

Result<StatementOutcome> RunStatement(transports::Session& session, std::string_view sql) {
  SQLX_ASSIGN_OR_RETURN(std::vector<StatementOutcome> results, RunStatements(session, sql));
  if (results.empty()) return StatementOutcome{};
  return std::move(results.front());
}

std::string QuoteSqlString(std::string_view sql) { return QuoteSqlLiteral(sql, SqlQuoting::kNoBackslashEscapes); }

std::string RedactGrant(std::string_view grant, const std::vector<std::string>& markers) {
  std::string out(grant);
  for (const auto& marker : markers) {
    const std::string lower_marker = AsciiLower(marker);
    size_t pos = 0;
    while ((pos = AsciiLower(out).find(lower_marker, pos)) != std::string::npos) {
      size_t open = pos + marker.size();
      if (open >= out.size() || out[open] != '\'') {
        pos = open;
        continue;
      }
      // The literal ends at the first quote not doubled and not escaped.
      size_t close = open + 1;
      while (close < out.size()) {
        if (out[close] == '\\') close += 2;
        else if (out[close] == '\'' && close + 1 < out.size() && out[close + 1] == '\'') close += 2;
        else if (out[close] == '\'') break;
        else ++close;
      }
      const std::string redacted = "'<redacted>'";
      out.replace(open, std::min(close, out.size() - 1) - open + 1, redacted);
      pos = open + redacted.size();
    }
  }
  return out;
}

void ServerProbes::NotVisible(const std::string& what, const Error& error) {
  out_->not_visible.push_back(what + ": " + error.ToString());
}

Status ServerProbes::ReadVariables() {
  std::string names;
  auto add = [&](const std::string& name) {
    std::string quoted = QuoteSqlString(name);
    if (names.find(quoted) == std::string::npos) names += (names.empty() ? "" : ", ") + quoted;
  };
  for (const auto& read : pack_.variables)
    for (const auto& v : read.variables) add(v);
  for (const auto& probe : pack_.capabilities)
    for (const auto& rule : probe.rules)
      if (!rule.variable.empty()) add(rule.variable);
  const std::string sql = ReplaceAll(pack_.variables_query, "{names}", names);
  SQLX_ASSIGN_OR_RETURN(StatementOutcome outcome, RunStatement(session_, sql));
  if (!outcome.ok && Contains(pack_.errors.privilege, outcome.error.server_code))
    NotVisible("variables", outcome.error);
  for (const auto& row : outcome.rows)
    if (row.size() >= 2 && row[0] && row[1]) variables_[AsciiLower(*row[0])] = *row[1];

  for (const auto& read : pack_.variables) {
    Capability cap;
    cap.name = read.name;
    cap.evidence = Evidence::kVariable;
    cap.value = "null";
    for (const auto& v : read.variables) cap.source += (cap.source.empty() ? "@@" : " | @@") + v;
    if (!outcome.ok) {
      cap.result = outcome.error.ToString();
    } else {
      cap.result = "absent on this server";
      for (const auto& v : read.variables) {
        auto it = variables_.find(AsciiLower(v));
        if (it == variables_.end()) continue;
        cap.value = TypedValue(it->second, read.type);
        cap.source = "@@" + v;
        cap.result = "ok";
        break;
      }
    }
    out_->capabilities.push_back(std::move(cap));
  }
  return Status::Ok();
}

bool ServerProbes::RuleMatches(const LearnRule& rule, std::string* description) const {
  if (!RuleMatchesServer(rule, out_->flavor, out_->version_number, description)) return false;
  if (!rule.variable.empty()) {
    auto it = variables_.find(AsciiLower(rule.variable));
    if (it == variables_.end()) return false;
    bool in = std::any_of(rule.variable_in.begin(), rule.variable_in.end(),
                          [&](const std::string& v) { return AsciiLower(v) == AsciiLower(it->second); });
    if (!in) return false;
    const std::string held = "@@" + rule.variable + " = " + it->second;
    *description = *description == "always" ? held : *description + ", " + held;
  }
  return true;
}

void ServerProbes::Infer(const std::vector<LearnRule>& rules, const std::string& default_value,
                         Capability* cap) const {
  cap->evidence = Evidence::kInferred;
  for (const auto& rule : rules) {
    std::string description;
    if (RuleMatches(rule, &description)) {
      cap->value = rule.value;
      cap->source = "rule: " + description;
      return;
    }
  }
  cap->value = default_value;
  cap->source = "rule: none matched " + out_->flavor + " " +
                (out_->version.empty() ? std::string("(unknown version)") : out_->version) + ", default";
}

void ServerProbes::ReadError(const CapabilityProbe& probe, const Error& error, Capability* cap) {
  cap->result = error.ToString();
  if (Contains(pack_.errors.privilege, error.server_code)) {
    cap->value = "null";  // unknown: the user may not look
    NotVisible(probe.name, error);
  } else if (probe.error_is_unknown) {
    cap->value = "null";
  } else if (Contains(pack_.errors.syntax, error.server_code) || probe.rules.empty()) {
    cap->value = "false";
  } else {
    // The probe decided nothing (a missing catalog table, a statement that
    // cannot be prepared): the pack's fallback rules do.
    Infer(probe.rules, probe.default_value, cap);
    cap->result += "; inferred";
  }
}

Result<StatementOutcome> ServerProbes::RunParseProbe(const CapabilityProbe& probe, std::string* source) {
  *source = ReplaceAll(pack_.prepare, "{statement}", QuoteSqlString(probe.statements[0]));
  SQLX_ASSIGN_OR_RETURN(StatementOutcome outcome, RunStatement(session_, *source));
  if (outcome.ok) {
    // Only a prepared statement needs freeing; an error here changes nothing learned.
    SQLX_ASSIGN_OR_RETURN(StatementOutcome ignored, RunStatement(session_, pack_.deallocate));
    (void)ignored;
  }
  return outcome;
}

Result<StatementOutcome> ServerProbes::RunScript(const CapabilityProbe& probe) {
  StatementOutcome outcome;
  for (const auto& sql : probe.statements) {
    SQLX_ASSIGN_OR_RETURN(outcome, RunStatement(session_, sql));
    if (!outcome.ok) break;
  }
  for (const auto& sql : probe.cleanup) {
    // Cleanup runs whatever happened; its own server errors change nothing learned.
    SQLX_ASSIGN_OR_RETURN(StatementOutcome ignored, RunStatement(session_, sql));
    (void)ignored;
  }
  return outcome;
}

Result<Capability> ServerProbes::RunProbe(const CapabilityProbe& probe) {
  Capability cap;
  cap.name = probe.name;
  if (probe.kind == ProbeKind::kInfer) {
    Infer(probe.rules, probe.default_value, &cap);
    cap.result = "inferred";
    return cap;
  }
  cap.evidence = Evidence::kProbe;
  StatementOutcome outcome;
  if (probe.kind == ProbeKind::kParse) {
    SQLX_ASSIGN_OR_RETURN(outcome, RunParseProbe(probe, &cap.source));
    if (!outcome.ok && Contains(pack_.errors.parsed, outcome.error.server_code)) {
      // Raised after the parse: the syntax is known.
      cap.value = "true";
      cap.result = "parsed; " + outcome.error.ToString();
      return cap;
    }
  } else if (probe.kind == ProbeKind::kScript) {
    for (const auto& sql : probe.statements) cap.source += (cap.source.empty() ? "" : "; ") + sql;
    SQLX_ASSIGN_OR_RETURN(outcome, RunScript(probe));
  } else {
    cap.source = probe.statements[0];
    SQLX_ASSIGN_OR_RETURN(outcome, RunStatement(session_, cap.source));
  }
  if (!outcome.ok) {
    ReadError(probe, outcome.error, &cap);
    return cap;
  }
  cap.value = probe.yields_has_rows ? (outcome.rows.empty() ? "false" : "true") : "true";
  cap.result = probe.yields_has_rows ? std::to_string(outcome.rows.size()) + " rows" : "ok";
  return cap;
}

Status ServerProbes::RunCapabilities() {
  for (const auto& probe : pack_.capabilities) {
    SQLX_ASSIGN_OR_RETURN(Capability cap, RunProbe(probe));
    out_->capabilities.push_back(std::move(cap));
  }
  return Status::Ok();
}

Status ServerProbes::ReadSecurity() {
  SQLX_ASSIGN_OR_RETURN(StatementOutcome plugins, RunStatement(session_, pack_.auth_plugins_query));
  if (!plugins.ok) NotVisible("auth_plugins", plugins.error);
  for (const auto& row : plugins.rows)
    if (!row.empty() && row[0]) out_->auth_plugins.push_back(*row[0]);

  SQLX_ASSIGN_OR_RETURN(StatementOutcome grants, RunStatement(session_, pack_.grants_query));
  if (!grants.ok) NotVisible("grants", grants.error);
  for (const auto& row : grants.rows)
    if (!row.empty() && row[0]) out_->grants.push_back(RedactGrant(*row[0], pack_.redact_quoted_after));
  return Status::Ok();
}

}  // namespace sqlx::flo
