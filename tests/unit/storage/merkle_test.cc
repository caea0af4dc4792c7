// RFC 6962 Merkle hashing against the Certificate Transparency test vectors,
// and inclusion and consistency proofs for every tree size up to 70 (every
// index, every prefix), verified and then mutated to fail.
#include "sqlx/storage/merkle.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace sqlx::storage {
namespace {

std::string Unhex(const std::string& hex) {
  std::string out;
  for (size_t i = 0; i < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

Hash H(const std::string& hex) {
  auto h = HashFromHex(hex);
  EXPECT_TRUE(h.has_value()) << hex;
  return h.value_or(Hash{});
}

// The leaves of the CT test vectors (RFC 6962 reference data).
std::vector<Hash> CtLeaves() {
  std::vector<Hash> out;
  for (const char* hex : {"", "00", "10", "2021", "3031", "40414243", "5051525354555657",
                          "606162636465666768696a6b6c6d6e6f"}) {
    out.push_back(LeafHash(Unhex(hex)));
  }
  return out;
}

// MTH straight from RFC 6962's definition, as an independent reference.
Hash ReferenceRoot(const std::vector<Hash>& leaves, size_t begin, size_t end) {
  if (end == begin) return EmptyRoot();
  if (end - begin == 1) return leaves[begin];
  size_t k = 1;
  while (k * 2 < end - begin) k *= 2;
  return NodeHash(ReferenceRoot(leaves, begin, begin + k), ReferenceRoot(leaves, begin + k, end));
}

SubtreeSource SourceOver(const std::vector<Hash>& leaves) {
  return [&leaves](int level, uint64_t index) -> Result<Hash> {
    const size_t begin = static_cast<size_t>(index) << level;
    const size_t end = begin + (size_t{1} << level);
    if (end > leaves.size()) return MakeError(ErrorCode::kInternal, "subtree beyond the leaves");
    return ReferenceRoot(leaves, begin, end);
  };
}

std::vector<Hash> Leaves(size_t n) {
  std::vector<Hash> out;
  for (size_t i = 0; i < n; ++i) out.push_back(LeafHash("leaf " + std::to_string(i)));
  return out;
}

TEST(MerkleTest, RootsMatchTheCertificateTransparencyVectors) {
  const std::vector<std::string> roots = {
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  const std::vector<Hash> leaves = CtLeaves();
  MerkleFrontier frontier;
  EXPECT_EQ(ToHex(frontier.Root()), roots[0]);
  for (size_t n = 1; n <= 8; ++n) {
    frontier.Append(leaves[n - 1]);
    EXPECT_EQ(ToHex(frontier.Root()), roots[n]) << "size " << n;
    std::vector<Hash> prefix(leaves.begin(), leaves.begin() + static_cast<long>(n));
    auto range = RangeHash(0, n, SourceOver(prefix));
    ASSERT_TRUE(range.ok());
    EXPECT_EQ(ToHex(*range), roots[n]) << "size " << n;
  }
}

TEST(MerkleTest, ProofsMatchTheCertificateTransparencyVectors) {
  const std::vector<Hash> leaves = CtLeaves();
  auto inclusion = InclusionProof(5, 8, SourceOver(leaves));
  ASSERT_TRUE(inclusion.ok());
  ASSERT_EQ(inclusion->size(), 3u);
  EXPECT_EQ(ToHex((*inclusion)[0]), "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b");
  EXPECT_EQ(ToHex((*inclusion)[1]), "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0");
  EXPECT_EQ(ToHex((*inclusion)[2]), "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7");

  auto consistency = ConsistencyProof(3, 8, SourceOver(leaves));
  ASSERT_TRUE(consistency.ok());
  const std::vector<std::string> want = {"0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
                                         "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
                                         "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
                                         "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"};
  ASSERT_EQ(consistency->size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(ToHex((*consistency)[i]), want[i]);
  EXPECT_TRUE(VerifyConsistency(3, 8, H("aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77"),
                                H("5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"), *consistency));
}

TEST(MerkleTest, FrontierRootEqualsTheReferenceForEverySize) {
  const std::vector<Hash> leaves = Leaves(300);
  MerkleFrontier frontier;
  for (size_t n = 1; n <= leaves.size(); ++n) {
    frontier.Append(leaves[n - 1]);
    ASSERT_EQ(frontier.Root(), ReferenceRoot(leaves, 0, n)) << "size " << n;
    ASSERT_EQ(frontier.nodes().size(), static_cast<size_t>(__builtin_popcountll(n)));
  }
}

TEST(MerkleTest, FrontierReportsEveryCompletedSubtree) {
  const std::vector<Hash> leaves = Leaves(37);
  MerkleFrontier frontier;
  size_t reported = 0;
  for (const Hash& leaf : leaves) {
    frontier.Append(leaf, [&](int level, uint64_t index, const Hash& h) {
      auto want = SourceOver(leaves)(level, index);
      ASSERT_TRUE(want.ok());
      EXPECT_EQ(h, *want) << level << "/" << index;
      ++reported;
    });
  }
  // 37 leaves + 18 + 9 + 4 + 2 + 1 interior perfect subtrees.
  EXPECT_EQ(reported, 37u + 18 + 9 + 4 + 2 + 1);
}

TEST(MerkleTest, InclusionProofsVerifyForEveryIndexOfEverySizeAndFailWhenChanged) {
  const std::vector<Hash> leaves = Leaves(70);
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    const Hash root = ReferenceRoot(leaves, 0, n);
    for (uint64_t m = 0; m < n; ++m) {
      auto path = InclusionProof(m, n, SourceOver(leaves));
      ASSERT_TRUE(path.ok());
      ASSERT_TRUE(VerifyInclusion(m, n, leaves[m], *path, root)) << m << " in " << n;
      EXPECT_FALSE(VerifyInclusion(m, n, LeafHash("other"), *path, root));
      if (n > 1) {
        EXPECT_FALSE(VerifyInclusion((m + 1) % n, n, leaves[m], *path, root)) << m << " in " << n;
      }
      if (!path->empty()) {
        std::vector<Hash> shorter(path->begin(), path->end() - 1);
        EXPECT_FALSE(VerifyInclusion(m, n, leaves[m], shorter, root));
        std::vector<Hash> flipped = *path;
        flipped[0][0] ^= 1;
        EXPECT_FALSE(VerifyInclusion(m, n, leaves[m], flipped, root));
      }
      std::vector<Hash> longer = *path;
      longer.push_back(root);
      EXPECT_FALSE(VerifyInclusion(m, n, leaves[m], longer, root));
    }
  }
  EXPECT_FALSE(InclusionProof(3, 3, SourceOver(leaves)).ok());
}

TEST(MerkleTest, ConsistencyProofsVerifyForEveryPrefixAndFailWhenChanged) {
  const std::vector<Hash> leaves = Leaves(70);
  for (uint64_t n = 1; n <= leaves.size(); ++n) {
    const Hash second = ReferenceRoot(leaves, 0, n);
    for (uint64_t m = 1; m <= n; ++m) {
      const Hash first = ReferenceRoot(leaves, 0, m);
      auto path = ConsistencyProof(m, n, SourceOver(leaves));
      ASSERT_TRUE(path.ok());
      ASSERT_TRUE(VerifyConsistency(m, n, first, second, *path)) << m << " -> " << n;
      EXPECT_FALSE(VerifyConsistency(m, n, LeafHash("x"), second, *path)) << m << " -> " << n;
      EXPECT_FALSE(VerifyConsistency(m, n, first, LeafHash("x"), *path)) << m << " -> " << n;
      if (!path->empty()) {
        std::vector<Hash> flipped = *path;
        flipped.back()[5] ^= 0x40;
        EXPECT_FALSE(VerifyConsistency(m, n, first, second, flipped)) << m << " -> " << n;
        std::vector<Hash> shorter(path->begin(), path->end() - 1);
        EXPECT_FALSE(VerifyConsistency(m, n, first, second, shorter)) << m << " -> " << n;
      }
      if (m < n) {
        EXPECT_FALSE(VerifyConsistency(m + 1, n, first, second, *path)) << m << " -> " << n;
      }
    }
  }
  EXPECT_FALSE(ConsistencyProof(0, 4, SourceOver(leaves)).ok());
  EXPECT_FALSE(ConsistencyProof(5, 4, SourceOver(leaves)).ok());
}

TEST(MerkleTest, HexRoundTripsAndRejectsBadInput) {
  const Hash h = LeafHash("x");
  EXPECT_EQ(HashFromHex(ToHex(h)), h);
  EXPECT_FALSE(HashFromHex("zz").has_value());
  EXPECT_FALSE(HashFromHex(std::string(64, 'g')).has_value());
  EXPECT_FALSE(HashFromHex(ToHex(h) + "0").has_value());
  EXPECT_FALSE(MerkleFrontier::FromNodes(3, {h}).ok());
  EXPECT_TRUE(MerkleFrontier::FromNodes(3, {h, h}).ok());
}

}  // namespace
}  // namespace sqlx::storage
