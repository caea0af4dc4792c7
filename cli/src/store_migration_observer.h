// planner::MigrationObserver over the store (checkpoints, synced) and the
// audit log (one event per phase); what to show and when to stop come from
// the caller's hooks (the CLI: a progress line, SIGINT/SIGTERM as a pause).
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

class StoreMigrationObserver final : public planner::MigrationObserver {
 public:
  // `audit` may be null (no events recorded). Neither is owned.
  StoreMigrationObserver(storage::Store& store, storage::AuditLog* audit, MigrationHooks hooks);

  Status Checkpoint(const planner::MigrationState& state) override;
  void Event(const planner::MigrationState& state, std::string_view event, const Error* error,
             const std::string& details_json) override;
  void Progress(const planner::MigrationState& state, double rows_per_second, std::string_view throttled) override;
  bool StopRequested() override;

  // Events that could not be recorded ("" when none).
  const std::string& audit_failure() const { return audit_failure_; }

 private:
  storage::Store& store_;
  storage::AuditLog* audit_;
  MigrationHooks hooks_;
  std::string audit_failure_;
};

}  // namespace sqlx
