// `sqlx capabilities`: the capability matrix of a server, from the store, or
// learned through the driver (and stored) when absent or when --refresh asks
// for it.
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "commands.h"
#include "audit_trail.h"
#include "connection_learning.h"

namespace sqlx::cli {

namespace {

void PrintText(const storage::ConnectionRecord& record, bool learned_now) {
  nlohmann::json caps = nlohmann::json::parse(record.capability_json, nullptr, false);
  std::printf("connection:  %s\n", record.name.c_str());
  if (caps.is_object()) {
    std::printf("server:      %s %s\n", caps.value("flavor", "").c_str(), caps.value("version", "").c_str());
  }
  std::printf("fingerprint: %s\n", record.server_fingerprint.c_str());
  std::printf("learned at:  %s%s\n", Rfc3339(record.learned_at_ns).c_str(),
              learned_now ? " (just now)" : " (from the store; --refresh to learn again)");
  if (!caps.is_object()) return;
  std::printf("\n%-36s %-26s %-9s %s\n", "CAPABILITY", "VALUE", "EVIDENCE", "SOURCE");
  const nlohmann::json empty = nlohmann::json::object();
  auto found = caps.find("capabilities");
  const nlohmann::json& matrix = found != caps.end() && found->is_object() ? *found : empty;
  for (const auto& [name, c] : matrix.items()) {
    std::string value = c.contains("value") ? c["value"].dump() : "null";
    if (value.size() > 26) value = value.substr(0, 23) + "...";
    std::string source = c.value("source", "");
    if (source.size() > 70) source = source.substr(0, 67) + "...";
    std::printf("%-36s %-26s %-9s %s\n", name.c_str(), value.c_str(), c.value("evidence", "").c_str(),
                source.c_str());
  }
  auto list = [&](const char* key, const char* title) {
    auto it = caps.find(key);
    if (it == caps.end() || !it->is_array() || it->empty()) return;
    const nlohmann::json& items = *it;
    std::printf("\n%s:\n", title);
    for (const auto& item : items) std::printf("  %s\n", item.is_string() ? item.get<std::string>().c_str() : item.dump().c_str());
  };
  list("auth_plugins", "auth plugins offered");
  list("grants", "grants of this user");
  list("not_visible", "could not be learned");
}

}  // namespace

int RunCapabilities(const GlobalOptions& g, const ConnectArgs& c, const std::string& connection, bool refresh) {
  if (!c.url.empty() && !connection.empty()) {
    return ReportError(g, MakeError(ErrorCode::kInvalidArgument, "give a URL or --connection, not both"));
  }
  std::string name = connection;
  transports::ConnectionUrl url;
  bool have_url = false;
  if (connection.empty()) {
    auto resolved = ResolveConnection(c);
    if (!resolved.ok()) return ReportError(g, resolved.error());
    url = *resolved;
    Status st = transports::ResolveDefaultPort(&url, g.pack_dir);
    if (!st.ok()) return ReportError(g, st.error());
    name = url.ConnectionName();
    have_url = true;
  }
  auto store = OpenStore(g);
  if (!store.ok()) return ReportError(g, store.error());

  auto record = (*store)->GetConnection(name);
  if (!record.ok()) return ReportError(g, record.error());
  bool learned_now = false;
  storage::ConnectionRecord current;
  if (record->has_value() && !refresh) {
    current = **record;
  } else if (!have_url) {
    return ReportError(g, MakeError(ErrorCode::kNotFound,
                                    "no learned connection '" + name + "' in store " + (*store)->dir() +
                                        ": run `sqlx capabilities URL` to learn it"));
  } else {
    auto learned = LearnAndStoreConnection(g, url, **store);
    if (!learned.ok()) return ReportError(g, learned.error());
    current = std::move(learned).value();
    learned_now = true;
    Status audited = RecordAudit(g, **store, "connection.learned", {current.name, "", ""}, nullptr,
                                 nlohmann::json{{"server_fingerprint", current.server_fingerprint}}.dump());
    if (!audited.ok()) return ReportError(g, audited.error());
  }
  if (g.format == "json") {
    nlohmann::json out = {{"ok", true},
                          {"connection", current.name},
                          {"server_fingerprint", current.server_fingerprint},
                          {"learned_at", Rfc3339(current.learned_at_ns)},
                          {"learned_now", learned_now},
                          {"capabilities", nlohmann::json::parse(current.capability_json, nullptr, false)}};
    std::cout << out.dump() << "\n";
  } else {
    PrintText(current, learned_now);
  }
  return kExitOk;
}

}  // namespace sqlx::cli
