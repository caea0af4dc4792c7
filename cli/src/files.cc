// Whole-file reads and atomic writes (files.h).
#include "files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace sqlx::cli {
namespace {

Status WriteAll(int fd, const std::string& text, const std::string& path) {
  size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return MakeError(ErrorCode::kIo, "cannot write " + path + ": " + std::strerror(errno));
    off += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

Status WriteFileAtomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp-XXXXXX";
  int fd = ::mkstemp(tmp.data());
  if (fd < 0) {
    return MakeError(ErrorCode::kIo, "cannot create a temporary file beside " + path + ": " + std::strerror(errno) +
                                         " (is the directory writable?)");
  }
  Status st = WriteAll(fd, text, tmp);
  if (st.ok() && ::fchmod(fd, 0644) != 0) st = MakeError(ErrorCode::kIo, "cannot chmod " + tmp);
  if (st.ok() && ::fsync(fd) != 0) st = MakeError(ErrorCode::kIo, "cannot sync " + tmp + ": " + std::strerror(errno));
  if (::close(fd) != 0 && st.ok()) st = MakeError(ErrorCode::kIo, "cannot close " + tmp + ": " + std::strerror(errno));
  if (st.ok() && ::rename(tmp.c_str(), path.c_str()) != 0)
    st = MakeError(ErrorCode::kIo, "cannot rename " + tmp + " to " + path + ": " + std::strerror(errno));
  if (!st.ok()) ::unlink(tmp.c_str());  // best effort: the temporary file is ours
  return st;
}

Result<std::string> ReadTextFile(const std::string& path, size_t max_bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    return MakeError(err == ENOENT ? ErrorCode::kNotFound : ErrorCode::kIo,
                     "cannot read " + path + ": " + std::strerror(err));
  }
  std::string text;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return MakeError(ErrorCode::kIo, "cannot read " + path + ": " + std::strerror(err));
    }
    if (n == 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > max_bytes) {
      ::close(fd);
      return MakeError(ErrorCode::kLimit, path + " is larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  ::close(fd);
  return text;
}

}  // namespace sqlx::cli
