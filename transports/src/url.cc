#include "sqlx/transports/url.h"

#include <arpa/inet.h>

#include <cctype>
#include <charconv>

namespace sqlx::transports {

namespace {

Error Bad(std::string_view redacted, const std::string& what) {
  return MakeError(ErrorCode::kInvalidArgument,
                   "invalid connection URL '" + std::string(redacted) + "': " + what +
                       " (expected scheme://user[:password]@host[:port][/db][?ssl-mode=...])");
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool PercentDecode(std::string_view in, std::string* out) {
  out->clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      *out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    *out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

// The URL with the password part replaced, computed before full parsing so
// that even an error message never shows a password. It errs towards hiding:
// the user info ends at the last '@' before the query (as in the parser), or
// at any later '@' (a password may hold '?'); with no '@' at all, everything
// after the first ':' may be a password. No scheme: the user info starts at 0.
std::string RedactRaw(std::string_view url) {
  size_t scheme_end = url.find("://");
  size_t start = scheme_end == std::string_view::npos ? 0 : scheme_end + 3;
  size_t colon = url.find(':', start);
  if (colon == std::string_view::npos) return std::string(url);
  size_t query = url.find('?', start);
  size_t at = url.rfind('@', query);
  if (at == std::string_view::npos || at < start) at = url.rfind('@');
  if (at == std::string_view::npos || at < start) return std::string(url.substr(0, colon + 1)) + "***";
  if (colon > at) return std::string(url);  // the user info holds no ':'
  return std::string(url.substr(0, colon + 1)) + "***" + std::string(url.substr(at));
}

}  // namespace

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost" || host == "::1") return true;
  in_addr addr{};
  std::string h(host);
  if (inet_pton(AF_INET, h.c_str(), &addr) == 1) {
    return (ntohl(addr.s_addr) >> 24) == 127;
  }
  return false;
}

std::string ConnectionUrl::Endpoint() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return port == 0 ? h : h + ":" + std::to_string(port);
}

std::string ConnectionUrl::ConnectionName() const { return user + "@" + Endpoint(); }

std::string ConnectionUrl::Redacted() const {
  std::string out = scheme + "://" + user;
  if (password_in_url) out += ":***";
  out += "@" + Endpoint();
  if (!database.empty()) out += "/" + database;
  std::string q;
  if (tls_mode_explicit) q += "ssl-mode=" + std::string(TlsModeName(tls.mode));
  if (!tls.ca_file.empty()) q += std::string(q.empty() ? "" : "&") + "ssl-ca=" + tls.ca_file;
  if (!q.empty()) out += "?" + q;
  return out;
}

Result<ConnectionUrl> ParseConnectionUrl(std::string_view url) {
  const std::string redacted = RedactRaw(url);
  ConnectionUrl out;
  size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos || scheme_end == 0) return Bad(redacted, "missing scheme://");
  out.scheme = std::string(url.substr(0, scheme_end));
  for (char& c : out.scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string_view rest = url.substr(scheme_end + 3);

  std::string_view query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  // The last '@' ends the user info (a password may hold '@'); the first '/'
  // after it starts the database path.
  size_t at = rest.rfind('@');
  if (at == std::string_view::npos) return Bad(redacted, "missing user@ before the host");
  std::string_view path;
  if (size_t slash = rest.find('/', at + 1); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
  }
  std::string_view userinfo = rest.substr(0, at);
  std::string_view hostport = rest.substr(at + 1);

  size_t colon = userinfo.find(':');
  std::string_view user_raw = userinfo.substr(0, colon);
  if (!PercentDecode(user_raw, &out.user)) return Bad(redacted, "bad %-escape in the user name");
  if (out.user.empty()) return Bad(redacted, "empty user name");
  if (colon != std::string_view::npos) {
    if (!PercentDecode(userinfo.substr(colon + 1), &out.password))
      return Bad(redacted, "bad %-escape in the password");
    out.password_in_url = true;
  }

  std::string_view port_text;
  bool has_port = false;
  if (!hostport.empty() && hostport[0] == '[') {
    size_t close = hostport.find(']');
    if (close == std::string_view::npos) return Bad(redacted, "unclosed '[' in an IPv6 host");
    out.host = std::string(hostport.substr(1, close - 1));
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Bad(redacted, "expected ':port' after ']'");
      port_text = after.substr(1);
      has_port = true;
    }
  } else {
    size_t pc = hostport.find(':');
    if (pc != std::string_view::npos) {
      port_text = hostport.substr(pc + 1);
      hostport = hostport.substr(0, pc);
      has_port = true;
    }
    out.host = std::string(hostport);
  }
  if (out.host.empty()) return Bad(redacted, "empty host");
  if (has_port) {
    unsigned port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || p != port_text.data() + port_text.size() ||
        port == 0 || port > 65535)
      return Bad(redacted, "port must be a number 1..65535");
    out.port = static_cast<uint16_t>(port);
  }
  if (!PercentDecode(path, &out.database)) return Bad(redacted, "bad %-escape in the database name");
  if (out.database.find('/') != std::string::npos)
    return Bad(redacted, "the path holds more than a database name");

  out.tls.mode = IsLoopbackHost(out.host) ? TlsMode::kPreferred : TlsMode::kRequired;
  out.tls.server_name = out.host;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view kv = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (kv.empty()) continue;
    size_t eq = kv.find('=');
    std::string key(kv.substr(0, eq));
    std::string value;
    if (!PercentDecode(eq == std::string_view::npos ? "" : kv.substr(eq + 1), &value))
      return Bad(redacted, "bad %-escape in parameter " + key);
    for (char& c : key)
      if (c == '_') c = '-';
    if (key == "ssl-mode" || key == "sslmode") {
      auto mode = ParseTlsMode(value);
      if (!mode.ok()) return Bad(redacted, mode.error().message);
      out.tls.mode = *mode;
      out.tls_mode_explicit = true;
    } else if (key == "ssl-ca") {
      if (value.empty()) return Bad(redacted, "ssl-ca needs a file name");
      out.tls.ca_file = value;
    } else if (key == "get-server-public-key") {
      if (value != "true" && value != "false" && value != "1" && value != "0")
        return Bad(redacted, "get-server-public-key is true or false");
      out.get_server_public_key = value == "true" || value == "1";
    } else if (key == "server-public-key") {
      out.server_public_key_file = value;
    } else {
      return Bad(redacted, "unknown parameter '" + key +
                               "' (known: ssl-mode, ssl-ca, server-public-key, get-server-public-key)");
    }
  }
  // A CA file without an explicit mode means "verify against it".
  if (!out.tls.ca_file.empty() && !out.tls_mode_explicit) out.tls.mode = TlsMode::kVerifyCa;
  return out;
}

}  // namespace sqlx::transports
