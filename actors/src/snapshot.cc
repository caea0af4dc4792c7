// The snapshot actor (spawn.h).
#include <caf/all.hpp>
#include <flatbuffers/flatbuffers.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>

#include "envelope.h"
#include "job_buffer.h"
#include "sqlx/messages/parallel.h"
#include "record_of.h"
#include "spawn.h"
#include "sqlx/flo/learn_server.h"
#include "sqlx/messages/clock.h"
#include "sqlx/messages/ir.h"
#include "sqlx/messages/ir_flatbuffers.h"

namespace sqlx::actors {
namespace {
namespace fb = ::sqlx::fb::jobs;

struct SnapshotState {
  StoreOpener open_store;
  storage::Store* store = nullptr;
  std::optional<Error> open_error;  // the opener failed: every job that stores fails so
  std::string salt;                 // the store's fingerprint salt, once read
  static inline const char* name = "sqlx.snapshot";
};

Result<storage::Store*> StoreOf(SnapshotState& st) {
  if (st.store == nullptr && !st.open_error) {
    Result<storage::Store*> opened = st.open_store ? st.open_store()
                                                   : MakeError(ErrorCode::kInternal, "the snapshot actor has no store");
    if (opened.ok()) {
      st.store = *opened;
    } else {
      st.open_error = opened.error();
    }
  }
  if (st.open_error) return *st.open_error;
  return st.store;
}

// Stores a learned server as its connection's record (the fingerprint
// salted with the store's salt when it came without one) and copies it
// into `b` with that fingerprint.
Result<flatbuffers::Offset<fb::LearnedServer>> StoreServer(SnapshotState& st, storage::Store& store,
                                                           flatbuffers::FlatBufferBuilder& b,
                                                           const fb::LearnedServer& in, int64_t now_ns) {
  LearnedServer server = ServerOf(in);
  if (server.fingerprint.empty()) {
    if (st.salt.empty()) {
      SQLX_ASSIGN_OR_RETURN(st.salt, store.FingerprintSalt());
    }
    SQLX_ASSIGN_OR_RETURN(server.fingerprint,
                          flo::FingerprintOf(Str(in.endpoint()), server.server_version, st.salt));
  }
  SQLX_RETURN_IF_ERROR(storage::PutLearnedConnection(store, server.connection, server.capability_json,
                                                     server.fingerprint, now_ns));
  return ServerTableOf(b, server, Str(in.endpoint()));
}

Envelope Finish(flatbuffers::FlatBufferBuilder& b, const jobs::Header& header, fb::Body kind,
                flatbuffers::Offset<void> body) {
  b.Finish(fb::CreateEnvelopeDirect(b, header.job_id.c_str(), header.attempt, kind, body), fb::EnvelopeIdentifier());
  return MakeEnvelope(static_cast<jobs::Kind>(kind), b.GetBufferPointer(), b.GetSize());
}

Envelope StoreLearnedServer(SnapshotState& st, storage::Store& store, const jobs::Header& header, const Envelope& e) {
  const fb::LearnedServer* in = fb::GetEnvelope(e.bytes.data())->body_as_LearnedServer();
  flatbuffers::FlatBufferBuilder b(e.bytes.size() + 256);
  auto server = StoreServer(st, store, b, *in, UnixNowNs());
  if (!server.ok()) return ErrorReply(header, server.error());
  return Finish(b, header, fb::Body::LearnedServer, server->Union());
}

Envelope StoreLearnedDatabases(SnapshotState& st, storage::Store& store, const jobs::Header& header,
                               const Envelope& e) {
  const fb::LearnedDatabases* in = fb::GetEnvelope(e.bytes.data())->body_as_LearnedDatabases();
  const std::string_view connection = Str(in->connection());
  const int64_t now_ns = UnixNowNs();
  // Each entry's IR decoded, canonicalized and checked against its hash,
  // the entries side by side.
  const uint32_t n = in->databases() == nullptr ? 0 : in->databases()->size();
  std::vector<std::optional<Result<storage::SchemaRecord>>> decoded(n);
  ForEachIndex(n, [&](size_t i) {
    const fb::LearnedDatabase* db = in->databases()->Get(static_cast<uint32_t>(i));
    if (db->error() == nullptr) decoded[i] = RecordOf(connection, *db, now_ns);
  });
  std::vector<storage::SchemaRecord> records;
  std::vector<uint32_t> stored_index;  // entry of each record
  for (uint32_t i = 0; i < n; ++i) {
    if (!decoded[i]) continue;
    if (!decoded[i]->ok()) {
      spdlog::warn("snapshot: rejected job {}: {}", header.job_id, decoded[i]->error().message);
      return ErrorReply(header, decoded[i]->error());
    }
    records.push_back(std::move(*decoded[i]).value());
    stored_index.push_back(i);
  }
  flatbuffers::FlatBufferBuilder b(e.bytes.size() + 1024);
  // The server first: its capabilities are kept even when the databases'
  // write fails.
  flatbuffers::Offset<fb::LearnedServer> server;
  if (in->server() != nullptr) {
    auto stored = StoreServer(st, store, b, *in->server(), now_ns);
    if (!stored.ok()) return ErrorReply(header, stored.error());
    server = *stored;
  }
  std::vector<storage::PutSchemaOutcome> outcomes;
  if (!records.empty()) {
    auto put = store.PutSchemas(records);
    if (!put.ok()) return ErrorReply(header, put.error());
    outcomes = std::move(put).value();
  }
  // The same entries, each stored one with its version and change.
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
  auto body = fb::CreateLearnedDatabasesDirect(b, std::string(connection).c_str(), &entries, server,
                                               in->catalog_statements(), in->learn_us());
  return Finish(b, header, fb::Body::LearnedDatabases, body.Union());
}

Envelope Store(SnapshotState& st, const Envelope& e) {
  auto header = Accept(e, "snapshot", {jobs::Kind::kLearnedDatabases, jobs::Kind::kLearnedServer});
  if (!header.ok()) return ErrorReply("", 0, header.error(), false);
  Result<storage::Store*> store = StoreOf(st);
  // Not retryable: the store would fail the next attempt the same way.
  if (!store.ok()) return ErrorReply(header->job_id, header->attempt, store.error(), false);
  if (header->kind == jobs::Kind::kLearnedServer) return StoreLearnedServer(st, **store, *header, e);
  return StoreLearnedDatabases(st, **store, *header, e);
}

caf::behavior Snapshot(caf::stateful_actor<SnapshotState>* self, StoreOpener open_store) {
  self->state.open_store = std::move(open_store);
  return {
      [self](Envelope& e) -> Envelope { return Store(self->state, e); },
  };
}

}  // namespace

caf::actor SpawnSnapshot(caf::actor_system& sys, StoreOpener open_store) {
  return sys.spawn<caf::detached>(Snapshot, std::move(open_store));
}

}  // namespace sqlx::actors
