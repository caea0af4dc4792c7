// Fleet connections (their passwords sealed with the cluster key) and API
// tokens (stored as their digests), as the HTTP API changes them; each
// change an audit event carrying the caller.
#include "orchestrator_impl.h"
#include "sqlx/messages/clock.h"
#include "sqlx/transports/url.h"

namespace sqlx::orchestrator {

namespace {

using nlohmann::json;

// The URL as given, without its password ("mysql://u:pw@h" -> "mysql://u@h").
std::string WithoutPassword(const std::string& url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string::npos) return url;
  const size_t start = scheme + 3;
  const size_t slash = url.find_first_of("/?", start);
  const size_t at = url.rfind('@', slash == std::string::npos ? std::string::npos : slash);
  if (at == std::string::npos || at < start) return url;
  const size_t colon = url.find(':', start);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon) + url.substr(at);
}

}  // namespace

Result<std::optional<ApiToken>> Orchestrator::Impl::Authenticate(std::string_view bearer) {
  if (bearer.empty()) return std::optional<ApiToken>();
  return records_->GetToken(secrets::TokenDigest(bearer));
}

Result<FleetConnection> Orchestrator::Impl::PutConnection(const Caller& caller, const std::string& name,
                                                          const std::string& url,
                                                          const std::optional<std::string>& password,
                                                          const std::optional<std::vector<std::string>>& tags,
                                                          bool update) {
  SQLX_RETURN_IF_ERROR(ValidateConnectionName(name));
  std::lock_guard<std::mutex> lock(state_mu_);
  SQLX_ASSIGN_OR_RETURN(std::optional<FleetConnection> existing, records_->GetConnection(name));
  if (update && !existing)
    return MakeError(ErrorCode::kNotFound, "no connection named '" + name + "' (see `sqlx connections list`)");
  if (!update && existing)
    return MakeError(ErrorCode::kInvalidArgument,
                     "connection '" + name + "' exists already; change it with `sqlx connections update`");
  FleetConnection c = existing.value_or(FleetConnection{});
  c.name = name;
  std::optional<std::string> secret = password;
  if (!url.empty()) {
    SQLX_ASSIGN_OR_RETURN(transports::ConnectionUrl parsed, transports::ParseConnectionUrl(url));
    if (parsed.password_in_url && !secret) secret = parsed.password;
    c.url = WithoutPassword(url);
  }
  if (c.url.empty()) return MakeError(ErrorCode::kInvalidArgument, "connection '" + name + "' needs a url");
  if (secret) {
    if (secret->empty()) {
      c.sealed_password.clear();
    } else {
      SQLX_ASSIGN_OR_RETURN(c.sealed_password, secrets::Seal(*key_, *secret, secrets::ConnectionPasswordAad(name)));
    }
  }
  if (tags) c.tags = *tags;
  const int64_t now = UnixNowNs();
  if (!existing) c.created_ns = now;
  c.updated_ns = now;
  Records::Batch batch;
  batch.Put(c);
  SQLX_RETURN_IF_ERROR(records_->Write(batch, "writing connection " + name));
  SQLX_RETURN_IF_ERROR(RecordAudit(&caller, update ? "connection.updated" : "connection.created", {}, nullptr,
                                   json{{"name", name}, {"url", c.url}, {"tags", c.tags},
                                        {"auth_changed", secret.has_value()}}));
  return c;
}

Status Orchestrator::Impl::RemoveConnection(const Caller& caller, const std::string& name) {
  std::lock_guard<std::mutex> lock(state_mu_);
  SQLX_ASSIGN_OR_RETURN(std::optional<FleetConnection> existing, records_->GetConnection(name));
  if (!existing)
    return MakeError(ErrorCode::kNotFound, "no connection named '" + name + "' (see `sqlx connections list`)");
  Records::Batch batch;
  batch.DeleteConnection(name);
  SQLX_RETURN_IF_ERROR(records_->Write(batch, "removing connection " + name));
  return RecordAudit(&caller, "connection.removed", {}, nullptr, json{{"name", name}});
}

Result<std::string> Orchestrator::Impl::CreateToken(const Caller* caller, const std::string& subject,
                                                    const std::string& role) {
  if (role != "admin" && role != "operator" && role != "auditor")
    return MakeError(ErrorCode::kInvalidArgument, "role '" + role + "' is not one of admin, operator, auditor");
  if (subject.empty() || subject.size() > 128)
    return MakeError(ErrorCode::kInvalidArgument, "a token needs a subject of 1 to 128 characters");
  const std::string token = secrets::NewApiToken();
  ApiToken t{secrets::TokenDigest(token), subject, role, UnixNowNs()};
  Records::Batch batch;
  batch.Put(t);
  SQLX_RETURN_IF_ERROR(records_->Write(batch, "storing a token"));
  SQLX_RETURN_IF_ERROR(RecordAudit(caller, "token.created", {}, nullptr, json{{"subject", subject}, {"role", role}}));
  return token;
}

}  // namespace sqlx::orchestrator
