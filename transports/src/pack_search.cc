#include "sqlx/transports/pack_search.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>

namespace sqlx::transports {

namespace {

std::string ExecutableDir() {
  char buf[4096];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return {};
  std::string path(buf, static_cast<size_t>(n));
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? std::string() : path.substr(0, slash);
}

}  // namespace

bool IsRegularFile(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::vector<PackDir> PackSearchDirs(const PackSearch& search) {
  std::vector<PackDir> dirs;
  if (!search.explicit_dir.empty()) dirs.push_back({search.explicit_dir, true});
  if (const char* env = std::getenv(search.env_var); env != nullptr && *env != '\0') dirs.push_back({env, true});
  if (std::string exe = ExecutableDir(); !exe.empty()) dirs.push_back({exe + "/../share/sqlx/packs", false});
  if (!search.install_dir.empty()) dirs.push_back({search.install_dir, false});
  if (!search.source_dir.empty()) dirs.push_back({search.source_dir, false});
  return dirs;
}

}  // namespace sqlx::transports
