// ListDatabases and LearnDatabases: the learn pack's catalog queries run
// once each for every requested database together (split over two sessions
// when a helper session is given); their rows reach the builder, on a
// thread of its own, in the order it needs (tables before their columns,
// routines before their parameters); then the user's privileges decide what
// may be missing.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <iterator>
#include <mutex>
#include <optional>
#include <thread>

#include "catalog.h"
#include "sqlx/flo/learn_database.h"

namespace sqlx::flo {

namespace {

// One catalog query and the builder step that reads its rows; `what` names
// the objects in not_visible when the query is denied or unsupported.
// `helper`: run on the helper session when there is one. The split balances
// the server's time per query (MariaDB 10.11, 2000 tables: tables 67 ms,
// columns 56, foreign_key_columns 57, views 16, triggers 13 on the main
// session; statistics 86, foreign_keys 53, checks 50 on the helper).
struct CatalogStep {
  const char* query;
  Status (CatalogBuilder::*add)(const CatalogRows&);
  const char* what;
  bool helper;
};

constexpr CatalogStep kSteps[] = {
    {"schemata", &CatalogBuilder::AddSchemata, "databases", false},
    {"tables", &CatalogBuilder::AddTables, "tables", false},
    {"columns", &CatalogBuilder::AddColumns, "columns", false},
    {"statistics", &CatalogBuilder::AddIndexes, "indexes", true},
    {"foreign_key_columns", &CatalogBuilder::AddForeignKeyColumns, "foreign keys", false},
    {"foreign_keys", &CatalogBuilder::AddForeignKeyRules, "foreign key rules", true},
    {"checks", &CatalogBuilder::AddChecks, "CHECK constraints", true},
    {"views", &CatalogBuilder::AddViews, "views", false},
    {"routines", &CatalogBuilder::AddRoutines, "routines", false},
    {"parameters", &CatalogBuilder::AddParameters, "routine parameters", false},
    {"triggers", &CatalogBuilder::AddTriggers, "triggers", false},
    {"events", &CatalogBuilder::AddEvents, "events", false},
    // Last: whether it runs depends on every table being read (and the rows
    // of the steps before it are all handed to the builder first).
    {"partitions", &CatalogBuilder::AddPartitions, "partitions", false},
};
constexpr size_t kStepCount = std::size(kSteps);

// A catalog step's outcome as the session that ran it left it.
struct StepResult {
  bool ran = false;  // false: not needed (only_with_create_option matched no database)
  CatalogOutcome outcome = CatalogOutcome::kRan;
  CatalogRows rows;
  std::string reason;
  std::optional<Error> error;  // the statement failed in a way that ends the learn
};

StepResult RunStep(CatalogReader& reader, const CatalogStep& step, const std::string& schemas) {
  StepResult r;
  r.ran = true;
  Result<CatalogOutcome> outcome = reader.Run(step.query, schemas, &r.rows, &r.reason);
  if (outcome.ok()) r.outcome = *outcome;
  else r.error = outcome.error();
  return r;
}

// The steps' results as the two sessions fill them in, each slot once.
class StepBoard {
 public:
  void Put(size_t k, StepResult result) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      results_[k] = std::move(result);
      ready_[k] = true;
    }
    cv_.notify_all();
  }
  bool Ready(size_t k) {
    std::lock_guard<std::mutex> lock(mu_);
    return ready_[k];
  }
  // Waits for slot k and moves its result out.
  StepResult Take(size_t k) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return ready_[k]; });
    return std::move(results_[k]);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  StepResult results_[kStepCount];
  bool ready_[kStepCount] = {};
};

// Applies catalog rows to the builder on a helper thread, one task at a
// time in the order queued, while the session runs the next query: the
// server reads its catalog while the rows already read are built into IR.
// Once a task fails the later ones are dropped. REQUIRES: what the tasks
// touch outlives this object (the destructor waits for them).
class BuilderThread {
 public:
  BuilderThread() : thread_([this] { Loop(); }) {}
  ~BuilderThread() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  BuilderThread(const BuilderThread&) = delete;
  BuilderThread& operator=(const BuilderThread&) = delete;

  void Push(std::function<Status()> task) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_all();
  }

  // Waits until every queued task ran; the first failure, if any.
  Status Drain() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return tasks_.empty() && !busy_; });
    return status_;
  }

 private:
  void Loop() {
    std::unique_lock<std::mutex> lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !tasks_.empty(); });
      if (tasks_.empty()) return;  // stopped with nothing left to do
      std::function<Status()> task = std::move(tasks_.front());
      tasks_.pop_front();
      busy_ = true;
      const bool failed = !status_.ok();
      lock.unlock();
      Status status = failed ? Status::Ok() : task();
      lock.lock();
      if (status_.ok() && !status.ok()) status_ = std::move(status);
      busy_ = false;
      cv_.notify_all();
    }
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<Status()>> tasks_;
  bool busy_ = false;
  bool stop_ = false;
  Status status_;
  std::thread thread_;  // last: starts after the members it uses
};

struct Server {
  LearnPack pack;
  ServerVersion version;
};

Result<Server> ServerOf(const transports::Session& session, const LearnDatabaseOptions& options) {
  Server server;
  SQLX_ASSIGN_OR_RETURN(server.pack, LocateLearnPack(session.server().greeting.pack, options.learn_pack_dir));
  server.version = ParseServerVersion(server.pack.version, session.server().greeting.server_version);
  return server;
}

// How names are quoted: backslashes mean something only without
// NO_BACKSLASH_ESCAPES, so the session's sql_mode is read only when a name
// holds one.
Result<SqlQuoting> ChooseQuoting(CatalogReader& reader, const std::vector<std::string>& names) {
  const bool any_backslash = std::any_of(names.begin(), names.end(), [](const std::string& n) {
    return n.find('\\') != std::string::npos;
  });
  if (!any_backslash) return SqlQuoting::kBackslashEscapes;
  CatalogRows rows;
  std::string reason;
  SQLX_ASSIGN_OR_RETURN(CatalogOutcome outcome, reader.Run("sql_mode", "", &rows, &reason));
  int mode = rows.Find("SQL_MODE");
  if (outcome == CatalogOutcome::kRan && mode >= 0 && !rows.rows.empty() &&
      CellText(rows.rows[0], mode).find("NO_BACKSLASH_ESCAPES") != std::string::npos)
    return SqlQuoting::kNoBackslashEscapes;
  return SqlQuoting::kBackslashEscapes;
}

// Lists, per database, the objects the user's grants do not let it see.
Status CheckVisibility(const LearnPack& pack, CatalogReader& reader, const std::vector<std::string>& names,
                       CatalogBuilder* builder) {
  CatalogRows rows;
  std::string reason;
  SQLX_ASSIGN_OR_RETURN(CatalogOutcome outcome, reader.Run("privileges", "", &rows, &reason));
  if (outcome != CatalogOutcome::kRan) {
    for (const VisibilityRule& rule : pack.catalog.visibility)
      builder->NotVisibleEverywhere(rule.missing + " (the user's privileges could not be read: " + reason + ")");
    return Status::Ok();
  }
  int scope = -1, schema = -1, table = -1, privilege = -1;
  SQLX_ASSIGN_OR_RETURN(scope, RequireColumn(rows, "SCOPE", pack.file));
  SQLX_ASSIGN_OR_RETURN(schema, RequireColumn(rows, "TABLE_SCHEMA", pack.file));
  SQLX_ASSIGN_OR_RETURN(table, RequireColumn(rows, "TABLE_NAME", pack.file));
  SQLX_ASSIGN_OR_RETURN(privilege, RequireColumn(rows, "PRIVILEGE_TYPE", pack.file));
  std::vector<Grant> grants;
  for (const CatalogRow& row : rows.rows) {
    grants.push_back({CellText(row, scope), CellText(row, schema), CellText(row, table), CellText(row, privilege)});
  }
  for (const std::string& name : names) {
    if (!builder->Known(name)) continue;
    for (const VisibilityRule& rule : pack.catalog.visibility) {
      const bool held = std::any_of(rule.any_of.begin(), rule.any_of.end(),
                                    [&](const PrivilegeNeed& need) { return HoldsPrivilege(grants, need, name); });
      if (!held) builder->NotVisible(name, rule.missing);
    }
  }
  return Status::Ok();
}

}  // namespace

bool HoldsPrivilege(const std::vector<Grant>& grants, const PrivilegeNeed& need, const std::string& database) {
  std::string schema = database, table;
  if (!need.table.empty()) {
    const size_t dot = need.table.find('.');
    schema = need.table.substr(0, dot);
    table = need.table.substr(dot + 1);
  }
  return std::any_of(grants.begin(), grants.end(), [&](const Grant& g) {
    if (!EqualsIgnoreCase(g.privilege, need.privilege)) return false;
    if (g.scope == "global") return true;
    if (g.scope == "schema") return LikeMatch(g.schema, schema);
    return g.scope == "table" && !table.empty() && g.schema == schema && g.table == table;
  });
}

Result<std::vector<std::string>> ListDatabases(transports::Session& session, bool include_system,
                                               const LearnDatabaseOptions& options) {
  SQLX_ASSIGN_OR_RETURN(Server server, ServerOf(session, options));
  CatalogReader reader(server.pack, session, server.version.flavor, server.version.version_number);
  CatalogRows rows;
  std::string reason;
  SQLX_ASSIGN_OR_RETURN(CatalogOutcome outcome, reader.Run("databases", "", &rows, &reason));
  if (outcome != CatalogOutcome::kRan)
    return MakeError(ErrorCode::kServer, "cannot list the server's databases: " + reason);
  SQLX_ASSIGN_OR_RETURN(int name, RequireColumn(rows, "SCHEMA_NAME", server.pack.file));
  const std::vector<std::string>& system = server.pack.catalog.system_schemas;
  std::vector<std::string> names;
  for (const CatalogRow& row : rows.rows) {
    const std::string db = CellText(row, name);
    const bool is_system = std::any_of(system.begin(), system.end(),
                                       [&](const std::string& s) { return EqualsIgnoreCase(s, db); });
    if (!db.empty() && (include_system || !is_system)) names.push_back(db);
  }
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::vector<LearnedDatabase>> LearnDatabases(transports::Session& session,
                                                    const std::vector<std::string>& names,
                                                    const LearnDatabaseOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  if (names.empty()) return std::vector<LearnedDatabase>{};
  SQLX_ASSIGN_OR_RETURN(Server server, ServerOf(session, options));
  CatalogReader reader(server.pack, session, server.version.flavor, server.version.version_number);
  SQLX_ASSIGN_OR_RETURN(SqlQuoting quoting, ChooseQuoting(reader, names));
  const std::string schemas = QuoteSqlList(names, quoting);

  CatalogBuilder builder(server.pack, server.version.flavor, server.version.version_number, names);
  BuilderThread building;  // after `builder`: ends first
  StepBoard board;
  const int total = static_cast<int>(kStepCount) + 1;  // the steps, then the privileges
  int step_number = 0;
  auto report = [&](std::string_view query) {
    if (options.on_progress) options.on_progress({LearnProgress::Phase::kCatalog, ++step_number, total, query});
  };

  // The helper session runs its share of the steps on its own thread. Not
  // with a name holding a backslash: its quoting follows the main session's
  // sql_mode. A step narrowed by only_with_create_option needs the builder:
  // it stays on the main session.
  std::optional<CatalogReader> helper_reader;
  if (options.helper_session != nullptr && quoting == SqlQuoting::kBackslashEscapes &&
      schemas.find('\\') == std::string::npos) {
    helper_reader.emplace(server.pack, *options.helper_session, server.version.flavor, server.version.version_number);
  }
  auto on_helper = [&](size_t k) {
    return helper_reader && kSteps[k].helper && reader.Query(kSteps[k].query).only_with_create_option.empty();
  };
  std::atomic<bool> stop{false};
  struct Joiner {
    std::thread thread;
    ~Joiner() {
      if (thread.joinable()) thread.join();
    }
  } helper;  // last: joined before what it uses ends
  if (helper_reader) {
    helper.thread = std::thread([&] {
      for (size_t k = 0; k < kStepCount; ++k) {
        if (!on_helper(k)) continue;
        StepResult result;
        if (stop) result.error = MakeError(ErrorCode::kInternal, "the learn ended before this query ran");
        else result = RunStep(*helper_reader, kSteps[k], schemas);
        board.Put(k, std::move(result));
      }
    });
  }
  auto fail = [&](Error error) {
    stop = true;
    return error;
  };

  // Hands the steps' rows to the builder in step order, up to `until`:
  // waiting for each, or only as far as they are in.
  size_t handed = 0;
  auto hand_over = [&](size_t until, bool wait) -> Status {
    for (; handed < until; ++handed) {
      if (!wait && !board.Ready(handed)) break;
      StepResult r = board.Take(handed);
      const CatalogStep& step = kSteps[handed];
      report(step.query);
      if (r.error) return *r.error;
      if (!r.ran) continue;
      if (r.outcome == CatalogOutcome::kRan) {
        building.Push([&builder, add = step.add, rows = std::move(r.rows)] { return (builder.*add)(rows); });
      } else {
        building.Push([&builder, text = std::string(step.what) + ": " + r.reason] {
          builder.NotVisibleEverywhere(text);
          return Status::Ok();
        });
      }
    }
    return Status::Ok();
  };

  for (size_t k = 0; k < kStepCount; ++k) {
    if (on_helper(k)) continue;
    std::string step_schemas = schemas;
    const std::string& only_with = reader.Query(kSteps[k].query).only_with_create_option;
    if (!only_with.empty()) {
      // E.g. partitions: only where a table is partitioned (each run opens every table).
      Status before = hand_over(k, /*wait=*/true);
      if (before.ok()) before = building.Drain();
      if (!before.ok()) return fail(before.error());
      const std::vector<std::string> needed = builder.WithCreateOption(only_with);
      if (needed.empty()) {
        board.Put(k, StepResult{});
        continue;
      }
      step_schemas = QuoteSqlList(needed, quoting);
    }
    StepResult result = RunStep(reader, kSteps[k], step_schemas);
    if (result.error) return fail(*result.error);
    board.Put(k, std::move(result));
    Status handed_so_far = hand_over(kStepCount, /*wait=*/false);
    if (!handed_so_far.ok()) return fail(handed_so_far.error());
  }
  Status all = hand_over(kStepCount, /*wait=*/true);
  if (all.ok()) all = building.Drain();
  if (!all.ok()) return fail(all.error());
  report("privileges");
  SQLX_RETURN_IF_ERROR(CheckVisibility(server.pack, reader, names, &builder));

  std::vector<LearnedDatabase> learned = builder.Finish(options.on_progress);
  const auto elapsed =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
  for (LearnedDatabase& db : learned) {
    db.elapsed = elapsed;
    db.catalog_statements = reader.statements() + (helper_reader ? helper_reader->statements() : 0);
  }
  return learned;
}

}  // namespace sqlx::flo
