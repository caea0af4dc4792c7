// A tamper tool for the audit tests: edits the store's RocksDB directly, as
// someone with write access to the directory (but not the signing key)
// could. REQUIRES: no Store is open on the directory.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "audit_keys.h"
#include "audit_log_impl.h"
#include "sqlx/storage/audit_checkpoint.h"
#include "sqlx/storage/audit_event.h"
#include "sqlx/storage/audit_proof.h"
#include "store_fixtures.h"

namespace sqlx::storage {

class AuditTamper {
 public:
  explicit AuditTamper(const std::string& dir) : raw_(dir) {}

  std::string Get(const std::string& family, const std::string& key) { return raw_.Get(family, key); }
  void Put(const std::string& family, const std::string& key, const std::string& value) {
    ASSERT_TRUE(raw_.db->Put(rocksdb::WriteOptions(), raw_.Family(family), key, value).ok());
  }
  void Delete(const std::string& family, const std::string& key) {
    ASSERT_TRUE(raw_.db->Delete(rocksdb::WriteOptions(), raw_.Family(family), key).ok());
  }

  std::string EventValue(uint64_t seq) { return Get("audit_events", audit_keys::SeqKey(seq)); }
  void PutEventValue(uint64_t seq, const std::string& value) { Put("audit_events", audit_keys::SeqKey(seq), value); }
  void DeleteEvent(uint64_t seq) { Delete("audit_events", audit_keys::SeqKey(seq)); }
  AuditEvent Event(uint64_t seq) {
    std::string value = EventValue(seq);
    auto e = DecodeCanonicalBytes(std::string_view(value).substr(0, value.size() - 32));
    EXPECT_TRUE(e.ok());
    return e.ok() ? *e : AuditEvent{};
  }

  // Re-hashes the chain from `from` on after `mutate` changed event `from`:
  // events, Merkle nodes and the head record become consistent again. With
  // `resign`, every stored checkpoint is recomputed and signed by that key.
  void RewriteChain(uint64_t from, const std::function<void(AuditEvent&)>& mutate,
                    const AuditSigningKey* resign = nullptr) {
    std::map<uint64_t, AuditEvent> events;
    std::unique_ptr<rocksdb::Iterator> it(raw_.db->NewIterator(rocksdb::ReadOptions(), raw_.Family("audit_events")));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const uint64_t seq = audit_keys::GetU64(it->key().ToStringView());
      events[seq] = Event(seq);
    }
    std::map<uint64_t, Checkpoint> checkpoints;
    std::unique_ptr<rocksdb::Iterator> cit(
        raw_.db->NewIterator(rocksdb::ReadOptions(), raw_.Family("audit_checkpoints")));
    for (cit->SeekToFirst(); cit->Valid(); cit->Next()) {
      auto c = ParseCheckpointJson(cit->value().ToStringView());
      ASSERT_TRUE(c.ok());
      checkpoints[c->tree_size] = *c;
    }
    MerkleFrontier frontier;
    Hash prev{};
    for (auto& [seq, e] : events) {
      if (seq == from) mutate(e);
      e.prev_hash = prev;
      const std::string bytes = CanonicalBytes(e);
      e.hash = LeafHash(bytes);
      PutEventValue(seq, EncodeStoredEvent(bytes, e.hash));
      frontier.Append(e.hash, [&](int level, uint64_t index, const Hash& h) {
        Put("audit_nodes", audit_keys::NodeKey(level, index), std::string(h.begin(), h.end()));
      });
      prev = e.hash;
      if (resign != nullptr && checkpoints.count(seq) != 0) {
        Checkpoint c = checkpoints[seq];
        c.root = frontier.Root();
        c.head_hash = prev;
        auto signed_c = resign->Sign(c);
        ASSERT_TRUE(signed_c.ok());
        Put("audit_checkpoints", audit_keys::SeqKey(seq), CheckpointToJson(*signed_c));
      }
    }
    auto head = DecodeAuditHead(Get("meta", std::string(audit_keys::kHeadKey)), "test");
    ASSERT_TRUE(head.ok());
    head->size = frontier.size();
    head->head_hash = prev;
    head->frontier = frontier.nodes();
    Put("meta", std::string(audit_keys::kHeadKey), EncodeAuditHead(*head));
  }

 private:
  RawDb raw_;
};

}  // namespace sqlx::storage
