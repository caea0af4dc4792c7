// The AuditLog test fixtures shared by the audit tests: a log on a real
// store with a signing key (AuditLogTest), and one of 30 events with an
// exported checkpoint, closed so that AuditTamper can edit it (AuditTamperTest).
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "sqlx/storage/audit_log.h"
#include "store_fixtures.h"

namespace sqlx::storage {

inline AuditEvent Ev(const std::string& action, const std::string& db = "shop", const std::string& table = "",
                     int64_t time_ns = 0) {
  AuditEvent e = NewAuditEvent(action);
  e.object.connection = kConn;
  e.object.database = db;
  e.object.table = table;
  if (time_ns != 0) e.time_ns = time_ns;
  e.details_json = R"({"n":1})";
  return e;
}

class AuditLogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_file_ = key_dir_.path() + "/audit.pem";
    auto pub = AuditSigningKey::Generate(key_file_);
    ASSERT_TRUE(pub.ok()) << pub.error().message;
    pubkey_ = *pub;
    Reopen();
  }

  void Reopen(uint64_t every = 10) {
    log_.reset();
    store_.reset();
    store_ = OpenStore(dir_.path());
    ASSERT_NE(store_, nullptr);
    AuditLogOptions options;
    options.signing_key_file = key_file_;
    options.checkpoint_every_events = every;
    options.checkpoint_every = std::chrono::hours(1);
    auto log = AuditLog::Open(*store_, options);
    ASSERT_TRUE(log.ok()) << log.error().message;
    log_ = std::move(log).value();
  }

  void Close() {
    log_.reset();
    store_.reset();
  }

  // Appends `n` events one group each.
  void AppendMany(int n, const std::string& db = "shop") {
    for (int i = 0; i < n; ++i) {
      auto r = log_->Append({Ev("test.step", db, "t" + std::to_string(i % 3))});
      ASSERT_TRUE(r.ok()) << r.error().message;
    }
  }

  AuditVerifyReport Verify(std::optional<Checkpoint> checkpoint = std::nullopt, bool with_key = true) {
    AuditVerifyOptions options;
    if (with_key) options.trusted_key = pubkey_;
    options.trusted_checkpoint = checkpoint;
    auto report = log_->Verify(options);
    EXPECT_TRUE(report.ok()) << report.error().message;
    return report.ok() ? *report : AuditVerifyReport{};
  }

  void ExpectFault(const AuditVerifyReport& r, AuditFault fault, uint64_t seq) {
    EXPECT_FALSE(r.ok);
    ASSERT_TRUE(r.fault.has_value()) << r.message;
    EXPECT_EQ(AuditFaultName(*r.fault), AuditFaultName(fault)) << r.message;
    EXPECT_EQ(r.bad_seq, seq) << r.message;
  }

  TempDir dir_;
  TempDir key_dir_;
  std::string key_file_;
  PublicKey pubkey_{};
  std::unique_ptr<Store> store_;
  std::unique_ptr<AuditLog> log_;
};

class AuditTamperTest : public AuditLogTest {
 protected:
  void SetUp() override {
    AuditLogTest::SetUp();
    AppendMany(30);  // checkpoints at 1, 11, 21
    auto c = log_->CheckpointNow();  // and 30, exported
    ASSERT_TRUE(c.ok());
    exported_ = *c;
    ASSERT_TRUE(Verify(exported_).ok);
    Close();
  }
  Checkpoint exported_;
};

}  // namespace sqlx::storage
