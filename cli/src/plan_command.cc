// `sqlx plan:diff --from A --to B [-o plan.json]`: the plan that takes
// schema A to schema B (docs/cli.md, docs/formats/plan.md). A and B are
// snapshot files (`sqlx snapshot` JSON, or a hand-written IR) or live
// databases (a URL with the database as its path), or .sql scripts run in a
// scratch database on --dev-url (scratch_database.h).
#include <cstdio>
#include <iostream>
#include <optional>
#include <utility>

#include <nlohmann/json.hpp>

#include "audit_trail.h"
#include "commands.h"
#include "connection_learning.h"
#include "files.h"
#include "sqlx/actors/system.h"
#include "sqlx/driver.h"
#include "sqlx/messages/ir.h"
#include "sqlx/planner/duration.h"
#include "sqlx/planner/plan.h"
#include "scratch_database.h"
#include "sqlx/planner/strategy.h"

namespace sqlx::cli {

namespace {

bool IsUrl(const std::string& text) { return text.find("://") != std::string::npos; }

bool IsSqlFile(const std::string& text) {
  return !IsUrl(text) && text.size() > 4 && text.compare(text.size() - 4, 4, ".sql") == 0;
}

// One side of the diff: learned live, or read from a snapshot file. (A .sql
// side: LoadSqlSide.) A live side also learns its server's capabilities
// into `server` when given.
Result<ir::Database> LoadSide(const GlobalOptions& g, const std::string& what, const std::string& source,
                              std::optional<planner::ServerCapabilities>* server = nullptr) {
  if (IsUrl(source)) {
    ConnectArgs args;
    args.url = source;
    SQLX_ASSIGN_OR_RETURN(transports::ConnectionUrl url, ResolveConnection(args));
    if (url.database.empty()) {
      return MakeError(ErrorCode::kInvalidArgument,
                       what + " " + url.Redacted() + ": name the database as the URL's path (…/shop)");
    }
    const std::string database = url.database;
    url.database.clear();
    // A learn job through the actors, the server first when its
    // capabilities are wanted; nothing is stored.
    actors::LearnRequest request;
    request.databases = {database};
    request.learn_server = server != nullptr;
    request.store = false;
    actors::System system(SystemOptionsFor(g));
    SQLX_ASSIGN_OR_RETURN(actors::LearnedDatabases learned, system.Learn(url, request));
    actors::LearnedDatabase& db = learned.databases.at(0);
    if (db.error) return *db.error;
    for (const std::string& line : db.not_visible)
      std::cerr << "sqlx: warning: " << what << ": not learned: " << line << "\n";
    if (server != nullptr) {
      if (!learned.server) return MakeError(ErrorCode::kInternal, what + ": the learn job did not report the server");
      SQLX_ASSIGN_OR_RETURN(*server, planner::CapabilitiesFromJson(learned.server->capability_json));
      (*server)->basis += " (" + url.ConnectionName() + ")";
    }
    return std::move(db.schema);
  }
  SQLX_ASSIGN_OR_RETURN(std::string text, ReadTextFile(source));
  auto db = ir::FromJson(text);
  if (!db.ok()) {
    Error e = db.error();
    e.message = what + " " + source + ": " + e.message;
    return e;
  }
  return db;
}

// A .sql side run on the dev server, in a scratch database with the
// defaults of `other` (the other side; null when it is a .sql file too: the
// dev server's defaults).
Result<ir::Database> LoadSqlSide(const GlobalOptions& g, const PlanDiffArgs& a, const std::string& what,
                                 const std::string& source, const ir::Database* other) {
  SqlDesiredState state;
  state.path = source;
  state.dev_url = a.dev_url;
  if (other != nullptr) {
    state.charset = other->charset;
    state.collation = other->collation;
  }
  auto db = LearnSqlDesiredState(g, state);
  if (!db.ok()) {
    Error e = db.error();
    e.message = what + " " + e.message;
    return e;
  }
  return db;
}

// Both sides: the .sql ones after the others, whose defaults they take.
Result<std::pair<ir::Database, ir::Database>> LoadSides(const GlobalOptions& g, const PlanDiffArgs& a,
                                                        std::optional<planner::ServerCapabilities>* server) {
  const bool from_sql = IsSqlFile(a.from);
  const bool to_sql = IsSqlFile(a.to);
  if ((from_sql || to_sql) && a.dev_url.empty()) {
    return MakeError(ErrorCode::kInvalidArgument,
                     std::string(from_sql ? "--from " + a.from : "--to " + a.to) +
                         ": a .sql schema is run in a scratch database on a dev server: give --dev-url URL "
                         "(a server where its user may create and drop sqlx_scratch_* databases)");
  }
  std::optional<ir::Database> from, to;
  if (!from_sql) {
    SQLX_ASSIGN_OR_RETURN(from, LoadSide(g, "--from", a.from, server));
  }
  if (!to_sql) {
    SQLX_ASSIGN_OR_RETURN(to, LoadSide(g, "--to", a.to));
  }
  if (from_sql) {
    SQLX_ASSIGN_OR_RETURN(from, LoadSqlSide(g, a, "--from", a.from, to ? &*to : nullptr));
  }
  if (to_sql) {
    SQLX_ASSIGN_OR_RETURN(to, LoadSqlSide(g, a, "--to", a.to, from_sql ? nullptr : &*from));
  }
  return std::make_pair(std::move(*from), std::move(*to));
}

// "t.old=new" → (t, old, new); "old=new" → ("", old, new).
Result<std::tuple<std::string, std::string, std::string>> ParseRename(const std::string& flag, const std::string& text,
                                                                      bool qualified) {
  const size_t eq = text.find('=');
  const size_t dot = text.find('.');
  if (eq == std::string::npos || eq + 1 == text.size() || (qualified && (dot == std::string::npos || dot > eq)) ||
      (!qualified && eq == 0)) {
    return MakeError(ErrorCode::kInvalidArgument, flag + " " + text + ": expected " +
                                                      (qualified ? "TABLE.OLD=NEW" : "OLD=NEW"));
  }
  if (!qualified) return std::make_tuple(std::string(), text.substr(0, eq), text.substr(eq + 1));
  return std::make_tuple(text.substr(0, dot), text.substr(dot + 1, eq - dot - 1), text.substr(eq + 1));
}

std::string Bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
  return buf;
}

// What the operation does to its table, from the learned table size.
std::string TableCost(const planner::Operation& op) {
  const std::string rows = op.rows_estimate > 0 ? "~" + std::to_string(op.rows_estimate) + " rows" : "";
  const std::string size = op.bytes_estimate > 0 ? Bytes(op.bytes_estimate) : "";
  const std::string table = rows + (!rows.empty() && !size.empty() ? ", " : "") + size;
  switch (op.strategy) {
    case planner::Strategy::kInstant: return "metadata only";
    case planner::Strategy::kInplace: return table.empty() ? "in place" : "in place over " + table;
    case planner::Strategy::kOnlineCopy:
    case planner::Strategy::kCopy: return table.empty() ? "copies the table" : "copies " + table;
    default: return table;
  }
}

// "0.4 s", "12 s", "3 min 20 s", "2 h 5 min".
std::string Duration(uint64_t ms) {
  char buf[48];
  const uint64_t s = (ms + 500) / 1000;
  if (ms < 10000) std::snprintf(buf, sizeof(buf), "%.1f s", static_cast<double>(ms) / 1000.0);
  else if (s < 60) std::snprintf(buf, sizeof(buf), "%llu s", static_cast<unsigned long long>(s));
  else if (s < 3600)
    std::snprintf(buf, sizeof(buf), "%llu min %llu s", static_cast<unsigned long long>(s / 60),
                  static_cast<unsigned long long>(s % 60));
  else
    std::snprintf(buf, sizeof(buf), "%llu h %llu min", static_cast<unsigned long long>(s / 3600),
                  static_cast<unsigned long long>(s % 3600 / 60));
  return buf;
}

// The operation's cost from the learned table size, by strategy, with its
// estimated duration when it rewrites rows.
std::string Cost(const planner::Operation& op) {
  std::string cost = TableCost(op);
  if (op.duration_estimate_ms > 0) cost += (cost.empty() ? "" : ", ") + std::string("est. ") + Duration(op.duration_estimate_ms);
  return cost;
}

void PrintSummary(const planner::Plan& plan) {
  std::cout << "plan for " << plan.database << ": " << plan.operations.size() << " operation"
            << (plan.operations.size() == 1 ? "" : "s") << "\n  from " << plan.from_hash << "\n  to   " << plan.to_hash
            << "\n  strategies for: " << (plan.strategy_basis.empty() ? "none chosen" : plan.strategy_basis) << "\n";
  uint64_t copied = 0, online_bytes = 0;
  int blocking = 0, online = 0;
  for (const planner::Operation& op : plan.operations) {
    if (op.strategy == planner::Strategy::kCopy) {
      copied += op.bytes_estimate;
      ++blocking;
    } else if (op.strategy == planner::Strategy::kOnlineCopy) {
      online_bytes += op.bytes_estimate;
      ++online;
    }
  }
  if (online > 0)
    std::cout << "  " << online << " operation" << (online == 1 ? "" : "s") << " copy tables online (" << Bytes(online_bytes)
              << "): shadow copy with change capture, then an atomic swap (`sqlx migrations`)\n";
  if (blocking > 0)
    std::cout << "  " << blocking << " operation" << (blocking == 1 ? "" : "s") << " copy tables under a lock (" << Bytes(copied)
              << "): `sqlx apply` needs --allow-blocking\n";
  if (!plan.operations.empty() && !plan.duration_basis.empty())
    std::cout << "  estimated time: " << Duration(planner::TotalDurationEstimateMs(plan))
              << " (estimate: the learned table sizes at " << plan.duration_basis << ")\n";
  if (plan.operations.empty()) {
    std::cout << "nothing to do: the schemas are the same\n";
    return;
  }
  for (const planner::Operation& op : plan.operations) {
    std::cout << "\n" << op.id << ". " << op.kind << (op.object.empty() ? "" : " " + op.object) << "  ["
              << planner::OpClassName(op.op_class) << "]";
    std::cout << "  " << planner::StrategyName(op.strategy);
    if (const std::string cost = Cost(op); !cost.empty()) std::cout << ", " << cost;
    std::cout << "\n";
    for (const std::string& c : op.changes) std::cout << "     " << c << "\n";
    for (const std::string& n : op.notes) std::cout << "     ! " << n << "\n";
    if (!op.strategy_reason.empty()) std::cout << "     strategy: " << op.strategy_reason << "\n";
    for (const planner::PreCheck& c : op.prechecks) std::cout << "     pre-check: " << c.what << "\n";
  }
}

// The audit object of a plan: its --from side (a live database, else the
// snapshot's database name once loaded).
storage::AuditObject FromObject(const PlanDiffArgs& a, const std::string& from_name) {
  if (IsUrl(a.from)) {
    ConnectArgs args;
    args.url = a.from;
    auto url = ResolveConnection(args);
    if (url.ok()) return {url->ConnectionName(), url->database, ""};
  }
  return {"", from_name, ""};
}

// A side as the audit event names it: a URL without its password, or the file.
std::string SideName(const std::string& side) {
  if (!IsUrl(side)) return side;
  ConnectArgs args;
  args.url = side;
  auto url = ResolveConnection(args);
  return url.ok() ? url->Redacted() : "(a URL that does not parse)";
}

std::string PlanDetails(const PlanDiffArgs& a, const planner::Plan& plan) {
  nlohmann::json classes = nlohmann::json::object();
  for (const planner::Operation& op : plan.operations) {
    nlohmann::json& n = classes[std::string(planner::OpClassName(op.op_class))];
    n = n.is_number() ? n.get<int>() + 1 : 1;
  }
  return nlohmann::json{{"from", SideName(a.from)},
                        {"to", SideName(a.to)},
                        {"from_hash", plan.from_hash},
                        {"to_hash", plan.to_hash},
                        {"operations", plan.operations.size()},
                        {"classes", classes}}
      .dump();
}

}  // namespace

int RunPlanDiff(const GlobalOptions& g, const PlanDiffArgs& a) {
  std::string from_name;
  // Every outcome is recorded as plan.created (when a store is configured)
  // before it is reported; a failure to record it is the command's error.
  auto fail = [&](const Error& error) {
    Status audited = RecordInConfiguredStore(g, "plan.created", FromObject(a, from_name), &error,
                                             nlohmann::json{{"from", SideName(a.from)}, {"to", SideName(a.to)}}.dump());
    return ReportError(g, audited.ok() ? error : audited.error());
  };
  planner::DiffOptions options;
  for (const std::string& r : a.table_renames) {
    auto parsed = ParseRename("--rename-table", r, false);
    if (!parsed.ok()) return fail(parsed.error());
    options.table_renames[std::get<1>(*parsed)] = std::get<2>(*parsed);
  }
  for (const std::string& r : a.column_renames) {
    auto parsed = ParseRename("--rename", r, true);
    if (!parsed.ok()) return fail(parsed.error());
    options.column_renames[std::get<0>(*parsed)][std::get<1>(*parsed)] = std::get<2>(*parsed);
  }
  std::optional<planner::ServerCapabilities> server;
  auto sides = LoadSides(g, a, &server);
  if (!sides.ok()) return fail(sides.error());
  from_name = sides->first.name;
  auto plan = planner::Diff(sides->first, sides->second, options);
  if (!plan.ok()) return fail(plan.error());
  // Strategies for the --from server when it is live, else for the default.
  Status chosen = planner::ChooseStrategies(sides->first, sides->second, options,
                                            server ? *server : planner::DefaultCapabilities(), &*plan);
  if (!chosen.ok()) return fail(chosen.error());
  const std::string json = planner::PlanToJson(*plan);
  if (!a.output.empty()) {
    Status st = WriteFileAtomically(a.output, json);
    if (!st.ok()) return fail(st.error());
  }
  if (Status audited = RecordInConfiguredStore(g, "plan.created", FromObject(a, from_name), nullptr,
                                               PlanDetails(a, *plan));
      !audited.ok()) {
    return ReportError(g, audited.error());
  }
  if (g.format == "json") {
    std::cout << json;
  } else if (g.format == "sql") {
    std::cout << planner::PlanScript(*plan);
  } else {
    PrintSummary(*plan);
    if (!a.output.empty()) std::cout << "\nplan written to " << a.output << "\n";
  }
  return kExitOk;
}

}  // namespace sqlx::cli
