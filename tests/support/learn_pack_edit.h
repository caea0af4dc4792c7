// A copy of the shipped MySQL learn pack with one statement replaced, for
// tests that make the server misbehave half-way through a learn (found via
// the learn pack dir option or SQLX_LEARN_PACK_DIR).
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "temp_dir.h"
#include "test_env.h"

namespace sqlx::testing {

// Writes <dir>/mysql.learn.json: the shipped pack with the JSON string value
// that starts with `statement_start` replaced by `replacement` (up to the
// value's closing quote; the replacement must not contain one).
inline void WriteEditedLearnPack(const std::string& dir, const std::string& statement_start,
                                 const std::string& replacement) {
  std::string pack = ReadFile(SourceDir() + "/flo/packs/mysql.learn.json");
  const size_t at = pack.find(statement_start);
  ASSERT_NE(at, std::string::npos) << "the shipped learn pack has no \"" << statement_start << "\"";
  pack.replace(at, pack.find('"', at) - at, replacement);
  WriteFile(dir + "/mysql.learn.json", pack);
}

// The events catalog query becomes one that kills the session: the catalog
// queries before it have run when the server drops the connection.
inline void WriteKillingLearnPack(const std::string& dir) {
  WriteEditedLearnPack(dir, "SELECT EVENT_SCHEMA, EVENT_NAME", "KILL CONNECTION_ID() /* {schemas} */");
}

}  // namespace sqlx::testing
