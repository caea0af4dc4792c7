// The shipped MySQL/MariaDB wire pack (transports/packs/mysql.wire.json) for
// white-box tests of the layers that run it: loaded once per test binary.
#pragma once

#include <memory>
#include <string_view>

#include <gtest/gtest.h>

#include "pack.h"

namespace sqlx::transports::testing {

// The pack, loaded on first use and kept for the life of the process. A load
// error fails the test that asked first.
inline const WirePack& MysqlWirePack() {
  static const std::shared_ptr<const WirePack> pack = [] {
    auto loaded = WirePack::Load(SQLX_SOURCE_DIR "/transports/packs/mysql.wire.json");
    EXPECT_TRUE(loaded.ok()) << loaded.error().message;
    return loaded.ok() ? std::move(loaded).value() : nullptr;
  }();
  return *pack;
}

// A constant or flag of the pack (e.g. "CLIENT_PLUGIN_AUTH"), or 0 and a
// test failure when it has none by that name.
inline uint64_t PackConstant(std::string_view name) {
  const auto& constants = MysqlWirePack().constants();
  auto it = constants.find(name);
  if (it == constants.end()) {
    ADD_FAILURE() << "the pack has no constant " << name;
    return 0;
  }
  return it->second;
}

}  // namespace sqlx::transports::testing
