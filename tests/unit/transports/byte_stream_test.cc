// ByteStream against in-process plain and TLS servers on 127.0.0.1 (port 0,
// tests/support/loopback_server.h).
// The TLS tests issue their certificates at start-up (tests/support/
// test_pki.h): a CA, a server certificate for 127.0.0.1 and localhost signed
// by it, and an unrelated CA.
#include "byte_stream.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "loopback_server.h"
#include "test_pki.h"

namespace sqlx::transports {
namespace {

using namespace std::chrono_literals;
using sqlx::testing::Bytes;
using sqlx::testing::ServerSide;
using sqlx::testing::TestPki;
using sqlx::testing::TestServer;

constexpr auto kConnectTimeout = 5000ms;

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
