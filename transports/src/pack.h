// WirePack: a wire pack (transports/packs/*.wire.json) compiled for the VM.
// The JSON format is specified in docs/formats/wire-pack.md; this header is
// its in-memory form. A WirePack is immutable after Load() and may be shared
// by any number of sessions and threads.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "expr.h"
#include "sqlx/messages/result.h"

namespace sqlx::transports {

// A prefix-marker variable-length integer: values up to direct_max are one
// byte; otherwise a marker byte announces how many little-endian bytes follow.
struct VarintEncoding {
  std::string name;
  uint64_t direct_max = 0;
  int null_marker = -1;                 // a first byte meaning "NULL", or -1
  std::array<uint8_t, 256> width{};     // marker byte -> following byte count (0: none)
  std::vector<std::pair<uint8_t, uint8_t>> markers;  // (width, marker) by width ascending
};

enum class FieldType : uint8_t {
  kUint,          // fixed-width unsigned integer, `width` bytes, pack byte order
  kVarint,        // VarintEncoding integer
  kVarBytes,      // VarintEncoding length, then that many bytes
  kCString,       // bytes up to a NUL (consumed, not stored)
  kCStringOrRest, // as kCString, or up to the end when no NUL follows
  kBytes,         // exactly `len` bytes
  kRest,          // everything left in the packet
  kSkip,          // `len` bytes, ignored (encode: zeros)
  kLet,           // no bytes: var = value expression
};

struct Field {
  std::string name;        // empty for kSkip
  FieldType type = FieldType::kSkip;
  uint8_t width = 0;       // kUint
  const VarintEncoding* encoding = nullptr;  // kVarint, kVarBytes
  size_t slot = SIZE_MAX;  // variable receiving the decoded value
  Expr len;                // kBytes, kSkip
  Expr when;               // field present only when true (empty: always)
  Expr value;              // encode source / kLet value (empty: the variable `name`)
  Expr repeat;             // row layouts: this field repeats N times, one cell each
  bool nullable = false;   // kVarBytes: the encoding's null marker yields NULL
  bool optional = false;   // decode: absent (null) when the packet has ended
  std::string path;        // JSON pointer, for error messages
};

struct Layout {
  std::string name;
  std::vector<Field> fields;
};

struct Step;
struct Block {
  std::vector<Step> steps;
};

struct RecvCase {
  Expr when;
  const Layout* decode = nullptr;
  Block body;
};

enum class StepKind : uint8_t {
  kSend, kSendRaw, kRecv, kSet, kIf, kWhile, kRepeat, kBreak, kReturn, kFail, kEmit,
  kStartTls, kResetSequence, kCall, kCallNamed, kRows,
};

struct Step {
  StepKind kind = StepKind::kReturn;
  std::string path;  // JSON pointer of this step in the pack
  const Layout* layout = nullptr;          // kSend, kRows (row layout)
  Expr expr;                               // kSendRaw payload, kIf/kWhile cond, kRepeat count
  std::vector<std::pair<size_t, Expr>> sets;  // kSet
  Block then_block, else_block;            // kIf; then_block is the body of kWhile/kRepeat
  std::vector<RecvCase> cases;             // kRecv, kRows (end-of-rows cases)
  ErrorCode fail_code = ErrorCode::kProtocol;  // kFail
  Expr fail_message;                       // kFail
  bool fail_from_server = false;           // kFail: code/sqlstate/message from variables
  std::string name;                        // kEmit event, kCall procedure, kCallNamed table
  std::string hook;                        // kCallNamed hook
  Expr name_expr;                          // kCallNamed entry name
};

// A named set of hooks: e.g. an auth plugin with "initial" and "more_data".
using NamedEntry = std::map<std::string, Block, std::less<>>;

struct Framing {
  // Header: fixed-width little/big-endian integers, in order.
  struct HeaderField {
    std::string name;
    uint8_t width = 0;
  };
  std::vector<HeaderField> header;
  size_t header_size = 0;
  size_t length_index = 0;    // which header field is the payload length
  int sequence_index = -1;    // which is the sequence number (-1: none)
  uint64_t max_payload = 0;   // a payload of exactly this size continues in the next packet
  bool check_sequence = true;
};

class WirePack {
 public:
  // Reads and compiles a pack file. Errors (kPack / kNotFound) name the file
  // and the JSON pointer of the offending entry.
  static Result<std::shared_ptr<const WirePack>> Load(const std::string& file);
  static Result<std::shared_ptr<const WirePack>> Parse(const std::string& json_text,
                                                       const std::string& file_label);

  const std::string& name() const { return name_; }
  const std::string& file() const { return file_; }
  bool little_endian() const { return little_endian_; }
  const Framing& framing() const { return framing_; }
  const SymbolTable& symbols() const { return symbols_; }
  // Finds a procedure ("connect", "ping", ...) or nullptr.
  const Block* procedure(std::string_view name) const;
  const NamedEntry* named_entry(std::string_view table, std::string_view entry) const;
  std::vector<std::string> named_entries(std::string_view table) const;
  // Flag sets ("capabilities", "status"): name -> bit value.
  const std::map<std::string, uint64_t, std::less<>>* flag_set(std::string_view name) const;
  const std::map<std::string, uint64_t, std::less<>>& constants() const { return constants_; }
  // Variables a host may set before a procedure, with their defaults.
  const std::map<std::string, Value, std::less<>>& defaults() const { return defaults_; }

 private:
  friend class PackCompiler;

  std::string name_;
  std::string file_;
  bool little_endian_ = true;
  Framing framing_;
  SymbolTable symbols_;
  std::map<std::string, uint64_t, std::less<>> constants_;
  std::map<std::string, std::map<std::string, uint64_t, std::less<>>, std::less<>> flag_sets_;
  std::map<std::string, Value, std::less<>> defaults_;
  std::map<std::string, std::unique_ptr<VarintEncoding>, std::less<>> encodings_;
  std::map<std::string, std::unique_ptr<Layout>, std::less<>> layouts_;
  std::map<std::string, Block, std::less<>> procedures_;
  std::map<std::string, std::map<std::string, NamedEntry, std::less<>>, std::less<>> tables_;
};

}  // namespace sqlx::transports
