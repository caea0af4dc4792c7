#include "connect_args.h"

#include <cstdlib>
#include <cstring>

namespace sqlx::cli {

Result<transports::ConnectionUrl> ResolveConnection(const ConnectArgs& args) {
  std::string raw = args.url;
  if (raw.empty()) {
    const char* env = std::getenv("SQLX_URL");
    if (env == nullptr || *env == '\0') {
      return MakeError(ErrorCode::kInvalidArgument,
                       "no connection URL: pass mysql://user@host:port[/db] or set SQLX_URL");
    }
    raw = env;
  }
  auto url = transports::ParseConnectionUrl(raw);
  if (!url.ok()) return url.error();
  if (!url->password_in_url) {
    if (const char* pw = std::getenv("SQLX_PASSWORD"); pw != nullptr) url->password = pw;
  }
  if (!args.db.empty()) {
    if (!url->database.empty() && url->database != args.db) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "the URL names database '" + url->database + "' but --db says '" + args.db +
                           "': give one of them");
    }
    url->database = args.db;
  }
  return url;
}

bool BlankUrlPasswords(int argc, char** argv) {
  bool found = false;
  for (int i = 1; i < argc; ++i) {
    char* arg = argv[i];
    char* scheme_end = std::strstr(arg, "://");
    if (scheme_end == nullptr) continue;
    char* auth = scheme_end + 3;
    char* slash = std::strchr(auth, '/');
    char* at = nullptr;
    for (char* p = auth; *p != '\0' && (slash == nullptr || p < slash); ++p)
      if (*p == '@') at = p;
    if (at == nullptr) continue;
    char* colon = std::strchr(auth, ':');
    if (colon == nullptr || colon > at) continue;
    for (char* p = colon + 1; p < at; ++p) *p = '*';
    found = found || colon + 1 < at;
  }
  return found;
}

}  // namespace sqlx::cli
