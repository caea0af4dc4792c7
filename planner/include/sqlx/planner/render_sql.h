// Renders an IR (sqlx/messages/ir.h) back to MariaDB/MySQL DDL: one object's
// CREATE statement, or a whole database as a script the `mariadb` client
// loads (like `mariadb-dump --no-data`). Tables, columns, indexes, keys,
// checks, partitions and options are rendered from their fields; only view,
// routine, trigger and event bodies are copied as text. docs/formats/ddl.md
// says what is rendered how, and in which order.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sqlx/messages/ir.h"

namespace sqlx::planner {

// `name` with backticks, inner backticks doubled.
std::string QuoteIdentifier(std::string_view name);
// A string literal: quotes doubled; backslashes (and NUL) escaped unless the
// statement runs with NO_BACKSLASH_ESCAPES.
std::string QuoteString(std::string_view text, bool no_backslash_escapes = false);
// "user@host" (as the catalog writes DEFINER) as `user`@`host`.
std::string QuoteDefiner(std::string_view definer);

// One statement of a rendered database, with the session settings it must
// run under (the server records sql_mode and the client character set with
// views, routines, triggers and events, and reads literals by them).
struct Statement {
  std::string kind;  // "table", "view", "routine", "trigger", "event"
  std::string name;  // the object's name (a trigger: its own name)
  std::string sql;   // one statement, no terminator
  std::string sql_mode;              // empty: the script's default
  std::string character_set_client;  // empty: the script's default (utf8mb4)
  std::string collation_connection;
};

std::string RenderColumn(const ir::Column& column, const std::vector<ir::Check>& checks);
std::string RenderIndex(const ir::Index& index);
std::string RenderForeignKey(const ir::ForeignKey& fk);
std::string RenderCheck(const ir::Check& check);
// The table's create options as a CREATE TABLE declares them: `create_options`
// without what the catalog reports for the engine whether declared or not
// (Aria: `transactional=1`), so that SHOW CREATE TABLE stays as it was.
std::string DeclaredCreateOptions(const ir::Table& table);
std::string RenderPartitioning(const ir::Partitioning& partitioning, const std::string& engine);
std::string RenderCreateTable(const ir::Table& table);
std::string RenderCreateView(const ir::View& view);
std::string RenderCreateRoutine(const ir::Routine& routine);
std::string RenderCreateTrigger(const ir::Trigger& trigger);
std::string RenderCreateEvent(const ir::Event& event);

// Every object of `db` in creation order: tables (a table after the tables
// its foreign keys reference; tables in a reference cycle in name order —
// the script turns FOREIGN_KEY_CHECKS off, as mariadb-dump does), routines,
// views (a view after the views it reads), triggers, events.
std::vector<Statement> RenderStatements(const ir::Database& db);

struct ScriptOptions {
  // Adds CREATE DATABASE (with the IR's charset and collation) and USE for
  // this name; empty: the script runs in the client's current database.
  std::string create_database;
  std::string header;  // comment lines put first (each prefixed "-- ")
};

// A script for the `mariadb` client: session settings saved and restored,
// FOREIGN_KEY_CHECKS off while tables are created, DELIMITER around bodies.
std::string RenderScript(const ir::Database& db, const ScriptOptions& options = {});

}  // namespace sqlx::planner
