// The commands that talk to a running orchestrator over its HTTP API
// (docs/cluster.md): connections, fleet learn, jobs, schedules, tokens. The
// orchestrator is --orchestrator URL or $SQLX_ORCHESTRATOR; the API token is
// $SQLX_TOKEN (never an argument: process lists would show it).
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <iomanip>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "fleet_api.h"
#include "sqlx/messages/clock.h"
#include "sqlx/transports/url.h"

namespace sqlx::cli {

using nlohmann::json;

Result<Api> ApiOf(const ClusterArgs& a) {
  Api api;
  api.base = a.orchestrator;
  if (api.base.empty()) {
    const char* env = std::getenv("SQLX_ORCHESTRATOR");
    api.base = env != nullptr ? env : "";
  }
  if (api.base.empty())
    return MakeError(ErrorCode::kInvalidArgument,
                     "no orchestrator: pass --orchestrator http://HOST:PORT or set $SQLX_ORCHESTRATOR");
  if (api.base.rfind("http://", 0) != 0 && api.base.rfind("https://", 0) != 0)
    return MakeError(ErrorCode::kInvalidArgument,
                     "--orchestrator '" + api.base + "' must be an http:// or https://HOST:PORT URL");
  api.ca = a.orchestrator_ca;
  if (api.ca.empty()) {
    const char* env = std::getenv("SQLX_ORCHESTRATOR_CA");
    api.ca = env != nullptr ? env : "";
  }
  while (!api.base.empty() && api.base.back() == '/') api.base.pop_back();
  const char* token = std::getenv("SQLX_TOKEN");
  api.token = token != nullptr ? token : "";
  if (api.token.empty())
    return MakeError(ErrorCode::kInvalidArgument,
                     "no API token: set $SQLX_TOKEN (the orchestrator's --admin-token-file holds the first one)");
  return api;
}

// One request; the JSON answer, or an Error carrying the API's message.
Result<json> Call(const Api& api, const std::string& method, const std::string& path, const json* body) {
  httplib::Client client(api.base);
  client.set_bearer_token_auth(api.token);
  // https: the certificate is verified (chain and host name), against
  // --orchestrator-ca when given.
  client.enable_server_certificate_verification(true);
  if (!api.ca.empty()) client.set_ca_cert_path(api.ca);
  client.set_connection_timeout(5);
  client.set_read_timeout(60);
  const std::string payload = body != nullptr ? body->dump() : "";
  httplib::Result res = method == "GET"    ? client.Get(path)
                        : method == "POST" ? client.Post(path, payload, "application/json")
                        : method == "PUT"  ? client.Put(path, payload, "application/json")
                                           : client.Delete(path);
  if (!res && (res.error() == httplib::Error::SSLServerVerification || res.error() == httplib::Error::SSLLoadingCerts))
    return MakeError(ErrorCode::kTls, "the certificate of the orchestrator at " + api.base +
                                          " does not verify: give the CA it was issued by with --orchestrator-ca "
                                          "or $SQLX_ORCHESTRATOR_CA (and a URL host the certificate names)");
  if (!res)
    return MakeError(ErrorCode::kConnectionRefused, "cannot reach the orchestrator at " + api.base + " (" +
                                                        httplib::to_string(res.error()) +
                                                        "): is `sqlx orchestrator` running there?");
  json answer = json::parse(res->body, nullptr, false);
  if (res->status >= 400) {
    std::string message = "HTTP " + std::to_string(res->status);
    if (!answer.is_discarded() && answer.contains("error")) message = answer["error"].value("message", message);
    ErrorCode code = ErrorCode::kServer;
    if (res->status == 400) code = ErrorCode::kInvalidArgument;
    if (res->status == 401 || res->status == 403) code = ErrorCode::kAuth;
    if (res->status == 404) code = ErrorCode::kNotFound;
    return MakeError(code, message);
  }
  if (answer.is_discarded())
    return MakeError(ErrorCode::kProtocol, "the orchestrator answered " + path + " with something that is not JSON");
  return answer;
}

std::string Time(int64_t ns) { return ns == 0 ? "-" : Rfc3339(ns, 0); }

void PrintJson(const json& j) { std::cout << j.dump(2, ' ', false, json::error_handler_t::replace) << "\n"; }

std::string Path(std::string_view base, std::string_view id) {
  return std::string(base) + "/" + httplib::detail::encode_query_param(std::string(id));
}

int Answer(const GlobalOptions& g, const Result<json>& answer, const std::function<void(const json&)>& text) {
  if (!answer.ok()) return ReportError(g, answer.error());
  if (g.format == "json") {
    PrintJson(*answer);
  } else {
    text(*answer);
  }
  return kExitOk;
}

namespace {

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  if (s.empty() || s == "all") return out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

void PrintConnections(const json& list) {
  // Columns as wide as their longest value, two spaces apart.
  size_t name_w = 4, url_w = 3;
  for (const json& c : list) {
    name_w = std::max(name_w, c["name"].get<std::string>().size());
    url_w = std::max(url_w, c["url"].get<std::string>().size());
  }
  std::cout << std::left << std::setw(static_cast<int>(name_w + 2)) << "NAME" << std::setw(static_cast<int>(url_w + 2))
            << "URL" << std::setw(10) << "PASSWORD" << "TAGS\n";
  for (const json& c : list) {
    std::string tags;
    for (const json& t : c["tags"]) tags += (tags.empty() ? "" : ",") + t.get<std::string>();
    std::cout << std::setw(static_cast<int>(name_w + 2)) << c["name"].get<std::string>()
              << std::setw(static_cast<int>(url_w + 2)) << c["url"].get<std::string>() << std::setw(10)
              << (c["has_password"].get<bool>() ? "sealed" : "none") << tags << "\n";
  }
}

void PrintJobs(const json& list) {
  std::cout << std::left << std::setw(28) << "JOB" << std::setw(20) << "KIND" << std::setw(9) << "STATE"
            << std::setw(16) << "CONNECTION" << std::setw(22) << "WORKER" << "WHAT\n";
  for (const json& j : list) {
    std::string what;
    if (!j["databases"].empty()) what = j["databases"][0].get<std::string>();
    if (!j["error"].get<std::string>().empty()) what += (what.empty() ? "" : ": ") + j["error"].get<std::string>();
    std::cout << std::setw(28) << j["id"].get<std::string>() << std::setw(20) << j["kind"].get<std::string>()
              << std::setw(9) << j["state"].get<std::string>() << std::setw(16) << j["connection"].get<std::string>()
              << std::setw(22) << j["worker"].get<std::string>() << what << "\n";
  }
}

// What a finished run learned: per state, and the databases' changes.
json RunSummary(const json& run) {
  json changes = json::object();
  uint64_t databases = 0;
  for (const json& j : run["jobs"]) {
    if (j["kind"] != "learn-database-job" || !j["summary"].contains("databases")) continue;
    for (const json& d : j["summary"]["databases"]) {
      ++databases;
      const std::string change = d.contains("error") ? "error" : d.value("change", "");
      changes[change] = changes.value(change, 0) + 1;
    }
  }
  return json{{"run", run["id"]}, {"jobs", run["counts"]}, {"databases", databases}, {"changes", changes}};
}

bool RunFinished(const json& run) {
  const json& counts = run["counts"];
  return counts.value("queued", 0) == 0 && counts.value("running", 0) == 0;
}

// Polls run `id` (GET /v1/runs/<id><query>) until no job is queued or
// running; its last status, or kTimeout after `timeout_s`.
Result<json> WaitForRun(const Api& api, const std::string& id, const std::string& query, double timeout_s) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  auto pause = std::chrono::milliseconds(50);
  while (true) {
    SQLX_ASSIGN_OR_RETURN(json status, Call(api, "GET", Path("/v1/runs", id) + query));
    if (RunFinished(status)) return status;
    if (std::chrono::steady_clock::now() > deadline)
      return MakeError(ErrorCode::kTimeout, "run " + id + " has not finished after --timeout (jobs " +
                                                status["counts"].dump() + "); it continues: `sqlx fleet status " +
                                                id + "`; are workers running?");
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::milliseconds(500));
  }
}

// A run started without --wait: as JSON, or a line saying how to follow it.
int ReportStarted(const GlobalOptions& g, const json& run, const std::string& what) {
  const std::string id = run["id"].get<std::string>();
  if (g.format == "json") {
    PrintJson(run);
  } else {
    std::cout << "started " << id << what << "; follow it with `sqlx fleet status " << id << "`\n";
  }
  return kExitOk;
}

int FleetLearn(const GlobalOptions& g, const ClusterArgs& a, const Api& api) {
  json body{{"connections", SplitList(a.connections)}};
  auto run = Call(api, "POST", "/v1/fleet/learn", &body);
  if (!run.ok()) return ReportError(g, run.error());
  const std::string id = (*run)["id"].get<std::string>();
  if (!a.wait) return ReportStarted(g, *run, " over " + std::to_string((*run)["connections"].size()) + " connections");
  auto status = WaitForRun(api, id, "", a.wait_timeout_s);
  if (!status.ok()) return ReportError(g, status.error());
  const json summary = RunSummary(*status);
  const bool failed = status->at("counts").value("failed", 0) + status->at("counts").value("dead", 0) > 0;
  if (g.format == "json") {
    PrintJson(json{{"ok", !failed}, {"summary", summary}});
  } else {
    std::cout << id << ": " << summary["jobs"].dump() << "; " << summary["databases"].get<uint64_t>()
              << " databases learned, changes " << summary["changes"].dump() << "\n";
    if (failed) PrintJobs((*status)["jobs"]);
  }
  return failed ? kExitError : kExitOk;
}

// `fleet apply`: plan.json on one connection's database, run by a worker
// under a lease; with --wait, the job's outcome (exit 1 unless applied).
int FleetApply(const GlobalOptions& g, const ClusterArgs& a, const Api& api) {
  std::ifstream in(a.plan_file);
  if (!in)
    return ReportError(g, MakeError(ErrorCode::kNotFound, "cannot read --plan " + a.plan_file));
  std::stringstream text;
  text << in.rdbuf();
  json body{{"connection", a.name},
            {"database", a.database},
            {"plan", text.str()},
            {"dry_run", a.dry_run},
            {"allow_destructive", a.allow_destructive},
            {"allow_blocking", a.allow_blocking}};
  auto run = Call(api, "POST", "/v1/apply", &body);
  if (!run.ok()) return ReportError(g, run.error());
  const std::string id = (*run)["id"].get<std::string>();
  if (!a.wait) return ReportStarted(g, *run, "");
  auto status = WaitForRun(api, id, "", a.wait_timeout_s);
  if (!status.ok()) return ReportError(g, status.error());
  const json& jobs = (*status)["jobs"];
  const json job = jobs.empty() ? json::object() : jobs[0];
  const bool ok = job.value("state", "") == "done";
  if (g.format == "json") {
    PrintJson(json{{"ok", ok}, {"run", id}, {"job", job}});
  } else {
    const json summary = job.value("summary", json::object());
    std::cout << id << ": " << summary.value("result", job.value("state", "")) << " on "
              << job.value("connection", "") << "/" << summary.value("database", "") << " by "
              << job.value("worker", "") << " (" << summary.value("applied", 0) << " operations)";
    if (!job.value("error", "").empty()) std::cout << ": " << job.value("error", "");
    std::cout << "\n";
  }
  return ok ? kExitOk : kExitError;
}

// `jobs probe`: N probe jobs through the queue; with --wait, the rate from
// the first publish to the last result stored (the orchestrator's clock).
int JobsProbe(const GlobalOptions& g, const ClusterArgs& a, const Api& api) {
  json body{{"count", a.count}};
  if (a.payload_bytes > 0) body["payload_bytes"] = a.payload_bytes;
  auto run = Call(api, "POST", "/v1/probe", &body);
  if (!run.ok()) return ReportError(g, run.error());
  const std::string id = (*run)["id"].get<std::string>();
  if (!a.wait) {
    if (g.format == "json") {
      PrintJson(*run);
    } else {
      std::cout << id << "\n";
    }
    return kExitOk;
  }
  auto status = WaitForRun(api, id, "?jobs=0", a.wait_timeout_s);
  if (!status.ok()) return ReportError(g, status.error());
  const json& counts = (*status)["counts"];
  const uint64_t done = counts.value("done", uint64_t{0});
  const bool failed = done != a.count;
  int64_t from = (*status)["published_ns"].get<int64_t>();
  if (from == 0) from = (*status)["created_ns"].get<int64_t>();
  const double seconds = static_cast<double>((*status)["last_finished_ns"].get<int64_t>() - from) / 1e9;
  const double rate = seconds > 0 ? static_cast<double>(done) / seconds : 0;
  if (g.format == "json") {
    PrintJson(json{{"ok", !failed},    {"run", id},          {"jobs", a.count},     {"counts", counts},
                   {"seconds", seconds}, {"jobs_per_s", rate}, {"workers", (*status)["workers"]}});
  } else {
    std::cout << id << ": " << done << " of " << a.count << " probe jobs done in " << std::fixed
              << std::setprecision(3) << seconds << " s, " << std::setprecision(0) << rate
              << " jobs/s (first publish to last result stored); workers:";
    for (const auto& [worker, n] : (*status)["workers"].items()) std::cout << " " << worker << " " << n;
    std::cout << "\n";
    if (failed) std::cout << "jobs by state: " << counts.dump() << " (see `sqlx jobs list --run " << id << "`)\n";
  }
  return failed ? kExitError : kExitOk;
}

void PrintSchedules(const json& list) {
  std::cout << std::left << std::setw(20) << "SCHEDULE" << std::setw(20) << "CRON" << std::setw(22) << "NEXT"
            << std::setw(22) << "LAST" << "CONNECTIONS\n";
  for (const json& s : list) {
    std::string conns;
    for (const json& c : s["connections"]) conns += (conns.empty() ? "" : ",") + c.get<std::string>();
    std::cout << std::setw(20) << s["id"].get<std::string>() << std::setw(20) << s["cron"].get<std::string>()
              << std::setw(22) << Time(s["next_ns"].get<int64_t>()) << std::setw(22) << Time(s["last_ns"].get<int64_t>())
              << (conns.empty() ? "all" : conns) << "\n";
  }
}

}  // namespace

int RunFleetClient(const GlobalOptions& g, const ClusterArgs& a) {
  auto api_or = ApiOf(a);
  if (!api_or.ok()) return ReportError(g, api_or.error());
  const Api api = std::move(api_or).value();
  const std::string& act = a.action;

  if (act == "connections add" || act == "connections update") {
    json body = json::object();
    if (act == "connections add") body["name"] = a.name;
    if (!a.url.empty()) {
      auto url = transports::ParseConnectionUrl(a.url);
      if (!url.ok()) return ReportError(g, url.error());
      body["url"] = a.url;  // the orchestrator keeps it without its password
      if (!url->password_in_url) {
        if (const char* pw = std::getenv("SQLX_PASSWORD"); pw != nullptr) body["password"] = pw;
      }
    }
    if (a.no_password) body["password"] = "";
    if (!a.tags.empty()) body["tags"] = a.tags;
    return Answer(g,
                  act == "connections add" ? Call(api, "POST", "/v1/connections", &body)
                                           : Call(api, "PUT", Path("/v1/connections", a.name), &body),
                  [](const json& c) { PrintConnections(json::array({c})); });
  }
  if (act == "connections list")
    return Answer(g, Call(api, "GET", "/v1/connections"), [](const json& l) { PrintConnections(l["connections"]); });
  if (act == "connections remove") {
    return Answer(g, Call(api, "DELETE", Path("/v1/connections", a.name)),
                  [&](const json&) { std::cout << "removed connection " << a.name << "\n"; });
  }
  if (act.rfind("rollout ", 0) == 0) return RunRolloutClient(g, a, api);
  if (act == "fleet learn") return FleetLearn(g, a, api);
  if (act == "fleet apply") return FleetApply(g, a, api);
  if (act == "fleet status") {
    // --wait: until every job of the run has finished; exit 1 when one failed.
    bool failed = false;
    if (a.wait) {
      auto status = WaitForRun(api, a.run, "?jobs=0", a.wait_timeout_s);
      if (!status.ok()) return ReportError(g, status.error());
      failed = status->at("counts").value("failed", 0) + status->at("counts").value("dead", 0) > 0;
    }
    const int shown = Answer(g, Call(api, "GET", Path("/v1/runs", a.run)), [&](const json& run) {
      std::cout << a.run << " started " << Time(run["created_ns"].get<int64_t>()) << " by "
                << run["actor"].get<std::string>() << ": " << run["counts"].dump()
                << (RunFinished(run) ? " (finished)" : " (in progress)") << "\n";
      PrintJobs(run["jobs"]);
    });
    return shown == kExitOk && failed ? kExitError : shown;
  }
  if (act == "jobs list") {
    std::string path = "/v1/jobs?limit=" + std::to_string(a.limit);
    if (!a.run.empty()) path += "&run=" + httplib::detail::encode_query_param(a.run);
    if (!a.state.empty()) path += "&state=" + httplib::detail::encode_query_param(a.state);
    return Answer(g, Call(api, "GET", path), [](const json& l) { PrintJobs(l["jobs"]); });
  }
  if (act == "jobs probe") return JobsProbe(g, a, api);
  if (act == "jobs show") return Answer(g, Call(api, "GET", Path("/v1/jobs", a.id)), PrintJson);
  if (act == "schedule add") {
    json body{{"cron", a.cron}, {"connections", SplitList(a.connections)}};
    return Answer(g, Call(api, "POST", "/v1/schedules", &body), [](const json& s) {
      std::cout << "schedule " << s["id"].get<std::string>() << " \"" << s["cron"].get<std::string>()
                << "\": next learn " << Time(s["next_ns"].get<int64_t>()) << "\n";
    });
  }
  if (act == "schedule list")
    return Answer(g, Call(api, "GET", "/v1/schedules"), [](const json& l) { PrintSchedules(l["schedules"]); });
  if (act == "schedule remove") {
    return Answer(g, Call(api, "DELETE", Path("/v1/schedules", a.id)),
                  [&](const json&) { std::cout << "removed schedule " << a.id << "\n"; });
  }
  if (act == "tokens create") {
    json body{{"subject", a.subject}, {"role", a.role}};
    // The token is shown once; it is stored only as its digest.
    return Answer(g, Call(api, "POST", "/v1/tokens", &body),
                  [](const json& t) { std::cout << t["token"].get<std::string>() << "\n"; });
  }
  if (act == "tokens list") {
    return Answer(g, Call(api, "GET", "/v1/tokens"), [](const json& l) {
      for (const json& t : l["tokens"])
        std::cout << std::left << std::setw(24) << t["subject"].get<std::string>() << std::setw(10)
                  << t["role"].get<std::string>() << Time(t["created_ns"].get<int64_t>()) << "\n";
    });
  }
  return ReportError(g, MakeError(ErrorCode::kInvalidArgument, "unknown fleet command '" + act + "'"));
}

Result<std::string> OrchestratorGet(const std::string& orchestrator, const std::string& ca, const std::string& path) {
  ClusterArgs a;
  a.orchestrator = orchestrator;
  a.orchestrator_ca = ca;
  SQLX_ASSIGN_OR_RETURN(Api api, ApiOf(a));
  SQLX_ASSIGN_OR_RETURN(json answer, Call(api, "GET", path));
  return answer.dump();
}

}  // namespace sqlx::cli
