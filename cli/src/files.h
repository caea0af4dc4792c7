// Whole-file reads and atomic writes of the commands' input and output files.
#pragma once

#include <string>

#include "sqlx/messages/result.h"

namespace sqlx::cli {

// Writes `text` to `path` atomically: a temporary file beside it, synced,
// then renamed over it. A failure leaves `path` as it was.
Status WriteFileAtomically(const std::string& path, const std::string& text);

// The whole file; kNotFound or kIo naming it. Files larger than `max_bytes`
// are refused with kLimit (they come from users: do not read without bound).
Result<std::string> ReadTextFile(const std::string& path, size_t max_bytes = size_t{16} << 20);

}  // namespace sqlx::cli
