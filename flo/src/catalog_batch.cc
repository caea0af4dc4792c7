// The catalog steps of one learn, over one or two sessions; see
// catalog_batch.h.
#include "catalog_batch.h"

#include <condition_variable>
#include <deque>
#include <iterator>
#include <mutex>
#include <optional>

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

constexpr CatalogStep kCatalogSteps[] = {
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
    {"routine_sources", &CatalogBuilder::AddRoutineSources, "routine parameter lists as declared", true},
    {"triggers", &CatalogBuilder::AddTriggers, "triggers", false},
    {"events", &CatalogBuilder::AddEvents, "events", false},
    // Last: whether it runs depends on every table being read (and the rows
    // of the steps before it are all handed to the builder first).
    {"partitions", &CatalogBuilder::AddPartitions, "partitions", false},
};
constexpr size_t kStepCount = std::size(kCatalogSteps);
static_assert(kStepCount == CatalogBatch::kSteps, "CatalogBatch::kSteps counts kCatalogSteps");

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

}  // namespace

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

CatalogBatch::CatalogBatch(CatalogReader& reader, CatalogReader* helper, CatalogBuilder& builder,
                           SqlQuoting quoting, std::string schemas, std::function<void(std::string_view)> report)
    : reader_(reader),
      helper_(helper),
      builder_(builder),
      quoting_(quoting),
      schemas_(std::move(schemas)),
      report_(std::move(report)),
      board_(std::make_unique<StepBoard>()),
      building_(std::make_unique<BuilderThread>()) {}

CatalogBatch::~CatalogBatch() {
  stop_ = true;
  if (helper_thread_.joinable()) helper_thread_.join();
}

bool CatalogBatch::OnHelper(size_t k) const {
  // A step narrowed by only_with_create_option needs the builder: it stays on the main session.
  return helper_ != nullptr && kCatalogSteps[k].helper && reader_.Query(kCatalogSteps[k].query).only_with_create_option.empty();
}

void CatalogBatch::RunHelper() {
  for (size_t k = 0; k < kStepCount; ++k) {
    if (!OnHelper(k)) continue;
    StepResult result;
    if (stop_) result.error = MakeError(ErrorCode::kInternal, "the learn ended before this query ran");
    else result = RunStep(*helper_, kCatalogSteps[k], schemas_);
    board_->Put(k, std::move(result));
  }
}

Status CatalogBatch::HandOver(size_t until, bool wait) {
  for (; handed_ < until; ++handed_) {
    if (!wait && !board_->Ready(handed_)) break;
    StepResult r = board_->Take(handed_);
    const CatalogStep& step = kCatalogSteps[handed_];
    report_(step.query);
    if (r.error) return *r.error;
    if (!r.ran) continue;
    CatalogBuilder& builder = builder_;
    if (r.outcome == CatalogOutcome::kRan) {
      building_->Push([&builder, add = step.add, rows = std::move(r.rows)] { return (builder.*add)(rows); });
    } else {
      building_->Push([&builder, text = std::string(step.what) + ": " + r.reason] {
        builder.NotVisibleEverywhere(text);
        return Status::Ok();
      });
    }
  }
  return Status::Ok();
}

Status CatalogBatch::RunMain() {
  for (size_t k = 0; k < kStepCount; ++k) {
    if (OnHelper(k)) continue;
    std::string step_schemas = schemas_;
    const std::string& only_with = reader_.Query(kCatalogSteps[k].query).only_with_create_option;
    if (!only_with.empty()) {
      // E.g. partitions: only where a table is partitioned (each run opens every table).
      SQLX_RETURN_IF_ERROR(HandOver(k, /*wait=*/true));
      SQLX_RETURN_IF_ERROR(building_->Drain());
      const std::vector<std::string> needed = builder_.WithCreateOption(only_with);
      if (needed.empty()) {
        board_->Put(k, StepResult{});
        continue;
      }
      step_schemas = QuoteSqlList(needed, quoting_);
    }
    StepResult result = RunStep(reader_, kCatalogSteps[k], step_schemas);
    if (result.error) return *result.error;
    board_->Put(k, std::move(result));
    SQLX_RETURN_IF_ERROR(HandOver(kStepCount, /*wait=*/false));
  }
  SQLX_RETURN_IF_ERROR(HandOver(kStepCount, /*wait=*/true));
  return building_->Drain();
}

Status CatalogBatch::Run() {
  if (helper_ != nullptr) helper_thread_ = std::thread([this] { RunHelper(); });
  Status status = RunMain();
  if (!status.ok()) stop_ = true;
  return status;
}

}  // namespace sqlx::flo
