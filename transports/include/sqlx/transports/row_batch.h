// RowBatch: a batch of result-set rows as they came off the wire. Cells are
// views into one buffer owned by the batch; a batch is reused for the next
// rows, so views stay valid only until the cursor fetches again.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace sqlx::transports {

class RowBatch {
 public:
  size_t rows() const { return rows_; }
  size_t columns() const { return columns_; }
  bool empty() const { return rows_ == 0; }
  // Bytes held (row payloads); what back-pressure limits are measured in.
  size_t byte_size() const { return data_.size(); }

  // REQUIRES: row < rows(), column < columns().
  bool is_null(size_t row, size_t column) const { return cells_[row * columns_ + column].size == kNull; }
  std::string_view value(size_t row, size_t column) const {
    const CellRef& c = cells_[row * columns_ + column];
    return c.size == kNull ? std::string_view() : std::string_view(data_.data() + c.offset, c.size);
  }
  std::optional<std::string_view> cell(size_t row, size_t column) const {
    if (is_null(row, column)) return std::nullopt;
    return value(row, column);
  }

  // Building (the VM): Reset() for a new batch, then per row: AppendPayload()
  // once, cells by offset within that payload, then EndRow().
  void Reset(size_t columns) {
    columns_ = columns;
    rows_ = 0;
    data_.clear();
    cells_.clear();
  }
  size_t AppendPayload(std::string_view payload) {
    size_t base = data_.size();
    data_.append(payload.data(), payload.size());
    return base;
  }
  void AddCell(size_t offset, size_t size) { cells_.push_back({offset, size}); }
  void AddNull() { cells_.push_back({0, kNull}); }
  void EndRow() { ++rows_; }
  // Drops a half-built row (after a decode error).
  void DropPartialRow(size_t payload_base) {
    cells_.resize(rows_ * columns_);
    data_.resize(payload_base);
  }
  size_t cells_in_partial_row() const { return cells_.size() - rows_ * columns_; }

 private:
  static constexpr size_t kNull = SIZE_MAX;
  struct CellRef {
    size_t offset;
    size_t size;
  };
  std::string data_;
  std::vector<CellRef> cells_;
  size_t columns_ = 0;
  size_t rows_ = 0;
};

}  // namespace sqlx::transports
