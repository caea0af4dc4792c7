// Canonical list order and the profile hash; the JSON form is in ir_json.cc.
#include "sqlx/messages/ir.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string_view>
#include <tuple>

namespace sqlx::ir {

namespace {

// Known words in their canonical order; anything else after them.
int Rank(std::string_view value, std::initializer_list<std::string_view> order) {
  int rank = 0;
  for (std::string_view known : order) {
    if (value == known) return rank;
    ++rank;
  }
  return rank;
}

template <class T>
void SortByName(std::vector<T>* items) {
  std::stable_sort(items->begin(), items->end(), [](const T& a, const T& b) { return a.name < b.name; });
}

void CanonicalizeTable(const std::string& db_name, Table* t) {
  std::stable_sort(t->columns.begin(), t->columns.end(), [](const Column& a, const Column& b) {
    return std::tie(a.position, a.name) < std::tie(b.position, b.name);
  });
  std::stable_sort(t->indexes.begin(), t->indexes.end(), [](const Index& a, const Index& b) {
    return std::make_tuple(a.kind != "PRIMARY", std::cref(a.name)) <
           std::make_tuple(b.kind != "PRIMARY", std::cref(b.name));
  });
  SortByName(&t->foreign_keys);
  SortByName(&t->checks);
  // The self-reference rule for the one structured place it appears.
  for (ForeignKey& fk : t->foreign_keys)
    if (!db_name.empty() && fk.referenced_schema == db_name) fk.referenced_schema.clear();
}

}  // namespace

void Canonicalize(Database* db) {
  for (Table& t : db->tables) CanonicalizeTable(db->name, &t);
  SortByName(&db->tables);
  SortByName(&db->views);
  SortByName(&db->events);
  std::stable_sort(db->routines.begin(), db->routines.end(), [](const Routine& a, const Routine& b) {
    return std::tie(a.kind, a.name) < std::tie(b.kind, b.name);
  });
  auto trigger_key = [](const Trigger& t) {
    return std::make_tuple(std::cref(t.table), Rank(t.timing, {"BEFORE", "AFTER"}), std::cref(t.timing),
                           Rank(t.event, {"INSERT", "UPDATE", "DELETE"}), std::cref(t.event), t.order,
                           std::cref(t.name));
  };
  std::stable_sort(db->triggers.begin(), db->triggers.end(),
                   [&](const Trigger& a, const Trigger& b) { return trigger_key(a) < trigger_key(b); });
  std::sort(db->not_visible.begin(), db->not_visible.end());
  db->not_visible.erase(std::unique(db->not_visible.begin(), db->not_visible.end()), db->not_visible.end());
}

std::string ProfileHash(const Database& db) {
  Database canonical = db;
  Canonicalize(&canonical);
  return CanonicalProfileHash(canonical);
}

std::string CanonicalProfileHash(const Database& canonical) {
  const std::string text = ToCanonicalJson(canonical, /*for_hash=*/true);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_sha256(), nullptr) != 1 || length != 32) {
    // No usable result exists: an empty or made-up hash would compare equal
    // to another and hide a schema change.
    std::fputs("sqlx: OpenSSL cannot compute SHA-256; the libcrypto installation is broken\n", stderr);
    std::abort();
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(2 * length);
  for (unsigned int i = 0; i < length; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xF]);
  }
  return hex;
}

}  // namespace sqlx::ir
