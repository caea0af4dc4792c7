// TLS client contexts and peer names for TcpStream (byte_stream.cc), and the
// error texts of failed TLS setup and certificate verification.
#include "tls_context.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>
#include <utility>

namespace sqlx::transports {
namespace {

bool IsIpLiteral(const std::string& name) {
  unsigned char address[sizeof(in6_addr)];
  return inet_pton(AF_INET, name.c_str(), address) == 1 ||
         inet_pton(AF_INET6, name.c_str(), address) == 1;
}

}  // namespace

std::string ErrnoText(int err) { return std::system_category().message(err); }

std::string OpenSslErrorText() {
  const unsigned long err = ERR_peek_last_error();
  if (err == 0) return "no detail from OpenSSL";
  char text[256];
  ERR_error_string_n(err, text, sizeof(text));
  return text;
}

bool IsUnexpectedEof(unsigned long err) {
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
  return ERR_GET_LIB(err) == ERR_LIB_SSL && ERR_GET_REASON(err) == SSL_R_UNEXPECTED_EOF_WHILE_READING;
#else
  (void)err;
  return false;
#endif
}

Error TlsSetupError(const std::string& what) {
  return MakeError(ErrorCode::kTls, what + ": " + OpenSslErrorText());
}

Result<SslCtxPtr> NewClientContext(const TlsOptions& options, bool verify) {
  SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) return TlsSetupError("cannot create a TLS context");
  if (SSL_CTX_set_min_proto_version(ctx.get(), TLS1_2_VERSION) != 1) {
    return TlsSetupError("cannot require TLS 1.2 or newer");
  }
  // Fetch whole socket buffers instead of one record header at a time.
  SSL_CTX_set_read_ahead(ctx.get(), 1);
  if (!verify) {
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
    return ctx;
  }
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_PEER, nullptr);
  if (options.ca_file.empty()) {
    if (SSL_CTX_set_default_verify_paths(ctx.get()) != 1) {
      return TlsSetupError("cannot load the system trust store (pass a CA file with ssl-ca)");
    }
    return ctx;
  }
  const std::string& file = options.ca_file;
  if (access(file.c_str(), R_OK) != 0) {
    return MakeError(ErrorCode::kTls,
                     "cannot read CA file '" + file + "': " + ErrnoText(errno) + "; check ssl-ca");
  }
  if (SSL_CTX_load_verify_locations(ctx.get(), file.c_str(), nullptr) != 1) {
    return MakeError(ErrorCode::kTls, "cannot load CA file '" + file + "': " + OpenSslErrorText() +
                                          "; ssl-ca must name a file of PEM certificates");
  }
  return ctx;
}

Status SetPeerName(SSL* ssl, const std::string& name, TlsMode mode) {
  const bool ip = IsIpLiteral(name);
  if (!name.empty() && !ip && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
    return TlsSetupError("cannot set the TLS server name '" + name + "'");
  }
  if (mode != TlsMode::kVerifyIdentity) return Status::Ok();
  if (name.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "ssl-mode=verify-identity needs a server name to check the certificate against");
  }
  if (ip) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name.c_str()) != 1) {
      return TlsSetupError("cannot check the certificate against IP address '" + name + "'");
    }
    return Status::Ok();
  }
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  if (SSL_set1_host(ssl, name.c_str()) != 1) {
    return TlsSetupError("cannot check the certificate against host name '" + name + "'");
  }
  return Status::Ok();
}

Error VerificationError(long result, const TlsOptions& options, const std::string& name,
                        const std::string& peer) {
  std::string message = "TLS certificate verification failed for " + peer + ": " +
                        X509_verify_cert_error_string(result) + " (X509 error " +
                        std::to_string(result) + "); ";
  if (result == X509_V_ERR_HOSTNAME_MISMATCH || result == X509_V_ERR_IP_ADDRESS_MISMATCH) {
    message += "the certificate does not name '" + name +
               "': connect with a name it lists, or use ssl-mode=verify-ca";
  } else if (!options.ca_file.empty()) {
    message += "check ssl-ca ('" + options.ca_file +
               "' must hold the CA that signed the server certificate)";
  } else {
    message += "the system trust store does not trust this server: pass its CA with ssl-ca";
  }
  return MakeError(ErrorCode::kTls, std::move(message));
}

}  // namespace sqlx::transports
