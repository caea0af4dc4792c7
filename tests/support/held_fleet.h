// A cluster whose connection leads through a HoldingProxy, so that a test
// can keep a worker "mid-job" (announced, waiting for the server's greeting)
// for as long as it needs, with no race (docs in holding_proxy.h).
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "fleet_databases.h"
#include "holding_proxy.h"
#include "sqlx_cluster.h"
#include "test_env.h"

namespace sqlx::testing {

// Waits until `job` is running on `worker` (any: "") and the worker waits
// at the proxy.
inline bool WaitMidJob(SqlxCluster& cluster, HoldingProxy& proxy, const std::string& job, const std::string& worker) {
  return PollUntil(
      [&] {
        const nlohmann::json j = cluster.Job(job);
        return j.is_object() && j["state"] == "running" && (worker.empty() || j["worker"] == worker) &&
               proxy.held() == 1;
      },
      std::chrono::seconds(30));
}

// A cluster (orchestrator started by Start()) whose connection "held"
// leads through a HoldingProxy to `databases` databases of the shared
// MariaDB.
struct HeldFleet {
  HeldFleet(const std::string& tag, int databases, int job_ack_wait_s, int job_max_deliver = 5)
      : dbs(SharedMariaDbPort(), FleetName(tag), databases, 2, password),
        proxy(SharedMariaDbPort()),
        cluster(tag, NatsUrl(), job_ack_wait_s, job_max_deliver) {}
  bool Start() {
    if (proxy.port() == 0 || !cluster.StartOrchestrator()) return false;
    cluster.AddConnection("held", dbs.Url(proxy.port()), password);
    return true;
  }

  const std::string password = NewPassword();
  FleetDatabases dbs;
  HoldingProxy proxy;
  SqlxCluster cluster;  // stopped first, before the proxy and the databases go
};

}  // namespace sqlx::testing
