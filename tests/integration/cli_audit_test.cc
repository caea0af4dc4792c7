// `sqlx audit` as a user runs it: keygen, verify, head, prove and
// check-proof offline, consistency between two exported checkpoints, the
// timeline in text/json/csv, reading audited, exit codes, and a store edited
// with RocksDB directly failing verification with exit 3; and the events of
// `learn` and `capabilities` against the real MariaDB, without the password.
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <rocksdb/db.h>

#include "sqlx_cli.h"
#include "temp_dir.h"
#include "test_env.h"

namespace sqlx {
namespace {

using sqlx::testing::DescribeRun;
using sqlx::testing::Env;
using sqlx::testing::ReadFile;
using sqlx::testing::RunResult;
using sqlx::testing::RunSqlx;
using sqlx::testing::SqlxBaseEnv;
using sqlx::testing::TempDir;
using sqlx::testing::WriteFile;

// Every value in every column family of the store at `dir`.
std::vector<std::string> AllStoredValues(const std::string& dir) {
  std::vector<std::string> out;
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  EXPECT_TRUE(rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir, descriptors, &handles, &raw).ok());
  if (raw == nullptr) return out;
  std::unique_ptr<rocksdb::DB> db(raw);
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), h));
    for (it->SeekToFirst(); it->Valid(); it->Next()) out.push_back(it->key().ToString() + it->value().ToString());
    EXPECT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  }
  return out;
}

// Opens the store at `dir` with RocksDB directly, as someone with write
// access to the directory could, and runs `edit` on it with its families.
void EditStore(const std::string& dir,
               const std::function<void(rocksdb::DB*, std::map<std::string, rocksdb::ColumnFamilyHandle*>&)>& edit) {
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(rocksdb::Options(), dir, descriptors, &handles, &raw).ok());
  std::unique_ptr<rocksdb::DB> db(raw);
  std::map<std::string, rocksdb::ColumnFamilyHandle*> families;
  for (rocksdb::ColumnFamilyHandle* h : handles) families[h->GetName()] = h;
  edit(db.get(), families);
  for (rocksdb::ColumnFamilyHandle* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
}

std::string SeqKey(uint64_t seq) {
  std::string key;
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>((seq >> shift) & 0xff));
  return key;
}

void DeleteEvents(const std::string& dir, const std::vector<uint64_t>& seqs) {
  EditStore(dir, [&](rocksdb::DB* db, std::map<std::string, rocksdb::ColumnFamilyHandle*>& families) {
    for (uint64_t seq : seqs) {
      ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), families.at("audit_events"), SeqKey(seq)).ok());
    }
  });
}

// Overwrites the audit head record (the store's pointer to the chain tip).
void DamageHead(const std::string& dir) {
  EditStore(dir, [&](rocksdb::DB* db, std::map<std::string, rocksdb::ColumnFamilyHandle*>& families) {
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), families.at("meta"), "audit_head", "{damaged").ok());
  });
}

// Flips a byte near the end of event `seq`'s payload.
void FlipEventByte(const std::string& dir, uint64_t seq) {
  EditStore(dir, [&](rocksdb::DB* db, std::map<std::string, rocksdb::ColumnFamilyHandle*>& families) {
    std::string value;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), families.at("audit_events"), SeqKey(seq), &value).ok());
    value[value.size() - 40] ^= 0x20;
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), families.at("audit_events"), SeqKey(seq), value).ok());
  });
}

class CliAuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = keys_.path() + "/audit.pem";
    RunResult r = RunSqlx({"audit", "keygen", "--out", key_});
    ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
    env_ = SqlxBaseEnv();
    env_["SQLX_AUDIT_KEY"] = key_;
  }

  RunResult Sqlx(std::vector<std::string> args) {
    args.insert(args.begin(), {"--store", store_.path() + "/s"});
    return RunSqlx(args, env_);
  }

  nlohmann::json Json(const RunResult& r) {
    nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << DescribeRun(r);
    return j;
  }

  std::string File(const std::string& name) { return files_.path() + "/" + name; }

  TempDir store_{"sqlx-audit-store."};
  TempDir keys_{"sqlx-audit-keys."};
  TempDir files_{"sqlx-audit-files."};
  std::string key_;
  Env env_;
};

TEST_F(CliAuditTest, VerifyHeadProveAndCheckProofOffline) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Sqlx({"audit", "verify"}).exit_code, 0);
  RunResult head = Sqlx({"audit", "head", "-o", File("cp.json")});
  ASSERT_EQ(head.exit_code, 0) << DescribeRun(head);
  nlohmann::json cp = nlohmann::json::parse(ReadFile(File("cp.json")));
  EXPECT_EQ(cp["format"], "sqlx-audit-checkpoint/1");
  EXPECT_EQ(cp["tree_size"], 3);

  RunResult verify = Sqlx({"--format", "json", "audit", "verify", "--pubkey", key_ + ".pub", "--checkpoint",
                           File("cp.json")});
  ASSERT_EQ(verify.exit_code, 0) << DescribeRun(verify);
  nlohmann::json v = Json(verify);
  EXPECT_TRUE(v["ok"].get<bool>());
  EXPECT_TRUE(v["anchored"].get<bool>());
  EXPECT_EQ(v["events"], 4);  // three verifies and the export

  RunResult prove = Sqlx({"audit", "prove", "2", "--checkpoint", File("cp.json"), "-o", File("p.json")});
  ASSERT_EQ(prove.exit_code, 0) << DescribeRun(prove);
  // Offline: no store, only the proof, the checkpoint and the public key.
  RunResult check = RunSqlx({"audit", "check-proof", File("p.json"), "--checkpoint", File("cp.json"), "--pubkey",
                             key_ + ".pub"});
  ASSERT_EQ(check.exit_code, 0) << DescribeRun(check);
  EXPECT_NE(check.out.find("valid: event 2 (audit.verify)"), std::string::npos) << check.out;

  nlohmann::json proof = nlohmann::json::parse(ReadFile(File("p.json")));
  std::string event = proof["event"];
  event[event.size() - 4] = event[event.size() - 4] == '0' ? '1' : '0';
  proof["event"] = event;
  WriteFile(File("bad.json"), proof.dump());
  RunResult bad = RunSqlx({"audit", "check-proof", File("bad.json"), "--checkpoint", File("cp.json")});
  EXPECT_EQ(bad.exit_code, 3) << DescribeRun(bad);

  TempDir other("sqlx-audit-other.");
  ASSERT_EQ(RunSqlx({"audit", "keygen", "--out", other.path() + "/k.pem"}).exit_code, 0);
  RunResult wrong_key = RunSqlx({"audit", "check-proof", File("p.json"), "--checkpoint", File("cp.json"), "--pubkey",
                                 other.path() + "/k.pem.pub"});
  EXPECT_EQ(wrong_key.exit_code, 3) << DescribeRun(wrong_key);
}

TEST_F(CliAuditTest, ConsistencyBetweenTwoExportedCheckpoints) {
  ASSERT_EQ(Sqlx({"audit", "verify"}).exit_code, 0);
  ASSERT_EQ(Sqlx({"audit", "head", "-o", File("old.json")}).exit_code, 0);
  for (int i = 0; i < 4; ++i) ASSERT_EQ(Sqlx({"audit", "verify"}).exit_code, 0);
  ASSERT_EQ(Sqlx({"audit", "head", "-o", File("new.json")}).exit_code, 0);
  const uint64_t a = nlohmann::json::parse(ReadFile(File("old.json")))["tree_size"];
  const uint64_t b = nlohmann::json::parse(ReadFile(File("new.json")))["tree_size"];
  RunResult prove = Sqlx({"audit", "prove", "--consistency", std::to_string(a), std::to_string(b), "-o",
                          File("c.json")});
  ASSERT_EQ(prove.exit_code, 0) << DescribeRun(prove);
  RunResult check = RunSqlx({"--format", "json", "audit", "check-proof", File("c.json"), "--checkpoint",
                             File("old.json"), "--checkpoint", File("new.json")});
  ASSERT_EQ(check.exit_code, 0) << DescribeRun(check);
  EXPECT_TRUE(Json(check)["valid"].get<bool>());
}

TEST_F(CliAuditTest, QueryShowsTheTimelineAndIsItselfAudited) {
  ASSERT_EQ(Sqlx({"audit", "verify"}).exit_code, 0);
  ASSERT_EQ(Sqlx({"audit", "head"}).exit_code, 0);
  RunResult json_run = Sqlx({"--format", "json", "audit", "query", "--since", "-1h"});
  ASSERT_EQ(json_run.exit_code, 0) << DescribeRun(json_run);
  nlohmann::json events = Json(json_run)["events"];
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0]["action"], "audit.verify");
  EXPECT_EQ(events[1]["action"], "audit.export");
  EXPECT_EQ(events[1]["prev_hash"], events[0]["hash"]);

  RunResult csv = Sqlx({"--format", "csv", "audit", "query", "--action", "audit.query"});
  ASSERT_EQ(csv.exit_code, 0) << DescribeRun(csv);
  EXPECT_EQ(csv.out.rfind("seq,time,os_user,", 0), 0u) << csv.out;
  EXPECT_NE(csv.out.find(",audit.query,"), std::string::npos) << "the json query was recorded: " << csv.out;

  RunResult text = Sqlx({"audit", "query", "--outcome", "failed"});
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_EQ(text.out, "");
  EXPECT_EQ(Sqlx({"audit", "query", "--since", "yesterday"}).exit_code, 2);
}

TEST_F(CliAuditTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Sqlx({"audit"}).exit_code, 2);
  EXPECT_EQ(Sqlx({"audit", "prove"}).exit_code, 2);
  EXPECT_EQ(Sqlx({"--format", "csv", "audit", "verify"}).exit_code, 2);
  EXPECT_EQ(RunSqlx({"audit", "keygen", "--out", key_}).exit_code, 2);  // never overwrites a key
}

TEST_F(CliAuditTest, EditedStoreFailsVerificationWithExitThree) {
  for (int i = 0; i < 4; ++i) ASSERT_EQ(Sqlx({"audit", "verify"}).exit_code, 0);
  DeleteEvents(store_.path() + "/s", {2});
  RunResult verify = Sqlx({"--format", "json", "audit", "verify"});
  ASSERT_EQ(verify.exit_code, 3) << DescribeRun(verify);
  nlohmann::json v = Json(verify);
  EXPECT_FALSE(v["ok"].get<bool>());
  EXPECT_EQ(v["fault"]["kind"], "missing");
  EXPECT_EQ(v["fault"]["seq"], 2);
  // The failed verification is itself on record.
  RunResult failed = Sqlx({"--format", "json", "audit", "query", "--outcome", "failed"});
  ASSERT_EQ(failed.exit_code, 0) << DescribeRun(failed);
  ASSERT_EQ(Json(failed)["events"].size(), 1u);
  EXPECT_EQ(Json(failed)["events"][0]["action"], "audit.verify");
  EXPECT_EQ(Json(failed)["unreadable"], 1);  // event 2, skipped with a warning
  EXPECT_NE(failed.err.find("run `sqlx audit verify`"), std::string::npos) << failed.err;
}

TEST_F(CliAuditTest, TruncatedTailIsCaughtByTheExportedCheckpoint) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Sqlx({"audit", "verify"}).exit_code, 0);
  ASSERT_EQ(Sqlx({"audit", "head", "-o", File("cp.json")}).exit_code, 0);  // covers 1..3
  DeleteEvents(store_.path() + "/s", {3, 4});
  RunResult verify = Sqlx({"--format", "json", "audit", "verify", "--checkpoint", File("cp.json")});
  ASSERT_EQ(verify.exit_code, 3) << DescribeRun(verify);
  EXPECT_EQ(Json(verify)["fault"]["kind"], "truncated");
  EXPECT_EQ(Json(verify)["fault"]["seq"], 3);
  // The log refuses to grow on top of it; the verdict is still reported.
  EXPECT_NE(verify.err.find("could not be recorded"), std::string::npos) << verify.err;
}

TEST_F(CliAuditTest, PruneLeavesHashOnlyLeavesThatStillVerifyAndIsAudited) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Sqlx({"audit", "verify"}).exit_code, 0);
  ASSERT_EQ(Sqlx({"audit", "head", "-o", File("cp.json")}).exit_code, 0);  // covers 1..3
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  RunResult prune = Sqlx({"--format", "json", "audit", "prune", "--older-than", "1s"});
  ASSERT_EQ(prune.exit_code, 0) << DescribeRun(prune);
  nlohmann::json p = Json(prune);
  EXPECT_EQ(p["pruned"], 4);  // three verifies and the export
  EXPECT_EQ(p["first_seq"], 1);
  EXPECT_EQ(p["last_seq"], 4);
  EXPECT_EQ(p["recorded_seq"], 5);

  RunResult verify = Sqlx({"--format", "json", "audit", "verify", "--pubkey", key_ + ".pub", "--checkpoint",
                           File("cp.json")});
  ASSERT_EQ(verify.exit_code, 0) << DescribeRun(verify);
  EXPECT_EQ(Json(verify)["pruned"], 4);
  EXPECT_EQ(Json(verify)["events"], 5);

  RunResult query = Sqlx({"--format", "json", "audit", "query", "--since", "-1h"});
  ASSERT_EQ(query.exit_code, 0) << DescribeRun(query);
  nlohmann::json events = Json(query)["events"];
  ASSERT_EQ(events.size(), 2u);  // the prune and the verify; pruned events are skipped
  EXPECT_EQ(Json(query)["pruned"], 0);  // their time entries went with them
  EXPECT_EQ(events[0]["action"], "audit.prune");
  EXPECT_EQ(events[0]["details"]["pruned"], 4);
  EXPECT_EQ(events[0]["details"]["older_than"], "1s");
  EXPECT_FALSE(events[0]["actor"]["os_user"].get<std::string>().empty());

  EXPECT_EQ(Sqlx({"audit", "prove", "2", "--checkpoint", File("cp.json")}).exit_code, 2);  // pruned
  RunResult bad = Sqlx({"audit", "prune", "--older-than", "banana"});
  EXPECT_EQ(bad.exit_code, 2) << DescribeRun(bad);
  EXPECT_NE(bad.err.find("banana"), std::string::npos) << bad.err;
  EXPECT_EQ(Sqlx({"audit", "prune", "--older-than", "2999-01-01"}).exit_code, 2);  // in the future
  EXPECT_EQ(Sqlx({"audit", "prune"}).exit_code, 2);
}

TEST_F(CliAuditTest, PruneRefusesALogThatDoesNotVerify) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Sqlx({"audit", "verify"}).exit_code, 0);
  FlipEventByte(store_.path() + "/s", 2);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  RunResult prune = Sqlx({"audit", "prune", "--older-than", "1s"});
  ASSERT_EQ(prune.exit_code, 3) << DescribeRun(prune);
  EXPECT_NE(prune.out.find("payload-modified"), std::string::npos) << prune.out;
  RunResult verify = Sqlx({"--format", "json", "audit", "verify"});
  EXPECT_EQ(Json(verify)["fault"]["kind"], "payload-modified");
  EXPECT_EQ(Json(verify)["pruned"], 0);
}

TEST_F(CliAuditTest, RepairRebuildsADamagedHeadAfterVerifyingTheChain) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Sqlx({"audit", "verify"}).exit_code, 0);
  ASSERT_EQ(Sqlx({"audit", "head", "-o", File("cp.json")}).exit_code, 0);
  DamageHead(store_.path() + "/s");
  RunResult damaged = Sqlx({"--format", "json", "audit", "verify"});
  ASSERT_EQ(damaged.exit_code, 3) << DescribeRun(damaged);
  EXPECT_EQ(Json(damaged)["fault"]["kind"], "head-damaged");

  RunResult repair = Sqlx({"audit", "repair", "--checkpoint", File("cp.json")});
  ASSERT_EQ(repair.exit_code, 0) << DescribeRun(repair);
  EXPECT_NE(repair.out.find("repaired"), std::string::npos) << repair.out;
  RunResult verify = Sqlx({"--format", "json", "audit", "verify", "--checkpoint", File("cp.json")});
  ASSERT_EQ(verify.exit_code, 0) << DescribeRun(verify);
  EXPECT_EQ(Json(verify)["events"], 5);  // 3 verifies, the export, the repair (the failed verify went unrecorded)
  RunResult again = Sqlx({"audit", "repair"});
  ASSERT_EQ(again.exit_code, 0) << DescribeRun(again);
  EXPECT_NE(again.out.find("nothing to repair"), std::string::npos) << again.out;
  RunResult repairs = Sqlx({"--format", "json", "audit", "query", "--action", "audit.repair"});
  ASSERT_EQ(Json(repairs)["events"].size(), 2u);
  EXPECT_EQ(Json(repairs)["events"][0]["details"]["damage"], "undecodable");
}

TEST_F(CliAuditTest, RepairRefusesABadChainWithExitThree) {
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Sqlx({"audit", "verify"}).exit_code, 0);
  DamageHead(store_.path() + "/s");
  FlipEventByte(store_.path() + "/s", 2);
  RunResult repair = Sqlx({"audit", "repair"});
  ASSERT_EQ(repair.exit_code, 3) << DescribeRun(repair);
  EXPECT_NE(repair.out.find("payload-modified"), std::string::npos) << repair.out;
  EXPECT_NE(repair.err.find("could not be recorded"), std::string::npos) << repair.err;  // appends still refused
  EXPECT_EQ(Sqlx({"audit", "verify"}).exit_code, 3);
}

TEST_F(CliAuditTest, LearnAndCapabilitiesAreAuditedWithoutThePassword) {
  using sqlx::testing::kNativePassword;
  // The password is in the URL: it must reach no event, output or store value.
  const std::string url = sqlx::testing::MariaDbUrl("sqlx_native", kNativePassword, "sqlx_test");
  RunResult learn = Sqlx({"learn", url});
  ASSERT_EQ(learn.exit_code, 0) << DescribeRun(learn);
  RunResult caps = Sqlx({"capabilities", url, "--refresh"});
  ASSERT_EQ(caps.exit_code, 0) << DescribeRun(caps);
  RunResult bad = Sqlx({"learn", sqlx::testing::MariaDbUrl("sqlx_native", kNativePassword, ""), "--databases",
                        "sqlx_test,no_such_db"});
  ASSERT_EQ(bad.exit_code, 1) << DescribeRun(bad);

  RunResult query = Sqlx({"--format", "json", "audit", "query", "--db", "sqlx_test"});
  ASSERT_EQ(query.exit_code, 0) << DescribeRun(query);
  nlohmann::json events = Json(query)["events"];
  ASSERT_EQ(events.size(), 2u) << query.out;
  EXPECT_EQ(events[0]["action"], "learn.database");
  EXPECT_EQ(events[0]["object"]["connection"], "sqlx_native@127.0.0.1:" + sqlx::testing::MariaDbPort());
  EXPECT_EQ(events[0]["details"]["change"], "new");
  EXPECT_EQ(events[0]["details"]["profile_hash"].get<std::string>().size(), 64u);
  EXPECT_EQ(events[1]["details"]["change"], "unchanged");

  RunResult failed = Sqlx({"--format", "json", "audit", "query", "--object", "no_such_db"});
  ASSERT_EQ(failed.exit_code, 0) << DescribeRun(failed);
  ASSERT_EQ(Json(failed)["events"].size(), 1u);
  EXPECT_EQ(Json(failed)["events"][0]["outcome"], "failed");

  RunResult conn = Sqlx({"--format", "json", "audit", "query", "--action", "connection.learned"});
  ASSERT_EQ(conn.exit_code, 0) << DescribeRun(conn);
  EXPECT_EQ(Json(conn)["events"].size(), 1u);
  ASSERT_EQ(Sqlx({"audit", "verify"}).exit_code, 0);

  for (const std::string& value : AllStoredValues(store_.path() + "/s")) {
    ASSERT_EQ(value.find(kNativePassword), std::string::npos) << "a password reached the store";
  }
}

TEST_F(CliAuditTest, PingSnapshotPlanAndFailedLearnsAreAuditedWithoutThePassword) {
  using sqlx::testing::kNativePassword;
  const std::string wrong_password = "not-the-password-4f9a";
  const std::string url = sqlx::testing::MariaDbUrl("sqlx_native", kNativePassword, "sqlx_test");
  const std::string refused = "mysql://sqlx_native:" + std::string(kNativePassword) + "@127.0.0.1:1/sqlx_test";
  const std::string wrong = sqlx::testing::MariaDbUrl("sqlx_native", wrong_password, "sqlx_test");
  ASSERT_EQ(Sqlx({"ping", url}).exit_code, 0);
  EXPECT_EQ(Sqlx({"ping", refused}).exit_code, 1);
  EXPECT_EQ(Sqlx({"learn", refused}).exit_code, 1);
  RunResult denied = Sqlx({"learn", wrong});
  EXPECT_EQ(denied.exit_code, 1) << DescribeRun(denied);
  const std::string snapshot = File("shop.json");
  RunResult snap = Sqlx({"snapshot", url, "-o", snapshot});
  ASSERT_EQ(snap.exit_code, 0) << DescribeRun(snap);
  RunResult plan = Sqlx({"plan:diff", "--from", url, "--to", snapshot});
  ASSERT_EQ(plan.exit_code, 0) << DescribeRun(plan);

  auto events = [&](const std::string& action) {
    RunResult r = Sqlx({"--format", "json", "audit", "query", "--action", action});
    EXPECT_EQ(r.exit_code, 0) << DescribeRun(r);
    return Json(r)["events"];
  };
  const std::string connection = "sqlx_native@127.0.0.1:" + sqlx::testing::MariaDbPort();
  nlohmann::json pings = events("ping");
  ASSERT_EQ(pings.size(), 2u);
  EXPECT_EQ(pings[0]["outcome"], "ok");
  EXPECT_EQ(pings[0]["object"]["connection"], connection);
  EXPECT_EQ(pings[1]["outcome"], "failed");
  EXPECT_EQ(pings[1]["object"]["connection"], "sqlx_native@127.0.0.1:1");

  nlohmann::json failed = events("learn.failed");
  ASSERT_EQ(failed.size(), 2u);
  EXPECT_EQ(failed[0]["object"]["connection"], "sqlx_native@127.0.0.1:1");
  EXPECT_EQ(failed[1]["object"]["connection"], connection);
  EXPECT_NE(failed[1]["error"].get<std::string>().find("denied"), std::string::npos) << failed[1];

  nlohmann::json snaps = events("snapshot.taken");
  ASSERT_EQ(snaps.size(), 1u);
  EXPECT_EQ(snaps[0]["object"]["database"], "sqlx_test");
  EXPECT_EQ(snaps[0]["details"]["format"], "json");
  EXPECT_EQ(snaps[0]["details"]["profile_hash"].get<std::string>().size(), 64u);

  nlohmann::json plans = events("plan.created");
  ASSERT_EQ(plans.size(), 1u);
  EXPECT_EQ(plans[0]["object"]["connection"], connection);
  EXPECT_EQ(plans[0]["object"]["database"], "sqlx_test");
  EXPECT_EQ(plans[0]["details"]["operations"], 0);
  EXPECT_EQ(plans[0]["details"]["from_hash"], snaps[0]["details"]["profile_hash"]);
  EXPECT_EQ(plans[0]["details"]["to_hash"], snaps[0]["details"]["profile_hash"]);
  EXPECT_EQ(plans[0]["details"]["to"], snapshot);
  ASSERT_EQ(Sqlx({"audit", "verify"}).exit_code, 0);

  for (const std::string& value : AllStoredValues(store_.path() + "/s")) {
    ASSERT_EQ(value.find(kNativePassword), std::string::npos) << "a password reached the store";
    ASSERT_EQ(value.find(wrong_password), std::string::npos) << "a wrong password reached the store";
  }
}

TEST_F(CliAuditTest, WithoutAConfiguredStorePingRecordsNothingAndCreatesNoStore) {
  TempDir home("sqlx-audit-home.");
  Env env = sqlx::testing::SqlxBaseEnv();
  env["HOME"] = home.path();
  RunResult ping = RunSqlx({"ping", sqlx::testing::MariaDbUrl("sqlx_native", sqlx::testing::kNativePassword)}, env);
  ASSERT_EQ(ping.exit_code, 0) << DescribeRun(ping);
  EXPECT_FALSE(std::filesystem::exists(home.path() + "/.sqlx"));
  // With ~/.sqlx present, the same ping is recorded there.
  env["SQLX_HOME"] = home.path() + "/.sqlx";
  ASSERT_EQ(RunSqlx({"ping", sqlx::testing::MariaDbUrl("sqlx_native", sqlx::testing::kNativePassword)}, env).exit_code, 0);
  env.erase("SQLX_HOME");
  ASSERT_EQ(RunSqlx({"ping", sqlx::testing::MariaDbUrl("sqlx_native", sqlx::testing::kNativePassword)}, env).exit_code, 0);
  RunResult query = RunSqlx({"--format", "json", "audit", "query", "--action", "ping"}, env);
  ASSERT_EQ(query.exit_code, 0) << DescribeRun(query);
  EXPECT_EQ(Json(query)["events"].size(), 2u);
}

}  // namespace
}  // namespace sqlx
