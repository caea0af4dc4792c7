// A .sql desired state run in a scratch database on the dev server, learned,
// and dropped whatever happens (scratch_database.h).
#include "scratch_database.h"

#include <pthread.h>
#include <unistd.h>

#include <cctype>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <thread>

#include "connect_args.h"
#include "connection_learning.h"
#include "files.h"
#include "sqlx/flo/learn_database.h"
#include "sqlx/planner/sql_split.h"

namespace sqlx::cli {

namespace {

std::string ScratchName() {
  std::random_device rd;
  std::uniform_int_distribution<uint32_t> dist;
  char hex[9];
  std::snprintf(hex, sizeof(hex), "%08x", dist(rd));
  return kScratchPrefix + std::to_string(::getpid()) + "_" + hex;
}

bool IsPlainName(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (std::isalnum(static_cast<unsigned char>(c)) == 0 && c != '_') return false;
  return true;
}

std::string DropStatement(const std::string& database) { return "DROP DATABASE IF EXISTS `" + database + "`"; }

Status Run(transports::Session& session, const std::string& sql) {
  auto done = session.Execute(sql);
  if (!done.ok()) return done.error();
  return {};
}

// The first cell of the first row of `sql`'s result ("" when none).
Result<std::string> QueryCell(transports::Session& session, const std::string& sql) {
  SQLX_ASSIGN_OR_RETURN(auto stream, session.Query(sql));
  SQLX_ASSIGN_OR_RETURN(bool more, stream->NextResult());
  std::string cell;
  if (!more || !stream->has_rows()) return cell;
  SQLX_ASSIGN_OR_RETURN(const transports::RowBatch* batch, stream->NextBatch());
  if (batch != nullptr && batch->rows() > 0 && batch->columns() > 0) cell = std::string(batch->value(0, 0));
  return cell;
}

// While alive, SIGINT and SIGTERM go to a thread of its own, which kills
// the working connection, drops the scratch database over a new session and
// ends the process with 128 + the signal. REQUIRES: constructed and
// destroyed on the same thread.
class DropOnSignal {
 public:
  DropOnSignal(const GlobalOptions& g, transports::ConnectionUrl url, std::string database, uint64_t connection_id) {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGUSR1);  // our own "stop"
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
    thread_ = std::thread([this, g, url = std::move(url), database = std::move(database), connection_id] {
      int sig = 0;
      if (sigwait(&set_, &sig) != 0 || sig == SIGUSR1) return;
      std::cerr << "sqlx: interrupted: dropping the scratch database " << database << "\n";
      if (auto session = OpenSession(g, url); session.ok()) {
        // Errors ignored on purpose: the process ends either way.
        (void)(*session)->Execute("KILL CONNECTION " + std::to_string(connection_id));
        (void)(*session)->Execute(DropStatement(database));
      }
      std::_Exit(128 + sig);
    });
  }
  ~DropOnSignal() {
    pthread_kill(thread_.native_handle(), SIGUSR1);
    thread_.join();
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  DropOnSignal(const DropOnSignal&) = delete;
  DropOnSignal& operator=(const DropOnSignal&) = delete;

 private:
  sigset_t set_{};
  sigset_t old_{};
  std::thread thread_;
};

// Runs the statements in `database` (the session's current database).
Status RunStatements(transports::Session& session, const std::string& path,
                     const std::vector<planner::ScriptStatement>& statements) {
  SQLX_RETURN_IF_ERROR(Run(session, "SET SESSION FOREIGN_KEY_CHECKS = 0"));
  for (const planner::ScriptStatement& statement : statements) {
    auto done = session.Execute(statement.text);
    if (!done.ok()) {
      Error e = done.error();
      e.message = path + ":" + std::to_string(statement.line) + ": " + e.message;
      return e;
    }
  }
  return {};
}

// Creates the scratch database, runs the script in it and learns it over a
// fresh session (the script may have changed its session's sql_mode and
// other variables). The caller drops the database.
Result<ir::Database> RunAndLearn(const GlobalOptions& g, const transports::ConnectionUrl& url,
                                 transports::Session& session, const SqlDesiredState& state,
                                 const std::string& database, const std::vector<planner::ScriptStatement>& statements) {
  std::string create = "CREATE DATABASE `" + database + "`";
  if (!state.charset.empty()) create += " CHARACTER SET " + state.charset;
  if (!state.collation.empty()) create += " COLLATE " + state.collation;
  SQLX_RETURN_IF_ERROR(Run(session, create));
  SQLX_RETURN_IF_ERROR(session.InitDb(database));
  SQLX_RETURN_IF_ERROR(RunStatements(session, state.path, statements));
  SQLX_ASSIGN_OR_RETURN(auto learning, OpenSession(g, url, /*learning=*/true));
  SQLX_ASSIGN_OR_RETURN(std::vector<flo::LearnedDatabase> learned, flo::LearnDatabases(*learning, {database}));
  if (learned.front().error) return *learned.front().error;
  for (const std::string& line : learned.front().not_visible)
    std::cerr << "sqlx: warning: " << state.path << ": not learned: " << line << "\n";
  ir::Database schema = std::move(learned.front().schema);
  schema.name = std::filesystem::path(state.path).stem().string();
  return schema;
}

}  // namespace

Result<ir::Database> LearnSqlDesiredState(const GlobalOptions& g, const SqlDesiredState& state) {
  for (const std::string* name : {&state.charset, &state.collation}) {
    if (!name->empty() && !IsPlainName(*name))
      return MakeError(ErrorCode::kInvalidArgument, "unexpected character set or collation name: " + *name);
  }
  SQLX_ASSIGN_OR_RETURN(std::string script, ReadTextFile(state.path, size_t{256} << 20));
  ConnectArgs args;
  args.url = state.dev_url;
  SQLX_ASSIGN_OR_RETURN(transports::ConnectionUrl url, ResolveConnection(args));
  url.database.clear();
  SQLX_ASSIGN_OR_RETURN(auto session, OpenSession(g, url, /*learning=*/true));

  // The client splits by the server's quoting rules.
  SQLX_ASSIGN_OR_RETURN(std::string sql_mode, QueryCell(*session, "SELECT @@SESSION.sql_mode"));
  planner::SqlSplitOptions split;
  split.no_backslash_escapes = sql_mode.find("NO_BACKSLASH_ESCAPES") != std::string::npos;
  split.ansi_quotes = sql_mode.find("ANSI_QUOTES") != std::string::npos;
  auto statements = planner::SplitSqlScript(script, split);
  if (!statements.ok()) {
    Error e = statements.error();
    e.message = state.path + ": " + e.message;
    return e;
  }
  for (const planner::ScriptStatement& s : *statements) {
    if (s.client_command.empty()) continue;
    return MakeError(ErrorCode::kUnsupported, state.path + ":" + std::to_string(s.line) + ": `" + s.text +
                                                  "` is a mariadb client command (" + s.client_command +
                                                  "), which sqlx does not run: a desired state runs in a scratch "
                                                  "database of its own; remove the line");
  }

  const std::string database = ScratchName();
  Result<ir::Database> schema = MakeError(ErrorCode::kInternal, "not run");
  {
    DropOnSignal guard(g, url, database, session->server().greeting.connection_id);
    schema = RunAndLearn(g, url, *session, state, database, *statements);
    Status dropped = session->usable() ? Run(*session, DropStatement(database))
                                       : MakeError(ErrorCode::kClosed, "the session ended");
    if (!dropped.ok()) {
      // The working session is gone (or refused): drop over a new one.
      auto again = OpenSession(g, url);
      dropped = again.ok() ? Run(**again, DropStatement(database)) : Status(again.error());
    }
    if (!dropped.ok()) {
      std::cerr << "sqlx: warning: could not drop the scratch database " << database << " on " << url.Redacted()
                << ": " << dropped.error().ToString() << "; drop it by hand\n";
    }
  }
  return schema;
}

}  // namespace sqlx::cli
