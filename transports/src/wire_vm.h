// WireVm: runs a wire pack's procedures (connect, ping, query, ...) over a
// Framer. It knows steps, layouts and expressions, never a protocol: what a
// greeting or an OK packet is, lives in the pack.
//
// The VM is resumable. Run() returns when the procedure ends, when it emits
// an event (the host may read and set variables, then calls Run() again), or
// when a batch of rows is ready (the host consumes rows() before Run()
// reads more from the socket: this is the back-pressure).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "framing.h"
#include "pack.h"
#include "sqlx/messages/result.h"
#include "sqlx/transports/row_batch.h"
#include "value.h"

namespace sqlx::transports {

class WireVm {
 public:
  // What a host provides to the VM. Implemented by the session.
  class Host {
   public:
    virtual ~Host() = default;
    // Upgrades the connection to TLS (the `start_tls` step).
    virtual Status StartTls() = 0;
  };

  enum class Yield { kDone, kEvent, kRows };

  // `pack`, `framer` and `host` must outlive the VM.
  WireVm(const WirePack& pack, Framer* framer, Host* host);

  // Variables by name. Names no pack expression uses are ignored by Set and
  // read as null by Get.
  void Set(std::string_view name, Value value);
  const Value& Get(std::string_view name) const;

  // Starts procedure `name` from its first step. kPack if the pack lacks it.
  Status Begin(std::string_view name);
  // Runs until the procedure ends, an event, or a full batch of rows.
  Result<Yield> Run();
  // Runs to the end, failing on rows (for procedures that return none) and
  // passing events to `on_event`.
  template <class OnEvent>
  Status RunToEnd(OnEvent&& on_event);

  // The event name after Run() returned kEvent.
  const std::string& event() const { return event_; }
  // The rows after Run() returned kRows. Valid until the next Run().
  const RowBatch& rows() const { return batch_; }
  void SetBatchLimits(size_t max_rows, size_t max_bytes) {
    max_batch_rows_ = max_rows;
    max_batch_bytes_ = max_bytes;
  }

  // False once an I/O or protocol error left the connection in an unknown
  // state; a server error reported through the pack keeps it true.
  bool in_sync() const { return in_sync_; }
  // True while a procedure has not finished.
  bool busy() const { return !frames_.empty(); }

 private:
  struct Frame {
    const Block* block;
    size_t pc;
    const Step* loop;  // the while/repeat step whose body this is
    uint64_t remaining;
    bool is_call;
  };

  Result<std::string_view> Receive();
  Status RunFail(const Step& s);
  Result<bool> RunRecvCases(const std::vector<RecvCase>& cases, std::string_view payload,
                            const std::string& where);
  Result<bool> StepRows(const Step& s);
  Status Execute(const Step& s, bool* yield_event);
  Error Unsync(Error e) {
    in_sync_ = false;
    frames_.clear();
    return e;
  }
  void SetInt(size_t slot, uint64_t v) {
    if (slot == SIZE_MAX) return;
    Value& x = vars_[slot];
    x.kind = Value::Kind::kInt;
    x.i = v;
  }

  const WirePack& pack_;
  Framer* framer_;
  Host* host_;
  std::vector<Value> vars_;
  std::vector<Frame> frames_;
  std::string event_;
  RowBatch batch_;
  size_t max_batch_rows_ = 4096;
  size_t max_batch_bytes_ = 1 << 20;
  bool in_sync_ = true;
  bool rows_pending_end_ = false;
  size_t slot_first_byte_;
  size_t slot_packet_len_;
  size_t slot_packet_;
  size_t slot_tls_active_;
};

template <class OnEvent>
Status WireVm::RunToEnd(OnEvent&& on_event) {
  for (;;) {
    auto y = Run();
    if (!y.ok()) return y.error();
    switch (*y) {
      case Yield::kDone: return Status::Ok();
      case Yield::kEvent: SQLX_RETURN_IF_ERROR(on_event(event_)); break;
      case Yield::kRows:
        return MakeError(ErrorCode::kProtocol, "rows arrived where the procedure expects none");
    }
  }
}

}  // namespace sqlx::transports
