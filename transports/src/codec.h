// Layout codec: turns packet payloads into VM variables and back, following
// a pack layout field by field. Peer bytes are untrusted: every read is
// bounds-checked and a short or malformed payload is a kProtocol error.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "pack.h"
#include "sqlx/messages/result.h"
#include "sqlx/transports/row_batch.h"
#include "value.h"

namespace sqlx::transports {

// Decodes `payload` into `vars` (fields assigned to their slots in order).
Status DecodeLayout(const WirePack& pack, const Layout& layout, std::string_view payload,
                    std::vector<Value>& vars);

// Encodes `layout` from `vars` into a payload.
Result<std::string> EncodeLayout(const WirePack& pack, const Layout& layout,
                                 std::vector<Value>& vars);

// Decodes one row: every field yields one cell (a `repeat` field N cells).
// The payload is copied once into `batch`; cells point into the copy.
Status DecodeRow(const WirePack& pack, const Layout& layout, std::string_view payload,
                 const std::vector<Value>& vars, RowBatch* batch);

}  // namespace sqlx::transports
