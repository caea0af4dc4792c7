// Rows as tests compare them: each cell a string, or nullopt for SQL NULL.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sqlx/transports/row_batch.h"

namespace sqlx::testing {

using Cell = std::optional<std::string>;
using Row = std::vector<Cell>;

// Appends a copy of every row of `batch` to `rows`.
inline void AppendRows(const transports::RowBatch& batch, std::vector<Row>* rows) {
  for (size_t r = 0; r < batch.rows(); ++r) {
    Row& row = rows->emplace_back();
    for (size_t c = 0; c < batch.columns(); ++c) {
      auto cell = batch.cell(r, c);
      row.push_back(cell ? Cell(std::string(*cell)) : std::nullopt);
    }
  }
}

}  // namespace sqlx::testing
