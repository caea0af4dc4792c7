// LearnServer: version and flavor from the greeting, then the learn pack's
// variables, probes and security statements, then what this session itself
// shows (greeting flags, TLS, the auth plugin used), then the fingerprint.
#include "sqlx/flo/learn_server.h"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "learn_pack.h"
#include "server_probes.h"

namespace sqlx::flo {

namespace {

using nlohmann::json;

std::string JsonString(const std::string& s) {
  return json(s).dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<std::string> Sha256Hex(const std::string& data) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(data.data(), data.size(), digest, &size, EVP_sha256(), nullptr) != 1)
    return MakeError(ErrorCode::kInternal, "SHA-256 failed in OpenSSL");
  static const char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < size; ++i) {
    hex += kHex[digest[i] >> 4];
    hex += kHex[digest[i] & 0xf];
  }
  return hex;
}

Capability FromSession(std::string name, std::string value, Evidence evidence, std::string source) {
  Capability cap;
  cap.name = std::move(name);
  cap.value = std::move(value);
  cap.evidence = evidence;
  cap.source = std::move(source);
  cap.result = "ok";
  return cap;
}

// What the connection itself shows: the greeting's flags and the TLS and
// authentication this session negotiated. Protocol facts, not dialect ones.
void AddSessionCapabilities(const transports::ServerInfo& info, LearnedServer* out) {
  json flags = json::array();
  for (const auto& f : info.greeting.server_capabilities) flags.push_back(f);
  out->capabilities.push_back(FromSession("protocol_capabilities",
                                          flags.dump(-1, ' ', false, json::error_handler_t::replace),
                                          Evidence::kGreeting, "greeting server capabilities"));
  out->capabilities.push_back(FromSession("default_auth_plugin", JsonString(info.greeting.auth_plugin),
                                          Evidence::kGreeting, "greeting auth plugin name"));
  const transports::TlsInfo& tls = info.tls;
  out->capabilities.push_back(
      FromSession("tls", tls.active ? "true" : "false", Evidence::kSession, "this session's TLS"));
  out->capabilities.push_back(FromSession("tls_version", tls.active ? JsonString(tls.version) : "null",
                                          Evidence::kSession, "this session's TLS"));
  out->capabilities.push_back(FromSession("tls_cipher", tls.active ? JsonString(tls.cipher) : "null",
                                          Evidence::kSession, "this session's TLS"));
  out->capabilities.push_back(FromSession("tls_trust", tls.active ? JsonString(tls.trust) : "null",
                                          Evidence::kSession, "this session's certificate check"));
  out->capabilities.push_back(FromSession("auth_plugin", JsonString(info.auth_plugin), Evidence::kSession,
                                          "the plugin this session authenticated with"));
}

}  // namespace

const char* EvidenceName(Evidence e) {
  switch (e) {
    case Evidence::kProbe: return "probe";
    case Evidence::kVariable: return "variable";
    case Evidence::kGreeting: return "greeting";
    case Evidence::kInferred: return "inferred";
    case Evidence::kSession: return "session";
  }
  return "unknown";
}

std::string LearnedServer::ToCapabilityJson() const {
  // nlohmann::json objects are std::maps: keys come out sorted.
  json caps = json::object();
  for (const auto& c : capabilities) {
    json value = nullptr;
    if (!c.value.empty()) {
      // Values are JSON text made by FLO; should one not parse, keep it as text.
      value = json::parse(c.value, nullptr, /*allow_exceptions=*/false);
      if (value.is_discarded()) value = c.value;
    }
    caps[c.name] = {{"value", value}, {"evidence", EvidenceName(c.evidence)},
                    {"source", c.source}, {"result", c.result}};
  }
  json doc = {{"server_version", server_version},
              {"flavor", flavor},
              {"version", version},
              {"version_number", version_number},
              {"capabilities", caps},
              {"auth_plugins", auth_plugins},
              {"grants", grants},
              {"not_visible", not_visible}};
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<LearnedServer> LearnServer(transports::Session& session, const transports::ConnectionUrl& url,
                                  const LearnServerOptions& options) {
  const transports::ServerInfo& info = session.server();
  SQLX_ASSIGN_OR_RETURN(LearnPack pack, LocateLearnPack(info.greeting.pack, options.learn_pack_dir));

  LearnedServer out;
  out.server_version = info.greeting.server_version;
  ServerVersion v = ParseServerVersion(pack.version, out.server_version);
  out.flavor = v.flavor;
  out.version = v.version;
  out.version_number = v.version_number;

  ServerProbes probes(pack, session, &out);
  SQLX_RETURN_IF_ERROR(probes.ReadVariables());
  SQLX_RETURN_IF_ERROR(probes.RunCapabilities());
  SQLX_RETURN_IF_ERROR(probes.ReadSecurity());
  AddSessionCapabilities(info, &out);

  if (options.fingerprint) {
    SQLX_ASSIGN_OR_RETURN(out.fingerprint, ServerFingerprint(session, url, options.fingerprint_salt));
  }
  return out;
}

Result<std::string> ServerFingerprint(const transports::Session& session, const transports::ConnectionUrl& url,
                                      const std::string& salt) {
  return FingerprintOf(ConnectedEndpoint(session, url), session.server().greeting.server_version, salt);
}

std::string ConnectedEndpoint(const transports::Session& session, const transports::ConnectionUrl& url) {
  const transports::ServerInfo& info = session.server();
  return info.endpoint.empty() ? url.Endpoint() : info.endpoint;
}

Result<std::string> FingerprintOf(std::string_view endpoint, std::string_view server_version, std::string_view salt) {
  std::string input;
  input.append(endpoint).append(":").append(server_version).append(":").append(salt);
  return Sha256Hex(input);
}

}  // namespace sqlx::flo
