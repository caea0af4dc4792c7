#include "ping_work.h"

#include <flatbuffers/flatbuffers.h>

#include <chrono>

#include "job_buffer.h"

namespace sqlx::actors {
namespace fb = ::sqlx::fb::jobs;

std::string PingJob(std::string_view job_id, bool fresh) {
  flatbuffers::FlatBufferBuilder b(128);
  auto body = fb::CreatePingJob(b, fresh);
  return FinishEnvelope(b, job_id, 1, fb::Body::PingJob, body.Union());
}

bool ReadPingFresh(std::string_view verified) {
  return fb::GetEnvelope(verified.data())->body_as_PingJob()->fresh();
}

Result<std::string> PingOn(transports::Session& session, const transports::ConnectionUrl& url,
                           std::string_view job_id) {
  const auto start = std::chrono::steady_clock::now();
  SQLX_RETURN_IF_ERROR(session.Ping());
  const auto rtt = std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - start);
  const transports::ServerInfo& info = session.server();
  flatbuffers::FlatBufferBuilder b(512);
  auto body = fb::CreatePingReportDirect(
      b, url.ConnectionName().c_str(), info.greeting.server_version.c_str(), info.greeting.connection_id,
      info.auth_plugin.c_str(), info.tls.active, info.tls.version.c_str(), info.tls.cipher.c_str(), info.tls.verified,
      info.tls.trust.c_str(), static_cast<uint64_t>(info.connect_time.count()), static_cast<uint64_t>(rtt.count()),
      info.endpoint.c_str());
  return FinishEnvelope(b, job_id, 1, fb::Body::PingReport, body.Union());
}

PingResult ReadPingReport(std::string_view verified) {
  const fb::PingReport* p = fb::GetEnvelope(verified.data())->body_as_PingReport();
  PingResult out;
  out.connection = std::string(Str(p->connection()));
  out.server_version = std::string(Str(p->server_version()));
  out.connection_id = p->connection_id();
  out.auth_plugin = std::string(Str(p->auth_plugin()));
  out.tls.active = p->tls_active();
  out.tls.version = std::string(Str(p->tls_version()));
  out.tls.cipher = std::string(Str(p->tls_cipher()));
  out.tls.verified = p->tls_verified();
  out.tls.trust = std::string(Str(p->tls_trust()));
  out.connect_time = std::chrono::microseconds(p->connect_us());
  out.rtt = std::chrono::nanoseconds(p->rtt_ns());
  out.endpoint = std::string(Str(p->endpoint()));
  return out;
}

}  // namespace sqlx::actors
