// Canonical bytes of an audit event, the process stamp of new events, and
// the redaction every event passes before it is hashed.
//
// Canonical bytes, version 1 (all integers big-endian):
//   offset size
//   0      1    version = 0x01
//   1      8    seq (u64)
//   9      8    time_ns (i64, two's complement)
//   17     8    pid (i64)
//   25     1    outcome: 0x00 ok, 0x01 failed
//   26     32   prev_hash
//   58     ...  eleven strings, each u32 length + bytes, in this order:
//               actor.os_user, actor.service, actor.token_subject, host,
//               program, action, object.connection, object.database,
//               object.table, error, details_json
#include "sqlx/messages/clock.h"
#include "sqlx/messages/hex.h"
#include "sqlx/storage/audit_event.h"
#include "sqlx/storage/merkle.h"

#include <pwd.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <utility>

#include <nlohmann/json.hpp>

#include "byte_codec.h"

namespace sqlx::storage {
namespace {

constexpr uint8_t kCanonicalVersion = 1;
constexpr size_t kFixedSize = 58;

void PutString(std::string* out, std::string_view s) {
  const uint32_t n = static_cast<uint32_t>(s.size());
  const char length[4] = {static_cast<char>(n >> 24), static_cast<char>((n >> 16) & 0xff),
                          static_cast<char>((n >> 8) & 0xff), static_cast<char>(n & 0xff)};
  out->append(length, 4);
  out->append(s);
}

// Reads big-endian fields from untrusted bytes; every read is bounds-checked.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}
  bool U64(uint64_t* v) {
    if (bytes_.size() - pos_ < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; ++i) *v = (*v << 8) | static_cast<uint8_t>(bytes_[pos_ + i]);
    pos_ += 8;
    return true;
  }
  bool U8(uint8_t* v) {
    if (pos_ >= bytes_.size()) return false;
    *v = static_cast<uint8_t>(bytes_[pos_++]);
    return true;
  }
  bool Bytes(size_t n, std::string_view* v) {
    if (bytes_.size() - pos_ < n) return false;
    *v = bytes_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  bool String(std::string_view* v) {
    std::string_view len;
    if (!Bytes(4, &len)) return false;
    uint32_t n = 0;
    for (char c : len) n = (n << 8) | static_cast<uint8_t>(c);
    return Bytes(n, v);
  }
  bool String(std::string* v) {
    std::string_view s;
    if (!String(&s)) return false;
    v->assign(s);
    return true;
  }
  bool AtEnd() const { return pos_ == bytes_.size(); }

 private:
  std::string_view bytes_;
  size_t pos_ = 0;
};

// The string fields in canonical order; E is AuditEvent or const AuditEvent.
template <class E>
std::array<decltype(&std::declval<E&>().host), 11> StringFields(E& e) {
  return {&e.actor.os_user, &e.actor.service, &e.actor.token_subject, &e.host, &e.program, &e.action,
          &e.object.connection, &e.object.database, &e.object.table, &e.error, &e.details_json};
}

bool IsSecretKey(std::string_view key) {
  static constexpr std::array<std::string_view, 10> kSecretWords = {
      "password", "passwd", "pwd", "secret", "token", "api_key", "apikey", "private_key", "credential",
      "authorization"};
  // Lowercased on the stack for the usual short keys (this runs for every
  // key of every event's details).
  std::array<char, 64> buffer;
  std::string heap;
  char* lower = buffer.data();
  if (key.size() > buffer.size()) {
    heap.resize(key.size());
    lower = heap.data();
  }
  for (size_t i = 0; i < key.size(); ++i) lower[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(key[i])));
  const std::string_view lowered(lower, key.size());
  for (std::string_view word : kSecretWords) {
    if (lowered.find(word) != std::string_view::npos) return true;
  }
  return false;
}

void RedactValue(nlohmann::json& value) {
  if (value.is_object()) {
    for (auto it = value.begin(); it != value.end(); ++it) {
      if (IsSecretKey(it.key())) {
        *it = "[REDACTED]";
      } else {
        RedactValue(*it);
      }
    }
  } else if (value.is_array()) {
    for (nlohmann::json& item : value) RedactValue(item);
  } else if (value.is_string()) {
    value = RedactUrlPasswords(value.get<std::string>());
  }
}

std::string CurrentOsUser() {
  std::array<char, 4096> buf{};
  passwd pw{};
  passwd* found = nullptr;
  if (getpwuid_r(geteuid(), &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
    return found->pw_name;
  }
  if (const char* user = std::getenv("USER"); user != nullptr && *user != '\0') return user;
  return "uid:" + std::to_string(geteuid());
}

std::string CurrentHost() {
  std::array<char, 256> buf{};
  if (gethostname(buf.data(), buf.size() - 1) != 0) return "unknown";
  return buf.data();
}

std::string CurrentProgram() {
  std::error_code ec;
  std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("unknown") : exe.string();
}

// Accepts only JSON that RedactDetails would return unchanged: compact
// (no whitespace), object keys strictly ascending bytewise (nlohmann's
// std::map order, so no duplicates), strings of printable ASCII without
// escapes, integers of at most 18 digits (never "-0"), true, false, null,
// nesting at most 32 deep; and no key that names a secret. (The caller
// rules out "://".) Anything else takes the full parse-redact-dump path,
// so this is only ever a shortcut to the same bytes.
class CanonicalSecretFreeJson {
 public:
  explicit CanonicalSecretFreeJson(std::string_view text) : text_(text) {}

  bool Check() {
    if (text_.empty() || text_[0] != '{') return false;
    return Value(0) && pos_ == text_.size();
  }

 private:
  bool Value(int depth) {
    if (pos_ >= text_.size() || depth > 32) return false;
    const char c = text_[pos_];
    if (c == '{') return Object(depth + 1);
    if (c == '[') return Array(depth + 1);
    if (c == '"') return String(nullptr);
    if (c == '-' || (c >= '0' && c <= '9')) return Integer();
    for (std::string_view literal : {"true", "false", "null"}) {
      if (text_.substr(pos_, literal.size()) == literal) {
        pos_ += literal.size();
        return true;
      }
    }
    return false;
  }

  bool Object(int depth) {
    ++pos_;  // {
    if (Eat('}')) return true;
    std::string_view previous;
    for (bool first = true;; first = false) {
      std::string_view key;
      if (!String(&key) || (!first && key <= previous) || IsSecretKey(key) || !Eat(':') ||
          !Value(depth)) {
        return false;
      }
      previous = key;
      if (Eat('}')) return true;
      if (!Eat(',')) return false;
    }
  }

  bool Array(int depth) {
    ++pos_;  // [
    if (Eat(']')) return true;
    for (;;) {
      if (!Value(depth)) return false;
      if (Eat(']')) return true;
      if (!Eat(',')) return false;
    }
  }

  bool String(std::string_view* out) {
    if (!Eat('"')) return false;
    const size_t start = pos_;
    while (pos_ < text_.size() && text_[pos_] != '"') {
      const auto b = static_cast<unsigned char>(text_[pos_]);
      if (b < 0x20 || b > 0x7e || b == '\\') return false;
      ++pos_;
    }
    if (pos_ == text_.size()) return false;
    if (out != nullptr) *out = text_.substr(start, pos_ - start);
    ++pos_;  // "
    return true;
  }

  bool Integer() {
    const size_t start = pos_;
    Eat('-');
    const size_t digits = pos_;
    while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
    const size_t n = pos_ - digits;
    if (n == 0 || n > 18 || (text_[digits] == '0' && (n > 1 || digits > start))) return false;
    // A fraction or exponent is re-spelled by the full path: not canonical here.
    return pos_ == text_.size() || (text_[pos_] != '.' && text_[pos_] != 'e' && text_[pos_] != 'E');
  }

  bool Eat(char c) {
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }

  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

std::string_view AuditOutcomeName(AuditOutcome outcome) {
  return outcome == AuditOutcome::kOk ? "ok" : "failed";
}

size_t CanonicalSize(const AuditEvent& event) {
  size_t size = kFixedSize;
  for (const std::string* s : StringFields(event)) size += 4 + s->size();
  return size;
}

void AppendCanonicalBytes(const AuditEvent& event, std::string* out) {
  out->push_back(static_cast<char>(kCanonicalVersion));
  codec::PutU64(out, event.seq);
  codec::PutU64(out, static_cast<uint64_t>(event.time_ns));
  codec::PutU64(out, static_cast<uint64_t>(event.pid));
  out->push_back(static_cast<char>(event.outcome));
  out->append(reinterpret_cast<const char*>(event.prev_hash.data()), event.prev_hash.size());
  for (const std::string* s : StringFields(event)) PutString(out, *s);
}

std::string CanonicalBytes(const AuditEvent& event) {
  std::string out;
  out.reserve(CanonicalSize(event));
  AppendCanonicalBytes(event, &out);
  return out;
}

namespace {

Error Malformed(std::string_view what) {
  return MakeError(ErrorCode::kInvalidArgument, "malformed audit event bytes: " + std::string(what));
}

// Reads the fixed header into `e` (seq, time, pid, outcome, prev_hash).
Status ReadHeader(Reader& r, AuditEvent* e) {
  uint8_t version = 0;
  if (!r.U8(&version)) return Malformed("empty");
  if (version != kCanonicalVersion) return Malformed("unknown version " + std::to_string(version));
  uint64_t time = 0;
  uint64_t pid = 0;
  uint8_t outcome = 0;
  std::string_view prev;
  if (!r.U64(&e->seq) || !r.U64(&time) || !r.U64(&pid) || !r.U8(&outcome) || !r.Bytes(32, &prev)) {
    return Malformed("truncated header");
  }
  if (outcome > 1) return Malformed("outcome byte " + std::to_string(outcome));
  e->time_ns = static_cast<int64_t>(time);
  e->pid = static_cast<int64_t>(pid);
  e->outcome = static_cast<AuditOutcome>(outcome);
  std::copy(prev.begin(), prev.end(), e->prev_hash.begin());
  return Status::Ok();
}

}  // namespace

Result<AuditEvent> DecodeCanonicalBytes(std::string_view bytes) {
  Reader r(bytes);
  AuditEvent e;
  SQLX_RETURN_IF_ERROR(ReadHeader(r, &e));
  for (std::string* s : StringFields(e)) {
    if (!r.String(s)) return Malformed("truncated string field");
  }
  if (!r.AtEnd()) return Malformed("trailing bytes");
  e.hash = LeafHash(bytes);
  return e;
}

Result<AuditEventLink> DecodeEventLink(std::string_view bytes) {
  Reader r(bytes);
  AuditEvent header;  // strings stay empty: no allocation
  SQLX_RETURN_IF_ERROR(ReadHeader(r, &header));
  std::string_view skipped;
  for (int i = 0; i < 11; ++i) {
    if (!r.String(&skipped)) return Malformed("truncated string field");
  }
  if (!r.AtEnd()) return Malformed("trailing bytes");
  return AuditEventLink{header.seq, header.prev_hash};
}

AuditEvent NewAuditEvent(std::string action) {
  AuditEvent e;
  e.time_ns = UnixNowNs();
  e.actor.os_user = CurrentOsUser();
  e.host = CurrentHost();
  e.pid = static_cast<int64_t>(getpid());
  e.program = CurrentProgram();
  e.action = std::move(action);
  return e;
}

bool DetailsAlreadyRedacted(std::string_view json) {
  return json.find("://") == std::string_view::npos && CanonicalSecretFreeJson(json).Check();
}

Result<std::string> RedactDetails(std::string_view json) {
  // Most details are already canonical and hold no secret: returned as
  // they are, without building a document.
  if (DetailsAlreadyRedacted(json)) return std::string(json);
  nlohmann::json value = nlohmann::json::parse(json, nullptr, false);
  if (value.is_discarded() || !value.is_object()) {
    return MakeError(ErrorCode::kInvalidArgument, "audit details must be a JSON object");
  }
  RedactValue(value);
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string RedactUrlPasswords(std::string_view text) {
  std::string out;
  size_t pos = 0;
  for (;;) {
    const size_t scheme_end = text.find("://", pos);
    if (scheme_end == std::string_view::npos) break;
    const size_t start = scheme_end + 3;
    size_t end = start;
    while (end < text.size() && text[end] != '/' && text[end] != '?' && text[end] != '#' &&
           std::isspace(static_cast<unsigned char>(text[end])) == 0 && text[end] != '"') {
      ++end;
    }
    const std::string_view authority = text.substr(start, end - start);
    const size_t at = authority.rfind('@');
    const size_t colon = at == std::string_view::npos ? std::string_view::npos : authority.find(':');
    out.append(text.substr(pos, start - pos));
    if (colon != std::string_view::npos && colon < at) {
      out.append(authority.substr(0, colon + 1));
      out.append("***");
      out.append(authority.substr(at));
    } else {
      out.append(authority);
    }
    pos = end;
  }
  out.append(text.substr(pos));
  return out;
}

std::string AuditEventToJson(const AuditEvent& e) {
  using nlohmann::json;
  json details = json::parse(e.details_json, nullptr, false);
  const json out{{"seq", e.seq},
                 {"time", Rfc3339(e.time_ns, 3)},
                 {"time_ns", e.time_ns},
                 {"actor", {{"os_user", e.actor.os_user}, {"service", e.actor.service},
                            {"token_subject", e.actor.token_subject}}},
                 {"host", e.host},
                 {"pid", e.pid},
                 {"program", e.program},
                 {"action", e.action},
                 {"object", {{"connection", e.object.connection}, {"database", e.object.database},
                             {"table", e.object.table}}},
                 {"outcome", std::string(AuditOutcomeName(e.outcome))},
                 {"error", e.error},
                 {"details", details.is_discarded() ? json(e.details_json) : details},
                 {"prev_hash", ToHex(e.prev_hash)},
                 {"hash", ToHex(e.hash)}};
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<AuditEvent> AuditEventFromJson(std::string_view text) {
  using nlohmann::json;
  const json j = json::parse(text, nullptr, false);
  if (!j.is_object()) return MakeError(ErrorCode::kInvalidArgument, "an audit event is not a JSON object");
  try {
    AuditEvent e;
    e.seq = j.at("seq").get<uint64_t>();
    e.time_ns = j.at("time_ns").get<int64_t>();
    const json& actor = j.at("actor");
    e.actor = {actor.value("os_user", ""), actor.value("service", ""), actor.value("token_subject", "")};
    e.host = j.value("host", "");
    e.pid = j.value("pid", int64_t{0});
    e.program = j.value("program", "");
    e.action = j.at("action").get<std::string>();
    const json& object = j.at("object");
    e.object = {object.value("connection", ""), object.value("database", ""), object.value("table", "")};
    e.outcome = j.value("outcome", "ok") == "failed" ? AuditOutcome::kFailed : AuditOutcome::kOk;
    e.error = j.value("error", "");
    const json& details = j.at("details");
    e.details_json = details.is_string() ? details.get<std::string>() : details.dump();
    for (auto [name, hash] : {std::pair{"prev_hash", &e.prev_hash}, std::pair{"hash", &e.hash}}) {
      SQLX_ASSIGN_OR_RETURN(std::string bytes, HexDecode(j.at(name).get<std::string>()));
      if (bytes.size() != hash->size())
        return MakeError(ErrorCode::kInvalidArgument, std::string("an audit event's ") + name + " is not 32 bytes");
      std::copy(bytes.begin(), bytes.end(), hash->begin());
    }
    return e;
  } catch (const json::exception& ex) {
    return MakeError(ErrorCode::kInvalidArgument, std::string("an audit event does not read: ") + ex.what());
  }
}

}  // namespace sqlx::storage
