// The parts every writer and reader of jobs buffers in actors/src shares:
// finishing an envelope around a body, and reading an optional string.
#pragma once

#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "jobs_generated.h"

namespace sqlx::actors {

// `body` of type `kind` wrapped in a finished Envelope ("SQJB") for
// `job_id`/`attempt`, as bytes.
// `target` (optional) names the server, for jobs sent over the bus.
// FinishEnvelope without the copy: the envelope stays in `b`.
inline void FinishEnvelopeIn(flatbuffers::FlatBufferBuilder& b, std::string_view job_id, uint32_t attempt,
                             fb::jobs::Body kind, flatbuffers::Offset<void> body,
                             flatbuffers::Offset<fb::jobs::Target> target = 0) {
  auto id = b.CreateString(job_id.data(), job_id.size());
  b.Finish(fb::jobs::CreateEnvelope(b, id, attempt, kind, body, target), fb::jobs::EnvelopeIdentifier());
}
inline std::string FinishEnvelope(flatbuffers::FlatBufferBuilder& b, std::string_view job_id, uint32_t attempt,
                                  fb::jobs::Body kind, flatbuffers::Offset<void> body,
                                  flatbuffers::Offset<fb::jobs::Target> target = 0) {
  FinishEnvelopeIn(b, job_id, attempt, kind, body, target);
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

// An absent string reads as "".
inline std::string_view Str(const flatbuffers::String* s) {
  return s == nullptr ? std::string_view() : s->string_view();
}

}  // namespace sqlx::actors
