// The per-store fingerprint salt: 32 bytes from getrandom(2), hex, created
// on first use and kept in `meta`.
#include <sys/random.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "records.h"
#include "rocks_store.h"
#include "store_keys.h"

namespace sqlx::storage {
namespace {

constexpr size_t kSaltBytes = 32;

Result<std::string> RandomHex(size_t size) {
  std::string bytes(size, '\0');
  size_t filled = 0;
  while (filled < size) {
    ssize_t n = getrandom(bytes.data() + filled, size - filled, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      return MakeError(ErrorCode::kIo, std::string("cannot read random bytes for the store's "
                                                   "fingerprint salt: ") +
                                           std::strerror(errno));
    }
    filled += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * size);
  for (unsigned char c : bytes) {
    hex.push_back(kHex[c >> 4]);
    hex.push_back(kHex[c & 0xf]);
  }
  return hex;
}

}  // namespace

Result<std::string> RocksStore::FingerprintSalt() {
  std::lock_guard<std::mutex> lock(salt_mu_);
  SQLX_ASSIGN_OR_RETURN(std::optional<std::string> value, Get(kMeta, kFingerprintSaltKey));
  if (value) return DecodeSalt(*value, "store " + dir_);
  SQLX_ASSIGN_OR_RETURN(std::string salt, RandomHex(kSaltBytes));
  SQLX_ASSIGN_OR_RETURN(std::string encoded, EncodeSalt(salt));
  rocksdb::WriteBatch batch;
  batch.Put(family_[kMeta], rocksdb::Slice(kFingerprintSaltKey.data(), kFingerprintSaltKey.size()),
            encoded);
  SQLX_RETURN_IF_ERROR(Write(batch, "writing fingerprint_salt"));
  return salt;
}

}  // namespace sqlx::storage
