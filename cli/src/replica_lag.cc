#include "replica_lag.h"

#include "connection_learning.h"

namespace sqlx::cli {

Result<std::shared_ptr<ReplicaLagProbe>> ReplicaLagProbe::Open(const GlobalOptions& g,
                                                               const std::vector<std::string>& urls) {
  std::shared_ptr<ReplicaLagProbe> probe(new ReplicaLagProbe(g));
  for (const std::string& raw : urls) {
    auto url = ResolveConnection({raw, ""});
    if (!url.ok()) return url.error();
    url->database.clear();
    Replica replica{*url, nullptr, ""};
    auto lag = probe->Lag(replica);
    if (!lag.ok()) {
      Error e = lag.error();
      e.message = "replica " + url->ConnectionName() + ": " + e.message;
      return e;
    }
    probe->replicas_.push_back(std::move(replica));
  }
  return probe;
}

Result<std::optional<double>> ReplicaLagProbe::Lag(Replica& replica) {
  if (replica.session == nullptr || !replica.session->usable()) {
    SQLX_ASSIGN_OR_RETURN(replica.session, OpenSession(g_, replica.url));
  }
  return planner::ReadReplicaLag(*replica.session, replica.statement);
}

Result<planner::ReplicaLag> ReplicaLagProbe::Worst() {
  planner::ReplicaLag worst{0.0, ""};
  for (Replica& replica : replicas_) {
    auto lag = Lag(replica);
    if (!lag.ok()) {
      Error e = lag.error();
      e.message = "replica " + replica.url.ConnectionName() + ": " + e.message;
      return e;
    }
    if (!*lag) return planner::ReplicaLag{std::nullopt, replica.url.ConnectionName()};
    if (worst.replica.empty() || **lag > *worst.seconds) worst = {*lag, replica.url.ConnectionName()};
  }
  return worst;
}

}  // namespace sqlx::cli
