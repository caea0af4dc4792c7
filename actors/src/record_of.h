// One learned entry of a LearnedDatabases message as a store record: shared
// by the snapshot actor (in process) and ReadLearnedDatabases (the
// orchestrator).
#pragma once

#include <cstdint>
#include <string_view>

#include "jobs_generated.h"
#include "sqlx/actors/system.h"
#include "sqlx/messages/result.h"
#include "sqlx/storage/store.h"

namespace sqlx::actors {

// A LearnedServer table as the in-process result (system.h), and back (with
// the endpoint connected to, the fingerprint's input).
LearnedServer ServerOf(const fb::jobs::LearnedServer& server);
flatbuffers::Offset<fb::jobs::LearnedServer> ServerTableOf(flatbuffers::FlatBufferBuilder& b,
                                                           const LearnedServer& server, std::string_view endpoint);

// Its IR decoded, canonicalized and checked against the hash it came with.
Result<storage::SchemaRecord> RecordOf(std::string_view connection, const fb::jobs::LearnedDatabase& db,
                                       int64_t now_ns);

}  // namespace sqlx::actors
