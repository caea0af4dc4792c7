// Session against the scripted fake MySQL server (tests/support/
// fake_mysql_server.py): auth flows a real MariaDB cannot produce, hostile
// server bytes, and a wire pack edited at run time with no rebuild.
//
// Each test starts one server process for one scenario, checks what the
// client saw, then checks what the server saw: its exit status (0 = it
// verified what the scenario expects) and its `OK:` / `FAIL:` line on stderr.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sqlx/transports/session.h"

namespace sqlx::transports {
namespace {

using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::ordered_json;

const std::string kSourcePacks = SQLX_SOURCE_DIR "/transports/packs";
const std::string kServerScript = SQLX_SOURCE_DIR "/tests/support/fake_mysql_server.py";
constexpr uint64_t kFirstConnectionId = 1000;  // the fake server's id for connection 1

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

// A fresh directory under $TMPDIR, removed with its contents on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix) {
    std::string tmpl = std::filesystem::temp_directory_path().string() + "/" + prefix + "XXXXXX";
    if (::mkdtemp(tmpl.data()) != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ignored;  // best effort: a leftover temp dir is harmless
    if (!path_.empty()) std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }  // empty if mkdtemp failed

 private:
  std::string path_;
};

// One fake server process. Its stdout (the `PORT <n>` line) is a pipe; its
// stderr goes to a file read after it exits, so it can never block on a full
// pipe. The destructor kills and reaps the process if it is still running.
class FakeServerProcess {
 public:
  ~FakeServerProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
  }

  // Starts `python3 fake_mysql_server.py --scenario S --workdir W ...` and
  // waits for its port. On error the message includes the server's stderr.
  static Result<std::unique_ptr<FakeServerProcess>> Start(const std::string& scenario,
                                                          const std::string& workdir,
                                                          const std::string& stderr_file) {
    std::vector<std::string> args = {"python3", kServerScript, "--scenario", scenario,
                                     "--workdir", workdir, "--timeout", "20"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);

    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return MakeError(ErrorCode::kIo, "pipe2 failed");
    int err_fd = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (err_fd < 0) {
      ::close(out[0]);
      ::close(out[1]);
      return MakeError(ErrorCode::kIo, "cannot create " + stderr_file);
    }
    pid_t pid = ::fork();
    if (pid == 0) {
      // Child: only async-signal-safe calls from here on.
      ::dup2(out[1], STDOUT_FILENO);
      ::dup2(err_fd, STDERR_FILENO);
      ::execvp(argv[0], argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err_fd);
    auto proc = std::unique_ptr<FakeServerProcess>(new FakeServerProcess());
    proc->stdout_fd_ = out[0];
    proc->stderr_file_ = stderr_file;
    if (pid < 0) return MakeError(ErrorCode::kIo, "fork failed");
    proc->pid_ = pid;
    Status st = proc->ReadPort(std::chrono::seconds(60));  // RSA/TLS key generation comes first
    if (!st.ok()) {
      return MakeError(st.error().code, st.error().message + "; server stderr: " + proc->Stderr());
    }
    return proc;
  }

  uint16_t port() const { return port_; }
  std::string Stderr() const { return ReadFile(stderr_file_); }

  // Waits for the server to exit; its exit code, or an error on a signal or
  // when it is still running after `limit` (it is killed then).
  Result<int> Wait(std::chrono::milliseconds limit) {
    if (pid_ < 0) return MakeError(ErrorCode::kInternal, "the fake server was already waited for");
    auto deadline = std::chrono::steady_clock::now() + limit;
    for (;;) {
      int status = 0;
      pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        pid_ = -1;
        if (WIFEXITED(status)) return WEXITSTATUS(status);
        return MakeError(ErrorCode::kInternal, "fake server died of signal " +
                                                   std::to_string(WTERMSIG(status)));
      }
      if (r < 0) return MakeError(ErrorCode::kInternal, "waitpid failed");
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
        return MakeError(ErrorCode::kTimeout, "fake server still running after " +
                                                  std::to_string(limit.count()) + " ms; killed");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

 private:
  FakeServerProcess() = default;

  Status ReadPort(std::chrono::milliseconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    std::string line;
    while (line.find('\n') == std::string::npos) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return MakeError(ErrorCode::kTimeout, "no PORT line from the fake server");
      pollfd p{stdout_fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[64];
      ssize_t n = ::read(stdout_fd_, buf, sizeof(buf));
      if (n <= 0) return MakeError(ErrorCode::kClosed, "fake server exited before printing PORT");
      line.append(buf, static_cast<size_t>(n));
    }
    unsigned port = 0;
    if (std::sscanf(line.c_str(), "PORT %u", &port) != 1 || port == 0 || port > 65535)
      return MakeError(ErrorCode::kProtocol, "unexpected fake server stdout: " + line);
    port_ = static_cast<uint16_t>(port);
    return Status::Ok();
  }

  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string stderr_file_;
  uint16_t port_ = 0;
};

// RSA keys and the TLS certificate are costly to make: one directory for the
// whole run, shared by every server (the script locks it while generating).
class KeyDirEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { dir_ = std::make_unique<TempDir>("sqlx_fake_keys_"); }
  void TearDown() override { dir_.reset(); }
  static const std::string& path() { return dir_->path(); }

 private:
  static inline std::unique_ptr<TempDir> dir_;
};
[[maybe_unused]] ::testing::Environment* const kKeyDirEnvironment =
    ::testing::AddGlobalTestEnvironment(new KeyDirEnvironment);

// Everything one query returned: the last row result's columns, all rows of
// all results, and the error that ended it early, if any.
struct QueryOutcome {
  std::vector<Column> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  std::optional<Error> error;
};

QueryOutcome RunQuery(Session& session, std::string_view sql) {
  QueryOutcome out;
  auto stream = session.Query(sql);
  if (!stream.ok()) {
    out.error = stream.error();
    return out;
  }
  for (;;) {
    auto more = (*stream)->NextResult();
    if (!more.ok()) {
      out.error = more.error();
      return out;
    }
    if (!*more) return out;
    if ((*stream)->has_rows()) out.columns = (*stream)->columns();
    for (;;) {
      auto batch = (*stream)->NextBatch();
      if (!batch.ok()) {
        out.error = batch.error();
        return out;
      }
      if (*batch == nullptr) break;
      for (size_t r = 0; r < (*batch)->rows(); ++r) {
        auto& row = out.rows.emplace_back();
        for (size_t c = 0; c < (*batch)->columns(); ++c) {
          auto cell = (*batch)->cell(r, c);
          row.push_back(cell ? std::optional<std::string>(std::string(*cell)) : std::nullopt);
        }
      }
    }
  }
}

class FakeServerTest : public ::testing::Test {
 protected:
  void TearDown() override { server_.reset(); }

  // Starts `scenario`. Use as ASSERT_NO_FATAL_FAILURE(StartServer(...)).
  void StartServer(const std::string& scenario) {
    ASSERT_FALSE(scratch_.path().empty()) << "mkdtemp failed";
    ASSERT_FALSE(KeyDirEnvironment::path().empty()) << "mkdtemp failed";
    auto server = FakeServerProcess::Start(scenario, KeyDirEnvironment::path(),
                                           scratch_.path() + "/server.stderr");
    ASSERT_TRUE(server.ok()) << server.error().message;
    server_ = std::move(server).value();
  }

  std::string Url(const std::string& query = "", const std::string& password = "pw") const {
    return "mysql://u:" + password + "@127.0.0.1:" + std::to_string(server_ ? server_->port() : 1) +
           "/" + (query.empty() ? "" : "?" + query);
  }
  std::string Endpoint() const { return "127.0.0.1:" + std::to_string(server_->port()); }

  Result<std::unique_ptr<Session>> Connect(const std::string& query = "",
                                           const std::string& password = "pw",
                                           const std::string& pack_dir = kSourcePacks) {
    auto url = ParseConnectionUrl(Url(query, password));
    if (!url.ok()) return url.error();
    SessionOptions options;
    options.pack_dir = pack_dir;
    options.connect_timeout = std::chrono::seconds(10);
    options.read_timeout = std::chrono::seconds(10);  // a hang fails the test instead
    return Session::Open(*url, options);
  }

  // Waits for the server; expects exit 0 and an `OK:` line holding `verified`.
  void ExpectServerOk(const std::string& verified) {
    ASSERT_TRUE(server_) << "no server started";
    auto code = server_->Wait(std::chrono::seconds(15));
    std::string err = server_->Stderr();
    ASSERT_TRUE(code.ok()) << code.error().message << "; stderr: " << err;
    EXPECT_EQ(*code, 0) << "server stderr: " << err;
    EXPECT_THAT(err, HasSubstr("OK: "));
    EXPECT_THAT(err, HasSubstr(verified));
  }

  // Waits for the server; expects exit 1 and a `FAIL:` line holding `reason`.
  void ExpectServerFail(const std::string& reason) {
    ASSERT_TRUE(server_) << "no server started";
    auto code = server_->Wait(std::chrono::seconds(15));
    std::string err = server_->Stderr();
    ASSERT_TRUE(code.ok()) << code.error().message << "; stderr: " << err;
    EXPECT_EQ(*code, 1) << "server stderr: " << err;
    EXPECT_THAT(err, AllOf(HasSubstr("FAIL: "), HasSubstr(reason), Not(HasSubstr("OK: "))));
  }

  TempDir scratch_{"sqlx_fake_test_"};
  std::unique_ptr<FakeServerProcess> server_;
};

// ---------------------------------------------------------------------------
// Authentication flows

using MySqlAuthTest = FakeServerTest;

TEST_F(MySqlAuthTest, NativePasswordServesPingQueriesAndInitDb) {
  ASSERT_NO_FATAL_FAILURE(StartServer("native"));
  auto session = Connect();
  ASSERT_TRUE(session.ok()) << session.error().ToString();
  Session& s = **session;
  EXPECT_EQ(s.server().auth_plugin, "mysql_native_password");
  EXPECT_EQ(s.server().greeting.server_version, "8.0.36-sqlx-fake");
  EXPECT_EQ(s.server().greeting.connection_id, kFirstConnectionId);
  EXPECT_EQ(s.server().endpoint, Endpoint());

  Status ping = s.Ping();
  EXPECT_TRUE(ping.ok()) << ping.error().ToString();

  QueryOutcome one = RunQuery(s, "SELECT 1");
  ASSERT_FALSE(one.error) << one.error->ToString();
  ASSERT_EQ(one.columns.size(), 1u);
  EXPECT_EQ(one.columns[0].name, "1");
  EXPECT_EQ(one.columns[0].type, 8u);  // LONGLONG
  ASSERT_EQ(one.rows.size(), 1u);
  EXPECT_EQ(one.rows[0], (std::vector<std::optional<std::string>>{"1"}));

  QueryOutcome null_x = RunQuery(s, "SELECT NULL, 'x'");
  ASSERT_FALSE(null_x.error) << null_x.error->ToString();
  ASSERT_EQ(null_x.columns.size(), 2u);
  EXPECT_EQ(null_x.columns[0].name, "NULL");
  EXPECT_EQ(null_x.columns[1].name, "x");
  ASSERT_EQ(null_x.rows.size(), 1u);
  EXPECT_EQ(null_x.rows[0], (std::vector<std::optional<std::string>>{std::nullopt, "x"}));

  Status init = s.InitDb("sqlx_test");
  EXPECT_TRUE(init.ok()) << init.error().ToString();
  EXPECT_TRUE(s.usable());
  s.Close();
  ExpectServerOk("mysql_native_password scramble verified");
  EXPECT_THAT(server_->Stderr(),
              AllOf(HasSubstr("PING"), HasSubstr("QUERY 'SELECT 1'"), HasSubstr("INIT_DB sqlx_test"),
                    HasSubstr("QUIT"), Not(HasSubstr("without COM_QUIT"))));
}

TEST_F(MySqlAuthTest, CachingSha2FastAuthReportsItsPlugin) {
  ASSERT_NO_FATAL_FAILURE(StartServer("caching_sha2_fast"));
  auto session = Connect();
  ASSERT_TRUE(session.ok()) << session.error().ToString();
  EXPECT_EQ((*session)->server().auth_plugin, "caching_sha2_password");
  EXPECT_EQ((*session)->server().greeting.auth_plugin, "caching_sha2_password");
  EXPECT_TRUE((*session)->Ping().ok());
  (*session)->Close();
  ExpectServerOk("caching_sha2_password scramble verified, fast auth");
}

TEST_F(MySqlAuthTest, CachingSha2FastAuthWithAWrongPasswordIsAccessDenied) {
  ASSERT_NO_FATAL_FAILURE(StartServer("caching_sha2_fast"));
  auto session = Connect("", "not-pw");
  ASSERT_FALSE(session.ok());
  const Error& e = session.error();
  EXPECT_EQ(e.code, ErrorCode::kAuth) << e.ToString();
  EXPECT_EQ(e.server_code, 1045);
  EXPECT_EQ(e.sqlstate, "28000");
  EXPECT_THAT(e.message, AllOf(HasSubstr("Access denied for user 'u'"), HasSubstr("u@" + Endpoint()),
                               Not(HasSubstr("not-pw"))));
  ExpectServerFail("caching_sha2_password scramble mismatch");
}

TEST_F(MySqlAuthTest, CachingSha2FullAuthWithoutTlsOrKeyTellsHowToProceed) {
  ASSERT_NO_FATAL_FAILURE(StartServer("caching_sha2_full_rsa"));
  auto session = Connect();
  ASSERT_FALSE(session.ok());
  const Error& e = session.error();
  EXPECT_EQ(e.code, ErrorCode::kAuth) << e.ToString();
  EXPECT_THAT(e.message, AllOf(HasSubstr("ssl-mode=required"), HasSubstr("server-public-key="),
                               HasSubstr("get-server-public-key=true")));
  // The client gave up instead of sending the password in clear.
  ExpectServerFail("waited for full-auth reply");
}

TEST_F(MySqlAuthTest, CachingSha2FullAuthFetchesTheServerKeyWhenAllowed) {
  ASSERT_NO_FATAL_FAILURE(StartServer("caching_sha2_full_rsa"));
  auto session = Connect("ssl-mode=disabled&get-server-public-key=true");
  ASSERT_TRUE(session.ok()) << session.error().ToString();
  EXPECT_EQ((*session)->server().auth_plugin, "caching_sha2_password");
  EXPECT_FALSE((*session)->server().tls.active);
  (*session)->Close();
  ExpectServerOk("RSA-OAEP encrypted password verified");
  EXPECT_THAT(server_->Stderr(), HasSubstr("public key requested"));
}

TEST_F(MySqlAuthTest, CachingSha2FullAuthUsesAConfiguredServerKeyWithoutFetching) {
  ASSERT_NO_FATAL_FAILURE(StartServer("caching_sha2_full_rsa"));
  auto session = Connect("server-public-key=" + KeyDirEnvironment::path() + "/rsa_public_key.pem");
  ASSERT_TRUE(session.ok()) << session.error().ToString();
  (*session)->Close();
  ExpectServerOk("client used a preconfigured public key");
  EXPECT_THAT(server_->Stderr(),
              AllOf(HasSubstr("RSA-OAEP encrypted password verified"), Not(HasSubstr("public key requested"))));
}

TEST_F(MySqlAuthTest, CachingSha2FullAuthSendsThePasswordOverTls) {
  ASSERT_NO_FATAL_FAILURE(StartServer("caching_sha2_full_tls"));
  auto session = Connect("ssl-mode=required");
  ASSERT_TRUE(session.ok()) << session.error().ToString();
  EXPECT_TRUE((*session)->server().tls.active);
  EXPECT_FALSE((*session)->server().tls.version.empty());
  EXPECT_TRUE((*session)->Ping().ok());
  (*session)->Close();
  ExpectServerOk("cleartext password over TLS verified");
  EXPECT_THAT(server_->Stderr(), HasSubstr("TLS via SSLRequest"));
}

TEST_F(MySqlAuthTest, AuthSwitchAnswersWithTheNewScramble) {
  ASSERT_NO_FATAL_FAILURE(StartServer("auth_switch"));
  auto session = Connect();
  ASSERT_TRUE(session.ok()) << session.error().ToString();
  EXPECT_EQ((*session)->server().greeting.auth_plugin, "mysql_native_password");
  EXPECT_EQ((*session)->server().auth_plugin, "caching_sha2_password");
  (*session)->Close();
  ExpectServerOk("auth switch mysql_native_password -> caching_sha2_password");
}

TEST_F(MySqlAuthTest, AuthSwitchToAnUnknownPluginDisconnectsNamingThePlugins) {
  ASSERT_NO_FATAL_FAILURE(StartServer("auth_switch_unknown_plugin"));
  auto session = Connect();
  ASSERT_FALSE(session.ok());
  const Error& e = session.error();
  EXPECT_EQ(e.code, ErrorCode::kUnsupported) << e.ToString();
  EXPECT_THAT(e.message, AllOf(HasSubstr("sqlx_no_such_plugin"), HasSubstr("mysql_native_password"),
                               HasSubstr("caching_sha2_password"), HasSubstr("client_ed25519")));
  ExpectServerOk("client disconnected after auth switch to unknown plugin sqlx_no_such_plugin");
}

TEST_F(MySqlAuthTest, AccessDeniedIsAnAuthErrorWithServerCodeAndSqlstate) {
  ASSERT_NO_FATAL_FAILURE(StartServer("access_denied"));
  auto session = Connect();
  ASSERT_FALSE(session.ok());
  const Error& e = session.error();
  EXPECT_EQ(e.code, ErrorCode::kAuth) << e.ToString();
  EXPECT_EQ(e.server_code, 1045);
  EXPECT_EQ(e.sqlstate, "28000");
  EXPECT_THAT(e.message, AllOf(HasSubstr("Access denied for user 'u'@'localhost' (using password: YES)"),
                               HasSubstr("check the user name and password")));
  ExpectServerOk("sent ERR 1045 to user 'u'");
}

TEST_F(MySqlAuthTest, ErrorInsteadOfAGreetingCarriesTheServerCode) {
  ASSERT_NO_FATAL_FAILURE(StartServer("error_greeting"));
  auto session = Connect();
  ASSERT_FALSE(session.ok());
  const Error& e = session.error();
  EXPECT_EQ(e.code, ErrorCode::kServer) << e.ToString();
  EXPECT_EQ(e.server_code, 1129);
  EXPECT_EQ(e.sqlstate, "HY000");
  EXPECT_THAT(e.message, HasSubstr("Host '127.0.0.1' is blocked because of many connection errors"));
  ExpectServerOk("sent ERR 1129 instead of a greeting");
}

TEST_F(MySqlAuthTest, RequiredTlsAgainstAServerWithoutTlsFailsBeforeSendingCredentials) {
  ASSERT_NO_FATAL_FAILURE(StartServer("native"));
  auto session = Connect("ssl-mode=required");
  ASSERT_FALSE(session.ok());
  const Error& e = session.error();
  EXPECT_EQ(e.code, ErrorCode::kTls) << e.ToString();
  EXPECT_THAT(e.message, AllOf(HasSubstr("does not offer TLS"), HasSubstr(Endpoint())));
  // The server got no handshake response at all: the client closed first.
  ExpectServerFail("client closed the connection while the server waited for handshake response");
}

// ---------------------------------------------------------------------------
// Hostile or broken server bytes: an error, never a crash or a hang

using HostileServerTest = FakeServerTest;

TEST_F(HostileServerTest, CloseMidHandshakeIsReportedAsClosedNamingTheEndpoint) {
  ASSERT_NO_FATAL_FAILURE(StartServer("close_mid_handshake"));
  auto session = Connect();
  ASSERT_FALSE(session.ok());
  const Error& e = session.error();
  EXPECT_EQ(e.code, ErrorCode::kClosed) << e.ToString();
  EXPECT_THAT(e.message, AllOf(HasSubstr(Endpoint()), HasSubstr("closed the connection")));
  ExpectServerOk("read handshake response, closed without replying");
}

TEST_F(HostileServerTest, TruncatedGreetingIsReportedAsClosedMidPacket) {
  ASSERT_NO_FATAL_FAILURE(StartServer("truncated_greeting"));
  auto session = Connect();
  ASSERT_FALSE(session.ok());
  const Error& e = session.error();
  EXPECT_THAT(e.code, AnyOf(ErrorCode::kClosed, ErrorCode::kProtocol)) << e.ToString();
  EXPECT_THAT(e.message, AllOf(HasSubstr("in the middle of a packet"), HasSubstr(Endpoint())));
  ExpectServerOk("announcing 80 bytes followed by 20");
}

TEST_F(HostileServerTest, OversizedPacketHeaderIsReportedAsClosedMidPacket) {
  ASSERT_NO_FATAL_FAILURE(StartServer("oversized_packet"));
  auto session = Connect();
  ASSERT_FALSE(session.ok());
  const Error& e = session.error();
  EXPECT_THAT(e.code, AnyOf(ErrorCode::kClosed, ErrorCode::kProtocol)) << e.ToString();
  EXPECT_THAT(e.message, AllOf(HasSubstr("in the middle of a packet"), HasSubstr(Endpoint())));
  ExpectServerOk("announcing 0xffffff bytes followed by 100");
}

TEST_F(HostileServerTest, BadLengthInAColumnDefinitionIsAProtocolError) {
  ASSERT_NO_FATAL_FAILURE(StartServer("bad_lenenc_resultset"));
  auto session = Connect();
  ASSERT_TRUE(session.ok()) << session.error().ToString();
  QueryOutcome q = RunQuery(**session, "SELECT 1");
  ASSERT_TRUE(q.error);
  EXPECT_EQ(q.error->code, ErrorCode::kProtocol) << q.error->ToString();
  EXPECT_TRUE(q.rows.empty());
  // The connection is out of step now: the session says so.
  EXPECT_FALSE((*session)->usable());
  EXPECT_FALSE((*session)->Ping().ok());
  (*session)->Close();
  ExpectServerOk("a 20-byte packet");
}

// ---------------------------------------------------------------------------
// Server errors while rows stream

using ServerErrorTest = FakeServerTest;

TEST_F(ServerErrorTest, ErrorMidResultSetComesAfterTheRowsBeforeItAndKeepsTheSession) {
  ASSERT_NO_FATAL_FAILURE(StartServer("error_mid_resultset"));
  auto session = Connect();
  ASSERT_TRUE(session.ok()) << session.error().ToString();
  Session& s = **session;

  QueryOutcome q = RunQuery(s, "SELECT a, b FROM t");
  ASSERT_EQ(q.columns.size(), 2u);
  EXPECT_EQ(q.columns[0].name, "a");
  EXPECT_EQ(q.columns[1].name, "b");
  using Row = std::vector<std::optional<std::string>>;
  EXPECT_EQ(q.rows, (std::vector<Row>{{"1", "row1"}, {"2", "row2"}, {"3", "row3"}}));
  ASSERT_TRUE(q.error) << "the interrupted result set ended without an error";
  EXPECT_EQ(q.error->code, ErrorCode::kServer) << q.error->ToString();
  EXPECT_EQ(q.error->server_code, 1317);
  EXPECT_EQ(q.error->sqlstate, "70100");
  EXPECT_THAT(q.error->message, HasSubstr("Query execution was interrupted"));

  // A server error leaves the connection in step: the next query works.
  EXPECT_TRUE(s.usable());
  QueryOutcome again = RunQuery(s, "SELECT 1");
  ASSERT_FALSE(again.error) << again.error->ToString();
  EXPECT_EQ(again.rows, (std::vector<Row>{{"1"}}));
  EXPECT_TRUE(s.Ping().ok());
  s.Close();
  ExpectServerOk("sent 2 columns, 3 rows, then ERR 1317 for the first query");
}

// ---------------------------------------------------------------------------
// The wire pack is data: an edited copy changes the protocol with no rebuild

class WirePackEditTest : public FakeServerTest {
 protected:
  // Copies registry.json into a fresh pack directory and returns the parsed
  // mysql.wire.json for editing; SavePack() writes it there. Each call uses a
  // new directory: packs are cached per file for the life of the process.
  Json CopyPack() {
    pack_dir_ = scratch_.path() + "/packs" + std::to_string(++pack_dirs_);
    std::filesystem::create_directories(pack_dir_);
    std::filesystem::copy_file(kSourcePacks + "/registry.json", pack_dir_ + "/registry.json");
    return Json::parse(ReadFile(kSourcePacks + "/mysql.wire.json"));
  }
  void SavePack(const Json& pack) { WriteFile(pack_dir_ + "/mysql.wire.json", pack.dump(2)); }

  // The three edits the `edited_protocol` scenario speaks.
  enum class Edit { kPingOpcode, kGreetingOrder, kHmacPlugin };
  static constexpr Edit kAllEdits[] = {Edit::kPingOpcode, Edit::kGreetingOrder, Edit::kHmacPlugin};

  static void Apply(Edit edit, Json& pack) {
    switch (edit) {
      case Edit::kPingOpcode:
        pack["constants"]["COM_PING"] = 0x3e;
        return;
      case Edit::kGreetingOrder: {
        // The u32 connection id comes right after the protocol version.
        Json& greeting = pack["layouts"]["greeting"];
        auto named = [&](const std::string& name) {
          for (auto it = greeting.begin(); it != greeting.end(); ++it)
            if (it->value("name", "") == name) return it;
          return greeting.end();
        };
        auto conn_id = named("connection_id");
        ASSERT_NE(conn_id, greeting.end());
        Json field = *conn_id;
        greeting.erase(conn_id);
        auto version = named("protocol_version");
        ASSERT_NE(version, greeting.end());
        greeting.insert(version + 1, field);
        return;
      }
      case Edit::kHmacPlugin:
        // HMAC-SHA256(key = the 20-byte scramble, message = SHA-256(password)).
        pack["tables"]["auth_plugins"]["sqlx_hmac_password"] = Json::parse(R"json({
          "initial": [{"set": {"auth_response": "hmac_sha256(slice(auth_data, 0, 20), sha256(password))"}}]
        })json");
        return;
    }
  }

  // Writes a pack dir holding the source pack with `edits` applied.
  void WriteEditedPack(const std::vector<Edit>& edits) {
    Json pack = CopyPack();
    for (Edit e : edits) ASSERT_NO_FATAL_FAILURE(Apply(e, pack));
    SavePack(pack);
  }

  Result<std::unique_ptr<Session>> OpenWithPackDir(const std::string& dir) {
    return Connect("", "pw", dir);
  }

  std::string pack_dir_;
  int pack_dirs_ = 0;
};

TEST_F(WirePackEditTest, SessionFollowsAnEditedPackWithoutRebuild) {
  ASSERT_NO_FATAL_FAILURE(WriteEditedPack({std::begin(kAllEdits), std::end(kAllEdits)}));
  ASSERT_NO_FATAL_FAILURE(StartServer("edited_protocol"));

  auto session = OpenWithPackDir(pack_dir_);
  ASSERT_TRUE(session.ok()) << session.error().ToString();
  Session& s = **session;
  EXPECT_EQ(s.server().auth_plugin, "sqlx_hmac_password");
  EXPECT_EQ(s.server().greeting.connection_id, kFirstConnectionId);
  EXPECT_EQ(s.server().greeting.server_version, "8.0.36-sqlx-fake");
  Status ping = s.Ping();  // the server answers only opcode 0x3e
  EXPECT_TRUE(ping.ok()) << ping.error().ToString();
  s.Close();
  ExpectServerOk("sqlx_hmac_password verified");
  EXPECT_THAT(server_->Stderr(), AllOf(HasSubstr("PING"), Not(HasSubstr("unknown 0x0e"))));
}

// Proves each edit mattered: a pack missing any one of them (or all of them)
// cannot talk to the edited server.
TEST_F(WirePackEditTest, PackMissingAnyEditCannotSpeakTheEditedProtocol) {
  struct Case {
    const char* name;
    std::optional<Edit> left_out;  // nullopt: the unedited source pack
    const char* client_error;      // in the Open or Ping error
    const char* server_fail;       // in the server's FAIL line
  };
  const Case cases[] = {
      {"unedited pack", std::nullopt, "does not speak protocol 4.1", "waited for handshake response"},
      {"standard ping opcode", Edit::kPingOpcode, "Unknown command", "standard opcode 0x0e"},
      {"standard greeting order", Edit::kGreetingOrder, "protocol 4.1", "waited for handshake response"},
      {"no hmac plugin", Edit::kHmacPlugin, "sqlx_hmac_password", "waited for handshake response"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    std::string dir = kSourcePacks;
    if (c.left_out) {
      std::vector<Edit> edits;
      for (Edit e : kAllEdits)
        if (e != *c.left_out) edits.push_back(e);
      ASSERT_NO_FATAL_FAILURE(WriteEditedPack(edits));
      dir = pack_dir_;
    }
    ASSERT_NO_FATAL_FAILURE(StartServer("edited_protocol"));
    auto session = OpenWithPackDir(dir);
    std::string client_error;
    if (!session.ok()) {
      client_error = session.error().ToString();
    } else {
      Status ping = (*session)->Ping();
      ASSERT_FALSE(ping.ok()) << "the edited server refuses opcode 0x0e";
      client_error = ping.error().ToString();
      (*session)->Close();
    }
    EXPECT_THAT(client_error, HasSubstr(c.client_error));
    ExpectServerFail(c.server_fail);
  }
}

TEST_F(WirePackEditTest, MissingPackFileIsNotFoundNamingTheFile) {
  CopyPack();  // registry.json only
  auto session = OpenWithPackDir(pack_dir_);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().code, ErrorCode::kNotFound) << session.error().ToString();
  EXPECT_THAT(session.error().message, HasSubstr(pack_dir_ + "/mysql.wire.json"));
}

TEST_F(WirePackEditTest, MalformedPackJsonIsAPackErrorNamingTheFile) {
  CopyPack();
  std::string text = ReadFile(kSourcePacks + "/mysql.wire.json");
  WriteFile(pack_dir_ + "/mysql.wire.json", text.substr(0, text.size() / 2));
  auto session = OpenWithPackDir(pack_dir_);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().code, ErrorCode::kPack) << session.error().ToString();
  EXPECT_THAT(session.error().message,
              AllOf(HasSubstr(pack_dir_ + "/mysql.wire.json"), HasSubstr("not valid JSON")));
}

TEST_F(WirePackEditTest, ExpressionSyntaxErrorNamesTheJsonPointer) {
  Json pack = CopyPack();
  Json& ping = pack["procedures"]["ping"];
  ASSERT_TRUE(ping.is_array());
  ASSERT_GE(ping.size(), 2u);
  ping[1] = Json{{"send_raw", "concat(x'0e', "}};
  SavePack(pack);
  auto session = OpenWithPackDir(pack_dir_);
  ASSERT_FALSE(session.ok());
  EXPECT_EQ(session.error().code, ErrorCode::kPack) << session.error().ToString();
  EXPECT_THAT(session.error().message,
              AllOf(HasSubstr(pack_dir_ + "/mysql.wire.json"), HasSubstr("/procedures/ping/1/send_raw"),
                    HasSubstr("concat(x'0e', ")));
}

}  // namespace
}  // namespace sqlx::transports
