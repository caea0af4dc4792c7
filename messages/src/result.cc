#include "sqlx/messages/result.h"

namespace sqlx {

std::string_view ErrorCodeName(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kIo: return "io";
    case ErrorCode::kConnectionRefused: return "connection_refused";
    case ErrorCode::kTimeout: return "timeout";
    case ErrorCode::kProtocol: return "protocol";
    case ErrorCode::kTls: return "tls";
    case ErrorCode::kAuth: return "auth";
    case ErrorCode::kServer: return "server";
    case ErrorCode::kPack: return "pack";
    case ErrorCode::kUnsupported: return "unsupported";
    case ErrorCode::kLimit: return "limit";
    case ErrorCode::kInternal: return "internal";
    case ErrorCode::kCancelled: return "cancelled";
    case ErrorCode::kClosed: return "closed";
  }
  return "unknown";
}

std::string Error::ToString() const {
  if (server_code == 0) return message;
  std::string out = "ERROR " + std::to_string(server_code);
  if (!sqlstate.empty()) out += " (" + sqlstate + ")";
  out += ": " + message;
  return out;
}

}  // namespace sqlx
