// Opening the store: directory, lock wait, column families, format version;
// and the small read/write/scan helpers every record kind uses.
#include "rocks_store.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <system_error>
#include <thread>
#include <utility>

#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/slice_transform.h>

#include "records.h"
#include "store_keys.h"

namespace sqlx::storage {
namespace {

using Clock = std::chrono::steady_clock;
constexpr std::chrono::milliseconds kLockRetryInterval{100};

rocksdb::Slice ToSlice(std::string_view s) { return rocksdb::Slice(s.data(), s.size()); }

// RocksDB reports a LOCK file held by this process as "lock hold by current
// process" and one held by another process as fcntl's EAGAIN/EACCES.
bool IsLockHeld(const rocksdb::Status& status) {
  if (!status.IsIOError()) return false;
  const std::string message = status.ToString();
  auto has = [&](std::string_view s) { return message.find(s) != std::string::npos; };
  return has("lock hold by current process") ||
         (has("lock") && (has("Resource temporarily unavailable") || has("Permission denied")));
}

rocksdb::DBOptions StoreDbOptions() {
  rocksdb::DBOptions options;
  options.create_if_missing = true;
  options.create_missing_column_families = true;
  options.keep_log_file_num = 5;  // RocksDB's own LOG files, one per open
  // No periodic statistics in LOG (RocksDB's default: every 600 s, and once
  // just after opening, on a thread competing with a short command's work).
  options.stats_dump_period_sec = 0;
  return options;
}

// Memtable insert hints for audit_index: one hint per index value (KIND
// VALUE 00, or the kind byte alone for the time entries), so each append's
// posting for a value lands next to that value's previous posting without a
// search from the skip list's head.
class IndexValuePrefix final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "sqlx.AuditIndexValuePrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    if (key.empty() || key[0] == 'w' || key[0] == 't') return rocksdb::Slice(key.data(), key.empty() ? 0 : 1);
    const void* zero = std::memchr(key.data(), 0, key.size());
    const size_t n = zero == nullptr ? key.size() : static_cast<size_t>(static_cast<const char*>(zero) - key.data()) + 1;
    return rocksdb::Slice(key.data(), n);
  }
  bool InDomain(const rocksdb::Slice& /*key*/) const override { return true; }
};

// Options of one family. The audit families are written append-only in key
// order within each hint prefix (seqs; Merkle node indexes per level;
// postings per index value, ending in their last seq), so memtable inserts
// keep a hint at the previous insert of that prefix instead of searching the
// skip list from its head; the index and node families hold hashes and seq
// lists that do not compress, so they skip compression.
rocksdb::ColumnFamilyOptions FamilyOptions(std::string_view name) {
  rocksdb::ColumnFamilyOptions options;
  if (name == "audit_events") {
    options.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(0));
  } else if (name == "audit_nodes") {
    options.memtable_insert_with_hint_prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(1));  // the level
  } else if (name == "audit_index") {
    options.memtable_insert_with_hint_prefix_extractor = std::make_shared<IndexValuePrefix>();
  }
  if (name == "audit_nodes" || name == "audit_index") options.compression = rocksdb::kNoCompression;
  return options;
}

// Our families plus any a newer sqlx added: RocksDB refuses to open a
// database without naming every family it has.
std::vector<rocksdb::ColumnFamilyDescriptor> FamilyDescriptors(const rocksdb::DBOptions& options,
                                                               const std::string& dir) {
  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName};
  for (const char* name : RocksStore::kFamilyNames) names.emplace_back(name);
  std::vector<std::string> existing;
  // A new store has no families to list yet: ignored on purpose.
  rocksdb::Status ignored = rocksdb::DB::ListColumnFamilies(options, dir, &existing);
  (void)ignored;
  for (std::string& name : existing) {
    if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (std::string& name : names) {
    rocksdb::ColumnFamilyOptions family_options = FamilyOptions(name);
    descriptors.emplace_back(std::move(name), std::move(family_options));
  }
  return descriptors;
}

}  // namespace

Result<std::unique_ptr<Store>> RocksStore::Open(const StoreOptions& options) {
  const std::string& dir = options.dir;
  if (dir.empty()) {
    return MakeError(ErrorCode::kInvalidArgument, "store directory is empty; pass --store DIR");
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    return MakeError(ErrorCode::kIo, "cannot create store directory " + dir + ": " +
                                         ec.message() + "; check its permissions or use --store");
  }
  const rocksdb::DBOptions db_options = StoreDbOptions();
  const Clock::time_point deadline = Clock::now() + options.lock_wait;
  for (;;) {
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = FamilyDescriptors(db_options, dir);
    rocksdb::DB* db = nullptr;
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::Status status = rocksdb::DB::Open(db_options, dir, descriptors, &handles, &db);
    if (status.ok()) {
      std::unique_ptr<RocksStore> store(new RocksStore(dir, db, std::move(handles)));
      SQLX_RETURN_IF_ERROR(store->CheckFormatVersion());
      return std::unique_ptr<Store>(std::move(store));
    }
    if (!IsLockHeld(status)) {
      return MakeError(ErrorCode::kIo, "store " + dir + ": opening: " + status.ToString());
    }
    const Clock::time_point now = Clock::now();
    if (now >= deadline) {
      return MakeError(ErrorCode::kIo, "store " + dir +
                                           " is in use by another sqlx process; wait for it to "
                                           "finish or use --store");
    }
    std::this_thread::sleep_for(
        std::min<Clock::duration>(kLockRetryInterval, deadline - now));
  }
}

RocksStore::RocksStore(std::string dir, rocksdb::DB* db,
                       std::vector<rocksdb::ColumnFamilyHandle*> handles)
    : db_(db), handles_(std::move(handles)) {
  dir_ = std::move(dir);
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    for (size_t f = 0; f < kFamilyCount; ++f) {
      if (handle->GetName() == kFamilyNames[f]) family_[f] = handle;
    }
  }
}

RocksStore::~RocksStore() {
  // Close errors have nowhere to go: every write was already synced.
  for (rocksdb::ColumnFamilyHandle* handle : handles_) {
    rocksdb::Status ignored = db_->DestroyColumnFamilyHandle(handle);
    (void)ignored;
  }
  rocksdb::Status ignored = db_->Close();
  (void)ignored;
}

Status RocksStore::CheckFormatVersion() {
  SQLX_ASSIGN_OR_RETURN(std::optional<std::string> value, Get(kMeta, kFormatVersionKey));
  if (!value) {
    rocksdb::WriteBatch batch;
    batch.Put(family_[kMeta], ToSlice(kFormatVersionKey),
              EncodeFormatVersion(kFormatVersion));
    return Write(batch, "writing format_version");
  }
  SQLX_ASSIGN_OR_RETURN(int64_t version, DecodeFormatVersion(*value, "store " + dir_));
  if (version > kFormatVersion) {
    return MakeError(ErrorCode::kUnsupported, "store " + dir_ +
                                                  " was written by a newer sqlx (format " +
                                                  std::to_string(version) + "); upgrade sqlx");
  }
  return Status::Ok();
}

Result<std::optional<std::string>> RocksStore::Get(Family family, std::string_view key) {
  std::string value;
  rocksdb::Status status = db_->Get(rocksdb::ReadOptions(), family_[family], ToSlice(key), &value);
  if (status.IsNotFound()) return std::optional<std::string>();
  if (!status.ok()) return ToError(status, std::string("reading ") + kFamilyNames[family]);
  return std::optional<std::string>(std::move(value));
}

Status RocksStore::Write(rocksdb::WriteBatch& batch, std::string_view what, bool synced) {
  rocksdb::WriteOptions options;
  options.sync = synced;
  rocksdb::Status status = db_->Write(options, &batch);
  if (!status.ok()) return ToError(status, what);
  return Status::Ok();
}

Status RocksStore::Scan(Family family, std::string_view prefix, const Visit& visit) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), family_[family]));
  const rocksdb::Slice wanted = ToSlice(prefix);
  for (it->Seek(wanted); it->Valid() && it->key().starts_with(wanted); it->Next()) {
    SQLX_RETURN_IF_ERROR(visit(it->key().ToStringView(), it->value().ToStringView()));
  }
  if (!it->status().ok()) {
    return ToError(it->status(), std::string("scanning ") + kFamilyNames[family]);
  }
  return Status::Ok();
}

Error RocksStore::ToError(const rocksdb::Status& status, std::string_view what) const {
  return MakeError(ErrorCode::kIo, "store " + dir_ + ": " + std::string(what) + ": " +
                                       status.ToString());
}

}  // namespace sqlx::storage
