// Session: one authenticated connection to a database server, spoken through
// the wire pack its URL scheme selects. Ping, change database, and queries
// whose rows stream in batches at the consumer's pace.
//
// Thread-safety: a Session and its QueryStream are used by one thread at a
// time. Different sessions are independent.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sqlx/messages/result.h"
#include "sqlx/transports/row_batch.h"
#include "sqlx/transports/tls.h"
#include "sqlx/transports/url.h"

namespace sqlx::transports {

// The server's greeting, exposed before the client answers it.
struct Greeting {
  std::string server_version;
  uint64_t connection_id = 0;
  uint64_t server_capability_bits = 0;
  std::vector<std::string> server_capabilities;  // flag names from the pack
  std::string auth_plugin;                       // the server's default plugin
  std::string pack;                              // the pack's name
};

// What the client asks for beyond the pack's defaults (flag names from the
// pack's "capabilities" set). Unknown names fail the connect.
struct CapabilityProposal {
  std::vector<std::string> add;
  std::vector<std::string> remove;
};

struct SessionOptions {
  // Pack search: this dir, then $SQLX_PACK_DIR, the install dir, the source tree.
  std::string pack_dir;
  std::chrono::milliseconds connect_timeout{10000};  // default 10 s
  std::chrono::milliseconds read_timeout{0};         // default 0: wait forever
  uint64_t max_packet = uint64_t{1} << 30;           // default 1 GiB
  // Called with the greeting before the handshake response is sent.
  std::function<void(const Greeting&, CapabilityProposal&)> on_greeting;
};

struct ServerInfo {
  Greeting greeting;
  std::vector<std::string> client_capabilities;  // as negotiated
  std::string auth_plugin;                       // the plugin that succeeded
  TlsInfo tls;
  std::string endpoint;                          // host:port
  std::chrono::microseconds connect_time{0};
};

struct Column {
  std::string name;
  std::string org_name;
  std::string table;
  std::string org_table;
  std::string schema;
  uint32_t type = 0;
  uint32_t flags = 0;
  uint32_t charset = 0;
  uint64_t length = 0;
  uint32_t decimals = 0;
};

// The completion of a statement that returned no rows, or of a result's rows.
struct Completion {
  uint64_t affected_rows = 0;
  uint64_t last_insert_id = 0;
  uint64_t warnings = 0;
  uint64_t status = 0;
  std::string info;
};

class Session;

// The results of one query. Results come one after another (multi-results);
// each either carries rows (columns() non-empty) or is a plain completion.
// Destroying the stream before the end drains the rest from the socket.
// Closing the session first detaches the stream (it then reports no more
// results); a stream must not outlive its Session object.
class QueryStream {
 public:
  ~QueryStream();
  QueryStream(const QueryStream&) = delete;
  QueryStream& operator=(const QueryStream&) = delete;

  // Moves to the next result; false when there is none. The first call moves
  // to the first result. Unread rows of the current result are skipped.
  Result<bool> NextResult();
  const std::vector<Column>& columns() const { return columns_; }
  bool has_rows() const { return !columns_.empty(); }
  // Next batch of the current result's rows, or nullptr after the last one.
  // The batch stays valid until the next call on this stream.
  Result<const RowBatch*> NextBatch();
  // The current result's completion (for a row result: after its last batch).
  const Completion& completion() const { return completion_; }

 private:
  friend class Session;
  explicit QueryStream(Session* session) : session_(session) {}
  Result<bool> RunUntilResult();
  // No more results: closes the rows and frees the session for the next command.
  void End();

  Session* session_;
  std::vector<Column> columns_;
  Completion completion_;
  bool rows_open_ = false;
  bool finished_ = false;
  bool started_ = false;
};

class Session {
 public:
  // Connects, negotiates TLS as url.tls says, authenticates. Errors name the
  // endpoint and say what to do; a password never appears in them.
  static Result<std::unique_ptr<Session>> Open(const ConnectionUrl& url,
                                               const SessionOptions& options);
  ~Session();

  Status Ping();
  Status InitDb(std::string_view database);
  // Sends `sql`; the stream reads results as the caller asks for them. Only
  // one stream may be open per session at a time.
  Result<std::unique_ptr<QueryStream>> Query(std::string_view sql);
  // Runs `sql` and discards its rows (DDL, SET, ...).
  Result<Completion> Execute(std::string_view sql);
  // Sends the quit command if the connection is healthy, then closes.
  void Close();

  const ServerInfo& server() const { return info_; }
  bool usable() const;

  class Impl;

 private:
  friend class QueryStream;
  explicit Session(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  ServerInfo info_;
  QueryStream* active_stream_ = nullptr;
};

// Fills url->port from the scheme's default (registry.json) when the URL
// names none, so that connection names ("user@host:port") are complete
// without connecting.
Status ResolveDefaultPort(ConnectionUrl* url, const std::string& pack_dir);

// Where packs are searched, in order, for diagnostics (`sqlx ping -v`).
std::vector<std::string> PackSearchPath(const std::string& pack_dir);

}  // namespace sqlx::transports
