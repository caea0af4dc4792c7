// Every IR field, in turn, changes the profile hash — except the ones the
// hash leaves out by design, which must not. The field list is read from
// ir_fields.h, so a field added there without a mutation in
// ir_mutations.h fails.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "ir_fields.h"
#include "ir_mutations.h"
#include "ir_sample.h"
#include "sqlx/messages/ir.h"

namespace sqlx::ir {
namespace {

using testing::HashedMutations;
using testing::Mutation;
using testing::SampleDatabase;
using testing::UnhashedMutations;

// Collects "tables.columns.name"-style paths of every field, and which of
// them the hash leaves out (with everything below them).
class PathCollector {
 public:
  PathCollector(std::string prefix, bool hashed, std::set<std::string>* all, std::set<std::string>* not_hashed)
      : prefix_(std::move(prefix)), hashed_(hashed), all_(all), not_hashed_(not_hashed) {}

  template <class T>
  void operator()(const char* key, T& /*member*/, Hashed hashed = Hashed::kYes) {
    std::string path = prefix_.empty() ? key : prefix_ + "." + key;
    bool is_hashed = hashed_ && hashed == Hashed::kYes;
    all_->insert(path);
    if (!is_hashed) not_hashed_->insert(path);
    Recurse<T>(path, is_hashed);
  }

 private:
  template <class T>
  void Recurse(const std::string& path, bool is_hashed) {
    if constexpr (requires { typename T::value_type; } && !std::is_same_v<T, std::string>) {
      Recurse<typename T::value_type>(path, is_hashed);  // vector or optional element
    } else if constexpr (std::is_class_v<T> && !std::is_same_v<T, std::string>) {
      T element{};
      PathCollector inner(path, is_hashed, all_, not_hashed_);
      Fields(element, inner);
    }
  }

  std::string prefix_;
  bool hashed_;
  std::set<std::string>* all_;
  std::set<std::string>* not_hashed_;
};

TEST(IrEveryFieldTest, MutationsCoverEveryFieldOfTheFieldTable) {
  std::set<std::string> all;
  std::set<std::string> not_hashed;
  PathCollector collector("", true, &all, &not_hashed);
  Database probe;
  Fields(probe, collector);

  std::set<std::string> hashed_covered;
  for (const Mutation& m : HashedMutations()) hashed_covered.insert(m.path);
  std::set<std::string> unhashed_covered;
  for (const Mutation& m : UnhashedMutations()) unhashed_covered.insert(m.path);

  std::set<std::string> hashed;
  std::set_difference(all.begin(), all.end(), not_hashed.begin(), not_hashed.end(),
                      std::inserter(hashed, hashed.end()));
  EXPECT_EQ(hashed_covered, hashed);
  EXPECT_EQ(unhashed_covered, not_hashed);
  EXPECT_EQ(not_hashed, (std::set<std::string>{"name", "tables.indexes.position", "tables.stats",
                                               "tables.stats.auto_increment",
                                               "tables.stats.data_length", "tables.stats.index_length",
                                               "tables.stats.rows_estimate"}));
}

TEST(IrEveryFieldTest, EachHashedFieldChangesTheHash) {
  const Database base = SampleDatabase();
  const std::string base_hash = ProfileHash(base);
  std::set<std::string> seen_hashes{base_hash};
  for (const Mutation& m : HashedMutations()) {
    Database d = base;
    m.apply(d);
    const std::string hash = ProfileHash(d);
    EXPECT_NE(hash, base_hash) << m.path << " (" << m.what << ")";
    EXPECT_TRUE(seen_hashes.insert(hash).second) << m.path << " (" << m.what << ") collides with another mutation";
    auto back = FromJson(ToCanonicalJson(d));
    ASSERT_TRUE(back.ok()) << m.path << ": " << back.error().message;
    EXPECT_EQ(ToCanonicalJson(*back), ToCanonicalJson(d)) << m.path << " (" << m.what << ")";
  }
}

TEST(IrEveryFieldTest, EachUnhashedFieldLeavesTheHashAlone) {
  const Database base = SampleDatabase();
  const std::string base_hash = ProfileHash(base);
  for (const Mutation& m : UnhashedMutations()) {
    Database d = base;
    m.apply(d);
    EXPECT_EQ(ProfileHash(d), base_hash) << m.path << " (" << m.what << ")";
    EXPECT_NE(ToCanonicalJson(d), ToCanonicalJson(base)) << m.path << ": still part of the full JSON";
  }
}

}  // namespace
}  // namespace sqlx::ir
