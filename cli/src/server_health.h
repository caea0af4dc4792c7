// What a worker measures of a server while it applies a plan there: the most
// Threads_running and the worst replica lag it saw (actors::ServerHealth),
// which a rollout's health gate checks (docs/rollouts.md, "Health gates").
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "sqlx/actors/plan_runner.h"
#include "sqlx/messages/result.h"
#include "sqlx/transports/session.h"
#include "sqlx/transports/url.h"

namespace sqlx::cli {

// Opens a session to a replica (the worker's connect options).
using ReplicaOpener =
    std::function<Result<std::unique_ptr<transports::Session>>(const transports::ConnectionUrl& url)>;

// The maxima of one run. Not thread-safe: the run's thread calls it, on the
// run's session, only between statements (nothing else open on it).
class ServerHealthSampler {
 public:
  // `primary`: the URL the run connects to; its user, password and TLS
  // options reach the replicas too, at the address each reports.
  ServerHealthSampler(transports::ConnectionUrl primary, ReplicaOpener open);

  // The replicas the server behind `session` lists (SHOW REPLICA HOSTS),
  // each reached with a session of its own; then a first Sample. None
  // listed: no replica lag (health().replicas 0). One that cannot be
  // listed, reached or read leaves the lag unknown (replica_lag_error says
  // why, and what to do).
  void Start(transports::Session& session);
  // Threads_running on `session` and every replica's lag, into the maxima.
  // What cannot be read is kept in the health, never an error of the run.
  void Sample(transports::Session& session);

  const actors::ServerHealth& health() const { return health_; }

 private:
  struct Replica {
    transports::ConnectionUrl url;
    std::unique_ptr<transports::Session> session;
    std::string statement;  // the status statement the replica accepted ("" until found)
  };
  void Unknown(const std::string& why);

  transports::ConnectionUrl primary_;
  ReplicaOpener open_;
  std::vector<Replica> replicas_;
  actors::ServerHealth health_;
};

}  // namespace sqlx::cli
