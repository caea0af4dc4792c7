// The Session API against the real MariaDB started by scripts/services/up:
// queries (NULLs, binary, metadata, completions, errors mid-result),
// multi-packet rows and statements, limits, and streaming memory.
#include <algorithm>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "mariadb_session.h"
#include "sqlx/transports/session.h"
#include "test_env.h"

namespace sqlx::transports {
namespace {

using sqlx::testing::MariaDbRootPassword;
using sqlx::testing::MustOpen;
using sqlx::testing::NativeUrl;
using sqlx::testing::QueryAll;
using sqlx::testing::Row;
using sqlx::testing::Scalar;
using sqlx::testing::Url;

// MySQL column type codes (include/mysql_com.h, enum_field_types).
constexpr uint32_t kTypeNewDecimal = 246;
constexpr uint32_t kTypeLong = 3;
constexpr uint32_t kTypeLongLong = 8;
constexpr uint32_t kTypeDatetime = 12;
constexpr uint32_t kTypeVarString = 253;
constexpr uint32_t kTypeBlob = 252;

constexpr size_t kMiB = size_t{1} << 20;

// Peak resident set (VmHWM) of this process in bytes.
size_t PeakRss() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  ADD_FAILURE() << "no VmHWM in /proc/self/status";
  return 0;
}

// --- Queries ------------------------------------------------------------------------------

TEST(MariaDbSessionTest, NullIsDistinctFromEmptyStringAndTheWordNull) {
  auto s = MustOpen(NativeUrl());
  ASSERT_NE(s, nullptr);
  auto t = QueryAll(*s, "SELECT NULL, '', 'NULL', 0");
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  ASSERT_EQ(t->rows.size(), 1u);
  EXPECT_EQ(t->rows[0], (Row{std::nullopt, std::string(), std::string("NULL"), std::string("0")}));
}

TEST(MariaDbSessionTest, AllByteValuesRoundTripExactly) {
  std::string all, hex;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int b = 0; b < 256; ++b) {
    all += static_cast<char>(b);
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  std::string char_args;
  for (int b = 0; b < 256; ++b) char_args += (b == 0 ? "" : ",") + std::to_string(b);
  auto s = MustOpen(NativeUrl());
  ASSERT_NE(s, nullptr);
  auto t = QueryAll(*s, "SELECT UNHEX('" + hex + "'), CHAR(" + char_args + " USING binary), HEX(UNHEX('" +
                            hex + "'))");
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  ASSERT_EQ(t->rows.size(), 1u);
  EXPECT_EQ(t->rows[0][0], all);
  EXPECT_EQ(t->rows[0][1], all);
  EXPECT_EQ(t->rows[0][2], hex);
}

TEST(MariaDbSessionTest, EmptyResultHasColumnsAndNoRows) {
  auto s = MustOpen(NativeUrl());
  ASSERT_NE(s, nullptr);
  auto stream = s->Query("SELECT seq, seq * 2 AS twice FROM seq_1_to_10 WHERE seq > 100");
  ASSERT_TRUE(stream.ok());
  auto more = (*stream)->NextResult();
  ASSERT_TRUE(more.ok() && *more);
  EXPECT_TRUE((*stream)->has_rows());
  ASSERT_EQ((*stream)->columns().size(), 2u);
  EXPECT_EQ((*stream)->columns()[1].name, "twice");
  size_t rows = 0;
  for (;;) {
    auto batch = (*stream)->NextBatch();
    ASSERT_TRUE(batch.ok());
    if (*batch == nullptr) break;
    rows += (*batch)->rows();
  }
  EXPECT_EQ(rows, 0u);
  auto again = (*stream)->NextBatch();
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, nullptr);
  more = (*stream)->NextResult();
  ASSERT_TRUE(more.ok());
  EXPECT_FALSE(*more);
}

TEST(MariaDbSessionTest, ColumnMetadataCarriesNamesAndTypes) {
  auto s = MustOpen(NativeUrl());
  ASSERT_NE(s, nullptr);
  ASSERT_TRUE(s->Execute("CREATE TEMPORARY TABLE meta (id INT NOT NULL PRIMARY KEY, name VARCHAR(20), "
                         "price DECIMAL(10,2), body BLOB, made DATETIME, big BIGINT)")
                  .ok());
  auto t = QueryAll(*s, "SELECT id, name AS label, price, body, made, big FROM meta");
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  ASSERT_EQ(t->columns.size(), 6u);
  const auto& c = t->columns;
  EXPECT_EQ(c[0].name, "id");
  EXPECT_EQ(c[0].type, kTypeLong);
  EXPECT_EQ(c[0].table, "meta");
  EXPECT_EQ(c[0].schema, "sqlx_test");
  EXPECT_EQ(c[1].name, "label");
  EXPECT_EQ(c[1].org_name, "name");
  EXPECT_EQ(c[1].type, kTypeVarString);
  EXPECT_EQ(c[2].type, kTypeNewDecimal);
  EXPECT_EQ(c[2].decimals, 2u);
  EXPECT_EQ(c[3].type, kTypeBlob);
  EXPECT_EQ(c[3].charset, 63u);  // binary
  EXPECT_EQ(c[4].type, kTypeDatetime);
  EXPECT_EQ(c[5].name, "big");
  EXPECT_EQ(c[5].type, kTypeLongLong);
  EXPECT_TRUE(t->rows.empty());
}

TEST(MariaDbSessionTest, DdlAndDmlReportAffectedRowsAndLastInsertId) {
  auto s = MustOpen(NativeUrl());
  ASSERT_NE(s, nullptr);
  auto create = s->Execute("CREATE TEMPORARY TABLE items (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10))");
  ASSERT_TRUE(create.ok()) << create.error().ToString();
  EXPECT_EQ(create->affected_rows, 0u);
  auto insert = s->Execute("INSERT INTO items (v) VALUES ('a'), ('b'), ('c')");
  ASSERT_TRUE(insert.ok()) << insert.error().ToString();
  EXPECT_EQ(insert->affected_rows, 3u);
  EXPECT_EQ(insert->last_insert_id, 1u);  // the first id of a multi-row insert
  EXPECT_NE(insert->info.find("Records: 3"), std::string::npos) << insert->info;
  auto one = s->Execute("INSERT INTO items (v) VALUES ('d')");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->affected_rows, 1u);
  EXPECT_EQ(one->last_insert_id, 4u);
  auto update = s->Execute("UPDATE items SET v = 'b' WHERE id <= 3");
  ASSERT_TRUE(update.ok());
  EXPECT_EQ(update->affected_rows, 2u);  // changed rows: 'b' was already 'b'
  auto del = s->Execute("DELETE FROM items WHERE v = 'b'");
  ASSERT_TRUE(del.ok());
  EXPECT_EQ(del->affected_rows, 3u);
  EXPECT_EQ(Scalar(*s, "SELECT GROUP_CONCAT(v) FROM items"), "d");
}

TEST(MariaDbSessionTest, ServerErrorLeavesTheSessionUsable) {
  auto s = MustOpen(NativeUrl());
  ASSERT_NE(s, nullptr);
  auto t = QueryAll(*s, "SELECT * FROM sqlx_no_such_table");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::kServer);
  EXPECT_EQ(t.error().server_code, 1146);
  EXPECT_EQ(t.error().sqlstate, "42S02");
  EXPECT_TRUE(s->usable());
  EXPECT_EQ(Scalar(*s, "SELECT 'still here'"), "still here");
  EXPECT_TRUE(s->Ping().ok());
}

TEST(MariaDbSessionTest, InitDbSwitchesTheDatabase) {
  auto s = MustOpen(NativeUrl(""));
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(Scalar(*s, "SELECT DATABASE()"), std::nullopt);
  ASSERT_TRUE(s->InitDb("sqlx_test").ok());
  EXPECT_EQ(Scalar(*s, "SELECT DATABASE()"), "sqlx_test");
  ASSERT_TRUE(s->InitDb("mysql").ok());
  EXPECT_EQ(Scalar(*s, "SELECT DATABASE()"), "mysql");
  Status bad = s->InitDb("sqlx_no_such_db");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().server_code, 1049);
  EXPECT_EQ(Scalar(*s, "SELECT DATABASE()"), "mysql");
}

TEST(MariaDbSessionTest, ErrorMidResultDeliversEarlierRowsThenTheError) {
  auto s = MustOpen(NativeUrl());
  ASSERT_NE(s, nullptr);
  auto stream =
      s->Query("SELECT seq, IF(seq = 5000, (SELECT 1 UNION SELECT 2), seq) FROM seq_1_to_10000");
  ASSERT_TRUE(stream.ok());
  auto more = (*stream)->NextResult();
  ASSERT_TRUE(more.ok() && *more) << (more.ok() ? "" : more.error().ToString());
  uint64_t rows = 0;
  std::optional<Error> error;
  for (;;) {
    auto batch = (*stream)->NextBatch();
    if (!batch.ok()) {
      error = batch.error();
      break;
    }
    if (*batch == nullptr) break;
    for (size_t r = 0; r < (*batch)->rows(); ++r) {
      ++rows;
      ASSERT_EQ((*batch)->value(r, 0), std::to_string(rows));
      ASSERT_EQ((*batch)->value(r, 1), std::to_string(rows));
    }
  }
  ASSERT_TRUE(error.has_value()) << "no error after " << rows << " rows";
  EXPECT_EQ(error->code, ErrorCode::kServer);
  EXPECT_EQ(error->server_code, 1242);  // ER_SUBQUERY_NO_1_ROW
  EXPECT_GT(rows, 0u);
  EXPECT_LT(rows, 5000u);
  stream->reset();
  EXPECT_TRUE(s->usable());
  EXPECT_EQ(Scalar(*s, "SELECT 'after'"), "after");
}

// --- Large packets and limits -------------------------------------------------------------

// The server was started with --max-allowed-packet=64M; put it back if a
// test run changed it (new sessions read the global value).
void EnsureMaxAllowedPacket64M() {
  auto root = MustOpen(Url("root", MariaDbRootPassword(), ""));
  ASSERT_NE(root, nullptr);
  auto v = Scalar(*root, "SELECT @@GLOBAL.max_allowed_packet");
  ASSERT_TRUE(v.has_value());
  if (std::stoull(*v) < 64 * kMiB) {
    ASSERT_TRUE(root->Execute("SET GLOBAL max_allowed_packet = 67108864").ok());
  }
}

TEST(MariaDbSessionTest, RowLargerThan16MiBArrivesWhole) {
  EnsureMaxAllowedPacket64M();
  auto s = MustOpen(NativeUrl());
  ASSERT_NE(s, nullptr);
  auto stream = s->Query("SELECT REPEAT('x', 20 * 1024 * 1024), 'tail'");
  ASSERT_TRUE(stream.ok());
  auto more = (*stream)->NextResult();
  ASSERT_TRUE(more.ok() && *more);
  auto batch = (*stream)->NextBatch();
  ASSERT_TRUE(batch.ok()) << batch.error().ToString();
  ASSERT_NE(*batch, nullptr);
  ASSERT_EQ((*batch)->rows(), 1u);
  std::string_view big = (*batch)->value(0, 0);
  EXPECT_EQ(big.size(), 20 * kMiB);
  EXPECT_EQ(big.find_first_not_of('x'), std::string_view::npos);
  EXPECT_EQ((*batch)->value(0, 1), "tail");
  stream->reset();
  EXPECT_EQ(Scalar(*s, "SELECT 'next'"), "next");
}

TEST(MariaDbSessionTest, StatementLargerThan16MiBIsSentWhole) {
  EnsureMaxAllowedPacket64M();
  auto s = MustOpen(NativeUrl());
  ASSERT_NE(s, nullptr);
  const size_t n = 17 * kMiB;
  std::string sql = "SELECT LENGTH('" + std::string(n, 'y') + "')";
  EXPECT_EQ(Scalar(*s, sql), std::to_string(n));
  EXPECT_EQ(Scalar(*s, "SELECT 'next'"), "next");
}

TEST(MariaDbSessionTest, RowOverMaxPacketIsALimitError) {
  SessionOptions options;
  options.max_packet = 1 * kMiB;
  auto s = MustOpen(NativeUrl(), options);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(Scalar(*s, "SELECT 'small rows pass'"), "small rows pass");
  auto t = QueryAll(*s, "SELECT REPEAT('x', 2 * 1024 * 1024)");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::kLimit) << t.error().ToString();
  EXPECT_NE(t.error().message.find("max packet"), std::string::npos) << t.error().message;
}

// --- Streaming ------------------------------------------------------------------------------

// "Memory stays flat for a 10-million-row result": rows come in bounded
// batches, read from the socket only as the consumer asks.
TEST(MariaDbSessionTest, TenMillionRowsStreamWithFlatMemory) {
  auto s = MustOpen(NativeUrl());
  ASSERT_NE(s, nullptr);
  // Reset the peak to now (Linux >= 4.0); without it the baseline is the peak so far.
  { std::ofstream("/proc/self/clear_refs") << "5"; }
  const size_t before = PeakRss();
  auto stream = s->Query("SELECT seq FROM seq_1_to_10000000");
  ASSERT_TRUE(stream.ok());
  auto more = (*stream)->NextResult();
  ASSERT_TRUE(more.ok() && *more);
  uint64_t rows = 0, batches = 0, sum = 0;
  size_t largest_batch = 0;
  std::string last;
  for (;;) {
    auto batch = (*stream)->NextBatch();
    ASSERT_TRUE(batch.ok()) << batch.error().ToString();
    if (*batch == nullptr) break;
    ++batches;
    rows += (*batch)->rows();
    largest_batch = std::max(largest_batch, (*batch)->byte_size());
    for (size_t r = 0; r < (*batch)->rows(); ++r) sum += (*batch)->value(r, 0).size();
    if (!(*batch)->empty()) last = std::string((*batch)->value((*batch)->rows() - 1, 0));
  }
  const size_t growth = PeakRss() - before;
  EXPECT_EQ(rows, 10'000'000u);
  EXPECT_EQ(last, "10000000");
  EXPECT_EQ(sum, 68'888'897u);  // total digits of 1..10^7
  EXPECT_GT(batches, 100u);
  EXPECT_LE(largest_batch, 2 * kMiB);
  EXPECT_LT(growth, 64 * kMiB) << "peak RSS grew by " << growth / kMiB << " MiB";
  RecordProperty("peak_rss_growth_kib", std::to_string(growth / 1024));
  stream->reset();
  EXPECT_TRUE(s->usable());
}

TEST(MariaDbSessionTest, AbandonedStreamIsDrainedAndTheSessionStaysUsable) {
  auto s = MustOpen(NativeUrl());
  ASSERT_NE(s, nullptr);
  {
    auto stream = s->Query("SELECT seq, REPEAT('z', 50) FROM seq_1_to_300000");
    ASSERT_TRUE(stream.ok());
    auto more = (*stream)->NextResult();
    ASSERT_TRUE(more.ok() && *more);
    auto batch = (*stream)->NextBatch();
    ASSERT_TRUE(batch.ok());
    ASSERT_NE(*batch, nullptr);
    EXPECT_EQ((*batch)->value(0, 0), "1");
    EXPECT_FALSE(s->usable());  // a stream is open
    auto second = s->Query("SELECT 1");
    ASSERT_FALSE(second.ok());
    EXPECT_EQ(second.error().code, ErrorCode::kInvalidArgument);
  }
  EXPECT_TRUE(s->usable());
  EXPECT_EQ(Scalar(*s, "SELECT 42"), "42");
  EXPECT_TRUE(s->Ping().ok());
}


}  // namespace
}  // namespace sqlx::transports
