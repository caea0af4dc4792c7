// `sqlx rollout ...` (docs/rollouts.md): rollouts on a running orchestrator
// over its HTTP API. `create --to` takes the desired schema as a snapshot
// file, or as a .sql script learned on --dev-url (scratch_database.h) here,
// before anything is sent.
#include <algorithm>
#include <chrono>
#include <iomanip>
#include <iostream>
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

// Settled: nothing in flight, and nothing will move without someone.
bool Settled(const json& r) {
  const std::string state = r.value("state", "");
  const json& counts = r["counts"];
  if (counts.value("applying", 0) + counts.value("reverting", 0) > 0) return false;
  return state == "completed" || state == "reverted" || state == "paused" || state == "aborted" ||
         (state == "gate" && r["strategy"].value("gate", "") == "approval");
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

void PrintSummary(const json& r) {
  const std::string phase = r["phase"].get<std::string>(), state = r["state"].get<std::string>();
  std::cout << r["id"].get<std::string>() << ": " << phase << (phase == state ? "" : " (" + state + ")") << ", targets "
            << r["counts"].dump();
  if (!r["reason"].get<std::string>().empty()) std::cout << "\n  reason: " << r["reason"].get<std::string>();
  std::cout << "\n";
}

void PrintTargets(const json& r) {
  size_t name_w = 6;
  for (const json& t : r["targets"])
    name_w = std::max(name_w, t["connection"].get<std::string>().size() + t["database"].get<std::string>().size() + 1);
  std::cout << std::left << std::setw(static_cast<int>(name_w + 2)) << "TARGET" << std::setw(6) << "WAVE"
            << std::setw(15) << "STATE" << std::setw(26) << "JOB" << "REASON\n";
  for (const json& t : r["targets"]) {
    std::cout << std::setw(static_cast<int>(name_w + 2))
              << t["connection"].get<std::string>() + "/" + t["database"].get<std::string>() << std::setw(6)
              << t["wave"].get<size_t>() << std::setw(15) << t["state"].get<std::string>() << std::setw(26)
              << t["job"].get<std::string>() << t["reason"].get<std::string>() << "\n";
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
    PrintSummary(r);
    PrintTargets(r);
  }
  const std::string state = r.value("state", "");
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
              {"allow_blocking", a.allow_blocking}};
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
  if (act == "status") return Show(g, a, api, Call(api, "GET", Path("/v1/rollouts", a.id)));
  // pause, resume, abort, revert, approve
  return Show(g, a, api, Call(api, "POST", Path("/v1/rollouts", a.id) + "/" + act));
}

}  // namespace sqlx::cli
