// `sqlx rollout ...` (docs/rollouts.md): rollouts on a running orchestrator
// over its HTTP API. `create --to` takes the desired schema as a snapshot
// file, or as a .sql script learned on --dev-url (scratch_database.h) here,
// before anything is sent.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "files.h"
#include "fleet_api.h"
#include "scratch_database.h"
#include "sqlx/messages/ir.h"

namespace sqlx::cli {

namespace {

using nlohmann::json;

Result<std::string> DesiredJson(const GlobalOptions& g, const ClusterArgs& a) {
  const std::string& to = a.desired_file;
  if (to.size() > 4 && to.compare(to.size() - 4, 4, ".sql") == 0) {
    if (a.dev_url.empty())
      return MakeError(ErrorCode::kInvalidArgument,
                       "--to " + to + " is a .sql script: give --dev-url URL, a server to learn it on");
    SQLX_ASSIGN_OR_RETURN(ir::Database db, LearnSqlDesiredState(g, SqlDesiredState{to, a.dev_url, "", ""}));
    return ir::ToCanonicalJson(db);
  }
  SQLX_ASSIGN_OR_RETURN(std::string text, ReadTextFile(to));
  auto db = ir::FromJson(text);
  if (!db.ok()) return MakeError(ErrorCode::kInvalidArgument, "--to " + to + ": " + db.error().message);
  return ir::ToCanonicalJson(*db);
}

// Running with nothing in flight and copied targets waiting for the
// cut-over window, which is closed now.
bool WaitingForWindow(const json& r) {
  const json& counts = r["counts"];
  return r.value("state", "") == "running" && counts.value("copied", 0) > 0 &&
         r.contains("cutover_window_opens_ns") && r["cutover_window_opens_ns"].is_number();
}

// Settled: nothing in flight, and nothing will move without someone (or
// before the cut-over window opens).
bool Settled(const json& r) {
  const std::string state = r.value("state", "");
  const json& counts = r["counts"];
  if (counts.value("applying", 0) + counts.value("reverting", 0) + counts.value("cutting-over", 0) > 0) return false;
  return state == "completed" || state == "reverted" || state == "paused" || state == "aborted" ||
         (state == "gate" && r["strategy"].value("gate", "") == "approval") || WaitingForWindow(r);
}

Result<json> WaitSettled(const Api& api, const std::string& id, double timeout_s) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(timeout_s * 1000));
  while (true) {
    SQLX_ASSIGN_OR_RETURN(json r, Call(api, "GET", Path("/v1/rollouts", id)));
    if (Settled(r)) return r;
    if (std::chrono::steady_clock::now() > deadline)
      return MakeError(ErrorCode::kTimeout, "rollout " + id + " is still " + r.value("phase", "") +
                                                " after --timeout; it goes on: `sqlx rollout status " + id +
                                                "`; are workers running?");
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

// "850ms", "12.3s", "4m05s", "2h03m".
std::string Took(int64_t ms) {
  char buf[32];
  if (ms < 1000) {
    std::snprintf(buf, sizeof buf, "%lldms", static_cast<long long>(ms));
  } else if (ms < 60'000) {
    std::snprintf(buf, sizeof buf, "%.1fs", static_cast<double>(ms) / 1000);
  } else if (ms < 3'600'000) {
    std::snprintf(buf, sizeof buf, "%lldm%02llds", static_cast<long long>(ms / 60'000),
                  static_cast<long long>(ms / 1000 % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%lldh%02lldm", static_cast<long long>(ms / 3'600'000),
                  static_cast<long long>(ms / 60'000 % 60));
  }
  return buf;
}

// "about 40.0s left (mean 5.0s per target x 8 left / 2 at once, ...): an estimate".
std::string EstimateText(const json& r) {
  const json& e = r["estimate"];
  if (!e.is_object()) return "";
  if (!e.value("known", false)) return e.value("note", "");
  std::string out = "about " + Took(e["left_ms"].get<int64_t>()) + " left (mean " +
                    Took(e["mean_target_ms"].get<int64_t>()) + " per target x " +
                    std::to_string(e["targets_left"].get<size_t>()) + " left / " +
                    std::to_string(e["concurrency"].get<size_t>()) + " at once";
  if (e["wait_gates_ms"].get<int64_t>() > 0) out += " + " + Took(e["wait_gates_ms"].get<int64_t>()) + " of wait gates";
  if (e["approvals_ahead"].get<size_t>() > 0)
    out += ", not counting " + std::to_string(e["approvals_ahead"].get<size_t>()) + " approval(s)";
  return out + "): an estimate";
}

// "ro-…: wave 1 of 2 (running), targets {...}".
std::string Headline(const json& r) {
  const std::string phase = r["phase"].get<std::string>(), state = r["state"].get<std::string>();
  return r["id"].get<std::string>() + ": " + phase + (phase == state ? "" : " (" + state + ")") + ", targets " +
         r["counts"].dump();
}

// The headline and the reason on one line: what --watch compares.
std::string SummaryLine(const json& r) {
  std::string out = Headline(r);
  if (!r["reason"].get<std::string>().empty()) out += "; reason: " + r["reason"].get<std::string>();
  return out;
}

void PrintSummary(std::ostream& out, const json& r) {
  out << Headline(r);
  if (!r["reason"].get<std::string>().empty()) out << "\n  reason: " << r["reason"].get<std::string>();
  if (const std::string eta = EstimateText(r); !eta.empty()) out << "\n  estimate: " << eta;
  out << "\n";
}

void PrintWaves(std::ostream& out, const json& r) {
  if (!r.contains("timings")) return;
  out << std::left << std::setw(14) << "WAVE" << std::setw(9) << "TARGETS" << std::setw(22) << "STARTED"
      << std::setw(22) << "FINISHED" << "TOOK\n";
  for (const json& w : r["timings"]) {
    const int64_t finished = w["finished_ns"].get<int64_t>();
    std::string took = w["took_ms"].is_null() ? "-" : Took(w["took_ms"].get<int64_t>());
    if (!w["took_ms"].is_null() && finished == 0) took += " so far";
    out << std::setw(14) << w["name"].get<std::string>() << std::setw(9) << w["targets"].get<size_t>()
        << std::setw(22) << Time(w["started_ns"].get<int64_t>()) << std::setw(22) << Time(finished) << took << "\n";
  }
}

// What a target shows beyond its state: its reason, or for one in flight
// what its worker reports.
std::string TargetNote(const json& t, int64_t now_ns) {
  if (!t.contains("progress")) return t["reason"].get<std::string>();
  const json& p = t["progress"];
  const std::string job_state = p["job_state"].get<std::string>();
  if (job_state == "queued") return "queued, no worker has it yet";
  std::string out = job_state + " on " + p["worker"].get<std::string>() + " for " +
                    Took((now_ns - p["started_ns"].get<int64_t>()) / 1'000'000) + ", last heartbeat " +
                    Took((now_ns - p["heartbeat_ns"].get<int64_t>()) / 1'000'000) + " ago";
  if (p["deliveries"].get<uint64_t>() > 1) out += ", delivery " + std::to_string(p["deliveries"].get<uint64_t>());
  return out;
}

// What a target's worker measured of its server during its last apply:
// "thr 3, lag none" (no replicas), "thr 3, lag 2 s", "thr 3, lag ?"
// (unknown: the reason says why when it failed the gate); "-": nothing.
std::string HealthText(const json& t) {
  if (!t.contains("health") || !t["health"].is_object()) return "-";
  const json& h = t["health"];
  std::string lag = "none";
  if (h.contains("replica_lag_error")) {
    lag = "?";
  } else if (h.value("replicas", 0) > 0 && h["max_replica_lag_s"].is_number()) {
    std::ostringstream s;
    s << h["max_replica_lag_s"].get<double>() << " s";
    lag = s.str();
  }
  return "thr " + std::to_string(h.value("max_threads_running", 0)) + ", lag " + lag;
}

void PrintTargets(std::ostream& out, const json& r) {
  size_t name_w = 6;
  for (const json& t : r["targets"])
    name_w = std::max(name_w, t["connection"].get<std::string>().size() + t["database"].get<std::string>().size() + 1);
  const int64_t now = r.value("now_ns", int64_t{0});
  out << std::left << std::setw(static_cast<int>(name_w + 2)) << "TARGET" << std::setw(6) << "WAVE" << std::setw(15)
      << "STATE" << std::setw(26) << "JOB" << std::setw(22) << "STARTED" << std::setw(10) << "TOOK"
      << std::setw(20) << "HEALTH" << "REASON / PROGRESS\n";
  for (const json& t : r["targets"]) {
    const int64_t started = t.value("started_ns", int64_t{0}), finished = t.value("finished_ns", int64_t{0});
    const std::string took = started == 0 ? "-" : Took(((finished > 0 ? finished : now) - started) / 1'000'000);
    out << std::setw(static_cast<int>(name_w + 2))
        << t["connection"].get<std::string>() + "/" + t["database"].get<std::string>() << std::setw(6)
        << t["wave"].get<size_t>() << std::setw(15) << t["state"].get<std::string>() << std::setw(26)
        << t["job"].get<std::string>() << std::setw(22) << Time(started) << std::setw(10) << took
        << std::setw(20) << HealthText(t) << TargetNote(t, now) << "\n";
  }
}

void PrintStatus(std::ostream& out, const json& r) {
  PrintSummary(out, r);
  PrintWaves(out, r);
  PrintTargets(out, r);
}

// --watch's and --wait's exit codes (docs/rollouts.md).
constexpr int kExitAwaitingApproval = 3;
constexpr int kExitAwaitingWindow = 4;

// Polls until the rollout settles (needs a person, or ended): on a
// terminal the status redrawn in place; otherwise (or --format json) a line
// each time its phase, state, counts or reason change.
int Watch(const GlobalOptions& g, const ClusterArgs& a, const Api& api) {
  const bool redraw = g.format != "json" && ::isatty(STDOUT_FILENO) == 1;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(a.wait_timeout_s * 1000));
  std::string last;
  while (true) {
    auto answer = Call(api, "GET", Path("/v1/rollouts", a.id));
    if (!answer.ok()) return ReportError(g, answer.error());
    const json& r = *answer;
    if (redraw) {
      std::ostringstream screen;
      PrintStatus(screen, r);
      std::cout << "\033[H\033[J" << screen.str() << std::flush;  // home, erase the screen, draw
    } else if (const std::string line = SummaryLine(r); line != last) {
      last = line;
      if (g.format == "json") {
        std::cout << r.dump() << std::endl;
      } else {
        const std::string eta = EstimateText(r);
        std::cout << Time(r.value("now_ns", int64_t{0})) << " " << line
                  << (r["estimate"].value("known", false) ? "; " + eta : "") << std::endl;
      }
    }
    if (Settled(r)) {
      const std::string state = r.value("state", "");
      if (state == "completed" || state == "reverted") return kExitOk;
      if (WaitingForWindow(r)) return kExitAwaitingWindow;
      return state == "gate" ? kExitAwaitingApproval : kExitError;
    }
    if (std::chrono::steady_clock::now() > deadline)
      return ReportError(g, MakeError(ErrorCode::kTimeout, "rollout " + a.id + " is still " + r.value("phase", "") +
                                                               " after --timeout; it goes on"));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
}

// The rollout, once settled when --wait: exit 1 when it ended paused or aborted.
int Show(const GlobalOptions& g, const ClusterArgs& a, const Api& api, const Result<json>& answer) {
  if (!answer.ok()) return ReportError(g, answer.error());
  json r = *answer;
  if (a.wait) {
    auto settled = WaitSettled(api, r["id"].get<std::string>(), a.wait_timeout_s);
    if (!settled.ok()) return ReportError(g, settled.error());
    r = std::move(settled).value();
  }
  if (g.format == "json") {
    PrintJson(r);
  } else {
    PrintStatus(std::cout, r);
  }
  const std::string state = r.value("state", "");
  if (a.wait && WaitingForWindow(r)) return kExitAwaitingWindow;
  return a.wait && (state == "paused" || state == "aborted") ? kExitError : kExitOk;
}

}  // namespace

int RunRolloutClient(const GlobalOptions& g, const ClusterArgs& a, const Api& api) {
  const std::string act = a.action.substr(std::string("rollout ").size());
  if (act == "create") {
    auto desired = DesiredJson(g, a);
    if (!desired.ok()) return ReportError(g, desired.error());
    json body{{"desired", *desired},
              {"targets", a.targets},
              {"canary", a.canary},
              {"waves", a.waves},
              {"gate", a.gate},
              {"failure_budget", a.failure_budget},
              {"per_server", a.per_server},
              {"allow_destructive", a.allow_destructive},
              {"allow_blocking", a.allow_blocking},
              {"max_threads_running", a.gate_threads_running}};
    if (a.gate_replica_lag_s) body["max_replica_lag"] = *a.gate_replica_lag_s;
    if (!a.cutover_window.empty()) body["cutover_window"] = a.cutover_window;
    body["cutover"] = a.cutover;
    return Show(g, a, api, Call(api, "POST", "/v1/rollouts", &body));
  }
  if (act == "list") {
    return Answer(g, Call(api, "GET", "/v1/rollouts"), [](const json& l) {
      std::cout << std::left << std::setw(16) << "ROLLOUT" << std::setw(11) << "STATE" << std::setw(22) << "PHASE"
                << std::setw(22) << "CREATED" << std::setw(14) << "BY" << "TARGETS\n";
      for (const json& r : l["rollouts"]) {
        std::cout << std::setw(16) << r["id"].get<std::string>() << std::setw(11) << r["state"].get<std::string>()
                  << std::setw(22) << r["phase"].get<std::string>() << std::setw(22)
                  << Time(r["created_ns"].get<int64_t>()) << std::setw(14) << r["actor"].get<std::string>()
                  << r["counts"].dump() << "\n";
      }
    });
  }
  if (act == "status" && a.watch) return Watch(g, a, api);
  if (act == "status") return Show(g, a, api, Call(api, "GET", Path("/v1/rollouts", a.id)));
  if (act == "window") {
    json body{{"cutover_window", a.cutover_window == "any" ? json() : json(a.cutover_window)}};
    return Show(g, a, api, Call(api, "POST", Path("/v1/rollouts", a.id) + "/window", &body));
  }
  // pause, resume, abort, revert, approve
  return Show(g, a, api, Call(api, "POST", Path("/v1/rollouts", a.id) + "/" + act));
}

}  // namespace sqlx::cli
