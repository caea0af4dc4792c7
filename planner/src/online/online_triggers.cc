#include "online_triggers.h"

#include <map>

#include "sqlx/planner/render_sql.h"
#include "sqlx/transports/session.h"

namespace sqlx::planner::online {

using transports::Session;

namespace {

// DEFINER clause of `definer` (user@host as information_schema writes it; a
// role has no host).
std::string Definer(const std::string& definer) {
  const size_t at = definer.rfind('@');
  if (at == std::string::npos) return QuoteIdentifier(definer);
  return QuoteString(definer.substr(0, at)) + "@" + QuoteString(definer.substr(at + 1));
}

// Runs `sql` (a CREATE TRIGGER) under the trigger's sql_mode and
// collation_connection (the body is parsed and kept under them), then puts
// the session's back.
Status CreateUnder(Session& session, const TableTrigger& t, const std::string& sql, const OnlineOptions& options) {
  SQLX_ASSIGN_OR_RETURN(std::vector<Row> now, Rows(session, "SELECT @@SESSION.sql_mode, @@SESSION.collation_connection"));
  if (now.empty() || now[0].size() < 2) return MakeError(ErrorCode::kInternal, "the session's sql_mode was not read");
  SQLX_RETURN_IF_ERROR(Exec(session, "SET SESSION sql_mode = " + QuoteString(t.sql_mode) +
                                         ", collation_connection = " + QuoteString(t.collation)));
  Status st = RunDdl(session, sql, options);
  Status back = Exec(session, "SET SESSION sql_mode = " + QuoteString(now[0][0].value_or("")) +
                                  ", collation_connection = " + QuoteString(now[0][1].value_or("")));
  return st.ok() ? back : st;
}

// Trigger name -> its table, for every trigger of the schema that is one of
// s.triggers or the migration's own.
Result<std::map<std::string, std::string>> WhereTriggers(Session& session, const MigrationState& s) {
  std::string names;
  for (const TableTrigger& t : s.triggers) names += (names.empty() ? "" : ", ") + QuoteString(t.name);
  SQLX_ASSIGN_OR_RETURN(std::vector<Row> rows,
                        Rows(session, "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS WHERE "
                                      "TRIGGER_SCHEMA = " + QuoteString(s.database) + " AND (TRIGGER_NAME IN (" +
                                          (names.empty() ? "''" : names) + ") OR TRIGGER_NAME LIKE " +
                                          QuoteString("\\_sqlx\\_" + s.id + "\\_%") + ")"));
  std::map<std::string, std::string> out;
  for (const Row& r : rows) out[r[0].value_or("")] = r[1].value_or("");
  return out;
}

const char* const kEvents[] = {"INSERT", "UPDATE", "DELETE"};

std::string FenceName(const MigrationState& s, const std::string& event) {
  return s.TriggerName("fence_" + std::string(event == "INSERT" ? "ins" : event == "UPDATE" ? "upd" : "del"));
}

// A BEFORE trigger ahead of every other one of its event that refuses the
// write (nothing of it happens, no trigger of the table runs).
Status Fence(Session& session, const MigrationState& s, const std::string& event, const OnlineOptions& options) {
  SQLX_ASSIGN_OR_RETURN(std::vector<Row> first,
                        Rows(session, "SELECT TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = " +
                                          QuoteString(s.database) + " AND EVENT_OBJECT_TABLE = " +
                                          QuoteString(s.table) + " AND ACTION_TIMING = 'BEFORE' AND "
                                          "EVENT_MANIPULATION = " + QuoteString(event) +
                                          " ORDER BY ACTION_ORDER LIMIT 1"));
  const std::string name = FenceName(s, event);
  if (!first.empty() && first[0][0].value_or("") == name) return Status::Ok();
  const std::string precedes = first.empty() ? "" : "PRECEDES " + QuoteIdentifier(first[0][0].value_or("")) + " ";
  return RunDdl(session, "CREATE TRIGGER IF NOT EXISTS " + QuoteIdentifier(name) + " BEFORE " + event + " ON " +
                             QuoteIdentifier(s.table) + " FOR EACH ROW " + precedes +
                             "SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = " +
                             QuoteString("sqlx migration " + s.id + " is moving the triggers of this table: retry; "
                                         "if it lasts, run the migration's last command again"),
                options);
}

// Under LOCK TABLES table WRITE: the fence up, the table's copies of
// s.triggers (from an attempt cut short) dropped, all of them made in
// order, the table's twins dropped, the fence down. Every trigger it drops
// is on the table (the only one locked: MariaDB refuses DDL on any other
// table under LOCK TABLES).
Status Replace(Session& session, const MigrationState& s, const std::map<std::string, std::string>& where,
               const OnlineOptions& options) {
  auto on_table = [&](const std::string& name) {
    auto it = where.find(name);
    return it != where.end() && it->second == s.table;
  };
  for (const char* event : kEvents) SQLX_RETURN_IF_ERROR(Fence(session, s, event, options));
  for (const TableTrigger& t : s.triggers)
    if (on_table(t.name))
      SQLX_RETURN_IF_ERROR(RunDdl(session, "DROP TRIGGER IF EXISTS " + QuoteIdentifier(t.name), options));
  for (const TableTrigger& t : s.triggers) SQLX_RETURN_IF_ERROR(CreateUnder(session, t, t.statement, options));
  for (size_t i = 0; i < s.triggers.size(); ++i)
    if (on_table(s.TwinName(i)))
      SQLX_RETURN_IF_ERROR(RunDdl(session, "DROP TRIGGER IF EXISTS " + QuoteIdentifier(s.TwinName(i)), options));
  for (const char* event : kEvents)
    SQLX_RETURN_IF_ERROR(RunDdl(session, "DROP TRIGGER IF EXISTS " + QuoteIdentifier(FenceName(s, event)), options));
  return Status::Ok();
}

// After Replace failed (still under the lock): the fences go when the table
// carries a consistent set without them, either every original and no
// twin (the replacement's work is done) or every twin and no original
// (nothing of it done; originals made before the failure are dropped again
// when every twin is there): each write then fires each trigger once, and
// a retry would only meet the same error with writes refused meanwhile.
// Otherwise (some originals, not every twin) the fences stay until a retry
// finishes the replacement.
void LowerFencesIfConsistent(Session& session, const MigrationState& s, const OnlineOptions& options) {
  auto where = WhereTriggers(session, s);
  if (!where.ok()) return;
  size_t originals = 0, twins = 0;
  for (const TableTrigger& t : s.triggers) {
    auto it = where->find(t.name);
    originals += it != where->end() && it->second == s.table;
  }
  for (size_t i = 0; i < s.triggers.size(); ++i) {
    auto it = where->find(s.TwinName(i));
    twins += it != where->end() && it->second == s.table;
  }
  const size_t n = s.triggers.size();
  if (twins == n && originals > 0) {
    for (const TableTrigger& t : s.triggers) {
      auto it = where->find(t.name);
      if (it == where->end() || it->second != s.table) continue;
      if (!RunDdl(session, "DROP TRIGGER IF EXISTS " + QuoteIdentifier(t.name), options).ok()) return;
    }
    originals = 0;
  }
  if (!((originals == n && twins == 0) || (originals == 0 && twins == n))) return;
  for (const char* event : kEvents)
    (void)RunDdl(session, "DROP TRIGGER IF EXISTS " + QuoteIdentifier(FenceName(s, event)), options);
}

}  // namespace

Result<std::vector<TableTrigger>> ReadTableTriggers(Session& session, const std::string& database,
                                                    const std::string& table) {
  SQLX_ASSIGN_OR_RETURN(
      std::vector<Row> rows,
      Rows(session, "SELECT TRIGGER_NAME, ACTION_TIMING, EVENT_MANIPULATION, DEFINER, SQL_MODE, COLLATION_CONNECTION, "
                    "ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = " +
                        QuoteString(database) + " AND EVENT_OBJECT_TABLE = " + QuoteString(table) +
                        " AND TRIGGER_NAME NOT LIKE '\\_sqlx\\_%' ORDER BY ACTION_TIMING = 'AFTER', "
                        "FIELD(EVENT_MANIPULATION, 'INSERT', 'UPDATE', 'DELETE'), ACTION_ORDER"));
  std::vector<TableTrigger> out;
  for (const Row& r : rows) {
    TableTrigger t{r[0].value_or(""), r[1].value_or(""), r[2].value_or(""), r[3].value_or(""),
                   r[4].value_or(""), r[5].value_or(""), r[6].value_or(""), ""};
    SQLX_ASSIGN_OR_RETURN(std::vector<Row> shown,
                          Rows(session, "SHOW CREATE TRIGGER " + QuoteIdentifier(database) + "." + QuoteIdentifier(t.name)));
    if (shown.empty() || shown[0].size() < 3 || !shown[0][2])
      return MakeError(ErrorCode::kUnsupported, "SHOW CREATE TRIGGER " + QuoteIdentifier(t.name) +
                                                    " shows no statement: the account needs the TRIGGER privilege");
    t.statement = *shown[0][2];
    out.push_back(std::move(t));
  }
  return out;
}

Status InstallTwins(Session& session, const MigrationState& s, const std::string& table, const OnlineOptions& options) {
  SQLX_RETURN_IF_ERROR(DropTwins(session, s, options));
  for (size_t i = 0; i < s.triggers.size(); ++i) {
    const TableTrigger& t = s.triggers[i];
    std::string body = t.body;
    while (!body.empty() && (body.back() == ' ' || body.back() == '\n' || body.back() == '\t' || body.back() == '\r'))
      body.pop_back();
    const std::string sql = "CREATE DEFINER=" + Definer(t.definer) + " TRIGGER " + QuoteIdentifier(s.TwinName(i)) +
                            " " + t.timing + " " + t.event + " ON " + QuoteIdentifier(table) +
                            " FOR EACH ROW IF NOT (" + s.CaptureMark() + " <=> NOW(6)) THEN " + body + "; END IF";
    SQLX_RETURN_IF_ERROR(CreateUnder(session, t, sql, options));
  }
  return Status::Ok();
}

Status DropTwins(Session& session, const MigrationState& s, const OnlineOptions& options) {
  for (size_t i = 0; i < s.triggers.size(); ++i)
    SQLX_RETURN_IF_ERROR(RunDdl(session, "DROP TRIGGER IF EXISTS " + QuoteIdentifier(s.TwinName(i)), options));
  return Status::Ok();
}

Status SettleTriggers(Session& session, const MigrationState& s, const std::string& away, const OnlineOptions& options) {
  if (s.triggers.empty()) return Status::Ok();
  SQLX_ASSIGN_OR_RETURN(auto where, WhereTriggers(session, s));
  // Tables nobody writes: the one that went away and the migration's own
  // (the shadow before a cut-over, the old table before a revert's swap).
  auto unwritten = [&](const std::string& table) {
    return table != s.table && (table == away || table == s.ShadowTable() || table == s.OldTable());
  };
  // The originals left on the table that went away: nothing writes it now,
  // and their names are needed on the table.
  for (const TableTrigger& t : s.triggers) {
    auto it = where.find(t.name);
    if (it != where.end() && unwritten(it->second)) {
      SQLX_RETURN_IF_ERROR(RunDdl(session, "DROP TRIGGER IF EXISTS " + QuoteIdentifier(t.name), options));
      where.erase(it);
    }
  }
  // Twins on a table other than the table (a crash between InstallTwins and
  // the swap, or in the preparation's trial) go before the lock: they fire
  // for nobody, and under LOCK TABLES table WRITE no other table's
  // triggers can be dropped.
  for (size_t i = 0; i < s.triggers.size(); ++i) {
    auto it = where.find(s.TwinName(i));
    if (it != where.end() && it->second != s.table) {
      SQLX_RETURN_IF_ERROR(RunDdl(session, "DROP TRIGGER IF EXISTS " + QuoteIdentifier(s.TwinName(i)), options));
      where.erase(it);
    }
  }
  // Only twins or fences on the table show a replacement to finish (it
  // raises the fences first and lowers them last); without them the
  // table's triggers are the application's own, whatever they are now (one
  // dropped since the start is not made again).
  bool settled = true;
  for (size_t i = 0; i < s.triggers.size(); ++i) settled = settled && where.count(s.TwinName(i)) == 0;
  for (const char* event : kEvents) settled = settled && where.count(FenceName(s, event)) == 0;
  if (settled) return Status::Ok();
  // Writers wait for the lock; the table's twins fire for them until then.
  SQLX_RETURN_IF_ERROR(RunDdl(session, "LOCK TABLES " + QuoteIdentifier(s.table) + " WRITE", options));
  Status st = Replace(session, s, where, options);
  if (!st.ok()) LowerFencesIfConsistent(session, s, options);
  Status unlocked = Exec(session, "UNLOCK TABLES");
  return st.ok() ? unlocked : st;
}

// How the table's triggers `now` differ from those recorded (`was`), in a
// few words ("" when they are the same, in the same order).
std::string TriggerChange(const std::vector<TableTrigger>& was, const std::vector<TableTrigger>& now) {
  auto find = [](const std::vector<TableTrigger>& list, const std::string& name) -> const TableTrigger* {
    for (const TableTrigger& t : list)
      if (t.name == name) return &t;
    return nullptr;
  };
  std::string out;
  auto add = [&](const std::string& what) { out += (out.empty() ? "" : ", ") + what; };
  for (const TableTrigger& t : now)
    if (find(was, t.name) == nullptr) add("trigger " + Q(t.name) + " created");
  for (const TableTrigger& t : was) {
    const TableTrigger* n = find(now, t.name);
    if (n == nullptr) {
      add("trigger " + Q(t.name) + " dropped");
    } else if (n->timing != t.timing || n->event != t.event || n->definer != t.definer ||
               n->sql_mode != t.sql_mode || n->collation != t.collation || n->body != t.body ||
               n->statement != t.statement) {
      add("trigger " + Q(t.name) + " redefined");
    }
  }
  if (out.empty()) {
    for (size_t i = 0; i < was.size() && i < now.size(); ++i)
      if (was[i].name != now[i].name) return "the triggers' order changed";
  }
  return out;
}

}  // namespace sqlx::planner::online
