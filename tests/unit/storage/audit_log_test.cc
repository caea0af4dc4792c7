// AuditLog on a real store: appends in durable groups, checkpoints, proofs
// from the store checked offline, the timeline query, adding the audit
// families to an existing store. Tamper cases: audit_tamper_test.cc.
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

TEST_F(AuditLogTest, AppendsChainedEventsWithSeqAndHashes) {
  auto r = log_->Append({Ev("a"), Ev("b"), Ev("c")});
  ASSERT_TRUE(r.ok()) << r.error().message;
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].seq, 1u);
  EXPECT_EQ((*r)[0].prev_hash, Hash{});
  EXPECT_EQ((*r)[1].prev_hash, (*r)[0].hash);
  EXPECT_EQ((*r)[2].prev_hash, (*r)[1].hash);
  EXPECT_EQ((*r)[2].hash, LeafHash(CanonicalBytes((*r)[2])));
  EXPECT_EQ(log_->Size(), 3u);
  Reopen();
  EXPECT_EQ(log_->Size(), 3u);
  auto more = log_->Append({Ev("d")});
  ASSERT_TRUE(more.ok());
  EXPECT_EQ((*more)[0].seq, 4u);
  EXPECT_EQ((*more)[0].prev_hash, (*r)[2].hash);
  EXPECT_TRUE(Verify().ok) << Verify().message;
}

// The orchestrator's markers of worker events ride in the events' batch:
// both are written, or neither (a bad record fails the whole append).
TEST_F(AuditLogTest, AppendsFleetRecordsInTheSameBatchOrNothing) {
  auto r = log_->Append({Ev("a"), Ev("b")}, {{"seen/m1", std::string("1")}, {"seen/m2", std::string("1")}});
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(log_->Size(), 2u);
  auto m1 = store_->GetFleet("seen/m1");
  ASSERT_TRUE(m1.ok());
  EXPECT_EQ(m1->value_or(""), "1");

  auto bad = log_->Append({Ev("c")}, {{"seen/m3", std::string("1")}, {"", std::string("1")}});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(log_->Size(), 2u);
  auto m3 = store_->GetFleet("seen/m3");
  ASSERT_TRUE(m3.ok());
  EXPECT_FALSE(m3->has_value());
  Reopen();
  EXPECT_EQ(log_->Size(), 2u);
  auto deleted = log_->Append({Ev("d")}, {{"seen/m1", std::nullopt}});
  ASSERT_TRUE(deleted.ok()) << deleted.error().message;
  auto gone = store_->GetFleet("seen/m1");
  ASSERT_TRUE(gone.ok());
  EXPECT_FALSE(gone->has_value());
  EXPECT_TRUE(Verify().ok) << Verify().message;
}

TEST_F(AuditLogTest, SignsCheckpointsEveryNEventsAndOnDemand) {
  AppendMany(25);
  // The first append is signed at once; then every 10 events.
  for (uint64_t size : {1u, 11u, 21u}) {
    auto c = log_->CheckpointAt(size);
    ASSERT_TRUE(c.ok() && c->has_value()) << size;
    EXPECT_TRUE(CheckpointSignatureValid(**c, pubkey_));
  }
  auto latest = log_->LatestCheckpoint();
  ASSERT_TRUE(latest.ok() && latest->has_value());
  EXPECT_EQ((*latest)->tree_size, 21u);
  auto now = log_->CheckpointNow();
  ASSERT_TRUE(now.ok()) << now.error().message;
  EXPECT_EQ(now->tree_size, 25u);
  EXPECT_EQ(now->head_hash, log_->Query({}).value().events.back().hash);
  auto again = log_->CheckpointNow();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->signature, now->signature);  // nothing new: the same checkpoint
  AuditVerifyReport report = Verify(*now);
  EXPECT_TRUE(report.ok) << report.message;
  EXPECT_TRUE(report.anchored);
  EXPECT_EQ(report.events, 25u);
  EXPECT_EQ(report.checkpoints, 4u);
  EXPECT_EQ(report.unsigned_tail, 0u);
}

TEST_F(AuditLogTest, TimeTriggersACheckpoint) {
  Close();
  store_ = OpenStore(dir_.path());
  AuditLogOptions options;
  options.signing_key_file = key_file_;
  options.checkpoint_every_events = 1000;
  options.checkpoint_every = std::chrono::seconds(0);
  log_ = std::move(AuditLog::Open(*store_, options)).value();
  AppendMany(3);
  for (uint64_t size : {1u, 2u, 3u}) {
    auto c = log_->CheckpointAt(size);
    ASSERT_TRUE(c.ok() && c->has_value()) << size;
  }
}

TEST_F(AuditLogTest, WithoutAKeyEventsAreChainedButNotSigned) {
  Close();
  store_ = OpenStore(dir_.path());
  log_ = std::move(AuditLog::Open(*store_, {})).value();
  AppendMany(3);
  EXPECT_FALSE(log_->CheckpointNow().ok());
  AuditVerifyReport r = Verify(std::nullopt, /*with_key=*/false);
  EXPECT_TRUE(r.ok);
  EXPECT_FALSE(r.anchored);
  EXPECT_EQ(r.unsigned_tail, 3u);
}

TEST_F(AuditLogTest, SigningKeyInsideTheStoreIsRefused) {
  Close();
  const std::string inside = dir_.path() + "/key.pem";
  ASSERT_TRUE(AuditSigningKey::Generate(inside).ok());
  store_ = OpenStore(dir_.path());
  AuditLogOptions options;
  options.signing_key_file = inside;
  auto log = AuditLog::Open(*store_, options);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.error().message.find("inside the store"), std::string::npos) << log.error().message;
}

TEST_F(AuditLogTest, ProofsFromTheStoreVerifyOfflineForEverySeqAndSize) {
  Reopen(/*every=*/1);  // a signed checkpoint at every size
  AppendMany(23);
  for (uint64_t n = 1; n <= 23; ++n) {
    auto c = log_->CheckpointAt(n);
    ASSERT_TRUE(c.ok() && c->has_value()) << n;
    const Checkpoint trusted = **c;
    for (uint64_t seq = 1; seq <= n; ++seq) {
      auto proof = log_->ProveInclusion(seq, n);
      ASSERT_TRUE(proof.ok()) << proof.error().message;
      auto parsed = ParseProofJson(InclusionProofToJson(*proof));
      ASSERT_TRUE(parsed.ok() && parsed->inclusion) << (parsed.ok() ? "" : parsed.error().message);
      ProofVerdict v = CheckInclusion(*parsed->inclusion, trusted, pubkey_);
      EXPECT_TRUE(v.valid) << seq << " in " << n << ": " << v.reason;
    }
  }
  for (uint64_t a = 1; a <= 23; ++a) {
    for (uint64_t b = a; b <= 23; ++b) {
      auto proof = log_->ProveConsistency(a, b);
      ASSERT_TRUE(proof.ok()) << proof.error().message;
      auto parsed = ParseProofJson(ConsistencyProofToJson(*proof));
      ASSERT_TRUE(parsed.ok() && parsed->consistency);
      // Anchored by the trusted key through the embedded signed checkpoints.
      ProofVerdict v = CheckConsistency(*parsed->consistency, {}, pubkey_);
      EXPECT_TRUE(v.valid) << a << " -> " << b << ": " << v.reason;
      // Without any trust anchor nothing is proven.
      EXPECT_FALSE(CheckConsistency(*parsed->consistency, {}, std::nullopt).valid);
    }
  }
  EXPECT_FALSE(log_->ProveInclusion(0, 5).ok());
  EXPECT_FALSE(log_->ProveInclusion(6, 5).ok());
  EXPECT_FALSE(log_->ProveInclusion(1, 24).ok());
  EXPECT_FALSE(log_->ProveConsistency(5, 24).ok());
}

TEST_F(AuditLogTest, InclusionProofFailsAgainstAnotherKeyOrATamperedEvent) {
  AppendMany(12);
  auto c = log_->CheckpointNow();
  ASSERT_TRUE(c.ok());
  auto proof = log_->ProveInclusion(5, c->tree_size);
  ASSERT_TRUE(proof.ok());
  EXPECT_TRUE(CheckInclusion(*proof, *c, pubkey_).valid);
  EXPECT_TRUE(CheckInclusion(*proof, *c, std::nullopt).valid);

  TempDir other_dir;
  auto other = AuditSigningKey::Generate(other_dir.path() + "/k.pem");
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(CheckInclusion(*proof, *c, *other).valid);

  InclusionProofDoc edited = *proof;
  edited.event_bytes[edited.event_bytes.size() - 3] ^= 1;  // inside details
  EXPECT_FALSE(CheckInclusion(edited, *c, pubkey_).valid);
  auto wrong_size = log_->ProveInclusion(5, 11);
  ASSERT_TRUE(wrong_size.ok());
  EXPECT_FALSE(CheckInclusion(*wrong_size, *c, pubkey_).valid);
}

TEST_F(AuditLogTest, ConsistencyBetweenTwoExportedCheckpoints) {
  AppendMany(7);
  auto old_cp = log_->CheckpointNow();
  ASSERT_TRUE(old_cp.ok());
  AppendMany(9);
  auto new_cp = log_->CheckpointNow();
  ASSERT_TRUE(new_cp.ok());
  auto proof = log_->ProveConsistency(old_cp->tree_size, new_cp->tree_size);
  ASSERT_TRUE(proof.ok());
  EXPECT_TRUE(CheckConsistency(*proof, {*old_cp, *new_cp}, std::nullopt).valid);
  EXPECT_TRUE(CheckConsistency(*proof, {*old_cp}, pubkey_).valid);
  // A rewritten history: the old root no longer matches the old checkpoint.
  ConsistencyProofDoc forged = *proof;
  forged.first_root[0] ^= 1;
  forged.checkpoints.clear();
  EXPECT_FALSE(CheckConsistency(forged, {*old_cp, *new_cp}, std::nullopt).valid);
}

TEST_F(AuditLogTest, QueryUsesFiltersAndReturnsTheNewestOldestFirst) {
  const int64_t t0 = 1'700'000'000'000'000'000;
  std::vector<AuditEvent> batch;
  for (int i = 0; i < 30; ++i) {
    AuditEvent e = Ev(i % 2 == 0 ? "learn.finished" : "ping", i % 3 == 0 ? "shop" : "crm", i % 5 == 0 ? "orders" : "",
                      t0 + i * 1'000'000'000LL);
    if (i == 7) {
      e.outcome = AuditOutcome::kFailed;
      e.error = "boom";
    }
    if (i == 8) e.actor.service = "orchestrator";
    batch.push_back(e);
  }
  ASSERT_TRUE(log_->Append(batch).ok());
  auto seqs = [](const AuditQueryResult& result) {
    std::vector<uint64_t> out;
    for (const AuditEvent& e : result.events) out.push_back(e.seq);
    return out;
  };
  AuditQuery q;
  q.database = "shop";
  EXPECT_EQ(seqs(log_->Query(q).value()), (std::vector<uint64_t>{1, 4, 7, 10, 13, 16, 19, 22, 25, 28}));
  q.limit = 3;
  EXPECT_EQ(seqs(log_->Query(q).value()), (std::vector<uint64_t>{22, 25, 28}));
  AuditQuery table;
  table.object = "shop.orders";
  EXPECT_EQ(seqs(log_->Query(table).value()), (std::vector<uint64_t>{1, 16}));
  AuditQuery failed;
  failed.outcome = AuditOutcome::kFailed;
  EXPECT_EQ(seqs(log_->Query(failed).value()), (std::vector<uint64_t>{8}));
  AuditQuery actor;
  actor.actor = "orchestrator";
  EXPECT_EQ(seqs(log_->Query(actor).value()), (std::vector<uint64_t>{9}));
  AuditQuery action;
  action.action = "ping";
  action.since_ns = t0 + 20'000'000'000LL;
  action.until_ns = t0 + 26'000'000'000LL;
  EXPECT_EQ(seqs(log_->Query(action).value()), (std::vector<uint64_t>{22, 24, 26}));
  AuditQuery window;
  window.since_ns = t0 + 3'000'000'000LL;
  window.until_ns = t0 + 6'000'000'000LL;
  EXPECT_EQ(seqs(log_->Query(window).value()), (std::vector<uint64_t>{4, 5, 6}));
  AuditQuery conn;
  conn.object = kConn;
  conn.limit = 2;
  EXPECT_EQ(seqs(log_->Query(conn).value()), (std::vector<uint64_t>{29, 30}));
  // A prefix: every action under it, newest last, with the other filters.
  AuditQuery prefix;
  prefix.action = "learn.*";
  prefix.limit = 4;
  EXPECT_EQ(seqs(log_->Query(prefix).value()), (std::vector<uint64_t>{23, 25, 27, 29}));
  prefix.action = "l*";
  prefix.database = "crm";
  EXPECT_EQ(seqs(log_->Query(prefix).value()), (std::vector<uint64_t>{21, 23, 27, 29}));
  prefix.action = "learn.finishedX*";
  EXPECT_TRUE(seqs(log_->Query(prefix).value()).empty());
}

std::vector<uint64_t> Seqs(const Result<AuditQueryResult>& result) {
  std::vector<uint64_t> out;
  EXPECT_TRUE(result.ok()) << result.error().message;
  if (result.ok()) {
    for (const AuditEvent& e : result->events) out.push_back(e.seq);
  }
  return out;
}

AuditQuery Window(std::optional<int64_t> since, std::optional<int64_t> until) {
  AuditQuery q;
  q.since_ns = since;
  q.until_ns = until;
  return q;
}

TEST_F(AuditLogTest, TimeQueryFindsEventsWrittenAfterTheWritersClockSteppedBack) {
  const int64_t s = 1'000'000'000;
  const int64_t t0 = 1'700'000'000'000'000'000;
  std::vector<AuditEvent> late;  // seqs 1..10 at t0+10s .. t0+19s
  for (int i = 0; i < 10; ++i) late.push_back(Ev("test.step", "shop", "", t0 + (10 + i) * s));
  ASSERT_TRUE(log_->Append(late).ok());
  std::vector<AuditEvent> stepped_back;  // seqs 11..15 at t0 .. t0+4s
  for (int i = 0; i < 5; ++i) stepped_back.push_back(Ev("test.step", "shop", "", t0 + i * s));
  ASSERT_TRUE(log_->Append(stepped_back).ok());
  ASSERT_TRUE(log_->Append({Ev("test.step", "shop", "", t0 + 30 * s)}).ok());  // seq 16

  EXPECT_EQ(Seqs(log_->Query(Window(t0 + 2 * s, t0 + 12 * s))), (std::vector<uint64_t>{1, 2, 13, 14, 15}));
  EXPECT_EQ(Seqs(log_->Query(Window(std::nullopt, t0 + 5 * s))), (std::vector<uint64_t>{11, 12, 13, 14, 15}));
  EXPECT_EQ(Seqs(log_->Query(Window(t0 + 25 * s, std::nullopt))), (std::vector<uint64_t>{16}));
  EXPECT_EQ(Seqs(log_->Query(Window(t0 + 40 * s, std::nullopt))), (std::vector<uint64_t>{}));
  AuditQuery newest = Window(std::nullopt, std::nullopt);
  newest.limit = 3;
  EXPECT_EQ(Seqs(log_->Query(newest)), (std::vector<uint64_t>{14, 15, 16}));
  Reopen();  // the high water survives in the head: seq 17's entry still sorts last
  ASSERT_TRUE(log_->Append({Ev("test.step", "shop", "", t0 + 1 * s)}).ok());
  EXPECT_EQ(Seqs(log_->Query(Window(t0, t0 + 2 * s))), (std::vector<uint64_t>{11, 12, 17}));
  Close();
  {
    // A sqlx from before the high water rewrote the head without it.
    RawDb raw(dir_.path());
    nlohmann::json head = nlohmann::json::parse(raw.Get("meta", "audit_head"));
    head.erase("time_high_water_ns");
    ASSERT_TRUE(raw.db->Put({}, raw.Family("meta"), "audit_head", head.dump()).ok());
  }
  Reopen();  // the high water is recovered from the newest time entry
  ASSERT_TRUE(log_->Append({Ev("test.step", "shop", "", t0 + 1 * s)}).ok());  // seq 18
  EXPECT_EQ(Seqs(log_->Query(Window(t0, t0 + 2 * s))), (std::vector<uint64_t>{11, 12, 17, 18}));
  EXPECT_EQ(Seqs(log_->Query(Window(t0 + 25 * s, std::nullopt))), (std::vector<uint64_t>{16}));
}

TEST_F(AuditLogTest, AStoreWithPerEventTimeEntriesIsStillQueriedByTime) {
  const int64_t s = 1'000'000'000;
  const int64_t t0 = 1'700'000'000'000'000'000;
  std::vector<AuditEvent> old;  // seqs 1..3 at t0, t0+1s, t0+2s
  for (int i = 0; i < 3; ++i) old.push_back(Ev("test.step", "shop", "", t0 + i * s));
  ASSERT_TRUE(log_->Append(old).ok());
  Close();
  {
    // Rewrite it as a store from before the per-append time entries: one
    // 't' entry per event, and a head without the high water.
    RawDb raw(dir_.path());
    std::unique_ptr<rocksdb::Iterator> it(raw.db->NewIterator(rocksdb::ReadOptions(), raw.Family("audit_index")));
    std::vector<std::string> group_keys;
    for (it->Seek("w"); it->Valid() && it->key().starts_with("w"); it->Next()) group_keys.push_back(it->key().ToString());
    ASSERT_EQ(group_keys.size(), 1u);
    for (const std::string& k : group_keys) ASSERT_TRUE(raw.db->Delete({}, raw.Family("audit_index"), k).ok());
    for (uint64_t seq = 1; seq <= 3; ++seq) {
      std::string key(1, 't');
      audit_keys::PutU64(&key, audit_keys::TimeOrder(t0 + static_cast<int64_t>(seq - 1) * s));
      audit_keys::PutU64(&key, seq);
      ASSERT_TRUE(raw.db->Put({}, raw.Family("audit_index"), key, "").ok());
    }
    nlohmann::json head = nlohmann::json::parse(raw.Get("meta", "audit_head"));
    ASSERT_TRUE(head.contains("time_high_water_ns"));
    head.erase("time_high_water_ns");
    ASSERT_TRUE(raw.db->Put({}, raw.Family("meta"), "audit_head", head.dump()).ok());
  }
  Reopen();
  ASSERT_TRUE(log_->Append({Ev("test.step", "shop", "", t0 + 10 * s), Ev("test.step", "shop", "", t0 + 11 * s)}).ok());
  EXPECT_EQ(Seqs(log_->Query(Window(std::nullopt, std::nullopt))), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
  EXPECT_EQ(Seqs(log_->Query(Window(t0 + 1 * s, t0 + 11 * s))), (std::vector<uint64_t>{2, 3, 4}));
  AuditQuery newest = Window(std::nullopt, std::nullopt);
  newest.limit = 3;
  EXPECT_EQ(Seqs(log_->Query(newest)), (std::vector<uint64_t>{3, 4, 5}));
  EXPECT_TRUE(Verify().ok);
}

// Index entries are written every index_every_events events and on close;
// a crash before that loses only them, and the next open rebuilds them from
// the events after the newest time entry.
TEST_F(AuditLogTest, IndexEntriesLostInACrashAreRebuiltFromTheEventsOnOpen) {
  AppendMany(3);
  Close();  // writes the entries of 2 and 3 (the first append wrote its own)
  Reopen();
  AppendMany(4);  // 4..7, pending
  EXPECT_EQ(Seqs(log_->Query(Window(std::nullopt, std::nullopt))), (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7}));
  AppendMany(2);  // 8, 9: pending again after the query wrote the others
  Close();
  {
    // As if the process had died before writing the entries of 8 and 9: every
    // index key (posting or time entry) ends in the last seq it covers.
    RawDb raw(dir_.path());
    std::unique_ptr<rocksdb::Iterator> it(raw.db->NewIterator(rocksdb::ReadOptions(), raw.Family("audit_index")));
    int deleted = 0;
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      const std::string_view key = it->key().ToStringView();
      if (key.size() > 8 && audit_keys::GetU64(key.substr(key.size() - 8)) > 7) {
        ASSERT_TRUE(raw.db->Delete({}, raw.Family("audit_index"), key).ok());
        ++deleted;
      }
    }
    EXPECT_GT(deleted, 0);
  }
  for (int round = 0; round < 2; ++round) {  // rebuilt once, then read as written
    Reopen();
    EXPECT_EQ(Seqs(log_->Query(Window(std::nullopt, std::nullopt))),
              (std::vector<uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9}));
    AuditQuery by_table;
    by_table.object = "shop.t2";  // AppendMany's tables cycle t0, t1, t2 (from each call's start)
    EXPECT_EQ(Seqs(log_->Query(by_table)), (std::vector<uint64_t>{3, 6}));
    AuditQuery by_action;
    by_action.action = "test.step";
    EXPECT_EQ(Seqs(log_->Query(by_action)).size(), 9u);
  }
  EXPECT_TRUE(Verify().ok);
}

// Two AuditLogs on one store: entries the other one wrote are not written
// again (a query would list their events twice).
TEST_F(AuditLogTest, IndexEntriesWrittenByAnotherLogOnTheStoreAreNotWrittenAgain) {
  AppendMany(3);  // 2 and 3 pending in log_
  {
    AuditLogOptions options;
    auto other = AuditLog::Open(*store_, options);
    ASSERT_TRUE(other.ok());
  }  // closing it writes the entries of 2 and 3
  AppendMany(2);
  Reopen();
  AuditQuery by_action;
  by_action.action = "test.step";
  EXPECT_EQ(Seqs(log_->Query(by_action)), (std::vector<uint64_t>{1, 2, 3, 4, 5}));
}

TEST_F(AuditLogTest, NoPasswordReachesAnEvent) {
  AuditEvent e = Ev("connection.created");
  e.details_json =
      R"({"url":"mysql://app:hunter2@db1:3306/shop","password":"hunter2","nested":{"api_token":"hunter2",)"
      R"("list":["x","postgres://u:hunter2@h/db"]},"SQLX_PASSWORD":"hunter2","ok":"visible"})";
  e.error = "cannot connect to mysql://app:hunter2@db1:3306: refused";
  auto r = log_->Append({e});
  ASSERT_TRUE(r.ok()) << r.error().message;
  const std::string bytes = CanonicalBytes((*r)[0]);
  EXPECT_EQ(bytes.find("hunter2"), std::string::npos) << bytes;
  EXPECT_NE((*r)[0].details_json.find("\"ok\":\"visible\""), std::string::npos);
  EXPECT_NE((*r)[0].details_json.find("mysql://app:***@db1:3306/shop"), std::string::npos);
  EXPECT_EQ((*r)[0].error, "cannot connect to mysql://app:***@db1:3306: refused");
  Close();
  // Nothing on disk holds it either.
  AuditTamper raw(dir_.path());
  EXPECT_EQ(raw.EventValue(1).find("hunter2"), std::string::npos);
}

TEST_F(AuditLogTest, AuditFamiliesAreAddedToAStoreThatLacksThem) {
  ASSERT_TRUE(store_->PutConnection(Connection("a@h:1", "{}")).ok());
  Close();
  {
    // Make it an older store: drop the audit families.
    RawDb raw(dir_.path());
    for (const char* name : {"audit_events", "audit_nodes", "audit_index", "audit_checkpoints"}) {
      ASSERT_TRUE(raw.db->DropColumnFamily(raw.Family(name)).ok());
    }
  }
  {
    std::vector<std::string> names;
    ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir_.path(), &names).ok());
    EXPECT_EQ(std::count(names.begin(), names.end(), "audit_events"), 0);
  }
  Reopen();
  auto conn = store_->GetConnection("a@h:1");
  ASSERT_TRUE(conn.ok() && conn->has_value());
  AppendMany(2);
  EXPECT_TRUE(Verify().ok);
}

}  // namespace
}  // namespace sqlx::storage
