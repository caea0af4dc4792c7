#include "online_runner.h"

#include <csignal>
#include <cstdlib>
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "connect_args.h"
#include "connection_learning.h"
#include "replica_lag.h"

namespace sqlx::cli {

namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnStopSignal(int) { g_stop = 1; }

struct sigaction g_old_int, g_old_term;

std::string Duration(double seconds) {
  const long s = static_cast<long>(seconds + 0.5);
  char out[32];
  if (s >= 3600) std::snprintf(out, sizeof out, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  else if (s >= 60) std::snprintf(out, sizeof out, "%ldm%02lds", s / 60, s % 60);
  else std::snprintf(out, sizeof out, "%lds", s);
  return out;
}

}  // namespace

std::string MigrationProgressText(const planner::MigrationState& s, double rows_per_second) {
  char rate[32];
  std::snprintf(rate, sizeof rate, "%.1fk rows/s", rows_per_second / 1000.0);
  std::string out = "migration " + s.id + " " + s.table + ": " + rate + ", " + std::to_string(s.rows_copied) + " of ~" +
                    std::to_string(s.rows_estimate) + " rows";
  if (s.rows_estimate > 0) {
    const double done = std::min(1.0, static_cast<double>(s.rows_copied) / static_cast<double>(s.rows_estimate));
    out += " (" + std::to_string(static_cast<int>(done * 100)) + "%)";
    if (rows_per_second > 0 && s.rows_copied < s.rows_estimate)
      out += ", ETA " + Duration(static_cast<double>(s.rows_estimate - s.rows_copied) / rows_per_second);
  }
  return out;
}

MigrationTerminal::MigrationTerminal(bool text) : text_(text), line_(text) {
  g_stop = 0;
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, &g_old_int);
  sigaction(SIGTERM, &sa, &g_old_term);
}

MigrationTerminal::~MigrationTerminal() {
  line_.Clear();
  sigaction(SIGINT, &g_old_int, nullptr);
  sigaction(SIGTERM, &g_old_term, nullptr);
}

MigrationHooks MigrationTerminal::Hooks() {
  return {[this](const planner::MigrationState& s, std::string_view e, const Error* error) { OnEvent(s, e, error); },
          [this](const planner::MigrationState& s, double rate, std::string_view throttled) {
            OnProgress(s, rate, throttled);
          },
          [] { return g_stop != 0; }};
}

bool MigrationTerminal::paused() const { return g_stop != 0; }

void MigrationTerminal::OnEvent(const planner::MigrationState& state, std::string_view event, const Error* error) {
  line_.Clear();
  if (!text_) return;
  std::cerr << "sqlx: " << event << " " << state.id << " (" << state.table << ")";
  if (error != nullptr) std::cerr << ": " << error->ToString();
  std::cerr << "\n";
}

void MigrationTerminal::OnProgress(const planner::MigrationState& state, double rows_per_second,
                                   std::string_view throttled) {
  if (line_.enabled()) {
    line_.Show(throttled.empty() ? MigrationProgressText(state, rows_per_second)
                                 : "migration " + state.id + ": throttled (" + std::string(throttled) + ")");
    return;
  }
  // Not a terminal: one JSON line a second at most, on stderr.
  const auto now = std::chrono::steady_clock::now();
  if (now - last_json_ < std::chrono::seconds(1) && state.phase == "copying") return;
  last_json_ = now;
  nlohmann::json j = {{"event", "migration.progress"},
                      {"migration", state.id},
                      {"table", state.table},
                      {"phase", state.phase},
                      {"rows_copied", state.rows_copied},
                      {"rows_estimate", state.rows_estimate},
                      {"rows_per_second", static_cast<uint64_t>(rows_per_second)},
                      {"chunk_rows", state.chunk_rows}};
  if (!throttled.empty()) j["throttled"] = std::string(throttled);
  std::cerr << j.dump() << "\n";
}

namespace {

// `url` with its host and port replaced ("mysql://u:p@h:1/db?x" -> "mysql://u:p@H:P/db?x").
std::string WithHostPort(const std::string& url, const std::string& host, uint16_t port) {
  const size_t scheme = url.find("://");
  const size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  size_t end = url.find_first_of("/?", start);
  if (end == std::string::npos) end = url.size();
  const size_t at = url.rfind('@', end - 1);
  const size_t authority = at == std::string::npos || at < start ? start : at + 1;
  const std::string address = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return url.substr(0, authority) + address + ":" + std::to_string(port) + url.substr(end);
}

// The replicas' URLs: those given, with "discover" replaced by the primary's.
Result<std::vector<std::string>> ReplicaUrls(const GlobalOptions& g, const std::vector<std::string>& given,
                                             const std::string& primary_url) {
  std::vector<std::string> out;
  for (const std::string& r : given) {
    if (r != "discover") {
      out.push_back(r);
      continue;
    }
    const char* env = std::getenv("SQLX_URL");
    const std::string base = primary_url.empty() && env != nullptr ? env : primary_url;
    SQLX_ASSIGN_OR_RETURN(transports::ConnectionUrl url, ResolveConnection({base, ""}));
    url.database.clear();
    SQLX_ASSIGN_OR_RETURN(std::unique_ptr<transports::Session> session, OpenSession(g, url, /*learning=*/false));
    auto replicas = planner::DiscoverReplicas(*session);
    if (!replicas.ok()) {
      Error e = replicas.error();
      e.message = "--replica discover: listing the replicas of " + url.ConnectionName() + ": " + e.message +
                  " (the account needs REPLICATION MASTER ADMIN; or name each replica with --replica URL)";
      return e;
    }
    if (replicas->empty())
      return MakeError(ErrorCode::kInvalidArgument, "--replica discover: " + url.ConnectionName() +
                                                        " lists no replica (SHOW REPLICA HOSTS is empty)");
    for (const planner::ReplicaAddress& a : *replicas) {
      if (a.host.empty() || a.port == 0)
        return MakeError(ErrorCode::kInvalidArgument,
                         "--replica discover: replica server_id " + std::to_string(a.server_id) +
                             " reports no address: set report_host and report_port on it, or name it with "
                             "--replica URL");
      spdlog::info("replica discovered: server_id {} at {}:{}", a.server_id, a.host, a.port);
      out.push_back(WithHostPort(base, a.host, a.port));
    }
  }
  return out;
}

}  // namespace

Result<planner::OnlineOptions> OnlineOptionsOf(const GlobalOptions& g, const OnlineArgs& args,
                                               const std::string& primary_url,
                                               const transports::ConnectionUrl& primary) {
  planner::OnlineOptions o;
  o.open_session = [g, primary] { return OpenSession(g, primary, /*learning=*/false); };
  o.postpone_cutover = args.postpone_cutover;
  o.chunk_seconds = args.chunk_time;
  o.max_threads_running = args.max_threads_running;
  o.max_replica_lag_seconds = args.max_replica_lag;
  if (!args.replicas.empty()) {
    SQLX_ASSIGN_OR_RETURN(std::vector<std::string> urls, ReplicaUrls(g, args.replicas, primary_url));
    SQLX_ASSIGN_OR_RETURN(std::shared_ptr<ReplicaLagProbe> probe, ReplicaLagProbe::Open(g, urls));
    o.replica_lag = [probe] { return probe->Worst(); };
  }
  return o;
}

}  // namespace sqlx::cli
