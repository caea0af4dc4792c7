// TLS vocabulary shared by the URL, the session and the byte stream.
#pragma once

#include <string>
#include <string_view>

#include "sqlx/messages/result.h"

namespace sqlx::transports {

// The URL's ssl-mode. Default: kPreferred on loopback, kRequired elsewhere.
enum class TlsMode {
  kDisabled,        // never TLS
  kPreferred,       // TLS when the server offers it, unverified
  kRequired,        // TLS or fail, unverified
  kVerifyCa,        // TLS, certificate chain verified against ca_file or system store
  kVerifyIdentity,  // kVerifyCa + host name matches the certificate
};

std::string_view TlsModeName(TlsMode mode);             // "disabled", "verify-ca", ...
Result<TlsMode> ParseTlsMode(std::string_view text);    // inverse of TlsModeName

struct TlsOptions {
  TlsMode mode = TlsMode::kPreferred;
  std::string ca_file;      // PEM bundle; empty = system trust store
  std::string server_name;  // SNI and identity check; usually the URL host
};

struct TlsInfo {
  bool active = false;
  std::string version;  // "TLSv1.3"
  std::string cipher;   // "TLS_AES_256_GCM_SHA384"
  bool verified = false;  // chain verified (verify-ca / verify-identity)
  std::string trust;      // "system", "custom" (ca_file) or "none" (unverified)
};

}  // namespace sqlx::transports
