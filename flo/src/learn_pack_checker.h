// The learn pack checker, shared by the files that check one section each
// (learn_pack.cc: server learning; learn_pack_catalog.cc: the catalog). Every
// error names the file and the JSON pointer at fault.
#pragma once

#include <initializer_list>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "learn_pack.h"
#include "sqlx/messages/result.h"

namespace sqlx::flo {

class LearnPackChecker {
 public:
  using json = nlohmann::json;

  explicit LearnPackChecker(const std::string& file) : file_(file) {}

  Status Check(const json& root, LearnPack* pack);

 private:
  Error Fail(const std::string& path, const std::string& what) const {
    return MakeError(ErrorCode::kPack,
                     "learn pack " + file_ + " at " + (path.empty() ? "/" : path) + ": " + what);
  }
  Status Keys(const json& j, const std::string& path, std::initializer_list<const char*> allowed) const;
  Result<const json*> Object(const json& parent, const char* key, const std::string& path) const;
  Result<std::string> String(const json& parent, const char* key, const std::string& path) const;
  Status Strings(const json& parent, const char* key, const std::string& path,
                 std::vector<std::string>* out) const;
  Status Ints(const json& parent, const char* key, const std::string& path, std::vector<int>* out) const;
  Status Version(const json& j, const std::string& path, VersionRules* out) const;
  Status Variables(const json& j, const std::string& path, LearnPack* pack) const;
  Status Capability(const json& j, const std::string& path, CapabilityProbe* out) const;
  Status Rules(const json& j, const std::string& path, std::vector<LearnRule>* out) const;
  // One rule; `needs_value` is false for a bare condition ("when").
  Status Rule(const json& r, const std::string& path, bool needs_value, LearnRule* out) const;

  // learn_pack_catalog.cc
  Status Catalog(const json& j, const std::string& path, CatalogPack* out) const;
  Status CatalogQueries(const json& j, const std::string& path, CatalogPack* out) const;
  Status Visibility(const json& j, const std::string& path, CatalogPack* out) const;

  std::string file_;
};

// True for keys starting with '#' (comments).
bool IsPackComment(const std::string& key);

}  // namespace sqlx::flo
