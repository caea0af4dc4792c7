// `sqlx learn`: the server's capabilities and the schemas of its databases,
// learned through the actors (docs/actors.md) over one connection actor
// that splits the catalog queries over two sessions (the databases in one
// batch), and stored as snapshots with history by the snapshot actor; per
// database: object counts, profile hash, new / changed / unchanged, time.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <iostream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "audit_trail.h"
#include "commands.h"
#include "connection_learning.h"
#include "progress_line.h"
#include "sqlx/actors/system.h"
#include "sqlx/messages/ir.h"

namespace sqlx::cli {

namespace {

// The databases the command line names; empty means "every database".
// Contradictions are kInvalidArgument (exit 2).
Result<std::vector<std::string>> NamedDatabases(const transports::ConnectionUrl& url, const LearnArgs& args) {
  if (args.all_databases && (!url.database.empty() || !args.databases.empty())) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "--all-databases learns every database: do not also name one (URL path, --db or --databases)");
  }
  std::vector<std::string> names;
  for (const std::string& name : args.databases) {
    if (name.empty()) return MakeError(ErrorCode::kInvalidArgument, "--databases holds an empty name");
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  if (!url.database.empty()) {
    if (!names.empty() && names != std::vector<std::string>{url.database}) {
      return MakeError(ErrorCode::kInvalidArgument, "the URL names database '" + url.database +
                                                        "' and --databases names others: give one of them");
    }
    names = {url.database};
  }
  return names;
}

struct Failure {
  std::string database;
  Error error;
};

// A learned database's object counts, from its IR.
struct ObjectCounts {
  size_t tables = 0, views = 0, routines = 0, triggers = 0, events = 0;
};
ObjectCounts CountsOf(const ir::Database& db) {
  return {db.tables.size(), db.views.size(), db.routines.size(), db.triggers.size(), db.events.size()};
}

double Ms(std::chrono::microseconds us) { return static_cast<double>(us.count()) / 1000.0; }

nlohmann::json CountsJson(const ObjectCounts& c) {
  return {{"tables", c.tables}, {"views", c.views}, {"routines", c.routines}, {"triggers", c.triggers},
          {"events", c.events}};
}

// The databases learned and stored (in order), and those that were not.
struct Outcome {
  const actors::LearnedDatabases* batch = nullptr;
  std::vector<const actors::LearnedDatabase*> stored;
  std::vector<Failure> failures;
};

void PrintJson(const std::string& connection, const Outcome& o) {
  nlohmann::json databases = nlohmann::json::array();
  for (const actors::LearnedDatabase* db : o.stored) {
    databases.push_back({{"name", db->name},
                         {"profile_hash", db->profile_hash},
                         {"change", db->change},
                         {"version", db->stored_version},
                         {"status", db->not_visible.empty() ? "learned" : "partial"},
                         {"counts", CountsJson(CountsOf(db->schema))},
                         {"not_visible", db->not_visible},
                         {"catalog_statements", o.batch->catalog_statements},
                         {"ms", Ms(o.batch->learn_time)}});
  }
  nlohmann::json errors = nlohmann::json::array();
  for (const Failure& f : o.failures) {
    errors.push_back({{"database", f.database},
                      {"code", std::string(ErrorCodeName(f.error.code))},
                      {"message", f.error.message}});
  }
  nlohmann::json doc = {{"ok", o.failures.empty()},
                        {"connection", connection},
                        {"databases", databases},
                        {"errors", errors},
                        {"attempts", o.batch->attempts}};
  std::cout << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

void PrintText(const std::string& connection, const Outcome& o) {
  std::printf("connection %s: server capabilities stored (sqlx capabilities --connection %s)\n", connection.c_str(),
              connection.c_str());
  int width = 24;
  for (const actors::LearnedDatabase* db : o.stored) width = std::max(width, static_cast<int>(db->name.size()));
  if (!o.stored.empty()) {
    std::printf("\n%-*s %6s %5s %8s %8s %6s  %-12s  %-22s %9s\n", width, "DATABASE", "TABLES", "VIEWS", "ROUTINES",
                "TRIGGERS", "EVENTS", "PROFILE HASH", "CHANGE", "TIME");
  }
  const double ms = Ms(o.batch->learn_time);
  for (const actors::LearnedDatabase* db : o.stored) {
    const ObjectCounts c = CountsOf(db->schema);
    std::string change = db->change + " (v" + std::to_string(db->stored_version) + ")";
    if (!db->not_visible.empty()) change += ", partial";
    std::printf("%-*s %6zu %5zu %8zu %8zu %6zu  %-12s  %-22s %6.1f ms\n", width, db->name.c_str(), c.tables, c.views,
                c.routines, c.triggers, c.events, db->profile_hash.substr(0, 12).c_str(), change.c_str(), ms);
  }
  for (const actors::LearnedDatabase* db : o.stored) {
    if (db->not_visible.empty()) continue;
    std::printf("\n%s: not learned (the snapshot is partial):\n", db->name.c_str());
    for (const std::string& line : db->not_visible) std::printf("  %s\n", line.c_str());
  }
  if (!o.stored.empty()) {
    std::printf("\n%zu database%s learned in one batch of %u catalog statements, %.1f ms\n", o.stored.size(),
                o.stored.size() == 1 ? "" : "s", o.batch->catalog_statements, ms);
  }
  if (!o.failures.empty()) {
    std::printf("%zu database%s could not be learned (errors on stderr)\n", o.failures.size(),
                o.failures.size() == 1 ? "" : "s");
  }
}

// Milliseconds since `since`, for the -vv phase timings.
double MsSince(std::chrono::steady_clock::time_point since) {
  return Ms(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - since));
}

// What the progress line says of a learn job's step.
std::string StepText(const std::string& connection, const actors::LearnStep& s) {
  switch (s.phase) {
    case actors::LearnStep::Phase::kServer:
      return "probing the server " + connection;
    case actors::LearnStep::Phase::kListing:
      return "listing the databases of " + connection;
    default:
      break;
  }
  const std::string learning =
      "learning " + std::to_string(s.databases) + " database" + (s.databases == 1 ? "" : "s") + ": ";
  const std::string of = std::to_string(s.step) + "/" + std::to_string(s.total);
  if (s.phase == actors::LearnStep::Phase::kCatalog) return learning + "catalog query " + of + " (" + std::string(s.what) + ")";
  return learning + "building " + of + " " + std::string(s.what);
}

// The store being opened (a shared future: the snapshot actor's thread and
// the command both wait on it).
using StoreOpening = std::shared_future<Result<std::unique_ptr<storage::Store>>>;

Result<storage::Store*> OpenedStore(const StoreOpening& opening) {
  const Result<std::unique_ptr<storage::Store>>& opened = opening.get();
  if (!opened.ok()) return opened.error();
  return opened.value().get();
}

// The job's entries: those the snapshot actor stored, and those the server
// did not show (their errors on stderr).
Outcome Split(const actors::LearnedDatabases& learned, ProgressLine& progress) {
  Outcome o;
  o.batch = &learned;
  for (const actors::LearnedDatabase& db : learned.databases) {
    if (db.error) {
      progress.Clear();
      std::cerr << "sqlx: error: " << db.error->ToString() << "\n";
      o.failures.push_back({db.name, *db.error});
      continue;
    }
    o.stored.push_back(&db);
  }
  return o;
}

// One audit event per database of this learn (learn.database), in one
// durable group, before the result is printed.
Status AuditLearn(const GlobalOptions& g, storage::Store& store, const std::string& connection, const Outcome& o) {
  std::vector<storage::AuditEvent> events;
  for (const actors::LearnedDatabase* db : o.stored) {
    storage::AuditEvent& e = events.emplace_back(storage::NewAuditEvent("learn.database"));
    e.object = {connection, db->name, ""};
    e.details_json = nlohmann::json{{"profile_hash", db->profile_hash},
                                    {"change", db->change},
                                    {"version", db->stored_version},
                                    {"partial", !db->not_visible.empty()}}
                         .dump();
  }
  for (const Failure& f : o.failures) {
    storage::AuditEvent& e = events.emplace_back(storage::NewAuditEvent("learn.database"));
    e.object = {connection, f.database, ""};
    e.outcome = storage::AuditOutcome::kFailed;
    e.error = f.error.ToString();
  }
  return RecordAuditEvents(g, store, std::move(events));
}

}  // namespace

int RunLearn(const GlobalOptions& g, const ConnectArgs& c, const LearnArgs& args) {
  // With -v or -vv, log lines take the progress line's place (they would
  // be written into the middle of it).
  ProgressLine progress(!spdlog::should_log(spdlog::level::info));
  const auto start = std::chrono::steady_clock::now();
  auto fail = [&](const Error& error) {
    progress.Clear();
    return ReportError(g, error);
  };
  auto resolved = ResolveConnection(c);
  if (!resolved.ok()) return fail(resolved.error());
  transports::ConnectionUrl url = *resolved;
  Status port = transports::ResolveDefaultPort(&url, g.pack_dir);
  if (!port.ok()) return fail(port.error());
  auto named = NamedDatabases(url, args);
  if (!named.ok()) return fail(named.error());

  // The store opens (a new one: directories, column families, synced
  // writes) while the server is learned; the snapshot actor first needs it
  // to store what was learned.
  const StoreOpening store = std::async(std::launch::async, [&g] { return OpenStore(g); }).share();
  // The session names no database: an unknown one is then reported by the
  // learn, beside the others, instead of failing the connect.
  transports::ConnectionUrl session_url = url;
  session_url.database.clear();
  const std::string connection = url.ConnectionName();

  actors::SystemOptions options = SystemOptionsFor(g);
  options.open_store = [store] { return OpenedStore(store); };
  options.learn_sessions = 2;  // the catalog queries run on two sessions at once (docs/cli.md)
  options.on_learn_progress = [&](const actors::LearnStep& step) {
    const std::string text = StepText(connection, step);
    progress.Show(text);
    spdlog::debug("learn: {} at {:.1f} ms", text, MsSince(start));
  };
  actors::LearnRequest request;
  request.databases = *named;
  request.all_databases = named->empty();
  request.include_system = args.include_system;
  request.learn_server = true;
  progress.Show("connecting to " + connection);
  Result<actors::LearnedDatabases> learned = MakeError(ErrorCode::kInternal, "not learned");
  {
    actors::System system(options);
    learned = system.Learn(session_url, request);
  }
  spdlog::debug("learn: learned and stored at {:.1f} ms", MsSince(start));
  Result<storage::Store*> opened = OpenedStore(store);
  if (!opened.ok()) return fail(opened.error());
  if (!learned.ok()) {
    // A learn that fails as a whole (connect, authentication, probing, the
    // listing, a connection lost on every attempt, the store's write) stores
    // nothing: every database keeps its previous snapshot. It is recorded
    // as learn.failed before it is reported; a failure to record it is
    // reported instead.
    Status audited = RecordAudit(g, **opened, "learn.failed", {connection, url.database, ""}, &learned.error());
    return fail(audited.ok() ? learned.error() : audited.error());
  }
  const Outcome outcome = Split(*learned, progress);
  if (Status audited = AuditLearn(g, **opened, connection, outcome); !audited.ok()) return fail(audited.error());
  progress.Clear();
  spdlog::debug("learn: audited at {:.1f} ms", MsSince(start));
  if (g.format == "json") {
    PrintJson(connection, outcome);
  } else {
    PrintText(connection, outcome);
  }
  return outcome.failures.empty() ? kExitOk : kExitError;
}

}  // namespace sqlx::cli
