#include "server_health.h"

#include <algorithm>
#include <cstdlib>
#include <optional>

#include "sqlx/planner/online.h"

namespace sqlx::cli {

namespace {

// SHOW GLOBAL STATUS LIKE 'Threads_running' (it counts the session asking).
Result<uint32_t> ThreadsRunning(transports::Session& session) {
  SQLX_ASSIGN_OR_RETURN(auto stream, session.Query("SHOW GLOBAL STATUS LIKE 'Threads_running'"));
  SQLX_ASSIGN_OR_RETURN(bool has, stream->NextResult());
  std::optional<uint32_t> running;
  while (has) {
    SQLX_ASSIGN_OR_RETURN(const transports::RowBatch* batch, stream->NextBatch());
    if (batch == nullptr) break;
    for (size_t r = 0; r < batch->rows() && batch->columns() > 1; ++r)
      running = static_cast<uint32_t>(std::strtoul(std::string(batch->cell(r, 1).value_or("0")).c_str(), nullptr, 10));
  }
  if (!running) return MakeError(ErrorCode::kUnsupported, "the server shows no Threads_running status");
  return *running;
}

}  // namespace

ServerHealthSampler::ServerHealthSampler(transports::ConnectionUrl primary, ReplicaOpener open)
    : primary_(std::move(primary)), open_(std::move(open)) {}

void ServerHealthSampler::Unknown(const std::string& why) {
  if (health_.replica_lag_error.empty()) health_.replica_lag_error = why;
}

void ServerHealthSampler::Start(transports::Session& session) {
  auto listed = planner::DiscoverReplicas(session);
  if (!listed.ok()) {
    Unknown("listing the replicas of " + primary_.Endpoint() + ": " + listed.error().message +
            " (grant the connection's account REPLICATION MASTER ADMIN on MariaDB, REPLICATION SLAVE on MySQL)");
  } else {
    for (const planner::ReplicaAddress& a : *listed) {
      if (a.host.empty() || a.port == 0) {
        Unknown("replica server_id " + std::to_string(a.server_id) + " of " + primary_.Endpoint() +
                " reports no address: set report_host and report_port on it");
        continue;
      }
      Replica r{primary_, nullptr, ""};
      r.url.host = a.host;
      r.url.port = a.port;
      r.url.database.clear();
      r.url.tls.server_name = a.host;
      replicas_.push_back(std::move(r));
    }
    health_.replicas = static_cast<uint32_t>(replicas_.size());
  }
  Sample(session);
}

void ServerHealthSampler::Sample(transports::Session& session) {
  // A sample that cannot be read is skipped on purpose: the run goes on,
  // and the maxima are those of the samples that were.
  if (auto running = ThreadsRunning(session); running.ok()) {
    health_.sampled = true;
    health_.max_threads_running = std::max(health_.max_threads_running, *running);
  }
  for (Replica& r : replicas_) {
    if (r.session == nullptr || !r.session->usable()) {
      auto opened = open_(r.url);
      if (!opened.ok()) {
        Unknown("replica " + r.url.Endpoint() + ": " + opened.error().message);
        continue;
      }
      r.session = std::move(opened).value();
    }
    auto lag = planner::ReadReplicaLag(*r.session, r.statement);
    if (!lag.ok()) {
      Unknown("replica " + r.url.Endpoint() + ": " + lag.error().message +
              " (its account needs REPLICATION CLIENT, or SLAVE MONITOR on MariaDB)");
    } else if (!*lag) {
      Unknown("replica " + r.url.Endpoint() + " is not replicating (Seconds_Behind_Master is NULL)");
    } else {
      health_.max_replica_lag_s = std::max(health_.max_replica_lag_s, **lag);
    }
  }
}

}  // namespace sqlx::cli
