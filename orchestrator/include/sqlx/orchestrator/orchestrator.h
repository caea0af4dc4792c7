// The orchestrator process (`sqlx orchestrator`, docs/cluster.md): the one
// owner of the store and of the audit chain. It keeps the fleet's
// connections (passwords sealed with the cluster key), turns an org-wide
// learn into jobs on the JetStream work queue (a server-learn job per
// connection, then a database-learn job per database), persists what the
// workers publish, runs cron schedules, and serves the HTTP API with API
// tokens and roles. No NATS, CAF or HTTP type appears here.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include "sqlx/messages/result.h"

namespace sqlx::orchestrator {

struct OrchestratorOptions {
  std::string nats_url;                 // "nats://127.0.0.1:4222"
  std::string subject_prefix = "sqlx";  // streams and subjects (bus::JobsStream)
  std::string store_dir;
  std::string listen = "127.0.0.1:8470";  // HOST:PORT of the HTTP API; port 0: any free port
  // PEM certificate (chain) and private key: the API is served over HTTPS.
  // Both or neither; neither: plain HTTP (keep `listen` on loopback).
  std::string tls_cert_file;
  std::string tls_key_file;
  std::string secret_key_file;          // the cluster key (secrets::LoadSecretKey), shared with workers
  std::string audit_key_file;           // Ed25519 key signing audit checkpoints; empty: unsigned
  // A file holding an admin API token: registered at start when present;
  // when absent, a new admin token is made and written there (mode 0600).
  // Empty: only the tokens already in the store are accepted.
  std::string admin_token_file;
  // Unacked time before the queue redelivers a job to another worker
  // (workers heartbeat well within it). Default 30 s.
  std::chrono::milliseconds job_ack_wait{30000};
  // Deliveries of one job before it is given up as dead. Default 5.
  int job_max_deliver = 5;
  // Audit retention: events older than this are pruned to their leaf hash
  // (docs/formats/audit.md, "Pruned leaves"), after the whole log verified
  // (against the public key of audit_key_file when set). 0: keep every
  // event. Default 0.
  std::chrono::seconds audit_retention{0};
  // How often the retention prunes run (the first time at start). Default 1 h.
  std::chrono::seconds audit_retention_every{3600};
  // Runs whose jobs all finished longer ago than this are deleted with
  // their jobs, plans and leases (the audit log keeps what they did), at the
  // same cadence. 0: keep them. Default 30 days.
  std::chrono::seconds job_retention{std::chrono::hours(24 * 30)};
};

class Orchestrator {
 public:
  // Opens the store (waiting for it like every command), loads the keys,
  // creates the streams and consumers, publishes again the jobs that were
  // queued or running when it last stopped, and starts serving.
  static Result<std::unique_ptr<Orchestrator>> Start(const OrchestratorOptions& options);
  ~Orchestrator();  // Stop()s
  Orchestrator(const Orchestrator&) = delete;
  Orchestrator& operator=(const Orchestrator&) = delete;

  // The HTTP API's port (the one bound when `listen` asked for 0).
  int port() const;
  // Stops serving and consuming, closes the store. Safe from any thread.
  void Stop();
  // Blocks until Stop() has finished.
  void Wait();

  class Impl;

 private:
  explicit Orchestrator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace sqlx::orchestrator
