// Audit events: canonical bytes round-trip and are rejected when malformed;
// redaction of secrets in details and URL passwords; the checkpoint and
// proof JSON readers refuse what they cannot trust.
#include "sqlx/storage/audit_event.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sqlx/storage/audit_proof.h"

namespace sqlx::storage {
namespace {

AuditEvent Sample() {
  AuditEvent e;
  e.seq = 42;
  e.time_ns = -5;  // before the epoch: still encodes
  e.actor = {"alice", "svc", "tok"};
  e.host = "h1";
  e.pid = 1234;
  e.program = "/usr/bin/sqlx";
  e.action = "learn.finished";
  e.object = {"app@db1:3306", "shop", "orders"};
  e.outcome = AuditOutcome::kFailed;
  e.error = "boom";
  e.details_json = R"({"a":1})";
  e.prev_hash = LeafHash("prev");
  return e;
}

TEST(AuditEventTest, CanonicalBytesRoundTrip) {
  const AuditEvent e = Sample();
  const std::string bytes = CanonicalBytes(e);
  EXPECT_EQ(bytes[0], 1);  // version
  EXPECT_EQ(bytes.size(), 58u + 11 * 4 + 5 + 3 + 3 + 2 + 13 + 14 + 12 + 4 + 6 + 4 + 7);
  auto back = DecodeCanonicalBytes(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->seq, 42u);
  EXPECT_EQ(back->time_ns, -5);
  EXPECT_EQ(back->actor.token_subject, "tok");
  EXPECT_EQ(back->object.table, "orders");
  EXPECT_EQ(back->outcome, AuditOutcome::kFailed);
  EXPECT_EQ(back->details_json, R"({"a":1})");
  EXPECT_EQ(back->prev_hash, e.prev_hash);
  EXPECT_EQ(back->hash, LeafHash(bytes));
  EXPECT_EQ(CanonicalBytes(*back), bytes);
  auto link = DecodeEventLink(bytes);
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link->seq, 42u);
  EXPECT_EQ(link->prev_hash, e.prev_hash);
}

TEST(AuditEventTest, MalformedBytesAreRejected) {
  const std::string bytes = CanonicalBytes(Sample());
  EXPECT_FALSE(DecodeCanonicalBytes("").ok());
  EXPECT_FALSE(DecodeCanonicalBytes(bytes + "x").ok());  // trailing
  for (size_t cut = 0; cut < bytes.size(); cut += 7) {
    EXPECT_FALSE(DecodeCanonicalBytes(bytes.substr(0, cut)).ok()) << cut;
    EXPECT_FALSE(DecodeEventLink(bytes.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(DecodeEventLink(bytes + "x").ok());
  std::string version = bytes;
  version[0] = 2;
  EXPECT_FALSE(DecodeCanonicalBytes(version).ok());
  std::string outcome = bytes;
  outcome[25] = 7;
  EXPECT_FALSE(DecodeCanonicalBytes(outcome).ok());
  std::string huge_length = bytes;
  huge_length[58] = '\xff';  // first string's length
  EXPECT_FALSE(DecodeCanonicalBytes(huge_length).ok());
}

TEST(AuditEventTest, NewEventsAreStampedWithThisProcess) {
  AuditEvent e = NewAuditEvent("ping");
  EXPECT_EQ(e.action, "ping");
  EXPECT_GT(e.time_ns, 0);
  EXPECT_GT(e.pid, 0);
  EXPECT_FALSE(e.actor.os_user.empty());
  EXPECT_FALSE(e.host.empty());
  EXPECT_FALSE(e.program.empty());
}

struct RedactCase {
  const char* name;
  const char* in;
  const char* out;
};

TEST(AuditEventTest, RedactsSecretKeysAndUrlPasswords) {
  const std::vector<RedactCase> cases = {
      {"password key", R"({"password":"pw1"})", R"({"password":"[REDACTED]"})"},
      {"any case, any depth", R"({"a":{"DB_Passwd":"pw1","b":[{"Secret":1}]}})",
       R"({"a":{"DB_Passwd":"[REDACTED]","b":[{"Secret":"[REDACTED]"}]}})"},
      {"tokens and keys", R"({"api_key":"k","auth_token":"t","private_key":"p","Authorization":"Bearer x"})",
       R"({"Authorization":"[REDACTED]","api_key":"[REDACTED]","auth_token":"[REDACTED]","private_key":"[REDACTED]"})"},
      {"url password", R"({"url":"mysql://app:pw1@db1:3306/shop?ssl-mode=required"})",
       R"({"url":"mysql://app:***@db1:3306/shop?ssl-mode=required"})"},
      {"url without password", R"({"url":"mysql://app@db1/shop"})", R"({"url":"mysql://app@db1/shop"})"},
      {"url in text", R"({"msg":"to mariadb://u:p@w@h:1 failed; mysql://x:y@z"})",
       R"({"msg":"to mariadb://u:***@h:1 failed; mysql://x:***@z"})"},
      {"others kept", R"({"n":1,"list":[true,null],"s":"plain"})", R"({"list":[true,null],"n":1,"s":"plain"})"},
      {"a long key", R"({"the_key_of_a_configuration_entry_whose_name_is_far_longer_than_sixty_four_PASSWORD":"x"})",
       R"({"the_key_of_a_configuration_entry_whose_name_is_far_longer_than_sixty_four_PASSWORD":"[REDACTED]"})"},
  };
  for (const RedactCase& c : cases) {
    auto r = RedactDetails(c.in);
    ASSERT_TRUE(r.ok()) << c.name;
    EXPECT_EQ(*r, c.out) << c.name;
  }
  EXPECT_FALSE(RedactDetails("[1]").ok());
  EXPECT_FALSE(RedactDetails("{").ok());
  EXPECT_EQ(RedactUrlPasswords("no urls here"), "no urls here");
  EXPECT_EQ(RedactUrlPasswords("a://b:c@d e://f:g@h"), "a://b:***@d e://f:***@h");
}

// Details already canonical skip the parse: the bytes must be exactly what
// the parse-redact-dump path gives, for canonical and non-canonical input.
TEST(AuditEventTest, CanonicalDetailsComeBackAsTheFullPathWouldWriteThem) {
  const std::vector<std::string> inputs = {
      R"({})", R"({"a":1})", R"({"a":{"b":[1,-2,0,true,false,null,"x"]},"c":"d"})",
      R"({"profile_hash":"9f2c","step":123456789012345678})", R"({"b":1,"a":2})", R"({"a":1,"a":2})",
      R"({ "a": 1 })", R"({"a":"\u00e9\n"})", "{\"a\":\"\xc3\xa9\"}", R"({"a":-0})", R"({"a":1.50})", R"({"a":1e3})",
      R"({"a":1234567890123456789012})", R"({"a":-9223372036854775808})", R"({"a":[]})", R"({"a":{}})",
      R"({"A":1,"a":2,"b":3})", R"({"a":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]})"};
  for (const std::string& in : inputs) {
    nlohmann::json reference = nlohmann::json::parse(in, nullptr, false);
    ASSERT_FALSE(reference.is_discarded()) << in;
    auto r = RedactDetails(in);
    ASSERT_TRUE(r.ok()) << in;
    EXPECT_EQ(*r, reference.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)) << in;
  }
  // Canonical, but a secret key or a URL: redacted, never returned as is.
  EXPECT_EQ(RedactDetails(R"({"a":{"token":"t"}})").value(), R"({"a":{"token":"[REDACTED]"}})");
  EXPECT_EQ(RedactDetails(R"({"u":"mysql://a:b@h"})").value(), R"({"u":"mysql://a:***@h"})");
  EXPECT_TRUE(DetailsAlreadyRedacted(R"({"a":1,"b":"c"})"));
  for (const char* not_yet : {R"({"b":1,"a":2})", R"({"Token":"t"})", R"({"u":"mysql://a@h"})", R"({ "a": 1 })"}) {
    EXPECT_FALSE(DetailsAlreadyRedacted(not_yet)) << not_yet;
  }
  for (const char* bad : {"{}x", "{\"a\":}", "{\"a\":1,}", "{\"a\" :1", "", "{\"a\":01}", "[]", "{\"a\":\"tab\tin\"}"}) {
    EXPECT_FALSE(RedactDetails(bad).ok()) << bad;
  }
}

TEST(AuditProofJsonTest, CheckpointRoundTripsAndBadDocumentsAreErrors) {
  Checkpoint c;
  c.tree_size = 7;
  c.time_ns = 1'700'000'000'123'456'789;
  c.head_hash = LeafHash("h");
  c.root = LeafHash("r");
  c.public_key[0] = 9;
  c.signature[63] = 1;
  auto back = ParseCheckpointJson(CheckpointToJson(c));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->tree_size, 7u);
  EXPECT_EQ(back->time_ns, c.time_ns);
  EXPECT_EQ(back->root, c.root);
  EXPECT_EQ(back->public_key, c.public_key);
  EXPECT_EQ(back->signature, c.signature);
  EXPECT_NE(CheckpointToJson(c).find("2023-11-14T22:13:20.123456789Z"), std::string::npos);

  for (const char* bad : {"", "[]", "{}", R"({"format":"other"})",
                          R"({"format":"sqlx-audit-checkpoint/1","tree_size":-1})",
                          R"({"format":"sqlx-audit-checkpoint/1","tree_size":1,"time_ns":1,"head_hash":"zz"})"}) {
    EXPECT_FALSE(ParseCheckpointJson(bad).ok()) << bad;
  }
  for (const char* bad : {"{}", R"({"format":"sqlx-audit-inclusion-proof/1","seq":1})",
                          R"({"format":"sqlx-audit-inclusion-proof/1","seq":1,"tree_size":1,"event":"0","path":[]})",
                          R"({"format":"sqlx-audit-consistency-proof/1","first":1})"}) {
    EXPECT_FALSE(ParseProofJson(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace sqlx::storage
