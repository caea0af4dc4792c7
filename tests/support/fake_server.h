// The scripted fake MySQL server (fake_mysql_server.py, see README.md) as a
// test fixture: one server process per scenario, a Session against it, and
// the server's own verdict (exit status and `OK:` / `FAIL:` line) afterwards.
#pragma once

#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "row_cells.h"
#include "sqlx/transports/session.h"
#include "subprocess.h"
#include "temp_dir.h"

namespace sqlx::testing {

inline const std::string kSourcePacks = SQLX_SOURCE_DIR "/transports/packs";
inline const std::string kFakeServerScript = SQLX_SOURCE_DIR "/tests/support/fake_mysql_server.py";
inline constexpr uint64_t kFirstConnectionId = 1000;  // the fake server's id for connection 1

// One fake server process. Its stdout (the `PORT <n>` line) is a pipe; its
// stderr goes to a file read after it exits, so it can never block on a full
// pipe. The destructor kills and reaps the process if it is still running.
class FakeServerProcess {
 public:
  // Starts `python3 fake_mysql_server.py --scenario S --workdir W ...` and
  // waits for its port. On error the message includes the server's stderr.
  static Result<std::unique_ptr<FakeServerProcess>> Start(const std::string& scenario,
                                                          const std::string& workdir,
                                                          const std::string& stderr_file) {
    auto proc = std::unique_ptr<FakeServerProcess>(new FakeServerProcess(
        {"python3", kFakeServerScript, "--scenario", scenario, "--workdir", workdir, "--timeout", "20"},
        stderr_file));
    if (proc->process_.pid() < 0) return MakeError(ErrorCode::kIo, "cannot start the fake server");
    // RSA/TLS key generation comes before the PORT line.
    const auto has_line = [](const RunResult& r) { return r.out.find('\n') != std::string::npos; };
    const std::string& line = proc->process_.result().out;
    unsigned port = 0;
    std::optional<Error> error;
    if (!proc->process_.ReadUntil(has_line, DeadlineIn(std::chrono::seconds(60)))) {
      error = MakeError(ErrorCode::kTimeout, "no PORT line from the fake server");
    } else if (!has_line(proc->process_.result())) {
      error = MakeError(ErrorCode::kClosed, "fake server exited before printing PORT");
    } else if (std::sscanf(line.c_str(), "PORT %u", &port) != 1 || port == 0 || port > 65535) {
      error = MakeError(ErrorCode::kProtocol, "unexpected fake server stdout: " + line);
    }
    if (error) return MakeError(error->code, error->message + "; server stderr: " + proc->Stderr());
    proc->port_ = static_cast<uint16_t>(port);
    return proc;
  }

  uint16_t port() const { return port_; }
  std::string Stderr() const { return ReadFile(stderr_file_); }

  // Waits for the server to exit; its exit code, or an error on a signal or
  // when it is still running after `limit` (it is killed then).
  Result<int> Wait(std::chrono::milliseconds limit) {
    const RunResult r = process_.Wait(DeadlineIn(limit));
    if (r.timed_out) {
      return MakeError(ErrorCode::kTimeout,
                       "fake server still running after " + std::to_string(limit.count()) + " ms; killed");
    }
    if (r.term_signal != 0) {
      return MakeError(ErrorCode::kInternal, "fake server died of signal " + std::to_string(r.term_signal));
    }
    return r.exit_code;
  }

 private:
  FakeServerProcess(const std::vector<std::string>& argv, const std::string& stderr_file)
      : process_(argv, std::nullopt, stderr_file), stderr_file_(stderr_file) {}

  Subprocess process_;
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
[[maybe_unused]] inline ::testing::Environment* const kKeyDirEnvironment =
    ::testing::AddGlobalTestEnvironment(new KeyDirEnvironment);

// Everything one query returned: the last row result's columns, all rows of
// all results, and the error that ended it early, if any.
struct QueryOutcome {
  std::vector<transports::Column> columns;
  std::vector<Row> rows;
  std::optional<Error> error;
};

inline QueryOutcome RunQuery(transports::Session& session, std::string_view sql) {
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
      AppendRows(**batch, &out.rows);
    }
  }
}

// One scenario per test: StartServer, Connect, then ExpectServerOk/Fail.
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

  Result<std::unique_ptr<transports::Session>> Connect(const std::string& query = "",
                                                       const std::string& password = "pw",
                                                       const std::string& pack_dir = kSourcePacks) {
    auto url = transports::ParseConnectionUrl(Url(query, password));
    if (!url.ok()) return url.error();
    transports::SessionOptions options;
    options.pack_dir = pack_dir;
    options.connect_timeout = std::chrono::seconds(10);
    options.read_timeout = std::chrono::seconds(10);  // a hang fails the test instead
    return transports::Session::Open(*url, options);
  }

  // Waits for the server; expects exit 0 and an `OK:` line holding `verified`.
  void ExpectServerOk(const std::string& verified) {
    using ::testing::HasSubstr;
    std::string err;
    ASSERT_NO_FATAL_FAILURE(ExpectServerExit(0, &err));
    EXPECT_THAT(err, HasSubstr("OK: "));
    EXPECT_THAT(err, HasSubstr(verified));
  }

  // Waits for the server; expects exit 1 and a `FAIL:` line holding `reason`.
  void ExpectServerFail(const std::string& reason) {
    using ::testing::HasSubstr;
    std::string err;
    ASSERT_NO_FATAL_FAILURE(ExpectServerExit(1, &err));
    EXPECT_THAT(err, ::testing::AllOf(HasSubstr("FAIL: "), HasSubstr(reason), ::testing::Not(HasSubstr("OK: "))));
  }

  TempDir scratch_{"sqlx_fake_test_"};
  std::unique_ptr<FakeServerProcess> server_;

 private:
  // Waits for the server, expects exit `code`, and hands back its stderr.
  void ExpectServerExit(int code, std::string* err) {
    ASSERT_TRUE(server_) << "no server started";
    auto exit_code = server_->Wait(std::chrono::seconds(15));
    *err = server_->Stderr();
    ASSERT_TRUE(exit_code.ok()) << exit_code.error().message << "; stderr: " << *err;
    EXPECT_EQ(*exit_code, code) << "server stderr: " << *err;
  }
};

}  // namespace sqlx::testing
