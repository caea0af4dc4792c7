// The C++ driver: the spec's createDriver (docs/driver.md). One connection to
// one server, and what SQLx OS does with it — ping, learn the server and its
// databases, snapshot, render, diff, apply — without the CLI.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sqlx/apply.h"
#include "sqlx/flo/learn_database.h"
#include "sqlx/flo/learn_server.h"
#include "sqlx/messages/ir.h"
#include "sqlx/messages/result.h"
#include "sqlx/planner/plan.h"
#include "sqlx/planner/render_sql.h"
#include "sqlx/planner/strategy.h"
#include "sqlx/transports/session.h"
#include "sqlx/transports/tls.h"
#include "sqlx/transports/url.h"

namespace sqlx {

struct DriverOptions {
  // Wire pack search: this dir, then $SQLX_PACK_DIR, the install dir, the
  // source tree (learn packs are searched as flo says). Default: empty.
  std::string pack_dir;
  std::chrono::milliseconds connect_timeout{10000};  // default 10 s
  uint64_t max_packet = uint64_t{1} << 30;           // default 1 GiB
  // Salts Capabilities().fingerprint (a store passes its own). Default: empty.
  std::string fingerprint_salt;
  // Proposes multi-statement queries at the greeting (flo::LearnSessionGreeting),
  // so that learning's catalog statements share round trips. false for a
  // driver that runs statements a person wrote (`sqlx query`): a string
  // holding several statements is then refused by the server instead of
  // run. Default: true.
  bool multi_statements = true;
};

struct PingReport {
  std::string server_version;  // as the greeting sent it ("5.5.5-10.11.6-MariaDB-0+deb12u1")
  std::string flavor;          // "MariaDB" or "MySQL"
  std::string version;         // server_version without MariaDB's "5.5.5-" prefix
  uint64_t connection_id = 0;
  std::string auth_plugin;     // the plugin that authenticated the session
  transports::TlsInfo tls;     // tls.active false: plain TCP
  std::chrono::microseconds connect_time{0};  // connect, TLS and authentication
  std::chrono::duration<double, std::milli> rtt{0};  // this ping's round trip
};

// "5.5.5-10.11.6-MariaDB-0+deb12u1" → flavor "MariaDB", version
// "10.11.6-MariaDB-0+deb12u1" (PingReport's fields).
void SplitServerVersion(const std::string& raw, std::string* flavor, std::string* version);

// One open session to one server. Every call runs on that session, so a
// Driver is used by one thread at a time; different drivers are independent.
// Errors say what happened and what to do; a password never appears in them.
class Driver {
 public:
  virtual ~Driver() = default;

  // The URL connected to. It holds the password: show ConnectionName() or
  // Redacted(), never the URL itself.
  virtual const transports::ConnectionUrl& url() const = 0;

  virtual Result<PingReport> Ping() = 0;

  // What the server is and can do (flo::LearnServer): the capability matrix
  // (ToCapabilityJson()) and its fingerprint salted with
  // DriverOptions::fingerprint_salt. Learned on the first call, then cached.
  virtual Result<flo::LearnedServer> Capabilities() = 0;

  // The databases this user sees, sorted; the system schemas only with
  // `include_system`.
  virtual Result<std::vector<std::string>> ListDatabases(bool include_system) = 0;

  // Learns `names` in one batch (flo::LearnDatabases): one entry per name, in
  // order, each with its canonical IR, JSON and profile hash; a name the
  // server does not show is an entry with `error` set. Nothing is stored.
  virtual Result<std::vector<flo::LearnedDatabase>> Learn(const std::vector<std::string>& names) = 0;

  // One database learned live (kNotFound when the server does not show it).
  // `schema` is the ir::Database, `profile_hash` its hash; a non-empty
  // `not_visible` means the snapshot is partial.
  virtual Result<flo::LearnedDatabase> Snapshot(const std::string& database) = 0;

  // `db` as a DDL script for the `mariadb` client (planner::RenderScript).
  virtual std::string RenderSql(const ir::Database& db, const planner::ScriptOptions& options = {}) const = 0;

  // Sends `sql` and returns its results as a stream the caller reads at its
  // own pace (transports::QueryStream): rows arrive in batches, so memory
  // stays bounded by a batch whatever the row count. One stream at a time;
  // it must be destroyed before this driver is closed or destroyed, and no
  // other call may be made while it is open.
  virtual Result<std::unique_ptr<transports::QueryStream>> Query(const std::string& sql) = 0;

  // The strategy-choice view of Capabilities(), its basis naming this
  // connection.
  virtual Result<planner::ServerCapabilities> PlannerCapabilities() = 0;

  // The plan from `from` to `to` (planner::Diff) with each operation's
  // strategy chosen for this driver's server (planner::ChooseStrategies).
  virtual Result<planner::Plan> Diff(const ir::Database& from, const ir::Database& to,
                                     const planner::DiffOptions& options = {}) = 0;

  // Runs `plan` on the live database (sqlx/apply.h; docs/driver.md): learns
  // it and stops on drift, refuses operations without the consent
  // `options` gives, runs every pre-check before any change, then each
  // operation with its audit event, and re-learns to check the plan's
  // to_hash; on a failed operation it stops and returns the reverse plan of
  // the applied ones. Outcomes are the report's `result`; an Error only when
  // the run could not be carried out (a learn or pre-check query failed, the
  // connection broke: the report of the operations run so far is then lost,
  // the audit log has them). Leaves the session's default database at the
  // one applied to.
  virtual Result<ApplyReport> Apply(const planner::Plan& plan, const ApplyOptions& options = {}) = 0;

  // Ends the session (sends quit when it is healthy). Every later call but
  // url() and RenderSql fails with kClosed. Idempotent; the destructor closes too.
  virtual void Close() = 0;
};

// Connects to `url` as the CLI takes it (scheme://user[:password]@host[:port][/db][?ssl-mode=...]):
// the password from the URL, else $SQLX_PASSWORD. The session is opened here,
// before this returns (a database in the URL must exist), proposing what
// learning asks for at the greeting (flo::LearnSessionGreeting) so that
// catalog statements share round trips (unless options.multi_statements is
// false). Errors: kInvalidArgument for a URL
// that does not parse, else the connect's (kConnectionRefused, kTls, kAuth, ...).
Result<std::unique_ptr<Driver>> CreateDriver(const std::string& url, const DriverOptions& options = {});

// The same for a parsed URL, taken as it is (no $SQLX_PASSWORD).
Result<std::unique_ptr<Driver>> CreateDriver(const transports::ConnectionUrl& url,
                                             const DriverOptions& options = {});

}  // namespace sqlx
