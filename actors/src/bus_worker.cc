// The worker: pull a job, say it started, run it through the actors while
// heartbeating, publish its audit event and result, then ack it. The order
// is what makes a kill -9 safe: until the ack the server redelivers the job,
// and the result's msg id ("result:<job>") plus the orchestrator's job
// record keep a second run from yielding a second result. A probe job (a
// queue health check) takes the same result-then-ack path and nothing else.
#include "sqlx/actors/bus_worker.h"

#include <flatbuffers/flatbuffers.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "job_buffer.h"
#include "sqlx/actors/wire.h"
#include "sqlx/messages/bus.h"
#include "sqlx/messages/clock.h"
#include "sqlx/messages/jobs.h"
#include "sqlx/storage/audit_event.h"
#include "sqlx/transports/url.h"

namespace sqlx::actors {
namespace fb = ::sqlx::fb::jobs;

namespace {

using Clock = std::chrono::steady_clock;

std::string DefaultName() {
  char host[256] = {};
  if (gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown");
  return std::string(host) + ":" + std::to_string(getpid());
}

std::string Subject(const std::string& prefix, std::string_view leaf) { return prefix + ".events." + std::string(leaf); }

std::span<const uint8_t> Span(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

// The lease of one job that changes a server (docs/cluster.md, "Leases"):
// acquired before the run, renewed with every heartbeat, before every
// operation and with every checkpoint of an online copy. Once lost it stays
// lost, and the run changes nothing more.
class LeaseClient {
 public:
  LeaseClient(bus::Bus& bus, const std::string& prefix, std::string worker, std::string job_id, uint64_t delivery,
              std::chrono::milliseconds wait)
      : bus_(bus), lease_subject_(prefix + ".lease"), checkpoint_subject_(prefix + ".checkpoint"),
        worker_(std::move(worker)), job_id_(std::move(job_id)), delivery_(delivery), wait_(wait) {}

  // Ok with the lease held; kCancelled saying who holds it otherwise.
  Status Acquire() {
    SQLX_ASSIGN_OR_RETURN(LeaseReplyInfo reply, Ask(0));
    std::lock_guard<std::mutex> lock(mu_);
    if (!reply.granted) return MakeError(ErrorCode::kCancelled, reply.reason);
    token_ = reply.token;
    expires_ns_ = reply.expires_ns;
    migrations_ = std::move(reply.migrations);
    return Status::Ok();
  }

  // Ok while the lease is this worker's.
  Status Renew() {
    return Hold([this](uint64_t token) { return Ask(token); });
  }

  // Stores an online migration's checkpoint (MigrationToJson) in the
  // orchestrator's store, which renews the lease too; a refusal means the
  // lease is another's (fenced), and the copy stops.
  Status Checkpoint(const std::string& migration_json) {
    return Hold([&](uint64_t token) {
      return Send(checkpoint_subject_, MigrationCheckpointFor({job_id_, worker_, token, migration_json}));
    });
  }

  std::string lost() const {
    std::lock_guard<std::mutex> lock(mu_);
    return lost_;
  }
  // The job's unfinished online migrations, as the acquisition returned them.
  const std::vector<std::string>& migrations() const { return migrations_; }

 private:
  // `ask(token)` until the orchestrator answers: a refusal loses the lease;
  // an orchestrator that does not answer is asked again until the lease
  // would have expired: after that another worker may hold it, and the
  // lease counts as lost.
  template <class Ask>
  Status Hold(Ask ask) {
    uint64_t token = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!lost_.empty()) return MakeError(ErrorCode::kCancelled, lost_);
      token = token_;
    }
    for (;;) {
      Result<LeaseReplyInfo> reply = ask(token);
      std::lock_guard<std::mutex> lock(mu_);
      if (!lost_.empty()) return MakeError(ErrorCode::kCancelled, lost_);
      if (reply.ok()) {
        if (!reply->granted) {
          lost_ = reply->reason;
          return MakeError(ErrorCode::kCancelled, lost_);
        }
        expires_ns_ = reply->expires_ns;
        return Status::Ok();
      }
      if (UnixNowNs() >= expires_ns_) {
        lost_ = "lease of job " + job_id_ + " (token " + std::to_string(token_) +
                ") expired while the orchestrator did not answer: " + reply.error().message;
        return MakeError(ErrorCode::kCancelled, lost_);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
  }

  Result<LeaseReplyInfo> Ask(uint64_t token) {
    return Send(lease_subject_, LeaseRequestFor(LeaseRequestInfo{job_id_, worker_, delivery_, token}));
  }

  Result<LeaseReplyInfo> Send(const std::string& subject, const std::string& request) {
    SQLX_ASSIGN_OR_RETURN(bus::Bytes raw, bus_.Request(subject, Span(request), wait_));
    std::string reply(raw.begin(), raw.end());  // aligned for the verifier
    SQLX_RETURN_IF_ERROR(jobs::Verify(jobs::Kind::kLeaseReply, reply));
    return ReadLeaseReply(reply);
  }

  bus::Bus& bus_;
  const std::string lease_subject_, checkpoint_subject_, worker_, job_id_;
  const uint64_t delivery_;
  const std::chrono::milliseconds wait_;
  mutable std::mutex mu_;
  uint64_t token_ = 0;
  int64_t expires_ns_ = 0;
  std::string lost_;  // non-empty: why the lease is gone
  std::vector<std::string> migrations_;  // set by Acquire, before the run
};

// The audit events of one job's run (the driver's apply.started and
// apply.step, the online migrations' phase events), forwarded to the
// orchestrator's chain: one message each on <prefix>.events.audit, its msg
// id "audit:<job>:<delivery>:<n>" (deduplicated there), its actor the
// worker, its details naming the job and the worker. The run's outcome
// (apply.finished / apply.failed) is not forwarded: the orchestrator records
// it from the job's result.
class JobAuditForwarder final : public storage::AuditSink {
 public:
  JobAuditForwarder(bus::Bus& bus, std::string subject, std::string worker, const jobs::Header& header,
                    uint64_t delivery)
      : bus_(bus), subject_(std::move(subject)), worker_(std::move(worker)), header_(header), delivery_(delivery) {}

  Result<std::vector<storage::AuditEvent>> Append(std::vector<storage::AuditEvent> events) override {
    for (storage::AuditEvent& e : events) {
      if (e.action == "apply.finished" || e.action == "apply.failed") continue;
      e.actor.service = "worker:" + worker_;
      nlohmann::json details = nlohmann::json::parse(e.details_json, nullptr, false);
      if (!details.is_object()) details = nlohmann::json::object();
      details["job"] = header_.job_id;
      details["worker"] = worker_;
      e.details_json = details.dump();
      const std::string msg_id =
          "audit:" + header_.job_id + ":" + std::to_string(delivery_) + ":" + std::to_string(++sent_);
      auto published = bus_.Publish(subject_, Span(AuditEventFor(header_.job_id, header_.attempt, e)), msg_id);
      if (!published.ok()) return published.error();
    }
    return events;
  }

 private:
  bus::Bus& bus_;
  const std::string subject_, worker_;
  const jobs::Header header_;
  const uint64_t delivery_;
  std::atomic<uint64_t> sent_{0};
};

class BusWorker::Impl {
 public:
  Impl(BusWorkerOptions options, secrets::SecretKey key)
      : options_(std::move(options)), key_(std::move(key)), system_(options_.system) {
    if (options_.name.empty()) options_.name = DefaultName();
    if (options_.concurrency == 0) options_.concurrency = 1;
  }

  Status Connect() {
    bus::ConnectOptions c;
    c.name = "sqlx-worker " + options_.name;
    c.retry_on_failed_connect = true;
    c.on_state_change = [name = options_.name](const bus::ConnectionStatus& s) {
      spdlog::info("worker {}: NATS {} ({})", name, bus::ConnectionStateName(s.state), s.server);
    };
    SQLX_ASSIGN_OR_RETURN(bus_, bus::Bus::Connect(options_.nats_url, c));
    return Status::Ok();
  }

  void StartThreads() {
    for (size_t i = 0; i < options_.concurrency; ++i) threads_.emplace_back([this] { Pull(); });
  }

  void Drain() {
    std::lock_guard<std::mutex> lock(drain_mu_);
    if (drained_) return;
    stopping_ = true;
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    if (bus_) {
      Status s = bus_->Drain(std::chrono::milliseconds(5000));
      if (!s.ok()) spdlog::warn("worker {}: drain: {}", options_.name, s.error().message);
      bus_->Close();
    }
    drained_ = true;
    drained_cv_.notify_all();
  }

  void Wait() {
    std::unique_lock<std::mutex> lock(drain_mu_);
    drained_cv_.wait(lock, [this] { return drained_; });
  }

  BusWorkerStats stats() const {
    return BusWorkerStats{jobs_run_.load(), jobs_failed_.load(), rejected_.load()};
  }
  const std::string& name() const { return options_.name; }

 private:
  // One puller: bind (waiting for the orchestrator to create the consumer),
  // then one job at a time until told to stop.
  void Pull() {
    const std::string stream = bus::JobsStream(options_.subject_prefix).name;
    std::optional<bus::Consumer> consumer;
    auto last_complaint = Clock::now() - std::chrono::hours(1);
    while (!stopping_) {
      if (!consumer) {
        auto bound = bus_->Subscribe(stream, bus::WorkerConsumer().durable);
        if (!bound.ok()) {
          if (Clock::now() - last_complaint > std::chrono::seconds(10)) {
            spdlog::warn("worker {}: waiting for the job queue ({}); is the orchestrator running?", options_.name,
                         bound.error().message);
            last_complaint = Clock::now();
          }
          std::this_thread::sleep_for(std::chrono::milliseconds(200));
          continue;
        }
        consumer.emplace(std::move(bound).value());
      }
      auto fetched = consumer->Fetch(1, options_.fetch_wait);
      if (!fetched.ok()) {
        // A lost server reconnects underneath; an unbound consumer (the
        // stream was re-created) binds again.
        spdlog::debug("worker {}: fetch: {}", options_.name, fetched.error().message);
        if (fetched.error().code != ErrorCode::kTimeout && fetched.error().code != ErrorCode::kIo) consumer.reset();
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        continue;
      }
      for (bus::Message& m : *fetched) Handle(m);
    }
  }

  // A message that is not a job this worker can run: never redelivered,
  // logged with the reason, and reported to the orchestrator.
  void Reject(bus::Message& m, const std::string& job_id, const std::string& reason) {
    ++rejected_;
    spdlog::warn("worker {}: rejected message {} on {}: {}", options_.name, m.metadata().stream_sequence,
                 m.metadata().subject, reason);
    const std::string envelope = jobs::ErrorEnvelope(
        job_id, 0, MakeError(ErrorCode::kInvalidArgument, "worker " + options_.name + " rejected message " +
                                                               std::to_string(m.metadata().stream_sequence) +
                                                               " on " + m.metadata().subject + ": " + reason),
        false);
    auto ack = bus_->Publish(Subject(options_.subject_prefix, "rejected"), Span(envelope),
                             "rejected:" + std::to_string(m.metadata().stream_sequence));
    if (!ack.ok()) spdlog::warn("worker {}: reporting the rejection: {}", options_.name, ack.error().message);
    Status t = m.Term();
    if (!t.ok()) spdlog::warn("worker {}: terminating message: {}", options_.name, t.error().message);
  }

  void Handle(bus::Message& m) {
    if (!m.payload_status().ok()) return Reject(m, m.metadata().msg_id, m.payload_status().error().message);
    std::string job(m.payload_view());  // aligned for the verifier
    auto header = jobs::VerifyAny(job);
    if (!header.ok()) return Reject(m, m.metadata().msg_id, header.error().message);
    if (header->kind == jobs::Kind::kProbeJob) return AnswerProbe(m, job, *header);
    if (header->kind != jobs::Kind::kLearnServerJob && header->kind != jobs::Kind::kLearnDatabaseJob &&
        header->kind != jobs::Kind::kApplyPlanJob)
      return Reject(m, header->job_id, "a " + std::string(jobs::KindName(header->kind)) + " is not a job");
    const fb::Target* target = fb::GetEnvelope(job.data())->target();
    if (target == nullptr || target->url() == nullptr || target->connection() == nullptr)
      return Reject(m, header->job_id, "the job names no target server");
    const std::string connection(Str(target->connection()));
    const uint64_t delivery = m.metadata().num_delivered;

    // A job that changes a server runs only under its lease.
    std::optional<LeaseClient> lease;
    if (header->kind == jobs::Kind::kApplyPlanJob) {
      lease.emplace(*bus_, options_.subject_prefix, options_.name, header->job_id, delivery,
                    std::chrono::milliseconds(5000));
      Status acquired = lease->Acquire();
      if (!acquired.ok()) {
        spdlog::info("worker {}: job {} not started: {}", options_.name, header->job_id, acquired.error().message);
        (void)m.Nak(2 * options_.heartbeat_every);  // the holder finishes it, or its lease runs out
        return;
      }
    }

    // Announce the run: the orchestrator shows the job running here.
    PublishEvent(ProgressEnvelope(header->job_id, header->attempt, "started", delivery), "progress",
                 "started:" + header->job_id + ":" + std::to_string(delivery) + ":" + options_.name);

    const auto started = Clock::now();
    std::mutex msg_mu;  // Message is used by one thread at a time
    std::mutex hb_mu;
    std::condition_variable hb_cv;
    bool done = false;
    std::thread heartbeat([&] {
      std::unique_lock<std::mutex> lock(hb_mu);
      while (!hb_cv.wait_for(lock, options_.heartbeat_every, [&] { return done; })) {
        {
          std::lock_guard<std::mutex> guard(msg_mu);
          Status s = m.InProgress();
          if (!s.ok()) spdlog::warn("worker {}: in-progress ack of {}: {}", options_.name, header->job_id, s.error().message);
        }
        PublishEvent(HeartbeatEnvelope(header->job_id, header->attempt), "heartbeat", "");
        if (lease) (void)lease->Renew();  // a lost lease stops the run at its next operation
      }
    });

    System::RunHooks hooks;
    std::optional<JobAuditForwarder> audit;
    if (lease) {
      audit.emplace(*bus_, Subject(options_.subject_prefix, "audit"), options_.name, *header, delivery);
      hooks.before_change = [&lease] { return lease->Renew(); };
      hooks.checkpoint = [&lease](const std::string& migration_json) { return lease->Checkpoint(migration_json); };
      hooks.resume = lease->migrations();
      hooks.audit = &*audit;
    }
    std::string reply = Run(job, *header, *target, connection, hooks);

    {
      std::lock_guard<std::mutex> lock(hb_mu);
      done = true;
    }
    hb_cv.notify_all();
    heartbeat.join();

    if (lease && !lease->lost().empty()) {
      // Another delivery holds the job now (this worker was frozen, cut off,
      // or too slow): its result is the job's. This run changed nothing
      // after the loss; it publishes nothing and leaves the message alone.
      spdlog::warn("worker {}: job {}: {}; this run's result is dropped", options_.name, header->job_id,
                   lease->lost());
      return;
    }
    const bool failed = reply.size() >= 8 && jobs::VerifyAny(reply).ok() &&
                        jobs::ReadHeader(reply).kind == jobs::Kind::kError;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started).count();
    PublishEvent(AuditEnvelope(*header, connection, failed, reply, delivery, ms), "audit",
                 "audit:" + header->job_id + ":" + std::to_string(delivery));
    if (!PublishResultThenAck(m, *header, reply)) return;
    if (failed) ++jobs_failed_;
    spdlog::info("worker {}: job {} ({}) {} in {} ms (delivery {}, stream seq {})", options_.name, header->job_id,
                 jobs::KindName(header->kind), failed ? "failed" : "done", ms, delivery, m.metadata().stream_sequence);
  }

  // A probe measures the queue path itself: answered at once, without the
  // actors, a server, a started event, heartbeats or an audit event, but
  // with the same result msg id and ack-after-PubAck as every job.
  void AnswerProbe(bus::Message& m, const std::string& job, const jobs::Header& header) {
    const fb::ProbeJob* probe = fb::GetEnvelope(job.data())->body_as_ProbeJob();
    const uint32_t bytes = probe->payload() == nullptr ? 0 : probe->payload()->size();
    if (!PublishResultThenAck(m, header, ProbeResultFor(header.job_id, header.attempt, options_.name, bytes))) return;
    spdlog::debug("worker {}: probe {} answered", options_.name, header.job_id);
  }

  // The result, as "result:<job>" (a second run's is a duplicate); the job
  // is acked only once the server has the result, else nakked to be run
  // again. False when the result was not published.
  bool PublishResultThenAck(bus::Message& m, const jobs::Header& header, const std::string& reply) {
    auto ack = bus_->Publish(Subject(options_.subject_prefix, "result"), Span(reply), "result:" + header.job_id);
    if (!ack.ok()) {
      spdlog::warn("worker {}: publishing the result of {} failed ({}); leaving the job to be redelivered",
                   options_.name, header.job_id, ack.error().message);
      Status n = m.Nak(std::chrono::milliseconds(1000));
      (void)n;
      return false;
    }
    Status a = m.Ack();
    if (!a.ok()) spdlog::warn("worker {}: ack of {}: {}", options_.name, header.job_id, a.error().message);
    ++jobs_run_;
    return true;
  }

  // The job's answer in wire form; an Error envelope when it could not run.
  std::string Run(const std::string& job, const jobs::Header& header, const fb::Target& target,
                  const std::string& connection, const System::RunHooks& hooks) {
    auto fail = [&](const Error& e) { return jobs::ErrorEnvelope(header.job_id, header.attempt, e, false); };
    auto url = transports::ParseConnectionUrl(Str(target.url()));
    if (!url.ok()) return fail(url.error());
    if (target.sealed_password() != nullptr && target.sealed_password()->size() > 0) {
      const std::string_view sealed(reinterpret_cast<const char*>(target.sealed_password()->data()),
                                    target.sealed_password()->size());
      auto password = secrets::Open(key_, sealed, secrets::ConnectionPasswordAad(connection));
      if (!password.ok()) {
        return fail(MakeError(password.error().code, "the password of connection '" + connection +
                                                         "' does not open on worker " + options_.name + ": " +
                                                         password.error().message));
      }
      url->password = std::move(password).value();
      url->password_in_url = true;
    }
    auto reply = system_.RunEnvelope(*url, job, hooks);
    if (!reply.ok()) return fail(reply.error());
    return std::move(reply).value();
  }

  void PublishEvent(const std::string& envelope, std::string_view leaf, const std::string& msg_id) {
    auto ack = bus_->Publish(Subject(options_.subject_prefix, leaf), Span(envelope), msg_id);
    if (!ack.ok()) spdlog::warn("worker {}: publishing {}: {}", options_.name, leaf, ack.error().message);
  }

  std::string ProgressEnvelope(const std::string& job_id, uint32_t attempt, const char* phase, uint64_t delivery) {
    flatbuffers::FlatBufferBuilder b;
    auto body = fb::CreateProgressDirect(b, phase, static_cast<uint32_t>(delivery), 0, options_.name.c_str());
    return FinishEnvelope(b, job_id, attempt, fb::Body::Progress, body.Union());
  }

  std::string HeartbeatEnvelope(const std::string& job_id, uint32_t attempt) {
    flatbuffers::FlatBufferBuilder b;
    auto body = fb::CreateHeartbeatDirect(b, options_.name.c_str(), UnixNowNs());
    return FinishEnvelope(b, job_id, attempt, fb::Body::Heartbeat, body.Union());
  }

  // What this process did, for the orchestrator to append to the audit
  // chain: who ran which job against which server, and how it ended.
  std::string AuditEnvelope(const jobs::Header& header, const std::string& connection, bool failed,
                            const std::string& reply, uint64_t delivery, int64_t ms) {
    storage::AuditEvent e = storage::NewAuditEvent("job.run");
    std::string error;
    if (failed) error = jobs::ReadError(reply).error.message;
    e.details_json = nlohmann::json{{"delivery", delivery},
                                    {"duration_ms", ms},
                                    {"job_id", header.job_id},
                                    {"kind", jobs::KindName(header.kind)}}
                         .dump();
    e.actor.service = "worker:" + options_.name;
    e.object.connection = connection;
    e.outcome = failed ? storage::AuditOutcome::kFailed : storage::AuditOutcome::kOk;
    e.error = error;
    return AuditEventFor(header.job_id, header.attempt, e);
  }

  BusWorkerOptions options_;
  secrets::SecretKey key_;
  System system_;
  std::unique_ptr<bus::Bus> bus_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  std::mutex drain_mu_;
  std::condition_variable drained_cv_;
  bool drained_ = false;
  std::atomic<uint64_t> jobs_run_{0}, jobs_failed_{0}, rejected_{0};
};

Result<std::unique_ptr<BusWorker>> BusWorker::Start(BusWorkerOptions options, secrets::SecretKey key) {
  if (options.system.store != nullptr)
    return MakeError(ErrorCode::kInvalidArgument, "a worker keeps no store: results go to the orchestrator");
  auto impl = std::make_unique<Impl>(std::move(options), std::move(key));
  SQLX_RETURN_IF_ERROR(impl->Connect());
  impl->StartThreads();
  return std::unique_ptr<BusWorker>(new BusWorker(std::move(impl)));
}

BusWorker::BusWorker(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BusWorker::~BusWorker() { impl_->Drain(); }
void BusWorker::Drain() { impl_->Drain(); }
void BusWorker::Wait() { impl_->Wait(); }
BusWorkerStats BusWorker::stats() const { return impl_->stats(); }
const std::string& BusWorker::name() const { return impl_->name(); }

}  // namespace sqlx::actors
