// Online migrations against the test MariaDB under a concurrent writer
// (issue #6): the migrated table must end equal to a control table that got
// the same writes without a migration; no writer stall over 1 s outside the
// cut-over; kill -9 at random moments, each resumed; revert keeps the writes
// made after the cut-over; tables the engine cannot copy online are refused
// with the reason before any change; a table's own triggers fire once per
// write throughout and keep their definitions. Foreign keys of, to and within
// the table: online_migration_fk_test.cc.
#include <signal.h>

#include <atomic>
#include <chrono>
#include <map>
#include <random>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "online_migration_fixture.h"
#include "own_mariadb.h"
#include "sqlx/transports/session.h"
#include "sqlx/transports/url.h"

namespace sqlx {
namespace {

using namespace online_migration;  // NOLINT: the fixture of these tests (and its names)

TEST(OnlineMigrationTest, WritesDuringCopyCutOverAndRevertAreAllKept) {
  const KeyStyle key;
  OnlineFixture f("om", key, kSimpleFrom, kSimpleTo, 20000);
  const std::string plan = f.store.path() + "/plan.json";
  ASSERT_EQ(f.Plan(f.db, f.to, plan).exit_code, 0);
  const std::string start = Hash(f.db);

  Writer writer(f.db, f.control, key, 20000);
  writer.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  RunResult r = Sqlx(f.ApplyArgs(plan));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  writer.Stop();
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  ASSERT_EQ(writer.failure(), "");
  std::cout << "[ writer ] commits " << writer.commits() << ", errors " << writer.Errors() << "\n" << writer.messages_;
  EXPECT_NE(r.out.find("runs as an online copy"), std::string::npos) << r.out;
  EXPECT_GT(writer.commits(), 50u);
  EXPECT_EQ(RowsDiffering(f.db, f.control, key), 0u);
  EXPECT_EQ(Hash(f.db), Hash(f.to));
  nlohmann::json m = Migrations(f.store.path());
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0]["phase"], "cut-over");
  EXPECT_GT(m[0]["chunks"].get<uint64_t>(), 2u) << m.dump();
  const int64_t cut_from = m[0]["cutover_started_ns"].get<int64_t>(), cut_to = m[0]["cutover_at_ns"].get<int64_t>();
  for (const Writer::Stall& s : writer.StallsOutside(1000, cut_from, cut_to))
    ADD_FAILURE() << "the writer stalled " << s.ms << " ms outside the cut-over";
  EXPECT_EQ(RootSql("SELECT COUNT(*) FROM t WHERE z <> 7", f.db), "0\n");
  EXPECT_EQ(writer.Errors().find("1146"), std::string::npos) << "a writer saw a table missing: " << writer.messages_;

  // Revert while writing: the writes made after the cut-over reach the old table.
  const std::string id = m[0]["id"];
  writer.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  r = Sqlx({"--store", f.store.path(), "migrations", "revert", id, RootUrl()});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  writer.Stop();
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  EXPECT_EQ(RowsDiffering(f.db, f.control, key), 0u);
  EXPECT_EQ(Hash(f.db), start);

  r = Sqlx({"--store", f.store.path(), "migrations", "finalize", id, RootUrl()});
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  EXPECT_EQ(Artefacts(f.db), 0u);
  EXPECT_EQ(Hash(f.db), start);
  r = Sqlx({"--store", f.store.path(), "--format", "json", "audit", "query", "--limit", "1000"});
  for (const char* action : {"migration.started", "migration.copied", "migration.cutover", "migration.reverted",
                             "migration.abandoned"})
    EXPECT_NE(r.out.find(action), std::string::npos) << action << " missing from the audit log";
}

// The table's own triggers, in db, its control and the desired schema: a
// BEFORE INSERT that changes the row, two AFTER INSERT in an order of their
// own (PRECEDES), AFTER UPDATE (under another sql_mode) and AFTER DELETE,
// all writing to an audit table.
const char* kAuditTriggers =
    "CREATE TABLE audit (seq int AUTO_INCREMENT PRIMARY KEY, op char(2), rid int, nid int, k bigint, v varchar(80));"
    "CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW SET NEW.v = CONCAT(IFNULL(NEW.v, ''), '+');"
    "CREATE TRIGGER t_ai AFTER INSERT ON t FOR EACH ROW INSERT INTO audit (op, rid, k, v) VALUES ('i', NEW.id, NEW.k, "
    "NEW.v);"
    "CREATE TRIGGER t_ai0 AFTER INSERT ON t FOR EACH ROW PRECEDES t_ai\n  INSERT INTO audit (op, rid) VALUES ('i0', "
    "NEW.id);"
    "SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION';\nDELIMITER //\n"
    "CREATE TRIGGER t_au AFTER UPDATE ON t FOR EACH ROW BEGIN\n  INSERT INTO audit (op, rid, nid, k, v) VALUES ('u', "
    "OLD.id, NEW.id, NEW.k, NEW.v);\nEND//\nDELIMITER ;\n"
    "SET SESSION sql_mode = DEFAULT;"
    "CREATE TRIGGER t_ad AFTER DELETE ON t FOR EACH ROW INSERT INTO audit (op, rid, k, v) VALUES ('d', OLD.id, OLD.k, "
    "OLD.v)";

// Every trigger of `db` as the server describes it (order and definer
// included); "CREATED" left out.
std::string TriggerDefinitions(const std::string& db) {
  return RootSql("SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_TIMING, EVENT_MANIPULATION, ACTION_ORDER, "
                 "ACTION_STATEMENT, DEFINER, SQL_MODE, COLLATION_CONNECTION FROM information_schema.TRIGGERS WHERE "
                 "TRIGGER_SCHEMA = '" + db + "' ORDER BY TRIGGER_NAME");
}

// The audit rows of `db`, in a fixed order (seq left out: the control's
// sequence numbers are its own).
std::string AuditRows(const std::string& db) {
  return RootSql("SELECT op, rid, nid, k, v FROM audit ORDER BY op, rid, nid, k, v", db);
}

uint64_t EngineObjects(const std::string& db) {
  return std::strtoull(RootSql("SELECT (SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = '" + db +
                               "' AND TABLE_NAME LIKE '\\_sqlx\\_%') + (SELECT COUNT(*) FROM "
                               "information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '" + db +
                               "' AND TRIGGER_NAME LIKE '\\_sqlx\\_%')")
                           .c_str(),
                       nullptr, 10);
}

TEST(OnlineMigrationTest, TheTablesOwnTriggersFireOncePerWriteAndKeepTheirDefinitionsThroughCutOverAndRevert) {
  const KeyStyle key;
  OnlineFixture f("omt", key, kSimpleFrom, kSimpleTo, 20000);
  for (const std::string& db : {f.db, f.to, f.control}) RootSql(kAuditTriggers, db);
  const std::string plan = f.store.path() + "/plan.json";
  ASSERT_EQ(f.Plan(f.db, f.to, plan).exit_code, 0);
  const std::string start = Hash(f.db), definitions = TriggerDefinitions(f.db);
  ASSERT_NE(definitions.find("t_ai0\tt\tAFTER\tINSERT\t1\t"), std::string::npos) << definitions;
  ASSERT_NE(definitions.find("t_ai\tt\tAFTER\tINSERT\t2\t"), std::string::npos) << definitions;

  Writer writer(f.db, f.control, key, 20000);
  writer.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  RunResult r = Sqlx(f.ApplyArgs(plan));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  writer.Stop();
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  ASSERT_EQ(writer.failure(), "");
  std::cout << "[ writer ] commits " << writer.commits() << ", errors " << writer.Errors() << "\n" << writer.messages_;
  EXPECT_NE(r.out.find("runs as an online copy"), std::string::npos) << r.out;
  EXPECT_GT(writer.commits(), 50u);
  // The BEFORE trigger changed each inserted row once (the control's rows
  // went through the same trigger), and every write left exactly the audit
  // rows the control's left.
  EXPECT_EQ(RowsDiffering(f.db, f.control, key), 0u);
  const std::string audit = AuditRows(f.db);
  EXPECT_EQ(audit, AuditRows(f.control)) << "the audit tables differ: a trigger fired twice or not at all";
  for (const char* op : {"i", "i0", "u", "d"})
    EXPECT_NE(audit.find(std::string(op) + "\t"), std::string::npos) << "no audit row of " << op;
  EXPECT_EQ(RootSql("SELECT COUNT(*) FROM t WHERE v LIKE '%++'", f.db), "0\n");
  EXPECT_EQ(TriggerDefinitions(f.db), definitions);
  EXPECT_EQ(Hash(f.db), Hash(f.to));
  EXPECT_EQ(RootSql("SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '" + f.db +
                    "' AND TRIGGER_NAME LIKE '\\_sqlx\\_%'"),
            "0\n");
  EXPECT_EQ(RootSql("SELECT COUNT(*) FROM t WHERE z <> 7", f.db), "0\n");
  nlohmann::json m = Migrations(f.store.path());
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0]["phase"], "cut-over");
  const int64_t cut_from = m[0]["cutover_started_ns"].get<int64_t>(), cut_to = m[0]["cutover_at_ns"].get<int64_t>();
  for (const Writer::Stall& s : writer.StallsOutside(1000, cut_from, cut_to))
    ADD_FAILURE() << "the writer stalled " << s.ms << " ms outside the cut-over";
  // After the cut-over the triggers are the table's: an insert goes through
  // the BEFORE trigger once and leaves its two audit rows.
  RootSql("INSERT INTO t (id, k, v) VALUES (900000001, 1, 'x')", f.db);
  EXPECT_EQ(RootSql("SELECT v FROM t WHERE id = 900000001", f.db), "x+\n");
  EXPECT_EQ(RootSql("SELECT op FROM audit WHERE rid = 900000001 ORDER BY seq", f.db), "i0\ni\n");
  RootSql("DELETE FROM t WHERE id = 900000001; DELETE FROM audit WHERE rid = 900000001", f.db);

  // Revert while writing: the triggers come back with the old table, still
  // once per write (the reverse capture's writes fire none of them).
  const std::string id = m[0]["id"];
  writer.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  r = Sqlx({"--store", f.store.path(), "migrations", "revert", id, RootUrl()});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  writer.Stop();
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  ASSERT_EQ(writer.failure(), "");
  EXPECT_EQ(RowsDiffering(f.db, f.control, key), 0u);
  EXPECT_EQ(AuditRows(f.db), AuditRows(f.control)) << "the audit tables differ after the revert";
  EXPECT_EQ(TriggerDefinitions(f.db), definitions);
  EXPECT_EQ(Hash(f.db), start);

  r = Sqlx({"--store", f.store.path(), "migrations", "finalize", id, RootUrl()});
  ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
  EXPECT_EQ(EngineObjects(f.db), 0u);
  EXPECT_EQ(TriggerDefinitions(f.db), definitions);
  EXPECT_EQ(Hash(f.db), start);
  EXPECT_EQ(writer.Errors().find("1644"), std::string::npos) << "a writer met the fence: " << writer.messages_;
}

TEST(OnlineMigrationTest, KillNineAtRandomMomentsThenResumeKeepsEveryWrite) {
  // On a server of its own: MariaDB 10.11.19 has crashed (signal 11 in
  // ha_maria::drop_table) when a client was killed during an
  // information_schema query; the shared server must not go with it.
  testing::OwnMariaDb server;
  ASSERT_EQ(server.error(), "");
  const KeyStyle key{true};
  // KEY kv: left off the copy and built beside it (or after it), so a kill
  // can land in that build too (counted below when one was left running).
  const char* from = "CREATE TABLE t (a int NOT NULL, b varchar(8) NOT NULL, k int NOT NULL, v varchar(40), "
                     "PRIMARY KEY (a, b), KEY kv (v))";
  const char* to = "CREATE TABLE t (a int NOT NULL, b varchar(8) NOT NULL, k bigint NOT NULL, v varchar(60), "
                   "PRIMARY KEY (a, b), KEY kv (v))";
  OnlineFixture f("omk", key, from, to, 20000);
  const std::string forward = f.store.path() + "/forward.json", back = f.store.path() + "/back.json";
  ASSERT_EQ(f.Plan(f.db, f.to, forward).exit_code, 0);
  ASSERT_EQ(f.Plan(f.to, f.db, back).exit_code, 0);
  const std::string start = Hash(f.db), desired = Hash(f.to);
  const char* env_trials = std::getenv("SQLX_KILL_TRIALS");
  const int trials = env_trials != nullptr ? std::atoi(env_trials) : 10;
  std::mt19937 rng(static_cast<unsigned>(NowNs()));
  Writer writer(f.db, f.control, key, 20000);
  std::map<std::string, int> killed_in;
  for (int trial = 0; trial < trials; ++trial) {
    const bool fwd = trial % 2 == 0;
    writer.Start();
    {
      std::vector<std::string> argv = {testing::SqlxBinary()};
      for (const std::string& a : f.ApplyArgs(fwd ? forward : back)) argv.push_back(a);
      testing::Subprocess apply(argv, SqlxEnv());
      std::this_thread::sleep_for(std::chrono::milliseconds(100 + rng() % 1400));
      ::kill(apply.pid(), SIGKILL);
      (void)apply.Wait(testing::DeadlineIn(std::chrono::seconds(30)));
    }
    // An index build the killed run had begun goes on on the server: the
    // resume kills it (KillLeftoverBuilds) and builds again.
    if (RootSql("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE INFO LIKE 'ALTER TABLE `\\_sqlx\\_%ADD KEY%'",
                f.db) != "0\n")
      ++killed_in["(a build left running)"];
    std::string phase = "none";
    for (const auto& m : Migrations(f.store.path())) {
      const std::string p = m["phase"];
      if (p == "finalized" || p == "abandoned") continue;
      phase = p;
      if (p != "cut-over") {
        RunResult r = Sqlx({"--store", f.store.path(), "migrations", "resume", m["id"], RootUrl()});
        ASSERT_EQ(r.exit_code, 0) << "trial " << trial << " (killed in " << p << "): " << DescribeRun(r);
      }
      RunResult r = Sqlx({"--store", f.store.path(), "migrations", "finalize", m["id"], RootUrl()});
      ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
    }
    ++killed_in[phase];
    if (phase == "none" && Hash(f.db) != (fwd ? desired : start)) {
      // Killed before its migration began: run the plan to its end.
      RunResult r = Sqlx(f.ApplyArgs(fwd ? forward : back));
      ASSERT_EQ(r.exit_code, 0) << DescribeRun(r);
      for (const auto& m : Migrations(f.store.path())) {
        if (m["phase"] != "cut-over") continue;
        ASSERT_EQ(Sqlx({"--store", f.store.path(), "migrations", "finalize", m["id"], RootUrl()}).exit_code, 0);
      }
    }
    writer.Stop();
    ASSERT_EQ(writer.failure(), "");
    EXPECT_EQ(RowsDiffering(f.db, f.control, key), 0u) << "trial " << trial << ", killed in " << phase;
    EXPECT_EQ(Hash(f.db), fwd ? desired : start) << "trial " << trial;
    EXPECT_EQ(Artefacts(f.db), 0u) << "trial " << trial;
  }
  std::string phases;
  for (const auto& [p, n] : killed_in) phases += p + "=" + std::to_string(n) + " ";
  std::cout << "[ kills ] by phase: " << phases << "; writer commits " << writer.commits() << ", rollbacks "
            << writer.rollbacks() << " (" << writer.Errors() << ")\n" << writer.messages_;
}

TEST(OnlineMigrationTest, TablesThatCannotBeCopiedOnlineAreRefusedWithTheReasonBeforeAnyChange) {
  FixtureDatabases fx;
  TempDir store("sqlx-online-store.");
  const std::string db = fx.Create("omr"), to = fx.Create("omr_to");
  // A key to the table itself that cascades changes rows without triggers.
  RootSql("CREATE TABLE s (id int PRIMARY KEY, up int, v int, CONSTRAINT fk_s_s FOREIGN KEY (up) REFERENCES s (id) "
          "ON DELETE CASCADE);"
          "CREATE TABLE n (a int, v int); INSERT INTO s VALUES (1, NULL, 1); INSERT INTO n VALUES (1, 1), (1, 1)",
          db);
  RootSql("CREATE TABLE s (id int PRIMARY KEY, up int, v bigint, CONSTRAINT fk_s_s FOREIGN KEY (up) REFERENCES s (id) "
          "ON DELETE CASCADE);"
          "CREATE TABLE n (a int, v bigint)",
          to);
  const std::string plan = store.path() + "/plan.json";
  ASSERT_EQ(Sqlx({"--store", store.path(), "plan:diff", "--from", RootUrl(db), "--to", RootUrl(to), "-o", plan}).exit_code, 0);
  const std::string start = Hash(db);
  RunResult r = Sqlx({"--store", store.path(), "apply", RootUrl(db), "--plan", plan});
  EXPECT_EQ(r.exit_code, 1) << DescribeRun(r);
  EXPECT_NE(r.err.find("alter_table s: needs a table copy"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("foreign key `fk_s_s` references the table itself ON DELETE CASCADE"), std::string::npos)
      << r.err;
  EXPECT_NE(r.err.find("alter_table n: needs a table copy"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("no primary key and no unique key over NOT NULL columns"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("--allow-blocking"), std::string::npos) << r.err;
  EXPECT_EQ(Hash(db), start);
  EXPECT_EQ(Artefacts(db), 0u);
  // With consent they run as blocking copies and reach the desired schema.
  r = Sqlx({"--store", store.path(), "apply", RootUrl(db), "--plan", plan, "--allow-blocking"});
  EXPECT_EQ(r.exit_code, 0) << DescribeRun(r);
  EXPECT_EQ(Hash(db), Hash(to));
}

TEST(OnlineMigrationTest, AConversionThatWouldChangeValuesSilentlyIsCaughtAndTheCopyAbandoned) {
  FixtureDatabases fx;
  TempDir store("sqlx-online-store.");
  const std::string db = fx.Create("omc"), to = fx.Create("omc_to");
  // DOUBLE -> FLOAT rounds 0.1 without an error or a warning in strict mode:
  // only the comparison after the copy sees it.
  RootSql("CREATE TABLE t (id int PRIMARY KEY, f double); INSERT INTO t VALUES (1, 0.1), (2, 0.5)", db);
  RootSql("CREATE TABLE t (id int PRIMARY KEY, f float)", to);
  const std::string plan = store.path() + "/plan.json";
  ASSERT_EQ(Sqlx({"--store", store.path(), "plan:diff", "--from", RootUrl(db), "--to", RootUrl(to), "-o", plan}).exit_code, 0);
  const std::string start = Hash(db);
  RunResult r = Sqlx({"--store", store.path(), "apply", RootUrl(db), "--plan", plan, "--allow-destructive"});
  EXPECT_EQ(r.exit_code, 1) << DescribeRun(r);
  EXPECT_NE(r.err.find("rows of `t` change value when copied"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("the online copy was abandoned: t is unchanged"), std::string::npos) << r.err;
  EXPECT_EQ(Hash(db), start);
  EXPECT_EQ(Artefacts(db), 0u);
  EXPECT_EQ(RootSql("SELECT f FROM t ORDER BY id", db), "0.1\n0.5\n");
}

TEST(OnlineMigrationTest, ANewUniqueKeyOverDuplicatesIsRefusedBeforeTheCopyStarts) {
  FixtureDatabases fx;
  TempDir store("sqlx-online-store.");
  const std::string db = fx.Create("omu"), to = fx.Create("omu_to");
  RootSql("CREATE TABLE t (id int PRIMARY KEY, e varchar(20)); INSERT INTO t VALUES (1, 'a'), (2, 'a'), (3, 'b')", db);
  RootSql("CREATE TABLE t (id int PRIMARY KEY, e varchar(40), UNIQUE KEY uk_e (e))", to);
  const std::string plan = store.path() + "/plan.json";
  ASSERT_EQ(Sqlx({"--store", store.path(), "plan:diff", "--from", RootUrl(db), "--to", RootUrl(to), "-o", plan}).exit_code, 0);
  const std::string start = Hash(db);
  RunResult r = Sqlx({"--store", store.path(), "apply", RootUrl(db), "--plan", plan});
  EXPECT_EQ(r.exit_code, 1) << DescribeRun(r);
  EXPECT_NE(r.out.find("FAIL 1"), std::string::npos) << r.out;
  EXPECT_EQ(Hash(db), start);
  EXPECT_EQ(Artefacts(db), 0u);
  EXPECT_EQ(Migrations(store.path()).size(), 0u) << "no migration may start";
  EXPECT_EQ(RootSql("SELECT COUNT(*) FROM t", db), "3\n");
  // Without the duplicate the plan runs online, and the new key then refuses one.
  RootSql("UPDATE t SET e = 'c' WHERE id = 2", db);
  ASSERT_EQ(Sqlx({"--store", store.path(), "plan:diff", "--from", RootUrl(db), "--to", RootUrl(to), "-o", plan}).exit_code, 0);
  r = Sqlx({"--store", store.path(), "apply", RootUrl(db), "--plan", plan});
  EXPECT_EQ(r.exit_code, 0) << DescribeRun(r);
  EXPECT_EQ(RootSql("SELECT COUNT(*) FROM t", db), "3\n");
  RunResult dup = testing::RootClient({db, "-e", "INSERT INTO t VALUES (4, 'a')"});
  EXPECT_NE(dup.exit_code, 0) << "the new unique key must refuse a duplicate";
}

}  // namespace
}  // namespace sqlx
