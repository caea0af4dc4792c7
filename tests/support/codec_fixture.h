// The layout codec's test fixture over the shipped MySQL pack: its layouts
// by name, variable files as a WireVm holds them, and payloads written as
// hex with '...' for text: Wire("0a '8.0.36' 00").
#pragma once

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

#include "pack.h"
#include "shipped_pack.h"
#include "value_testing.h"

namespace sqlx::transports::testing {

inline Value Text(std::string_view v) { return Value::Bytes(v); }

// "0a 'abc' 00" -> bytes: hex pairs, whitespace ignored, '...' as text.
inline std::string Wire(std::string_view spec) {
  std::string out;
  for (size_t i = 0; i < spec.size();) {
    char c = spec[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '\'') {
      size_t end = spec.find('\'', i + 1);
      out.append(spec.substr(i + 1, end - i - 1));
      i = end + 1;
    } else {
      out += static_cast<char>(std::stoi(std::string(spec.substr(i, 2)), nullptr, 16));
      i += 2;
    }
  }
  return out;
}

inline std::string Repeat(char c, size_t n) { return std::string(n, c); }

// The shipped pack, with its layouts found by walking every procedure
// (WirePack exposes layouts only through the steps that use them).
class MysqlPack {
 public:
  static const MysqlPack& Get() {
    static const MysqlPack* instance = new MysqlPack();
    return *instance;
  }
  const WirePack& pack() const { return pack_; }
  const Layout& layout(const std::string& name) const {
    auto it = layouts_.find(name);
    if (it == layouts_.end()) {
      ADD_FAILURE() << "the pack has no layout '" << name << "'";
      static const Layout kEmpty;
      return kEmpty;
    }
    return *it->second;
  }
  // Layouts some recv case decodes (the rest are only ever encoded).
  const std::vector<std::string>& decoded_layouts() const { return decoded_; }
  uint64_t flag(const std::string& name) const { return PackConstant(name); }
  // A fresh variable file for one packet, holding the pack's defaults as a
  // new WireVm does.
  std::vector<Value> Vars() const {
    std::vector<Value> vars(pack_.symbols().size());
    for (const auto& [name, v] : pack_.defaults()) vars[pack_.symbols().Find(name)] = v;
    return vars;
  }
  size_t Slot(std::string_view name) const {
    size_t slot = pack_.symbols().Find(name);
    if (slot == SIZE_MAX) ADD_FAILURE() << "the pack names no variable '" << name << "'";
    return slot;
  }

 private:
  MysqlPack() : pack_(MysqlWirePack()) {
    for (const char* proc : {"connect", "auth_loop", "ping", "init_db", "quit", "expect_ok", "query"}) {
      const Block* b = pack_.procedure(proc);
      if (b != nullptr) Collect(*b);
    }
  }
  void Collect(const Block& b) {
    for (const Step& s : b.steps) {
      if (s.layout != nullptr) layouts_[s.layout->name] = s.layout;
      for (const RecvCase& c : s.cases) {
        if (c.decode != nullptr) {
          layouts_[c.decode->name] = c.decode;
          if (std::find(decoded_.begin(), decoded_.end(), c.decode->name) == decoded_.end())
            decoded_.push_back(c.decode->name);
        }
        Collect(c.body);
      }
      Collect(s.then_block);
      Collect(s.else_block);
    }
  }

  const WirePack& pack_;
  std::map<std::string, const Layout*> layouts_;
  std::vector<std::string> decoded_;
};

using VarList = std::vector<std::pair<const char*, Value>>;

// Sets each variable `preset` names in `vars`.
inline void Preset(const MysqlPack& p, std::vector<Value>& vars, const VarList& preset) {
  for (const auto& [name, v] : preset) vars[p.Slot(name)] = v;
}

}  // namespace sqlx::transports::testing
