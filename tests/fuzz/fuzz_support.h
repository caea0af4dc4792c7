// Shared pieces of the libFuzzer targets: the real wire pack (loaded once), a
// VM wired to scripted server bytes, and a walk over every cell of a row
// batch so that a cell pointing outside its batch is caught by the sanitizers.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "framing.h"
#include "memory_stream.h"
#include "pack.h"
#include "wire_vm.h"

namespace sqlx::transports::fuzz {

// The pack shipped in transports/packs/. Aborts (a harness bug, not a
// finding) when it does not load.
inline const WirePack& RealPack() {
  static const std::shared_ptr<const WirePack> pack = [] {
    auto loaded = WirePack::Load(SQLX_SOURCE_DIR "/transports/packs/mysql.wire.json");
    if (!loaded.ok()) {
      std::fprintf(stderr, "fuzz: cannot load the wire pack: %s\n", loaded.error().message.c_str());
      std::abort();
    }
    return std::move(loaded).value();
  }();
  return *pack;
}

// Bit value of a named capability of the pack (0 when unknown).
inline uint64_t Capability(const WirePack& pack, std::string_view name) {
  const auto* caps = pack.flag_set("capabilities");
  if (caps == nullptr) return 0;
  auto it = caps->find(name);
  return it == caps->end() ? 0 : it->second;
}

// A WireVm whose "server" is `server_bytes`, handed out in small chunks so
// that the framer's reassembly runs too. TLS upgrades pretend to succeed: the
// scripted server goes on in plaintext, which reaches the post-TLS steps.
class ScriptedVm : public WireVm::Host {
 public:
  static constexpr size_t kChunk = 61;
  static constexpr uint64_t kMaxPacket = 64u << 20;

  explicit ScriptedVm(std::string server_bytes)
      : stream_(std::move(server_bytes), kChunk),
        framer_(RealPack(), &stream_, kMaxPacket),
        vm_(RealPack(), &framer_, this) {}

  Status StartTls() override { return Status::Ok(); }
  WireVm& vm() { return vm_; }

  // Runs procedure `name` to its end, reading every row it yields. Returns
  // false on the first error (any error is a fine outcome for a fuzz input).
  bool RunProcedure(std::string_view name) {
    if (!vm_.Begin(name).ok()) return false;
    for (;;) {
      auto y = vm_.Run();
      if (!y.ok()) return false;
      switch (*y) {
        case WireVm::Yield::kDone: return true;
        case WireVm::Yield::kEvent: break;
        case WireVm::Yield::kRows: TouchRows(vm_.rows()); break;
      }
    }
  }

 private:
  static void TouchRows(const RowBatch& batch) {
    unsigned sum = 0;
    for (size_t r = 0; r < batch.rows(); ++r) {
      for (size_t c = 0; c < batch.columns(); ++c) {
        if (batch.is_null(r, c)) continue;
        std::string_view v = batch.value(r, c);
        if (v.size() > batch.byte_size()) __builtin_trap();  // a cell larger than its batch
        for (char ch : v) sum += static_cast<unsigned char>(ch);
      }
    }
    volatile unsigned sink = sum;
    (void)sink;
  }

  testing::MemoryStream stream_;
  Framer framer_;
  WireVm vm_;
};

}  // namespace sqlx::transports::fuzz
