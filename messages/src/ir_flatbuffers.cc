// IR <-> FlatBuffer, both directions derived from the field table in
// ir_fields.h: each IR struct's fields are bound once, by key, to the fields
// of its table in messages/schemas/ir.fbs (found in the binary schema flatc
// embeds; types, optionality and defaults checked), then read and written
// through the generic flatbuffers::Table API. Format: docs/formats/ir.md.
#include "sqlx/messages/ir_flatbuffers.h"

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <flatbuffers/reflection_generated.h>

#include "ir_fields.h"
#include "ir_bfbs_generated.h"
#include "ir_generated.h"

namespace sqlx::ir {

namespace {

namespace fb = ::sqlx::fb::ir;
using flatbuffers::uoffset_t;
using flatbuffers::voffset_t;

// Each IR struct's table in the schema: the same name, but for Table.
template <class T>
constexpr const char* kTableName = nullptr;
template <> constexpr const char* kTableName<Column> = "sqlx.fb.ir.Column";
template <> constexpr const char* kTableName<IndexPart> = "sqlx.fb.ir.IndexPart";
template <> constexpr const char* kTableName<Index> = "sqlx.fb.ir.Index";
template <> constexpr const char* kTableName<ForeignKey> = "sqlx.fb.ir.ForeignKey";
template <> constexpr const char* kTableName<Check> = "sqlx.fb.ir.Check";
template <> constexpr const char* kTableName<Partition> = "sqlx.fb.ir.Partition";
template <> constexpr const char* kTableName<Partitioning> = "sqlx.fb.ir.Partitioning";
template <> constexpr const char* kTableName<TableStats> = "sqlx.fb.ir.TableStats";
template <> constexpr const char* kTableName<Table> = "sqlx.fb.ir.TableDef";
template <> constexpr const char* kTableName<View> = "sqlx.fb.ir.View";
template <> constexpr const char* kTableName<RoutineParameter> = "sqlx.fb.ir.RoutineParameter";
template <> constexpr const char* kTableName<Routine> = "sqlx.fb.ir.Routine";
template <> constexpr const char* kTableName<Trigger> = "sqlx.fb.ir.Trigger";
template <> constexpr const char* kTableName<Event> = "sqlx.fb.ir.Event";
template <> constexpr const char* kTableName<Database> = "sqlx.fb.ir.Database";

// The element of a list or optional; the member itself otherwise.
template <class M>
struct Element {
  using type = M;
};
template <class M>
struct Element<std::vector<M>> {
  using type = M;
};
template <class M>
struct Element<std::optional<M>> {
  using type = M;
};

template <class M>
constexpr bool kIsScalar = std::is_arithmetic_v<typename Element<M>::type>;
template <class M>
constexpr bool kIsTable = !kIsScalar<M> && !std::is_same_v<typename Element<M>::type, std::string>;

// The type the schema must declare for a member (for a list: its element).
template <class M>
constexpr reflection::BaseType BaseTypeOf() {
  using E = typename Element<M>::type;
  if constexpr (std::is_same_v<E, std::string>) return reflection::String;
  if constexpr (std::is_same_v<E, bool>) return reflection::Bool;
  if constexpr (std::is_same_v<E, uint32_t>) return reflection::UInt;
  if constexpr (std::is_same_v<E, uint64_t>) return reflection::ULong;
  static_assert(!std::is_arithmetic_v<E> || std::is_same_v<E, bool> || std::is_same_v<E, uint32_t> ||
                    std::is_same_v<E, uint64_t>,
                "a new scalar type in ir.h: map it to its FlatBuffers type here");
  return reflection::Obj;  // an IR struct: a table
}

// How a member is held in the buffer, for flatbuffers::Table::GetPointer.
template <class M>
struct Stored {
  using type = flatbuffers::Table;
};
template <>
struct Stored<std::string> {
  using type = flatbuffers::String;
};
template <class M>
struct Stored<std::vector<M>> {
  using type = flatbuffers::Vector<flatbuffers::Offset<typename Stored<M>::type>>;
};

// ir.fbs as flatc embeds it in ir_bfbs_generated.h (--bfbs-gen-embed): every
// field's name, vtable slot, type, default and deprecation.
const reflection::Schema& EmbeddedSchema() {
  return *reflection::GetSchema(fb::DatabaseBinarySchema::data());
}

// One IR struct bound to its table: per field, in Fields() order, the
// vtable slot and the field's value in a default-constructed struct.
struct Binding {
  std::vector<voffset_t> slots;
  std::vector<const void*> defaults;
  std::string error;  // every mismatch with the schema, "" when none
};

template <class T>
const Binding& BindingOf();

// Binds each key of the field table to the live (not deprecated) schema
// field of that name, checking its type, optionality and default; nested
// structs are bound in turn. The verifier checks exactly the live fields, so
// only verified data is ever read.
template <class T>
class Binder {
 public:
  Binder(const reflection::Schema& schema, Binding* binding)
      : schema_(schema), object_(schema.objects()->LookupByKey(kTableName<T>)), binding_(binding) {
    if (object_ == nullptr) Note(std::string(kTableName<T>) + " is missing from messages/schemas/ir.fbs");
  }

  template <class M>
  void operator()(const char* key, const M& member, Hashed /*hashed*/ = Hashed::kYes) {
    binding_->defaults.push_back(&member);
    binding_->slots.push_back(0);
    if (object_ == nullptr) return;
    const std::string where = std::string(kTableName<T>) + "." + key;
    const reflection::Field* field = object_->fields()->LookupByKey(key);
    if (field == nullptr || field->deprecated()) {
      Note(where + " is missing from messages/schemas/ir.fbs (or deprecated there)");
      return;
    }
    const std::string mismatch = Mismatch(*field, member);
    if (!mismatch.empty()) {
      Note(where + ": " + mismatch);
      return;
    }
    binding_->slots.back() = field->offset();
  }

 private:
  template <class M>
  std::string Mismatch(const reflection::Field& field, const M& member) {
    const reflection::Type& type = *field.type();
    const bool is_list = type.base_type() == reflection::Vector;
    if (is_list != IsVector<M>::value) return "a list in only one of ir.h and ir.fbs";
    if ((is_list ? type.element() : type.base_type()) != BaseTypeOf<M>()) return "another type in ir.fbs";
    if constexpr (kIsTable<M>) {
      using E = typename Element<M>::type;
      const auto* objects = schema_.objects();
      if (type.index() < 0 || static_cast<uoffset_t>(type.index()) >= objects->size() ||
          objects->Get(static_cast<uoffset_t>(type.index()))->name()->str() != kTableName<E>) {
        return std::string("not of table ") + kTableName<E> + " in ir.fbs";
      }
      Note(BindingOf<E>().error);
    } else if constexpr (kIsScalar<M>) {
      if (field.optional() != IsOptional<M>::value) return "optional (`= null`) in only one of ir.h and ir.fbs";
      if constexpr (!IsOptional<M>::value) {
        if (field.default_integer() != static_cast<int64_t>(member)) return "its default in ir.fbs is not ir.h's";
      }
    }
    return "";
  }

  void Note(const std::string& error) {
    if (error.empty()) return;
    binding_->error += (binding_->error.empty() ? "" : "; ") + error;
  }

  const reflection::Schema& schema_;
  const reflection::Object* object_;
  Binding* binding_;
};

template <class T>
const Binding& BindingOf() {
  static const T kDefault{};
  static const Binding kBinding = [] {
    Binding binding;
    Binder<T> binder(EmbeddedSchema(), &binding);
    Fields(kDefault, binder);
    return binding;
  }();
  return kBinding;
}

// Builds tables bottom-up: a struct's strings, lists and sub-tables first,
// then the table holding them. Stores what differs from the defaults, and
// optionals exactly when present (docs/formats/ir.md).
class Writer {
 public:
  explicit Writer(flatbuffers::FlatBufferBuilder* fbb) : fbb_(fbb) {}

  template <class T>
  uoffset_t WriteTable(const T& object) {
    const Binding& binding = BindingOf<T>();
    std::vector<uoffset_t> children;
    children.reserve(binding.slots.size());
    auto write_child = [&](const char*, const auto& member, Hashed = Hashed::kYes) {
      children.push_back(Child(member));
    };
    Fields(object, write_child);
    const uoffset_t start = fbb_->StartTable();
    size_t i = 0;
    auto add_field = [&](const char*, const auto& member, Hashed = Hashed::kYes) {
      Add(binding.slots[i], member, binding.defaults[i], children[i]);
      ++i;
    };
    Fields(object, add_field);
    return fbb_->EndTable(start);
  }

 private:
  // The offset of a member's out-of-line data; 0 when none is stored.
  template <class M>
  uoffset_t Child(const M& member) {
    if constexpr (IsOptional<M>::value) {
      return member.has_value() ? Present(*member) : 0;
    } else if constexpr (std::is_same_v<M, std::string> || IsVector<M>::value) {
      return member.empty() ? 0 : Present(member);
    } else {
      return Present(member);
    }
  }

  template <class M>
  uoffset_t Present(const M& member) {
    if constexpr (std::is_arithmetic_v<M>) {
      return 0;  // inline in the table: Add()
    } else if constexpr (std::is_same_v<M, std::string>) {
      return fbb_->CreateString(member).o;
    } else if constexpr (IsVector<M>::value) {
      std::vector<flatbuffers::Offset<void>> items;
      items.reserve(member.size());
      for (const auto& item : member) items.emplace_back(Present(item));
      return fbb_->CreateVector(items).o;
    } else {
      return WriteTable(member);
    }
  }

  template <class M>
  void Add(voffset_t slot, const M& member, const void* default_value, uoffset_t child) {
    if constexpr (std::is_same_v<M, bool>) {
      const bool fallback = *static_cast<const bool*>(default_value);
      fbb_->AddElement<uint8_t>(slot, member ? 1 : 0, fallback ? 1 : 0);
    } else if constexpr (std::is_arithmetic_v<M>) {
      fbb_->AddElement<M>(slot, member, *static_cast<const M*>(default_value));
    } else if constexpr (kIsScalar<M>) {  // optional scalar: stored exactly when present
      if (member.has_value()) fbb_->AddElement<typename M::value_type>(slot, *member);
    } else {
      if (child != 0) fbb_->AddOffset(slot, flatbuffers::Offset<void>(child));
    }
  }

  flatbuffers::FlatBufferBuilder* fbb_;
};

// Fills default-constructed IR structs from verified tables: a field the
// buffer lacks keeps its default. Charges every string byte and list element
// to a budget, so that offsets shared many times over (legal for the
// verifier) cannot expand a small buffer into a huge IR.
class Reader {
 public:
  explicit Reader(size_t budget) : budget_(budget) {}

  bool exhausted() const { return exhausted_; }

  template <class T>
  void ReadTable(const flatbuffers::Table& table, T* out) {
    const Binding& binding = BindingOf<T>();
    size_t i = 0;
    auto read_field = [&](const char*, auto& member, Hashed = Hashed::kYes) {
      Read(table, binding.slots[i++], &member);
    };
    Fields(*out, read_field);
  }

 private:
  template <class M>
  void Read(const flatbuffers::Table& table, voffset_t slot, M* out) {
    if constexpr (kIsScalar<M>) {
      if (!table.CheckField(slot)) return;
      using E = typename Element<M>::type;
      if constexpr (std::is_same_v<E, bool>) {
        *out = table.GetField<uint8_t>(slot, 0) != 0;
      } else {
        *out = table.GetField<E>(slot, 0);
      }
    } else if constexpr (IsOptional<M>::value) {
      using E = typename M::value_type;
      if (const auto* stored = table.GetPointer<const typename Stored<E>::type*>(slot)) {
        out->emplace();
        Take(*stored, &**out);
      }
    } else {
      if (const auto* stored = table.GetPointer<const typename Stored<M>::type*>(slot)) Take(*stored, out);
    }
  }

  void Take(const flatbuffers::String& stored, std::string* out) {
    if (Charge(stored.size() + 1)) out->assign(stored.c_str(), stored.size());
  }

  template <class T>
  void Take(const flatbuffers::Table& stored, T* out) {
    if (Charge(1)) ReadTable(stored, out);
  }

  template <class E, class S>
  void Take(const flatbuffers::Vector<flatbuffers::Offset<S>>& stored, std::vector<E>* out) {
    if (!Charge(stored.size())) return;
    out->resize(stored.size());
    for (uoffset_t k = 0; k < stored.size() && !exhausted_; ++k) Take(*stored.Get(k), &(*out)[k]);
  }

  bool Charge(size_t cost) {
    if (exhausted_ || cost > budget_) {
      exhausted_ = true;
      return false;
    }
    budget_ -= cost;
    return true;
  }

  size_t budget_;
  bool exhausted_ = false;
};

// An honest buffer holds each string once, so its IR is about its own size;
// the limits only have to stop hostile sharing and nesting.
constexpr size_t kMaxExpansion = 16;
constexpr uoffset_t kMaxDepth = 16;  // the schema nests 4 tables deep

Error Invalid(const std::string& what) {
  return MakeError(ErrorCode::kInvalidArgument, "IR FlatBuffer " + what + " (format: docs/formats/ir.md)");
}

std::string Printable(std::string_view bytes) {
  std::string out;
  for (char c : bytes) {
    const auto b = static_cast<unsigned char>(c);
    if (b >= 0x20 && b < 0x7f && c != '"' && c != '\\') {
      out.push_back(c);
    } else {
      constexpr char kHex[] = "0123456789abcdef";
      out += {'\\', 'x', kHex[b >> 4], kHex[b & 0xf]};
    }
  }
  return out;
}

}  // namespace

std::string ToFlatBuffer(const Database& db) {
  const Binding& binding = BindingOf<Database>();
  if (!binding.error.empty()) {
    // A build that disagrees with its own schema; ir_flatbuffers_test fails first.
    std::fprintf(stderr, "sqlx: ir_fields.h and messages/schemas/ir.fbs disagree: %s\n", binding.error.c_str());
    std::abort();
  }
  flatbuffers::FlatBufferBuilder fbb(1024);
  Writer writer(&fbb);
  fb::FinishDatabaseBuffer(fbb, flatbuffers::Offset<fb::Database>(writer.WriteTable(db)));
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

Result<Database> FromFlatBuffer(std::string_view bytes) {
  const Binding& binding = BindingOf<Database>();
  if (!binding.error.empty()) {
    return MakeError(ErrorCode::kInternal,
                     "ir_fields.h and messages/schemas/ir.fbs disagree: " + binding.error);
  }
  constexpr size_t kHeader = sizeof(uoffset_t) + flatbuffers::kFileIdentifierLength;
  if (bytes.size() < kHeader) {
    return Invalid("is " + std::to_string(bytes.size()) +
                   " bytes: too short (a root offset and the identifier take 8); the message was cut off");
  }
  if (bytes.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) return Invalid("is 2 GiB or more: larger than any FlatBuffer");
  const std::string_view identifier = bytes.substr(sizeof(uoffset_t), flatbuffers::kFileIdentifierLength);
  if (identifier != kFlatBufferIdentifier) {
    return Invalid("has file identifier \"" + Printable(identifier) + "\", expected \"" +
                   std::string(kFlatBufferIdentifier) + "\": the bytes are not an IR (another message kind?)");
  }
  // Scalars are read in place: give them the alignment the verifier assumes.
  std::vector<uint64_t> aligned;
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  if (reinterpret_cast<uintptr_t>(data) % alignof(uint64_t) != 0) {
    aligned.resize((bytes.size() + sizeof(uint64_t) - 1) / sizeof(uint64_t));
    std::memcpy(aligned.data(), bytes.data(), bytes.size());
    data = reinterpret_cast<const uint8_t*>(aligned.data());
  }
  flatbuffers::Verifier::Options options;
  options.max_depth = kMaxDepth;
  options.max_tables = static_cast<uoffset_t>(bytes.size() / sizeof(uoffset_t));  // a table takes 4 bytes at least
  flatbuffers::Verifier verifier(data, bytes.size(), options);
  if (!fb::VerifyDatabaseBuffer(verifier)) {
    return Invalid("of " + std::to_string(bytes.size()) +
                   " bytes failed verification: an offset or length points outside the buffer, a value is "
                   "misaligned or of the wrong size, a string lacks its terminator, or tables nest or repeat "
                   "too much; the bytes are damaged or were not written for messages/schemas/ir.fbs");
  }
  Reader reader(kMaxExpansion * bytes.size());
  Database db;
  reader.ReadTable(*flatbuffers::GetRoot<flatbuffers::Table>(data), &db);
  if (reader.exhausted()) {
    return Invalid("of " + std::to_string(bytes.size()) + " bytes expands to more than " +
                   std::to_string(kMaxExpansion) +
                   " times its size: strings or lists are shared over and over (not written by ToFlatBuffer)");
  }
  return db;
}

}  // namespace sqlx::ir
