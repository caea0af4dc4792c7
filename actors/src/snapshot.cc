// The snapshot actor (spawn.h).
#include <caf/all.hpp>
#include <flatbuffers/flatbuffers.h>
#include <spdlog/spdlog.h>

#include <chrono>

#include "envelope.h"
#include "job_buffer.h"
#include "record_of.h"
#include "spawn.h"
#include "sqlx/messages/clock.h"
#include "sqlx/messages/ir.h"
#include "sqlx/messages/ir_flatbuffers.h"

namespace sqlx::actors {
namespace {
namespace fb = ::sqlx::fb::jobs;

Envelope Store(storage::Store& store, const Envelope& e) {
  auto header = Accept(e, "snapshot", {jobs::Kind::kLearnedDatabases});
  if (!header.ok()) return ErrorReply("", 0, header.error(), false);
  const fb::LearnedDatabases* in = fb::GetEnvelope(e.bytes.data())->body_as_LearnedDatabases();
  const std::string_view connection = Str(in->connection());
  const int64_t now_ns = UnixNowNs();
  std::vector<storage::SchemaRecord> records;
  std::vector<uint32_t> stored_index;  // entry of each record
  const uint32_t n = in->databases() == nullptr ? 0 : in->databases()->size();
  for (uint32_t i = 0; i < n; ++i) {
    const fb::LearnedDatabase* db = in->databases()->Get(i);
    if (db->error() != nullptr) continue;
    auto record = RecordOf(connection, *db, now_ns);
    if (!record.ok()) {
      spdlog::warn("snapshot: rejected job {}: {}", header->job_id, record.error().message);
      return ErrorReply(*header, record.error());
    }
    records.push_back(std::move(record).value());
    stored_index.push_back(i);
  }
  std::vector<storage::PutSchemaOutcome> outcomes;
  if (!records.empty()) {
    auto put = store.PutSchemas(records);
    if (!put.ok()) return ErrorReply(*header, put.error());
    outcomes = std::move(put).value();
  }
  // The same entries, each stored one with its version and change.
  flatbuffers::FlatBufferBuilder b(e.bytes.size() + 1024);
  std::vector<flatbuffers::Offset<fb::LearnedDatabase>> entries;
  size_t next = 0;
  for (uint32_t i = 0; i < n; ++i) {
    const fb::LearnedDatabase* db = in->databases()->Get(i);
    flatbuffers::Offset<fb::Error> error;
    if (db->error() != nullptr) {
      const fb::Error& err = *db->error();
      error = fb::CreateError(b, err.code(), b.CreateString(Str(err.message())), err.retryable(), err.server_code(),
                              b.CreateString(Str(err.sqlstate())));
    }
    std::vector<std::string> not_visible;
    if (db->not_visible() != nullptr) {
      for (const flatbuffers::String* s : *db->not_visible()) not_visible.push_back(s->str());
    }
    uint64_t version = 0;
    const char* change = nullptr;
    if (next < stored_index.size() && stored_index[next] == i) {
      version = outcomes[next].version;
      change = storage::ChangeName(outcomes[next].change).data();
      ++next;
    }
    auto ir_bytes = db->ir() == nullptr ? flatbuffers::Offset<flatbuffers::Vector<uint8_t>>()
                                        : b.CreateVector(db->ir()->data(), db->ir()->size());
    auto nv = b.CreateVectorOfStrings(not_visible);
    auto name = b.CreateString(Str(db->database()));
    auto hash = b.CreateString(Str(db->profile_hash()));
    auto change_str = change == nullptr ? flatbuffers::Offset<flatbuffers::String>() : b.CreateString(change);
    entries.push_back(fb::CreateLearnedDatabase(b, name, hash, ir_bytes, nv, error, version, change_str));
  }
  auto body = fb::CreateLearnedDatabasesDirect(b, std::string(connection).c_str(), &entries);
  b.Finish(fb::CreateEnvelopeDirect(b, header->job_id.c_str(), header->attempt, fb::Body::LearnedDatabases,
                                    body.Union()),
           fb::EnvelopeIdentifier());
  return MakeEnvelope(jobs::Kind::kLearnedDatabases, b.GetBufferPointer(), b.GetSize());
}

caf::behavior Snapshot(caf::event_based_actor*, storage::Store* store) {
  return {
      [store](Envelope& e) -> Envelope { return Store(*store, e); },
  };
}

}  // namespace

caf::actor SpawnSnapshot(caf::actor_system& sys, storage::Store* store) {
  return sys.spawn<caf::detached>(Snapshot, store);
}

}  // namespace sqlx::actors
