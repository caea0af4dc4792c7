// AuditLog's tamper cases: a store edited with RocksDB directly, each edit
// detected by the verifier with the right kind and seq.
#include "sqlx/storage/audit_log.h"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "audit_log_fixture.h"
#include "audit_tamper.h"
#include "store_fixtures.h"

namespace sqlx::storage {
namespace {

TEST_F(AuditTamperTest, FlippedByteInAnyEventIsPayloadModified) {
  for (uint64_t seq : {1u, 7u, 30u}) {
    std::string value;
    {
      AuditTamper raw(dir_.path());
      value = raw.EventValue(seq);
      std::string flipped = value;
      flipped[flipped.size() - 40] ^= 0x20;  // a byte of the details
      raw.PutEventValue(seq, flipped);
    }
    Reopen();
    ExpectFault(Verify(exported_), AuditFault::kPayloadModified, seq);
    Close();
    AuditTamper(dir_.path()).PutEventValue(seq, value);  // restore for the next case
  }
  {
    AuditTamper raw(dir_.path());
    raw.PutEventValue(5, raw.EventValue(5).substr(0, 20));  // not even decodable
  }
  Reopen();
  ExpectFault(Verify(exported_), AuditFault::kPayloadModified, 5);
}

TEST_F(AuditTamperTest, DeletedEventIsMissing) {
  AuditTamper(dir_.path()).DeleteEvent(12);
  Reopen();
  ExpectFault(Verify(exported_), AuditFault::kMissing, 12);
}

TEST_F(AuditTamperTest, SwappedEventsAreReordered) {
  {
    AuditTamper raw(dir_.path());
    const std::string a = raw.EventValue(4);
    const std::string b = raw.EventValue(9);
    raw.PutEventValue(4, b);
    raw.PutEventValue(9, a);
  }
  Reopen();
  ExpectFault(Verify(exported_), AuditFault::kReordered, 4);
}

TEST_F(AuditTamperTest, OneEventReHashedBreaksTheNextLink) {
  {
    AuditTamper raw(dir_.path());
    AuditEvent e = raw.Event(6);
    e.action = "nothing.to.see";
    const std::string bytes = CanonicalBytes(e);
    raw.PutEventValue(6, EncodeStoredEvent(bytes, LeafHash(bytes)));
  }
  Reopen();
  ExpectFault(Verify(exported_), AuditFault::kPrevHashMismatch, 7);
}

TEST_F(AuditTamperTest, InsertedEventBeyondTheHeadIsInserted) {
  {
    AuditTamper raw(dir_.path());
    AuditEvent last = raw.Event(30);
    AuditEvent fake = Ev("fake");
    fake.seq = 31;
    fake.prev_hash = last.hash;
    const std::string bytes = CanonicalBytes(fake);
    raw.PutEventValue(31, EncodeStoredEvent(bytes, LeafHash(bytes)));
  }
  Reopen();
  ExpectFault(Verify(exported_), AuditFault::kInserted, 31);
}

TEST_F(AuditTamperTest, TruncatedTailIsCaughtByTheExportedCheckpoint) {
  {
    // Remove events 26..30 and every trace of them the store keeps: the
    // checkpoint at 30 and the head (rewritten for 25 events).
    AuditTamper raw(dir_.path());
    for (uint64_t seq = 26; seq <= 30; ++seq) raw.DeleteEvent(seq);
    raw.Delete("audit_checkpoints", audit_keys::SeqKey(30));
    raw.RewriteChain(0, [](AuditEvent&) {});
  }
  Reopen();
  // The store alone looks whole ...
  AuditVerifyReport alone = Verify();
  EXPECT_TRUE(alone.ok) << alone.message;
  // ... the checkpoint kept elsewhere is not fooled.
  ExpectFault(Verify(exported_), AuditFault::kTruncated, 26);
}

TEST_F(AuditTamperTest, TruncationWithCheckpointsLeftBehindIsTruncated) {
  {
    AuditTamper raw(dir_.path());
    for (uint64_t seq = 28; seq <= 30; ++seq) raw.DeleteEvent(seq);
  }
  Reopen();
  ExpectFault(Verify(), AuditFault::kTruncated, 28);
  // Nothing is appended (or signed) on top of a tail that changed under the head.
  auto appended = log_->Append({Ev("after")});
  ASSERT_FALSE(appended.ok());
  EXPECT_NE(appended.error().message.find("run `sqlx audit verify`"), std::string::npos) << appended.error().message;
  EXPECT_FALSE(log_->CheckpointNow().ok());
}

TEST_F(AuditTamperTest, DamagedHeadRecordIsReportedAndStopsAppends) {
  AuditTamper(dir_.path()).Put("meta", std::string(audit_keys::kHeadKey), "{not json");
  Reopen();
  ExpectFault(Verify(exported_), AuditFault::kHeadDamaged, 0);
  EXPECT_FALSE(log_->Append({Ev("after")}).ok());
}

TEST_F(AuditTamperTest, ReHashedChainWithoutTheKeyIsARootMismatch) {
  AuditTamper(dir_.path()).RewriteChain(14, [](AuditEvent& e) { e.details_json = R"({"n":2})"; });
  Reopen();
  // Every link holds; the checkpoint signed at 21 no longer matches.
  ExpectFault(Verify(), AuditFault::kRootMismatch, 21);
  ExpectFault(Verify(exported_), AuditFault::kRootMismatch, 21);
}

TEST_F(AuditTamperTest, ReSignedWithAKeyKeptInTheStoreIsABadSignature) {
  const std::string planted = dir_.path() + "/planted.pem";
  ASSERT_TRUE(AuditSigningKey::Generate(planted).ok());
  auto attacker = AuditSigningKey::Load(planted);
  ASSERT_TRUE(attacker.ok());
  AuditTamper(dir_.path()).RewriteChain(14, [](AuditEvent& e) { e.details_json = R"({"n":2})"; }, &*attacker);
  Reopen();
  // Trusting only the store's own keys, the forgery passes ...
  AuditVerifyReport fooled = Verify(std::nullopt, /*with_key=*/false);
  EXPECT_TRUE(fooled.ok) << fooled.message;
  EXPECT_FALSE(fooled.anchored);
  // ... a key or checkpoint from outside the store catches it.
  ExpectFault(Verify(), AuditFault::kBadSignature, 1);
  AuditVerifyOptions by_checkpoint;
  by_checkpoint.trusted_checkpoint = exported_;
  auto r = log_->Verify(by_checkpoint);
  ASSERT_TRUE(r.ok());
  ExpectFault(*r, AuditFault::kBadSignature, 1);
}

}  // namespace
}  // namespace sqlx::storage
