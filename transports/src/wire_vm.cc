#include "wire_vm.h"

#include "codec.h"

namespace sqlx::transports {

namespace {
const Value kNullValue;
}

WireVm::WireVm(const WirePack& pack, Framer* framer, Host* host)
    : pack_(pack), framer_(framer), host_(host), vars_(pack.symbols().size()) {
  for (const auto& [name, v] : pack.defaults()) {
    size_t slot = pack.symbols().Find(name);
    if (slot != SIZE_MAX) vars_[slot] = v;
  }
  slot_first_byte_ = pack.symbols().Find("first_byte");
  slot_packet_len_ = pack.symbols().Find("packet_len");
  slot_packet_ = pack.symbols().Find("packet");
  slot_tls_active_ = pack.symbols().Find("tls_active");
}

void WireVm::Set(std::string_view name, Value value) {
  size_t slot = pack_.symbols().Find(name);
  if (slot != SIZE_MAX) vars_[slot] = std::move(value);
}

const Value& WireVm::Get(std::string_view name) const {
  size_t slot = pack_.symbols().Find(name);
  return slot == SIZE_MAX ? kNullValue : vars_[slot];
}

Status WireVm::Begin(std::string_view name) {
  const Block* block = pack_.procedure(name);
  if (block == nullptr) {
    return MakeError(ErrorCode::kPack, "wire pack " + pack_.file() + " has no procedure '" +
                                           std::string(name) + "'");
  }
  if (!in_sync_) {
    return MakeError(ErrorCode::kClosed,
                     "the connection is unusable after an earlier error; open a new session");
  }
  frames_.clear();
  frames_.push_back({block, 0, nullptr, 0, true});
  rows_pending_end_ = false;
  return Status::Ok();
}

Result<std::string_view> WireVm::Receive() {
  auto packet = framer_->ReadPacket();
  if (!packet.ok()) return Unsync(std::move(packet).error());
  std::string_view p = *packet;
  SetInt(slot_first_byte_, p.empty() ? 0x100 : static_cast<uint8_t>(p[0]));
  SetInt(slot_packet_len_, p.size());
  return p;
}

Status WireVm::RunFail(const Step& s) {
  EvalContext ctx{&vars_, {}, false};
  Error e;
  e.code = s.fail_code;
  if (s.fail_from_server) {
    const Value& code = Get("error_code");
    const Value& state = Get("sqlstate");
    const Value& msg = Get("error_message");
    e.server_code = code.is_int() ? static_cast<int>(code.i) : 0;
    e.sqlstate = state.is_bytes() ? state.b : "";
    e.message = msg.is_bytes() ? msg.b : "";
  }
  if (!s.fail_message.empty()) {
    auto m = s.fail_message.Eval(ctx);
    if (!m.ok()) return Unsync(std::move(m).error());
    if (m->is_bytes()) e.message = m->b;
  }
  if (e.code == ErrorCode::kServer) {
    // The command failed but the connection is in step: keep it usable.
    frames_.clear();
    return e;
  }
  return Unsync(std::move(e));
}

// Finds the first case whose `when` holds, decodes the packet with its
// layout and pushes its body. Returns false when no case matched.
Result<bool> WireVm::RunRecvCases(const std::vector<RecvCase>& cases, std::string_view payload,
                                  const std::string& where) {
  EvalContext ctx{&vars_, {}, false};
  for (const RecvCase& c : cases) {
    if (!c.when.IsConstantTrue()) {
      auto hit = c.when.EvalBool(ctx);
      if (!hit.ok()) return Unsync(std::move(hit).error());
      if (!*hit) continue;
    }
    if (c.decode != nullptr) {
      Status st = DecodeLayout(pack_, *c.decode, payload, vars_);
      if (!st.ok()) return Unsync(std::move(st).error());
    }
    if (!c.body.steps.empty()) frames_.push_back({&c.body, 0, nullptr, 0, false});
    return true;
  }
  (void)where;
  return false;
}

// Fills the batch. Returns true when the VM must yield rows.
Result<bool> WireVm::StepRows(const Step& s) {
  size_t columns = 0;
  EvalContext ctx{&vars_, {}, false};
  for (const Field& f : s.layout->fields) {
    if (f.repeat.empty()) {
      ++columns;
      continue;
    }
    auto n = f.repeat.Eval(ctx);
    if (!n.ok() || !n->is_int()) {
      return Unsync(MakeError(ErrorCode::kPack, f.path + ": repeat must be an integer"));
    }
    columns += n->i;
  }
  batch_.Reset(columns);
  for (;;) {
    auto packet = Receive();
    if (!packet.ok()) return packet.error();
    std::string_view p = *packet;
    // End-of-rows cases first: a terminator or an error in the middle.
    auto ended = RunRecvCases(s.cases, p, s.path);
    if (!ended.ok()) return ended.error();
    if (*ended) return !batch_.empty();
    Status st = DecodeRow(pack_, *s.layout, p, vars_, &batch_);
    if (!st.ok()) return Unsync(std::move(st).error());
    if (batch_.rows() >= max_batch_rows_ || batch_.byte_size() >= max_batch_bytes_) {
      // Resume this same step after the host has taken the batch.
      --frames_.back().pc;
      return true;
    }
  }
}

Status WireVm::Execute(const Step& s, bool* yield_event) {
  EvalContext ctx{&vars_, {}, false};
  switch (s.kind) {
    case StepKind::kSend: {
      auto payload = EncodeLayout(pack_, *s.layout, vars_);
      if (!payload.ok()) return Unsync(std::move(payload).error());
      Status st = framer_->WritePacket(*payload);
      if (!st.ok()) return Unsync(std::move(st).error());
      return Status::Ok();
    }
    case StepKind::kSendRaw: {
      auto v = s.expr.Eval(ctx);
      if (!v.ok()) return Unsync(std::move(v).error());
      if (!v->is_bytes()) {
        return Unsync(MakeError(ErrorCode::kPack, s.path + ": send_raw needs bytes, got " +
                                                      ValueKindName(v->kind)));
      }
      Status st = framer_->WritePacket(v->b);
      if (!st.ok()) return Unsync(std::move(st).error());
      return Status::Ok();
    }
    case StepKind::kRecv: {
      auto packet = Receive();
      if (!packet.ok()) return packet.error();
      if (slot_packet_ != SIZE_MAX) vars_[slot_packet_] = Value::Bytes(*packet);
      auto hit = RunRecvCases(s.cases, *packet, s.path);
      if (!hit.ok()) return hit.error();
      if (!*hit) {
        std::string first = packet->empty() ? "empty packet"
                                             : "first byte " + std::to_string(static_cast<uint8_t>((*packet)[0]));
        return Unsync(MakeError(ErrorCode::kProtocol, "unexpected packet from the server (" + first +
                                                          ", " + std::to_string(packet->size()) +
                                                          " bytes) at " + s.path + " of " + pack_.file()));
      }
      return Status::Ok();
    }
    case StepKind::kSet:
      for (const auto& [slot, e] : s.sets) {
        auto v = e.Eval(ctx);
        if (!v.ok()) return Unsync(std::move(v).error());
        vars_[slot] = std::move(v).value();
      }
      return Status::Ok();
    case StepKind::kIf: {
      auto c = s.expr.EvalBool(ctx);
      if (!c.ok()) return Unsync(std::move(c).error());
      const Block& b = *c ? s.then_block : s.else_block;
      if (!b.steps.empty()) frames_.push_back({&b, 0, nullptr, 0, false});
      return Status::Ok();
    }
    case StepKind::kWhile: {
      auto c = s.expr.EvalBool(ctx);
      if (!c.ok()) return Unsync(std::move(c).error());
      if (*c) frames_.push_back({&s.then_block, 0, &s, 0, false});
      return Status::Ok();
    }
    case StepKind::kRepeat: {
      auto n = s.expr.Eval(ctx);
      if (!n.ok()) return Unsync(std::move(n).error());
      if (!n->is_int()) return Unsync(MakeError(ErrorCode::kPack, s.path + ": repeat needs an integer"));
      if (n->i > 0) frames_.push_back({&s.then_block, 0, &s, n->i, false});
      return Status::Ok();
    }
    case StepKind::kBreak:
      while (!frames_.empty()) {
        Frame f = frames_.back();
        if (f.is_call) return Unsync(MakeError(ErrorCode::kPack, s.path + ": break outside a loop"));
        frames_.pop_back();
        if (f.loop != nullptr) break;
      }
      return Status::Ok();
    case StepKind::kReturn:
      while (!frames_.empty()) {
        bool was_call = frames_.back().is_call;
        frames_.pop_back();
        if (was_call) break;
      }
      return Status::Ok();
    case StepKind::kFail: return RunFail(s);
    case StepKind::kEmit:
      event_ = s.name;
      *yield_event = true;
      return Status::Ok();
    case StepKind::kStartTls: {
      if (framer_->HasBufferedBytes()) {
        return Unsync(MakeError(ErrorCode::kProtocol,
                                "server sent data before the TLS handshake; refusing to upgrade"));
      }
      Status st = host_->StartTls();
      if (!st.ok()) return Unsync(std::move(st).error());
      SetInt(slot_tls_active_, 1);
      return Status::Ok();
    }
    case StepKind::kResetSequence: framer_->ResetSequence(); return Status::Ok();
    case StepKind::kCall:
      frames_.push_back({pack_.procedure(s.name), 0, nullptr, 0, true});
      return Status::Ok();
    case StepKind::kCallNamed: {
      auto entry = s.name_expr.Eval(ctx);
      if (!entry.ok()) return Unsync(std::move(entry).error());
      std::string entry_name = entry->is_bytes() ? entry->b : "";
      const NamedEntry* hooks = pack_.named_entry(s.name, entry_name);
      if (hooks == nullptr) {
        std::string known;
        for (const auto& n : pack_.named_entries(s.name)) known += (known.empty() ? "" : ", ") + n;
        return Unsync(MakeError(ErrorCode::kUnsupported,
                                "the server asked for " + s.name + " entry '" + entry_name +
                                    "', which wire pack " + pack_.file() + " does not define (it has: " +
                                    known + ")"));
      }
      auto hook = hooks->find(s.hook);
      if (hook == hooks->end()) {
        return Unsync(MakeError(ErrorCode::kProtocol, "the server sent a packet that " + s.name + " entry '" +
                                                          entry_name + "' has no '" + s.hook +
                                                          "' step for"));
      }
      frames_.push_back({&hook->second, 0, nullptr, 0, true});
      return Status::Ok();
    }
    case StepKind::kRows: return Status::Ok();  // handled in Run()
  }
  return Status::Ok();
}

Result<WireVm::Yield> WireVm::Run() {
  while (!frames_.empty()) {
    Frame& f = frames_.back();
    if (f.pc >= f.block->steps.size()) {
      if (f.loop != nullptr && f.loop->kind == StepKind::kWhile) {
        EvalContext ctx{&vars_, {}, false};
        auto c = f.loop->expr.EvalBool(ctx);
        if (!c.ok()) return Unsync(std::move(c).error());
        if (*c) {
          f.pc = 0;
          continue;
        }
      } else if (f.loop != nullptr && --f.remaining > 0) {
        f.pc = 0;
        continue;
      }
      frames_.pop_back();
      continue;
    }
    const Step& s = f.block->steps[f.pc++];
    if (s.kind == StepKind::kRows) {
      auto yield = StepRows(s);
      if (!yield.ok()) return yield.error();
      if (*yield) return Yield::kRows;
      continue;
    }
    bool yield_event = false;
    Status st = Execute(s, &yield_event);
    if (!st.ok()) return std::move(st).error();
    if (yield_event) return Yield::kEvent;
  }
  return Yield::kDone;
}

}  // namespace sqlx::transports
