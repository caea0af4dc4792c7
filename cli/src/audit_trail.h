// Recording what a command did in the store's audit log (docs/formats/audit.md):
// one call per command, after its outcome is known and before it is reported.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "sqlx/messages/result.h"
#include "sqlx/storage/audit_log.h"
#include "sqlx/storage/store.h"

namespace sqlx::cli {

// --audit-key, else $SQLX_AUDIT_KEY, else "" (events chained, not signed).
std::string AuditKeyFile(const GlobalOptions& g);

// The audit log of `store` with the signing key of AuditKeyFile(g).
Result<std::unique_ptr<storage::AuditLog>> OpenAuditLog(const GlobalOptions& g, storage::Store& store);

// Appends one event for `action` (stamped with this process and now): ok
// when `error` is null, else failed with its message. `details_json` is a
// JSON object; secrets in it are redacted before hashing. Synced on return.
Status RecordAudit(storage::AuditLog& log, const std::string& action, const storage::AuditObject& object,
                   const Error* error, const std::string& details_json = "{}");
// Appends `events` (from storage::NewAuditEvent) as one durable group.
Status RecordAuditEvents(const GlobalOptions& g, storage::Store& store, std::vector<storage::AuditEvent> events);
// The same through OpenAuditLog(g, store).
Status RecordAudit(const GlobalOptions& g, storage::Store& store, const std::string& action,
                   const storage::AuditObject& object, const Error* error, const std::string& details_json = "{}");

// The store that commands which need none for their work (ping, snapshot,
// plan:diff) record their event into: --store; else $SQLX_HOME when set;
// else ~/.sqlx when it already exists. nullopt: no store is configured and
// the event is not recorded (such a command never creates ~/.sqlx).
std::optional<std::string> ConfiguredStoreDir(const GlobalOptions& g);

// Records one event into ConfiguredStoreDir(g), when there is one: opens the
// store (waiting for it as long as any command does), appends durably and
// closes it, so the store is held for milliseconds. Errors: the store could
// not be opened or the append failed; the caller reports them instead of
// its result.
Status RecordInConfiguredStore(const GlobalOptions& g, const std::string& action, const storage::AuditObject& object,
                               const Error* error, const std::string& details_json = "{}");

}  // namespace sqlx::cli
