// A query the connection actor streams (jobs.fbs QueryJob / QueryNext /
// QueryRows): the jobs as bytes, one open query on a session and how it
// moves on by one step, and the asker's side, turning steps back into
// transports::RowBatch and Completion.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "sqlx/messages/result.h"
#include "sqlx/transports/session.h"

namespace sqlx::actors {

// What a QueryJob asks for.
struct QueryJobInfo {
  std::string sql;
  std::string database;  // empty: the URL's
  std::chrono::milliseconds idle_timeout{0};  // 0: kDefaultQueryIdle
};
inline constexpr std::chrono::milliseconds kDefaultQueryIdle{60000};

std::string QueryJob(std::string_view job_id, const QueryJobInfo& query);
// REQUIRES: Verify(kQueryJob, job) passed.
QueryJobInfo ReadQueryJob(std::string_view verified);

std::string QueryNext(std::string_view job_id, bool cancel);
// REQUIRES: Verify(kQueryNext, bytes) passed.
bool ReadQueryNextCancel(std::string_view verified);

// One query open on a session, between steps.
class OpenQuery {
 public:
  OpenQuery(std::string job_id, std::unique_ptr<transports::QueryStream> stream)
      : job_id_(std::move(job_id)), stream_(std::move(stream)) {}

  const std::string& job_id() const { return job_id_; }

  // The next QueryRows envelope (bytes): rows of the current result (the
  // session's next batch), a result's end, or the query's end (`*end` set;
  // the stream is then finished). An error leaves the query unusable.
  Result<std::vector<uint8_t>> Step(bool* end);

  // The QueryRows that ends a query that was cancelled or closed.
  std::vector<uint8_t> EndStep() const;

 private:
  std::string job_id_;
  std::unique_ptr<transports::QueryStream> stream_;
  uint32_t next_result_ = 0;  // index the next result will have
  bool in_rows_ = false;      // the current result (next_result_ - 1) has rows left
  bool columns_sent_ = false;
};

// The asker's side: the steps of one query as the transports::QueryStream
// calls read them.
class QuerySteps {
 public:
  // Takes one verified QueryRows step. kProtocol when it contradicts the
  // steps before it (a result index out of order, cells that do not add
  // up).
  Status Take(std::string_view verified);

  // Where the steps taken so far leave the reader (QueryStream semantics).
  bool end_of_query() const { return end_of_query_; }
  uint32_t result() const { return result_; }           // index of the current result
  uint64_t results_started() const { return results_started_; }  // 0: no result has begun
  bool has_rows() const { return has_rows_; }
  bool end_of_result() const { return end_of_result_; }
  const std::vector<transports::Column>& columns() const { return columns_; }
  const transports::Completion& completion() const { return completion_; }
  // The rows of the last step taken (empty when it carried none).
  const transports::RowBatch& batch() const { return batch_; }

 private:
  uint64_t results_started_ = 0;
  bool end_of_query_ = false;
  uint32_t result_ = 0;
  bool has_rows_ = false;
  bool end_of_result_ = false;
  std::vector<transports::Column> columns_;
  transports::Completion completion_;
  transports::RowBatch batch_;
};

}  // namespace sqlx::actors
