// What every `sqlx audit` subcommand that reads the store shares: opening
// the store with its audit log, the trust anchors for verification, times
// given on the command line, and recording the subcommand itself in the log
// once its outcome is known.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "sqlx/messages/clock.h"
#include "sqlx/messages/result.h"
#include "sqlx/storage/audit_log.h"
#include "sqlx/storage/store.h"

namespace sqlx::cli {

// The store and its audit log, opened together (the log borrows the store,
// so `log` is declared, and destroyed, after it).
struct OpenedLog {
  std::unique_ptr<storage::Store> store;
  std::unique_ptr<storage::AuditLog> log;
};
Result<OpenedLog> OpenAuditStore(const GlobalOptions& g);

// RFC 3339 ("2024-05-01T12:00:00Z", "...T12:00:00.5+02:00", "2024-05-01")
// or relative to `now_ns` ("-15m", "-7d"; units s m h d w).
// kInvalidArgument naming the text otherwise.
Result<int64_t> ParseTime(const std::string& text, int64_t now_ns);

// kInvalidArgument naming the file when it is not a checkpoint.
Result<storage::Checkpoint> ReadCheckpoint(const std::string& path);

// Verification's trust anchor: --pubkey, else the first --checkpoint's key,
// else the public half of the signing key (a file outside the store).
Result<storage::AuditVerifyOptions> TrustAnchors(const GlobalOptions& g, const AuditArgs& args);

// Records `action` durably, then reports the command's result with
// `report` (which returns the exit code); a failure to record is the error
// of a command that succeeded, and a warning beside one that failed.
int FinishAudited(const GlobalOptions& g, storage::AuditLog& log, const std::string& action, const Error* error,
                  const nlohmann::json& details, const std::function<int()>& report);
// FinishAudited for a command that failed with `error`.
int FailAudited(const GlobalOptions& g, storage::AuditLog& log, const std::string& action, const Error& error,
                const nlohmann::json& details);

}  // namespace sqlx::cli
