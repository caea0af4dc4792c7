#include "store_migration_observer.h"

#include <nlohmann/json.hpp>

namespace sqlx {

MigrationCheckpointFn StoreCheckpoints(storage::Store& store) {
  return [&store](const planner::MigrationState& state) {
    return store.PutMigration({state.id, planner::MigrationToJson(state)});
  };
}

StoreMigrationObserver::StoreMigrationObserver(MigrationCheckpointFn checkpoint, storage::AuditSink* audit,
                                               MigrationHooks hooks)
    : checkpoint_(std::move(checkpoint)), audit_(audit), hooks_(std::move(hooks)) {}

Status StoreMigrationObserver::Checkpoint(const planner::MigrationState& state) { return checkpoint_(state); }

void StoreMigrationObserver::Event(const planner::MigrationState& state, std::string_view event, const Error* error,
                                   const std::string& details_json) {
  if (audit_ != nullptr) {
    nlohmann::json details = nlohmann::json::parse(details_json, nullptr, false);
    if (!details.is_object()) details = nlohmann::json::object();
    details["migration"] = state.id;
    details["phase"] = state.phase;
    storage::AuditEvent e = storage::NewAuditEvent(std::string(event));
    e.object = {state.connection, state.database, state.table};
    e.details_json = details.dump();
    if (error != nullptr) {
      e.outcome = storage::AuditOutcome::kFailed;
      e.error = error->ToString();
    }
    auto appended = audit_->Append({std::move(e)});
    if (!appended.ok()) audit_failure_ = std::string(event) + ": " + appended.error().ToString();
  }
  if (hooks_.on_event) hooks_.on_event(state, event, error);
}

void StoreMigrationObserver::Progress(const planner::MigrationState& state, double rows_per_second,
                                      std::string_view throttled) {
  if (hooks_.on_progress) hooks_.on_progress(state, rows_per_second, throttled);
}

bool StoreMigrationObserver::StopRequested() { return hooks_.stop_requested && hooks_.stop_requested(); }

}  // namespace sqlx
