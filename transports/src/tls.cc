// TlsMode names: the URL's ssl-mode values and their parser.
#include "sqlx/transports/tls.h"

#include <array>
#include <string>

namespace sqlx::transports {
namespace {

struct TlsModeEntry {
  TlsMode mode;
  std::string_view name;
};

constexpr std::array<TlsModeEntry, 5> kTlsModes = {{
    {TlsMode::kDisabled, "disabled"},
    {TlsMode::kPreferred, "preferred"},
    {TlsMode::kRequired, "required"},
    {TlsMode::kVerifyCa, "verify-ca"},
    {TlsMode::kVerifyIdentity, "verify-identity"},
}};

// "VERIFY_CA" (the upper-case spelling some clients use) → "verify-ca".
std::string Normalize(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c == '_') c = '-';
  }
  return out;
}

}  // namespace

std::string_view TlsModeName(TlsMode mode) {
  for (const TlsModeEntry& entry : kTlsModes) {
    if (entry.mode == mode) return entry.name;
  }
  return "unknown";
}

Result<TlsMode> ParseTlsMode(std::string_view text) {
  const std::string normalized = Normalize(text);
  for (const TlsModeEntry& entry : kTlsModes) {
    if (entry.name == normalized) return entry.mode;
  }
  std::string accepted;
  for (const TlsModeEntry& entry : kTlsModes) {
    if (!accepted.empty()) accepted += ", ";
    accepted += entry.name;
  }
  return MakeError(ErrorCode::kInvalidArgument,
                   "unknown ssl-mode '" + std::string(text) + "': use one of " + accepted);
}

}  // namespace sqlx::transports
