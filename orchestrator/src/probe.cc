// Probe runs (`sqlx jobs probe`, POST /v1/probe): an operational check of the
// job queue. Probe jobs go the whole way every job goes (record, publish,
// a worker, its result published, the result persisted before it is acked)
// but do no work: a worker answers each at once (actors/src/bus_worker.cc).
#include <spdlog/spdlog.h>

#include <algorithm>

#include "orchestrator_impl.h"
#include "sqlx/actors/wire.h"
#include "sqlx/messages/clock.h"
#include "sqlx/messages/jobs.h"

namespace sqlx::orchestrator {

namespace {

using nlohmann::json;

// A probe run's jobs are recorded and published this many at a time.
constexpr uint64_t kProbeChunk = 500;
constexpr uint64_t kMaxProbeJobs = 100000;
// The largest probe payload: past the project's NATS max_payload (8 MiB),
// so that the chunked path can be probed too.
constexpr uint64_t kMaxProbePayload = 64ull << 20;

}  // namespace

Result<Run> Orchestrator::Impl::StartProbe(const Caller& caller, uint64_t count, uint64_t payload_bytes) {
  if (count < 1 || count > kMaxProbeJobs)
    return MakeError(ErrorCode::kInvalidArgument,
                     "a probe runs 1 to " + std::to_string(kMaxProbeJobs) + " jobs, not " + std::to_string(count));
  if (payload_bytes > kMaxProbePayload)
    return MakeError(ErrorCode::kInvalidArgument, "a probe's payload is at most " + std::to_string(kMaxProbePayload) +
                                                      " bytes (64 MiB), not " + std::to_string(payload_bytes));
  Run run;
  run.id = NewRunId();
  run.kind = "probe";
  run.actor = caller.subject;
  run.created_ns = UnixNowNs();
  {
    Records::Batch batch;
    batch.Put(run);
    SQLX_RETURN_IF_ERROR(records_->Write(batch, "recording probe run " + run.id));
  }
  SQLX_RETURN_IF_ERROR(RecordAudit(&caller, "probe.started", {}, nullptr,
                                   json{{"run", run.id}, {"jobs", count}, {"payload_bytes", payload_bytes}}));
  // Without state_mu_ while publishing, so that results are persisted
  // meanwhile: records of new jobs conflict with nothing, and the stream
  // sequences are set afterwards on whatever the record has become.
  size_t failed = 0;
  for (uint64_t first = 0; first < count; first += kProbeChunk) {
    std::vector<Job> chunk;
    Records::Batch batch;
    for (uint64_t i = first; i < std::min<uint64_t>(count, first + kProbeChunk); ++i) {
      Job job;
      job.id = run.id + ".p" + std::to_string(i);
      job.kind = std::string(jobs::KindName(jobs::Kind::kProbeJob));
      job.run = run.id;
      job.created_ns = run.created_ns;
      if (payload_bytes > 0) job.params = json{{"payload_bytes", payload_bytes}};
      batch.Put(job);
      chunk.push_back(std::move(job));
    }
    SQLX_RETURN_IF_ERROR(records_->Write(batch, "recording the jobs of probe run " + run.id));
    if (first == 0) {
      run.published_ns = UnixNowNs();
      Records::Batch r;
      r.Put(run);
      SQLX_RETURN_IF_ERROR(records_->Write(r, "recording probe run " + run.id));
    }
    std::vector<std::pair<std::string, uint64_t>> sequences;
    for (Job& job : chunk) {
      Status s = Publish(job);
      if (!s.ok()) {
        // The record stays queued: RetryUnpublished publishes it again.
        if (failed++ == 0) spdlog::warn("orchestrator: publishing job {}: {}", job.id, s.error().message);
        continue;
      }
      sequences.emplace_back(job.id, job.stream_seq);
    }
    std::lock_guard<std::mutex> lock(state_mu_);
    Records::Batch published;
    for (const auto& [id, seq] : sequences) {
      SQLX_ASSIGN_OR_RETURN(std::optional<Job> job, records_->GetJob(id));
      if (!job || seq == 0) continue;
      job->stream_seq = seq;
      published.Put(*job);
    }
    SQLX_RETURN_IF_ERROR(records_->Write(published, "recording published jobs"));
  }
  if (failed > 0)
    return MakeError(ErrorCode::kIo, std::to_string(failed) + " of " + std::to_string(count) + " jobs of probe run " +
                                         run.id + " were not published (they stay queued and are published again as soon as NATS takes them)");
  return run;
}

void Orchestrator::Impl::OnProbed(EventWrites& w, Job job, std::string_view verified) {
  const actors::ProbeResultInfo r = actors::ReadProbeResult(verified);
  job.state = JobState::kDone;
  job.worker = r.worker;
  job.finished_ns = UnixNowNs();
  job.summary = json{{"payload_bytes", r.payload_bytes}};
  w.Put(job);
}

}  // namespace sqlx::orchestrator
