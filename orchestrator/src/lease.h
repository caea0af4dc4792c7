// Leases with fencing tokens for jobs that change a server (docs/cluster.md,
// "Leases"). A worker acquires the lease of its job before the first change
// and renews it with every heartbeat and before every operation; each
// acquisition takes the next token, so a worker that was frozen past its
// lease (SIGSTOP, a long GC-like stall, a partition) finds on its next check
// that a newer token exists and changes nothing more. The decision is pure;
// the orchestrator persists the lease before it answers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sqlx::orchestrator {

struct Lease {
  std::string job_id;
  std::string holder;   // the worker's name
  uint64_t token = 0;   // 1, 2, ...: one per acquisition
  int64_t expires_ns = 0;
};

struct LeaseDecision {
  bool granted = false;
  Lease lease;         // granted: the lease to persist; denied: the current one (if any)
  std::string reason;  // denied: why, for the worker's log and the audit event
};

// `presented` 0 acquires; any other token renews that token. `job_state`
// empty while the job runs, else its final state ("done", "failed", "dead").
LeaseDecision DecideLease(const std::optional<Lease>& current, std::string_view job_id, std::string_view worker,
                          uint64_t presented, int64_t now_ns, int64_t ttl_ns, std::string_view job_state);

}  // namespace sqlx::orchestrator
