// The orchestrator's HTTP API (docs/cluster.md, "HTTP API"): JSON in and
// out, every route but /v1/health behind an API token ("Authorization:
// Bearer TOKEN"). No token or an unknown one: 401; a role the route does not
// admit: 403; both are audit events (api.denied).
#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <charconv>
#include <initializer_list>

#include "orchestrator_impl.h"
#include "sqlx/messages/clock.h"

namespace sqlx::orchestrator {

namespace {

using nlohmann::json;
using Handler = std::function<void(const httplib::Request&, httplib::Response&, const Caller&)>;

int HttpStatusOf(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kUnsupported:
      return 501;
    case ErrorCode::kConnectionRefused:
    case ErrorCode::kTimeout:
    case ErrorCode::kClosed:
      return 503;
    default:
      return 500;
  }
}

void Reply(httplib::Response& res, int status, const json& body) {
  res.status = status;
  res.set_content(body.dump(), "application/json");
}

void ReplyError(httplib::Response& res, int status, std::string_view code, const std::string& message) {
  Reply(res, status, json{{"error", {{"code", code}, {"message", message}}}});
}

void ReplyError(httplib::Response& res, const Error& e) {
  ReplyError(res, HttpStatusOf(e.code), ErrorCodeName(e.code), e.message);
}

json Body(const httplib::Request& req) {
  if (req.body.empty()) return json::object();
  json j = json::parse(req.body);  // the guard answers 400 on a parse error
  if (!j.is_object()) throw json::type_error::create(302, "the request body must be a JSON object", nullptr);
  return j;
}

std::vector<std::string> StringList(const json& body, const char* key) {
  if (!body.contains(key)) return {};
  const json& v = body.at(key);
  if (v.is_string()) {
    if (v.get<std::string>() == "all") return {};
    return {v.get<std::string>()};
  }
  return v.get<std::vector<std::string>>();
}

std::optional<int64_t> IntParam(const httplib::Request& req, const char* name) {
  if (!req.has_param(name)) return std::nullopt;
  const std::string v = req.get_param_value(name);
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || ptr != v.data() + v.size())
    throw std::invalid_argument(std::string("query parameter ") + name + " must be an integer");
  return out;
}

// A rollout as the API shows it: the record, its targets counted per state,
// its per-wave timings and estimate (RolloutProgressJson); with `records`,
// each target in flight with what its worker reports of its job ("progress").
json RolloutStatusJson(const Rollout& r, Records* records) {
  const int64_t now = UnixNowNs();
  json out = RolloutToJson(r);
  json counts = json::object();
  for (size_t i = 0; i < r.targets.size(); ++i) {
    const RolloutTarget& t = r.targets[i];
    const std::string state(TargetStateName(t.state));
    counts[state] = counts.value(state, 0) + 1;
    if (records == nullptr || t.job.empty() ||
        (t.state != TargetState::kApplying && t.state != TargetState::kReverting &&
         t.state != TargetState::kCuttingOver))
      continue;
    auto job = records->GetJob(t.job);
    if (!job.ok() || !*job) continue;  // not queued yet: the next pass publishes it
    out["targets"][i]["progress"] = json{{"job_state", JobStateName((*job)->state)},
                                         {"worker", (*job)->worker},
                                         {"deliveries", (*job)->deliveries},
                                         {"queued_ns", (*job)->created_ns},
                                         {"started_ns", (*job)->started_ns},
                                         {"heartbeat_ns", (*job)->heartbeat_ns}};
  }
  out["counts"] = counts;
  out.update(RolloutProgressJson(r, now));
  out["now_ns"] = now;
  // Closed now: when the cut-over window opens next (copied targets wait for it).
  out["cutover_window_opens_ns"] = r.strategy.cutover_window && !InCutoverWindow(*r.strategy.cutover_window, now)
                                       ? json(CutoverWindowOpens(*r.strategy.cutover_window, now))
                                       : json();
  return out;
}

// POST /v1/rollouts's body: {"desired": IR (object or text), "targets":
// selector or [selectors], "canary", "waves", "gate", "failure_budget",
// "per_server", "allow_destructive", "allow_blocking", "max_threads_running",
// "max_replica_lag", "cutover_window" ("HH:MM-HH:MM" UTC), "cutover" ("each",
// "together")}.
Result<Orchestrator::Impl::RolloutRequest> RolloutRequestOf(const json& body) {
  Orchestrator::Impl::RolloutRequest r;
  if (!body.contains("desired"))
    return MakeError(ErrorCode::kInvalidArgument, "\"desired\" is required: the desired schema as a snapshot (IR JSON)");
  const json& desired = body["desired"];
  r.desired_json = desired.is_string() ? desired.get<std::string>() : desired.dump();
  if (body.contains("targets") && body["targets"].is_string()) {
    r.targets = {body["targets"].get<std::string>()};
  } else {
    r.targets = body.value("targets", std::vector<std::string>{});
  }
  SQLX_ASSIGN_OR_RETURN(r.strategy, RolloutStrategyFromJson(body));
  return r;
}

}  // namespace

Result<std::pair<std::string, int>> ParseListen(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos)
    return MakeError(ErrorCode::kInvalidArgument, "--listen '" + listen + "' is not HOST:PORT");
  const std::string host = listen.substr(0, colon);
  int port = 0;
  const std::string port_text = listen.substr(colon + 1);
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (host.empty() || ec != std::errc() || ptr != port_text.data() + port_text.size() || port < 0 || port > 65535)
    return MakeError(ErrorCode::kInvalidArgument, "--listen '" + listen + "': give HOST:PORT with a port 0..65535");
  return std::make_pair(host, port);
}

Status Orchestrator::Impl::Serve() {
  if (!options_.tls_cert_file.empty()) {
    auto https = std::make_unique<httplib::SSLServer>(options_.tls_cert_file.c_str(), options_.tls_key_file.c_str());
    if (!https->is_valid())
      return MakeError(ErrorCode::kInvalidArgument, "cannot serve HTTPS with --tls-cert " + options_.tls_cert_file +
                                                        " and --tls-key " + options_.tls_key_file +
                                                        ": not a PEM certificate and its private key");
    http_ = std::move(https);
  } else {
    http_ = std::make_unique<httplib::Server>();
  }
  httplib::Server& http = *http_;

  auto guard = [this](std::initializer_list<const char*> roles, Handler handler) {
    std::vector<std::string> admitted(roles.begin(), roles.end());
    return [this, admitted, handler](const httplib::Request& req, httplib::Response& res) {
      Caller caller;
      caller.remote = req.remote_addr + ":" + std::to_string(req.remote_port);
      const std::string auth = req.get_header_value("Authorization");
      constexpr std::string_view kBearer = "Bearer ";
      auto deny = [&](int status, const std::string& why) {
        Error e = MakeError(ErrorCode::kAuth, why);
        (void)RecordAudit(&caller, "api.denied", {}, &e,
                          json{{"method", req.method}, {"path", req.path}, {"status", status}});
        ReplyError(res, status, status == 401 ? "unauthenticated" : "forbidden", why);
      };
      if (auth.compare(0, kBearer.size(), kBearer) != 0) {
        return deny(401, "this request needs an API token: send \"Authorization: Bearer TOKEN\" ($SQLX_TOKEN)");
      }
      auto token = Authenticate(std::string_view(auth).substr(kBearer.size()));
      if (!token.ok()) return ReplyError(res, token.error());
      if (!token->has_value()) return deny(401, "the API token is not known to this orchestrator");
      caller.subject = (*token)->subject;
      caller.role = (*token)->role;
      if (std::find(admitted.begin(), admitted.end(), caller.role) == admitted.end()) {
        std::string who;
        for (const std::string& r : admitted) who += (who.empty() ? "" : " or ") + r;
        return deny(403, "role " + caller.role + " may not " + req.method + " " + req.path + " (needs " + who + ")");
      }
      try {
        handler(req, res, caller);
      } catch (const std::exception& e) {
        ReplyError(res, 400, "invalid_argument", std::string("bad request: ") + e.what());
      }
    };
  };

  http.Get("/v1/health", [](const httplib::Request&, httplib::Response& res) { Reply(res, 200, json{{"ok", true}}); });

  // --- connections ---
  http.Get("/v1/connections", guard({"admin", "operator"}, [this](const auto&, auto& res, const Caller&) {
             auto all = records_->ListConnections();
             if (!all.ok()) return ReplyError(res, all.error());
             json out = json::array();
             for (const FleetConnection& c : *all) out.push_back(ToJson(c));
             Reply(res, 200, json{{"connections", out}});
           }));
  http.Post("/v1/connections", guard({"admin"}, [this](const auto& req, auto& res, const Caller& caller) {
              const json body = Body(req);
              std::optional<std::string> password;
              if (body.contains("password")) password = body.at("password").get<std::string>();
              std::optional<std::vector<std::string>> tags;
              if (body.contains("tags")) tags = body.at("tags").get<std::vector<std::string>>();
              auto c = PutConnection(caller, body.value("name", ""), body.value("url", ""), password, tags, false);
              if (!c.ok()) return ReplyError(res, c.error());
              Reply(res, 201, ToJson(*c));
            }));
  http.Put(R"(/v1/connections/([A-Za-z0-9_.\-]+))",
           guard({"admin"}, [this](const auto& req, auto& res, const Caller& caller) {
             const json body = Body(req);
             std::optional<std::string> password;
             if (body.contains("password")) password = body.at("password").get<std::string>();
             std::optional<std::vector<std::string>> tags;
             if (body.contains("tags")) tags = body.at("tags").get<std::vector<std::string>>();
             auto c = PutConnection(caller, req.matches[1], body.value("url", ""), password, tags, true);
             if (!c.ok()) return ReplyError(res, c.error());
             Reply(res, 200, ToJson(*c));
           }));
  http.Delete(R"(/v1/connections/([A-Za-z0-9_.\-]+))",
              guard({"admin"}, [this](const auto& req, auto& res, const Caller& caller) {
                Status s = RemoveConnection(caller, req.matches[1]);
                if (!s.ok()) return ReplyError(res, s.error());
                Reply(res, 200, json{{"removed", std::string(req.matches[1])}});
              }));

  // --- org-wide learning, runs and jobs ---
  http.Post("/v1/fleet/learn", guard({"admin", "operator"}, [this](const auto& req, auto& res, const Caller& caller) {
              const json body = Body(req);
              auto run = StartLearn(caller.subject, StringList(body, "connections"), &caller);
              if (!run.ok()) return ReplyError(res, run.error());
              Reply(res, 202, ToJson(*run));
            }));
  http.Post("/v1/probe", guard({"admin", "operator"}, [this](const auto& req, auto& res, const Caller& caller) {
              const json body = Body(req);
              auto run = StartProbe(caller, body.value("count", uint64_t{0}), body.value("payload_bytes", uint64_t{0}));
              if (!run.ok()) return ReplyError(res, run.error());
              Reply(res, 202, ToJson(*run));
            }));
  http.Post("/v1/apply", guard({"admin", "operator"}, [this](const auto& req, auto& res, const Caller& caller) {
              const json body = Body(req);
              ApplyParams p;
              p.connection = body.value("connection", "");
              p.database = body.value("database", "");
              // The plan as plan.json's text, or as the JSON object itself.
              if (body.contains("plan")) p.plan_json = body["plan"].is_string() ? body["plan"].get<std::string>()
                                                                                : body["plan"].dump();
              p.dry_run = body.value("dry_run", false);
              p.allow_destructive = body.value("allow_destructive", false);
              p.allow_blocking = body.value("allow_blocking", false);
              auto run = StartApply(caller, p);
              if (!run.ok()) return ReplyError(res, run.error());
              Reply(res, 202, ToJson(*run));
            }));
  http.Get("/v1/runs", guard({"admin", "operator"}, [this](const auto&, auto& res, const Caller&) {
             auto runs = records_->ListRuns();
             if (!runs.ok()) return ReplyError(res, runs.error());
             json out = json::array();
             for (const Run& r : *runs) out.push_back(ToJson(r));
             Reply(res, 200, json{{"runs", out}});
           }));
  http.Get(R"(/v1/runs/([A-Za-z0-9_.\-]+))", guard({"admin", "operator"}, [this](const auto& req, auto& res, const Caller&) {
             auto run = records_->GetRun(std::string(req.matches[1]));
             if (!run.ok()) return ReplyError(res, run.error());
             if (!run->has_value())
               return ReplyError(res, 404, "not_found", "no run '" + std::string(req.matches[1]) + "'");
             auto jobs = records_->ListJobs(std::string(req.matches[1]) + ".");
             if (!jobs.ok()) return ReplyError(res, jobs.error());
             // ?jobs=0: the counts without the job list (a large run's poll).
             const bool with_jobs = !req.has_param("jobs") || req.get_param_value("jobs") != "0";
             json out = ToJson(**run);
             json counts = json::object();
             json workers = json::object();
             json list = json::array();
             int64_t last_finished_ns = 0;
             for (const Job& j : *jobs) {
               counts[std::string(JobStateName(j.state))] = counts.value(std::string(JobStateName(j.state)), 0) + 1;
               if (!j.worker.empty()) workers[j.worker] = workers.value(j.worker, 0) + 1;
               last_finished_ns = std::max(last_finished_ns, j.finished_ns);
               if (with_jobs) list.push_back(ToJson(j));
             }
             out["counts"] = counts;
             out["workers"] = workers;  // jobs per worker that last ran them
             out["last_finished_ns"] = last_finished_ns;
             if (with_jobs) out["jobs"] = list;
             Reply(res, 200, out);
           }));
  http.Get("/v1/jobs", guard({"admin", "operator"}, [this](const auto& req, auto& res, const Caller&) {
             const std::string run = req.has_param("run") ? req.get_param_value("run") : "";
             auto jobs = records_->ListJobs(run.empty() ? "" : run + ".");
             if (!jobs.ok()) return ReplyError(res, jobs.error());
             std::optional<JobState> state;
             if (req.has_param("state")) {
               state = ParseJobState(req.get_param_value("state"));
               if (!state)
                 return ReplyError(res, 400, "invalid_argument",
                                   "state must be queued, running, done, failed or dead");
             }
             const int64_t limit = IntParam(req, "limit").value_or(1000);
             json out = json::array();
             for (const Job& j : *jobs) {
               if (state && j.state != *state) continue;
               if (static_cast<int64_t>(out.size()) >= limit) break;
               out.push_back(ToJson(j));
             }
             Reply(res, 200, json{{"jobs", out}});
           }));
  http.Get(R"(/v1/jobs/([A-Za-z0-9_.\-]+))", guard({"admin", "operator"}, [this](const auto& req, auto& res, const Caller&) {
             auto job = records_->GetJob(std::string(req.matches[1]));
             if (!job.ok()) return ReplyError(res, job.error());
             if (!job->has_value())
               return ReplyError(res, 404, "not_found", "no job '" + std::string(req.matches[1]) + "'");
             Reply(res, 200, ToJson(**job));
           }));

  // --- online migrations of apply jobs, as their last checkpoints left them ---
  http.Get("/v1/migrations", guard({"admin", "operator"}, [this](const auto& req, auto& res, const Caller&) {
             auto all = records_->ListMigrations(req.has_param("job") ? req.get_param_value("job") : "");
             if (!all.ok()) return ReplyError(res, all.error());
             json out = json::array();
             for (const JobMigration& m : *all) out.push_back(ToJson(m));
             Reply(res, 200, json{{"migrations", out}});
           }));
  http.Get(R"(/v1/migrations/([0-9a-f]+))", guard({"admin", "operator"}, [this](const auto& req, auto& res, const Caller&) {
             auto all = records_->ListMigrations();
             if (!all.ok()) return ReplyError(res, all.error());
             for (const JobMigration& m : *all)
               if (m.id() == req.matches[1]) return Reply(res, 200, ToJson(m));
             ReplyError(res, 404, "not_found", "no migration '" + std::string(req.matches[1]) + "'");
           }));

  // --- schedules ---
  http.Get("/v1/schedules", guard({"admin", "operator"}, [this](const auto&, auto& res, const Caller&) {
             auto all = records_->ListSchedules();
             if (!all.ok()) return ReplyError(res, all.error());
             json out = json::array();
             for (const Schedule& s : *all) out.push_back(ToJson(s));
             Reply(res, 200, json{{"schedules", out}});
           }));
  http.Post("/v1/schedules", guard({"admin", "operator"}, [this](const auto& req, auto& res, const Caller& caller) {
              const json body = Body(req);
              auto s = AddSchedule(caller, body.value("cron", ""), StringList(body, "connections"));
              if (!s.ok()) return ReplyError(res, s.error());
              Reply(res, 201, ToJson(*s));
            }));
  http.Delete(R"(/v1/schedules/([A-Za-z0-9_.\-]+))",
              guard({"admin", "operator"}, [this](const auto& req, auto& res, const Caller& caller) {
                Status s = RemoveSchedule(caller, req.matches[1]);
                if (!s.ok()) return ReplyError(res, s.error());
                Reply(res, 200, json{{"removed", std::string(req.matches[1])}});
              }));

  // --- rollouts (docs/rollouts.md): operators run them, auditors read them ---
  http.Get("/v1/rollouts", guard({"admin", "operator", "auditor"}, [this](const auto&, auto& res, const Caller&) {
             auto all = records_->ListRollouts();
             if (!all.ok()) return ReplyError(res, all.error());
             json out = json::array();
             for (const Rollout& r : *all) {
               json one = RolloutStatusJson(r, nullptr);
               one.erase("targets");
               out.push_back(std::move(one));
             }
             Reply(res, 200, json{{"rollouts", out}});
           }));
  http.Post("/v1/rollouts", guard({"admin", "operator"}, [this](const auto& req, auto& res, const Caller& caller) {
              auto request = RolloutRequestOf(Body(req));
              if (!request.ok()) return ReplyError(res, request.error());
              auto r = CreateRollout(caller, *request);
              if (!r.ok()) return ReplyError(res, r.error());
              Reply(res, 201, RolloutStatusJson(*r, records_.get()));
            }));
  http.Get(R"(/v1/rollouts/([A-Za-z0-9_.\-]+))",
           guard({"admin", "operator", "auditor"}, [this](const auto& req, auto& res, const Caller&) {
             auto r = records_->GetRollout(std::string(req.matches[1]));
             if (!r.ok()) return ReplyError(res, r.error());
             if (!r->has_value())
               return ReplyError(res, 404, "not_found", "no rollout '" + std::string(req.matches[1]) + "'");
             Reply(res, 200, RolloutStatusJson(**r, records_.get()));
           }));
  // A command the rollout's state does not admit: 409, saying why.
  auto command = [this](RolloutEvent::Kind kind) -> Handler {
    return [this, kind](const httplib::Request& req, httplib::Response& res, const Caller& caller) {
      auto r = CommandRollout(caller, std::string(req.matches[1]), kind);
      if (!r.ok() && r.error().code == ErrorCode::kInvalidArgument)
        return ReplyError(res, 409, "conflict", r.error().message);
      if (!r.ok()) return ReplyError(res, r.error());
      Reply(res, 200, RolloutStatusJson(*r, records_.get()));
    };
  };
  using Command = RolloutEvent::Kind;
  http.Post(R"(/v1/rollouts/([A-Za-z0-9_.\-]+)/pause)", guard({"admin", "operator"}, command(Command::kPause)));
  http.Post(R"(/v1/rollouts/([A-Za-z0-9_.\-]+)/resume)", guard({"admin", "operator"}, command(Command::kResume)));
  http.Post(R"(/v1/rollouts/([A-Za-z0-9_.\-]+)/abort)", guard({"admin", "operator"}, command(Command::kAbort)));
  http.Post(R"(/v1/rollouts/([A-Za-z0-9_.\-]+)/revert)", guard({"admin", "operator"}, command(Command::kRevert)));
  http.Post(R"(/v1/rollouts/([A-Za-z0-9_.\-]+)/approve)", guard({"admin", "operator"}, command(Command::kApprove)));
  // {"cutover_window": "HH:MM-HH:MM" (UTC) or null (any time)}.
  http.Post(R"(/v1/rollouts/([A-Za-z0-9_.\-]+)/window)",
            guard({"admin", "operator"}, [this](const auto& req, auto& res, const Caller& caller) {
              const json body = Body(req);
              if (!body.contains("cutover_window") ||
                  !(body["cutover_window"].is_string() || body["cutover_window"].is_null()))
                return ReplyError(res, 400, "invalid_argument",
                                  "give {\"cutover_window\": \"HH:MM-HH:MM\"} (UTC) or {\"cutover_window\": null} (any time)");
              std::optional<CutoverWindow> window;
              if (body["cutover_window"].is_string()) {
                auto parsed = ParseCutoverWindow(body["cutover_window"].get<std::string>());
                if (!parsed.ok()) return ReplyError(res, 400, "invalid_argument", parsed.error().message);
                window = *parsed;
              }
              auto r = CommandRollout(caller, std::string(req.matches[1]), Command::kSetWindow, window);
              if (!r.ok() && r.error().code == ErrorCode::kInvalidArgument)
                return ReplyError(res, 409, "conflict", r.error().message);
              if (!r.ok()) return ReplyError(res, r.error());
              Reply(res, 200, RolloutStatusJson(*r, records_.get()));
            }));

  // --- tokens ---
  http.Get("/v1/tokens", guard({"admin"}, [this](const auto&, auto& res, const Caller&) {
             auto all = records_->ListTokens();
             if (!all.ok()) return ReplyError(res, all.error());
             json out = json::array();
             for (const ApiToken& t : *all) out.push_back(ToJson(t));
             Reply(res, 200, json{{"tokens", out}});
           }));
  http.Post("/v1/tokens", guard({"admin"}, [this](const auto& req, auto& res, const Caller& caller) {
              const json body = Body(req);
              auto token = CreateToken(&caller, body.value("subject", ""), body.value("role", ""));
              if (!token.ok()) return ReplyError(res, token.error());
              Reply(res, 201, json{{"token", *token}, {"subject", body.value("subject", "")},
                                   {"role", body.value("role", "")}});
            }));

  // --- the audit timeline ---
  http.Get("/v1/audit/events", guard({"admin", "auditor"}, [this](const auto& req, auto& res, const Caller& caller) {
             storage::AuditQuery q;
             q.since_ns = IntParam(req, "since_ns");
             q.until_ns = IntParam(req, "until_ns");
             if (req.has_param("db")) q.database = req.get_param_value("db");
             if (req.has_param("object")) q.object = req.get_param_value("object");
             if (req.has_param("actor")) q.actor = req.get_param_value("actor");
             if (req.has_param("action")) q.action = req.get_param_value("action");
             if (req.has_param("outcome")) {
               const std::string o = req.get_param_value("outcome");
               if (o != "ok" && o != "failed") return ReplyError(res, 400, "invalid_argument", "outcome must be ok or failed");
               q.outcome = o == "ok" ? storage::AuditOutcome::kOk : storage::AuditOutcome::kFailed;
             }
             q.limit = static_cast<size_t>(std::max<int64_t>(1, IntParam(req, "limit").value_or(100)));
             auto result = QueryAudit(q, caller);
             if (!result.ok()) return ReplyError(res, result.error());
             json out = json::array();
             for (const storage::AuditEvent& e : result->events) out.push_back(json::parse(storage::AuditEventToJson(e)));
             Reply(res, 200, json{{"events", out}, {"unreadable", result->unreadable}, {"pruned", result->pruned}});
           }));

  // --- bind ---
  SQLX_ASSIGN_OR_RETURN(auto listen, ParseListen(options_.listen));
  const auto& [host, port] = listen;
  if (port == 0) {
    port_ = http.bind_to_any_port(host);
    if (port_ <= 0) return MakeError(ErrorCode::kIo, "cannot listen on " + host + " (any port)");
  } else {
    if (!http.bind_to_port(host, port))
      return MakeError(ErrorCode::kIo, "cannot listen on " + options_.listen + ": in use, or not an address of this host");
    port_ = port;
  }
  threads_.emplace_back([this] { http_->listen_after_bind(); });
  threads_.emplace_back([this] { EventsLoop(); });
  threads_.emplace_back([this] { DeadLettersLoop(); });
  threads_.emplace_back([this] { SchedulerLoop(); });
  threads_.emplace_back([this] { RetentionLoop(); });
  threads_.emplace_back([this] { RolloutLoop(); });
  spdlog::info("orchestrator: HTTP API on {}:{}", host, port_);
  return Status::Ok();
}

// Here, where httplib::Server is a complete type.
Orchestrator::Impl::Impl(OrchestratorOptions options) : options_(std::move(options)) {}
Orchestrator::Impl::~Impl() { Stop(); }

void Orchestrator::Impl::StopHttp() {
  if (http_) http_->stop();
}

}  // namespace sqlx::orchestrator
