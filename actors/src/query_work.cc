#include "query_work.h"

#include <flatbuffers/flatbuffers.h>

#include <cstring>

#include "job_buffer.h"

namespace sqlx::actors {
namespace fb = ::sqlx::fb::jobs;

namespace {

constexpr uint32_t kNullCell = 0xFFFFFFFFu;

const fb::Envelope* Env(std::string_view verified) { return fb::GetEnvelope(verified.data()); }

std::vector<uint8_t> Bytes(flatbuffers::FlatBufferBuilder& b) {
  return std::vector<uint8_t>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

flatbuffers::Offset<flatbuffers::Vector<flatbuffers::Offset<fb::ResultColumn>>> Columns(
    flatbuffers::FlatBufferBuilder& b, const std::vector<transports::Column>& columns) {
  std::vector<flatbuffers::Offset<fb::ResultColumn>> out;
  out.reserve(columns.size());
  for (const transports::Column& c : columns) {
    out.push_back(fb::CreateResultColumnDirect(b, c.name.c_str(), c.org_name.c_str(), c.table.c_str(),
                                               c.org_table.c_str(), c.schema.c_str(), c.type, c.flags, c.charset,
                                               c.length, c.decimals));
  }
  return b.CreateVector(out);
}

// What one step says besides its rows.
struct StepHead {
  uint32_t result = 0;
  bool has_rows = false;
  const std::vector<transports::Column>* columns = nullptr;  // set: sent with this step
  const transports::Completion* completion = nullptr;         // set: the result ends here
  bool end_of_query = false;
};

std::vector<uint8_t> BuildStep(std::string_view job_id, const StepHead& head, const transports::RowBatch* rows) {
  // Two passes over the cells: their sizes (summing their bytes), then
  // their bytes, copied once straight into the builder. The batch's payload
  // size bounds the cells' bytes, so the builder does not grow.
  const size_t cells = rows != nullptr ? rows->rows() * rows->columns() : 0;
  flatbuffers::FlatBufferBuilder b(1024 + (rows != nullptr ? rows->byte_size() : 0) + cells * 4);
  flatbuffers::Offset<flatbuffers::Vector<uint8_t>> data;
  flatbuffers::Offset<flatbuffers::Vector<uint32_t>> sizes;
  if (cells > 0) {
    uint32_t* size_out = nullptr;
    sizes = b.CreateUninitializedVector(cells, &size_out);
    size_t bytes = 0;
    for (size_t r = 0; r < rows->rows(); ++r) {
      for (size_t c = 0; c < rows->columns(); ++c) {
        if (rows->is_null(r, c)) {
          *size_out++ = kNullCell;
          continue;
        }
        const size_t size = rows->value(r, c).size();
        *size_out++ = static_cast<uint32_t>(size);
        bytes += size;
      }
    }
    uint8_t* out = nullptr;  // size_out is stale from here: the builder may move
    data = b.CreateUninitializedVector(bytes, &out);
    for (size_t r = 0; r < rows->rows(); ++r) {
      for (size_t c = 0; c < rows->columns(); ++c) {
        if (rows->is_null(r, c)) continue;
        const std::string_view v = rows->value(r, c);
        if (!v.empty()) std::memcpy(out, v.data(), v.size());
        out += v.size();
      }
    }
  }
  auto columns = head.columns != nullptr ? Columns(b, *head.columns) : 0;
  auto info = head.completion != nullptr ? b.CreateString(head.completion->info) : 0;
  fb::QueryRowsBuilder q(b);
  q.add_result(head.result);
  if (head.columns != nullptr) q.add_columns(columns);
  q.add_has_rows(head.has_rows);
  if (rows != nullptr) q.add_rows(static_cast<uint32_t>(rows->rows()));
  if (cells > 0) {
    q.add_cell_sizes(sizes);
    q.add_data(data);
  }
  if (head.completion != nullptr) {
    q.add_end_of_result(true);
    q.add_affected_rows(head.completion->affected_rows);
    q.add_last_insert_id(head.completion->last_insert_id);
    q.add_warnings(head.completion->warnings);
    q.add_status(head.completion->status);
    q.add_info(info);
  }
  q.add_end_of_query(head.end_of_query);
  auto body = q.Finish();
  FinishEnvelopeIn(b, job_id, 1, fb::Body::QueryRows, body.Union());
  return Bytes(b);
}

Error Contradicts(const std::string& what) {
  return MakeError(ErrorCode::kProtocol, "query results: " + what);
}

}  // namespace

std::string QueryJob(std::string_view job_id, const QueryJobInfo& query) {
  flatbuffers::FlatBufferBuilder b(256 + query.sql.size());
  // Sized strings: SQL may hold a NUL byte (a literal), which c_str() would cut at.
  auto sql = b.CreateString(query.sql.data(), query.sql.size());
  auto database = b.CreateString(query.database.data(), query.database.size());
  auto body = fb::CreateQueryJob(b, sql, database, static_cast<uint32_t>(query.idle_timeout.count()));
  return FinishEnvelope(b, job_id, 1, fb::Body::QueryJob, body.Union());
}

QueryJobInfo ReadQueryJob(std::string_view verified) {
  const fb::QueryJob* q = Env(verified)->body_as_QueryJob();
  QueryJobInfo out;
  out.sql = std::string(Str(q->sql()));
  out.database = std::string(Str(q->database()));
  out.idle_timeout = std::chrono::milliseconds(q->idle_timeout_ms());
  return out;
}

std::string QueryNext(std::string_view job_id, bool cancel) {
  flatbuffers::FlatBufferBuilder b(128);
  auto body = fb::CreateQueryNext(b, cancel);
  return FinishEnvelope(b, job_id, 1, fb::Body::QueryNext, body.Union());
}

bool ReadQueryNextCancel(std::string_view verified) { return Env(verified)->body_as_QueryNext()->cancel(); }

Result<std::vector<uint8_t>> OpenQuery::Step(bool* end) {
  *end = false;
  if (!in_rows_) {
    SQLX_ASSIGN_OR_RETURN(bool more, stream_->NextResult());
    if (!more) {
      *end = true;
      return EndStep();
    }
    const uint32_t index = next_result_++;
    if (!stream_->has_rows()) {
      return BuildStep(job_id_, StepHead{index, false, nullptr, &stream_->completion(), false}, nullptr);
    }
    in_rows_ = true;
    columns_sent_ = false;
  }
  SQLX_ASSIGN_OR_RETURN(const transports::RowBatch* batch, stream_->NextBatch());
  StepHead head{next_result_ - 1, true, columns_sent_ ? nullptr : &stream_->columns(), nullptr, false};
  columns_sent_ = true;
  if (batch == nullptr) {
    in_rows_ = false;
    head.completion = &stream_->completion();
  }
  return BuildStep(job_id_, head, batch);
}

std::vector<uint8_t> OpenQuery::EndStep() const {
  return BuildStep(job_id_, StepHead{next_result_, false, nullptr, nullptr, true}, nullptr);
}

Status QuerySteps::Take(std::string_view verified) {
  const fb::QueryRows* q = Env(verified)->body_as_QueryRows();
  batch_.Reset(columns_.size());
  if (end_of_query_) return Contradicts("a step came after the end of the query");
  if (q->end_of_query()) {
    end_of_query_ = true;
    return Status::Ok();
  }
  const bool started = results_started_ > 0;
  const bool new_result = !started || end_of_result_;
  if (new_result) {
    const uint32_t expected = started ? result_ + 1 : 0;
    if (q->result() != expected) {
      return Contradicts("result " + std::to_string(q->result()) + " came where result " + std::to_string(expected) +
                         " was due");
    }
    ++results_started_;
    result_ = q->result();
    has_rows_ = q->has_rows();
    end_of_result_ = false;
    completion_ = transports::Completion{};
    columns_.clear();
    if (has_rows_) {
      if (q->columns() == nullptr || q->columns()->size() == 0)
        return Contradicts("row result " + std::to_string(result_) + " came without its columns");
      for (const fb::ResultColumn* c : *q->columns()) {
        columns_.push_back(transports::Column{std::string(Str(c->name())), std::string(Str(c->org_name())),
                                              std::string(Str(c->table())), std::string(Str(c->org_table())),
                                              std::string(Str(c->schema())), c->type(), c->flags(), c->charset(),
                                              c->length(), c->decimals()});
      }
    }
  } else if (q->result() != result_) {
    return Contradicts("result " + std::to_string(q->result()) + " came before result " + std::to_string(result_) +
                       " ended");
  }
  batch_.Reset(columns_.size());
  if (q->rows() > 0) {
    if (!has_rows_) return Contradicts("rows came for a result without columns");
    const uint64_t cells = uint64_t{q->rows()} * columns_.size();
    const auto* sizes = q->cell_sizes();
    const auto* data = q->data();
    if (sizes == nullptr || sizes->size() != cells)
      return Contradicts(std::to_string(q->rows()) + " rows of " + std::to_string(columns_.size()) +
                         " columns came with " + std::to_string(sizes == nullptr ? 0 : sizes->size()) + " cell sizes");
    const size_t base =
        batch_.AppendPayload(data == nullptr ? std::string_view()
                                             : std::string_view(reinterpret_cast<const char*>(data->data()), data->size()));
    const uint64_t available = data == nullptr ? 0 : data->size();
    uint64_t offset = 0;
    size_t cell = 0;
    for (uint32_t r = 0; r < q->rows(); ++r) {
      for (size_t c = 0; c < columns_.size(); ++c, ++cell) {
        const uint32_t size = sizes->Get(static_cast<uint32_t>(cell));
        if (size == kNullCell) {
          batch_.AddNull();
          continue;
        }
        if (size > available - offset) {
          batch_.Reset(columns_.size());
          return Contradicts("a cell reaches past the step's " + std::to_string(available) + " bytes");
        }
        batch_.AddCell(base + offset, size);
        offset += size;
      }
      batch_.EndRow();
    }
    if (offset != available) {
      batch_.Reset(columns_.size());
      return Contradicts("the cells hold " + std::to_string(offset) + " of the step's " + std::to_string(available) +
                         " bytes");
    }
  }
  if (q->end_of_result()) {
    end_of_result_ = true;
    completion_ = transports::Completion{q->affected_rows(), q->last_insert_id(), q->warnings(), q->status(),
                                         std::string(Str(q->info()))};
  }
  return Status::Ok();
}

}  // namespace sqlx::actors
