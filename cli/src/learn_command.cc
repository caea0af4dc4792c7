// `sqlx learn`: the server's capabilities and the schemas of its databases,
// learned over one session (the databases in one batch of catalog queries)
// and stored as snapshots with history; per database: object counts,
// profile hash, new / changed / unchanged, time.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <future>
#include <optional>
#include <iostream>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "audit_trail.h"
#include "commands.h"
#include "connection_learning.h"
#include "progress_line.h"
#include "sqlx/messages/ir.h"
#include "sqlx/flo/learn_database.h"
#include "sqlx/flo/learn_server.h"

namespace sqlx::cli {

namespace {

using storage::PutSchemaOutcome;

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

// One learned database and what storing it did.
struct Stored {
  const flo::LearnedDatabase* learned;
  PutSchemaOutcome outcome;
};

struct Failure {
  std::string database;
  Error error;
};

double Ms(std::chrono::microseconds us) { return static_cast<double>(us.count()) / 1000.0; }

nlohmann::json CountsJson(const flo::ObjectCounts& c) {
  return {{"tables", c.tables}, {"views", c.views}, {"routines", c.routines}, {"triggers", c.triggers},
          {"events", c.events}};
}

void PrintJson(const std::string& connection, const std::vector<Stored>& stored, const std::vector<Failure>& failures) {
  nlohmann::json databases = nlohmann::json::array();
  for (const Stored& s : stored) {
    databases.push_back({{"name", s.learned->name},
                         {"profile_hash", s.learned->profile_hash},
                         {"change", ChangeName(s.outcome.change)},
                         {"version", s.outcome.version},
                         {"status", s.learned->not_visible.empty() ? "learned" : "partial"},
                         {"counts", CountsJson(s.learned->counts)},
                         {"not_visible", s.learned->not_visible},
                         {"catalog_statements", s.learned->catalog_statements},
                         {"ms", Ms(s.learned->elapsed)}});
  }
  nlohmann::json errors = nlohmann::json::array();
  for (const Failure& f : failures) {
    errors.push_back({{"database", f.database},
                      {"code", std::string(ErrorCodeName(f.error.code))},
                      {"message", f.error.message}});
  }
  nlohmann::json doc = {
      {"ok", failures.empty()}, {"connection", connection}, {"databases", databases}, {"errors", errors}};
  std::cout << doc.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
}

void PrintText(const std::string& connection, const std::vector<Stored>& stored, const std::vector<Failure>& failures) {
  std::printf("connection %s: server capabilities stored (sqlx capabilities --connection %s)\n", connection.c_str(),
              connection.c_str());
  int width = 24;
  for (const Stored& s : stored) width = std::max(width, static_cast<int>(s.learned->name.size()));
  if (!stored.empty()) {
    std::printf("\n%-*s %6s %5s %8s %8s %6s  %-12s  %-22s %9s\n", width, "DATABASE", "TABLES", "VIEWS", "ROUTINES",
                "TRIGGERS", "EVENTS", "PROFILE HASH", "CHANGE", "TIME");
  }
  for (const Stored& s : stored) {
    const flo::ObjectCounts& c = s.learned->counts;
    std::string change = std::string(ChangeName(s.outcome.change)) + " (v" + std::to_string(s.outcome.version) + ")";
    if (!s.learned->not_visible.empty()) change += ", partial";
    std::printf("%-*s %6u %5u %8u %8u %6u  %-12s  %-22s %6.1f ms\n", width, s.learned->name.c_str(), c.tables, c.views,
                c.routines, c.triggers, c.events, s.learned->profile_hash.substr(0, 12).c_str(), change.c_str(),
                Ms(s.learned->elapsed));
  }
  for (const Stored& s : stored) {
    if (s.learned->not_visible.empty()) continue;
    std::printf("\n%s: not learned (the snapshot is partial):\n", s.learned->name.c_str());
    for (const std::string& line : s.learned->not_visible) std::printf("  %s\n", line.c_str());
  }
  if (!stored.empty()) {
    std::printf("\n%zu database%s learned in one batch of %d catalog statements, %.1f ms\n", stored.size(),
                stored.size() == 1 ? "" : "s", stored.front().learned->catalog_statements,
                Ms(stored.front().learned->elapsed));
  }
  if (!failures.empty()) {
    std::printf("%zu database%s could not be learned (errors on stderr)\n", failures.size(),
                failures.size() == 1 ? "" : "s");
  }
}

// Milliseconds since `since`, for the -vv phase timings.
double MsSince(std::chrono::steady_clock::time_point since) {
  return Ms(std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - since));
}

// "catalog query 3/14 (columns)", "building 12/50 shop": the queries are
// shared by every database, the building is per database.
std::string ProgressText(const flo::LearnProgress& p) {
  const std::string of = std::to_string(p.step) + "/" + std::to_string(p.total);
  if (p.phase == flo::LearnProgress::Phase::kCatalog) return "catalog query " + of + " (" + std::string(p.what) + ")";
  return "building " + of + " " + std::string(p.what);
}

// LearnDatabases with its steps on the progress line and, with -vv, in the log.
Result<std::vector<flo::LearnedDatabase>> LearnShowingProgress(transports::Session& session,
                                                               transports::Session* helper,
                                                               const std::vector<std::string>& names,
                                                               ProgressLine& progress,
                                                               std::chrono::steady_clock::time_point start) {
  flo::LearnDatabaseOptions options;
  options.helper_session = helper;
  const std::string learning =
      "learning " + std::to_string(names.size()) + " database" + (names.size() == 1 ? "" : "s") + ": ";
  options.on_progress = [&](const flo::LearnProgress& p) {
    progress.Show(learning + ProgressText(p));
    spdlog::debug("learn: {} at {:.1f} ms", ProgressText(p), MsSince(start));
  };
  auto learned = flo::LearnDatabases(session, names, options);
  spdlog::debug("learn: databases learned at {:.1f} ms", MsSince(start));
  return learned;
}

// Stores every database learned without error in one atomic, synced write;
// the others, and all of them when the write fails, become failures (their
// errors on stderr).
void StoreSchemas(const std::string& connection, std::vector<flo::LearnedDatabase>& learned, storage::Store& store,
                  ProgressLine& progress, std::vector<Stored>* stored, std::vector<Failure>* failures) {
  std::vector<storage::SchemaRecord> records;
  std::vector<const flo::LearnedDatabase*> learned_ok;
  for (flo::LearnedDatabase& db : learned) {
    if (db.error) {
      progress.Clear();
      std::cerr << "sqlx: error: " << db.error->ToString() << "\n";
      failures->push_back({db.name, *db.error});
      continue;
    }
    storage::SchemaRecord schema;
    schema.connection = connection;
    schema.database = db.name;
    schema.profile_hash = db.profile_hash;
    schema.profile_json = std::move(db.json);
    schema.status = db.not_visible.empty() ? "learned" : "partial";
    schema.learned_at_ns = UnixNowNs();
    records.push_back(std::move(schema));
    learned_ok.push_back(&db);
  }
  if (records.empty()) return;
  progress.Show("storing " + std::to_string(records.size()) + " schema" + (records.size() == 1 ? "" : "s"));
  auto outcomes = store.PutSchemas(records);
  progress.Clear();
  if (!outcomes.ok()) {
    std::cerr << "sqlx: error: storing the learned schemas: " << outcomes.error().ToString() << "\n";
    for (const flo::LearnedDatabase* db : learned_ok) failures->push_back({db->name, outcomes.error()});
    return;
  }
  for (size_t i = 0; i < learned_ok.size(); ++i) stored->push_back({learned_ok[i], (*outcomes)[i]});
}

// One audit event per database of this learn (learn.database), in one
// durable group, before the result is printed.
Status AuditLearn(const GlobalOptions& g, storage::Store& store, const std::string& connection,
                  const std::vector<Stored>& stored, const std::vector<Failure>& failures) {
  std::vector<storage::AuditEvent> events;
  for (const Stored& s : stored) {
    storage::AuditEvent& e = events.emplace_back(storage::NewAuditEvent("learn.database"));
    e.object = {connection, s.learned->name, ""};
    e.details_json = nlohmann::json{{"profile_hash", s.learned->profile_hash},
                                    {"change", ChangeName(s.outcome.change)},
                                    {"version", s.outcome.version},
                                    {"partial", !s.learned->not_visible.empty()}}
                         .dump();
  }
  for (const Failure& f : failures) {
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
  // writes) on a helper thread while the server is learned; it is first
  // needed to store what was learned.
  std::future<Result<std::unique_ptr<storage::Store>>> store_opening =
      std::async(std::launch::async, [&g] { return OpenStore(g); });
  std::optional<Result<std::unique_ptr<storage::Store>>> opened;
  auto open_store = [&]() -> Result<std::unique_ptr<storage::Store>>& {
    if (!opened) opened = store_opening.get();
    return *opened;
  };
  // The session names no database: an unknown one is then reported by the
  // learn, beside the others, instead of failing the connect.
  transports::ConnectionUrl session_url = url;
  session_url.database.clear();
  const std::string connection = url.ConnectionName();
  // A learn that fails as a whole (connect, authentication, probing, the
  // listing, a lost connection) is recorded as learn.failed before it is
  // reported; a failure to record it is reported instead.
  auto fail_learn = [&](const Error& error) {
    Result<std::unique_ptr<storage::Store>>& store = open_store();
    if (!store.ok()) return fail(store.error());
    Status audited = RecordAudit(g, **store, "learn.failed", {connection, url.database, ""}, &error);
    return fail(audited.ok() ? error : audited.error());
  };
  progress.Show("connecting to " + connection);
  auto session = OpenSession(g, session_url, /*learning=*/true);
  if (!session.ok()) return fail_learn(session.error());
  spdlog::debug("learn: connected in {:.1f} ms", MsSince(start));

  // A second session, opened while the server is probed, runs part of the
  // catalog queries beside the first (docs/cli.md). Without it (it could not
  // be opened) the learn is the same, on one session.
  std::future<Result<std::unique_ptr<transports::Session>>> helper_opening =
      std::async(std::launch::async, [&g, &session_url] { return OpenSession(g, session_url, /*learning=*/true); });
  progress.Show("probing the server " + connection);
  flo::LearnServerOptions server_options;
  server_options.fingerprint = false;  // added with the store's salt once it is open
  auto server = flo::LearnServer(**session, url, server_options);
  if (!server.ok()) return fail_learn(server.error());
  spdlog::debug("learn: server probed at {:.1f} ms", MsSince(start));

  std::vector<std::string> names = *named;
  if (names.empty()) {
    progress.Show("listing the databases of " + connection);
    auto all = flo::ListDatabases(**session, args.include_system);
    if (!all.ok()) return fail_learn(all.error());
    names = std::move(all).value();
  }
  auto helper = helper_opening.get();
  if (!helper.ok()) spdlog::debug("learn: on one session: a second one failed: {}", helper.error().ToString());
  auto learned = LearnShowingProgress(**session, helper.ok() ? helper->get() : nullptr, names, progress, start);

  progress.Show("storing the server's capabilities");
  Result<std::unique_ptr<storage::Store>>& store = open_store();
  if (!store.ok()) return fail(store.error());
  spdlog::debug("learn: store open at {:.1f} ms", MsSince(start));
  // The capabilities are stored even when the databases' learn failed.
  auto salt = (*store)->FingerprintSalt();
  if (!salt.ok()) return fail(salt.error());
  auto fingerprint = flo::ServerFingerprint(**session, url, *salt);
  if (!fingerprint.ok()) return fail(fingerprint.error());
  server->fingerprint = *fingerprint;
  auto record = StoreConnection(url, *server, **store);
  if (!record.ok()) return fail(record.error());
  spdlog::debug("learn: capabilities stored at {:.1f} ms", MsSince(start));
  // Nothing is stored when the learn failed as a whole (e.g. the connection
  // was lost): every database keeps its previous snapshot.
  if (!learned.ok()) return fail_learn(learned.error());

  std::vector<Stored> stored;
  std::vector<Failure> failures;
  StoreSchemas(connection, *learned, **store, progress, &stored, &failures);
  if (Status audited = AuditLearn(g, **store, connection, stored, failures); !audited.ok()) return fail(audited.error());
  progress.Clear();
  spdlog::debug("learn: stored at {:.1f} ms", MsSince(start));
  if (g.format == "json") {
    PrintJson(connection, stored, failures);
  } else {
    PrintText(connection, stored, failures);
  }
  return failures.empty() ? kExitOk : kExitError;
}

}  // namespace sqlx::cli
