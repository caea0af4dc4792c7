// planner::MigrationObserver over where a run keeps its migrations'
// checkpoints (the store, synced; or the caller's function: a cluster
// worker's goes to the orchestrator) and the audit sink (one event per
// phase); what to show and when to stop come from the caller's hooks (the
// CLI: a progress line, SIGINT/SIGTERM as a pause).
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include "sqlx/planner/online.h"
#include "sqlx/storage/audit_log.h"
#include "sqlx/storage/store.h"

namespace sqlx {

struct MigrationHooks {
  std::function<void(const planner::MigrationState&, std::string_view event, const Error* error)> on_event;
  std::function<void(const planner::MigrationState&, double rows_per_second, std::string_view throttled)> on_progress;
  std::function<bool()> stop_requested;
};

// Stores a migration's record durably (MigrationObserver::Checkpoint).
using MigrationCheckpointFn = std::function<Status(const planner::MigrationState&)>;

// Checkpoints into `store`'s migrations column family (not owned; must
// outlive the function).
MigrationCheckpointFn StoreCheckpoints(storage::Store& store);

class StoreMigrationObserver final : public planner::MigrationObserver {
 public:
  // `audit` may be null (no events recorded); not owned.
  StoreMigrationObserver(MigrationCheckpointFn checkpoint, storage::AuditSink* audit, MigrationHooks hooks);
  StoreMigrationObserver(storage::Store& store, storage::AuditSink* audit, MigrationHooks hooks)
      : StoreMigrationObserver(StoreCheckpoints(store), audit, std::move(hooks)) {}

  Status Checkpoint(const planner::MigrationState& state) override;
  void Event(const planner::MigrationState& state, std::string_view event, const Error* error,
             const std::string& details_json) override;
  void Progress(const planner::MigrationState& state, double rows_per_second, std::string_view throttled) override;
  bool StopRequested() override;

  // Events that could not be recorded ("" when none).
  const std::string& audit_failure() const { return audit_failure_; }

 private:
  MigrationCheckpointFn checkpoint_;
  storage::AuditSink* audit_;
  MigrationHooks hooks_;
  std::string audit_failure_;
};

}  // namespace sqlx
