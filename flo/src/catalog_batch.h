// One learn's catalog steps: each pack query run once for all databases, on
// the main session or, for the helper's share, on a helper session on a
// thread of its own; their rows handed to the builder, itself on a thread,
// in the order it needs (tables before their columns, routines before their
// parameters).
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "catalog.h"

namespace sqlx::flo {

class StepBoard;
class BuilderThread;

class CatalogBatch {
 public:
  static constexpr int kSteps = 14;  // catalog queries other than databases, sql_mode, privileges

  // `helper` (may be null) runs its share of the steps. `report` is called
  // on the calling thread with each step's query name as its rows are handed
  // over. REQUIRES: every argument outlives the batch; `schemas` is quoted
  // with `quoting`.
  CatalogBatch(CatalogReader& reader, CatalogReader* helper, CatalogBuilder& builder, SqlQuoting quoting,
               std::string schemas, std::function<void(std::string_view)> report);
  // Waits for the helper's thread (after a failure, it runs no further step).
  ~CatalogBatch();
  CatalogBatch(const CatalogBatch&) = delete;
  CatalogBatch& operator=(const CatalogBatch&) = delete;

  // Runs every step; then the builder holds all their rows. Fails on what
  // ends the learn (a lost connection, a query failing for another reason
  // than a privilege, a builder error). Call once.
  Status Run();

 private:
  bool OnHelper(size_t step) const;
  void RunHelper();
  // Hands the steps' rows to the builder in order up to `until`: waiting
  // for each, or only as far as they are in.
  Status HandOver(size_t until, bool wait);
  Status RunMain();

  CatalogReader& reader_;
  CatalogReader* helper_;
  CatalogBuilder& builder_;
  SqlQuoting quoting_;
  std::string schemas_;
  std::function<void(std::string_view)> report_;
  std::unique_ptr<StepBoard> board_;
  std::unique_ptr<BuilderThread> building_;
  size_t handed_ = 0;
  std::atomic<bool> stop_{false};
  std::thread helper_thread_;
};

}  // namespace sqlx::flo
