// Replica lag for online copies (`--replica URL --max-replica-lag SECONDS`):
// the CLI holds one session per replica and gives the engine a function
// that reads their worst lag (planner::OnlineOptions::replica_lag) with
// planner::ReadReplicaLag.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "commands.h"
#include "sqlx/messages/result.h"
#include "sqlx/planner/online.h"
#include "sqlx/transports/session.h"

namespace sqlx::cli {

// The replicas' sessions. Not thread-safe: the engine calls Worst from its
// one thread.
class ReplicaLagProbe {
 public:
  // Resolves every URL (password from the URL or $SQLX_PASSWORD, as for the
  // primary), connects and reads its lag once. An unreachable replica, a
  // server that is not a replica, or an account that may not read its status
  // (REPLICATION CLIENT / SLAVE MONITOR) is an error: callers open the probe
  // before any change.
  static Result<std::shared_ptr<ReplicaLagProbe>> Open(const GlobalOptions& g, const std::vector<std::string>& urls);

  // The worst lag now: a replica that does not replicate (nullopt) first,
  // else the largest Seconds_Behind_Master. A session lost since the last
  // call is opened again; one that cannot be is the error.
  Result<planner::ReplicaLag> Worst();

 private:
  struct Replica {
    transports::ConnectionUrl url;
    std::unique_ptr<transports::Session> session;
    std::string statement;  // the status statement the server accepted ("" until found)
  };

  explicit ReplicaLagProbe(GlobalOptions g) : g_(std::move(g)) {}
  Result<std::optional<double>> Lag(Replica& replica);

  GlobalOptions g_;
  std::vector<Replica> replicas_;
};

}  // namespace sqlx::cli
