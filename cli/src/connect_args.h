// Resolves the connection a command targets: the positional URL or
// $SQLX_URL, the password from the URL or $SQLX_PASSWORD, --db.
#pragma once

#include <string>

#include "sqlx/messages/result.h"
#include "sqlx/transports/url.h"

namespace sqlx::cli {

struct ConnectArgs {
  std::string url;      // positional; empty: $SQLX_URL
  std::string db;       // --db
};

// Errors are kInvalidArgument (exit code 2 material: the user must fix the
// command line).
Result<transports::ConnectionUrl> ResolveConnection(const ConnectArgs& args);

// Overwrites the password of every URL-looking argument in place so that it
// no longer shows in /proc/PID/cmdline or ps. Returns true when one was found.
bool BlankUrlPasswords(int argc, char** argv);

}  // namespace sqlx::cli
