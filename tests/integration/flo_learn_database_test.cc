// Database learning against the real MariaDB with real application schemas:
// object counts agree with an independent count of the catalog, known tables
// come out field by field, the profile hash ignores the database's own name
// and sees a change, the number of statements does not grow with the number
// of databases, nothing is written, a limited user lists what it could not
// see, and a lost connection fails the learn.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "learn_pack_edit.h"
#include "mariadb_session.h"
#include "schema_fixtures.h"
#include "sqlx/flo/learn_database.h"
#include "temp_dir.h"
#include "test_env.h"

namespace sqlx {
namespace {

using flo::LearnedDatabase;
using testing::FixtureDatabases;
using testing::MustOpen;

// A session as sqlx opens one to learn: with the learn pack's multi-statement
// capability, so SHOW CREATE VIEW statements share round trips.
std::unique_ptr<transports::Session> MustOpenForLearning(const transports::ConnectionUrl& url) {
  transports::SessionOptions options;
  options.on_greeting = flo::LearnSessionGreeting();
  return MustOpen(url, options);
}
using testing::QueryAll;
using testing::RootSql;

transports::ConnectionUrl RootUrl() { return testing::Url("root", testing::MariaDbRootPassword(), ""); }

std::vector<LearnedDatabase> MustLearn(transports::Session& session, const std::vector<std::string>& names,
                                       const flo::LearnDatabaseOptions& options = {}) {
  auto learned = flo::LearnDatabases(session, names, options);
  EXPECT_TRUE(learned.ok()) << learned.error().ToString();
  if (!learned.ok()) return {};
  EXPECT_EQ(learned->size(), names.size());
  for (const LearnedDatabase& db : *learned) EXPECT_FALSE(db.error) << db.name << ": " << db.error->ToString();
  return std::move(learned).value();
}

uint64_t Count(transports::Session& session, const std::string& sql) {
  testing::Cell cell = testing::Scalar(session, sql);
  return cell ? std::stoull(*cell) : 0;
}

// The session's status counters named like `pattern` (SHOW SESSION STATUS LIKE).
std::map<std::string, uint64_t> SessionStatus(transports::Session& session, const std::string& pattern) {
  std::map<std::string, uint64_t> out;
  auto t = QueryAll(session, "SHOW SESSION STATUS LIKE '" + pattern + "'");
  EXPECT_TRUE(t.ok()) << t.error().ToString();
  if (!t.ok()) return out;
  for (const auto& row : t->rows)
    if (row.size() == 2 && row[0] && row[1]) out[*row[0]] = std::stoull(*row[1]);
  return out;
}

const ir::Table* FindTable(const ir::Database& db, const std::string& name) {
  for (const auto& t : db.tables)
    if (t.name == name) return &t;
  ADD_FAILURE() << "no table " << name << " in " << db.name;
  return nullptr;
}

template <class T>
const T* Named(const std::vector<T>& items, const std::string& name) {
  for (const T& item : items)
    if (item.name == name) return &item;
  ADD_FAILURE() << "nothing named " << name;
  return nullptr;
}

bool Mentions(const std::vector<std::string>& lines, const std::string& part) {
  return std::any_of(lines.begin(), lines.end(),
                     [&](const std::string& l) { return l.find(part) != std::string::npos; });
}

// Four applications of different shapes: sakila 1.5 (views, routines,
// triggers, FKs, FULLTEXT), employees (views), nacos 2.3.0, phpbb 3.0.14
// (63 tables).
std::vector<std::string> LoadFourApplications(FixtureDatabases& fx) {
  return {fx.Load("sakila", "sakila/v1.5.sql"), fx.Load("employees", "employees/employees.sql"),
          fx.Load("nacos", "nacos/v2.3.0.sql"), fx.Load("phpbb", "phpbb/v3.0.14.sql")};
}

TEST(FloLearnDatabaseTest, CountsAgreeWithAnIndependentCountOfTheCatalog) {
  FixtureDatabases fx;
  const std::vector<std::string> names = LoadFourApplications(fx);
  auto session = MustOpenForLearning(RootUrl());
  ASSERT_NE(session, nullptr);
  std::vector<LearnedDatabase> learned = MustLearn(*session, names);
  ASSERT_EQ(learned.size(), 4u);
  for (const LearnedDatabase& db : learned) {
    const std::string in = " = '" + db.name + "'";
    EXPECT_EQ(db.counts.tables,
              Count(*session,
                    "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_TYPE = 'BASE TABLE' AND "
                    "TABLE_SCHEMA" +
                        in))
        << db.name;
    EXPECT_EQ(db.counts.views,
              Count(*session, "SELECT COUNT(*) FROM information_schema.VIEWS WHERE TABLE_SCHEMA" + in));
    EXPECT_EQ(db.counts.routines,
              Count(*session, "SELECT COUNT(*) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA" + in));
    EXPECT_EQ(db.counts.triggers,
              Count(*session, "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA" + in));
    EXPECT_EQ(db.counts.events,
              Count(*session, "SELECT COUNT(*) FROM information_schema.EVENTS WHERE EVENT_SCHEMA" + in));
    EXPECT_EQ(db.schema.tables.size(), db.counts.tables);
    EXPECT_EQ(db.schema.views.size(), db.counts.views);
    size_t columns = 0, indexes = 0;
    for (const auto& t : db.schema.tables) {
      columns += t.columns.size();
      indexes += t.indexes.size();
    }
    EXPECT_EQ(columns, Count(*session,
                             "SELECT COUNT(*) FROM information_schema.COLUMNS c JOIN information_schema.TABLES t "
                             "USING (TABLE_SCHEMA, TABLE_NAME) WHERE t.TABLE_TYPE = 'BASE TABLE' AND "
                             "c.TABLE_SCHEMA" +
                                 in))
        << db.name;
    EXPECT_EQ(indexes, Count(*session,
                             "SELECT COUNT(DISTINCT TABLE_NAME, INDEX_NAME) FROM information_schema.STATISTICS "
                             "WHERE TABLE_SCHEMA" +
                                 in))
        << db.name;
    EXPECT_TRUE(db.not_visible.empty()) << db.name << ": " << db.not_visible.front();
    EXPECT_EQ(db.profile_hash, ir::ProfileHash(db.schema));
    EXPECT_EQ(db.profile_hash.size(), 64u);
    EXPECT_EQ(db.schema.name, db.name);
  }
  // Known sizes of these releases.
  EXPECT_EQ(learned[0].counts.tables, 16u);
  EXPECT_EQ(learned[0].counts.views, 7u);
  EXPECT_EQ(learned[0].counts.routines, 6u);
  EXPECT_EQ(learned[0].counts.triggers, 3u);
  EXPECT_EQ(learned[1].counts.tables, 6u);
  EXPECT_EQ(learned[1].counts.views, 2u);
  EXPECT_EQ(learned[2].counts.tables, 12u);
  EXPECT_EQ(learned[3].counts.tables, 63u);
}

TEST(FloLearnDatabaseTest, SakilaComesOutFieldByField) {
  FixtureDatabases fx;
  const std::string name = fx.Load("sakila", "sakila/v1.5.sql");
  auto session = MustOpenForLearning(RootUrl());
  ASSERT_NE(session, nullptr);
  std::vector<LearnedDatabase> learned = MustLearn(*session, {name});
  ASSERT_EQ(learned.size(), 1u);
  const ir::Database& db = learned[0].schema;
  EXPECT_EQ(db.charset, "latin1");  // the test server's default; sakila sets charsets per table

  const ir::Table* film = FindTable(db, "film");
  ASSERT_NE(film, nullptr);
  EXPECT_EQ(film->engine, "InnoDB");
  EXPECT_EQ(film->charset, "utf8mb4");
  ASSERT_EQ(film->columns.size(), 13u);
  const auto& id = film->columns[0];
  EXPECT_EQ(id.name, "film_id");
  EXPECT_EQ(id.column_type, "smallint(5) unsigned");
  EXPECT_TRUE(id.auto_increment);
  EXPECT_FALSE(id.nullable);
  EXPECT_FALSE(id.default_value.has_value());
  const auto* rating = Named(film->columns, "rating");
  ASSERT_NE(rating, nullptr);
  EXPECT_EQ(rating->column_type, "enum('G','PG','PG-13','R','NC-17')");
  EXPECT_EQ(rating->default_value, std::optional<std::string>("'G'"));
  EXPECT_EQ(rating->charset, "utf8mb4");
  const auto* description = Named(film->columns, "description");
  ASSERT_NE(description, nullptr);
  EXPECT_EQ(description->default_value, std::optional<std::string>("NULL"));
  const auto* updated = Named(film->columns, "last_update");
  ASSERT_NE(updated, nullptr);
  EXPECT_EQ(updated->default_value, std::optional<std::string>("current_timestamp()"));
  EXPECT_EQ(updated->on_update, "current_timestamp()");
  ASSERT_FALSE(film->indexes.empty());
  EXPECT_EQ(film->indexes[0].kind, "PRIMARY");
  EXPECT_EQ(film->indexes[0].algorithm, "");  // BTREE is InnoDB's default
  const auto* language = Named(film->foreign_keys, "fk_film_language");
  ASSERT_NE(language, nullptr);
  EXPECT_EQ(language->referenced_schema, "");  // the database itself
  EXPECT_EQ(language->referenced_table, "language");

  const ir::Table* film_text = FindTable(db, "film_text");
  ASSERT_NE(film_text, nullptr);
  const auto* fulltext = Named(film_text->indexes, "idx_title_description");
  ASSERT_NE(fulltext, nullptr);
  EXPECT_EQ(fulltext->kind, "FULLTEXT");
  ASSERT_EQ(fulltext->parts.size(), 2u);
  EXPECT_EQ(fulltext->parts[0].column, "title");
  EXPECT_EQ(fulltext->parts[1].column, "description");

  const ir::Table* payment = FindTable(db, "payment");
  ASSERT_NE(payment, nullptr);
  ASSERT_EQ(payment->foreign_keys.size(), 3u);
  const auto* rental = Named(payment->foreign_keys, "fk_payment_rental");
  ASSERT_NE(rental, nullptr);
  EXPECT_EQ(rental->columns, std::vector<std::string>{"rental_id"});
  EXPECT_EQ(rental->referenced_table, "rental");
  EXPECT_EQ(rental->referenced_columns, std::vector<std::string>{"rental_id"});
  EXPECT_EQ(rental->on_delete, "SET NULL");
  EXPECT_EQ(rental->on_update, "CASCADE");
  const auto* customer = Named(payment->foreign_keys, "fk_payment_customer");
  ASSERT_NE(customer, nullptr);
  EXPECT_EQ(customer->on_delete, "RESTRICT");
  EXPECT_EQ(customer->on_update, "CASCADE");

  const auto* actor_info = Named(db.views, "actor_info");
  ASSERT_NE(actor_info, nullptr);
  EXPECT_EQ(actor_info->security, "INVOKER");
  EXPECT_EQ(actor_info->algorithm, "UNDEFINED");
  EXPECT_NE(actor_info->definition.find("from (((`actor` `a` left join `film_actor` `fa`"), std::string::npos)
      << actor_info->definition;
  for (const auto& view : db.views) EXPECT_EQ(view.definition.find("`" + name + "`"), std::string::npos) << view.name;

  const auto* in_stock = Named(db.routines, "film_in_stock");
  ASSERT_NE(in_stock, nullptr);
  EXPECT_EQ(in_stock->kind, "PROCEDURE");
  ASSERT_EQ(in_stock->parameters.size(), 3u);
  EXPECT_EQ(in_stock->parameters[0].mode, "IN");
  EXPECT_EQ(in_stock->parameters[0].name, "p_film_id");
  EXPECT_EQ(in_stock->parameters[0].type, "int(11)");
  EXPECT_EQ(in_stock->parameters[2].mode, "OUT");
  EXPECT_EQ(in_stock->data_access, "READS SQL DATA");
  EXPECT_NE(in_stock->body.find("SELECT inventory_id"), std::string::npos);
  const auto* balance = Named(db.routines, "get_customer_balance");
  ASSERT_NE(balance, nullptr);
  EXPECT_EQ(balance->returns, "decimal(5,2)");
  EXPECT_TRUE(balance->deterministic);

  ASSERT_EQ(db.triggers.size(), 3u);
  const auto* ins_film = Named(db.triggers, "ins_film");
  ASSERT_NE(ins_film, nullptr);
  EXPECT_EQ(ins_film->table, "film");
  EXPECT_EQ(ins_film->timing, "AFTER");
  EXPECT_EQ(ins_film->event, "INSERT");
  EXPECT_NE(ins_film->body.find("INSERT INTO film_text"), std::string::npos);
}

// Features the fixtures do not use: partitions, checks, generated and
// invisible columns, ignored and descending indexes, long unique hashes,
// events, and bodies that name their own database.
void CreateFeatureSchema(const std::string& db) {
  RootSql(
      "CREATE TABLE t (a INT DEFAULT NULL, b INT NOT NULL, c VARCHAR(5) DEFAULT 'x''y', h INT CHECK (h > 0), "
      "e INT INVISIBLE DEFAULT 1, f INT AS (a + 1) VIRTUAL, g BLOB, CONSTRAINT ck_t CHECK (a < b), "
      "KEY k (a DESC) COMMENT 'hi' IGNORED, UNIQUE KEY u (g)) ENGINE=InnoDB ROW_FORMAT=COMPACT "
      "STATS_PERSISTENT=1 COMMENT='tc' PARTITION BY RANGE (b) SUBPARTITION BY HASH (b) SUBPARTITIONS 2 "
      "(PARTITION p0 VALUES LESS THAN (10) COMMENT 'c0', PARTITION p1 VALUES LESS THAN MAXVALUE);"
      "CREATE TABLE s (id INT PRIMARY KEY);"
      "CREATE VIEW v AS SELECT `" +
          db + "`.`s`.`id`, 'x' AS lit FROM `" + db +
          "`.`s`;"
          "CREATE PROCEDURE p(INOUT n INT) SELECT COUNT(*) INTO n FROM `" +
          db +
          "`.`s`;"
          "CREATE TRIGGER tr BEFORE INSERT ON s FOR EACH ROW SET NEW.id = NEW.id + (SELECT COUNT(*) FROM `" +
          db +
          "`.`t`);"
          "CREATE EVENT ev ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' ON COMPLETION PRESERVE DISABLE "
          "COMMENT 'nightly' DO DELETE FROM `" +
          db + "`.`s` WHERE id < 0;",
      db);
}

TEST(FloLearnDatabaseTest, TheSameSchemaUnderAnotherNameHashesTheSameAndAChangeDoesNot) {
  FixtureDatabases fx;
  const std::string a = fx.Load("sakila_a", "sakila/v1.5.sql");
  const std::string b = fx.Load("sakila_b", "sakila/v1.5.sql");
  const std::string fa = fx.Create("feat_a");
  const std::string fb = fx.Create("feat_b");
  CreateFeatureSchema(fa);
  CreateFeatureSchema(fb);
  auto session = MustOpenForLearning(RootUrl());
  ASSERT_NE(session, nullptr);
  std::vector<LearnedDatabase> learned = MustLearn(*session, {a, b, fa, fb});
  ASSERT_EQ(learned.size(), 4u);
  EXPECT_EQ(learned[0].profile_hash, learned[1].profile_hash);
  EXPECT_EQ(learned[2].profile_hash, learned[3].profile_hash);
  EXPECT_EQ(ir::ToCanonicalJson(learned[2].schema, true), ir::ToCanonicalJson(learned[3].schema, true));

  const ir::Database& feat = learned[2].schema;
  EXPECT_TRUE(feat.not_visible.empty());
  const ir::Table* t = FindTable(feat, "t");
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->row_format, "COMPACT");
  EXPECT_EQ(t->create_options, "stats_persistent=1");
  EXPECT_EQ(t->comment, "tc");
  ASSERT_TRUE(t->partitioning.has_value());
  EXPECT_EQ(t->partitioning->method, "RANGE");
  EXPECT_EQ(t->partitioning->subpartition_method, "HASH");
  ASSERT_EQ(t->partitioning->partitions.size(), 2u);
  EXPECT_EQ(t->partitioning->partitions[0].name, "p0");
  EXPECT_EQ(t->partitioning->partitions[0].description, "10");
  EXPECT_EQ(t->partitioning->partitions[0].comment, "c0");
  EXPECT_EQ(t->partitioning->partitions[0].subpartitions, (std::vector<std::string>{"p0sp0", "p0sp1"}));
  EXPECT_EQ(t->partitioning->partitions[1].description, "MAXVALUE");
  ASSERT_EQ(t->checks.size(), 2u);
  EXPECT_EQ(t->checks[0].name, "ck_t");
  EXPECT_FALSE(t->checks[0].column_level);
  EXPECT_TRUE(t->checks[1].column_level);
  EXPECT_EQ(Named(t->columns, "c")->default_value, std::optional<std::string>("'x''y'"));
  EXPECT_FALSE(Named(t->columns, "b")->default_value.has_value());
  EXPECT_TRUE(Named(t->columns, "e")->invisible);
  EXPECT_EQ(Named(t->columns, "f")->generation_kind, "VIRTUAL");
  EXPECT_EQ(Named(t->columns, "f")->generation_expression, "`a` + 1");
  EXPECT_FALSE(Named(t->columns, "f")->default_value.has_value());
  const auto* k = Named(t->indexes, "k");
  ASSERT_NE(k, nullptr);
  EXPECT_TRUE(k->ignored);
  EXPECT_EQ(k->comment, "hi");
  ASSERT_EQ(k->parts.size(), 1u);
  EXPECT_TRUE(k->parts[0].descending);
  EXPECT_EQ(Named(t->indexes, "u")->algorithm, "HASH");  // MariaDB's long unique hash on a BLOB
  ASSERT_EQ(feat.views.size(), 1u);
  EXPECT_EQ(feat.views[0].definition, "select `s`.`id` AS `id`,'x' AS `lit` from `s`");
  EXPECT_EQ(feat.routines[0].body, "SELECT COUNT(*) INTO n FROM `s`");
  EXPECT_EQ(feat.routines[0].parameters[0].mode, "INOUT");
  EXPECT_EQ(feat.triggers[0].body, "SET NEW.id = NEW.id + (SELECT COUNT(*) FROM `t`)");
  ASSERT_EQ(feat.events.size(), 1u);
  EXPECT_EQ(feat.events[0].schedule, "EVERY 1 DAY STARTS '2030-01-01 00:00:00'");
  EXPECT_EQ(feat.events[0].status, "DISABLED");
  EXPECT_EQ(feat.events[0].on_completion, "PRESERVE");
  EXPECT_EQ(feat.events[0].body, "DELETE FROM `s` WHERE id < 0");

  // A string literal that names the database is data, not a qualifier: kept.
  RootSql("CREATE VIEW w AS SELECT '`" + fa + "`.`s`' AS lit FROM `" + fa + "`.`s`", fa);
  std::vector<LearnedDatabase> with_literal = MustLearn(*session, {fa});
  ASSERT_EQ(with_literal.size(), 1u);
  const auto* w = Named(with_literal[0].schema.views, "w");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->definition, "select '`" + fa + "`.`s`' AS `lit` from `s`");

  RootSql("ALTER TABLE actor ADD COLUMN nickname VARCHAR(20)", b);
  std::vector<LearnedDatabase> again = MustLearn(*session, {a, b});
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].profile_hash, learned[0].profile_hash);
  EXPECT_NE(again[1].profile_hash, learned[1].profile_hash);
}

TEST(FloLearnDatabaseTest, OneDatabaseAndFourTakeTheSameNumberOfStatements) {
  FixtureDatabases fx;
  const std::vector<std::string> names = LoadFourApplications(fx);
  auto session = MustOpenForLearning(RootUrl());
  ASSERT_NE(session, nullptr);
  auto questions = [&] { return SessionStatus(*session, "Questions")["Questions"]; };
  const uint64_t q0 = questions();
  std::vector<LearnedDatabase> one = MustLearn(*session, {names[0]});
  const uint64_t q1 = questions();
  std::vector<LearnedDatabase> four = MustLearn(*session, names);
  const uint64_t q2 = questions();
  ASSERT_EQ(one.size(), 1u);
  ASSERT_EQ(four.size(), 4u);
  // Round trips: the same for one database as for four. Besides the
  // batched catalog queries, one round trip carries every SHOW CREATE VIEW
  // and one every SHOW CREATE TRIGGER (information_schema rewrites both).
  EXPECT_EQ(one[0].catalog_statements, four[0].catalog_statements);
  EXPECT_LE(four[0].catalog_statements, 18);
  auto per_object = [](const std::vector<LearnedDatabase>& dbs) {
    uint64_t n = 0;
    for (const LearnedDatabase& db : dbs) n += db.counts.views + db.counts.triggers;
    return n;
  };
  const int batched = four[0].catalog_statements - 2;
  EXPECT_EQ(static_cast<uint64_t>(batched) + per_object(one) + 1, q1 - q0);  // + the SHOW STATUS itself
  EXPECT_EQ(static_cast<uint64_t>(batched) + per_object(four) + 1, q2 - q1);
  EXPECT_EQ(one[0].profile_hash, four[0].profile_hash);

  // Without the multi-statement capability each view and trigger takes its
  // own round trip, and the result is the same.
  auto plain = MustOpen(RootUrl());
  ASSERT_NE(plain, nullptr);
  std::vector<LearnedDatabase> single = MustLearn(*plain, {names[0]});
  ASSERT_EQ(single.size(), 1u);
  EXPECT_EQ(single[0].profile_hash, one[0].profile_hash);
  EXPECT_EQ(static_cast<uint64_t>(single[0].catalog_statements), batched + per_object(one));
}

// Sakila (no partitions) and the feature schema (a partitioned table).
std::pair<std::string, std::string> LoadPlainAndFeatureSchemas(FixtureDatabases& fx) {
  std::string plain = fx.Load("sakila", "sakila/v1.5.sql");
  std::string feat = fx.Create("feat");
  CreateFeatureSchema(feat);
  return {plain, feat};
}

// PARTITIONS opens every table it covers: it is read only for databases
// with a partitioned table, and not at all when there is none.
TEST(FloLearnDatabaseTest, PartitionsAreReadOnlyWhereATableIsPartitioned) {
  FixtureDatabases fx;
  const auto [plain, feat] = LoadPlainAndFeatureSchemas(fx);
  auto session = MustOpenForLearning(RootUrl());
  ASSERT_NE(session, nullptr);
  std::vector<LearnedDatabase> alone = MustLearn(*session, {plain});
  std::vector<LearnedDatabase> both = MustLearn(*session, {plain, feat});
  ASSERT_EQ(alone.size(), 1u);
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(alone[0].catalog_statements + 1, both[0].catalog_statements);
  EXPECT_EQ(alone[0].profile_hash, both[0].profile_hash);
  const ir::Table* t = FindTable(both[1].schema, "t");
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->partitioning.has_value());
  EXPECT_EQ(t->partitioning->partitions.size(), 2u);
  for (const ir::Table& table : both[0].schema.tables) EXPECT_FALSE(table.partitioning.has_value()) << table.name;
}

// With a helper session part of the catalog queries run on it, at the same
// time: the databases learned are the same, in the same number of
// statements, some of them on each session.
TEST(FloLearnDatabaseTest, AHelperSessionGivesTheSameResult) {
  FixtureDatabases fx;
  const auto [plain, feat] = LoadPlainAndFeatureSchemas(fx);
  auto session = MustOpen(RootUrl());
  auto helper = MustOpen(RootUrl());
  ASSERT_NE(session, nullptr);
  ASSERT_NE(helper, nullptr);
  auto questions = [](transports::Session& s) { return SessionStatus(s, "Questions")["Questions"]; };
  auto learned_alone = flo::LearnDatabases(*session, {plain, feat, "sqlx_no_such_db"});
  ASSERT_TRUE(learned_alone.ok()) << learned_alone.error().ToString();
  const std::vector<LearnedDatabase>& alone = *learned_alone;
  flo::LearnDatabaseOptions options;
  options.helper_session = helper.get();
  const uint64_t main_before = questions(*session), helper_before = questions(*helper);
  auto shared = flo::LearnDatabases(*session, {plain, feat, "sqlx_no_such_db"}, options);
  ASSERT_TRUE(shared.ok()) << shared.error().ToString();
  const uint64_t on_main = questions(*session) - main_before - 1, on_helper = questions(*helper) - helper_before - 1;
  ASSERT_EQ(shared->size(), 3u);
  for (size_t i = 0; i < 2; ++i) {
    EXPECT_EQ((*shared)[i].profile_hash, alone[i].profile_hash) << alone[i].name;
    EXPECT_EQ((*shared)[i].json, alone[i].json) << alone[i].name;
    EXPECT_EQ((*shared)[i].not_visible, alone[i].not_visible) << alone[i].name;
  }
  EXPECT_TRUE((*shared)[2].error.has_value());
  EXPECT_EQ((*shared)[0].catalog_statements, alone[0].catalog_statements);
  EXPECT_EQ(on_main + on_helper, static_cast<uint64_t>(alone[0].catalog_statements));
  EXPECT_GT(on_main, 0u);
  EXPECT_GT(on_helper, 0u);
}

TEST(FloLearnDatabaseTest, LearningWritesNothing) {
  FixtureDatabases fx;
  const std::string name = fx.Load("sakila", "sakila/v1.5.sql");
  auto session = MustOpenForLearning(RootUrl());
  ASSERT_NE(session, nullptr);
  std::map<std::string, uint64_t> before = SessionStatus(*session, "Com\\_%");
  std::vector<LearnedDatabase> learned = MustLearn(*session, {name, "sqlx_test"});
  std::map<std::string, uint64_t> after = SessionStatus(*session, "Com\\_%");
  ASSERT_FALSE(before.empty());
  for (const auto& [counter, value] : after) {
    // The learn (SELECTs on the catalog, SHOW CREATE VIEW / TRIGGER) and this check.
    if (counter == "Com_select" || counter == "Com_show_create_table" || counter == "Com_show_create_trigger" ||
        counter == "Com_show_status")
      continue;
    EXPECT_EQ(value, before[counter]) << counter << " moved: learning ran a statement that is not a SELECT";
  }
  EXPECT_GT(after["Com_select"], before["Com_select"]);
}

TEST(FloLearnDatabaseTest, AUserWithOnlySelectListsWhatItCouldNotSee) {
  FixtureDatabases fx;
  const std::string name = fx.Load("sakila", "sakila/v1.5.sql");
  RootSql("CREATE EVENT ev ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 00:00:00' DISABLE DO SELECT 1", name);
  testing::TemporaryUser user("sqlx_ro", "ro-pw", {"SELECT ON `" + name + "`.*"});

  auto session = MustOpenForLearning(testing::Url(user.name(), "ro-pw", ""));
  ASSERT_NE(session, nullptr);
  std::vector<LearnedDatabase> learned = MustLearn(*session, {name});
  ASSERT_EQ(learned.size(), 1u);
  const LearnedDatabase& db = learned[0];
  EXPECT_EQ(db.counts.tables, 16u);
  EXPECT_EQ(db.counts.triggers, 0u);
  EXPECT_EQ(db.counts.events, 0u);
  EXPECT_EQ(db.counts.routines, 0u);
  EXPECT_TRUE(Mentions(db.not_visible, "triggers: not visible without the TRIGGER privilege")) << db.not_visible.size();
  EXPECT_TRUE(Mentions(db.not_visible, "events: not visible without the EVENT privilege"));
  EXPECT_TRUE(Mentions(db.not_visible, "routines: only those this user may execute or alter"));
  EXPECT_TRUE(Mentions(db.not_visible, "view `actor_info`: definition not visible"));
  EXPECT_EQ(db.schema.not_visible, db.not_visible);

  // SHOW VIEW and SELECT on mysql.proc show view and routine bodies; triggers
  // and events still need their own privileges.
  user.Grant("SHOW VIEW ON `" + name + "`.*");
  user.Grant("SELECT ON mysql.proc");
  auto session2 = MustOpenForLearning(testing::Url(user.name(), "ro-pw", ""));
  ASSERT_NE(session2, nullptr);
  std::vector<LearnedDatabase> more = MustLearn(*session2, {name});
  ASSERT_EQ(more.size(), 1u);
  EXPECT_EQ(more[0].counts.routines, 6u);
  EXPECT_FALSE(Mentions(more[0].not_visible, "routines:"));
  EXPECT_FALSE(Mentions(more[0].not_visible, "definition not visible"));
  EXPECT_TRUE(Mentions(more[0].not_visible, "triggers: not visible"));
  EXPECT_TRUE(Mentions(more[0].not_visible, "events: not visible"));
  for (const auto& r : more[0].schema.routines) EXPECT_FALSE(r.body.empty()) << r.name;
  EXPECT_NE(more[0].profile_hash, db.profile_hash);
}

TEST(FloLearnDatabaseTest, AnUnknownDatabaseIsAnEntryWithAnErrorAndTheOthersAreLearned) {
  FixtureDatabases fx;
  const std::string name = fx.Load("employees", "employees/employees.sql");
  auto session = MustOpenForLearning(RootUrl());
  ASSERT_NE(session, nullptr);
  auto learned = flo::LearnDatabases(*session, {"sqlx_no_such_db", name, "it's \\ odd"});
  ASSERT_TRUE(learned.ok()) << learned.error().ToString();
  ASSERT_EQ(learned->size(), 3u);
  ASSERT_TRUE((*learned)[0].error.has_value());
  EXPECT_EQ((*learned)[0].error->code, ErrorCode::kNotFound);
  EXPECT_NE((*learned)[0].error->message.find("unknown database 'sqlx_no_such_db'"), std::string::npos);
  EXPECT_FALSE((*learned)[1].error.has_value());
  EXPECT_EQ((*learned)[1].counts.tables, 6u);
  EXPECT_TRUE((*learned)[2].error.has_value());  // quoted safely, found nowhere
}

TEST(FloLearnDatabaseTest, AConnectionLostBeforeOrDuringTheLearnFailsIt) {
  FixtureDatabases fx;
  const std::string name = fx.Load("employees", "employees/employees.sql");
  {
    auto session = MustOpenForLearning(RootUrl());
    ASSERT_NE(session, nullptr);
    const std::string id = testing::Scalar(*session, "SELECT CONNECTION_ID()").value_or("0");
    RootSql("KILL CONNECTION " + id);
    auto learned = flo::LearnDatabases(*session, {name});
    EXPECT_FALSE(learned.ok());
  }
  // A learn pack whose events query kills the session: the catalog queries
  // before it ran, the learn still fails as a whole.
  testing::TempDir dir("sqlx_killing_pack_");
  testing::WriteKillingLearnPack(dir.path());
  auto session = MustOpenForLearning(RootUrl());
  ASSERT_NE(session, nullptr);
  flo::LearnDatabaseOptions options;
  options.learn_pack_dir = dir.path();
  auto learned = flo::LearnDatabases(*session, {name}, options);
  ASSERT_FALSE(learned.ok());
  EXPECT_NE(learned.error().message.find("catalog query 'events' failed"), std::string::npos)
      << learned.error().ToString();
}

TEST(FloLearnDatabaseTest, DatabasesAreListedWithoutSystemSchemasUnlessAsked) {
  auto session = MustOpenForLearning(RootUrl());
  ASSERT_NE(session, nullptr);
  auto user = flo::ListDatabases(*session, false);
  auto all = flo::ListDatabases(*session, true);
  ASSERT_TRUE(user.ok()) << user.error().ToString();
  ASSERT_TRUE(all.ok()) << all.error().ToString();
  for (const char* system : {"information_schema", "mysql", "performance_schema", "sys"}) {
    EXPECT_EQ(std::count(user->begin(), user->end(), system), 0) << system;
    EXPECT_EQ(std::count(all->begin(), all->end(), system), 1) << system;
  }
  EXPECT_EQ(std::count(user->begin(), user->end(), "sqlx_test"), 1);
  EXPECT_TRUE(std::is_sorted(user->begin(), user->end()));
}

}  // namespace
}  // namespace sqlx
