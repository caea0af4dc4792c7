// `sqlx ping` and `sqlx query`, through the actors: a ping job, and a query
// job whose rows the connection actor streams on demand. One session, no
// store.
#include <chrono>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "audit_trail.h"
#include "commands.h"
#include "connection_learning.h"
#include "output.h"
#include "sqlx/actors/system.h"
#include "sqlx/driver.h"
#include "sqlx/transports/session.h"

namespace sqlx::cli {

int ReportError(const GlobalOptions& g, const Error& error) {
  std::cerr << "sqlx: error: " << error.ToString() << "\n";
  if (g.format == "json") {
    nlohmann::json j = {{"ok", false},
                        {"error",
                         {{"code", std::string(ErrorCodeName(error.code))},
                          {"message", error.message}}}};
    if (error.server_code != 0) {
      j["error"]["server_code"] = error.server_code;
      j["error"]["sqlstate"] = error.sqlstate;
    }
    std::cout << j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  }
  return error.code == ErrorCode::kInvalidArgument ? kExitUsage : kExitError;
}

int RunPing(const GlobalOptions& g, const ConnectArgs& c) {
  transports::ConnectionUrl url;
  // The event is recorded (when a store is configured) before the result is
  // reported; a failure to record it is the command's error.
  auto fail = [&](const Error& error) {
    Status audited = RecordInConfiguredStore(g, "ping", {url.ConnectionName(), url.database, ""}, &error);
    return ReportError(g, audited.ok() ? error : audited.error());
  };
  auto resolved = ResolveConnection(c);
  if (!resolved.ok()) return fail(resolved.error());
  url = *resolved;  // also when the connect fails: the error's audit event names it
  spdlog::debug("connecting to {}", url.Redacted());
  // A ping job on a connection actor: a fresh session, then the ping.
  actors::System system(SystemOptionsFor(g));
  auto ping = system.Ping(url);
  if (!ping.ok()) return fail(ping.error());
  PingReport info;
  info.server_version = ping->server_version;
  SplitServerVersion(info.server_version, &info.flavor, &info.version);
  info.connection_id = ping->connection_id;
  info.auth_plugin = ping->auth_plugin;
  info.tls = ping->tls;
  info.connect_time = ping->connect_time;
  info.rtt = ping->rtt;
  const nlohmann::json details = {{"server_version", info.server_version},
                                  {"tls", info.tls.active ? info.tls.version : "off"}};
  if (Status audited = RecordInConfiguredStore(g, "ping", {url.ConnectionName(), url.database, ""}, nullptr,
                                               details.dump());
      !audited.ok()) {
    return ReportError(g, audited.error());
  }
  double connect_ms = static_cast<double>(info.connect_time.count()) / 1000.0;
  if (g.format == "json") {
    nlohmann::json j = {
        {"ok", true},
        {"connection", url.ConnectionName()},
        {"server_version", info.server_version},
        {"version", info.version},
        {"flavor", info.flavor},
        {"connection_id", info.connection_id},
        {"auth_plugin", info.auth_plugin},
        {"tls", info.tls.active ? nlohmann::json{{"version", info.tls.version},
                                                 {"cipher", info.tls.cipher},
                                                 {"verified", info.tls.verified},
                                                 {"trust", info.tls.trust}}
                                : nlohmann::json(nullptr)},
        {"connect_ms", connect_ms},
        {"rtt_ms", info.rtt.count()},
    };
    std::cout << j.dump() << "\n";
  } else {
    std::printf("connected to %s\n", url.ConnectionName().c_str());
    std::printf("server:      %s %s\n", info.flavor.c_str(), info.version.c_str());
    if (info.tls.active) {
      std::printf("tls:         %s %s (%s)\n", info.tls.version.c_str(), info.tls.cipher.c_str(),
                  info.tls.verified ? ("verified, " + info.tls.trust + " trust").c_str()
                                    : "not verified");
    } else {
      std::printf("tls:         off\n");
    }
    std::printf("auth plugin: %s\n", info.auth_plugin.c_str());
    std::printf("connect:     %.3f ms\n", connect_ms);
    std::printf("ping rtt:    %.3f ms\n", info.rtt.count());
  }
  return kExitOk;
}

int RunQuery(const GlobalOptions& g, const ConnectArgs& c, const std::string& sql) {
  auto url = ResolveConnection(c);
  if (!url.ok()) return ReportError(g, url.error());
  spdlog::debug("connecting to {}", url->Redacted());
  // Rows stream from the connection actor in batches, one asked ahead while
  // this thread prints the last (memory stays flat). Statements a person
  // wrote: no multi-statement strings.
  actors::System system(SystemOptionsFor(g));
  actors::QueryRequest request;
  request.sql = sql;
  auto stream = system.Query(*url, request);
  if (!stream.ok()) return ReportError(g, stream.error());
  OutputBuffer out;
  uint64_t total_rows = 0;
  for (;;) {
    auto more = (*stream)->NextResult();
    if (!more.ok()) {
      out.Flush();
      return ReportError(g, more.error());
    }
    if (!*more) break;
    if (!(*stream)->has_rows()) {
      const auto& done = (*stream)->completion();
      if (g.format == "json") {
        out.Append("{\"affected_rows\":" + std::to_string(done.affected_rows) +
                   ",\"last_insert_id\":" + std::to_string(done.last_insert_id) +
                   ",\"warnings\":" + std::to_string(done.warnings) + "}\n");
      } else if (g.format == "text") {
        out.Append("Query OK, " + std::to_string(done.affected_rows) + " rows affected\n");
      }
      continue;
    }
    std::vector<std::string> keys;
    if (g.format == "json") keys = JsonKeys((*stream)->columns());
    if (g.format == "text") AppendTsvHeader((*stream)->columns(), &out);
    for (;;) {
      auto batch = (*stream)->NextBatch();
      if (!batch.ok()) {
        out.Flush();
        return ReportError(g, batch.error());
      }
      if (*batch == nullptr) break;
      total_rows += (*batch)->rows();
      if (g.format == "json") {
        AppendNdjson(**batch, keys, &out);
      } else {
        AppendTsv(**batch, &out);
      }
    }
  }
  if (!out.Flush()) {
    std::cerr << "sqlx: error: cannot write the result to stdout\n";
    return kExitError;
  }
  spdlog::debug("{} rows", total_rows);
  return kExitOk;
}

}  // namespace sqlx::cli
