#include "lease.h"

#include "sqlx/messages/clock.h"

namespace sqlx::orchestrator {

LeaseDecision DecideLease(const std::optional<Lease>& current, std::string_view job_id, std::string_view worker,
                          uint64_t presented, int64_t now_ns, int64_t ttl_ns, std::string_view job_state) {
  LeaseDecision d;
  if (current) d.lease = *current;
  if (!job_state.empty()) {
    d.reason = "job " + std::string(job_id) + " is already " + std::string(job_state);
    return d;
  }
  if (presented == 0) {
    if (current && current->expires_ns > now_ns && current->holder != worker) {
      d.reason = "job " + std::string(job_id) + " is leased to " + current->holder + " (token " +
                 std::to_string(current->token) + ") until " + Rfc3339(current->expires_ns, 3);
      return d;
    }
    d.granted = true;
    d.lease = Lease{std::string(job_id), std::string(worker), (current ? current->token : 0) + 1, now_ns + ttl_ns};
    return d;
  }
  if (!current || current->token != presented || current->holder != worker) {
    d.reason = "lease of job " + std::string(job_id) + " lost: token " + std::to_string(presented) +
               (current ? " superseded by token " + std::to_string(current->token) + " of " + current->holder
                        : " unknown");
    return d;
  }
  // The newest token renews even past its expiry: nobody took over.
  d.granted = true;
  d.lease.expires_ns = now_ns + ttl_ns;
  return d;
}

}  // namespace sqlx::orchestrator
