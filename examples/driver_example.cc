// The C++ driver in a few lines (docs/driver.md): connect to $SQLX_URL,
// ping, snapshot the database named by argv[1], show its profile hash and
// the start of its rendered SQL, and diff it against itself.
//
//   SQLX_URL=mysql://app@127.0.0.1:3306 SQLX_PASSWORD=... driver_example shop
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>

#include "sqlx/driver.h"

namespace {

int Fail(const sqlx::Error& error) {
  std::cerr << "driver_example: " << error.ToString() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  const char* url = std::getenv("SQLX_URL");
  if (url == nullptr || argc != 2) {
    std::cerr << "usage: SQLX_URL=mysql://user@host:port [SQLX_PASSWORD=...] driver_example DATABASE\n";
    return 2;
  }
  auto driver = sqlx::CreateDriver(url);  // the password: from the URL, else $SQLX_PASSWORD
  if (!driver.ok()) return Fail(driver.error());

  auto ping = (*driver)->Ping();
  if (!ping.ok()) return Fail(ping.error());
  std::cout << "server: " << ping->flavor << " " << ping->version << " (tls "
            << (ping->tls.active ? ping->tls.version : "off") << ", rtt " << ping->rtt.count() << " ms)\n";

  auto snapshot = (*driver)->Snapshot(argv[1]);
  if (!snapshot.ok()) return Fail(snapshot.error());
  std::cout << "profile hash: " << snapshot->profile_hash << "\n";

  const std::string script = (*driver)->RenderSql(snapshot->schema);
  std::cout << "rendered SQL: " << std::count(script.begin(), script.end(), '\n') << " lines\n";
  std::istringstream sql(script);
  std::string line;
  for (int shown = 0; shown < 5 && std::getline(sql, line);) {
    if (line.empty() || line.starts_with("/*!")) continue;  // the script's session settings
    std::cout << "  " << line << "\n";
    ++shown;
  }

  auto plan = (*driver)->Diff(snapshot->schema, snapshot->schema);
  if (!plan.ok()) return Fail(plan.error());
  std::cout << "operations: " << plan->operations.size() << "\n";

  (*driver)->Close();
  return 0;
}
