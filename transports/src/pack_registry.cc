#include "pack_registry.h"

#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sqlx/transports/pack_search.h"

namespace sqlx::transports {

namespace {

std::mutex g_cache_mu;
std::map<std::string, std::shared_ptr<const WirePack>> g_cache;  // guarded by g_cache_mu

}  // namespace

std::vector<PackDir> WirePackSearchDirs(const std::string& pack_dir) {
  PackSearch search;
  search.explicit_dir = pack_dir;
  search.env_var = "SQLX_PACK_DIR";
#ifdef SQLX_INSTALL_PACK_DIR
  search.install_dir = SQLX_INSTALL_PACK_DIR;
#endif
#ifdef SQLX_SOURCE_PACK_DIR
  search.source_dir = SQLX_SOURCE_PACK_DIR;
#endif
  return PackSearchDirs(search);
}

std::vector<std::string> PackSearchDirs(const std::string& pack_dir) {
  std::vector<std::string> out;
  for (const PackDir& d : WirePackSearchDirs(pack_dir)) out.push_back(d.path);
  return out;
}

Result<PackChoice> LocatePack(const std::string& scheme, const std::string& pack_dir) {
  std::vector<PackDir> dirs = WirePackSearchDirs(pack_dir);
  std::string dir;
  for (const PackDir& d : dirs) {
    if (IsRegularFile(d.path + "/registry.json")) {
      dir = d.path;
      break;
    }
    if (d.chosen) {
      return MakeError(ErrorCode::kNotFound,
                       "no registry.json in pack directory " + d.path + " (given by --pack-dir or SQLX_PACK_DIR)");
    }
  }
  if (dir.empty()) {
    std::string tried;
    for (const auto& d : dirs) tried += (tried.empty() ? "" : ", ") + d.path;
    return MakeError(ErrorCode::kNotFound,
                     "no wire pack registry found (looked in: " + tried + "); pass --pack-dir");
  }
  const std::string registry_file = dir + "/registry.json";
  std::ifstream in(registry_file);
  std::stringstream ss;
  ss << in.rdbuf();
  nlohmann::json registry;
  try {
    registry = nlohmann::json::parse(ss.str());
  } catch (const nlohmann::json::exception& e) {  // parse_error, or out_of_range for 1e999
    return MakeError(ErrorCode::kPack, registry_file + " is not valid JSON: " + e.what());
  }
  if (!registry.is_object() || !registry.contains("schemes") || !registry["schemes"].is_object())
    return MakeError(ErrorCode::kPack, registry_file + " at /schemes: missing or not an object");
  const auto& schemes = registry["schemes"];
  if (!schemes.contains(scheme)) {
    std::string known;
    for (const auto& [k, v] : schemes.items())
      if (k[0] != '#') known += (known.empty() ? "" : ", ") + k;
    return MakeError(ErrorCode::kInvalidArgument,
                     "unknown URL scheme '" + scheme + "://' (known: " + known + ")");
  }
  const auto& entry = schemes[scheme];
  if (!entry.is_object() || !entry.contains("pack") || !entry["pack"].is_string())
    return MakeError(ErrorCode::kPack, registry_file + " at /schemes/" + scheme +
                                           ": expected {\"pack\": FILE, \"default_port\": N}");
  PackChoice choice;
  choice.directory = dir;
  if (entry.contains("default_port")) {
    if (!entry["default_port"].is_number_unsigned() || entry["default_port"].get<uint64_t>() > 65535)
      return MakeError(ErrorCode::kPack, registry_file + " at /schemes/" + scheme +
                                             "/default_port: expected a port number");
    choice.default_port = static_cast<uint16_t>(entry["default_port"].get<uint64_t>());
  }
  const std::string file = dir + "/" + entry["pack"].get<std::string>();
  std::lock_guard<std::mutex> lock(g_cache_mu);
  auto it = g_cache.find(file);
  if (it != g_cache.end()) {
    choice.pack = it->second;
    return choice;
  }
  auto pack = WirePack::Load(file);
  if (!pack.ok()) return pack.error();
  g_cache[file] = *pack;
  choice.pack = *pack;
  return choice;
}

}  // namespace sqlx::transports
