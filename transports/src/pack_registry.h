// Finds the wire pack for a URL scheme: registry.json in the first directory
// of the search path that has one (--pack-dir, $SQLX_PACK_DIR, the install
// dir, the source tree) maps schemes to pack files.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "pack.h"
#include "sqlx/messages/result.h"

namespace sqlx::transports {

struct PackChoice {
  std::shared_ptr<const WirePack> pack;
  uint16_t default_port = 0;
  std::string directory;
};

std::vector<std::string> PackSearchDirs(const std::string& pack_dir);

// Loads (and caches per file) the pack for `scheme`. Errors name the
// registry/pack file and the JSON pointer at fault.
Result<PackChoice> LocatePack(const std::string& scheme, const std::string& pack_dir);

}  // namespace sqlx::transports
