// bench_audit: the audit log against its floors, in one run on this machine.
//  1. appends: N events in durable groups of G through AuditLog::Append, vs
//     a raw RocksDB loop writing the same bytes in WriteBatches of G with
//     the same sync=true (the floor: no hashing, nodes, indexes, head).
//  2. verify: AuditLog::Verify with the trusted key, vs a raw scan of the
//     audit_events family plus one SHA-256 per value.
//  3. query: p50/p99 of one object's newest events (limit 100) on the log.
// Prints RESULT audit_verify, RESULT audit_query, and last
// RESULT audit ours=<appends/s> peer=<raw appends/s> ratio=<ours/peer> unit=events/s
// Usage: bench_audit EVENTS GROUP QUERIES
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include "sqlx/storage/audit_log.h"
#include "sqlx/storage/merkle.h"
#include "sqlx/storage/store.h"

namespace {

using Clock = std::chrono::steady_clock;
using sqlx::storage::AuditEvent;

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "bench_audit: %s\n", what.c_str());
  std::exit(1);
}

constexpr int kDatabases = 10;
constexpr int kTables = 100;  // per database: 1000 objects

AuditEvent Event(const AuditEvent& stamp, uint64_t i) {
  AuditEvent e = stamp;
  e.time_ns = stamp.time_ns + static_cast<int64_t>(i) * 1000;
  e.action = i % 4 == 0 ? "learn.database" : "apply.step";
  e.object = {"app@db1.example.com:3306", "db" + std::to_string(i % kDatabases),
              "t" + std::to_string((i / kDatabases) % kTables)};
  e.details_json = R"({"profile_hash":"9f2c4e1d8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d","step":)" +
                   std::to_string(i) + "}";
  return e;
}

double AppendOurs(sqlx::storage::AuditLog& log, uint64_t events, uint64_t group) {
  const AuditEvent stamp = sqlx::storage::NewAuditEvent("x");
  const Clock::time_point start = Clock::now();
  for (uint64_t done = 0; done < events;) {
    std::vector<AuditEvent> batch;
    for (uint64_t j = 0; j < group && done < events; ++j, ++done) batch.push_back(Event(stamp, done));
    auto r = log.Append(std::move(batch));
    if (!r.ok()) Die(r.error().message);
  }
  return static_cast<double>(events) / Seconds(start);
}

double AppendRaw(const std::string& dir, uint64_t events, uint64_t group) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, dir, &raw).ok()) Die("cannot open the raw RocksDB in " + dir);
  std::unique_ptr<rocksdb::DB> db(raw);
  const AuditEvent stamp = sqlx::storage::NewAuditEvent("x");
  rocksdb::WriteOptions sync;
  sync.sync = true;
  const Clock::time_point start = Clock::now();
  for (uint64_t done = 0; done < events;) {
    rocksdb::WriteBatch batch;
    for (uint64_t j = 0; j < group && done < events; ++j, ++done) {
      std::string key(8, '\0');
      for (int b = 0; b < 8; ++b) key[static_cast<size_t>(b)] = static_cast<char>((done + 1) >> (56 - 8 * b));
      batch.Put(key, sqlx::storage::CanonicalBytes(Event(stamp, done)) + std::string(32, 'h'));
    }
    if (!db->Write(sync, &batch).ok()) Die("raw write failed");
  }
  return static_cast<double>(events) / Seconds(start);
}

double ScanRaw(const std::string& dir, uint64_t* count) {
  std::vector<std::string> names;
  if (!rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), dir, &names).ok()) Die("cannot list families");
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const std::string& n : names) descriptors.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::OpenForReadOnly(rocksdb::Options(), dir, descriptors, &handles, &raw).ok()) Die("cannot open");
  std::unique_ptr<rocksdb::DB> db(raw);
  const Clock::time_point start = Clock::now();
  unsigned sink = 0;
  for (rocksdb::ColumnFamilyHandle* h : handles) {
    if (h->GetName() != "audit_events") continue;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), h));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      sink += sqlx::storage::Sha256(it->value().ToStringView())[0];
      ++*count;
    }
  }
  const double s = Seconds(start);
  for (rocksdb::ColumnFamilyHandle* h : handles) (void)db->DestroyColumnFamilyHandle(h);
  if (sink == 1) std::fprintf(stderr, " ");  // keeps the hashing from being optimized away
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) Die("usage: bench_audit EVENTS GROUP QUERIES");
  const uint64_t events = std::strtoull(argv[1], nullptr, 10);
  const uint64_t group = std::strtoull(argv[2], nullptr, 10);
  const int queries = std::atoi(argv[3]);
  char tmpl[] = "/tmp/sqlx-bench-audit.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) Die("mkdtemp failed");
  const std::string root = tmpl;
  const std::string key = root + "/audit.pem";
  auto pub = sqlx::storage::AuditSigningKey::Generate(key);
  if (!pub.ok()) Die(pub.error().message);

  const double raw_rate = AppendRaw(root + "/raw", events, group);
  double ours_rate = 0;
  double verify_s = 0;
  std::vector<double> latencies;
  {
    auto store = sqlx::storage::Store::Open({root + "/store", std::chrono::milliseconds(1000)});
    if (!store.ok()) Die(store.error().message);
    sqlx::storage::AuditLogOptions options;
    options.signing_key_file = key;
    auto log = sqlx::storage::AuditLog::Open(**store, options);
    if (!log.ok()) Die(log.error().message);
    ours_rate = AppendOurs(**log, events, group);

    sqlx::storage::AuditVerifyOptions trust;
    trust.trusted_key = *pub;
    const Clock::time_point start = Clock::now();
    auto report = (*log)->Verify(trust);
    verify_s = Seconds(start);
    if (!report.ok() || !report->ok || report->events != events) Die("verify failed");

    std::mt19937 rng(42);
    for (int q = 0; q < queries; ++q) {
      sqlx::storage::AuditQuery query;
      const int db = static_cast<int>(rng() % kDatabases);
      query.object = "db" + std::to_string(db) + ".t" + std::to_string(rng() % kTables);
      query.limit = 100;
      const Clock::time_point qs = Clock::now();
      auto r = (*log)->Query(query);
      latencies.push_back(Seconds(qs) * 1000);
      if (!r.ok() || r->events.empty()) Die("query found nothing for " + query.object);
    }
  }
  uint64_t scanned = 0;
  const double scan_s = ScanRaw(root + "/store", &scanned);
  std::filesystem::remove_all(root);

  std::sort(latencies.begin(), latencies.end());
  auto pct = [&](double p) { return latencies[std::min(latencies.size() - 1, static_cast<size_t>(p * latencies.size()))]; };
  const double verify_rate = static_cast<double>(events) / verify_s;
  const double scan_rate = static_cast<double>(scanned) / scan_s;
  std::printf("appends: %.0f events/s (raw WriteBatch floor %.0f), groups of %llu, synced\n", ours_rate, raw_rate,
              static_cast<unsigned long long>(group));
  std::printf("verify:  %.0f events/s (raw scan + SHA-256 floor %.0f)\n", verify_rate, scan_rate);
  std::printf("query:   p50 %.3f ms, p99 %.3f ms (one of %d objects, newest 100, %d queries)\n", pct(0.5), pct(0.99),
              kDatabases * kTables, queries);
  std::printf("RESULT audit_verify ours=%.0f peer=%.0f ratio=%.3f unit=events/s\n", verify_rate, scan_rate,
              verify_rate / scan_rate);
  std::printf("RESULT audit_query ours=%.3f peer=5 ratio=%.3f unit=ms_p99_vs_target\n", pct(0.99), pct(0.99) / 5);
  std::printf("RESULT audit ours=%.0f peer=%.0f ratio=%.3f unit=events/s\n", ours_rate, raw_rate,
              ours_rate / raw_rate);
  return 0;
}
