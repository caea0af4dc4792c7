// Fuzzes what every actor does with an inbound envelope (docs/actors.md):
// the first two bytes are the kind tag, the rest the buffer. Whatever
// jobs::Verify accepts must be safe to read in full: the header, an Error,
// and the nested IR buffers of LearnedDatabases (through ir::FromFlatBuffer),
// and a query's steps as its reader takes them (QuerySteps, every cell).
#include <flatbuffers/flatbuffers.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include "jobs_generated.h"
#include "query_work.h"
#include "sqlx/messages/ir_flatbuffers.h"
#include "sqlx/messages/jobs.h"

namespace {
size_t Touch(const flatbuffers::String* s) { return s == nullptr ? 0 : s->string_view().size(); }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  const uint16_t tag = static_cast<uint16_t>(data[0] | (data[1] << 8));
  // Aligned as an Envelope's vector is.
  std::vector<uint64_t> words((size - 2 + 7) / 8 + 1);
  std::memcpy(words.data(), data + 2, size - 2);
  const std::string_view bytes(reinterpret_cast<const char*>(words.data()), size - 2);
  if (tag == 0 || tag > sqlx::jobs::kMaxKind) return 0;
  const auto kind = static_cast<sqlx::jobs::Kind>(tag);
  if (!sqlx::jobs::Verify(kind, bytes).ok()) return 0;
  const sqlx::jobs::Header h = sqlx::jobs::ReadHeader(bytes);
  if (h.kind != kind) __builtin_trap();
  const auto* env = sqlx::fb::jobs::GetEnvelope(bytes.data());
  size_t seen = 0;
  if (kind == sqlx::jobs::Kind::kError) seen += sqlx::jobs::ReadError(bytes).error.message.size();
  if (const auto* learned = env->body_as_LearnedDatabases(); learned != nullptr && learned->databases() != nullptr) {
    for (const auto* db : *learned->databases()) {
      seen += Touch(db->database()) + Touch(db->profile_hash()) + Touch(db->change());
      if (db->not_visible() != nullptr) {
        for (const auto* s : *db->not_visible()) seen += Touch(s);
      }
      if (db->error() != nullptr) seen += Touch(db->error()->message()) + Touch(db->error()->sqlstate());
      if (db->ir() != nullptr) {
        auto ir = sqlx::ir::FromFlatBuffer(
            std::string_view(reinterpret_cast<const char*>(db->ir()->data()), db->ir()->size()));
        seen += ir.ok() ? ir->tables.size() : ir.error().message.size();
      }
    }
  }
  if (const auto* job = env->body_as_LearnDatabaseJob(); job != nullptr && job->databases() != nullptr) {
    for (const auto* s : *job->databases()) seen += Touch(s);
  }
  if (const auto* apply = env->body_as_ApplyPlanJob(); apply != nullptr) {
    seen += Touch(apply->database()) + Touch(apply->plan_json());
  }
  if (const auto* report = env->body_as_ApplyReport(); report != nullptr) seen += Touch(report->report_json());
  if (const auto* server = env->body_as_LearnedServer(); server != nullptr) seen += Touch(server->capability_json());
  if (const auto* audit = env->body_as_AuditEvent(); audit != nullptr) seen += Touch(audit->details_json());
  if (const auto* probe = env->body_as_ProbeJob(); probe != nullptr && probe->payload() != nullptr) {
    seen += probe->payload()->size();
  }
  if (const auto* probed = env->body_as_ProbeResult(); probed != nullptr) seen += Touch(probed->worker());
  if (const auto* lease = env->body_as_LeaseReply(); lease != nullptr && lease->migrations() != nullptr) {
    for (const auto* s : *lease->migrations()) seen += Touch(s);
  }
  if (const auto* ckpt = env->body_as_MigrationCheckpoint(); ckpt != nullptr) {
    seen += Touch(ckpt->worker()) + Touch(ckpt->migration_json());
  }
  if (const auto* ping = env->body_as_PingReport(); ping != nullptr) {
    seen += Touch(ping->connection()) + Touch(ping->server_version()) + Touch(ping->auth_plugin()) +
            Touch(ping->tls_version()) + Touch(ping->tls_cipher()) + Touch(ping->tls_trust()) + Touch(ping->endpoint());
  }
  if (const auto* m = env->body_as_MigrationJob(); m != nullptr) seen += Touch(m->migration_json()) + Touch(m->action());
  if (const auto* m = env->body_as_MigrationReport(); m != nullptr) {
    seen += Touch(m->migration_json());
    if (m->error() != nullptr) seen += Touch(m->error()->message()) + Touch(m->error()->sqlstate());
  }
  if (kind == sqlx::jobs::Kind::kQueryRows) {
    // Twice: as a first step, and after itself (a continuation).
    sqlx::actors::QuerySteps steps;
    for (int i = 0; i < 2; ++i) {
      if (!steps.Take(bytes).ok()) break;
      const auto& batch = steps.batch();
      for (size_t r = 0; r < batch.rows(); ++r) {
        for (size_t c = 0; c < batch.columns(); ++c) {
          const std::string_view v = batch.value(r, c);
          if (v.size() > batch.byte_size()) __builtin_trap();
          for (char ch : v) seen += static_cast<unsigned char>(ch);
        }
      }
      for (const auto& col : steps.columns()) seen += col.name.size();
    }
  }
  return seen == static_cast<size_t>(-1) ? 1 : 0;
}
