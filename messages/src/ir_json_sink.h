// ToCanonicalJson in pieces, for what reads the text as a stream (the
// profile hash): the same bytes, handed over in chunks, so that a large IR's
// text is never held whole.
#pragma once

#include <functional>
#include <string_view>

#include "sqlx/messages/ir.h"

namespace sqlx::ir {

// Calls `sink` with consecutive pieces of ToCanonicalJson(db, for_hash)
// (each about 64 KiB, the last one shorter); a piece is valid during the
// call only.
void WriteCanonicalJson(const Database& db, bool for_hash, const std::function<void(std::string_view)>& sink);

}  // namespace sqlx::ir
