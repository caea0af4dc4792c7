// planner::ReadReplicaLag against the scripted fake server, a MySQL 8.0
// replica with two channels (tests/support/README.md): the MariaDB statement
// is refused, SHOW REPLICA STATUS is used (and kept), the worst channel
// counts, a channel that stopped replicating makes the lag unknown.
// MariaDB's SHOW ALL SLAVES STATUS and a server that is not a replica are
// covered by online_replica_test.cc on real servers.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "fake_server.h"
#include "sqlx/planner/online.h"

namespace sqlx {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class ReplicaLagTest : public testing::FakeServerTest {};

TEST_F(ReplicaLagTest, MySqlReplicaIsReadWithShowReplicaStatusAndItsWorstChannelCounts) {
  ASSERT_NO_FATAL_FAILURE(StartServer("native"));
  auto session = Connect();
  ASSERT_TRUE(session.ok()) << session.error().ToString();
  std::string statement;
  auto first = planner::ReadReplicaLag(**session, statement);
  ASSERT_TRUE(first.ok()) << first.error().ToString();
  ASSERT_TRUE(first->has_value());
  EXPECT_EQ(**first, 12.0);
  EXPECT_EQ(statement, "SHOW REPLICA STATUS");

  auto second = planner::ReadReplicaLag(**session, statement);
  ASSERT_TRUE(second.ok()) << second.error().ToString();
  EXPECT_FALSE(second->has_value()) << "a channel that does not replicate leaves the lag unknown";
  (*session)->Close();
  ExpectServerOk("mysql_native_password scramble verified");
  const std::string log = server_->Stderr();
  EXPECT_THAT(log, HasSubstr("QUERY 'SHOW ALL SLAVES STATUS', QUERY 'SHOW REPLICA STATUS', QUERY 'SHOW REPLICA "
                             "STATUS', QUIT"));
  EXPECT_THAT(log, Not(HasSubstr("SHOW SLAVE STATUS")));
}

}  // namespace
}  // namespace sqlx
