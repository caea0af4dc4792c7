// Jobs buffers (sqlx/messages/jobs.h): verification of the kind tag against
// the body, rejection of malformed bytes with a reason, the Error envelope's
// round trip, and the evolution rule checked with an old/new buffer pair
// against the frozen first form of the schema (jobs_v0.fbs).
#include <flatbuffers/idl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "ir_schema_parser.h"
#include "jobs_generated.h"
#include "sqlx/messages/jobs.h"

namespace sqlx::jobs {
namespace {

namespace fb = ::sqlx::fb::jobs;
using ::testing::HasSubstr;
using ::testing::Not;
using ir::testing::BufferFromJson;
using ir::testing::LoadSchema;

constexpr const char* kSchema = "messages/schemas/jobs.fbs";
constexpr const char* kOldSchema = "tests/unit/messages/jobs_v0.fbs";

// An aligned copy (Verify requires 8-byte alignment, as a vector's data has).
std::vector<uint64_t> Aligned(const std::string& bytes) {
  std::vector<uint64_t> out((bytes.size() + 7) / 8);
  std::memcpy(out.data(), bytes.data(), bytes.size());
  return out;
}
std::string_view View(const std::vector<uint64_t>& words, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(words.data()), size);
}

std::string LearnedDatabasesBuffer() {
  flatbuffers::FlatBufferBuilder b;
  std::vector<flatbuffers::Offset<fb::LearnedDatabase>> dbs;
  dbs.push_back(fb::CreateLearnedDatabaseDirect(b, "shop", "ab12", nullptr, nullptr, 0, /*stored_version=*/3,
                                                "changed"));
  auto body = fb::CreateLearnedDatabasesDirect(b, "root@127.0.0.1:3306", &dbs);
  b.Finish(fb::CreateEnvelopeDirect(b, "job-1", 2, fb::Body::LearnedDatabases, body.Union()),
           fb::EnvelopeIdentifier());
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

TEST(JobsFlatBufferTest, AValidBufferPassesWithItsKindAndReadsItsHeader) {
  const std::string bytes = LearnedDatabasesBuffer();
  auto words = Aligned(bytes);
  ASSERT_TRUE(Verify(Kind::kLearnedDatabases, View(words, bytes.size())).ok());
  Header h = ReadHeader(View(words, bytes.size()));
  EXPECT_EQ(h.kind, Kind::kLearnedDatabases);
  EXPECT_EQ(h.job_id, "job-1");
  EXPECT_EQ(h.attempt, 2u);
}

TEST(JobsFlatBufferTest, AKindTagThatDisagreesWithTheBodyIsRejected) {
  const std::string bytes = LearnedDatabasesBuffer();
  auto words = Aligned(bytes);
  Status s = Verify(Kind::kLearnDatabaseJob, View(words, bytes.size()));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(s.error().message, HasSubstr("body is learned-databases but the tag says learn-database-job"));
}

struct MalformedCase {
  const char* name;
  std::string bytes;
  const char* reason;
};

TEST(JobsFlatBufferTest, MalformedBuffersAreRejectedWithAReason) {
  const std::string good = LearnedDatabasesBuffer();
  std::string wrong_id = good;
  wrong_id[4] = 'X';
  std::string truncated = good.substr(0, good.size() / 2);
  std::string bad_offset = good;
  bad_offset[0] = '\xff';
  bad_offset[1] = '\xff';
  std::string no_body;
  {
    flatbuffers::FlatBufferBuilder b;
    b.Finish(fb::CreateEnvelopeDirect(b, "j", 1), fb::EnvelopeIdentifier());
    no_body.assign(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
  }
  const std::vector<MalformedCase> cases = {
      {"empty", "", "too short"},
      {"garbage", "this is not a flatbuffer at all", "file identifier"},
      {"wrong identifier", wrong_id, "file identifier"},
      {"truncated", truncated, "verifier"},
      {"root offset out of range", bad_offset, "verifier"},
      {"no body", no_body, "no body"},
  };
  for (const auto& c : cases) {
    auto words = Aligned(c.bytes);
    Status s = Verify(Kind::kLearnedDatabases, View(words, c.bytes.size()));
    ASSERT_FALSE(s.ok()) << c.name;
    EXPECT_THAT(s.error().message, HasSubstr(c.reason)) << c.name;
  }
}

TEST(JobsFlatBufferTest, AMisalignedBufferIsRejected) {
  const std::string good = LearnedDatabasesBuffer();
  std::vector<uint64_t> words((good.size() + 16) / 8);
  char* p = reinterpret_cast<char*>(words.data()) + 1;
  std::memcpy(p, good.data(), good.size());
  Status s = Verify(Kind::kLearnedDatabases, std::string_view(p, good.size()));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.error().message, HasSubstr("aligned"));
}

TEST(JobsFlatBufferTest, AnErrorEnvelopeRoundTrips) {
  Error e = MakeError(ErrorCode::kServer, "table t is locked");
  e.server_code = 1205;
  e.sqlstate = "HY000";
  const std::string bytes = ErrorEnvelope("job-9", 3, e, true);
  auto words = Aligned(bytes);
  ASSERT_TRUE(Verify(Kind::kError, View(words, bytes.size())).ok());
  JobError back = ReadError(View(words, bytes.size()));
  EXPECT_EQ(back.error.code, ErrorCode::kServer);
  EXPECT_EQ(back.error.message, "table t is locked");
  EXPECT_EQ(back.error.server_code, 1205);
  EXPECT_EQ(back.error.sqlstate, "HY000");
  EXPECT_TRUE(back.retryable);
  EXPECT_EQ(ReadHeader(View(words, bytes.size())).attempt, 3u);
}

TEST(JobsFlatBufferTest, AProbeAndItsResultCarryKinds11And12) {
  EXPECT_EQ(static_cast<int>(fb::Body::ProbeJob), 11);
  EXPECT_EQ(static_cast<int>(fb::Body::ProbeResult), 12);
  EXPECT_EQ(KindName(Kind::kProbeJob), "probe-job");
  EXPECT_EQ(KindName(Kind::kProbeResult), "probe-result");
  EXPECT_EQ(KindName(static_cast<Kind>(kMaxKind + 1)), "unknown");

  flatbuffers::FlatBufferBuilder b;
  const std::vector<uint8_t> filler(100, 0x5a);
  auto probe = fb::CreateProbeJobDirect(b, &filler);
  b.Finish(fb::CreateEnvelopeDirect(b, "run-1.p0", 1, fb::Body::ProbeJob, probe.Union()), fb::EnvelopeIdentifier());
  const std::string job(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
  auto job_words = Aligned(job);
  ASSERT_TRUE(Verify(Kind::kProbeJob, View(job_words, job.size())).ok());
  EXPECT_EQ(fb::GetEnvelope(job_words.data())->body_as_ProbeJob()->payload()->size(), 100u);

  b.Clear();
  auto result = fb::CreateProbeResultDirect(b, "host:42", 100);
  b.Finish(fb::CreateEnvelopeDirect(b, "run-1.p0", 1, fb::Body::ProbeResult, result.Union()),
           fb::EnvelopeIdentifier());
  const std::string reply(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
  auto reply_words = Aligned(reply);
  auto header = VerifyAny(View(reply_words, reply.size()));
  ASSERT_TRUE(header.ok()) << header.error().message;
  EXPECT_EQ(header->kind, Kind::kProbeResult);
  EXPECT_EQ(header->job_id, "run-1.p0");
  EXPECT_EQ(fb::GetEnvelope(reply_words.data())->body_as_ProbeResult()->worker()->str(), "host:42");
}

TEST(JobsFlatBufferTest, TransientNetworkErrorsAreRetryableOthersAreNot) {
  EXPECT_TRUE(IsRetryable(ErrorCode::kConnectionRefused));
  EXPECT_TRUE(IsRetryable(ErrorCode::kClosed));
  EXPECT_FALSE(IsRetryable(ErrorCode::kAuth));
  EXPECT_FALSE(IsRetryable(ErrorCode::kInvalidArgument));
}

TEST(JobsFlatBufferEvolutionTest, TodaysSchemaIsAnEvolutionOfTheFirstForm) {
  auto current = LoadSchema(kSchema);
  auto old_schema = LoadSchema(kOldSchema);
  EXPECT_EQ(current->ConformTo(*old_schema), "");
}

TEST(JobsFlatBufferEvolutionTest, TheConformanceCheckCatchesAReorderedUnion) {
  auto current = LoadSchema(kSchema);
  flatbuffers::Parser reordered;
  ASSERT_TRUE(reordered.Parse(
      "namespace sqlx.fb.jobs; table LearnDatabaseJob {} table LearnServerJob {}"
      " union Body { LearnDatabaseJob, LearnServerJob }"));
  EXPECT_NE(current->ConformTo(reordered), "");
}

TEST(JobsFlatBufferEvolutionTest, AnOldBufferVerifiesAndReadsWithDefaults) {
  auto old_schema = LoadSchema(kOldSchema);
  const std::string old_bytes = BufferFromJson(*old_schema, R"json({
    "job_id": "job-7", "attempt": 1, "body_type": "LearnedDatabases",
    "body": {"connection": "root@h:1",
             "databases": [{"database": "shop", "profile_hash": "ab"}]}})json");
  auto words = Aligned(old_bytes);
  const std::string_view view = View(words, old_bytes.size());
  ASSERT_TRUE(Verify(Kind::kLearnedDatabases, view).ok());
  const auto* body = fb::GetEnvelope(view.data())->body_as_LearnedDatabases();
  ASSERT_EQ(body->databases()->size(), 1u);
  const auto* db = body->databases()->Get(0);
  EXPECT_EQ(db->database()->string_view(), "shop");
  // Fields the first form lacked read as their defaults: not stored.
  EXPECT_EQ(db->stored_version(), 0u);
  EXPECT_EQ(db->change(), nullptr);
}

TEST(JobsFlatBufferEvolutionTest, AnOldReaderSkipsTodaysFields) {
  auto old_schema = LoadSchema(kOldSchema);
  const std::string bytes = LearnedDatabasesBuffer();
  std::string text;
  ASSERT_TRUE(flatbuffers::GenerateText(*old_schema, bytes.data(), &text));
  EXPECT_THAT(text, HasSubstr("\"profile_hash\": \"ab12\""));
  EXPECT_THAT(text, Not(HasSubstr("stored_version")));
  EXPECT_THAT(text, Not(HasSubstr("changed")));
}

}  // namespace
}  // namespace sqlx::jobs
