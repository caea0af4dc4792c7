// A MigrationObserver for the online engine's API tests: the last
// checkpoint, and each event (its name and details, in order); and a root
// session on the test MariaDB.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mariadb_session.h"
#include "sqlx/planner/online.h"
#include "test_env.h"

namespace sqlx::testing {

class MigrationRecorder : public planner::MigrationObserver {
 public:
  Status Checkpoint(const planner::MigrationState& state) override {
    last = state;
    return Status::Ok();
  }
  void Event(const planner::MigrationState&, std::string_view event, const Error*,
             const std::string& event_details) override {
    events.emplace_back(event);
    details.push_back(event_details);
  }
  size_t Count(const std::string& event) const {
    size_t n = 0;
    for (const std::string& e : events) n += e == event ? 1 : 0;
    return n;
  }
  // The details of each `event`, in order.
  std::vector<std::string> DetailsOf(const std::string& event) const {
    std::vector<std::string> out;
    for (size_t i = 0; i < events.size(); ++i)
      if (events[i] == event) out.push_back(details[i]);
    return out;
  }
  void Clear() {
    events.clear();
    details.clear();
  }
  planner::MigrationState last;
  std::vector<std::string> events;   // names
  std::vector<std::string> details;  // details[i]: events[i]'s (JSON)
};

// A root session on the test MariaDB with `db` as its default database.
inline std::unique_ptr<transports::Session> RootSession(const std::string& db) {
  return MustOpen(Url("root", MariaDbRootPassword(), db));
}

}  // namespace sqlx::testing
