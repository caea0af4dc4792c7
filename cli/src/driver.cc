// CreateDriver and the one Driver there is: a session plus the flo and
// planner calls the CLI makes on it.
#include "sqlx/driver.h"

#include <cstdlib>
#include <optional>
#include <utility>

#include "apply_plan.h"
#include "sqlx/transports/session.h"

namespace sqlx {

void SplitServerVersion(const std::string& raw, std::string* flavor, std::string* version) {
  *version = raw;
  // MariaDB prefixes "5.5.5-" for old replication clients.
  if (raw.rfind("5.5.5-", 0) == 0) *version = raw.substr(6);
  *flavor = raw.find("MariaDB") != std::string::npos ? "MariaDB" : "MySQL";
}

namespace {

class SessionDriver final : public Driver {
 public:
  SessionDriver(transports::ConnectionUrl url, DriverOptions options, std::unique_ptr<transports::Session> session)
      : url_(std::move(url)), options_(std::move(options)), session_(std::move(session)) {}
  ~SessionDriver() override { Close(); }

  const transports::ConnectionUrl& url() const override { return url_; }

  Result<PingReport> Ping() override {
    SQLX_RETURN_IF_ERROR(CheckOpen());
    const auto start = std::chrono::steady_clock::now();
    SQLX_RETURN_IF_ERROR(session_->Ping());
    PingReport report;
    report.rtt = std::chrono::steady_clock::now() - start;
    const transports::ServerInfo& info = session_->server();
    report.server_version = info.greeting.server_version;
    SplitServerVersion(report.server_version, &report.flavor, &report.version);
    report.connection_id = info.greeting.connection_id;
    report.auth_plugin = info.auth_plugin;
    report.tls = info.tls;
    report.connect_time = info.connect_time;
    return report;
  }

  Result<flo::LearnedServer> Capabilities() override {
    SQLX_RETURN_IF_ERROR(CheckOpen());
    if (!server_) {
      flo::LearnServerOptions options;
      options.fingerprint_salt = options_.fingerprint_salt;
      SQLX_ASSIGN_OR_RETURN(server_, flo::LearnServer(*session_, url_, options));
    }
    return *server_;
  }

  Result<std::vector<std::string>> ListDatabases(bool include_system) override {
    SQLX_RETURN_IF_ERROR(CheckOpen());
    return flo::ListDatabases(*session_, include_system);
  }

  Result<std::vector<flo::LearnedDatabase>> Learn(const std::vector<std::string>& names) override {
    SQLX_RETURN_IF_ERROR(CheckOpen());
    return flo::LearnDatabases(*session_, names);
  }

  Result<flo::LearnedDatabase> Snapshot(const std::string& database) override {
    SQLX_ASSIGN_OR_RETURN(std::vector<flo::LearnedDatabase> learned, Learn({database}));
    if (learned.front().error) return *learned.front().error;
    return std::move(learned.front());
  }

  std::string RenderSql(const ir::Database& db, const planner::ScriptOptions& options) const override {
    return planner::RenderScript(db, options);
  }

  Result<std::unique_ptr<transports::QueryStream>> Query(const std::string& sql) override {
    SQLX_RETURN_IF_ERROR(CheckOpen());
    return session_->Query(sql);
  }

  Result<planner::ServerCapabilities> PlannerCapabilities() override {
    SQLX_ASSIGN_OR_RETURN(flo::LearnedServer learned, Capabilities());
    SQLX_ASSIGN_OR_RETURN(planner::ServerCapabilities caps, planner::CapabilitiesFromJson(learned.ToCapabilityJson()));
    caps.basis += " (" + url_.ConnectionName() + ")";
    return caps;
  }

  Result<planner::Plan> Diff(const ir::Database& from, const ir::Database& to,
                             const planner::DiffOptions& options) override {
    SQLX_ASSIGN_OR_RETURN(planner::ServerCapabilities server, PlannerCapabilities());
    SQLX_ASSIGN_OR_RETURN(planner::Plan plan, planner::Diff(from, to, options));
    SQLX_RETURN_IF_ERROR(planner::ChooseStrategies(from, to, options, server, &plan));
    return plan;
  }

  Result<ApplyReport> Apply(const planner::Plan& plan, const ApplyOptions& options) override {
    SQLX_RETURN_IF_ERROR(CheckOpen());
    return ApplyPlan(*session_, url_, plan, options);
  }

  void Close() override {
    if (session_ == nullptr) return;
    session_->Close();
    session_.reset();
  }

 private:
  Status CheckOpen() const {
    if (session_ != nullptr) return Status::Ok();
    return MakeError(ErrorCode::kClosed,
                     "the driver for " + url_.ConnectionName() + " is closed: create a new one with CreateDriver");
  }

  transports::ConnectionUrl url_;
  DriverOptions options_;
  std::unique_ptr<transports::Session> session_;  // null once closed
  std::optional<flo::LearnedServer> server_;      // Capabilities(), once learned
};

}  // namespace

Result<std::unique_ptr<Driver>> CreateDriver(const std::string& url, const DriverOptions& options) {
  SQLX_ASSIGN_OR_RETURN(transports::ConnectionUrl parsed, transports::ParseConnectionUrl(url));
  if (!parsed.password_in_url) {
    if (const char* pw = std::getenv("SQLX_PASSWORD"); pw != nullptr) parsed.password = pw;
  }
  return CreateDriver(parsed, options);
}

Result<std::unique_ptr<Driver>> CreateDriver(const transports::ConnectionUrl& url, const DriverOptions& options) {
  transports::SessionOptions session_options;
  session_options.pack_dir = options.pack_dir;
  session_options.connect_timeout = options.connect_timeout;
  session_options.max_packet = options.max_packet;
  if (options.multi_statements) session_options.on_greeting = flo::LearnSessionGreeting();
  SQLX_ASSIGN_OR_RETURN(std::unique_ptr<transports::Session> session, transports::Session::Open(url, session_options));
  return std::unique_ptr<Driver>(std::make_unique<SessionDriver>(url, options, std::move(session)));
}

}  // namespace sqlx
