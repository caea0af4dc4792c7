// Server-level learning (FLO): what a server is and can do, learned over one
// session with read-only statements, as a capability matrix in which every
// entry says how it was learned.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sqlx/messages/result.h"
#include "sqlx/transports/session.h"

namespace sqlx::flo {

// How one capability was learned.
enum class Evidence {
  kProbe,     // a read-only statement was run; `source` is the statement
  kVariable,  // read from a server variable; `source` names it
  kGreeting,  // from the protocol greeting; `source` names the flag
  kInferred,  // not probe-able read-only: inferred from `source` (version or variable)
  kSession,   // from this session (TLS, auth plugin)
};
const char* EvidenceName(Evidence e);

struct Capability {
  std::string name;    // "cte", "window_functions", "instant_add_column", ...
  std::string value;   // JSON text: true, false, 16777216, "REPEATABLE-READ"
  Evidence evidence = Evidence::kProbe;
  std::string source;  // the statement, variable, flag or version rule
  std::string result;  // what the probe returned ("ok", "ERROR 1064 (42000): ...")
};

struct LearnedServer {
  std::string server_version;  // as the greeting sent it
  std::string flavor;          // "MariaDB" or "MySQL"
  std::string version;         // "10.11.19" (numeric part)
  uint32_t version_number = 0; // 101119 (major*10000 + minor*100 + patch)
  std::vector<Capability> capabilities;  // limits, features, security, in pack order
  std::vector<std::string> auth_plugins; // authentication plugins the server offers
  std::vector<std::string> grants;       // SHOW GRANTS for the current user
  std::vector<std::string> not_visible;  // what could not be learned, and why
  std::string fingerprint;               // hex SHA-256 of host:port:version:salt

  // The capability matrix as canonical JSON (sorted keys, no whitespace):
  // {"flavor":..., "server_version":..., "version":..., "version_number":...,
  // "capabilities": {name: {"value":..., "evidence":..., "source":...,
  // "result":...}}, "auth_plugins": [...], "grants": [...], "not_visible":
  // [...]} — the store's capability_json. The fingerprint is stored beside it.
  std::string ToCapabilityJson() const;
};

struct LearnServerOptions {
  std::string learn_pack_dir;  // flo/packs search like wire packs; empty: default search
  std::string fingerprint_salt;  // the store's salt (hex)
  // false: `fingerprint` is left empty, for a caller that has no salt yet
  // and fills it in later with ServerFingerprint. Default: true.
  bool fingerprint = true;
};

// Hex SHA-256 of host:port (as connected, else as the URL names it), the
// server version and `salt`: the LearnedServer's fingerprint.
Result<std::string> ServerFingerprint(const transports::Session& session, const transports::ConnectionUrl& url,
                                      const std::string& salt);
// Its parts: host:port as `session` connected (the scheme's default port
// filled in), else as the URL names it ...
std::string ConnectedEndpoint(const transports::Session& session, const transports::ConnectionUrl& url);
// ... and the hash of them with the greeting's server version and `salt`:
// for a caller that learned the server without a salt (a LearnedServer
// message carries the endpoint and version).
Result<std::string> FingerprintOf(std::string_view endpoint, std::string_view server_version, std::string_view salt);

// Learns the server behind `session`. Individual probes that fail are
// recorded (value false and the error as `result`; null and listed in
// not_visible when the user may not look), never fatal; a lost connection is
// an error. The probes come from the learn pack named after the
// session's wire pack (docs/formats/learn-pack.md).
// REQUIRES: no stream and no transaction open on `session` (the savepoint
// probe starts a transaction and rolls it back).
Result<LearnedServer> LearnServer(transports::Session& session, const transports::ConnectionUrl& url,
                                  const LearnServerOptions& options);

}  // namespace sqlx::flo
