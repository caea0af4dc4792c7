// The worker process's engine (`sqlx worker`, docs/cluster.md): pulls jobs
// from the JetStream work queue, runs each through the actors (System), and
// publishes what comes of it (a "started" progress, heartbeats, audit events,
// the result) to the events stream, where the orchestrator persists it. A
// job is acked only after its result's publish was acknowledged by the
// server, so a worker killed mid-job leaves the job to be redelivered.
// Holds no durable state. No NATS or CAF type appears here.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "sqlx/actors/system.h"
#include "sqlx/messages/result.h"
#include "sqlx/messages/secrets.h"

namespace sqlx::actors {

struct BusWorkerOptions {
  std::string nats_url;              // "nats://127.0.0.1:4222"
  std::string subject_prefix = "sqlx";  // the cluster's streams and subjects (bus::JobsStream)
  // Shown in job status and audit events. Default: "<hostname>:<pid>".
  std::string name;
  // Jobs run at once (one pull consumer and one thread each). Default 1.
  size_t concurrency = 1;
  // How often a running job is reported in progress (an in-progress ack and
  // a heartbeat event); must be well under the consumer's AckWait, which the
  // orchestrator sets. Default 5 s.
  std::chrono::milliseconds heartbeat_every{5000};
  // How long one pull waits for a job before asking again. Default 1 s.
  std::chrono::milliseconds fetch_wait{1000};
  SystemOptions system;  // its store must stay null: workers keep nothing
};

struct BusWorkerStats {
  uint64_t jobs_run = 0;       // results published and jobs acked
  uint64_t jobs_failed = 0;    // of those, results that are errors
  uint64_t rejected = 0;       // messages that were not jobs (terminated, reported)
};

class BusWorker {
 public:
  // Connects, binds to the workers' durable consumer (the orchestrator
  // creates the streams and consumers: a worker started first waits for
  // them) and starts pulling. `key` opens the passwords sealed in jobs; it
  // is moved in and wiped with the worker.
  static Result<std::unique_ptr<BusWorker>> Start(BusWorkerOptions options, secrets::SecretKey key);
  ~BusWorker();  // Drain()s
  BusWorker(const BusWorker&) = delete;
  BusWorker& operator=(const BusWorker&) = delete;

  // Stops pulling, lets running jobs finish and publish, then closes the
  // connection. Safe to call from any thread, more than once.
  void Drain();
  // Blocks until Drain() has finished.
  void Wait();

  BusWorkerStats stats() const;
  const std::string& name() const;

  class Impl;

 private:
  explicit BusWorker(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sqlx::actors
