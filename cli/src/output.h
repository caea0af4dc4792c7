// Buffered stdout writers for query results: TSV exactly as
// `mariadb --batch --skip-column-names` prints it, and NDJSON.
#pragma once

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "sqlx/transports/row_batch.h"
#include "sqlx/transports/session.h"

namespace sqlx::cli {

// Collects output in a large buffer and writes it with write(2). Not
// thread-safe. Flush() before exiting; errors (EPIPE, disk full) are sticky
// and reported by Flush().
class OutputBuffer {
 public:
  explicit OutputBuffer(int fd = 1, size_t capacity = 1 << 20);
  ~OutputBuffer();
  void Append(std::string_view s) {
    buf_.append(s.data(), s.size());
    if (buf_.size() >= capacity_) Flush();
  }
  void Append(char c) {
    buf_.push_back(c);
    if (buf_.size() >= capacity_) Flush();
  }
  std::string& raw() { return buf_; }
  void MaybeFlush() {
    if (buf_.size() >= capacity_) Flush();
  }
  // Returns false if any write failed.
  bool Flush();

 private:
  int fd_;
  size_t capacity_;
  std::string buf_;
  bool failed_ = false;
};

// Appends a batch as TSV rows: NULL as the word NULL; NUL, tab, newline and
// backslash escaped as \0 \t \n \\.
void AppendTsv(const transports::RowBatch& batch, OutputBuffer* out);
void AppendTsvHeader(const std::vector<transports::Column>& columns, OutputBuffer* out);

// Appends a batch as NDJSON: one object per row keyed by column name.
// Cells that are not valid UTF-8 become {"base64": "..."}.
void AppendNdjson(const transports::RowBatch& batch, const std::vector<std::string>& keys,
                  OutputBuffer* out);
// Unique JSON keys for the columns ("a", "a_2" for a repeated name).
std::vector<std::string> JsonKeys(const std::vector<transports::Column>& columns);

}  // namespace sqlx::cli
