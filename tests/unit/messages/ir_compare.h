// Field-by-field comparison of two IRs, driven by the field table
// (ir_fields.h), so that a round-trip test names the exact field that was
// lost ("/tables/1/columns/4/default_value") and covers fields added later.
#pragma once

#include <string>
#include <type_traits>
#include <vector>

#include "ir_fields.h"
#include "sqlx/messages/ir.h"

namespace sqlx::ir::testing {

template <class M>
void DiffMember(const M& a, const M& b, const std::string& path, std::vector<std::string>* diffs);

// JSON-pointer paths of the fields where `a` and `b` differ.
template <class T>
void DiffStruct(const T& a, const T& b, const std::string& path, std::vector<std::string>* diffs) {
  std::vector<const void*> fields_of_b;
  auto collect = [&](const char*, const auto& member, Hashed = Hashed::kYes) { fields_of_b.push_back(&member); };
  Fields(b, collect);
  size_t i = 0;
  auto compare = [&](const char* key, const auto& member, Hashed = Hashed::kYes) {
    using M = std::remove_cvref_t<decltype(member)>;
    DiffMember(member, *static_cast<const M*>(fields_of_b[i++]), path + "/" + key, diffs);
  };
  Fields(a, compare);
}

template <class M>
void DiffMember(const M& a, const M& b, const std::string& path, std::vector<std::string>* diffs) {
  if constexpr (std::is_same_v<M, std::string> || std::is_arithmetic_v<M>) {
    if (a != b) diffs->push_back(path);
  } else if constexpr (IsOptional<M>::value) {
    if (a.has_value() != b.has_value()) {
      diffs->push_back(path + (a.has_value() ? " (only in the first)" : " (only in the second)"));
    } else if (a.has_value()) {
      DiffMember(*a, *b, path, diffs);
    }
  } else if constexpr (IsVector<M>::value) {
    if (a.size() != b.size()) {
      diffs->push_back(path + " (" + std::to_string(a.size()) + " vs " + std::to_string(b.size()) + " items)");
      return;
    }
    for (size_t k = 0; k < a.size(); ++k) DiffMember(a[k], b[k], path + "/" + std::to_string(k), diffs);
  } else {
    DiffStruct(a, b, path, diffs);
  }
}

inline std::vector<std::string> DiffIr(const Database& a, const Database& b) {
  std::vector<std::string> diffs;
  DiffStruct(a, b, "", &diffs);
  return diffs;
}

}  // namespace sqlx::ir::testing
