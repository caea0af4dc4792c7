// Appending the events of one-shot commands to the store's audit log.
#include "audit_trail.h"

#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace sqlx::cli {

std::string AuditKeyFile(const GlobalOptions& g) {
  if (!g.audit_key.empty()) return g.audit_key;
  const char* env = std::getenv("SQLX_AUDIT_KEY");
  return env != nullptr ? env : "";
}

Result<std::unique_ptr<storage::AuditLog>> OpenAuditLog(const GlobalOptions& g, storage::Store& store) {
  storage::AuditLogOptions options;
  options.signing_key_file = AuditKeyFile(g);
  return storage::AuditLog::Open(store, options);
}

Status RecordAudit(storage::AuditLog& log, const std::string& action, const storage::AuditObject& object,
                   const Error* error, const std::string& details_json) {
  storage::AuditEvent event = storage::NewAuditEvent(action);
  event.object = object;
  event.details_json = details_json;
  if (error != nullptr) {
    event.outcome = storage::AuditOutcome::kFailed;
    event.error = error->ToString();
  }
  SQLX_ASSIGN_OR_RETURN(auto appended, log.Append({std::move(event)}));
  (void)appended;
  return Status::Ok();
}

Status RecordAuditEvents(const GlobalOptions& g, storage::Store& store, std::vector<storage::AuditEvent> events) {
  SQLX_ASSIGN_OR_RETURN(std::unique_ptr<storage::AuditLog> log, OpenAuditLog(g, store));
  SQLX_ASSIGN_OR_RETURN(auto appended, log->Append(std::move(events)));
  (void)appended;
  return Status::Ok();
}

Status RecordAudit(const GlobalOptions& g, storage::Store& store, const std::string& action,
                   const storage::AuditObject& object, const Error* error, const std::string& details_json) {
  SQLX_ASSIGN_OR_RETURN(std::unique_ptr<storage::AuditLog> log, OpenAuditLog(g, store));
  return RecordAudit(*log, action, object, error, details_json);
}

std::optional<std::string> ConfiguredStoreDir(const GlobalOptions& g) {
  if (!g.store_dir.empty()) return g.store_dir;
  if (const char* home = std::getenv("SQLX_HOME"); home != nullptr && *home != '\0') return std::string(home);
  const std::string dir = storage::Store::DefaultDir();
  std::error_code ec;
  if (std::filesystem::is_directory(dir, ec)) return dir;
  return std::nullopt;
}

Status RecordInConfiguredStore(const GlobalOptions& g, const std::string& action, const storage::AuditObject& object,
                               const Error* error, const std::string& details_json) {
  const std::optional<std::string> dir = ConfiguredStoreDir(g);
  if (!dir) return Status::Ok();
  storage::StoreOptions options;
  options.dir = *dir;
  SQLX_ASSIGN_OR_RETURN(std::unique_ptr<storage::Store> store, storage::Store::Open(options));
  return RecordAudit(g, *store, action, object, error, details_json);
}

}  // namespace sqlx::cli
