// Retention: AuditLog::Prune turns events older than a cutoff into pruned
// leaves (hash only) after verifying the log; links, roots, checkpoints and
// proofs still verify, the index no longer names pruned events, the prune is
// an event, and a modified pruned leaf is still caught.
#include <chrono>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "audit_keys.h"
#include "audit_log_fixture.h"
#include "audit_tamper.h"
#include "sqlx/storage/audit_proof.h"

namespace sqlx::storage {
namespace {

constexpr int64_t kDay = int64_t{86400} * 1000000000;

int64_t Now() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

class AuditRetentionTest : public AuditLogTest {
 protected:
  // Events 1..10 are 100 days old (on database "old"), 11..20 are new (on
  // "shop"); checkpoints at 1, 11 and 20 (exported).
  void SetUp() override {
    AuditLogTest::SetUp();
    for (int i = 0; i < 10; ++i) {
      ASSERT_TRUE(log_->Append({Ev("old.step", "old", "t" + std::to_string(i % 2), now_ - 100 * kDay + i)}).ok());
    }
    AppendMany(10);
    auto c = log_->CheckpointNow();
    ASSERT_TRUE(c.ok());
    exported_ = *c;
  }

  AuditPruneReport Prune(int64_t cutoff) {
    AuditPruneOptions options;
    options.cutoff_ns = cutoff;
    options.trust.trusted_key = pubkey_;
    auto r = log_->Prune(options, NewAuditEvent("ignored"));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : AuditPruneReport{};
  }

  // Every key of audit_index, as raw bytes.
  std::vector<std::string> IndexKeys() {
    Close();
    std::vector<std::string> keys;
    RawDb raw(dir_.path());
    std::unique_ptr<rocksdb::Iterator> it(raw.db->NewIterator(rocksdb::ReadOptions(), raw.Family("audit_index")));
    for (it->SeekToFirst(); it->Valid(); it->Next()) keys.push_back(it->key().ToString());
    return keys;
  }

  const int64_t now_ = Now();
  Checkpoint exported_;
};

TEST_F(AuditRetentionTest, PrunesOldEventsToLeafHashesAndStillVerifies) {
  const AuditPruneReport r = Prune(now_ - 90 * kDay);
  ASSERT_TRUE(r.verified.ok) << r.verified.message;
  EXPECT_EQ(r.pruned, 10u);
  EXPECT_EQ(r.first_seq, 1u);
  EXPECT_EQ(r.last_seq, 10u);
  // The prune is an event: who (this process's user), the cutoff, the count.
  EXPECT_EQ(r.recorded.seq, 21u);
  EXPECT_EQ(r.recorded.action, "audit.prune");
  EXPECT_FALSE(r.recorded.actor.os_user.empty());
  const nlohmann::json details = nlohmann::json::parse(r.recorded.details_json);
  EXPECT_EQ(details["pruned"], 10);
  EXPECT_EQ(details["cutoff_ns"], now_ - 90 * kDay);
  EXPECT_EQ(details["first_seq"], 1);
  EXPECT_EQ(details["last_seq"], 10);

  const AuditVerifyReport v = Verify(exported_);
  EXPECT_TRUE(v.ok) << v.message;
  EXPECT_EQ(v.events, 21u);
  EXPECT_EQ(v.pruned, 10u);
  EXPECT_NE(v.message.find("10 of the events pruned"), std::string::npos) << v.message;
  ASSERT_TRUE(log_->Append({Ev("after")}).ok());
  EXPECT_TRUE(Verify(exported_).ok);

  Close();
  AuditTamper raw(dir_.path());
  for (uint64_t seq = 1; seq <= 10; ++seq) {
    const std::string value = raw.EventValue(seq);
    ASSERT_EQ(value.size(), kPrunedLeafSize);
    EXPECT_EQ(value.find("old.step"), std::string::npos);
    EXPECT_EQ(static_cast<uint8_t>(value[0]), kPrunedLeafTag);
  }
  EXPECT_NE(raw.EventValue(11).find("test.step"), std::string::npos);
}

TEST_F(AuditRetentionTest, ProofsOverPrunedRangesStillVerifyOffline) {
  ASSERT_EQ(Prune(now_ - 90 * kDay).pruned, 10u);
  // The pruned event itself cannot be proven: its bytes are gone.
  auto gone = log_->ProveInclusion(3, exported_.tree_size);
  ASSERT_FALSE(gone.ok());
  EXPECT_NE(gone.error().message.find("pruned"), std::string::npos) << gone.error().message;
  // Every other event still is, with paths through pruned leaves.
  for (uint64_t seq = 11; seq <= exported_.tree_size; ++seq) {
    auto proof = log_->ProveInclusion(seq, exported_.tree_size);
    ASSERT_TRUE(proof.ok()) << proof.error().message;
    const ProofVerdict verdict = CheckInclusion(*proof, exported_, pubkey_);
    EXPECT_TRUE(verdict.valid) << seq << ": " << verdict.reason;
  }
  auto later = log_->CheckpointNow();
  ASSERT_TRUE(later.ok());
  auto consistency = log_->ProveConsistency(5, later->tree_size);
  ASSERT_TRUE(consistency.ok()) << consistency.error().message;
  auto first = log_->ProveConsistency(exported_.tree_size, later->tree_size);
  ASSERT_TRUE(first.ok());
  EXPECT_TRUE(CheckConsistency(*first, {exported_, *later}, pubkey_).valid);
}

TEST_F(AuditRetentionTest, QueriesSkipPrunedEventsAndTheIndexNoLongerNamesThem) {
  ASSERT_EQ(Prune(now_ - 90 * kDay).pruned, 10u);
  AuditQuery by_db;
  by_db.database = "old";
  auto old = log_->Query(by_db);
  ASSERT_TRUE(old.ok());
  EXPECT_TRUE(old->events.empty());
  EXPECT_EQ(old->unreadable, 0u);

  AuditQuery by_time;
  by_time.since_ns = now_ - 200 * kDay;
  by_time.limit = 1000;
  auto all = log_->Query(by_time);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->events.size(), 11u);  // 10 new events and the prune
  EXPECT_EQ(all->events.front().seq, 11u);
  EXPECT_EQ(all->events.back().action, "audit.prune");
  EXPECT_EQ(all->unreadable, 0u);

  AuditQuery by_action;
  by_action.action = "test.step";
  auto kept = log_->Query(by_action);
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->events.size(), 10u);

  for (const std::string& key : IndexKeys()) {
    EXPECT_EQ(key.find("old"), std::string::npos) << "an index entry still names a pruned event: " << key;
  }
}

TEST_F(AuditRetentionTest, PrunesOldEventsOfMixedAppendsAndAfterAClockStepBack) {
  // One append mixing old and new events on one table, and an old event
  // written after newer ones (the writer's clock stepped back).
  ASSERT_TRUE(log_->Append({Ev("mixed", "shop", "m", now_ - 95 * kDay), Ev("mixed", "shop", "m")}).ok());
  ASSERT_TRUE(log_->Append({Ev("stepped.back", "shop", "m", now_ - 120 * kDay)}).ok());
  const AuditPruneReport r = Prune(now_ - 90 * kDay);
  EXPECT_EQ(r.pruned, 12u);
  EXPECT_EQ(r.last_seq, 23u);
  AuditQuery by_table;
  by_table.object = "shop.m";
  auto kept = log_->Query(by_table);
  ASSERT_TRUE(kept.ok());
  ASSERT_EQ(kept->events.size(), 1u);
  EXPECT_EQ(kept->events[0].seq, 22u);
  // One time entry lists 2..23 (the index is written every 8192 events, here
  // by the prune): it stays, as it lists new events too, and a time query
  // reaches the pruned 2..10, 21 and 23 through it and skips them.
  AuditQuery by_time;
  by_time.since_ns = now_ - 200 * kDay;
  by_time.limit = 1000;
  auto timeline = log_->Query(by_time);
  ASSERT_TRUE(timeline.ok());
  EXPECT_EQ(timeline->pruned, 11u);
  EXPECT_EQ(timeline->unreadable, 0u);
  EXPECT_EQ(timeline->events.size(), 12u);  // 11..20, 22 and the prune
  EXPECT_TRUE(Verify().ok);

  // Pruning again prunes nothing more, and is recorded again.
  const AuditPruneReport again = Prune(now_ - 90 * kDay);
  EXPECT_EQ(again.pruned, 0u);
  EXPECT_EQ(again.verified.pruned, 12u);
  EXPECT_EQ(nlohmann::json::parse(again.recorded.details_json)["pruned_total"], 12);
  const AuditVerifyReport v = Verify();
  EXPECT_TRUE(v.ok) << v.message;
  EXPECT_EQ(v.pruned, 12u);
}

TEST_F(AuditRetentionTest, ALogThatDoesNotVerifyIsNotPruned) {
  Close();
  {
    AuditTamper raw(dir_.path());
    std::string value = raw.EventValue(4);
    value[value.size() - 40] ^= 0x20;
    raw.PutEventValue(4, value);
  }
  Reopen();
  const AuditPruneReport r = Prune(now_ - 90 * kDay);
  EXPECT_FALSE(r.verified.ok);
  ASSERT_TRUE(r.verified.fault.has_value());
  EXPECT_EQ(*r.verified.fault, AuditFault::kPayloadModified);
  EXPECT_EQ(r.pruned, 0u);
  EXPECT_EQ(log_->Size(), 20u);  // not recorded either
  // The changed event was not laundered into a hash-only leaf.
  ExpectFault(Verify(), AuditFault::kPayloadModified, 4);
}

// A pruned leaf's hash cannot be recomputed; links and roots still hold it.
TEST_F(AuditRetentionTest, AModifiedPrunedLeafIsDetected) {
  ASSERT_EQ(Prune(now_ - 90 * kDay).pruned, 10u);
  Close();
  struct Case {
    const char* name;
    uint64_t seq;
    size_t byte;  // offset in the 73-byte leaf to flip
    AuditFault fault;
    uint64_t bad_seq;
  };
  const Case cases[] = {
      {"hash of a leaf before a full event", 10, 50, AuditFault::kPrevHashMismatch, 11},
      {"hash of a leaf before a pruned one", 4, 50, AuditFault::kPrevHashMismatch, 5},
      {"prev_hash", 6, 20, AuditFault::kPrevHashMismatch, 6},
      {"seq", 7, 8, AuditFault::kReordered, 7},
  };
  for (const Case& c : cases) {
    std::string value;
    {
      AuditTamper raw(dir_.path());
      value = raw.EventValue(c.seq);
      std::string flipped = value;
      flipped[c.byte] ^= 0x01;
      raw.PutEventValue(c.seq, flipped);
    }
    Reopen();
    SCOPED_TRACE(c.name);
    ExpectFault(Verify(exported_), c.fault, c.bad_seq);
    Close();
    AuditTamper(dir_.path()).PutEventValue(c.seq, value);
  }
  {
    // A leaf's hash and the next leaf's prev_hash changed together: every
    // link holds, the signed roots over them do not.
    AuditTamper raw(dir_.path());
    std::string four = raw.EventValue(4);
    std::string five = raw.EventValue(5);
    four[41 + 19] ^= 0x01;  // byte 19 of the hash
    five[9 + 19] ^= 0x01;   // byte 19 of the prev_hash
    raw.PutEventValue(4, four);
    raw.PutEventValue(5, five);
  }
  Reopen();
  ExpectFault(Verify(exported_), AuditFault::kRootMismatch, 11);
  Close();
  {
    AuditTamper raw(dir_.path());
    raw.PutEventValue(8, raw.EventValue(8).substr(0, 72));
  }
  Reopen();
  ExpectFault(Verify(exported_), AuditFault::kPayloadModified, 8);
}

}  // namespace
}  // namespace sqlx::storage
