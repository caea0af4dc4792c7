// Subprocess: runs a program for an integration test (the sqlx binary, the
// mariadb client, the scripted fake server) with its output captured and
// every wait bounded by a deadline.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sqlx::testing {

using Env = std::map<std::string, std::string>;
using Deadline = std::chrono::steady_clock::time_point;

inline Deadline DeadlineIn(std::chrono::milliseconds limit) {
  return std::chrono::steady_clock::now() + limit;
}

struct RunResult {
  int exit_code = -1;      // -1: killed by a signal, timed out, or never started
  int term_signal = 0;     // the signal that ended it, or 0
  bool timed_out = false;  // Wait's deadline passed first: it was killed
  std::string out;
  std::string err;  // empty when stderr goes to a file
};

// One child process. stdin is /dev/null; stdout is captured through a pipe;
// stderr through a pipe too, or into `stderr_file` when one is named (then a
// child that writes while nobody reads can never block on a full pipe).
// The destructor kills and reaps a child still running. Not thread-safe.
class Subprocess {
 public:
  // Starts argv[0]. With `env` it is a path, run with exactly that
  // environment; without, it is looked up on $PATH and inherits ours.
  // A failure to start is a test failure, and pid() stays -1.
  explicit Subprocess(const std::vector<std::string>& argv, const std::optional<Env>& env = std::nullopt,
                      const std::string& stderr_file = "") {
    const bool err_to_file = !stderr_file.empty();
    int out_pipe[2] = {-1, -1};
    int err_pipe[2] = {-1, -1};
    if (::pipe2(out_pipe, O_CLOEXEC) != 0 || (!err_to_file && ::pipe2(err_pipe, O_CLOEXEC) != 0)) {
      ADD_FAILURE() << "pipe2 failed";
      CloseAll({out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]});
      return;
    }
    if (err_to_file) {
      err_pipe[1] = ::open(stderr_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (err_pipe[1] < 0) {
        ADD_FAILURE() << "cannot create " << stderr_file;
        CloseAll({out_pipe[0], out_pipe[1]});
        return;
      }
    }
    // Everything the child needs is built before fork: after it, only
    // async-signal-safe calls.
    std::vector<std::string> env_strings;
    if (env) {
      for (const auto& [k, v] : *env) env_strings.push_back(k + "=" + v);
    }
    std::vector<char*> args, envp;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out_pipe[1], STDOUT_FILENO);
      ::dup2(err_pipe[1], STDERR_FILENO);
      int null_fd = ::open("/dev/null", O_RDONLY);
      ::dup2(null_fd, STDIN_FILENO);
      if (env) {
        ::execve(args[0], args.data(), envp.data());
      } else {
        ::execvp(args[0], args.data());
      }
      ::_exit(127);
    }
    CloseAll({out_pipe[1], err_pipe[1]});
    out_fd_ = out_pipe[0];
    err_fd_ = err_pipe[0];
    if (pid_ < 0) ADD_FAILURE() << "fork failed";
  }
  ~Subprocess() {
    if (pid_ > 0 && !reaped_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    CloseAll({out_fd_, err_fd_});
  }
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;

  pid_t pid() const { return pid_; }
  const RunResult& result() const { return result_; }

  // Reads output until `done` holds or the child closed its output; false
  // when `deadline` passes first.
  bool ReadUntil(const std::function<bool(const RunResult&)>& done, Deadline deadline) {
    char buf[65536];
    while (!done(result_) && (out_fd_ >= 0 || err_fd_ >= 0)) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
      if (::poll(fds, 2, static_cast<int>(left.count())) < 0) continue;
      for (int i = 0; i < 2; ++i) {
        if (fds[i].fd < 0 || fds[i].revents == 0) continue;
        ssize_t n = ::read(fds[i].fd, buf, sizeof(buf));
        if (n > 0) {
          (i == 0 ? result_.out : result_.err).append(buf, static_cast<size_t>(n));
        } else {
          ::close(fds[i].fd);
          (i == 0 ? out_fd_ : err_fd_) = -1;
        }
      }
    }
    return done(result_) || (out_fd_ < 0 && err_fd_ < 0);
  }

  // Reads all output and waits for the exit. A child still running at
  // `deadline` is killed, and that is a test failure.
  RunResult Wait(Deadline deadline) {
    if (pid_ <= 0 || reaped_) return result_;
    if (!ReadUntil([](const RunResult&) { return false; }, deadline)) {
      ADD_FAILURE() << "child " << pid_ << " did not finish in time: killed";
      result_.timed_out = true;
      ::kill(pid_, SIGKILL);
    }
    int status = 0;
    ::waitpid(pid_, &status, 0);
    reaped_ = true;
    result_.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    result_.term_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    return result_;
  }

 private:
  static void CloseAll(std::initializer_list<int> fds) {
    for (int fd : fds)
      if (fd >= 0) ::close(fd);
  }

  pid_t pid_ = -1;
  int out_fd_ = -1;
  int err_fd_ = -1;
  bool reaped_ = false;
  RunResult result_;
};

}  // namespace sqlx::testing
