// Result<T> and Status: the error vocabulary every module boundary speaks.
// An Error is a code from a fixed enum plus a message written for the person
// who has to act on it ("what happened; what to do").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace sqlx {

// Fixed numbers: they appear in JSON output and must never be renumbered.
enum class ErrorCode : int {
  kInvalidArgument = 1,    // bad input from a user: URL, option, file content
  kNotFound = 2,           // a named thing (file, database, pack) does not exist
  kIo = 3,                 // a local or socket read/write failed
  kConnectionRefused = 4,  // nothing listens at host:port, or it reset the connect
  kTimeout = 5,            // a peer did not answer in time
  kProtocol = 6,           // a peer sent bytes that break the protocol
  kTls = 7,                // TLS could not be set up or verified as asked
  kAuth = 8,               // the server refused the credentials
  kServer = 9,             // the server answered a command with an error packet
  kPack = 10,              // a wire pack is missing, malformed or inconsistent
  kUnsupported = 11,       // the request needs something this build or peer lacks
  kLimit = 12,             // a configured size limit would be exceeded
  kInternal = 13,          // a bug in SQLx OS: report it
  kCancelled = 14,         // the caller stopped the operation
  kClosed = 15,            // the peer closed the connection
};

// Short stable name of a code ("protocol", "auth", ...), for JSON and logs.
std::string_view ErrorCodeName(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  // Set when a database server reported the error (kServer, kAuth).
  int server_code = 0;
  std::string sqlstate;

  // "message" or "ERROR 1045 (28000): message" when the server reported it.
  std::string ToString() const;
};

inline Error MakeError(ErrorCode code, std::string message) {
  return Error{code, std::move(message), 0, {}};
}

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok().
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // REQUIRES: !ok().
  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT
  static Status Ok() { return Status(); }

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  // REQUIRES: !ok().
  const Error& error() const& { return error_; }
  Error&& error() && { return std::move(error_); }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace sqlx

// Propagate an error from an expression yielding Status or Result<T>.
#define SQLX_RETURN_IF_ERROR(expr)                  \
  do {                                              \
    auto&& sqlx_status_ = (expr);                   \
    if (!sqlx_status_.ok()) return sqlx_status_.error(); \
  } while (0)

#define SQLX_CONCAT_INNER_(a, b) a##b
#define SQLX_CONCAT_(a, b) SQLX_CONCAT_INNER_(a, b)
// Assign the value of a Result<T> expression to `lhs`, or return its error.
#define SQLX_ASSIGN_OR_RETURN(lhs, expr) \
  SQLX_ASSIGN_OR_RETURN_IMPL_(SQLX_CONCAT_(sqlx_result_, __LINE__), lhs, expr)
#define SQLX_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                \
  if (!tmp.ok()) return std::move(tmp).error();     \
  lhs = std::move(tmp).value()
