#include "sqlx/transports/session.h"

#include <fstream>
#include <sstream>

#include "byte_stream.h"
#include "framing.h"
#include "pack_registry.h"
#include "wire_vm.h"

namespace sqlx::transports {

class Session::Impl : public WireVm::Host {
 public:
  Impl(PackChoice choice, std::unique_ptr<ByteStream> stream, const ConnectionUrl& url,
       const SessionOptions& options)
      : choice_(std::move(choice)),
        stream_(std::move(stream)),
        framer_(*choice_.pack, stream_.get(), options.max_packet),
        vm_(*choice_.pack, &framer_, this),
        tls_(url.tls) {}

  Status StartTls() override { return stream_->StartTls(tls_); }

  const WirePack& pack() const { return *choice_.pack; }
  WireVm& vm() { return vm_; }
  ByteStream& stream() { return *stream_; }

  std::vector<std::string> FlagNames(std::string_view set, uint64_t bits) const {
    std::vector<std::string> names;
    if (const auto* flags = pack().flag_set(set)) {
      for (const auto& [name, bit] : *flags)
        if (bit != 0 && (bits & bit) == bit) names.push_back(name);
    }
    return names;
  }

  Result<uint64_t> FlagBits(std::string_view set, const std::vector<std::string>& names) const {
    uint64_t bits = 0;
    const auto* flags = pack().flag_set(set);
    for (const auto& n : names) {
      auto it = flags ? flags->find(n) : decltype(flags->end()){};
      if (flags == nullptr || it == flags->end()) {
        return MakeError(ErrorCode::kInvalidArgument, "unknown capability '" + n + "' for pack " +
                                                          pack().name());
      }
      bits |= it->second;
    }
    return bits;
  }

  std::string Bytes(std::string_view var) const {
    const Value& v = vm_.Get(var);
    return v.is_bytes() ? v.b : std::string();
  }
  uint64_t Int(std::string_view var) const {
    const Value& v = vm_.Get(var);
    return v.is_int() ? v.i : 0;
  }

  // Runs the current procedure to its end; events other than the ones a
  // stream handles are ignored.
  Status RunCommand() {
    return vm_.RunToEnd([](const std::string&) { return Status::Ok(); });
  }

  Completion ReadCompletion() const {
    Completion c;
    c.affected_rows = Int("affected_rows");
    c.last_insert_id = Int("last_insert_id");
    c.warnings = Int("warnings");
    c.status = Int("status_flags");
    c.info = Bytes("info");
    return c;
  }

  Column ReadColumn() const {
    Column c;
    c.name = Bytes("column_name");
    c.org_name = Bytes("column_org_name");
    c.table = Bytes("column_table");
    c.org_table = Bytes("column_org_table");
    c.schema = Bytes("column_schema");
    c.type = static_cast<uint32_t>(Int("column_type"));
    c.flags = static_cast<uint32_t>(Int("column_flags"));
    c.charset = static_cast<uint32_t>(Int("column_charset"));
    c.length = Int("column_length");
    c.decimals = static_cast<uint32_t>(Int("column_decimals"));
    return c;
  }

 private:
  PackChoice choice_;
  std::unique_ptr<ByteStream> stream_;
  Framer framer_;
  WireVm vm_;
  TlsOptions tls_;
};

namespace {

int TlsModeLevel(TlsMode mode) {
  switch (mode) {
    case TlsMode::kDisabled: return 0;
    case TlsMode::kPreferred: return 1;
    case TlsMode::kRequired: return 2;
    case TlsMode::kVerifyCa: return 3;
    case TlsMode::kVerifyIdentity: return 4;
  }
  return 1;
}

// Adds what to do to errors a user can act on.
Error Explain(Error e, const ConnectionUrl& url) {
  if (e.code == ErrorCode::kAuth && e.server_code != 0) {
    e.message += ": check the user name and password (or SQLX_PASSWORD) for " + url.ConnectionName();
  } else if (e.code == ErrorCode::kClosed) {
    e.message = "the server at " + url.Endpoint() + " closed the connection during the handshake (" +
                e.message + "); check the server's error log and that it speaks this protocol";
  }
  if (e.message.find(url.Endpoint()) == std::string::npos) e.message += " (server " + url.Endpoint() + ")";
  return e;
}

}  // namespace

Session::Session(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Session::~Session() { Close(); }

Result<std::unique_ptr<Session>> Session::Open(const ConnectionUrl& url_in,
                                               const SessionOptions& options) {
  auto choice = LocatePack(url_in.scheme, options.pack_dir);
  if (!choice.ok()) return choice.error();
  ConnectionUrl url = url_in;
  if (url.port == 0) url.port = choice->default_port;
  if (url.port == 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "no port in the URL and no default port for scheme " + url.scheme);
  }
  std::string public_key;
  if (!url.server_public_key_file.empty()) {
    std::ifstream in(url.server_public_key_file, std::ios::binary);
    if (!in) {
      return MakeError(ErrorCode::kNotFound,
                       "cannot read server-public-key file " + url.server_public_key_file);
    }
    std::stringstream ss;
    ss << in.rdbuf();
    public_key = ss.str();
  }

  auto start = std::chrono::steady_clock::now();
  auto stream = ByteStream::Connect(url.host, url.port, options.connect_timeout);
  if (!stream.ok()) return stream.error();
  // The handshake must not hang forever on a silent peer.
  (*stream)->SetReadTimeout(options.connect_timeout);

  auto impl = std::make_unique<Impl>(std::move(choice).value(), std::move(stream).value(), url, options);
  WireVm& vm = impl->vm();
  vm.Set("user", Value::Bytes(url.user));
  vm.Set("password", Value::Bytes(url.password));
  vm.Set("database", Value::Bytes(url.database));
  vm.Set("tls_mode", Value::Int(TlsModeLevel(url.tls.mode)));
  vm.Set("tls_mode_name", Value::Bytes(TlsModeName(url.tls.mode)));
  vm.Set("endpoint", Value::Bytes(url.Endpoint()));
  vm.Set("max_packet", Value::Int(options.max_packet));
  vm.Set("get_server_public_key", Value::Int(url.get_server_public_key ? 1 : 0));
  vm.Set("server_public_key", Value::Bytes(public_key));

  ServerInfo info;
  info.endpoint = url.Endpoint();
  SQLX_RETURN_IF_ERROR(vm.Begin("connect"));
  Impl* raw = impl.get();
  Status st = vm.RunToEnd([&](const std::string& event) -> Status {
    if (event != "greeting") return Status::Ok();
    Greeting& g = info.greeting;
    g.server_version = raw->Bytes("server_version");
    g.connection_id = raw->Int("connection_id");
    g.server_capability_bits = raw->Int("server_caps");
    g.server_capabilities = raw->FlagNames("capabilities", g.server_capability_bits);
    g.auth_plugin = raw->Bytes("greeting_plugin");
    g.pack = raw->pack().name();
    if (options.on_greeting) {
      CapabilityProposal proposal;
      options.on_greeting(g, proposal);
      auto add = raw->FlagBits("capabilities", proposal.add);
      if (!add.ok()) return add.error();
      auto remove = raw->FlagBits("capabilities", proposal.remove);
      if (!remove.ok()) return remove.error();
      vm.Set("caps_add", Value::Int(*add));
      vm.Set("caps_remove", Value::Int(*remove));
    }
    return Status::Ok();
  });
  // The password is no longer needed: drop it from the VM's variables.
  vm.Set("password", Value::Bytes(std::string_view()));
  if (!st.ok()) return Explain(std::move(st).error(), url);

  impl->stream().SetReadTimeout(options.read_timeout);
  info.client_capabilities = raw->FlagNames("capabilities", raw->Int("client_caps"));
  info.auth_plugin = raw->Bytes("auth_plugin");
  info.tls = impl->stream().tls_info();
  info.connect_time = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - start);
  std::unique_ptr<Session> session(new Session(std::move(impl)));
  session->info_ = std::move(info);
  return session;
}

bool Session::usable() const { return impl_ && impl_->vm().in_sync() && active_stream_ == nullptr; }

Status Session::Ping() {
  if (active_stream_ != nullptr)
    return MakeError(ErrorCode::kInvalidArgument, "a query's results are still open on this session");
  SQLX_RETURN_IF_ERROR(impl_->vm().Begin("ping"));
  return impl_->RunCommand();
}

Status Session::InitDb(std::string_view database) {
  if (active_stream_ != nullptr)
    return MakeError(ErrorCode::kInvalidArgument, "a query's results are still open on this session");
  impl_->vm().Set("database", Value::Bytes(database));
  SQLX_RETURN_IF_ERROR(impl_->vm().Begin("init_db"));
  return impl_->RunCommand();
}

Result<std::unique_ptr<QueryStream>> Session::Query(std::string_view sql) {
  if (active_stream_ != nullptr)
    return MakeError(ErrorCode::kInvalidArgument, "a query's results are still open on this session");
  impl_->vm().Set("sql", Value::Bytes(sql));
  SQLX_RETURN_IF_ERROR(impl_->vm().Begin("query"));
  std::unique_ptr<QueryStream> stream(new QueryStream(this));
  active_stream_ = stream.get();
  return stream;
}

Result<Completion> Session::Execute(std::string_view sql) {
  auto stream = Query(sql);
  if (!stream.ok()) return stream.error();
  Completion last;
  for (;;) {
    auto more = (*stream)->NextResult();
    if (!more.ok()) return more.error();
    if (!*more) break;
    for (;;) {
      auto batch = (*stream)->NextBatch();
      if (!batch.ok()) return batch.error();
      if (*batch == nullptr) break;
    }
    last = (*stream)->completion();
  }
  return last;
}

void Session::Close() {
  if (!impl_) return;
  if (active_stream_ != nullptr) {
    // Detach the open stream: it reports no more results from now on.
    QueryStream* stream = active_stream_;
    stream->End();
    stream->session_ = nullptr;
  }
  if (impl_->vm().in_sync() && !impl_->vm().busy()) {
    if (impl_->vm().Begin("quit").ok()) (void)impl_->RunCommand();  // best effort: we are leaving
  }
  impl_->stream().Close();
  impl_.reset();
}

QueryStream::~QueryStream() {
  if (session_ == nullptr) return;
  // Drain what is left so the session can run the next command.
  while (!finished_) {
    auto more = NextResult();
    if (!more.ok() || !*more) break;
  }
  End();
}

void QueryStream::End() {
  rows_open_ = false;
  finished_ = true;
  if (session_ != nullptr && session_->active_stream_ == this) session_->active_stream_ = nullptr;
}

// Runs the VM until a result starts (true) or the query ends (false).
Result<bool> QueryStream::RunUntilResult() {
  Session::Impl& impl = *session_->impl_;
  WireVm& vm = impl.vm();
  for (;;) {
    auto y = vm.Run();
    if (!started_) {
      // The statement is on the wire: don't keep it (it may hold secrets).
      vm.Set("sql", Value::Bytes(std::string_view()));
      started_ = true;
    }
    if (!y.ok()) {
      End();
      return y.error();
    }
    switch (*y) {
      case WireVm::Yield::kDone:
        End();
        return false;
      case WireVm::Yield::kRows:
        return MakeError(ErrorCode::kInternal, "rows arrived before their columns");
      case WireVm::Yield::kEvent: {
        const std::string& ev = vm.event();
        if (ev == "result_begin") {
          columns_.clear();
        } else if (ev == "column") {
          columns_.push_back(impl.ReadColumn());
        } else if (ev == "columns_end") {
          rows_open_ = true;
          completion_ = Completion{};
          return true;
        } else if (ev == "ok") {
          columns_.clear();
          completion_ = impl.ReadCompletion();
          return true;
        }
        break;
      }
    }
  }
}

Result<bool> QueryStream::NextResult() {
  if (finished_ || session_ == nullptr) return false;
  while (rows_open_) {
    auto batch = NextBatch();
    if (!batch.ok()) return batch.error();
  }
  return RunUntilResult();
}

Result<const RowBatch*> QueryStream::NextBatch() {
  if (!rows_open_ || session_ == nullptr) return static_cast<const RowBatch*>(nullptr);
  Session::Impl& impl = *session_->impl_;
  WireVm& vm = impl.vm();
  for (;;) {
    auto y = vm.Run();
    if (!y.ok()) {
      End();
      return y.error();
    }
    switch (*y) {
      case WireVm::Yield::kRows: return &vm.rows();
      case WireVm::Yield::kDone:
        End();
        return static_cast<const RowBatch*>(nullptr);
      case WireVm::Yield::kEvent:
        if (vm.event() == "result_end") {
          rows_open_ = false;
          completion_ = impl.ReadCompletion();
          return static_cast<const RowBatch*>(nullptr);
        }
        break;
    }
  }
}

std::vector<std::string> PackSearchPath(const std::string& pack_dir) { return PackSearchDirs(pack_dir); }

Status ResolveDefaultPort(ConnectionUrl* url, const std::string& pack_dir) {
  if (url->port != 0) return Status::Ok();
  auto choice = LocatePack(url->scheme, pack_dir);
  if (!choice.ok()) return choice.error();
  if (choice->default_port == 0) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "no port in the URL and no default port for scheme " + url->scheme);
  }
  url->port = choice->default_port;
  return Status::Ok();
}

}  // namespace sqlx::transports
