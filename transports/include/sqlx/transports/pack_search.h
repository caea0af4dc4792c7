// Where data packs (wire packs, learn packs) are looked for: an explicit
// directory, then an environment variable, then beside the executable
// (<exe>/../share/sqlx/packs), the install dir and the source tree.
#pragma once

#include <string>
#include <vector>

namespace sqlx::transports {

struct PackSearch {
  std::string explicit_dir;  // --pack-dir and the like; empty: none
  const char* env_var = "";  // e.g. "SQLX_PACK_DIR"; unset or empty: skipped
  std::string install_dir;   // compiled-in install location; empty: skipped
  std::string source_dir;    // compiled-in source tree location; empty: skipped
};

struct PackDir {
  std::string path;
  // Given by the user (explicit_dir or env_var): it must hold the pack; a
  // caller never falls back past it to a pack the user did not choose.
  bool chosen = false;
};

// The directories to try, in order.
std::vector<PackDir> PackSearchDirs(const PackSearch& search);

// True for an existing regular file.
bool IsRegularFile(const std::string& path);

}  // namespace sqlx::transports
