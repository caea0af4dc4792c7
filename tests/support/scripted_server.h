// WireVm against a scripted server: MySQL-protocol server packets built by
// hand (OK, ERR, EOF, column definitions, text rows), and a VM over the
// shipped pack whose server is those bytes, delivered 7 at a time.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "framing.h"
#include "memory_stream.h"
#include "row_cells.h"
#include "shipped_pack.h"
#include "wire_vm.h"

namespace sqlx::transports::testing {

using Cells = sqlx::testing::Row;

// A capability or status flag of the shipped pack.
inline uint64_t Cap(std::string_view name) { return PackConstant(name); }

// ------------------------------------------------------------ server bytes

// `v` as `width` little-endian bytes.
inline std::string Le(uint64_t v, size_t width) {
  std::string out;
  for (size_t i = 0; i < width; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  return out;
}
// A length-encoded string (lengths below 2^16 only).
inline std::string Lenenc(std::string_view s) {
  std::string out = s.size() < 251 ? Le(s.size(), 1) : "\xfc" + Le(s.size(), 2);
  return out + std::string(s);
}

// OK_Packet: header, affected rows and last insert id (one-byte lenencs),
// status, warnings.
inline std::string Ok(uint8_t affected = 0, uint16_t status = 2) {
  return std::string("\x00", 1) + Le(affected, 1) + Le(0, 1) + Le(status, 2) + Le(0, 2);
}
// ERR_Packet; an empty `state` leaves out the '#' SQL state.
inline std::string Err(uint16_t code, std::string_view state, std::string_view message) {
  std::string p = "\xff" + Le(code, 2);
  if (!state.empty()) p += "#" + std::string(state);
  return p + std::string(message);
}
// EOF_Packet: no warnings, `status`.
inline std::string Eof(uint16_t status = 2) { return "\xfe" + Le(0, 2) + Le(status, 2); }
// An OK packet with header 0xfe: the end of rows under CLIENT_DEPRECATE_EOF.
inline std::string OkEnd(uint16_t status = 2) {
  return std::string("\xfe\x00\x00", 3) + Le(status, 2) + Le(0, 2);
}
// ColumnDefinition41 of a VARCHAR column `name` in db.t.
inline std::string ColumnDef(std::string_view name) {
  return Lenenc("def") + Lenenc("db") + Lenenc("t") + Lenenc("t") + Lenenc(name) + Lenenc(name) +
         "\x0c" + Le(45, 2) + Le(255, 4) + "\xfd" + Le(0, 2) + '\0' + Le(0, 2);
}
// A text-protocol row; nullopt is the NULL marker.
inline std::string Row(const Cells& cells) {
  std::string p;
  for (const auto& c : cells) p += c ? Lenenc(*c) : std::string("\xfb");
  return p;
}

// Numbers each packet's sequence id from `first`.
inline std::string Script(const std::vector<std::string>& payloads, uint8_t first) {
  std::string out;
  for (const std::string& p : payloads) out += Frame3(p, first++);
  return out;
}

// ----------------------------------------------------------------- harness

class NoTlsHost : public WireVm::Host {
 public:
  Status StartTls() override {
    ++calls;
    return MakeError(ErrorCode::kTls, "this test host has no TLS");
  }
  int calls = 0;
};

// A VM whose server is `server_bytes`, delivered 7 bytes at a time.
class ScriptedServer {
 public:
  explicit ScriptedServer(std::string server_bytes)
      : stream_(std::move(server_bytes), 7), framer_(MysqlWirePack(), &stream_, 1u << 24), vm_(MysqlWirePack(), &framer_, &host_) {}

  WireVm& vm() { return vm_; }
  NoTlsHost& host() { return host_; }
  MemoryStream& stream() { return stream_; }
  // The packets the client wrote, in order (a test failure if they do not
  // tile the written bytes).
  std::vector<Frame3Packet> written() const {
    bool tiles = false;
    std::vector<Frame3Packet> out = Unframe3(stream_.written(), &tiles);
    EXPECT_TRUE(tiles) << "the client's packets do not tile the bytes it wrote";
    return out;
  }
  std::string Bytes(std::string_view var) const {
    const Value& v = vm_.Get(var);
    return v.is_bytes() ? v.b : "<not bytes>";
  }
  uint64_t Int(std::string_view var) const {
    const Value& v = vm_.Get(var);
    return v.is_int() ? v.i : UINT64_MAX;
  }

  struct Log {
    std::vector<std::string> events;  // event names; "rows:N" for a batch of N rows
    std::vector<Cells> rows;
    std::vector<std::string> columns;
    Status status;
  };

  // Runs procedure `name` to its end or first error, recording what it yields.
  Log Run(std::string_view name) {
    Log log;
    log.status = vm_.Begin(name);
    if (!log.status.ok()) return log;
    for (int guard = 0; guard < 100000; ++guard) {
      auto y = vm_.Run();
      if (!y.ok()) {
        log.status = y.error();
        return log;
      }
      switch (*y) {
        case WireVm::Yield::kDone: return log;
        case WireVm::Yield::kEvent:
          log.events.push_back(vm_.event());
          if (vm_.event() == "column") log.columns.push_back(Bytes("column_name"));
          break;
        case WireVm::Yield::kRows: {
          const RowBatch& b = vm_.rows();
          log.events.push_back("rows:" + std::to_string(b.rows()));
          sqlx::testing::AppendRows(b, &log.rows);
          break;
        }
      }
    }
    ADD_FAILURE() << "procedure " << name << " did not end";
    return log;
  }

 private:
  NoTlsHost host_;
  MemoryStream stream_;
  Framer framer_;
  WireVm vm_;
};

}  // namespace sqlx::transports::testing
