// RFC 6962 Merkle tree hashing (section 2.1): leaf and node hashes, the
// compact range ("frontier") that makes appends O(log n), and inclusion and
// consistency proofs with their verification. Pure functions: no I/O.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sqlx/messages/result.h"

namespace sqlx::storage {

using Hash = std::array<uint8_t, 32>;

Hash Sha256(std::string_view bytes);
// SHA-256(0x00 || bytes): RFC 6962's leaf hash.
Hash LeafHash(std::string_view bytes);
// SHA-256(0x01 || left || right): RFC 6962's interior node hash.
Hash NodeHash(const Hash& left, const Hash& right);
// MTH of the empty tree: SHA-256 of the empty string.
Hash EmptyRoot();

// Lowercase hex; HashFromHex accepts exactly 64 hex digits (either case).
std::string ToHex(const Hash& hash);
std::optional<Hash> HashFromHex(std::string_view hex);

// The roots of the perfect subtrees covering leaves [0, size): one per set
// bit of size, largest (leftmost) first. Appending a leaf merges equal-sized
// neighbours like a binary counter: O(log n) hashes, and the root is a fold
// of at most 64 nodes. Not thread-safe.
class MerkleFrontier {
 public:
  // Called for every perfect subtree an append completes: level 0 is the
  // leaf itself, level L covers leaves [index << L, (index + 1) << L).
  using NodeSink = std::function<void(int level, uint64_t index, const Hash& hash)>;

  MerkleFrontier() = default;
  // kInvalidArgument unless nodes.size() equals popcount(size).
  static Result<MerkleFrontier> FromNodes(uint64_t size, std::vector<Hash> nodes);

  void Append(const Hash& leaf, const NodeSink& sink = nullptr);
  Hash Root() const;
  uint64_t size() const { return size_; }
  const std::vector<Hash>& nodes() const { return nodes_; }

 private:
  uint64_t size_ = 0;
  std::vector<Hash> nodes_;
};

// Hash of the perfect aligned subtree at (level, index); a store reads it
// from disk. Errors propagate out of the proof functions.
using SubtreeSource = std::function<Result<Hash>(int level, uint64_t index)>;

// MTH(D[begin:end]). REQUIRES: begin is a multiple of the largest power of
// two not above end - begin (true of every range RFC 6962's recursion visits).
Result<Hash> RangeHash(uint64_t begin, uint64_t end, const SubtreeSource& source);
// PATH(index, D[0:size]) of RFC 6962 2.1.1, from the leaf up.
// kInvalidArgument unless index < size.
Result<std::vector<Hash>> InclusionProof(uint64_t index, uint64_t size, const SubtreeSource& source);
// PROOF(first, D[0:second]) of RFC 6962 2.1.2. kInvalidArgument unless
// 0 < first <= second. Empty when first == second.
Result<std::vector<Hash>> ConsistencyProof(uint64_t first, uint64_t second, const SubtreeSource& source);

// RFC 9162 2.1.3.2: true when `path` proves leaf `leaf` at `index` is in the
// tree of `size` leaves with root `root`.
bool VerifyInclusion(uint64_t index, uint64_t size, const Hash& leaf, const std::vector<Hash>& path,
                     const Hash& root);
// RFC 9162 2.1.4.2: true when `path` proves the tree of `first` leaves with
// root `first_root` is a prefix of the tree of `second` leaves.
bool VerifyConsistency(uint64_t first, uint64_t second, const Hash& first_root, const Hash& second_root,
                       const std::vector<Hash>& path);

}  // namespace sqlx::storage
