// ByteStream over a TCP socket, upgraded in place to TLS with OpenSSL.
// TLS records travel through a small BIO of our own, so every socket call goes
// through TcpStream::Receive/Send: reads honour the read timeout (only when
// OpenSSL actually needs bytes from the socket) and writes never raise SIGPIPE.
// The client context, peer-name checks and their error texts are in
// tls_context.cc.
#include "byte_stream.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <string>
#include <utility>

#include "tls_context.h"

namespace sqlx::transports {
namespace {

using Clock = std::chrono::steady_clock;

// "[::1]" → "::1"; anything else unchanged.
std::string BareHost(const std::string& host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    return host.substr(1, host.size() - 2);
  }
  return host;
}

std::string HostPort(const std::string& host, uint16_t port) {
  const std::string bare = BareHost(host);
  if (bare.find(':') != std::string::npos) return "[" + bare + "]:" + std::to_string(port);
  return bare + ":" + std::to_string(port);
}

// Waits for `events` on `fd` until `deadline` (time_point::max() = forever),
// restarting after EINTR. Returns >0 when ready, 0 on timeout, -1 with errno.
int WaitFor(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    int wait_ms = -1;
    if (deadline != Clock::time_point::max()) {
      const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now());
      wait_ms = static_cast<int>(std::clamp<int64_t>(left.count(), 0, INT_MAX));
    }
    pollfd entry{fd, events, 0};
    const int ready = poll(&entry, 1, wait_ms);
    if (ready >= 0 || errno != EINTR) return ready;
  }
}

// A connected blocking socket, or why one address could not be reached.
struct ConnectAttempt {
  int fd = -1;
  int error = 0;
  bool timed_out = false;
};

ConnectAttempt Fail(int fd, int error, bool timed_out = false) {
  close(fd);
  return ConnectAttempt{-1, error, timed_out};
}

// Non-blocking connect bounded by `deadline`, then back to blocking mode with
// TCP_NODELAY and SO_KEEPALIVE on. The descriptor is close-on-exec.
ConnectAttempt ConnectTo(const addrinfo& address, Clock::time_point deadline) {
  const int fd = socket(address.ai_family, address.ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        address.ai_protocol);
  if (fd < 0) return ConnectAttempt{-1, errno, false};
  if (connect(fd, address.ai_addr, address.ai_addrlen) != 0) {
    if (errno != EINPROGRESS) return Fail(fd, errno);
    const int ready = WaitFor(fd, POLLOUT, deadline);
    if (ready == 0) return Fail(fd, ETIMEDOUT, /*timed_out=*/true);
    if (ready < 0) return Fail(fd, errno);
    int so_error = 0;
    socklen_t length = sizeof(so_error);
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &length) != 0) return Fail(fd, errno);
    if (so_error != 0) return Fail(fd, so_error);
  }
  const int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) != 0) return Fail(fd, errno);
  const int on = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on)) != 0 ||
      setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on)) != 0) {
    return Fail(fd, errno);
  }
  return ConnectAttempt{fd, 0, false};
}

Error ConnectError(const std::string& where, int err) {
  switch (err) {
    case ECONNREFUSED:
      return MakeError(ErrorCode::kConnectionRefused,
                       "cannot connect to " + where +
                           ": connection refused; is the server running and listening on that port?");
    case ENETUNREACH:
    case EHOSTUNREACH:
    case ECONNRESET:
      return MakeError(ErrorCode::kConnectionRefused,
                       "cannot connect to " + where + ": " + ErrnoText(err) +
                           "; check the host address and the network route to it");
    case ETIMEDOUT:
      return MakeError(ErrorCode::kTimeout, "cannot connect to " + where + ": " + ErrnoText(err) +
                                                "; check the host, the port and any firewall");
    default:
      return MakeError(ErrorCode::kIo, "cannot connect to " + where + ": " + ErrnoText(err));
  }
}

// Not thread-safe: one caller at a time, like the socket underneath.
class TcpStream final : public ByteStream {
 public:
  // Takes ownership of the connected socket `fd`. `host` is the name given to
  // Connect (the identity-check fallback), `peer` its "host:port" for messages.
  TcpStream(int fd, std::string host, std::string peer)
      : fd_(fd), host_(std::move(host)), peer_(std::move(peer)) {}
  ~TcpStream() override { Close(); }

  TcpStream(const TcpStream&) = delete;
  TcpStream& operator=(const TcpStream&) = delete;

  Status StartTls(const TlsOptions& options) override;
  Result<size_t> ReadSome(uint8_t* buffer, size_t capacity) override;
  Status WriteAll(const uint8_t* data, size_t size) override;
  void SetReadTimeout(std::chrono::milliseconds timeout) override { read_timeout_ = timeout; }
  TlsInfo tls_info() const override;
  void Close() override;

  // Raw socket I/O shared by the plain path and the TLS BIO. Receive returns
  // the byte count, 0 at end of stream, or -1 with io_errno_ / timed_out_ set.
  // Send returns the byte count or -1 with io_errno_ set.
  ssize_t Receive(void* out, size_t capacity);
  ssize_t Send(const void* data, size_t size);
  bool timed_out() const { return timed_out_; }
  bool would_block() const { return io_errno_ == EAGAIN || io_errno_ == EWOULDBLOCK; }
  bool at_eof() const { return at_eof_; }

 private:
  Result<size_t> ReadTls(uint8_t* buffer, size_t capacity);
  Error SocketError(bool reading) const;
  Error TlsIoError(int ssl_error, bool reading);
  Error HandshakeError(SSL* ssl, int rc, const TlsOptions& options, const std::string& name) const;
  Error PeerClosed() const {
    return MakeError(ErrorCode::kClosed, "server closed the connection (" + peer_ + ")");
  }
  Error ClosedLocally() const {
    return MakeError(ErrorCode::kClosed, "the connection to " + peer_ + " is already closed");
  }

  int fd_;
  std::string host_;
  std::string peer_;
  std::chrono::milliseconds read_timeout_{0};
  int io_errno_ = 0;        // errno of the last failed socket call
  bool timed_out_ = false;  // the last Receive hit read_timeout_
  bool at_eof_ = false;     // the peer closed its side
  SslCtxPtr ctx_;           // set together with ssl_ once a handshake succeeded
  SslPtr ssl_;
  bool tls_broken_ = false;  // a fatal TLS error happened: no close_notify
  bool verifying_ = false;
  bool custom_ca_ = false;
};

// --- The BIO carrying TLS records over TcpStream::Receive/Send -------------

TcpStream* StreamOf(BIO* bio) { return static_cast<TcpStream*>(BIO_get_data(bio)); }

int BioWrite(BIO* bio, const char* data, size_t size, size_t* written) {
  BIO_clear_retry_flags(bio);
  TcpStream* stream = StreamOf(bio);
  const ssize_t sent = stream->Send(data, size);
  if (sent < 0) {
    if (stream->would_block()) BIO_set_retry_write(bio);
    return 0;
  }
  *written = static_cast<size_t>(sent);
  return 1;
}

int BioRead(BIO* bio, char* out, size_t size, size_t* read) {
  BIO_clear_retry_flags(bio);
  TcpStream* stream = StreamOf(bio);
  const ssize_t received = stream->Receive(out, size);
  if (received > 0) {
    *read = static_cast<size_t>(received);
    return 1;
  }
  // A timeout is "try again later": SSL_read reports WANT_READ and the TLS
  // state stays intact, so the caller may read again.
  if (received < 0 && stream->timed_out()) BIO_set_retry_read(bio);
  return 0;
}

long BioCtrl(BIO* bio, int command, long /*arg*/, void* /*ptr*/) {
  switch (command) {
    case BIO_CTRL_FLUSH:
      return 1;  // Send writes through; nothing is buffered here
    case BIO_CTRL_EOF:
      return StreamOf(bio)->at_eof() ? 1 : 0;
    default:
      return 0;
  }
}

// Created once, never freed: OpenSSL keeps pointers to it in every BIO.
const BIO_METHOD* SocketBioMethod() {
  static BIO_METHOD* const method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "sqlx-tcp");
    if (m != nullptr) {
      BIO_meth_set_write_ex(m, BioWrite);
      BIO_meth_set_read_ex(m, BioRead);
      BIO_meth_set_ctrl(m, BioCtrl);
    }
    return m;
  }();
  return method;
}

// --- TcpStream ------------------------------------------------------------------

ssize_t TcpStream::Receive(void* out, size_t capacity) {
  timed_out_ = false;
  if (read_timeout_.count() > 0) {
    const int ready = WaitFor(fd_, POLLIN, Clock::now() + read_timeout_);
    if (ready == 0) {
      timed_out_ = true;
      return -1;
    }
    if (ready < 0) {
      io_errno_ = errno;
      return -1;
    }
  }
  for (;;) {
    const ssize_t received = recv(fd_, out, capacity, 0);
    if (received == 0) at_eof_ = true;
    if (received >= 0) return received;
    if (errno != EINTR) {
      io_errno_ = errno;
      return -1;
    }
  }
}

ssize_t TcpStream::Send(const void* data, size_t size) {
  for (;;) {
    const ssize_t sent = send(fd_, data, size, MSG_NOSIGNAL);
    if (sent >= 0) return sent;
    if (errno != EINTR) {
      io_errno_ = errno;
      return -1;
    }
  }
}

Error TcpStream::SocketError(bool reading) const {
  if (reading && timed_out_) {
    return MakeError(ErrorCode::kTimeout, "no data from " + peer_ + " within " +
                                              std::to_string(read_timeout_.count()) +
                                              " ms (read timeout); the server is busy or the "
                                              "network stalled");
  }
  if (io_errno_ == ECONNRESET || io_errno_ == EPIPE) {
    return MakeError(ErrorCode::kClosed, "server closed the connection (" + peer_ + ": " +
                                             ErrnoText(io_errno_) + ")");
  }
  return MakeError(ErrorCode::kIo, std::string(reading ? "cannot read from " : "cannot write to ") +
                                       peer_ + ": " + ErrnoText(io_errno_));
}

Result<size_t> TcpStream::ReadSome(uint8_t* buffer, size_t capacity) {
  if (fd_ < 0) return ClosedLocally();
  if (capacity == 0) return MakeError(ErrorCode::kInternal, "ReadSome needs room for one byte");
  if (ssl_) return ReadTls(buffer, capacity);
  const ssize_t received = Receive(buffer, capacity);
  if (received > 0) return static_cast<size_t>(received);
  if (received == 0) return PeerClosed();
  return SocketError(/*reading=*/true);
}

Result<size_t> TcpStream::ReadTls(uint8_t* buffer, size_t capacity) {
  ERR_clear_error();
  io_errno_ = 0;
  timed_out_ = false;
  size_t received = 0;
  const int rc = SSL_read_ex(ssl_.get(), buffer, capacity, &received);
  if (rc == 1) return received;
  return TlsIoError(SSL_get_error(ssl_.get(), rc), /*reading=*/true);
}

Status TcpStream::WriteAll(const uint8_t* data, size_t size) {
  if (fd_ < 0) return ClosedLocally();
  while (size > 0) {
    io_errno_ = 0;
    size_t written = 0;
    if (ssl_) {
      ERR_clear_error();
      const int rc = SSL_write_ex(ssl_.get(), data, size, &written);
      if (rc != 1) return TlsIoError(SSL_get_error(ssl_.get(), rc), /*reading=*/false);
    } else {
      const ssize_t sent = Send(data, size);
      if (sent < 0) return SocketError(/*reading=*/false);
      written = static_cast<size_t>(sent);
    }
    data += written;
    size -= written;
  }
  return Status::Ok();
}

Error TcpStream::TlsIoError(int ssl_error, bool reading) {
  switch (ssl_error) {
    case SSL_ERROR_ZERO_RETURN:
      return PeerClosed();
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
      return SocketError(reading);  // our BIO only asks to retry on a timeout
    case SSL_ERROR_SYSCALL:
      tls_broken_ = true;
      if (io_errno_ == 0) return PeerClosed();  // EOF without close_notify
      return SocketError(reading);
    default:
      tls_broken_ = true;
      if (IsUnexpectedEof(ERR_peek_last_error())) return PeerClosed();
      return MakeError(ErrorCode::kTls, std::string("TLS error while ") +
                                            (reading ? "reading from " : "writing to ") + peer_ +
                                            ": " + OpenSslErrorText());
  }
}

Status TcpStream::StartTls(const TlsOptions& options) {
  if (fd_ < 0) return ClosedLocally();
  if (ssl_) return MakeError(ErrorCode::kInternal, "TLS is already active on " + peer_);
  if (options.mode == TlsMode::kDisabled) {
    return MakeError(ErrorCode::kInternal, "StartTls called with ssl-mode=disabled");
  }
  const bool verify = options.mode == TlsMode::kVerifyCa || options.mode == TlsMode::kVerifyIdentity;
  const std::string name = BareHost(options.server_name.empty() ? host_ : options.server_name);

  ERR_clear_error();
  SQLX_ASSIGN_OR_RETURN(SslCtxPtr ctx, NewClientContext(options, verify));
  SslPtr ssl(SSL_new(ctx.get()));
  if (!ssl) return TlsSetupError("cannot create a TLS session");
  const BIO_METHOD* method = SocketBioMethod();
  BIO* bio = method != nullptr ? BIO_new(method) : nullptr;
  if (bio == nullptr) return TlsSetupError("cannot create the TLS socket adapter");
  BIO_set_data(bio, this);
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl.get(), bio, bio);  // ssl owns bio from here
  SQLX_RETURN_IF_ERROR(SetPeerName(ssl.get(), name, options.mode));

  io_errno_ = 0;
  timed_out_ = false;
  const int rc = SSL_connect(ssl.get());
  if (rc != 1) {
    // The server is mid-handshake: the connection cannot carry anything else.
    Error error = HandshakeError(ssl.get(), rc, options, name);
    ssl.reset();
    ERR_clear_error();
    Close();
    return error;
  }
  ctx_ = std::move(ctx);
  ssl_ = std::move(ssl);
  verifying_ = verify;
  custom_ca_ = verify && !options.ca_file.empty();
  return Status::Ok();
}

Error TcpStream::HandshakeError(SSL* ssl, int rc, const TlsOptions& options,
                                const std::string& name) const {
  const std::string prefix = "TLS handshake with " + peer_ + " failed: ";
  if (timed_out_) {
    return MakeError(ErrorCode::kTimeout, "TLS handshake with " + peer_ + " timed out after " +
                                              std::to_string(read_timeout_.count()) +
                                              " ms; check that the server has TLS enabled");
  }
  const bool verify = options.mode == TlsMode::kVerifyCa || options.mode == TlsMode::kVerifyIdentity;
  const long verify_result = SSL_get_verify_result(ssl);
  if (verify && verify_result != X509_V_OK) {
    return VerificationError(verify_result, options, name, peer_);
  }

  const unsigned long err = ERR_peek_last_error();
  const bool eof = (err == 0 && SSL_get_error(ssl, rc) == SSL_ERROR_SYSCALL && io_errno_ == 0) ||
                   IsUnexpectedEof(err);
  if (eof) {
    return MakeError(ErrorCode::kTls,
                     prefix + "the server closed the connection; check that it has TLS enabled");
  }
  if (err == 0 && io_errno_ != 0) return MakeError(ErrorCode::kTls, prefix + ErrnoText(io_errno_));
  return MakeError(ErrorCode::kTls, prefix + OpenSslErrorText() +
                                        "; check that the server has TLS enabled and accepts "
                                        "TLS 1.2 or newer");
}

TlsInfo TcpStream::tls_info() const {
  TlsInfo info;
  info.trust = "none";
  if (!ssl_) return info;
  info.active = true;
  info.version = SSL_get_version(ssl_.get());
  if (const SSL_CIPHER* cipher = SSL_get_current_cipher(ssl_.get()); cipher != nullptr) {
    info.cipher = SSL_CIPHER_get_name(cipher);
  }
  info.verified = verifying_ && SSL_get_verify_result(ssl_.get()) == X509_V_OK;
  if (verifying_) info.trust = custom_ca_ ? "custom" : "system";
  return info;
}

void TcpStream::Close() {
  if (ssl_) {
    if (!tls_broken_ && fd_ >= 0) {
      // close_notify is a courtesy: never wait for the peer to take or answer it.
      const int flags = fcntl(fd_, F_GETFL);
      if (flags >= 0) (void)fcntl(fd_, F_SETFL, flags | O_NONBLOCK);  // best effort
      ERR_clear_error();
      (void)SSL_shutdown(ssl_.get());  // ignored on purpose: the socket closes next
    }
    ssl_.reset();
    ctx_.reset();
    ERR_clear_error();
  }
  if (fd_ >= 0) {
    (void)close(fd_);  // ignored on purpose: nothing useful to do on failure
    fd_ = -1;
  }
}

}  // namespace

Result<std::unique_ptr<ByteStream>> ByteStream::Connect(const std::string& host, uint16_t port,
                                                        std::chrono::milliseconds timeout) {
  const std::string where = HostPort(host, port);
  const std::string bare = BareHost(host);
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  const int rc = getaddrinfo(bare.c_str(), std::to_string(port).c_str(), &hints, &found);
  if (rc != 0) {
    const std::string reason = rc == EAI_SYSTEM ? ErrnoText(errno) : gai_strerror(rc);
    return MakeError(ErrorCode::kInvalidArgument, "cannot resolve host '" + bare + "': " + reason);
  }
  const std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses(found, freeaddrinfo);

  // One deadline for all addresses; 0 means no limit beyond the kernel's own.
  const Clock::time_point deadline =
      timeout.count() > 0 ? Clock::now() + timeout : Clock::time_point::max();
  int last_error = ECONNREFUSED;
  bool refused = false;
  for (const addrinfo* address = found; address != nullptr; address = address->ai_next) {
    const ConnectAttempt attempt = ConnectTo(*address, deadline);
    if (attempt.fd >= 0) {
      return std::unique_ptr<ByteStream>(std::make_unique<TcpStream>(attempt.fd, bare, where));
    }
    if (attempt.timed_out) {
      return MakeError(ErrorCode::kTimeout, "cannot connect to " + where + ": no answer within " +
                                                std::to_string(timeout.count()) +
                                                " ms; check the host, the port and any firewall");
    }
    refused = refused || attempt.error == ECONNREFUSED;
    last_error = attempt.error;
  }
  return ConnectError(where, refused ? ECONNREFUSED : last_error);
}

}  // namespace sqlx::transports
