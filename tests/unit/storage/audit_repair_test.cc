// AuditLog::RepairHead: a head record damaged with the tamper tool is rebuilt
// from the verified events, appends resume and the repair is an event; a bad
// chain (or a truncation an exported checkpoint sees) is refused untouched.
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "audit_keys.h"
#include "audit_log_fixture.h"
#include "audit_tamper.h"

namespace sqlx::storage {
namespace {

class AuditRepairTest : public AuditTamperTest {
 protected:
  AuditRepairReport Repair(std::optional<Checkpoint> checkpoint = std::nullopt) {
    AuditVerifyOptions trust;
    trust.trusted_key = pubkey_;
    trust.trusted_checkpoint = checkpoint;
    auto r = log_->RepairHead(trust, NewAuditEvent("ignored"));
    EXPECT_TRUE(r.ok()) << r.error().message;
    return r.ok() ? *r : AuditRepairReport{};
  }

  void PutHead(const std::string& value) {
    AuditTamper(dir_.path()).Put("meta", std::string(audit_keys::kHeadKey), value);
  }
};

TEST_F(AuditRepairTest, AnUndecodableHeadIsRebuiltAndAppendsResume) {
  PutHead("{not json");
  Reopen();
  ASSERT_FALSE(log_->Append({Ev("refused")}).ok());
  const AuditRepairReport r = Repair(exported_);
  ASSERT_TRUE(r.verified.ok) << r.verified.message;
  EXPECT_TRUE(r.repaired);
  EXPECT_EQ(r.size, 30u);
  EXPECT_NE(r.damage.find("damaged"), std::string::npos) << r.damage;
  EXPECT_EQ(r.recorded.seq, 31u);
  EXPECT_EQ(r.recorded.action, "audit.repair");
  EXPECT_EQ(nlohmann::json::parse(r.recorded.details_json)["damage"], "undecodable");

  auto appended = log_->Append({Ev("after")});
  ASSERT_TRUE(appended.ok()) << appended.error().message;
  EXPECT_EQ((*appended)[0].seq, 32u);
  ASSERT_TRUE(log_->CheckpointNow().ok());
  Reopen();  // the rebuilt head was stored, not only kept in memory
  EXPECT_EQ(log_->Size(), 32u);
  const AuditVerifyReport v = Verify(exported_);
  EXPECT_TRUE(v.ok) << v.message;
  EXPECT_EQ(v.events, 32u);
  AuditQuery q;
  q.action = "audit.repair";
  auto found = log_->Query(q);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->events.size(), 1u);
  EXPECT_EQ(found->events[0].seq, 31u);
}

TEST_F(AuditRepairTest, AHeadThatNoLongerMatchesTheEventsIsRebuilt) {
  {
    AuditTamper raw(dir_.path());
    auto head = DecodeAuditHead(raw.Get("meta", std::string(audit_keys::kHeadKey)), "test");
    ASSERT_TRUE(head.ok());
    head->head_hash = Hash{};  // decodes, but names another newest event
    raw.Put("meta", std::string(audit_keys::kHeadKey), EncodeAuditHead(*head));
  }
  Reopen();
  ASSERT_FALSE(log_->Append({Ev("refused")}).ok());
  const AuditRepairReport r = Repair();
  ASSERT_TRUE(r.repaired) << r.verified.message;
  const nlohmann::json details = nlohmann::json::parse(r.recorded.details_json);
  EXPECT_EQ(details["damage"], "mismatch");
  EXPECT_EQ(details["previous_size"], 30);
  EXPECT_EQ(details["size"], 30);
  ASSERT_TRUE(log_->Append({Ev("after")}).ok());
  EXPECT_TRUE(Verify(exported_).ok);
}

TEST_F(AuditRepairTest, ABadChainIsRefusedAndLeftUntouched) {
  PutHead("{not json");
  {
    AuditTamper raw(dir_.path());
    std::string value = raw.EventValue(17);
    value[value.size() - 40] ^= 0x20;
    raw.PutEventValue(17, value);
  }
  Reopen();
  const AuditRepairReport r = Repair();
  EXPECT_FALSE(r.repaired);
  ASSERT_TRUE(r.verified.fault.has_value());
  EXPECT_EQ(*r.verified.fault, AuditFault::kPayloadModified);
  EXPECT_EQ(r.verified.bad_seq, 17u);
  EXPECT_FALSE(log_->Append({Ev("still refused")}).ok());
  Reopen();
  ExpectFault(Verify(), AuditFault::kPayloadModified, 17);
}

TEST_F(AuditRepairTest, ATruncationTheExportedCheckpointCoversIsRefused) {
  {
    AuditTamper raw(dir_.path());
    for (uint64_t seq = 28; seq <= 30; ++seq) raw.DeleteEvent(seq);
    raw.Delete("audit_checkpoints", audit_keys::SeqKey(30));
  }
  PutHead("{not json");
  Reopen();
  const AuditRepairReport refused = Repair(exported_);
  EXPECT_FALSE(refused.repaired);
  ASSERT_TRUE(refused.verified.fault.has_value());
  EXPECT_EQ(*refused.verified.fault, AuditFault::kTruncated);
  EXPECT_EQ(refused.verified.bad_seq, 28u);
  EXPECT_FALSE(log_->Append({Ev("still refused")}).ok());
}

TEST_F(AuditRepairTest, AnIntactHeadIsLeftAlone) {
  Reopen();
  const AuditRepairReport r = Repair(exported_);
  EXPECT_TRUE(r.verified.ok) << r.verified.message;
  EXPECT_FALSE(r.repaired);
  EXPECT_EQ(r.size, 30u);
  EXPECT_EQ(log_->Size(), 30u);
}

}  // namespace
}  // namespace sqlx::storage
