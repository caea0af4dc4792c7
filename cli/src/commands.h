// The sqlx commands. Each returns the process exit code:
// 0 ok, 1 error, 2 usage, 3 drift found or verification failed.
#pragma once

#include <cstdint>
#include <string>

#include "connect_args.h"
#include "sqlx/messages/result.h"

namespace sqlx::cli {

enum ExitCode : int { kExitOk = 0, kExitError = 1, kExitUsage = 2, kExitDrift = 3 };

struct GlobalOptions {
  std::string format = "text";  // text | json (query also: tsv)
  std::string pack_dir;         // --pack-dir
  std::string store_dir;        // --store; empty: $SQLX_HOME, else ~/.sqlx
  uint64_t max_packet = uint64_t{1} << 30;
  int connect_timeout_s = 10;
};

// Prints `error` (stderr; and as one JSON document on stdout with --format
// json) and returns the exit code it maps to.
int ReportError(const GlobalOptions& g, const Error& error);

int RunPing(const GlobalOptions& g, const ConnectArgs& c);
int RunQuery(const GlobalOptions& g, const ConnectArgs& c, const std::string& sql);
// `connection` ("user@host:port") reads the store only; a URL learns when the
// store has nothing (or `refresh`).
int RunCapabilities(const GlobalOptions& g, const ConnectArgs& c, const std::string& connection,
                    bool refresh);

}  // namespace sqlx::cli
