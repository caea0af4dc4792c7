// The IR's FlatBuffers form: schema messages/schemas/ir.fbs, root Database,
// file identifier "SQIR" (docs/formats/ir.md). The code flatc generates stays
// private to messages/; callers see only bytes and ir::Database.
#pragma once

#include <string>
#include <string_view>

#include "sqlx/messages/ir.h"
#include "sqlx/messages/result.h"

namespace sqlx::ir {

// The 4 bytes at offset 4 of every IR FlatBuffer.
inline constexpr std::string_view kFlatBufferIdentifier = "SQIR";

// A finished FlatBuffer (root Database, identifier kFlatBufferIdentifier)
// holding every field of `db`, lists in the order they hold (call
// Canonicalize first to compare bytes). The same IR always gives the same
// bytes. Thread-safe.
std::string ToFlatBuffer(const Database& db);

// Reads ToFlatBuffer's output, or any buffer written with the same or an
// older evolution of the schema: fields the buffer lacks take the IR's
// defaults (ir.h). `bytes` is untrusted: its identifier is checked and the
// FlatBuffers verifier runs first (nesting, table count and expansion are
// bounded), so hostile bytes give kInvalidArgument naming what was wrong,
// never a crash. `bytes` need not be aligned and is not kept. Thread-safe.
Result<Database> FromFlatBuffer(std::string_view bytes);

}  // namespace sqlx::ir
