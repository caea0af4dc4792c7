// PackCompiler: turns a wire pack's JSON into a WirePack, one section at a
// time. pack_layouts.cc compiles the byte-level sections (framing, encodings,
// layouts); pack.cc the steps, procedures and tables, and runs the whole.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "pack.h"

namespace sqlx::transports {

// Compiles into a WirePack it does not own. Every error is kPack and names
// the file and the JSON pointer at fault. The json accessors may throw
// nlohmann::json::exception on a value of the wrong JSON type: the caller
// (WirePack::Parse) turns that into a kPack error. Not thread-safe; one
// compiler per pack.
class PackCompiler {
 public:
  using json = nlohmann::json;

  // `pack` must outlive the compiler; `file` labels every error.
  PackCompiler(WirePack& pack, std::string file) : pack_(pack), file_(std::move(file)) {}

  Status Compile(const json& root);

 private:
  // JSON pointer helpers. Keys starting with '#' are comments, allowed in
  // every object of a pack; {"#": "..."} alone is a comment line inside an
  // array of fields or steps.
  static bool IsComment(const std::string& key);
  static bool IsCommentOnly(const json& j);
  static std::string Child(const std::string& path, const std::string& key);
  static std::string Child(const std::string& path, size_t index);

  Error Fail(const std::string& path, const std::string& what) const {
    return MakeError(ErrorCode::kPack,
                     "wire pack " + file_ + " at " + (path.empty() ? "/" : path) + ": " + what);
  }
  Result<Expr> CompileExpr(const json& j, const std::string& path);
  Result<Expr> CompileExprOrNumber(const json& j, const std::string& path);

  // pack_layouts.cc
  Status CompileFraming(const json& j, const std::string& path);
  Status CompileEncodings(const json& j, const std::string& path);
  Status CompileLayout(const std::string& name, const json& j, const std::string& path);
  Result<const Layout*> FindLayout(const json& j, const std::string& path) const;

  // pack.cc
  Status CompileConstants(const json& root);
  Status CompileTables(const json& j);
  Status CompileBlock(const json& j, const std::string& path, Block* out);
  Status CompileStep(const json& j, const std::string& path, Step* out);
  Status CompileSetStep(const json& j, const std::string& path, Step* s);
  Status CompileFailStep(const json& j, const std::string& path, Step* s);
  Status CompileCallNamedStep(const json& j, const std::string& path, Step* s);
  Status CompileRowsStep(const json& j, const std::string& path, Step* s);
  Status CompileCases(const json& j, const std::string& path, std::vector<RecvCase>* out);
  Status CheckCalls() const;

  // Blocks nest (if/then, loops, recv cases) and compiling, checking and
  // destroying them recurses: a pack may not nest them deeper than this.
  static constexpr int kMaxBlockDepth = 32;

  WirePack& pack_;
  std::string file_;
  int block_depth_ = 0;
};

}  // namespace sqlx::transports
