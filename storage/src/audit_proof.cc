// JSON documents of the audit log (checkpoint, inclusion and consistency
// proofs), read defensively, and their offline verification.
#include "sqlx/storage/audit_proof.h"

#include "sqlx/messages/clock.h"

#include <ctime>

#include <nlohmann/json.hpp>

#include "byte_codec.h"
#include "sqlx/storage/audit_event.h"

namespace sqlx::storage {
namespace {

using nlohmann::json;

constexpr std::string_view kCheckpointFormat = "sqlx-audit-checkpoint/1";
constexpr std::string_view kInclusionFormat = "sqlx-audit-inclusion-proof/1";
constexpr std::string_view kConsistencyFormat = "sqlx-audit-consistency-proof/1";
constexpr size_t kMaxPath = 128;  // a proof over 2^64 leaves has at most 2 * 64 hashes

Error Bad(std::string_view doc, std::string_view what) {
  return MakeError(ErrorCode::kInvalidArgument, "invalid " + std::string(doc) + ": " + std::string(what));
}

// Typed field readers over an untrusted object; each names the field.
Result<const json*> Field(const json& obj, const char* name, std::string_view doc) {
  auto it = obj.find(name);
  if (it == obj.end()) return Bad(doc, std::string("missing \"") + name + "\"");
  return &*it;
}

Result<uint64_t> U64Field(const json& obj, const char* name, std::string_view doc) {
  SQLX_ASSIGN_OR_RETURN(const json* v, Field(obj, name, doc));
  if (!v->is_number_unsigned()) return Bad(doc, std::string("\"") + name + "\" must be an unsigned integer");
  return v->get<uint64_t>();
}

Result<std::string> StringField(const json& obj, const char* name, std::string_view doc) {
  SQLX_ASSIGN_OR_RETURN(const json* v, Field(obj, name, doc));
  if (!v->is_string()) return Bad(doc, std::string("\"") + name + "\" must be a string");
  return v->get<std::string>();
}

template <size_t N>
Result<std::array<uint8_t, N>> HexField(const json& obj, const char* name, std::string_view doc) {
  SQLX_ASSIGN_OR_RETURN(std::string text, StringField(obj, name, doc));
  std::optional<std::string> bytes = codec::HexDecode(text);
  if (!bytes || bytes->size() != N) {
    return Bad(doc, std::string("\"") + name + "\" must be " + std::to_string(2 * N) + " hex digits");
  }
  std::array<uint8_t, N> out{};
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

Result<std::vector<Hash>> PathField(const json& obj, std::string_view doc) {
  SQLX_ASSIGN_OR_RETURN(const json* v, Field(obj, "path", doc));
  if (!v->is_array() || v->size() > kMaxPath) return Bad(doc, "\"path\" must be an array of at most 128 hashes");
  std::vector<Hash> path;
  for (const json& item : *v) {
    std::optional<Hash> h = item.is_string() ? HashFromHex(item.get_ref<const std::string&>()) : std::nullopt;
    if (!h) return Bad(doc, "\"path\" holds something that is not 64 hex digits");
    path.push_back(*h);
  }
  return path;
}

Status ExpectFormat(const json& obj, std::string_view want, std::string_view doc) {
  SQLX_ASSIGN_OR_RETURN(std::string format, StringField(obj, "format", doc));
  if (format != want) return Bad(doc, "format is \"" + format + "\", expected \"" + std::string(want) + "\"");
  return Status::Ok();
}

json CheckpointObject(const Checkpoint& c) {
  return json{{"format", kCheckpointFormat},  {"tree_size", c.tree_size},
              {"time", Rfc3339(c.time_ns, 9)}, {"time_ns", c.time_ns},
              {"head_hash", ToHex(c.head_hash)}, {"root", ToHex(c.root)},
              {"public_key", codec::HexEncodeArray(c.public_key)}, {"signature", codec::HexEncodeArray(c.signature)}};
}

Result<Checkpoint> CheckpointFromObject(const json& obj) {
  constexpr std::string_view kDoc = "checkpoint";
  if (!obj.is_object()) return Bad(kDoc, "not a JSON object");
  SQLX_RETURN_IF_ERROR(ExpectFormat(obj, kCheckpointFormat, kDoc));
  Checkpoint c;
  SQLX_ASSIGN_OR_RETURN(c.tree_size, U64Field(obj, "tree_size", kDoc));
  SQLX_ASSIGN_OR_RETURN(const json* t, Field(obj, "time_ns", kDoc));
  if (!t->is_number_integer()) return Bad(kDoc, "\"time_ns\" must be an integer");
  c.time_ns = t->get<int64_t>();
  SQLX_ASSIGN_OR_RETURN(c.head_hash, HexField<32>(obj, "head_hash", kDoc));
  SQLX_ASSIGN_OR_RETURN(c.root, HexField<32>(obj, "root", kDoc));
  SQLX_ASSIGN_OR_RETURN(c.public_key, HexField<32>(obj, "public_key", kDoc));
  SQLX_ASSIGN_OR_RETURN(c.signature, HexField<64>(obj, "signature", kDoc));
  return c;
}

Result<json> ParseObject(std::string_view text, std::string_view doc) {
  json obj = json::parse(text, nullptr, false);
  if (obj.is_discarded() || !obj.is_object()) return Bad(doc, "not a JSON object");
  return obj;
}

Result<InclusionProofDoc> InclusionFromObject(const json& obj) {
  constexpr std::string_view kDoc = "inclusion proof";
  InclusionProofDoc p;
  SQLX_ASSIGN_OR_RETURN(p.seq, U64Field(obj, "seq", kDoc));
  SQLX_ASSIGN_OR_RETURN(p.tree_size, U64Field(obj, "tree_size", kDoc));
  SQLX_ASSIGN_OR_RETURN(std::string event_hex, StringField(obj, "event", kDoc));
  std::optional<std::string> bytes = codec::HexDecode(event_hex);
  if (!bytes) return Bad(kDoc, "\"event\" must be hex");
  p.event_bytes = std::move(*bytes);
  SQLX_ASSIGN_OR_RETURN(p.path, PathField(obj, kDoc));
  return p;
}

Result<ConsistencyProofDoc> ConsistencyFromObject(const json& obj) {
  constexpr std::string_view kDoc = "consistency proof";
  ConsistencyProofDoc p;
  SQLX_ASSIGN_OR_RETURN(p.first, U64Field(obj, "first", kDoc));
  SQLX_ASSIGN_OR_RETURN(p.second, U64Field(obj, "second", kDoc));
  SQLX_ASSIGN_OR_RETURN(p.first_root, HexField<32>(obj, "first_root", kDoc));
  SQLX_ASSIGN_OR_RETURN(p.second_root, HexField<32>(obj, "second_root", kDoc));
  SQLX_ASSIGN_OR_RETURN(p.path, PathField(obj, kDoc));
  if (auto it = obj.find("checkpoints"); it != obj.end()) {
    if (!it->is_array() || it->size() > 2) return Bad(kDoc, "\"checkpoints\" must be an array of at most 2");
    for (const json& item : *it) {
      SQLX_ASSIGN_OR_RETURN(Checkpoint c, CheckpointFromObject(item));
      p.checkpoints.push_back(c);
    }
  }
  return p;
}

}  // namespace

std::string CheckpointToJson(const Checkpoint& checkpoint) { return CheckpointObject(checkpoint).dump(2) + "\n"; }

std::string InclusionProofToJson(const InclusionProofDoc& proof) {
  json path = json::array();
  for (const Hash& h : proof.path) path.push_back(ToHex(h));
  json out = {{"format", kInclusionFormat},         {"seq", proof.seq},
              {"tree_size", proof.tree_size},       {"event", codec::HexEncode(proof.event_bytes)},
              {"leaf_hash", ToHex(LeafHash(proof.event_bytes))}, {"path", path}};
  return out.dump(2) + "\n";
}

std::string ConsistencyProofToJson(const ConsistencyProofDoc& proof) {
  json path = json::array();
  for (const Hash& h : proof.path) path.push_back(ToHex(h));
  json checkpoints = json::array();
  for (const Checkpoint& c : proof.checkpoints) checkpoints.push_back(CheckpointObject(c));
  json out = {{"format", kConsistencyFormat},
              {"first", proof.first},
              {"second", proof.second},
              {"first_root", ToHex(proof.first_root)},
              {"second_root", ToHex(proof.second_root)},
              {"path", path},
              {"checkpoints", checkpoints}};
  return out.dump(2) + "\n";
}

Result<Checkpoint> ParseCheckpointJson(std::string_view text) {
  SQLX_ASSIGN_OR_RETURN(json obj, ParseObject(text, "checkpoint"));
  return CheckpointFromObject(obj);
}

Result<ProofDocument> ParseProofJson(std::string_view text) {
  SQLX_ASSIGN_OR_RETURN(json obj, ParseObject(text, "proof"));
  SQLX_ASSIGN_OR_RETURN(std::string format, StringField(obj, "format", "proof"));
  ProofDocument doc;
  if (format == kInclusionFormat) {
    SQLX_ASSIGN_OR_RETURN(doc.inclusion, InclusionFromObject(obj));
  } else if (format == kConsistencyFormat) {
    SQLX_ASSIGN_OR_RETURN(doc.consistency, ConsistencyFromObject(obj));
  } else {
    return Bad("proof", "unknown format \"" + format + "\"");
  }
  return doc;
}

ProofVerdict CheckInclusion(const InclusionProofDoc& proof, const Checkpoint& checkpoint,
                            const std::optional<PublicKey>& trusted_key) {
  const PublicKey key = trusted_key.value_or(checkpoint.public_key);
  if (!CheckpointSignatureValid(checkpoint, key)) {
    return {false, "bad signature: the checkpoint is not signed by " +
                       std::string(trusted_key ? "the trusted key" : "the key it names")};
  }
  if (proof.tree_size != checkpoint.tree_size) {
    return {false, "the proof is for tree size " + std::to_string(proof.tree_size) + " but the checkpoint covers " +
                       std::to_string(checkpoint.tree_size) + ": run `sqlx audit prove SEQ --checkpoint FILE`"};
  }
  auto event = DecodeCanonicalBytes(proof.event_bytes);
  if (!event.ok()) return {false, event.error().message};
  if (event->seq != proof.seq || proof.seq == 0) {
    return {false, "the event's seq " + std::to_string(event->seq) + " is not the proof's seq " +
                       std::to_string(proof.seq)};
  }
  if (!VerifyInclusion(proof.seq - 1, proof.tree_size, event->hash, proof.path, checkpoint.root)) {
    return {false, "the inclusion path does not lead to the checkpoint's root"};
  }
  return {true, "event " + std::to_string(proof.seq) + " (" + event->action + ") is in the log of " +
                    std::to_string(checkpoint.tree_size) + " events signed at " + Rfc3339(checkpoint.time_ns, 9)};
}

ProofVerdict CheckConsistency(const ConsistencyProofDoc& proof, const std::vector<Checkpoint>& trusted,
                              const std::optional<PublicKey>& trusted_key) {
  if (trusted.empty() && !trusted_key) return {false, "give a checkpoint (or a public key) to check against"};
  const PublicKey key = trusted_key ? *trusted_key : trusted.front().public_key;
  for (const Checkpoint& c : trusted) {
    if (!CheckpointSignatureValid(c, key)) {
      return {false, "bad signature on the checkpoint of size " + std::to_string(c.tree_size)};
    }
  }
  auto anchored = [&](uint64_t size, const Hash& root) -> std::optional<std::string> {
    for (const Checkpoint& c : trusted) {
      if (c.tree_size == size) {
        if (c.root != root) return "the proof's root of size " + std::to_string(size) + " differs from the checkpoint's";
        return std::nullopt;
      }
    }
    for (const Checkpoint& c : proof.checkpoints) {
      if (c.tree_size == size && c.root == root && CheckpointSignatureValid(c, key)) return std::nullopt;
    }
    return "the root of size " + std::to_string(size) + " is not anchored by a trusted or validly signed checkpoint";
  };
  if (auto why = anchored(proof.first, proof.first_root)) return {false, *why};
  if (auto why = anchored(proof.second, proof.second_root)) return {false, *why};
  if (!VerifyConsistency(proof.first, proof.second, proof.first_root, proof.second_root, proof.path)) {
    return {false, "the consistency path does not link the two roots"};
  }
  return {true, "the log of " + std::to_string(proof.first) + " events is a prefix of the log of " +
                    std::to_string(proof.second) + " events"};
}

}  // namespace sqlx::storage
