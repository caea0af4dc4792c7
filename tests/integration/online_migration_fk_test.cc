// Online migrations of tables with foreign keys, through `sqlx` under a
// concurrent writer (issue #6): keys of and to the table keep their names and
// stay enforced through the swap and the revert; a table with a key to
// itself migrates, reverts and cuts over again; parent writes while child
// keys reference the copy keep the children.
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "online_migration_fixture.h"
#include "sqlx/transports/session.h"

namespace sqlx {
namespace {

using namespace online_migration;  // NOLINT: the fixture of these tests (and its names)

TEST(OnlineMigrationTest, ForeignKeysOfAndToTheTableKeepTheirNamesAndWorkAfterTheSwapAndTheRevert) {
  FixtureDatabases fx;
  TempDir store("sqlx-online-store.");
  const std::string db = fx.Create("omf"), to = fx.Create("omf_to");
  const char* from_sql =
      "CREATE TABLE p (id int PRIMARY KEY, v int); CREATE TABLE c (id int PRIMARY KEY, pid int, v int, "
      "CONSTRAINT fk_c_p FOREIGN KEY (pid) REFERENCES p (id) ON DELETE CASCADE ON UPDATE CASCADE)";
  RootSql(std::string(from_sql) +
              "; INSERT INTO p SELECT seq, seq FROM seq_1_to_3000; INSERT INTO c SELECT seq, seq % 3000 + 1, seq FROM "
              "seq_1_to_9000",
          db);
  // c gains a NOT NULL column without a default: existing rows get ALTER
  // TABLE's value (0), in the copy and in the change capture.
  RootSql("CREATE TABLE p (id int PRIMARY KEY, v bigint); CREATE TABLE c (id int PRIMARY KEY, pid int, v bigint, "
          "w int NOT NULL, CONSTRAINT fk_c_p FOREIGN KEY (pid) REFERENCES p (id) ON DELETE CASCADE ON UPDATE CASCADE)",
          to);
  const std::string plan = store.path() + "/plan.json";
  ASSERT_EQ(Sqlx({"--store", store.path(), "plan:diff", "--from", RootUrl(db), "--to", RootUrl(to), "-o", plan}).exit_code, 0);
  const std::string start = Hash(db);
  RunResult r = Sqlx({"--store", store.path(), "apply", RootUrl(db), "--plan", plan, "--chunk-time", "0.02"});
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  EXPECT_NE(r.out.find("operation 1 (c): runs as an online copy"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("operation 2 (p): runs as an online copy"), std::string::npos) << r.out;
  EXPECT_EQ(Hash(db), Hash(to));
  EXPECT_EQ(RootSql("SELECT COUNT(*), SUM(w) FROM c", db), "9000\t0\n");
  // The child's key references the new parent, under its own name, and cascades.
  EXPECT_EQ(RootSql("SELECT CONSTRAINT_NAME, REFERENCED_TABLE_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS "
                    "WHERE CONSTRAINT_SCHEMA = '" + db + "' AND TABLE_NAME = 'c'"),
            "fk_c_p\tp\n");
  RootSql("DELETE FROM p WHERE id = 5; UPDATE p SET id = 100005 WHERE id = 6", db);
  EXPECT_EQ(RootSql("SELECT COUNT(*) FROM c WHERE pid = 5", db), "0\n");
  EXPECT_EQ(RootSql("SELECT COUNT(*) FROM c WHERE pid = 100005", db), "3\n");
  RunResult orphan = testing::RootClient({db, "-e", "INSERT INTO c VALUES (99999, 424242, 1, 1)"});
  EXPECT_NE(orphan.exit_code, 0) << "the child's key must still be checked";

  // Revert both (newest first), then drop the copies: the start's schema,
  // the names, and the rows written since.
  nlohmann::json m = Migrations(store.path());
  ASSERT_EQ(m.size(), 2u);
  for (int i = 1; i >= 0; --i) {
    r = Sqlx({"--store", store.path(), "migrations", "revert", m[i]["id"], RootUrl()});
    ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  }
  EXPECT_EQ(Hash(db), start);
  EXPECT_EQ(RootSql("SELECT COUNT(*) FROM c WHERE pid = 100005", db), "3\n");
  for (int i = 0; i < 2; ++i)
    ASSERT_EQ(Sqlx({"--store", store.path(), "migrations", "finalize", m[i]["id"], RootUrl()}).exit_code, 0);
  EXPECT_EQ(Artefacts(db), 0u);
  EXPECT_EQ(Hash(db), start);
  EXPECT_EQ(RootSql("SELECT CONSTRAINT_NAME, REFERENCED_TABLE_NAME FROM information_schema.REFERENTIAL_CONSTRAINTS "
                    "WHERE CONSTRAINT_SCHEMA = '" + db + "'"),
            "fk_c_p\tp\n");
}

// Rows of db.t and control.t that differ, the key to the table itself (m)
// included.
uint64_t RowsDifferingWithParent(const std::string& db, const std::string& control) {
  const std::string a = "`" + db + "`.t", b = "`" + control + "`.t";
  return std::strtoull(RootSql("SELECT (SELECT COUNT(*) FROM " + a + " x LEFT JOIN " + b + " y ON x.id = y.id WHERE "
                               "y.id IS NULL OR NOT (x.k <=> y.k AND x.v <=> y.v AND x.m <=> y.m)) + (SELECT COUNT(*) "
                               "FROM " + b + " x LEFT JOIN " + a + " y ON x.id = y.id WHERE y.id IS NULL)")
                           .c_str(),
                       nullptr, 10);
}

// Runs `args` while the writer writes; the writer's commits and errors
// are printed.
RunResult UnderWriter(Writer& writer, const std::vector<std::string>& args) {
  writer.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  RunResult r = Sqlx(args);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  writer.Stop();
  std::cout << "[ writer ] commits " << writer.commits() << ", errors " << writer.Errors() << "\n" << writer.messages_;
  return r;
}

// The key of the table to itself (and the rows of `db`): fk_t_m on t,
// referencing t, and enforced (the migration's own tables left out).
void ExpectSelfKeyEnforced(const std::string& db) {
  EXPECT_EQ(RootSql("SELECT CONSTRAINT_NAME, TABLE_NAME, REFERENCED_TABLE_NAME FROM "
                    "information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = '" + db +
                    "' AND TABLE_NAME NOT LIKE '\\_sqlx\\_%'"),
            "fk_t_m\tt\tt\n");
  EXPECT_EQ(RootSql("SELECT COUNT(*) FROM t c LEFT JOIN t p ON c.m = p.id WHERE c.m IS NOT NULL AND p.id IS NULL", db),
            "0\n");
  RunResult orphan = testing::RootClient({db, "-e", "INSERT INTO t (id, k, v, m) VALUES (990000001, 1, 'o', 990000002)"});
  EXPECT_NE(orphan.exit_code, 0) << "the key to the table itself must refuse a row without its parent";
}

TEST(OnlineMigrationTest, ATableWithAKeyToItselfMigratesRevertsAndCutsOverAgainUnderWrites) {
  const KeyStyle key;
  const char* from = "CREATE TABLE t (id int NOT NULL PRIMARY KEY, k int NOT NULL, v varchar(40), m int, KEY k (k), "
                     "CONSTRAINT fk_t_m FOREIGN KEY (m) REFERENCES t (id))";
  const char* to = "CREATE TABLE t (id int NOT NULL PRIMARY KEY, k bigint NOT NULL, v varchar(80), m int, z int NOT "
                   "NULL DEFAULT 7, KEY k (k), CONSTRAINT fk_t_m FOREIGN KEY (m) REFERENCES t (id))";
  OnlineFixture f("oms", key, from, to, 20000);
  // Two rows in three have a parent, as often later in key order as earlier.
  for (const std::string& db : {f.db, f.control})
    RootSql("UPDATE t SET m = (id * 7919) % 20000 + 1 WHERE id % 3 <> 0", db);
  ASSERT_GT(std::stoul(RootSql("SELECT COUNT(*) FROM t WHERE m > id", f.db)), 5000u);
  const std::string plan = f.store.path() + "/plan.json";
  ASSERT_EQ(f.Plan(f.db, f.to, plan).exit_code, 0);
  const std::string start = Hash(f.db), desired = Hash(f.to);
  ASSERT_NE(start, desired);

  Writer writer(f.db, f.control, key, 20000);
  writer.ReferToRows("m");
  RunResult r = UnderWriter(writer, f.ApplyArgs(plan));
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  ASSERT_EQ(writer.failure(), "");
  EXPECT_NE(r.out.find("runs as an online copy"), std::string::npos) << r.out;
  EXPECT_GT(writer.commits(), 50u);
  EXPECT_EQ(RowsDifferingWithParent(f.db, f.control), 0u);
  EXPECT_EQ(Hash(f.db), desired) << "a re-learn after the cut-over must show the desired schema";
  ExpectSelfKeyEnforced(f.db);
  EXPECT_EQ(RootSql("SELECT COUNT(*) FROM t WHERE z <> 7", f.db), "0\n");
  nlohmann::json m = Migrations(f.store.path());
  ASSERT_EQ(m.size(), 1u);
  ASSERT_EQ(m[0]["phase"], "cut-over");
  EXPECT_GT(m[0]["chunks"].get<uint64_t>(), 2u) << m.dump();
  const std::string id = m[0]["id"];

  // Revert while writing: the writes since the cut-over are kept, the key
  // is the table's again under its name.
  r = UnderWriter(writer, {"--store", f.store.path(), "migrations", "revert", id, RootUrl()});
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  ASSERT_EQ(writer.failure(), "");
  EXPECT_EQ(RowsDifferingWithParent(f.db, f.control), 0u);
  EXPECT_EQ(Hash(f.db), start);
  ExpectSelfKeyEnforced(f.db);
  ASSERT_EQ(Migrations(f.store.path())[0]["phase"], "reverted");

  // Writes between the revert and the next cut-over reach only the table:
  // the cut-over copies again and keeps them.
  RootSql("UPDATE t SET v = 'between' WHERE id <= 50; DELETE FROM t WHERE id BETWEEN 19990 AND 20000 AND id NOT IN "
          "(SELECT m FROM (SELECT m FROM t WHERE m IS NOT NULL) x)",
          f.db);
  RootSql("UPDATE t SET v = 'between' WHERE id <= 50; DELETE FROM t WHERE id BETWEEN 19990 AND 20000 AND id NOT IN "
          "(SELECT m FROM (SELECT m FROM t WHERE m IS NOT NULL) x)",
          f.control);
  const uint64_t commits = writer.commits();
  r = UnderWriter(writer, {"--store", f.store.path(), "migrations", "cutover", id, RootUrl()});
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  ASSERT_EQ(writer.failure(), "");
  EXPECT_GT(writer.commits(), commits + 50);
  EXPECT_EQ(RowsDifferingWithParent(f.db, f.control), 0u);
  EXPECT_EQ(Hash(f.db), desired);
  ExpectSelfKeyEnforced(f.db);
  m = Migrations(f.store.path());
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0]["phase"], "cut-over");

  r = Sqlx({"--store", f.store.path(), "migrations", "finalize", id, RootUrl()});
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  EXPECT_EQ(Artefacts(f.db), 0u);
  EXPECT_EQ(Hash(f.db), desired);
  EXPECT_EQ(RowsDifferingWithParent(f.db, f.control), 0u);
  ExpectSelfKeyEnforced(f.db);
}

TEST(OnlineMigrationTest, ParentWritesWhileChildKeysReferenceTheCopyKeepTheChildren) {
  FixtureDatabases fx;
  TempDir store("sqlx-online-store.");
  const std::string db = fx.Create("omw"), to = fx.Create("omw_to");
  const std::string child = "CREATE TABLE c (id int PRIMARY KEY, pid int, CONSTRAINT fk_c_p FOREIGN KEY (pid) "
                            "REFERENCES p (id) ON DELETE CASCADE ON UPDATE CASCADE)";
  RootSql("CREATE TABLE p (id int PRIMARY KEY, v int); " + child +
              "; INSERT INTO p SELECT seq, seq FROM seq_1_to_100; INSERT INTO c SELECT seq, seq % 100 + 1 FROM "
              "seq_1_to_300",
          db);
  RootSql("CREATE TABLE p (id int PRIMARY KEY, v bigint); " + child, to);
  const std::string plan = store.path() + "/plan.json";
  ASSERT_EQ(Sqlx({"--store", store.path(), "plan:diff", "--from", RootUrl(db), "--to", RootUrl(to), "-o", plan}).exit_code, 0);
  RunResult r = Sqlx({"--store", store.path(), "apply", RootUrl(db), "--plan", plan, "--postpone-cutover"});
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  nlohmann::json m = Migrations(store.path());
  ASSERT_EQ(m.size(), 1u);
  ASSERT_EQ(m[0]["phase"], "copied");
  const std::string id = m[0]["id"];
  // As a cut-over that died between the two ALTERs moving the child's key
  // to the copy leaves it (under its temporary name): the writers go on.
  RootSql("SET SESSION foreign_key_checks = 0; ALTER TABLE c DROP FOREIGN KEY fk_c_p, ADD CONSTRAINT `_sqlx_" + id +
              "_c_fk_c_p` FOREIGN KEY (pid) REFERENCES `_sqlx_" + id + "_new` (id) ON DELETE CASCADE ON UPDATE CASCADE",
          db);
  RootSql("UPDATE p SET v = v + 1 WHERE id = 7; UPDATE p SET id = 1008 WHERE id = 8; DELETE FROM p WHERE id = 9", db);
  EXPECT_EQ(RootSql("SELECT COUNT(*) FROM c WHERE pid = 7", db), "3\n") << "an update of a parent lost its children";
  EXPECT_EQ(RootSql("SELECT COUNT(*) FROM c WHERE pid = 1008", db), "3\n") << "a new key did not reach the children";
  EXPECT_EQ(RootSql("SELECT COUNT(*) FROM c WHERE pid IN (8, 9)", db), "0\n");
  r = Sqlx({"--store", store.path(), "migrations", "cutover", id, RootUrl()});
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  EXPECT_EQ(Hash(db), Hash(to));
  EXPECT_EQ(RootSql("SELECT COUNT(*), SUM(pid = 7), SUM(pid = 1008) FROM c", db), "297\t3\t3\n");
  EXPECT_EQ(RootSql("SELECT COUNT(*) FROM c LEFT JOIN p ON c.pid = p.id WHERE p.id IS NULL", db), "0\n");
  EXPECT_EQ(RootSql("SELECT v FROM p WHERE id IN (7, 1008) ORDER BY id", db), "8\n8\n");
  ASSERT_EQ(Sqlx({"--store", store.path(), "migrations", "finalize", id, RootUrl()}).exit_code, 0);
  EXPECT_EQ(Artefacts(db), 0u);
}


}  // namespace
}  // namespace sqlx
