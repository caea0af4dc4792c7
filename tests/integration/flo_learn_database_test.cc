// Database learning against the real MariaDB with real application schemas:
// object counts agree with an independent count of the catalog, known tables
// come out field by field, the profile hash ignores the database's own name
// and sees a change. How the learn runs (statements, writes, privileges,
// errors): flo_learn_run_test.cc.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "flo_learn_fixture.h"

namespace sqlx {
namespace {

using namespace flo_learn_test;  // NOLINT: the fixture of these tests (and its names)

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

}  // namespace
}  // namespace sqlx
