// Runs one DISABLED_ test of this binary in a child process (fork + exec of
// /proc/self/exe), with two pipes: the child signals "ready", the parent
// "release" (by closing its end). Exec rather than a bare fork keeps the
// child free of the parent's RocksDB background threads and locks.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sqlx::testing {

inline constexpr const char* kChildDirEnv = "SQLX_STORE_TEST_DIR";
inline constexpr const char* kChildReadyFdEnv = "SQLX_STORE_TEST_READY_FD";
inline constexpr const char* kChildReleaseFdEnv = "SQLX_STORE_TEST_RELEASE_FD";

class ChildProcess {
 public:
  // Starts `test` ("Suite.DISABLED_Case") with kChildDirEnv = dir.
  ChildProcess(const std::string& test, const std::string& dir) {
    int ready[2];
    int release[2];
    if (pipe2(ready, O_CLOEXEC) != 0 || pipe2(release, O_CLOEXEC) != 0) {
      ADD_FAILURE() << "pipe2 failed";
      return;
    }
    // Everything the child needs is built before fork: after it, only
    // async-signal-safe calls.
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
      ADD_FAILURE() << "readlink /proc/self/exe failed";
      return;
    }
    self[n] = '\0';
    std::vector<std::string> args = {self, "--gtest_filter=" + test,
                                      "--gtest_also_run_disabled_tests"};
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) env.emplace_back(*e);
    env.push_back(std::string(kChildDirEnv) + "=" + dir);
    env.push_back(std::string(kChildReadyFdEnv) + "=" + std::to_string(ready[1]));
    env.push_back(std::string(kChildReleaseFdEnv) + "=" + std::to_string(release[0]));
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (std::string& e : env) envp.push_back(e.data());
    envp.push_back(nullptr);

    pid_ = fork();
    if (pid_ == 0) {
      fcntl(ready[1], F_SETFD, 0);
      fcntl(release[0], F_SETFD, 0);
      int devnull = open("/dev/null", O_WRONLY);
      if (devnull >= 0) dup2(devnull, STDOUT_FILENO);
      execve(self, argv.data(), envp.data());
      _exit(127);
    }
    close(ready[1]);
    close(release[0]);
    ready_fd_ = ready[0];
    release_fd_ = release[1];
    if (pid_ < 0) ADD_FAILURE() << "fork failed";
  }

  ~ChildProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      Wait();
    }
    if (ready_fd_ >= 0) close(ready_fd_);
    Release();
  }

  // True once the child wrote its ready byte; false if it exited first.
  bool WaitReady() {
    char c;
    return ready_fd_ >= 0 && read(ready_fd_, &c, 1) == 1;
  }
  // Closes the release pipe: the child's read returns end-of-file.
  void Release() {
    if (release_fd_ >= 0) close(release_fd_);
    release_fd_ = -1;
  }
  void Kill() {
    if (pid_ > 0) kill(pid_, SIGKILL);
  }
  // The child's wait status.
  int Wait() {
    int status = 0;
    if (pid_ > 0) waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int ready_fd_ = -1;
  int release_fd_ = -1;
};

// In the child: the directory, and the pipe ends the parent passed.
inline std::string ChildDir() {
  const char* v = std::getenv(kChildDirEnv);
  return v == nullptr ? "" : v;
}
inline void ChildSignalReady() {
  const char* v = std::getenv(kChildReadyFdEnv);
  if (v != nullptr) {
    ssize_t ignored = write(std::atoi(v), "r", 1);
    (void)ignored;
  }
}
// Blocks until the parent releases the child (or dies).
inline void ChildAwaitRelease() {
  const char* v = std::getenv(kChildReleaseFdEnv);
  char c;
  if (v != nullptr) {
    while (read(std::atoi(v), &c, 1) > 0) {
    }
  }
}

}  // namespace sqlx::testing
