// Connection URLs: scheme://user[:password]@host[:port][/db][?ssl-mode=...&ssl-ca=FILE];
// the scheme selects the wire pack (registry.json).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "sqlx/messages/result.h"
#include "sqlx/transports/tls.h"

namespace sqlx::transports {

struct ConnectionUrl {
  std::string scheme;    // selects the wire pack through registry.json
  std::string user;
  std::string password;  // percent-decoded; never print it (see Redacted())
  bool password_in_url = false;
  std::string host;      // IPv6 literals without brackets
  uint16_t port = 0;     // 0: the scheme's default port (registry.json)
  std::string database;  // empty: none
  TlsOptions tls;        // mode, ssl-ca; server_name = host
  bool tls_mode_explicit = false;
  bool get_server_public_key = false;  // pack may fetch the server's RSA key in clear
  std::string server_public_key_file;

  // host:port ("[::1]:5000" for IPv6), port shown only when known.
  std::string Endpoint() const;
  // user@host:port: the connection name used by the store and the audit log.
  std::string ConnectionName() const;
  // The URL with the password replaced by "***"; safe for logs.
  std::string Redacted() const;
};

// True for 127.0.0.0/8, ::1 and "localhost".
bool IsLoopbackHost(std::string_view host);

// Parses a URL. Unknown query parameters are errors (a typo in ssl-mode must
// not silently weaken TLS). ssl-mode defaults to preferred on loopback and
// required elsewhere. Errors are kInvalidArgument and show the URL redacted.
Result<ConnectionUrl> ParseConnectionUrl(std::string_view url);

}  // namespace sqlx::transports
