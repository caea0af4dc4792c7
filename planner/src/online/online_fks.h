// Foreign keys around an online migration (docs/formats/migrations.md):
// the table's own keys move to the shadow under their names, and keys of
// other tables that reference it follow it through the swap. Every change
// is one metadata-only ALTER (ALGORITHM=INPLACE under foreign_key_checks=0),
// and at every moment each table keeps a foreign key in place.
#pragma once

#include <string>
#include <vector>

#include "online_sql.h"
#include "sqlx/planner/online.h"

namespace sqlx::planner::online {

struct ForeignKey {
  std::string name;
  std::string clause;  // "FOREIGN KEY (`a`) REFERENCES `p` (`id`) ON DELETE CASCADE", as SHOW CREATE TABLE writes it
};

// The foreign keys of `schema`.`table`, from SHOW CREATE TABLE.
Result<std::vector<ForeignKey>> ShowForeignKeys(transports::Session& session, const std::string& schema,
                                                const std::string& table);

// Names key i of `table` names[i] (it may currently carry any name in
// aliases[i]); one ALTER for all that are named otherwise, none when all are
// right. `clauses[i]` is key i's definition.
Status NameForeignKeys(transports::Session& session, const std::string& table, const std::vector<std::string>& clauses,
                       const std::vector<std::string>& names, const std::vector<std::vector<std::string>>& aliases);

// Adds the keys (names[i], clauses[i]) to an empty `table`.
Status AddForeignKeys(transports::Session& session, const std::string& table, const std::vector<std::string>& names,
                      const std::vector<std::string>& clauses);

// `clause` made to reference `database`.`to` where it references `from`
// (written `from` or `database`.`from`); unchanged when it does not.
std::string RepointedClause(std::string clause, const std::string& database, const std::string& from,
                            const std::string& to);

// True when `clause` references `database`.`table`.
bool ReferencesTable(const std::string& clause, const std::string& database, const std::string& table);

// Drops the keys of `table` named in `names` (those it has; none: no ALTER).
Status DropForeignKeys(transports::Session& session, const std::string& table, const std::vector<std::string>& names);

// Every foreign key (of any table, in any schema) that references
// `database`.`from` is made to reference `database`.`to`, keeping its
// name: through a temporary name `temp_prefix`N, so the key is in place at
// every moment. Keys of `from` to itself stay (they follow their table).
// Returns how many were moved.
Result<int> RepointForeignKeys(transports::Session& session, const std::string& database, const std::string& from,
                               const std::string& to, const std::string& temp_prefix);

// ---- The migrating table's own keys (MigrationState::fk_names) ----

// Their names: as learned (orig), on the table while the shadow has the
// originals (TableFkName), on the shadow after a revert (ShadowFkName);
// per key, the three names it may carry.
std::vector<std::string> OrigFks(const MigrationState& s);
std::vector<std::string> TableFks(const MigrationState& s);
std::vector<std::string> ShadowFks(const MigrationState& s);
std::vector<std::vector<std::string>> FkAliases(const MigrationState& s);
// Whether key i references the table itself.
bool SelfFk(const MigrationState& s, size_t i);
// Key i's definition on `table` (a key to itself references `table`).
std::string FkClauseOn(const MigrationState& s, size_t i, const std::string& table);
// Names the keys of `table` `names` (from whichever of the three they carry).
Status NameFks(transports::Session& session, const MigrationState& s, const std::string& table,
               const std::vector<std::string>& names);
// Adds to `table` the keys of which `self` says whether they reference the
// table itself, under `names`, unless it has them under any of their names.
Status AddFks(transports::Session& session, const MigrationState& s, const std::string& table,
              const std::vector<std::string>& names, bool self);
// The keys to itself leave `table` (under whichever name): the table a copy
// or a change capture fills carries none, since a row may arrive before the
// row it references.
Status DropSelfFks(transports::Session& session, const MigrationState& s, const std::string& table);

}  // namespace sqlx::planner::online
