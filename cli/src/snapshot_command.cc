// `sqlx snapshot`: one database learned live, written as its canonical IR
// JSON with the profile hash beside it (docs/cli.md). The store is not
// touched. --format sql renders the same IR as a DDL script instead. The
// learning goes through the actors (a learn job that stores nothing).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>
#include <iostream>

#include <nlohmann/json.hpp>

#include "audit_trail.h"
#include "commands.h"
#include "connection_learning.h"
#include "files.h"
#include "sqlx/actors/system.h"
#include "sqlx/planner/render_sql.h"
#include "sqlx/messages/ir.h"

namespace sqlx::cli {

namespace {

// The canonical IR JSON with "profile_hash" added as a top-level key, in
// its sorted place: the IR's bytes are kept exactly (re-serializing would
// turn its per-byte \u00xx escapes of non-UTF-8 bytes into characters).
std::string SnapshotJson(const std::string& ir, const std::string& profile_hash) {
  static constexpr std::string_view kKey = "profile_hash";
  const std::string member = "\"" + std::string(kKey) + "\":\"" + profile_hash + "\"";
  // Scan the top-level keys; insert before the first that sorts after kKey.
  int depth = 0;
  bool in_string = false;
  size_t string_start = 0;
  for (size_t i = 0; i < ir.size(); ++i) {
    const char c = ir[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
        const bool is_key = depth == 1 && i + 1 < ir.size() && ir[i + 1] == ':';
        if (is_key && std::string_view(ir).substr(string_start + 1, i - string_start - 1) > kKey)
          return ir.substr(0, string_start) + member + "," + ir.substr(string_start) + "\n";
      }
    } else if (c == '"') {
      in_string = true;
      string_start = i;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    }
  }
  // No later key: append before the closing brace.
  const size_t close = ir.rfind('}');
  return ir.substr(0, close) + (ir.size() > 2 ? "," : "") + member + "}\n";
}

}  // namespace

int RunSnapshot(const GlobalOptions& g, const ConnectArgs& c, const std::string& output) {
  transports::ConnectionUrl url;
  std::string database;
  // Every outcome is recorded (when a store is configured) before it is
  // reported; a failure to record it is the command's error.
  auto audit = [&](const Error* error, const std::string& details) {
    return RecordInConfiguredStore(g, "snapshot.taken", {url.ConnectionName(), database, ""}, error, details);
  };
  auto fail = [&](const Error& error) {
    Status audited = audit(&error, "{}");
    return ReportError(g, audited.ok() ? error : audited.error());
  };
  auto resolved = ResolveConnection(c);
  if (!resolved.ok()) return fail(resolved.error());
  url = *resolved;
  if (url.database.empty()) {
    return fail(MakeError(ErrorCode::kInvalidArgument, "name the database to snapshot: the URL's path or --db NAME"));
  }
  database = url.database;
  url.database.clear();  // an unknown database is reported by the learn, not the connect
  actors::LearnRequest request;
  request.databases = {database};
  request.store = false;
  Result<actors::LearnedDatabases> learned = MakeError(ErrorCode::kInternal, "not learned");
  {
    actors::System system(SystemOptionsFor(g));
    learned = system.Learn(url, request);
  }
  if (!learned.ok()) return fail(learned.error());
  const actors::LearnedDatabase& db = learned->databases.front();
  if (db.error) return fail(*db.error);
  for (const std::string& line : db.not_visible) std::cerr << "sqlx: warning: not learned: " << line << "\n";

  std::string text;
  const std::string format = g.format == "sql" ? "sql" : "json";
  if (format == "sql") {
    planner::ScriptOptions options;
    options.header = "SQLx OS snapshot of database " + database + " (rendered from its IR)\nprofile_hash " +
                     db.profile_hash + "\nLoad into an empty database: mariadb NEWDB < this-file";
    text = planner::RenderScript(db.schema, options);
  } else {
    text = SnapshotJson(ir::ToCanonicalJson(db.schema, false), db.profile_hash);
  }
  if (!output.empty() && output != "-") {
    Status st = WriteFileAtomically(output, text);
    if (!st.ok()) return fail(st.error());
  }
  const nlohmann::json details = {{"profile_hash", db.profile_hash}, {"format", format}};
  if (Status audited = audit(nullptr, details.dump()); !audited.ok()) return ReportError(g, audited.error());
  if (output.empty() || output == "-") {
    std::cout << text << std::flush;
    if (!std::cout) {
      std::cerr << "sqlx: error: cannot write the snapshot to stdout\n";
      return kExitError;
    }
    return kExitOk;
  }
  if (g.format == "json") {
    nlohmann::json done = {{"ok", true}, {"database", database}, {"file", output}, {"profile_hash", db.profile_hash}};
    std::cout << done.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  } else {
    std::cout << "snapshot of " << database << " written to " << output << " (profile hash " << db.profile_hash
              << ")\n";
  }
  return kExitOk;
}

}  // namespace sqlx::cli
