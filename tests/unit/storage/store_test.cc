// Store on a real RocksDB in a fresh temporary directory: connections,
// schema history, reopen, salt, on-disk layout, format version, name checks,
// the lock across processes, SIGKILL in the middle of writes, and
// concurrent writers.
#include "sqlx/storage/store.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "child_process.h"
#include "store_fixtures.h"

namespace sqlx::storage {
namespace {

using namespace std::chrono_literals;
using Change = PutSchemaOutcome::Change;

class StoreTest : public ::testing::Test {
 protected:
  TempDir dir_;
};

TEST_F(StoreTest, ConnectionsArePutGotListedAndUpdated) {
  auto store = OpenStore(dir_.path());
  ASSERT_NE(store, nullptr);
  ASSERT_TRUE(store->PutConnection(Connection("b@h:1", R"({"x":1})")).ok());
  ASSERT_TRUE(store->PutConnection(Connection("a@h:1", R"({"y":2})")).ok());

  auto got = store->GetConnection("b@h:1");
  ASSERT_TRUE(got.ok()) << got.error().message;
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->capability_json, R"({"x":1})");
  EXPECT_EQ((*got)->server_fingerprint, "ab12");
  EXPECT_EQ((*got)->created_at_ns, 100);
  EXPECT_EQ((*got)->updated_at_ns, 200);
  EXPECT_EQ((*got)->learned_at_ns, 300);

  ConnectionRecord updated = Connection("b@h:1", R"({"x":2})");
  updated.updated_at_ns = 999;
  ASSERT_TRUE(store->PutConnection(updated).ok());
  got = store->GetConnection("b@h:1");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->capability_json, R"({"x":2})");
  EXPECT_EQ((*got)->updated_at_ns, 999);

  auto list = store->ListConnections();
  ASSERT_TRUE(list.ok()) << list.error().message;
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "a@h:1");
  EXPECT_EQ((*list)[1].name, "b@h:1");
  EXPECT_EQ((*list)[1].capability_json, R"({"x":2})");

  auto missing = store->GetConnection("nobody@h:1");
  ASSERT_TRUE(missing.ok());
  EXPECT_FALSE(missing->has_value());
}

TEST_F(StoreTest, SchemaVersionsGoNewChangedUnchangedChanged) {
  auto store = OpenStore(dir_.path());
  ASSERT_NE(store, nullptr);

  PutSchemaOutcome o = MustPut(*store, Schema("shop", "h1", 10));
  EXPECT_EQ(o.change, Change::kNew);
  EXPECT_EQ(o.version, 1u);
  EXPECT_EQ(o.previous_hash, "");

  o = MustPut(*store, Schema("shop", "h2", 20));
  EXPECT_EQ(o.change, Change::kChanged);
  EXPECT_EQ(o.version, 2u);
  EXPECT_EQ(o.previous_hash, "h1");

  SchemaRecord relearned = Schema("shop", "h2", 30);
  relearned.status = "partial";
  o = MustPut(*store, relearned);
  EXPECT_EQ(o.change, Change::kUnchanged);
  EXPECT_EQ(o.version, 2u);
  auto current = store->GetSchema(kConn, "shop");
  ASSERT_TRUE(current.ok() && current->has_value());
  EXPECT_EQ((*current)->version, 2u);
  EXPECT_EQ((*current)->learned_at_ns, 30);
  EXPECT_EQ((*current)->status, "partial");
  auto v2 = store->GetSchemaVersion(kConn, "shop", 2);
  ASSERT_TRUE(v2.ok() && v2->has_value());
  EXPECT_EQ((*v2)->learned_at_ns, 20) << "a version record keeps the learn that created it";
  EXPECT_FALSE(store->GetSchemaVersion(kConn, "shop", 3)->has_value());

  o = MustPut(*store, Schema("shop", "h3", 40));
  EXPECT_EQ(o.change, Change::kChanged);
  EXPECT_EQ(o.version, 3u);
  EXPECT_EQ(o.previous_hash, "h2");

  const std::vector<std::string> hashes = {"h1", "h2", "h3"};
  for (uint64_t v = 1; v <= 3; ++v) {
    auto record = store->GetSchemaVersion(kConn, "shop", v);
    ASSERT_TRUE(record.ok() && record->has_value()) << "version " << v;
    EXPECT_EQ((*record)->version, v);
    EXPECT_EQ((*record)->profile_hash, hashes[v - 1]);
    EXPECT_EQ((*record)->profile_json, Schema("shop", hashes[v - 1], 0).profile_json);
    EXPECT_EQ((*record)->connection, kConn);
    EXPECT_EQ((*record)->database, "shop");
  }
  auto all = store->ListSchemaVersions(kConn, "shop");
  ASSERT_TRUE(all.ok()) << all.error().message;
  ASSERT_EQ(all->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ((*all)[i].version, i + 1);
    EXPECT_EQ((*all)[i].profile_hash, hashes[i]);
  }
}

TEST_F(StoreTest, PutSchemasWritesManyDatabasesInOneBatch) {
  auto store = OpenStore(dir_.path());
  ASSERT_NE(store, nullptr);
  MustPut(*store, Schema("shop", "h1", 10));
  auto outcomes = store->PutSchemas({Schema("shop", "h1", 20), Schema("billing", "b1", 20), Schema("crm", "c1", 20)});
  ASSERT_TRUE(outcomes.ok()) << outcomes.error().message;
  ASSERT_EQ(outcomes->size(), 3u);
  EXPECT_EQ((*outcomes)[0].change, Change::kUnchanged);
  EXPECT_EQ((*outcomes)[1].change, Change::kNew);
  EXPECT_EQ((*outcomes)[2].change, Change::kNew);
  auto dbs = store->ListDatabases(Schema("x", "y", 0).connection);
  ASSERT_TRUE(dbs.ok());
  EXPECT_EQ(*dbs, (std::vector<std::string>{"billing", "crm", "shop"}));
}

TEST_F(StoreTest, PutSchemasRejectsADatabaseTwiceAndWritesNothing) {
  auto store = OpenStore(dir_.path());
  ASSERT_NE(store, nullptr);
  auto outcomes = store->PutSchemas({Schema("shop", "h1", 1), Schema("billing", "b1", 1), Schema("shop", "h2", 1)});
  ASSERT_FALSE(outcomes.ok());
  EXPECT_EQ(outcomes.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(outcomes.error().message.find("twice"), std::string::npos) << outcomes.error().message;
  auto shop = store->GetSchema(Schema("x", "y", 0).connection, "shop");
  ASSERT_TRUE(shop.ok());
  EXPECT_FALSE(shop->has_value());
}

TEST_F(StoreTest, VersionsBeyond255SortNumerically) {
  auto store = OpenStore(dir_.path());
  ASSERT_NE(store, nullptr);
  for (int i = 1; i <= 260; ++i) MustPut(*store, Schema("big", "h" + std::to_string(i), i));
  auto all = store->ListSchemaVersions(kConn, "big");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), 260u);
  for (size_t i = 0; i < all->size(); ++i) EXPECT_EQ((*all)[i].version, i + 1);
}

TEST_F(StoreTest, ListDatabasesIsSortedAndPerConnection) {
  auto store = OpenStore(dir_.path());
  ASSERT_NE(store, nullptr);
  MustPut(*store, Schema("shop", "a", 1, "u@h:1"));
  MustPut(*store, Schema("billing", "b", 1, "u@h:1"));
  MustPut(*store, Schema("crm", "c", 1, "u@h:10"));
  auto dbs = store->ListDatabases("u@h:1");
  ASSERT_TRUE(dbs.ok()) << dbs.error().message;
  EXPECT_EQ(*dbs, (std::vector<std::string>{"billing", "shop"}));
  dbs = store->ListDatabases("u@h:10");
  ASSERT_TRUE(dbs.ok());
  EXPECT_EQ(*dbs, (std::vector<std::string>{"crm"}));
  dbs = store->ListDatabases("u@h:2");
  ASSERT_TRUE(dbs.ok());
  EXPECT_TRUE(dbs->empty());
  EXPECT_TRUE(store->ListSchemaVersions("u@h:1", "nothing")->empty());
}

TEST_F(StoreTest, ReopenKeepsEverything) {
  std::string salt;
  {
    auto store = OpenStore(dir_.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->PutConnection(Connection(kConn, "{}")).ok());
    MustPut(*store, Schema("shop", "h1", 1));
    MustPut(*store, Schema("shop", "h2", 2));
    auto s = store->FingerprintSalt();
    ASSERT_TRUE(s.ok());
    salt = *s;
  }
  auto store = OpenStore(dir_.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->dir(), dir_.path());
  EXPECT_TRUE(store->GetConnection(kConn)->has_value());
  auto current = store->GetSchema(kConn, "shop");
  ASSERT_TRUE(current.ok() && current->has_value());
  EXPECT_EQ((*current)->version, 2u);
  EXPECT_EQ((*current)->profile_hash, "h2");
  EXPECT_EQ(store->ListSchemaVersions(kConn, "shop")->size(), 2u);
  EXPECT_EQ(*store->FingerprintSalt(), salt);
  EXPECT_EQ(MustPut(*store, Schema("shop", "h3", 3)).version, 3u);
}

TEST_F(StoreTest, FingerprintSaltIs32RandomBytesKeptAcrossReopen) {
  std::string salt;
  {
    auto store = OpenStore(dir_.path());
    ASSERT_NE(store, nullptr);
    auto s = store->FingerprintSalt();
    ASSERT_TRUE(s.ok()) << s.error().message;
    salt = *s;
    EXPECT_EQ(salt.size(), 64u);
    EXPECT_EQ(salt.find_first_not_of("0123456789abcdef"), std::string::npos);
    EXPECT_EQ(*store->FingerprintSalt(), salt);
  }
  auto store = OpenStore(dir_.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(*store->FingerprintSalt(), salt);

  TempDir other;
  auto other_store = OpenStore(other.path());
  ASSERT_NE(other_store, nullptr);
  EXPECT_NE(*other_store->FingerprintSalt(), salt);
}

TEST_F(StoreTest, OpenCreatesMissingParents) {
  const std::string nested = dir_.path() + "/a/b/store";
  auto store = OpenStore(nested);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(std::filesystem::is_directory(nested));
}

TEST_F(StoreTest, NamesWithTheSeparatorByteAreRejected) {
  auto store = OpenStore(dir_.path());
  ASSERT_NE(store, nullptr);
  const std::string bad("a\0b", 3);
  auto expect_invalid = [](const Error& e) {
    EXPECT_EQ(e.code, ErrorCode::kInvalidArgument) << e.message;
  };
  Status s = store->PutConnection(Connection(bad, "{}"));
  ASSERT_FALSE(s.ok());
  expect_invalid(s.error());
  expect_invalid(store->GetConnection(bad).error());
  expect_invalid(store->PutSchema(Schema(bad, "h", 1)).error());
  expect_invalid(store->PutSchema(Schema("db", "h", 1, bad)).error());
  expect_invalid(store->GetSchema(kConn, bad).error());
  expect_invalid(store->GetSchemaVersion(bad, "db", 1).error());
  expect_invalid(store->ListSchemaVersions(kConn, bad).error());
  expect_invalid(store->ListDatabases(bad).error());
  expect_invalid(store->PutSchema(Schema("", "h", 1)).error());
  EXPECT_TRUE(store->ListConnections()->empty());
}

TEST_F(StoreTest, OnDiskLayoutMatchesTheFormatDocument) {
  {
    auto store = OpenStore(dir_.path());
    ASSERT_NE(store, nullptr);
    ASSERT_TRUE(store->PutConnection(Connection("u@h:1", R"({"a":1})")).ok());
    MustPut(*store, Schema("shop", "h1", 7, "u@h:1"));
    ASSERT_TRUE(store->FingerprintSalt().ok());
  }
  RawDb raw(dir_.path());
  ASSERT_NE(raw.db, nullptr);
  EXPECT_EQ(raw.Get("meta", "format_version"), "1");
  EXPECT_EQ(raw.Get("meta", "fingerprint_salt").size(), 66u);  // "64 hex digits"
  EXPECT_EQ(raw.Get("connections", "u@h:1"),
            R"({"capability_json":"{\"a\":1}","created_at_ns":100,"learned_at_ns":300,)"
            R"("name":"u@h:1","server_fingerprint":"ab12","updated_at_ns":200})");
  const std::string current = raw.Get("schemas", std::string("u@h:1\0shop", 10));
  EXPECT_EQ(current,
            R"({"connection":"u@h:1","database":"shop","learned_at_ns":7,"profile_hash":"h1",)"
            R"("profile_json":"{\"tables\":[{\"name\":\"t_h1\"}]}","status":"learned","version":1})");
  const std::string version_key = std::string("u@h:1\0shop\0", 11) + std::string(7, '\0') + "\x01";
  EXPECT_EQ(raw.Get("schema_versions", version_key), current);
}

// The profile JSON is escaped on a fast path when it is ASCII; stored
// records must be the bytes nlohmann writes for the whole record either way.
TEST_F(StoreTest, SchemaRecordsAreStoredAsNlohmannWritesThem) {
  const struct {
    const char* name;
    std::string profile_json;
    std::string database;
  } kCases[] = {
      {"plain", R"({"tables":[]})", "shop"},
      {"escapes", std::string("{\"c\":\"a\\\\b\"}\b\f\n\r\t") + std::string(1, '\0') + "\x1f\x7f", "shop"},
      {"utf8 falls back", "{\"comment\":\"caf\xc3\xa9 \xe2\x82\xac\"}", "shop"},
      {"field name in another field", R"({"x":1})", R"(d"profile_json":"")"},
      {"empty", "", "shop"},
  };
  auto store = OpenStore(dir_.path());
  ASSERT_NE(store, nullptr);
  std::vector<SchemaRecord> records;
  for (const auto& c : kCases) {
    SchemaRecord r = Schema(c.database + "_" + c.name, "h", 5);
    r.profile_json = c.profile_json;
    records.push_back(r);
  }
  ASSERT_TRUE(store->PutSchemas(records).ok());
  store.reset();
  RawDb raw(dir_.path());
  ASSERT_NE(raw.db, nullptr);
  for (SchemaRecord r : records) {
    r.version = 1;
    const nlohmann::json expected = {{"connection", r.connection},       {"database", r.database},
                                     {"learned_at_ns", r.learned_at_ns}, {"profile_hash", r.profile_hash},
                                     {"profile_json", r.profile_json},   {"status", r.status},
                                     {"version", r.version}};
    EXPECT_EQ(raw.Get("schemas", r.connection + std::string(1, '\0') + r.database), expected.dump()) << r.database;
  }
}

TEST_F(StoreTest, NewerFormatVersionIsUnsupported) {
  ASSERT_NE(OpenStore(dir_.path()), nullptr);
  {
    RawDb raw(dir_.path());
    ASSERT_NE(raw.db, nullptr);
    rocksdb::WriteOptions sync;
    sync.sync = true;
    ASSERT_TRUE(raw.db->Put(sync, raw.Family("meta"), "format_version", "2").ok());
  }
  auto store = Store::Open({dir_.path(), kLockWait});
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kUnsupported);
  EXPECT_EQ(store.error().message,
            "store " + dir_.path() + " was written by a newer sqlx (format 2); upgrade sqlx");
}

TEST_F(StoreTest, SecondOpenInTheSameProcessWaitsThenFails) {
  auto first = OpenStore(dir_.path());
  ASSERT_NE(first, nullptr);
  auto second = Store::Open({dir_.path(), kLockWait});
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().code, ErrorCode::kIo);
}

// Child side of StoreLockTest: holds the store until the parent releases it.
TEST(StoreChildProcess, DISABLED_HoldsTheStoreUntilReleased) {
  auto store = Store::Open({testing::ChildDir(), 10s});
  ASSERT_TRUE(store.ok()) << store.error().message;
  ASSERT_TRUE((*store)->PutConnection(Connection("child@h:1", "{}")).ok());
  testing::ChildSignalReady();
  testing::ChildAwaitRelease();
}

TEST_F(StoreTest, OpenWaitsForAStoreHeldByAnotherProcess) {
  testing::ChildProcess holder("StoreChildProcess.DISABLED_HoldsTheStoreUntilReleased",
                               dir_.path());
  ASSERT_TRUE(holder.WaitReady());

  const auto start = std::chrono::steady_clock::now();
  auto blocked = Store::Open({dir_.path(), kLockWait});
  const auto waited = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(blocked.ok());
  EXPECT_EQ(blocked.error().code, ErrorCode::kIo);
  EXPECT_EQ(blocked.error().message,
            "store " + dir_.path() +
                " is in use by another sqlx process; wait for it to finish or use --store");
  EXPECT_GE(waited, kLockWait);
  EXPECT_LT(waited, kLockWait + 2s);

  holder.Release();
  const int status = holder.Wait();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "holder status " << status;
  auto store = OpenStore(dir_.path());
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(store->GetConnection("child@h:1")->has_value());
}

// A profile large enough that a write spans many pages.
std::string BigProfile(const std::string& hash) {
  std::string json = R"({"hash":")" + hash + R"(","pad":")";
  json.append(64 * 1024, 'x');
  return json + R"("})";
}

// Child side of StoreCrashTest: writes schemas until SIGKILLed (or 60 s).
TEST(StoreChildProcess, DISABLED_PutsSchemasUntilKilled) {
  auto store = Store::Open({testing::ChildDir(), 10s});
  ASSERT_TRUE(store.ok()) << store.error().message;
  const auto stop = std::chrono::steady_clock::now() + 60s;
  const std::string tag = std::to_string(getpid());
  for (int i = 0; std::chrono::steady_clock::now() < stop; ++i) {
    // Every third put repeats the previous hash: a kUnchanged write.
    const std::string hash = tag + "-" + std::to_string(i - (i % 3 == 2 ? 1 : 0));
    SchemaRecord r = Schema("shop", hash, i);
    r.profile_json = BigProfile(hash);
    ASSERT_TRUE((*store)->PutSchema(r).ok());
    if (i == 0) testing::ChildSignalReady();
  }
}

TEST_F(StoreTest, SigkillDuringPutsLeavesTheCurrentVersionWhole) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<int> delay_ms(5, 150);
  for (int round = 0; round < 8; ++round) {
    {
      testing::ChildProcess writer("StoreChildProcess.DISABLED_PutsSchemasUntilKilled",
                                   dir_.path());
      ASSERT_TRUE(writer.WaitReady()) << "round " << round;
      std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms(rng)));
      writer.Kill();
      const int status = writer.Wait();
      ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
    }
    auto store = OpenStore(dir_.path());
    ASSERT_NE(store, nullptr);
    auto current = store->GetSchema(kConn, "shop");
    ASSERT_TRUE(current.ok() && current->has_value()) << "round " << round;
    auto version = store->GetSchemaVersion(kConn, "shop", (*current)->version);
    ASSERT_TRUE(version.ok() && version->has_value())
        << "round " << round << ": current points at missing version " << (*current)->version;
    EXPECT_EQ((*version)->profile_hash, (*current)->profile_hash);
    EXPECT_EQ((*version)->profile_json, (*current)->profile_json);
    EXPECT_EQ((*current)->profile_json, BigProfile((*current)->profile_hash));
    auto all = store->ListSchemaVersions(kConn, "shop");
    ASSERT_TRUE(all.ok());
    ASSERT_EQ(all->size(), (*current)->version) << "round " << round;
    for (size_t i = 0; i < all->size(); ++i) ASSERT_EQ((*all)[i].version, i + 1);
  }
}

TEST_F(StoreTest, ConcurrentPutsLoseNoVersion) {
  auto store = OpenStore(dir_.path());
  ASSERT_NE(store, nullptr);
  constexpr int kThreads = 8;
  constexpr int kPutsPerThread = 10;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&store, t] {
      for (int i = 0; i < kPutsPerThread; ++i) {
        const std::string hash = "t" + std::to_string(t) + "-" + std::to_string(i);
        EXPECT_NE(MustPut(*store, Schema("shop", hash, i)).change, Change::kUnchanged);
      }
    });
  }
  for (std::thread& t : threads) t.join();

  auto all = store->ListSchemaVersions(kConn, "shop");
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->size(), static_cast<size_t>(kThreads * kPutsPerThread));
  std::set<std::string> hashes;
  for (size_t i = 0; i < all->size(); ++i) {
    EXPECT_EQ((*all)[i].version, i + 1);
    hashes.insert((*all)[i].profile_hash);
  }
  EXPECT_EQ(hashes.size(), all->size());
  EXPECT_EQ((*store->GetSchema(kConn, "shop"))->version, all->size());
}

TEST_F(StoreTest, FleetRecordsWriteAtomicallyScanByPrefixAndSurviveReopen) {
  {
    auto store = OpenStore(dir_.path());
    ASSERT_TRUE(store);
    ASSERT_TRUE(store->WriteFleet({{"conn/a", "1"}, {"conn/b", "2"}, {"job/x", "3"}, {"connx", "4"}}).ok());
    ASSERT_TRUE(store->WriteFleet({{"conn/a", std::nullopt}, {"conn/c", "5"}}).ok());
    // An invalid key in a batch writes nothing of it.
    auto bad = store->WriteFleet({{"conn/d", "6"}, {"", "7"}});
    ASSERT_FALSE(bad.ok());
    EXPECT_NE(bad.error().message.find("fleet record key"), std::string::npos);
  }
  auto store = OpenStore(dir_.path());
  ASSERT_TRUE(store);
  auto conns = store->ScanFleet("conn/");
  ASSERT_TRUE(conns.ok());
  ASSERT_EQ(conns->size(), 2u);
  EXPECT_EQ((*conns)[0], std::make_pair(std::string("conn/b"), std::string("2")));
  EXPECT_EQ((*conns)[1], std::make_pair(std::string("conn/c"), std::string("5")));
  EXPECT_EQ(**store->GetFleet("job/x"), "3");
  EXPECT_FALSE(store->GetFleet("conn/a")->has_value());
  EXPECT_FALSE(store->GetFleet("conn/d")->has_value());
  EXPECT_EQ(store->ScanFleet("")->size(), 4u);
}

TEST(StoreDefaultDirTest, PrefersSqlxHomeThenHome) {
  {
    ScopedEnv home("HOME", "/home/u");
    ScopedEnv sqlx_home("SQLX_HOME", "/srv/sqlx");
    EXPECT_EQ(Store::DefaultDir(), "/srv/sqlx");
  }
  {
    ScopedEnv home("HOME", "/home/u");
    ScopedEnv sqlx_home("SQLX_HOME", "");
    EXPECT_EQ(Store::DefaultDir(), "/home/u/.sqlx");
  }
  {
    ScopedEnv home("HOME", nullptr);
    ScopedEnv sqlx_home("SQLX_HOME", nullptr);
    EXPECT_EQ(Store::DefaultDir(), "./.sqlx");
  }
}

}  // namespace
}  // namespace sqlx::storage
