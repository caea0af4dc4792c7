// `sqlx capabilities`: the capability matrix of a server, from the store, or
// learned (and stored) when absent or when --refresh asks for it.
#include <chrono>
#include <cstdio>
#include <ctime>
#include <iostream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "commands.h"
#include "sqlx/flo/learn_server.h"
#include "sqlx/storage/store.h"
#include "sqlx/transports/session.h"

namespace sqlx::cli {

namespace {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Rfc3339(int64_t ns) {
  std::time_t secs = static_cast<std::time_t>(ns / 1000000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Learns the server at `url` and stores the result under its connection name.
Result<storage::ConnectionRecord> LearnAndStore(const GlobalOptions& g, const transports::ConnectionUrl& url,
                                                storage::Store& store) {
  transports::SessionOptions options;
  options.pack_dir = g.pack_dir;
  options.max_packet = g.max_packet;
  options.connect_timeout = std::chrono::seconds(g.connect_timeout_s);
  auto session = transports::Session::Open(url, options);
  if (!session.ok()) return session.error();
  auto salt = store.FingerprintSalt();
  if (!salt.ok()) return salt.error();
  flo::LearnServerOptions learn;
  learn.fingerprint_salt = *salt;
  auto learned = flo::LearnServer(**session, url, learn);
  if (!learned.ok()) return learned.error();

  storage::ConnectionRecord record;
  auto existing = store.GetConnection(url.ConnectionName());
  if (!existing.ok()) return existing.error();
  const int64_t now = NowNs();
  record.name = url.ConnectionName();
  record.created_at_ns = existing->has_value() ? (*existing)->created_at_ns : now;
  record.updated_at_ns = now;
  record.learned_at_ns = now;
  record.capability_json = learned->ToCapabilityJson();
  record.server_fingerprint = learned->fingerprint;
  SQLX_RETURN_IF_ERROR(store.PutConnection(record));
  return record;
}

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
  storage::StoreOptions so;
  so.dir = g.store_dir.empty() ? storage::Store::DefaultDir() : g.store_dir;
  auto store = storage::Store::Open(so);
  if (!store.ok()) return ReportError(g, store.error());

  auto record = (*store)->GetConnection(name);
  if (!record.ok()) return ReportError(g, record.error());
  bool learned_now = false;
  storage::ConnectionRecord current;
  if (record->has_value() && !refresh) {
    current = **record;
  } else if (!have_url) {
    return ReportError(g, MakeError(ErrorCode::kNotFound,
                                    "no learned connection '" + name + "' in store " + so.dir +
                                        ": run `sqlx capabilities URL` to learn it"));
  } else {
    auto learned = LearnAndStore(g, url, **store);
    if (!learned.ok()) return ReportError(g, learned.error());
    current = std::move(learned).value();
    learned_now = true;
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
