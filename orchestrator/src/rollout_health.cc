// A rollout's health gate: what workers measured against the strategy's
// limits (docs/rollouts.md, "Health gates").
#include <algorithm>

#include "rollout.h"
#include "sqlx/messages/clock.h"

namespace sqlx::orchestrator {

using nlohmann::json;

// Both measurements' worst: a cut-over job's added to its copy's.
TargetHealth WorstHealth(const TargetHealth& a, const TargetHealth& b) {
  TargetHealth w = a;
  w.max_threads_running = std::max(a.max_threads_running, b.max_threads_running);
  w.replicas = std::max(a.replicas, b.replicas);
  w.max_replica_lag_s = std::max(a.max_replica_lag_s, b.max_replica_lag_s);
  if (w.replica_lag_error.empty()) w.replica_lag_error = b.replica_lag_error;
  return w;
}

// Where a target's measured health is beyond the strategy's limits: one
// entry per limit, with what was measured and the limit.
json HealthProblems(const RolloutStrategy& s, const TargetHealth& h) {
  json out = json::array();
  if (s.max_threads_running > 0 && h.max_threads_running > s.max_threads_running)
    out.push_back(json{{"limit", "max_threads_running"},
                       {"measured", h.max_threads_running},
                       {"threshold", s.max_threads_running},
                       {"text", "Threads_running reached " + std::to_string(h.max_threads_running) +
                                    ", over the limit of " + std::to_string(s.max_threads_running)}});
  if (!s.max_replica_lag_s) return out;
  if (!h.replica_lag_error.empty()) {
    out.push_back(json{{"limit", "max_replica_lag"},
                       {"measured", nullptr},
                       {"threshold", *s.max_replica_lag_s},
                       {"text", "replica lag unknown (" + h.replica_lag_error + "), limit " +
                                    SecondsText(*s.max_replica_lag_s)}});
  } else if (h.replicas > 0 && h.max_replica_lag_s > *s.max_replica_lag_s) {
    out.push_back(json{{"limit", "max_replica_lag"},
                       {"measured", h.max_replica_lag_s},
                       {"threshold", *s.max_replica_lag_s},
                       {"text", "replica lag reached " + SecondsText(h.max_replica_lag_s) + ", over the limit of " +
                                    SecondsText(*s.max_replica_lag_s)}});
  }
  return out;
}

}  // namespace sqlx::orchestrator
