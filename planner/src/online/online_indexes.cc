#include "online_indexes.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "online_catalog.h"
#include "online_engine.h"
#include "sqlx/transports/session.h"

namespace sqlx::planner::online {

using transports::Session;

std::string IndexClauseName(const std::string& clause) {
  size_t at = clause.find('`');
  return at == std::string::npos ? std::string() : UnquoteAt(clause, &at);
}

namespace {

// The index lines of SHOW CREATE TABLE, in its order, without indent or
// trailing comma: "PRIMARY KEY (`id`)", "UNIQUE KEY `u` (`c`)", "KEY `k` (`a`)", ...
Result<std::vector<std::string>> IndexLines(Session& session, const std::string& table) {
  SQLX_ASSIGN_OR_RETURN(std::vector<Row> rows, Rows(session, "SHOW CREATE TABLE " + Q(table)));
  if (rows.empty() || rows[0].size() < 2 || !rows[0][1])
    return MakeError(ErrorCode::kInternal, "SHOW CREATE TABLE " + Q(table) + " returned nothing");
  const std::string& create = *rows[0][1];
  std::vector<std::string> out;
  for (size_t line = 0; line < create.size();) {
    size_t end = create.find('\n', line);
    if (end == std::string::npos) end = create.size();
    std::string text = create.substr(line, end - line);
    line = end + 1;
    const size_t p = text.find_first_not_of(' ');
    if (p == std::string::npos) continue;
    text.erase(0, p);
    if (!text.empty() && text.back() == ',') text.pop_back();
    for (const char* head : {"PRIMARY KEY ", "UNIQUE KEY ", "KEY ", "FULLTEXT KEY ", "SPATIAL KEY "})
      if (text.rfind(head, 0) == 0) {
        out.push_back(text);
        break;
      }
  }
  return out;
}

// The column lists of the foreign keys `table` has.
Result<std::vector<std::vector<std::string>>> ForeignKeyColumns(Session& session, const MigrationState& s,
                                                                const std::string& table) {
  SQLX_ASSIGN_OR_RETURN(std::vector<Row> rows,
                        Rows(session, "SELECT CONSTRAINT_NAME, COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE "
                                      "WHERE " + InSchema(s.database, table) +
                                          " AND REFERENCED_TABLE_NAME IS NOT NULL ORDER BY CONSTRAINT_NAME, "
                                          "ORDINAL_POSITION"));
  std::map<std::string, std::vector<std::string>> by_name;
  for (const Row& r : rows) by_name[r[0].value_or("")].push_back(r[1].value_or(""));
  std::vector<std::vector<std::string>> out;
  for (auto& [name, columns] : by_name) out.push_back(std::move(columns));
  return out;
}

std::string AddClauses(const std::vector<std::string>& clauses) {
  std::string out;
  for (const std::string& c : clauses) out += (out.empty() ? "ADD " : ", ADD ") + c;
  return out;
}

}  // namespace

Status DeferIndexes(Session& session, MigrationState& s, const OnlineOptions& options) {
  s.deferred_indexes.clear();
  const std::string shadow = s.ShadowTable();
  SQLX_ASSIGN_OR_RETURN(std::vector<std::string> lines, IndexLines(session, shadow));
  SQLX_ASSIGN_OR_RETURN(std::vector<IndexInfo> indexes, ReadIndexes(session, s.database, shadow));
  SQLX_ASSIGN_OR_RETURN(std::vector<ColumnInfo> columns, ReadColumns(session, s.database, shadow));
  SQLX_ASSIGN_OR_RETURN(auto fk_columns, ForeignKeyColumns(session, s, shadow));
  auto starts_with = [](const std::vector<std::string>& columns_of, const std::vector<std::string>& head) {
    return columns_of.size() >= head.size() && std::equal(head.begin(), head.end(), columns_of.begin());
  };
  // A plain index stays on the copy when the copy needs it: it starts with
  // the chunk key (the chunks, the compare and every captured write find
  // their rows through it), it leads with the AUTO_INCREMENT column (the
  // server requires a key there), or its first columns are a foreign
  // key's (the key may need it).
  auto stays = [&](const std::string& name) {
    auto it = std::find_if(indexes.begin(), indexes.end(), [&](const IndexInfo& i) { return i.name == name; });
    if (it == indexes.end() || name == s.key_index || it->columns.empty()) return true;
    if (starts_with(it->columns, s.key_columns)) return true;
    const ColumnInfo* first = FindColumn(columns, it->columns.front());
    if (first == nullptr || first->extra.find("auto_increment") != std::string::npos) return true;
    return std::any_of(fk_columns.begin(), fk_columns.end(),
                       [&](const std::vector<std::string>& fk) { return starts_with(it->columns, fk); });
  };
  // The tail of plain indexes after the last one that stays. The server
  // sorts unique keys before plain ones and full-text keys last, so those
  // do not break the tail; a SPATIAL key (kept) is sorted among the plain
  // ones, so it does, as anything else does.
  std::vector<std::string> tail;
  for (const std::string& line : lines) {
    if (line.rfind("PRIMARY KEY ", 0) == 0 || line.rfind("UNIQUE KEY ", 0) == 0 ||
        line.rfind("FULLTEXT KEY ", 0) == 0)
      continue;
    const std::string name = line.rfind("KEY ", 0) == 0 ? IndexClauseName(line) : std::string();
    if (name.empty() || stays(name)) tail.clear();
    else tail.push_back(line);
  }
  if (tail.empty()) return Status::Ok();
  std::string drops;
  for (const std::string& clause : tail) drops += (drops.empty() ? "DROP INDEX " : ", DROP INDEX ") + Q(IndexClauseName(clause));
  if (auto dropped = Run(session, "ALTER TABLE " + Q(shadow) + " " + drops); !dropped.ok()) {
    // The server keeps them for a reason of its own: built with the copy.
    return dropped.error().server_code == 0 ? Status(dropped.error()) : Status::Ok();
  }
  // The server must build them online later: tried now, on the empty table.
  const std::string add = "ALTER TABLE " + Q(shadow) + " " + AddClauses(tail) + ", ALGORITHM=INPLACE, LOCK=NONE";
  auto tried = Run(session, add);
  if (!tried.ok()) {
    // Not online (or not at all as written): they are built with the copy.
    return tried.error().server_code == 0 ? Status(tried.error())
                                          : RunDdl(session, "ALTER TABLE " + Q(shadow) + " " + AddClauses(tail), options);
  }
  SQLX_RETURN_IF_ERROR(RunDdl(session, "ALTER TABLE " + Q(shadow) + " " + drops, options));
  s.deferred_indexes = tail;
  return Status::Ok();
}

namespace {

// The deferred index clauses the shadow lacks.
Result<std::vector<std::string>> MissingIndexes(Session& session, const MigrationState& s) {
  SQLX_ASSIGN_OR_RETURN(std::vector<IndexInfo> indexes, ReadIndexes(session, s.database, s.ShadowTable()));
  std::vector<std::string> missing;
  for (const std::string& clause : s.deferred_indexes) {
    const std::string name = IndexClauseName(clause);
    if (std::none_of(indexes.begin(), indexes.end(), [&](const IndexInfo& i) { return i.name == name; }))
      missing.push_back(clause);
  }
  return missing;
}

std::vector<std::string> Names(const std::vector<std::string>& clauses) {
  std::vector<std::string> names;
  for (const std::string& clause : clauses) names.push_back(IndexClauseName(clause));
  return names;
}

std::string OnlineAdd(const MigrationState& s, const std::vector<std::string>& clauses) {
  return "ALTER TABLE " + Q(s.ShadowTable()) + " " + AddClauses(clauses) + ", ALGORITHM=INPLACE, LOCK=NONE";
}

// What a build (beside the copy or after it) is to make: the deferred
// indexes the shadow lacks, once the builds a dead run left are killed, and
// its migration.indexing event's details.
struct Build {
  std::vector<std::string> missing;
  nlohmann::json event;
};
Result<Build> NextBuild(Session& session, const MigrationState& s) {
  Build b;
  SQLX_ASSIGN_OR_RETURN(uint64_t killed, KillLeftoverBuilds(session, s));
  SQLX_ASSIGN_OR_RETURN(b.missing, MissingIndexes(session, s));
  b.event = nlohmann::json{{"indexes", Names(b.missing)}};
  if (killed > 0) b.event["killed_leftover_builds"] = killed;
  return b;
}

}  // namespace

Status BuildDeferredIndexes(Session& session, MigrationState& s, const OnlineOptions& options,
                            MigrationObserver& observer, const std::string& earlier_failure) {
  if (s.deferred_indexes.empty()) return Status::Ok();
  SQLX_ASSIGN_OR_RETURN(Build build, NextBuild(session, s));
  if (build.missing.empty()) return Status::Ok();
  if (!earlier_failure.empty()) build.event["beside_copy_failed"] = earlier_failure;
  observer.Event(s, "migration.indexing", nullptr, build.event.dump());
  Status built = RunDdl(session, OnlineAdd(s, build.missing), options);
  if (built.ok()) return built;
  Error e = built.error();
  e.message = "building the index(es) " + Columns(Names(build.missing)) + " of the copy " + Q(s.ShadowTable()) + " failed (" +
              e.message + "); `sqlx migrations resume " + s.id + "` builds them again, `sqlx migrations finalize " +
              s.id + "` abandons the migration";
  return e;
}

namespace {

// The bytes the online log of building the largest of `clauses` may need
// for `rows` rows (InnoDB keeps one log per index): per row, the index's
// entry at its columns' longest (a prefix at its length), the table's key
// appended as InnoDB does, twice (the writers' changes come on top).
Result<double> LogBytesUpperBound(Session& session, const MigrationState& s, const std::vector<std::string>& clauses,
                                  uint64_t rows) {
  SQLX_ASSIGN_OR_RETURN(std::vector<Row> columns,
                        Rows(session, "SELECT c.COLUMN_NAME, IFNULL(c.CHARACTER_OCTET_LENGTH, 32), IFNULL(cs.MAXLEN, 1) "
                                      "FROM information_schema.COLUMNS c LEFT JOIN information_schema.CHARACTER_SETS cs "
                                      "ON cs.CHARACTER_SET_NAME = c.CHARACTER_SET_NAME WHERE " +
                                          InSchema(s.database, s.ShadowTable())));
  struct Length {
    double bytes = 32, per_char = 1;
  };
  std::map<std::string, Length> length;
  for (const Row& c : columns) {
    Length l;
    l.bytes = std::strtod(c[1].value_or("32").c_str(), nullptr);
    l.per_char = std::max(1.0, std::strtod(c[2].value_or("1").c_str(), nullptr));  // the character set's longest
    length[c[0].value_or("")] = l;
  }
  double key = 0;
  for (const std::string& k : s.key_columns) key += length[k].bytes;
  double largest = 0;
  for (const std::string& clause : clauses) {
    double entry = key + 8;
    // The backquoted names in the clause's column list (after its name),
    // each maybe with a prefix length: `c`(10).
    size_t pos = clause.find('`');
    (void)UnquoteAt(clause, &pos);
    const size_t open = clause.find('(', pos), close = clause.rfind(')');
    for (pos = clause.find('`', open); open != std::string::npos && pos < close; pos = clause.find('`', pos)) {
      const Length l = length[UnquoteAt(clause, &pos)];
      double bytes = l.bytes;
      if (pos < clause.size() && clause[pos] == '(') bytes = std::min(bytes, l.per_char * std::strtod(clause.c_str() + pos + 1, nullptr));
      entry += bytes;
    }
    largest = std::max(largest, entry);
  }
  return 2.0 * static_cast<double>(rows) * largest;
}

}  // namespace

// Kills the builds of s's shadow another session left running (a run of the
// migration that died: the server goes on with its ALTER), and waits until
// they are gone. Sessions of other accounts cannot be killed: left as they are.
Result<uint64_t> KillLeftoverBuilds(Session& session, const MigrationState& s) {
  const std::string prefix = "ALTER TABLE " + Q(s.ShadowTable()) + " ADD ";
  const std::string query = "SELECT ID FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND DB = " +
                            QuoteString(s.database) + " AND LEFT(INFO, " + std::to_string(prefix.size()) +
                            ") = " + QuoteString(prefix);
  SQLX_ASSIGN_OR_RETURN(std::vector<Row> found, Rows(session, query));
  std::string killed;  // their ids, "a, b"
  uint64_t n = 0;
  for (const Row& r : found) {
    const std::string id = r[0].value_or("0");
    if (!Run(session, "KILL QUERY " + id).ok()) continue;
    killed += (killed.empty() ? "" : ", ") + id;
    ++n;
  }
  // Until those are gone (a killed ALTER holds the shadow while it rolls back).
  for (int i = 0; n > 0 && i < 300 && !found.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    SQLX_ASSIGN_OR_RETURN(found, Rows(session, query + " AND ID IN (" + killed + ")"));
  }
  return n;
}

void IndexBuildBeside::StartWhenDue(MigrationState& s, const OnlineOptions& options, MigrationObserver& observer) {
  if (started_ || !options.open_session || options.index_build_at > 1 || s.deferred_indexes.empty() ||
      s.rows_estimate == 0 ||
      static_cast<double>(s.rows_copied) < options.index_build_at * static_cast<double>(s.rows_estimate))
    return;
  started_ = true;
  open_session_ = options.open_session;
  auto start = [&]() -> Status {
    SQLX_ASSIGN_OR_RETURN(Build build, NextBuild(copy_, s));
    const std::vector<std::string>& missing = build.missing;
    if (missing.empty()) return Status::Ok();
    const uint64_t left = s.rows_estimate > s.rows_copied ? s.rows_estimate - s.rows_copied : 0;
    SQLX_ASSIGN_OR_RETURN(double need, LogBytesUpperBound(copy_, s, missing, left));
    SQLX_ASSIGN_OR_RETURN(uint64_t limit, Number(copy_, "SELECT @@innodb_online_alter_log_max_size"));
    if (need > static_cast<double>(limit))
      return MakeError(ErrorCode::kLimit, "its online log could need " + std::to_string(static_cast<uint64_t>(need / 1048576)) +
                                              " MiB for the rows left to copy, over innodb_online_alter_log_max_size (" +
                                              std::to_string(limit >> 20) + " MiB)");
    SQLX_ASSIGN_OR_RETURN(session_, open_session_());
    OnlineOptions beside = options;
    // Longer than the copy's row-lock waits (below): in a cycle of the
    // ALTER, a chunk and a writer, the chunk gives way first.
    beside.cutover_lock_wait_seconds = std::max(1, options.cutover_lock_wait_seconds) + 1;
    lock_wait_seconds_ = beside.cutover_lock_wait_seconds;
    SQLX_RETURN_IF_ERROR(SetUp(*session_, s, beside));
    SQLX_ASSIGN_OR_RETURN(connection_id_, Number(*session_, "SELECT CONNECTION_ID()"));
    SQLX_ASSIGN_OR_RETURN(saved_lock_wait_, Number(copy_, "SELECT @@SESSION.innodb_lock_wait_timeout"));
    SQLX_RETURN_IF_ERROR(Exec(copy_, "SET SESSION innodb_lock_wait_timeout = 1"));
    short_lock_waits_ = true;
    build.event["beside_copy"] = true;
    build.event["rows_copied"] = s.rows_copied;
    observer.Event(s, "migration.indexing", nullptr, build.event.dump());
    in_statement_ = true;  // until the thread's first attempt is answered: the copy waits for it to begin
    thread_ = std::thread([this, sql = OnlineAdd(s, missing), beside] {
      result_ = RunDdl(*session_, sql, beside, &in_statement_, &stop_);
      in_statement_ = false;
      done_ = true;
    });
    return Status::Ok();
  };
  if (Status st = start(); !st.ok()) {
    failure_ = st.error().ToString();
    session_.reset();
  }
}

Result<bool> IndexBuildBeside::WaitForTurn(MigrationObserver& observer) {
  // Longer than one of the ALTER's metadata-lock waits.
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(std::max(30, lock_wait_seconds_ + 10));
  while (running() && !done_) {
    if (observer.StopRequested()) return false;
    if (!in_statement_) return true;  // between two attempts
    auto rows = Rows(copy_, "SELECT COMMAND, STATE FROM information_schema.PROCESSLIST WHERE ID = " +
                                std::to_string(connection_id_));
    if (!rows.ok()) {
      if (!copy_.usable()) return rows.error();  // the copy's own error
      Stop();
      failure_ = "its state could not be read (" + rows.error().ToString() + ")";
      return true;
    }
    if (rows->empty()) return true;  // its session is gone: the thread ends with the error
    // "Sleep" with a statement under way: the ALTER is on its way to the server.
    const std::string state = (*rows)[0][1].value_or("");
    if ((*rows)[0][0].value_or("") != "Sleep" && state == "altering table") return true;
    if (std::chrono::steady_clock::now() > give_up) {
      Stop();
      failure_ = "stopped after " + std::to_string(std::max(30, lock_wait_seconds_ + 10)) +
                 " s out of its online phase (state '" + state + "')";
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  RestoreLockWaits();  // built (or failed): the copy's waits as before
  return true;
}

std::string IndexBuildBeside::Finish() {
  if (thread_.joinable()) {
    thread_.join();
    if (!result_.ok() && failure_.empty()) failure_ = result_.error().ToString();
  }
  Ended();
  return failure_;
}

void IndexBuildBeside::Stop() {
  if (!thread_.joinable()) return;
  stop_ = true;
  // A kill that reaches the server before the ALTER does is lost (the next
  // statement clears it): sent again, for up to 10 s, until the build ends.
  std::unique_ptr<Session> own;
  for (int i = 0; i < 100 && !done_; ++i) {
    Session* via = &copy_;
    if (!copy_.usable()) {
      if (own == nullptr && open_session_) {
        auto opened = open_session_();
        if (opened.ok()) own = std::move(opened).value();
      }
      via = own.get();
    }
    if (via != nullptr) (void)Run(*via, "KILL QUERY " + std::to_string(connection_id_));
    for (int w = 0; w < 10 && !done_; ++w) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  thread_.join();
  if (failure_.empty()) failure_ = result_.ok() ? std::string() : result_.error().ToString();
  Ended();
}

void IndexBuildBeside::Ended() {
  session_.reset();
  RestoreLockWaits();
}

void IndexBuildBeside::RestoreLockWaits() {
  if (!short_lock_waits_ || !copy_.usable()) return;
  short_lock_waits_ = false;
  (void)Exec(copy_, "SET SESSION innodb_lock_wait_timeout = " + std::to_string(saved_lock_wait_));
}

}  // namespace sqlx::planner::online
