// RFC 6962 hashing and proofs; the recursions follow the RFC's definitions
// (section 2.1) and the verifiers RFC 9162's algorithms literally.
#include "sqlx/storage/merkle.h"

#include <algorithm>
#include <bit>
#include <cstdlib>
#include <memory>

#include <openssl/evp.h>
#include <openssl/sha.h>

#include "byte_codec.h"

namespace sqlx::storage {
namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

struct MdCtxDeleter {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// SHA-256 fetched once per process: with EVP_sha256(), every
// EVP_DigestInit_ex fetches the algorithm again (OpenSSL 3: a lookup under a
// lock, a good part of the cost of hashing an event).
const EVP_MD* FetchedSha256() {
  static EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  return md;
}

// SHA-256(prefix || a || b) with one EVP context per thread (no copy of the
// input, no allocation per hash). OpenSSL failing here is out of memory.
Hash PrefixedSha256(uint8_t prefix, std::string_view a, std::string_view b) {
  thread_local std::unique_ptr<EVP_MD_CTX, MdCtxDeleter> ctx(EVP_MD_CTX_new());
  Hash out;
  unsigned int len = 0;
  if (!ctx || FetchedSha256() == nullptr || EVP_DigestInit_ex(ctx.get(), FetchedSha256(), nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), &prefix, 1) != 1 || EVP_DigestUpdate(ctx.get(), a.data(), a.size()) != 1 ||
      EVP_DigestUpdate(ctx.get(), b.data(), b.size()) != 1 || EVP_DigestFinal_ex(ctx.get(), out.data(), &len) != 1) {
    std::abort();
  }
  return out;
}

// Largest power of two strictly below n. REQUIRES: n > 1.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

bool IsPerfect(uint64_t begin, uint64_t end) {
  const uint64_t n = end - begin;
  return std::has_single_bit(n) && begin % n == 0;
}

Status AppendPath(uint64_t m, uint64_t begin, uint64_t end, const SubtreeSource& source,
                  std::vector<Hash>* path) {
  const uint64_t n = end - begin;
  if (n == 1) return Status::Ok();
  const uint64_t k = SplitPoint(n);
  if (m < k) {
    SQLX_RETURN_IF_ERROR(AppendPath(m, begin, begin + k, source, path));
    SQLX_ASSIGN_OR_RETURN(Hash right, RangeHash(begin + k, end, source));
    path->push_back(right);
  } else {
    SQLX_RETURN_IF_ERROR(AppendPath(m - k, begin + k, end, source, path));
    SQLX_ASSIGN_OR_RETURN(Hash left, RangeHash(begin, begin + k, source));
    path->push_back(left);
  }
  return Status::Ok();
}

// SUBPROOF(m, D[begin:end], whole) of RFC 6962 2.1.2.
Status AppendSubproof(uint64_t m, uint64_t begin, uint64_t end, bool whole, const SubtreeSource& source,
                      std::vector<Hash>* path) {
  const uint64_t n = end - begin;
  if (m == n) {
    if (!whole) {
      SQLX_ASSIGN_OR_RETURN(Hash h, RangeHash(begin, end, source));
      path->push_back(h);
    }
    return Status::Ok();
  }
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    SQLX_RETURN_IF_ERROR(AppendSubproof(m, begin, begin + k, whole, source, path));
    SQLX_ASSIGN_OR_RETURN(Hash right, RangeHash(begin + k, end, source));
    path->push_back(right);
  } else {
    SQLX_RETURN_IF_ERROR(AppendSubproof(m - k, begin + k, end, false, source, path));
    SQLX_ASSIGN_OR_RETURN(Hash left, RangeHash(begin, begin + k, source));
    path->push_back(left);
  }
  return Status::Ok();
}

}  // namespace

Hash Sha256(std::string_view bytes) {
  Hash out;
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), out.data());
  return out;
}

Hash LeafHash(std::string_view bytes) {
  return PrefixedSha256(kLeafPrefix, bytes, std::string_view());
}

Hash NodeHash(const Hash& left, const Hash& right) {
  return PrefixedSha256(kNodePrefix, std::string_view(reinterpret_cast<const char*>(left.data()), left.size()),
                        std::string_view(reinterpret_cast<const char*>(right.data()), right.size()));
}

Hash EmptyRoot() { return Sha256(""); }

std::string ToHex(const Hash& hash) { return codec::HexEncodeArray(hash); }

std::optional<Hash> HashFromHex(std::string_view hex) {
  std::optional<std::string> bytes = codec::HexDecode(hex);
  if (!bytes || bytes->size() != 32) return std::nullopt;
  Hash out;
  std::copy(bytes->begin(), bytes->end(), out.begin());
  return out;
}

Result<MerkleFrontier> MerkleFrontier::FromNodes(uint64_t size, std::vector<Hash> nodes) {
  if (nodes.size() != static_cast<size_t>(std::popcount(size))) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "a Merkle frontier of " + std::to_string(size) + " leaves has " +
                         std::to_string(std::popcount(size)) + " nodes, not " + std::to_string(nodes.size()));
  }
  MerkleFrontier f;
  f.size_ = size;
  f.nodes_ = std::move(nodes);
  return f;
}

void MerkleFrontier::Append(const Hash& leaf, const NodeSink& sink) {
  const uint64_t index = size_;
  if (sink) sink(0, index, leaf);
  Hash carry = leaf;
  // Each trailing one bit of the old size is a subtree the new leaf completes.
  for (int level = 0; (index >> level) & 1; ++level) {
    carry = NodeHash(nodes_.back(), carry);
    nodes_.pop_back();
    if (sink) sink(level + 1, index >> (level + 1), carry);
  }
  nodes_.push_back(carry);
  ++size_;
}

Hash MerkleFrontier::Root() const {
  if (nodes_.empty()) return EmptyRoot();
  Hash root = nodes_.back();
  for (size_t i = nodes_.size() - 1; i-- > 0;) root = NodeHash(nodes_[i], root);
  return root;
}

Result<Hash> RangeHash(uint64_t begin, uint64_t end, const SubtreeSource& source) {
  if (end <= begin) return MakeError(ErrorCode::kInternal, "empty Merkle range");
  if (IsPerfect(begin, end)) {
    const uint64_t n = end - begin;
    const int level = std::countr_zero(n);
    return source(level, begin >> level);
  }
  const uint64_t k = SplitPoint(end - begin);
  SQLX_ASSIGN_OR_RETURN(Hash left, RangeHash(begin, begin + k, source));
  SQLX_ASSIGN_OR_RETURN(Hash right, RangeHash(begin + k, end, source));
  return NodeHash(left, right);
}

Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size, const SubtreeSource& source) {
  if (index >= size) {
    return MakeError(ErrorCode::kInvalidArgument, "leaf " + std::to_string(index) +
                                                      " is not in a tree of " + std::to_string(size) + " leaves");
  }
  std::vector<Hash> path;
  SQLX_RETURN_IF_ERROR(AppendPath(index, 0, size, source, &path));
  return path;
}

Result<std::vector<Hash>> ConsistencyProof(uint64_t first, uint64_t second, const SubtreeSource& source) {
  if (first == 0 || first > second) {
    return MakeError(ErrorCode::kInvalidArgument, "a consistency proof needs 0 < first <= second (got " +
                                                      std::to_string(first) + " and " + std::to_string(second) +
                                                      ")");
  }
  std::vector<Hash> path;
  SQLX_RETURN_IF_ERROR(AppendSubproof(first, 0, second, true, source, &path));
  return path;
}

bool VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf, const std::vector<Hash>& path,
                     const Hash& root) {
  if (index >= size) return false;
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Hash r = leaf;
  for (const Hash& p : path) {
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool VerifyConsistency(uint64_t first, uint64_t second, const Hash& first_root, const Hash& second_root,
                       const std::vector<Hash>& path) {
  if (first == 0 || first > second) return false;
  if (first == second) return path.empty() && first_root == second_root;
  if (path.empty()) return false;
  std::vector<Hash> p;
  p.reserve(path.size() + 1);
  if (std::has_single_bit(first)) p.push_back(first_root);
  p.insert(p.end(), path.begin(), path.end());
  uint64_t fn = first - 1;
  uint64_t sn = second - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash fr = p[0];
  Hash sr = p[0];
  for (size_t i = 1; i < p.size(); ++i) {
    const Hash& c = p[i];
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == first_root && sr == second_root && sn == 0;
}

}  // namespace sqlx::storage
