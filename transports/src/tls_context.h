// TLS client setup for a byte stream: the OpenSSL context a handshake runs
// in, the peer name it checks, and the error texts a user acts on.
// Internal to transports; only byte_stream.cc drives the handshake itself.
#pragma once

#include <openssl/ssl.h>

#include <memory>
#include <string>

#include "sqlx/messages/result.h"
#include "sqlx/transports/tls.h"

namespace sqlx::transports {

struct SslCtxFree {
  void operator()(SSL_CTX* ctx) const { SSL_CTX_free(ctx); }
};
struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};
using SslCtxPtr = std::unique_ptr<SSL_CTX, SslCtxFree>;
using SslPtr = std::unique_ptr<SSL, SslFree>;

// strerror-style text for an errno value ("Connection refused").
std::string ErrnoText(int err);

// The newest error on this thread's OpenSSL queue as
// "error:0A000086:SSL routines::...", or "no detail from OpenSSL". The queue
// is left as it is.
std::string OpenSslErrorText();

// True when `err` (an OpenSSL error code) says the peer closed the socket
// without a close_notify. Always false on OpenSSL builds without that reason.
bool IsUnexpectedEof(unsigned long err);

// kTls "<what>: <newest OpenSSL error>", for a failed local setup call.
Error TlsSetupError(const std::string& what);

// A fresh client context for one stream: TLS 1.2 or newer, read-ahead on.
// With `verify` the peer chain is checked against options.ca_file, or the
// system trust store when that is empty; without, nothing is checked.
// Errors are kTls naming the CA file and what to do about it.
Result<SslCtxPtr> NewClientContext(const TlsOptions& options, bool verify);

// Sets SNI on `ssl` when `name` is a host name (not an IP literal) and, for
// kVerifyIdentity, the name or IP the certificate must carry. REQUIRES: `ssl`
// has not started its handshake. kInvalidArgument when kVerifyIdentity has
// no name to check.
Status SetPeerName(SSL* ssl, const std::string& name, TlsMode mode);

// kTls for an X509 verification failure `result` (SSL_get_verify_result) on
// the connection to `peer` ("host:port"), saying what to change: the name,
// ssl-ca, or the system trust store. `name` is the name that was checked.
Error VerificationError(long result, const TlsOptions& options, const std::string& name,
                        const std::string& peer);

}  // namespace sqlx::transports
