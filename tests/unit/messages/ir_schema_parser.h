// flatc's own schema parser, JSON reader and text generator (libflatbuffers)
// loaded with a schema of the repository: an implementation independent of
// messages/src/ir_flatbuffers.cc to check it against.
#pragma once

#include <flatbuffers/idl.h>
#include <flatbuffers/util.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace sqlx::ir::testing {

// REQUIRES: SQLX_SOURCE_DIR (sqlx_add_test defines it).
inline std::unique_ptr<flatbuffers::Parser> LoadSchema(const std::string& repo_path) {
  auto parser = std::make_unique<flatbuffers::Parser>();
  parser->opts.strict_json = true;
  std::string text;
  const std::string path = std::string(SQLX_SOURCE_DIR) + "/" + repo_path;
  EXPECT_TRUE(flatbuffers::LoadFile(path.c_str(), false, &text)) << path;
  EXPECT_TRUE(parser->Parse(text.c_str(), nullptr, path.c_str())) << parser->error_;
  return parser;
}

// The buffer flatc builds from `json` with `parser`'s schema ("" on error).
inline std::string BufferFromJson(flatbuffers::Parser& parser, const std::string& json) {
  if (!parser.Parse(json.c_str())) {
    ADD_FAILURE() << parser.error_;
    return "";
  }
  return std::string(reinterpret_cast<const char*>(parser.builder_.GetBufferPointer()), parser.builder_.GetSize());
}

}  // namespace sqlx::ir::testing
