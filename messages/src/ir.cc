// Canonical list order and the profile hash; the JSON form is in ir_json.cc.
#include "sqlx/messages/ir.h"

#include <openssl/evp.h>

#include "ir_json_sink.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
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

// std::stable_sort, skipped when the list is in order already (an IR read
// from a snapshot or learned is: the check is linear, the sort moves every
// element log n times).
template <class T, class Less>
void StableSort(std::vector<T>* items, Less less) {
  if (!std::is_sorted(items->begin(), items->end(), less)) std::stable_sort(items->begin(), items->end(), less);
}

// The canonical orders (docs/formats/ir.md), one definition each for
// sorting and for checking.
struct NameOrder {
  template <class T>
  bool operator()(const T& a, const T& b) const {
    return a.name < b.name;
  }
};
struct ColumnOrder {
  bool operator()(const Column& a, const Column& b) const {
    return std::tie(a.position, a.name) < std::tie(b.position, b.name);
  }
};
struct IndexOrder {
  bool operator()(const Index& a, const Index& b) const {
    return std::make_tuple(a.kind != "PRIMARY", std::cref(a.name)) <
           std::make_tuple(b.kind != "PRIMARY", std::cref(b.name));
  }
};
struct RoutineOrder {
  bool operator()(const Routine& a, const Routine& b) const {
    return std::tie(a.kind, a.name) < std::tie(b.kind, b.name);
  }
};
struct TriggerOrder {
  static auto Key(const Trigger& t) {
    return std::make_tuple(std::cref(t.table), Rank(t.timing, {"BEFORE", "AFTER"}), std::cref(t.timing),
                           Rank(t.event, {"INSERT", "UPDATE", "DELETE"}), std::cref(t.event), t.order,
                           std::cref(t.name));
  }
  bool operator()(const Trigger& a, const Trigger& b) const { return Key(a) < Key(b); }
};

template <class T, class Less>
bool Sorted(const std::vector<T>& items, Less less) {
  return std::is_sorted(items.begin(), items.end(), less);
}

void CanonicalizeTable(const std::string& db_name, Table* t) {
  StableSort(&t->columns, ColumnOrder{});
  StableSort(&t->indexes, IndexOrder{});
  StableSort(&t->foreign_keys, NameOrder{});
  StableSort(&t->checks, NameOrder{});
  // The self-reference rule for the one structured place it appears.
  for (ForeignKey& fk : t->foreign_keys)
    if (!db_name.empty() && fk.referenced_schema == db_name) fk.referenced_schema.clear();
}

bool TableIsCanonical(const std::string& db_name, const Table& t) {
  if (!Sorted(t.columns, ColumnOrder{}) || !Sorted(t.indexes, IndexOrder{}) || !Sorted(t.foreign_keys, NameOrder{}) ||
      !Sorted(t.checks, NameOrder{}))
    return false;
  return std::none_of(t.foreign_keys.begin(), t.foreign_keys.end(), [&](const ForeignKey& fk) {
    return !db_name.empty() && fk.referenced_schema == db_name;
  });
}

}  // namespace

void Canonicalize(Database* db) {
  for (Table& t : db->tables) CanonicalizeTable(db->name, &t);
  StableSort(&db->tables, NameOrder{});
  StableSort(&db->views, NameOrder{});
  StableSort(&db->events, NameOrder{});
  StableSort(&db->routines, RoutineOrder{});
  StableSort(&db->triggers, TriggerOrder{});
  std::sort(db->not_visible.begin(), db->not_visible.end());
  db->not_visible.erase(std::unique(db->not_visible.begin(), db->not_visible.end()), db->not_visible.end());
}

bool IsCanonical(const Database& db) {
  for (const Table& t : db.tables)
    if (!TableIsCanonical(db.name, t)) return false;
  return Sorted(db.tables, NameOrder{}) && Sorted(db.views, NameOrder{}) && Sorted(db.events, NameOrder{}) &&
         Sorted(db.routines, RoutineOrder{}) && Sorted(db.triggers, TriggerOrder{}) &&
         Sorted(db.not_visible, std::less<>{}) &&
         std::adjacent_find(db.not_visible.begin(), db.not_visible.end()) == db.not_visible.end();
}

std::string ProfileHash(const Database& db) {
  Database canonical = db;
  Canonicalize(&canonical);
  return CanonicalProfileHash(canonical);
}

std::string CanonicalProfileHash(const Database& canonical) {
  // The text is hashed in pieces as it is written: a 10,000-table IR's
  // text is tens of MB, and allocating it whole costs more than hashing it.
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  bool ok = ctx != nullptr && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1;
  WriteCanonicalJson(canonical, /*for_hash=*/true, [&](std::string_view piece) {
    ok = ok && EVP_DigestUpdate(ctx.get(), piece.data(), piece.size()) == 1;
  });
  if (!ok || EVP_DigestFinal_ex(ctx.get(), digest, &length) != 1 || length != 32) {
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
