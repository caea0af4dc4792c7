// ByteStream against in-process plain and TLS servers on 127.0.0.1 (port 0).
// The TLS tests issue their certificates at start-up: a CA, a server
// certificate for 127.0.0.1 and localhost signed by it, and an unrelated CA.
#include "byte_stream.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace sqlx::transports {
namespace {

using namespace std::chrono_literals;
using Bytes = std::vector<uint8_t>;

constexpr auto kConnectTimeout = 5000ms;
constexpr int kServerWaitMs = 10000;  // bounds every server-side wait

Bytes ToBytes(const std::string& text) { return Bytes(text.begin(), text.end()); }

// Reads exactly `size` bytes with ReadSome, or returns the first error.
Result<Bytes> ReadExactly(ByteStream& stream, size_t size) {
  Bytes out(size);
  size_t filled = 0;
  while (filled < size) {
    SQLX_ASSIGN_OR_RETURN(const size_t got, stream.ReadSome(out.data() + filled, size - filled));
    filled += got;
  }
  return out;
}

// --- Certificates -------------------------------------------------------------

struct Identity {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key{nullptr, EVP_PKEY_free};
  std::unique_ptr<X509, decltype(&X509_free)> cert{nullptr, X509_free};
};

void AddExtension(X509* cert, X509* issuer, int nid, const char* value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value);
  ASSERT_NE(extension, nullptr) << value;
  X509_add_ext(cert, extension, -1);
  X509_EXTENSION_free(extension);
}

// A P-256 certificate for `common_name`: a CA when `alt_names` is empty
// (self-signed unless `issuer` is given), else a server certificate with
// those subjectAltNames ("IP:127.0.0.1,DNS:localhost") signed by `issuer`.
Identity Issue(const std::string& common_name, const Identity* issuer, const char* alt_names) {
  static long serial = 1;
  Identity id;
  id.key.reset(EVP_EC_gen("P-256"));
  id.cert.reset(X509_new());
  X509* cert = id.cert.get();
  X509_set_version(cert, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert), serial++);
  X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert), 24L * 3600);
  X509_set_pubkey(cert, id.key.get());
  X509_NAME_add_entry_by_txt(X509_get_subject_name(cert), "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(common_name.c_str()), -1, -1, 0);
  X509* issuer_cert = issuer != nullptr ? issuer->cert.get() : cert;
  X509_set_issuer_name(cert, X509_get_subject_name(issuer_cert));
  AddExtension(cert, issuer_cert, NID_subject_key_identifier, "hash");
  if (*alt_names == '\0') {
    AddExtension(cert, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
    AddExtension(cert, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
  } else {
    AddExtension(cert, issuer_cert, NID_basic_constraints, "CA:FALSE");
    AddExtension(cert, issuer_cert, NID_ext_key_usage, "serverAuth");
    AddExtension(cert, issuer_cert, NID_subject_alt_name, alt_names);
    AddExtension(cert, issuer_cert, NID_authority_key_identifier, "keyid");
  }
  X509_sign(cert, issuer != nullptr ? issuer->key.get() : id.key.get(), EVP_sha256());
  return id;
}

void WritePem(const std::string& path, X509* cert) {
  FILE* file = std::fopen(path.c_str(), "w");
  ASSERT_NE(file, nullptr) << path;
  PEM_write_X509(file, cert);
  std::fclose(file);
}

// Certificates and CA files for one test run, in a fresh temporary folder.
struct TestPki {
  TestPki() {
    std::string pattern = (std::filesystem::temp_directory_path() / "sqlx-tls-XXXXXX").string();
    dir = mkdtemp(pattern.data());
    ca = Issue("sqlx test CA", nullptr, "");
    server = Issue("sqlx test server", &ca, "IP:127.0.0.1,DNS:localhost");
    rogue_ca = Issue("sqlx rogue CA", nullptr, "");
    ca_file = (dir / "ca.pem").string();
    rogue_ca_file = (dir / "rogue-ca.pem").string();
    not_pem_file = (dir / "not-pem.txt").string();
    missing_ca_file = (dir / "no-such-ca.pem").string();
    WritePem(ca_file, ca.cert.get());
    WritePem(rogue_ca_file, rogue_ca.cert.get());
    std::ofstream(not_pem_file) << "this is not a certificate\n";
  }
  ~TestPki() { std::filesystem::remove_all(dir); }

  std::filesystem::path dir;
  Identity ca, server, rogue_ca;
  std::string ca_file, rogue_ca_file, not_pem_file, missing_ca_file;
};

// --- In-process server --------------------------------------------------------

// The accepted end of a TestServer connection, plain or TLS.
class ServerSide {
 public:
  ServerSide(int fd, SSL* ssl) : fd_(fd), ssl_(ssl) {}

  bool ReadExactly(Bytes& out, size_t size) {
    out.resize(size);
    for (size_t filled = 0; filled < size;) {
      const int got = ssl_ != nullptr
                          ? SSL_read(ssl_, out.data() + filled, static_cast<int>(size - filled))
                          : static_cast<int>(recv(fd_, out.data() + filled, size - filled, 0));
      if (got <= 0) return false;
      filled += static_cast<size_t>(got);
    }
    return true;
  }

  bool Write(const Bytes& data) {
    for (size_t done = 0; done < data.size();) {
      const int sent =
          ssl_ != nullptr
              ? SSL_write(ssl_, data.data() + done, static_cast<int>(data.size() - done))
              : static_cast<int>(send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL));
      if (sent <= 0) return false;
      done += static_cast<size_t>(sent);
    }
    return true;
  }

  // Blocks until the client closes (or kServerWaitMs passes).
  void WaitForClientClose() {
    Bytes ignored;
    while (ReadExactly(ignored, 1)) {
    }
  }

  // Sends close_notify first when `tls_goodbye` and TLS is on.
  void CloseNow(bool tls_goodbye) {
    if (ssl_ != nullptr && tls_goodbye) SSL_shutdown(ssl_);
    shutdown(fd_, SHUT_RDWR);
  }

 private:
  int fd_;
  SSL* ssl_;
};

// Accepts one connection on 127.0.0.1:0 and runs `session` on it in a thread;
// with a `tls` context it runs SSL_accept first (no session if that fails).
class TestServer {
 public:
  explicit TestServer(std::function<void(ServerSide&)> session, SSL_CTX* tls = nullptr)
      : tls_(tls) {
    listen_fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
    EXPECT_EQ(listen(listen_fd_, 4), 0);
    socklen_t length = sizeof(address);
    getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    thread_ = std::thread([this, session = std::move(session)] { Serve(session); });
  }
  ~TestServer() {
    thread_.join();
    close(listen_fd_);
  }

  uint16_t port() const { return port_; }

 private:
  void Serve(const std::function<void(ServerSide&)>& session) {
    sigset_t pipe;  // a client that hangs up must not kill the test binary
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, nullptr);
    pollfd entry{listen_fd_, POLLIN, 0};
    if (poll(&entry, 1, kServerWaitMs) != 1) return;
    const int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd < 0) return;
    const timeval wait{kServerWaitMs / 1000, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof(wait));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &wait, sizeof(wait));
    SSL* ssl = nullptr;
    if (tls_ != nullptr) {
      ssl = SSL_new(tls_);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) != 1) {
        SSL_free(ssl);
        close(fd);
        ERR_clear_error();
        return;
      }
    }
    ServerSide side(fd, ssl);
    session(side);
    SSL_free(ssl);
    close(fd);
    ERR_clear_error();
  }

  SSL_CTX* tls_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread thread_;
};

std::unique_ptr<ByteStream> ConnectOrDie(uint16_t port) {
  auto stream = ByteStream::Connect("127.0.0.1", port, kConnectTimeout);
  EXPECT_TRUE(stream.ok()) << stream.error().message;
  return stream.ok() ? std::move(stream).value() : nullptr;
}

// --- Connecting ---------------------------------------------------------------

TEST(ByteStreamTest, ReportsRefusedPortClearly) {
  uint16_t port = 0;
  {
    TestServer probe([](ServerSide&) {});  // learn a free port, then free it
    port = probe.port();
    auto stream = ByteStream::Connect("127.0.0.1", port, kConnectTimeout);
    ASSERT_TRUE(stream.ok());
  }
  auto stream = ByteStream::Connect("127.0.0.1", port, kConnectTimeout);
  ASSERT_FALSE(stream.ok());
  EXPECT_EQ(stream.error().code, ErrorCode::kConnectionRefused);
  EXPECT_NE(stream.error().message.find("127.0.0.1:" + std::to_string(port)), std::string::npos)
      << stream.error().message;
  EXPECT_NE(stream.error().message.find("connection refused"), std::string::npos);
}

TEST(ByteStreamTest, ReportsUnknownHostAsInvalidArgument) {
  auto stream = ByteStream::Connect("no-such-host.invalid", 3306, kConnectTimeout);
  ASSERT_FALSE(stream.ok());
  EXPECT_EQ(stream.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(stream.error().message.rfind("cannot resolve host 'no-such-host.invalid': ", 0), 0u)
      << stream.error().message;
}

TEST(ByteStreamTest, TimesOutWhenTheServerDoesNotAnswerTheConnect) {
  // A listener with a backlog of 0 that never accepts: once its queue is
  // full, Linux drops further SYNs, which looks like a silent host.
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  ASSERT_EQ(listen(listener, 0), 0);
  socklen_t length = sizeof(address);
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &length);
  const uint16_t port = ntohs(address.sin_port);

  std::vector<std::unique_ptr<ByteStream>> queued;
  std::optional<Error> error;
  for (int i = 0; i < 16 && !error; ++i) {
    auto stream = ByteStream::Connect("127.0.0.1", port, 200ms);
    if (stream.ok()) {
      queued.push_back(std::move(stream).value());
    } else {
      error = stream.error();
    }
  }
  close(listener);
  if (!error) GTEST_SKIP() << "this kernel completed every connect to a full backlog";
  EXPECT_EQ(error->code, ErrorCode::kTimeout) << error->message;
  EXPECT_NE(error->message.find("127.0.0.1:" + std::to_string(port)), std::string::npos);
  EXPECT_NE(error->message.find("200 ms"), std::string::npos) << error->message;
}

// --- Fixtures -----------------------------------------------------------------

// One PKI and one server TLS context for every test of a suite.
class ByteStreamTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pki_ = std::make_unique<TestPki>();
    server_ctx_.reset(SSL_CTX_new(TLS_server_method()));
    EXPECT_EQ(SSL_CTX_use_certificate(server_ctx_.get(), pki_->server.cert.get()), 1);
    EXPECT_EQ(SSL_CTX_use_PrivateKey(server_ctx_.get(), pki_->server.key.get()), 1);
    SSL_CTX_set_num_tickets(server_ctx_.get(), 0);
  }
  static void TearDownTestSuite() {
    server_ctx_.reset();
    pki_.reset();
  }

  // StartTls(options) against a TLS server that waits for the client to close.
  struct Outcome {
    Status status;
    TlsInfo info;  // right after the handshake
  };
  static Outcome Handshake(const TlsOptions& options) {
    TestServer server([](ServerSide& side) { side.WaitForClientClose(); }, server_ctx_.get());
    auto stream = ConnectOrDie(server.port());
    if (stream == nullptr) return {MakeError(ErrorCode::kInternal, "no connection"), {}};
    Status status = stream->StartTls(options);
    return {std::move(status), stream->tls_info()};
  }

  static std::unique_ptr<TestPki> pki_;
  static std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> server_ctx_;
};

std::unique_ptr<TestPki> ByteStreamTlsTest::pki_;
std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ByteStreamTlsTest::server_ctx_{nullptr,
                                                                                  SSL_CTX_free};

enum class Transport { kPlain, kTls };

// A client connected to a TestServer. `stream` is declared last so that it
// closes before the server's thread is joined.
struct Connection {
  std::unique_ptr<TestServer> server;
  std::unique_ptr<ByteStream> stream;
};

// The same behaviour checked over plain TCP and over TLS (ssl-mode=required).
class ByteStreamTransportTest : public ByteStreamTlsTest,
                                public ::testing::WithParamInterface<Transport> {
 protected:
  static bool tls() { return GetParam() == Transport::kTls; }

  static Connection Open(std::function<void(ServerSide&)> session) {
    Connection connection;
    connection.server =
        std::make_unique<TestServer>(std::move(session), tls() ? server_ctx_.get() : nullptr);
    connection.stream = ConnectOrDie(connection.server->port());
    if (connection.stream != nullptr && tls()) {
      const Status status = connection.stream->StartTls({TlsMode::kRequired, "", "127.0.0.1"});
      EXPECT_TRUE(status.ok()) << status.error().message;
      if (!status.ok()) connection.stream.reset();
    }
    return connection;
  }
};

INSTANTIATE_TEST_SUITE_P(Transports, ByteStreamTransportTest,
                         ::testing::Values(Transport::kPlain, Transport::kTls),
                         [](const ::testing::TestParamInfo<Transport>& test_info) {
                           return test_info.param == Transport::kTls ? "Tls" : "Plain";
                         });

// --- Reading and writing ------------------------------------------------------

TEST_P(ByteStreamTransportTest, EchoesBytes) {
  const Bytes hello = ToBytes("hello through the byte stream");
  Connection connection = Open([&](ServerSide& side) {
    Bytes got;
    if (side.ReadExactly(got, hello.size())) side.Write(got);
    side.WaitForClientClose();
  });
  ASSERT_NE(connection.stream, nullptr);
  ByteStream& stream = *connection.stream;
  EXPECT_EQ(stream.tls_info().active, tls());
  ASSERT_TRUE(stream.WriteAll(hello.data(), hello.size()).ok());
  auto echoed = ReadExactly(stream, hello.size());
  ASSERT_TRUE(echoed.ok()) << echoed.error().message;
  EXPECT_EQ(*echoed, hello);
}

TEST_P(ByteStreamTransportTest, TransfersEightMebibytesBothWays) {
  Bytes payload(8 << 20);
  std::mt19937 random(42);
  for (uint8_t& byte : payload) byte = static_cast<uint8_t>(random());
  Connection connection = Open([&](ServerSide& side) {
    Bytes got;
    if (side.ReadExactly(got, payload.size())) side.Write(got);  // all in, then all back
    side.WaitForClientClose();
  });
  ASSERT_NE(connection.stream, nullptr);
  const Status sent = connection.stream->WriteAll(payload.data(), payload.size());
  ASSERT_TRUE(sent.ok()) << sent.error().message;
  auto echoed = ReadExactly(*connection.stream, payload.size());
  ASSERT_TRUE(echoed.ok()) << echoed.error().message;
  EXPECT_TRUE(*echoed == payload);
}

TEST_P(ByteStreamTransportTest, ReportsPeerCloseAsClosed) {
  for (const bool goodbye : {true, false}) {
    SCOPED_TRACE(goodbye ? "with close_notify" : "without close_notify");
    Connection connection = Open([&](ServerSide& side) { side.CloseNow(goodbye); });
    ASSERT_NE(connection.stream, nullptr);
    uint8_t byte = 0;
    auto read = connection.stream->ReadSome(&byte, 1);
    ASSERT_FALSE(read.ok());
    EXPECT_EQ(read.error().code, ErrorCode::kClosed) << read.error().message;
    EXPECT_NE(read.error().message.find("server closed the connection"), std::string::npos);
  }
}

TEST_P(ByteStreamTransportTest, ReadTimesOutAndStaysUsable) {
  const Bytes late = ToBytes("late answer");
  Connection connection = Open([&](ServerSide& side) {
    Bytes ping;
    if (side.ReadExactly(ping, 1)) side.Write(late);
    side.WaitForClientClose();
  });
  ASSERT_NE(connection.stream, nullptr);
  ByteStream& stream = *connection.stream;
  stream.SetReadTimeout(100ms);
  uint8_t byte = 0;
  auto read = stream.ReadSome(&byte, 1);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, ErrorCode::kTimeout) << read.error().message;
  EXPECT_NE(read.error().message.find("100 ms"), std::string::npos) << read.error().message;

  ASSERT_TRUE(stream.WriteAll(&byte, 1).ok());
  auto answer = ReadExactly(stream, late.size());
  ASSERT_TRUE(answer.ok()) << answer.error().message;
  EXPECT_EQ(*answer, late);
}

TEST_P(ByteStreamTransportTest, ReportsWritesToClosedPeerAsClosedWithoutSigpipe) {
  Connection connection = Open([](ServerSide& side) { side.CloseNow(false); });
  ASSERT_NE(connection.stream, nullptr);
  const Bytes chunk(size_t{64} * 1024, 'x');
  Status status;
  for (int i = 0; i < 100 && status.ok(); ++i) {
    status = connection.stream->WriteAll(chunk.data(), chunk.size());
  }
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kClosed) << status.error().message;
}

TEST_P(ByteStreamTransportTest, CloseIsIdempotentAndLaterCallsReportClosed) {
  Connection connection = Open([](ServerSide& side) { side.WaitForClientClose(); });
  ASSERT_NE(connection.stream, nullptr);
  ByteStream& stream = *connection.stream;
  stream.Close();
  stream.Close();
  EXPECT_FALSE(stream.tls_info().active);
  uint8_t byte = 0;
  auto read = stream.ReadSome(&byte, 1);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.error().code, ErrorCode::kClosed);
  auto write = stream.WriteAll(&byte, 1);
  ASSERT_FALSE(write.ok());
  EXPECT_EQ(write.error().code, ErrorCode::kClosed);
}

// --- TLS handshake and verification -------------------------------------------

TEST_F(ByteStreamTlsTest, RequiredModeEncryptsWithoutVerifying) {
  const Outcome outcome = Handshake({TlsMode::kRequired, "", "127.0.0.1"});
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.error().message;
  EXPECT_TRUE(outcome.info.active);
  EXPECT_EQ(outcome.info.version.rfind("TLSv1.", 0), 0u) << outcome.info.version;
  EXPECT_FALSE(outcome.info.cipher.empty());
  EXPECT_FALSE(outcome.info.verified);
  EXPECT_EQ(outcome.info.trust, "none");
}

TEST_F(ByteStreamTlsTest, VerifyCaTrustsTheSigningCaFile) {
  const Outcome outcome = Handshake({TlsMode::kVerifyCa, pki_->ca_file, "127.0.0.1"});
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.error().message;
  EXPECT_TRUE(outcome.info.verified);
  EXPECT_EQ(outcome.info.trust, "custom");
}

TEST_F(ByteStreamTlsTest, VerifyCaUsesTheSystemStoreWithoutCaFile) {
  setenv("SSL_CERT_FILE", pki_->ca_file.c_str(), 1);  // stands in for the system store
  setenv("SSL_CERT_DIR", pki_->dir.c_str(), 1);
  const Outcome outcome = Handshake({TlsMode::kVerifyCa, "", "127.0.0.1"});
  unsetenv("SSL_CERT_FILE");
  unsetenv("SSL_CERT_DIR");
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.error().message;
  EXPECT_TRUE(outcome.info.verified);
  EXPECT_EQ(outcome.info.trust, "system");
}

TEST_F(ByteStreamTlsTest, VerifyIdentityAcceptsTheIpInSubjectAltName) {
  const Outcome outcome = Handshake({TlsMode::kVerifyIdentity, pki_->ca_file, "127.0.0.1"});
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.error().message;
  EXPECT_TRUE(outcome.info.verified);
}

TEST_F(ByteStreamTlsTest, VerifyIdentityAcceptsTheDnsNameInSubjectAltName) {
  const Outcome outcome = Handshake({TlsMode::kVerifyIdentity, pki_->ca_file, "localhost"});
  ASSERT_TRUE(outcome.status.ok()) << outcome.status.error().message;
  EXPECT_TRUE(outcome.info.verified);
}

TEST_F(ByteStreamTlsTest, ReportsAServerThatDoesNotSpeakTls) {
  TestServer server([](ServerSide& side) {
    Bytes hello;
    side.ReadExactly(hello, 5);  // the ClientHello record header
    side.Write(ToBytes("this server speaks no TLS at all\r\n"));
    side.CloseNow(false);
  });
  auto stream = ConnectOrDie(server.port());
  ASSERT_NE(stream, nullptr);
  const Status status = stream->StartTls({TlsMode::kRequired, "", "127.0.0.1"});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kTls);
  EXPECT_NE(status.error().message.find("TLS handshake with 127.0.0.1:"), std::string::npos)
      << status.error().message;
}

TEST_F(ByteStreamTlsTest, HandshakeHonoursTheReadTimeout) {
  TestServer server([](ServerSide& side) { side.WaitForClientClose(); });  // never answers
  auto stream = ConnectOrDie(server.port());
  ASSERT_NE(stream, nullptr);
  stream->SetReadTimeout(100ms);
  const Status status = stream->StartTls({TlsMode::kRequired, "", "127.0.0.1"});
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kTimeout) << status.error().message;
  EXPECT_NE(status.error().message.find("TLS handshake with 127.0.0.1:"), std::string::npos);
}

// {name, mode, CA file (nullptr: the system store), server_name, message
// fragments ("$CA" stands for the CA file's path)}
struct RejectionCase {
  const char* name;
  TlsMode mode;
  std::string TestPki::*ca_file;
  const char* server_name;
  std::vector<std::string> fragments;
};

class ByteStreamTlsRejectionTest : public ByteStreamTlsTest,
                                   public ::testing::WithParamInterface<RejectionCase> {};

TEST_P(ByteStreamTlsRejectionTest, FailsWithAPreciseTlsError) {
  const RejectionCase& test = GetParam();
  std::string ca_file;
  if (test.ca_file != nullptr) {
    ca_file = (*pki_).*test.ca_file;
  } else {  // a deterministic "system" store that lacks our CA
    setenv("SSL_CERT_FILE", pki_->rogue_ca_file.c_str(), 1);
    setenv("SSL_CERT_DIR", pki_->dir.c_str(), 1);
  }
  const Outcome outcome = Handshake({test.mode, ca_file, test.server_name});
  unsetenv("SSL_CERT_FILE");
  unsetenv("SSL_CERT_DIR");
  ASSERT_FALSE(outcome.status.ok());
  const Error& error = outcome.status.error();
  EXPECT_EQ(error.code, ErrorCode::kTls);
  for (std::string expected : test.fragments) {
    if (const size_t at = expected.find("$CA"); at != std::string::npos) {
      expected.replace(at, 3, ca_file);
    }
    EXPECT_NE(error.message.find(expected), std::string::npos)
        << "missing '" << expected << "' in: " << error.message;
  }
  EXPECT_FALSE(outcome.info.active);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, ByteStreamTlsRejectionTest,
    ::testing::Values(
        RejectionCase{"RogueCa", TlsMode::kVerifyCa, &TestPki::rogue_ca_file, "127.0.0.1",
                      {"certificate verification failed for 127.0.0.1:", "X509 error", "ssl-ca"}},
        RejectionCase{"SystemStoreWithoutOurCa", TlsMode::kVerifyCa, nullptr, "127.0.0.1",
                      {"certificate verification failed", "pass its CA with ssl-ca"}},
        RejectionCase{"WrongHostName", TlsMode::kVerifyIdentity, &TestPki::ca_file,
                      "wrong.example",
                      {"certificate verification failed", "X509 error 62", "'wrong.example'"}},
        RejectionCase{"WrongIpAddress", TlsMode::kVerifyIdentity, &TestPki::ca_file, "127.0.0.2",
                      {"certificate verification failed", "X509 error 64", "'127.0.0.2'"}},
        RejectionCase{"MissingCaFile", TlsMode::kVerifyCa, &TestPki::missing_ca_file, "127.0.0.1",
                      {"cannot read CA file '$CA'", "No such file"}},
        RejectionCase{"CaFileWithoutCertificates", TlsMode::kVerifyCa, &TestPki::not_pem_file,
                      "127.0.0.1", {"cannot load CA file '$CA'"}}),
    [](const ::testing::TestParamInfo<RejectionCase>& test_info) { return test_info.param.name; });

}  // namespace
}  // namespace sqlx::transports
