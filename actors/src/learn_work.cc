#include "learn_work.h"

#include <flatbuffers/flatbuffers.h>

#include <optional>

#include "job_buffer.h"
#include "record_of.h"
#include "sqlx/flo/learn_database.h"
#include "sqlx/flo/learn_server.h"
#include "sqlx/messages/ir_flatbuffers.h"
#include "sqlx/messages/jobs.h"

namespace sqlx::actors {
namespace fb = ::sqlx::fb::jobs;

namespace {

flatbuffers::Offset<fb::Error> ErrorTable(flatbuffers::FlatBufferBuilder& b, const Error& e) {
  return fb::CreateErrorDirect(b, static_cast<int>(e.code), e.message.c_str(), jobs::IsRetryable(e.code),
                               e.server_code, e.sqlstate.empty() ? nullptr : e.sqlstate.c_str());
}

// A LearnedServer table: the server as flo learned it, and its databases.
flatbuffers::Offset<fb::LearnedServer> ServerTable(flatbuffers::FlatBufferBuilder& b, transports::Session& session,
                                                   const transports::ConnectionUrl& url,
                                                   const flo::LearnedServer& learned,
                                                   const std::vector<std::string>& databases) {
  const LearnedServer server{url.ConnectionName(), learned.server_version, learned.ToCapabilityJson(),
                             learned.fingerprint, databases};
  return ServerTableOf(b, server, flo::ConnectedEndpoint(session, url));
}

}  // namespace

std::string LearnServerJob(std::string_view job_id, std::string_view fingerprint_salt, bool store) {
  flatbuffers::FlatBufferBuilder b;
  auto body = fb::CreateLearnServerJob(b, b.CreateString(fingerprint_salt.data(), fingerprint_salt.size()), store);
  return FinishEnvelope(b, job_id, 1, fb::Body::LearnServerJob, body.Union());
}

std::string LearnDatabaseJob(std::string_view job_id, const LearnRequest& request) {
  flatbuffers::FlatBufferBuilder b;
  auto body = fb::CreateLearnDatabaseJob(b, b.CreateVectorOfStrings(request.databases), request.store,
                                         request.all_databases, request.include_system, request.learn_server);
  return FinishEnvelope(b, job_id, 1, fb::Body::LearnDatabaseJob, body.Union());
}

Result<std::string> LearnServerOn(transports::Session& session, const transports::ConnectionUrl& url,
                                  std::string_view job) {
  const fb::Envelope* env = fb::GetEnvelope(job.data());
  const fb::LearnServerJob* body = env->body_as_LearnServerJob();
  flo::LearnServerOptions options;
  if (body->fingerprint_salt() != nullptr) options.fingerprint_salt = body->fingerprint_salt()->str();
  options.fingerprint = !options.fingerprint_salt.empty();
  SQLX_ASSIGN_OR_RETURN(flo::LearnedServer learned, flo::LearnServer(session, url, options));
  // The databases too, so that an org-wide learn can fan out one job per
  // database from this result.
  SQLX_ASSIGN_OR_RETURN(std::vector<std::string> databases, flo::ListDatabases(session, /*include_system=*/false));
  flatbuffers::FlatBufferBuilder b;
  auto out = ServerTable(b, session, url, learned, databases);
  return FinishEnvelope(b, env->job_id() ? env->job_id()->string_view() : "", env->attempt(), fb::Body::LearnedServer,
                out.Union());
}

Result<std::string> LearnDatabasesOn(transports::Session& session, const HelperSession& helper,
                                     const transports::ConnectionUrl& url, std::string_view job,
                                     const std::function<void(const LearnStep&)>& progress) {
  auto report = [&progress](LearnStep::Phase phase) {
    if (!progress) return;
    LearnStep step;
    step.phase = phase;
    progress(step);
  };
  const fb::Envelope* env = fb::GetEnvelope(job.data());
  const fb::LearnDatabaseJob* body = env->body_as_LearnDatabaseJob();
  std::vector<std::string> names;
  if (body->databases() != nullptr) {
    for (const flatbuffers::String* name : *body->databases()) names.push_back(name->str());
  }
  if (body->all_databases() && !names.empty())
    return MakeError(ErrorCode::kInvalidArgument, "a learn job names databases and asks for all of them: give one");
  std::optional<flo::LearnedServer> server;
  if (body->learn_server()) {
    flo::LearnServerOptions options;
    options.fingerprint = false;  // the snapshot actor adds it with its store's salt
    report(LearnStep::Phase::kServer);
    SQLX_ASSIGN_OR_RETURN(server, flo::LearnServer(session, url, options));
  }
  std::vector<std::string> listed;
  if (body->all_databases()) {
    report(LearnStep::Phase::kListing);
    SQLX_ASSIGN_OR_RETURN(listed, flo::ListDatabases(session, body->include_system()));
    names = listed;
  }
  flo::LearnDatabaseOptions options;
  if (helper) options.helper_session = helper();
  if (progress) {
    options.on_progress = [&progress, count = names.size()](const flo::LearnProgress& p) {
      LearnStep step;
      step.phase = p.phase == flo::LearnProgress::Phase::kCatalog ? LearnStep::Phase::kCatalog
                                                                 : LearnStep::Phase::kBuilding;
      step.step = p.step;
      step.total = p.total;
      step.what = p.what;
      step.databases = count;
      progress(step);
    };
  }
  SQLX_ASSIGN_OR_RETURN(std::vector<flo::LearnedDatabase> learned, flo::LearnDatabases(session, names, options));
  flatbuffers::FlatBufferBuilder b(1024);
  std::vector<flatbuffers::Offset<fb::LearnedDatabase>> entries;
  for (const flo::LearnedDatabase& db : learned) {
    if (db.error) {
      entries.push_back(fb::CreateLearnedDatabaseDirect(b, db.name.c_str(), nullptr, nullptr, nullptr,
                                                        ErrorTable(b, *db.error)));
      continue;
    }
    const std::string ir = ir::ToFlatBuffer(db.schema);
    auto ir_bytes = b.CreateVector(reinterpret_cast<const uint8_t*>(ir.data()), ir.size());
    auto not_visible = b.CreateVectorOfStrings(db.not_visible);
    auto name = b.CreateString(db.name);
    auto hash = b.CreateString(db.profile_hash);
    entries.push_back(fb::CreateLearnedDatabase(b, name, hash, ir_bytes, not_visible));
  }
  flatbuffers::Offset<fb::LearnedServer> server_table;
  if (server) server_table = ServerTable(b, session, url, *server, listed);
  // Every database of the batch shares its statements and time.
  uint32_t statements = 0;
  uint64_t learn_us = 0;
  for (const flo::LearnedDatabase& db : learned) {
    if (db.error) continue;
    statements = static_cast<uint32_t>(db.catalog_statements);
    learn_us = static_cast<uint64_t>(db.elapsed.count());
    break;
  }
  auto out = fb::CreateLearnedDatabasesDirect(b, url.ConnectionName().c_str(), &entries, server_table, statements,
                                              learn_us);
  return FinishEnvelope(b, env->job_id() ? env->job_id()->string_view() : "", env->attempt(), fb::Body::LearnedDatabases,
                out.Union());
}

}  // namespace sqlx::actors
