// ByteStream: a blocking TCP connection that can be upgraded to TLS in place.
// Knows nothing of any database protocol; the WireVM frames bytes on top.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "sqlx/messages/result.h"
#include "sqlx/transports/tls.h"

namespace sqlx::transports {

class ByteStream {
 public:
  virtual ~ByteStream() = default;

  // Opens a TCP connection (IPv4/IPv6, name resolved with getaddrinfo).
  // Errors: kConnectionRefused naming host:port when refused/unreachable,
  // kTimeout when `timeout` passes, kInvalidArgument for an unknown host.
  static Result<std::unique_ptr<ByteStream>> Connect(const std::string& host, uint16_t port,
                                                     std::chrono::milliseconds timeout);

  // Runs a TLS client handshake over the open connection; afterwards every
  // read and write is encrypted. Verification follows `options.mode`:
  // kPreferred/kRequired encrypt without verifying, kVerifyCa checks the chain
  // against options.ca_file (or the system store when empty), kVerifyIdentity
  // also checks the host name (options.server_name) against the certificate.
  // Errors are kTls with OpenSSL's reason and what to do.
  virtual Status StartTls(const TlsOptions& options) = 0;

  // Reads at least 1 and at most `capacity` bytes. Blocks until data arrives.
  // Errors: kClosed when the peer closed the connection, kTimeout after the
  // read timeout, kIo otherwise.
  virtual Result<size_t> ReadSome(uint8_t* buffer, size_t capacity) = 0;

  // Writes all `size` bytes or fails.
  virtual Status WriteAll(const uint8_t* data, size_t size) = 0;

  // 0 = wait forever (the default).
  virtual void SetReadTimeout(std::chrono::milliseconds timeout) = 0;

  virtual TlsInfo tls_info() const = 0;

  // Shuts down TLS (if any) and closes the socket. Safe to call twice.
  virtual void Close() = 0;
};

}  // namespace sqlx::transports
