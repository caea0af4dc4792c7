// A writer for online-migration tests: it changes a table and a control
// table the same way, one transaction each, while a migration runs (the
// migrated table must end equal to the control), and compares the two.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "fleet_databases.h"
#include "schema_fixtures.h"
#include "sqlx/transports/session.h"
#include "sqlx/transports/url.h"
#include "test_env.h"

namespace sqlx::testing {

inline int64_t WriterNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Rows are numbered n = 1, 2, ...; a simple key is id = n, a composite one
// (a, b) = (n / 10, 'b' + n % 10).
struct KeyStyle {
  bool composite = false;
  std::string Where(uint64_t n) const {
    return composite ? "a = " + std::to_string(n / 10) + " AND b = 'b" + std::to_string(n % 10) + "'"
                     : "id = " + std::to_string(n);
  }
  std::string Assign(uint64_t n) const {
    return composite ? "a = " + std::to_string(n / 10) + ", b = 'b" + std::to_string(n % 10) + "'"
                     : "id = " + std::to_string(n);
  }
  std::string InsertColumns() const { return composite ? "(a, b, k, v)" : "(id, k, v)"; }
  std::string InsertKey(uint64_t n) const {
    return composite ? std::to_string(n / 10) + ", 'b" + std::to_string(n % 10) + "'" : std::to_string(n);
  }
  std::string Join() const { return composite ? "x.a = y.a AND x.b = y.b" : "x.id = y.id"; }
  std::string Null() const { return composite ? "y.a IS NULL" : "y.id IS NULL"; }
};

// Writes to `db`.t and `control`.t in one transaction each: inserts,
// updates, deletes and key-changing updates. Records its longest stalls.
// `port`: the MariaDB on 127.0.0.1 (0: the shared one); `pace`: a pause
// after each transaction (0: none).
class Writer {
 public:
  Writer(std::string db, std::string control, KeyStyle key, uint64_t rows, int port = 0,
         std::chrono::milliseconds pace = std::chrono::milliseconds(0))
      : db_(std::move(db)),
        control_(std::move(control)),
        key_(key),
        next_(rows + 1),
        max_(rows),
        port_(port),
        pace_(pace) {}
  ~Writer() { Stop(); }
  // Also writes `column` (a key of t to itself on id; simple keys only):
  // inserts and updates point it at a random row, which may come later in
  // key order or be gone (the write then fails on both tables).
  void ReferToRows(std::string column) { parent_ = std::move(column); }

  void Start() {
    stop_ = false;
    thread_ = std::thread([this] { Loop(); });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  struct Stall {
    int64_t start_ns, ms;
  };
  // Stalls over `ms` that do not overlap [from_ns, to_ns] (with 200 ms slack).
  std::vector<Stall> StallsOutside(int64_t ms, int64_t from_ns, int64_t to_ns) const {
    std::vector<Stall> out;
    for (const Stall& s : stalls_) {
      const int64_t end = s.start_ns + s.ms * 1000000;
      const bool overlaps = from_ns > 0 && end >= from_ns - 200000000 && s.start_ns <= to_ns + 200000000;
      if (s.ms > ms && !overlaps) out.push_back(s);
    }
    return out;
  }
  uint64_t commits() const { return commits_; }
  // Server error codes the writer's statements got, with their counts.
  std::string Errors() const {
    std::string out;
    for (const auto& [code, n] : errors_) out += std::to_string(code) + "x" + std::to_string(n) + " ";
    return out;
  }
  uint64_t rollbacks() const { return rollbacks_; }
  std::string failure() const { return failure_; }

 private:
  void Loop() {
    std::string at = testing::MariaDbUrl("root", testing::MariaDbRootPassword(), "", "");
    if (port_ != 0) at = at.substr(0, at.rfind(':') + 1) + std::to_string(port_) + "/";
    auto url = transports::ParseConnectionUrl(at);
    if (!url.ok()) {
      failure_ = url.error().ToString();
      return;
    }
    auto session = transports::Session::Open(*url, {});
    if (!session.ok()) {
      failure_ = session.error().ToString();
      return;
    }
    std::mt19937_64 rng(WriterNowNs());
    while (!stop_) {
      const uint64_t pick = rng() % max_ + 1;
      std::string statement;
      switch (rng() % 4) {
        case 0: {
          const uint64_t n = next_++;
          max_ = std::max(max_, n);
          std::string columns = key_.InsertColumns(), parent;
          if (!parent_.empty()) {
            columns.insert(columns.size() - 1, ", " + parent_);
            parent = ", " + std::to_string(rng() % max_ + 1);
          }
          statement = "INSERT INTO {T} " + columns + " VALUES (" + key_.InsertKey(n) + ", " +
                      std::to_string(rng() % 1000) + ", 'w" + std::to_string(n) + "'" + parent + ")";
          break;
        }
        case 1:
          statement = "UPDATE {T} SET k = k + 1, v = 'u" + std::to_string(rng() % 100000) + "'" +
                      (parent_.empty() || rng() % 2 == 0 ? "" : ", " + parent_ + " = " + std::to_string(rng() % max_ + 1)) +
                      " WHERE " + key_.Where(pick);
          break;
        case 2:
          statement = "DELETE FROM {T} WHERE " + key_.Where(pick);
          break;
        default: {
          const uint64_t n = next_++;
          max_ = std::max(max_, n);
          statement = "UPDATE {T} SET " + key_.Assign(n) + " WHERE " + key_.Where(pick);
        }
      }
      const int64_t start = WriterNowNs();
      bool ok = (*session)->Execute("START TRANSACTION").ok();
      for (const std::string& db : {db_, control_}) {
        std::string s = statement;
        s.replace(s.find("{T}"), 3, "`" + db + "`.t");
        if (!ok) break;
        auto done = (*session)->Execute(s);
        if (!done.ok()) {
          ok = false;
          if (errors_[done.error().server_code]++ == 0)
            messages_ += done.error().ToString() + " | " + s + "\n";
        }
      }
      ok = ok && (*session)->Execute("COMMIT").ok();
      if (!ok) {
        if (!(*session)->usable()) {
          failure_ = "the writer's session broke";
          return;
        }
        (void)(*session)->Execute("ROLLBACK");
        ++rollbacks_;
      } else {
        ++commits_;
      }
      const int64_t ms = (WriterNowNs() - start) / 1000000;
      if (ms > 200) stalls_.push_back({start, ms});
      if (pace_.count() > 0) std::this_thread::sleep_for(pace_);
    }
  }

  std::string db_, control_;
  KeyStyle key_;
  std::atomic<uint64_t> next_;
  uint64_t max_;
  int port_;
  std::chrono::milliseconds pace_;
  std::string parent_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::vector<Stall> stalls_;
  std::atomic<uint64_t> commits_{0}, rollbacks_{0};
  std::map<int, int> errors_;
 public:
  std::string messages_;
  std::string failure_;
};

// Rows of db.t and control.t that differ on the columns both keep, on the
// MariaDB at `port` (0: the shared one).
inline uint64_t RowsDiffering(const std::string& db, const std::string& control, const KeyStyle& key, int port = 0) {
  const std::string same = "x.k <=> y.k AND x.v <=> y.v";
  const std::string a = "`" + db + "`.t", b = "`" + control + "`.t";
  const std::string sql = "SELECT (SELECT COUNT(*) FROM " + a + " x LEFT JOIN " + b + " y ON " + key.Join() +
                          " WHERE " + key.Null() + " OR NOT (" + same + ")) + (SELECT COUNT(*) FROM " + b +
                          " x LEFT JOIN " + a + " y ON " + key.Join() + " WHERE " + key.Null() + ")";
  return std::strtoull((port != 0 ? RootSqlAt(port, sql) : RootSql(sql)).c_str(), nullptr, 10);
}

}  // namespace sqlx::testing
