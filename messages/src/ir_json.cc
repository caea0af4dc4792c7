// IR <-> canonical JSON, both directions derived from the field table in
// ir_fields.h. Format: docs/formats/ir.md.
#include <charconv>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include "canonical_json.h"
#include "ir_fields.h"
#include "ir_json_sink.h"
#include "sqlx/messages/ir.h"

namespace sqlx::ir {

namespace {

// Appends JCS text. Keys come from ir_fields.h already in byte order; an
// absent optional is left out; with for_hash, Hashed::kNo fields are too.
class Writer {
 public:
  // With a `sink`, `out` is handed to it and emptied whenever it has grown
  // past kPiece at the end of a list element; the caller hands over the rest.
  Writer(bool for_hash, std::string* out, const std::function<void(std::string_view)>* sink = nullptr)
      : for_hash_(for_hash), out_(out), sink_(sink) {}

  template <class T>
  void operator()(const char* key, const T& value, Hashed hashed = Hashed::kYes) {
    if (for_hash_ && hashed == Hashed::kNo) return;
    if constexpr (IsOptional<T>::value) {
      if (!value.has_value()) return;
    }
    if (!first_) out_->push_back(',');
    first_ = false;
    json::AppendString(key, out_);
    out_->push_back(':');
    Write(value);
  }

  template <class T>
  void Write(const T& value) {
    if constexpr (std::is_same_v<T, std::string>) {
      json::AppendString(value, out_);
    } else if constexpr (std::is_same_v<T, bool>) {
      out_->append(value ? "true" : "false");
    } else if constexpr (std::is_unsigned_v<T>) {
      out_->append(std::to_string(value));
    } else if constexpr (IsOptional<T>::value) {
      Write(*value);
    } else if constexpr (IsVector<T>::value) {
      out_->push_back('[');
      for (size_t i = 0; i < value.size(); ++i) {
        if (i > 0) out_->push_back(',');
        Write(value[i]);
        if (sink_ != nullptr && out_->size() >= kPiece) {
          (*sink_)(*out_);
          out_->clear();
        }
      }
      out_->push_back(']');
    } else {
      bool outer_first = first_;
      first_ = true;
      out_->push_back('{');
      Fields(value, *this);
      out_->push_back('}');
      first_ = outer_first;
    }
  }

 private:
  static constexpr size_t kPiece = 64 * 1024;
  bool for_hash_;
  std::string* out_;
  const std::function<void(std::string_view)>* sink_;
  bool first_ = true;
};

Error At(const std::string& pointer, const std::string& what) {
  return MakeError(ErrorCode::kInvalidArgument,
                   "IR JSON at \"" + pointer + "\": " + what + " (format: docs/formats/ir.md)");
}

std::string Found(const json::Value& v) { return std::string(", found ") + json::KindName(v.kind); }

// Fills one IR struct from a JSON object: known keys are read, missing keys
// keep the struct's default, any other key is an error.
class Reader {
 public:
  Reader(const json::Value& object, const std::string& pointer) : object_(object), pointer_(pointer) {}

  template <class T>
  void operator()(const char* key, T& member, Hashed /*hashed*/ = Hashed::kYes) {
    known_.push_back(key);
    if (!status_.ok()) return;
    const json::Value* v = object_.Find(key);
    if (v != nullptr) status_ = Read(*v, pointer_ + "/" + key, &member);
  }

  // After Fields(): the first error, or the first key no field claimed.
  Status Finish() const {
    if (!status_.ok()) return status_;
    for (const std::string& key : object_.keys) {
      bool is_known = false;
      for (const char* k : known_) is_known = is_known || key == k;
      if (is_known) continue;
      std::string expected;
      for (const char* k : known_) expected += (expected.empty() ? "" : ", ") + std::string(k);
      return At(pointer_ + "/" + json::PointerToken(key), "unknown key; expected one of: " + expected);
    }
    return Status::Ok();
  }

  template <class T>
  static Status Read(const json::Value& v, const std::string& pointer, T* out) {
    if (v.kind == json::Value::Kind::kNull) return At(pointer, "null is not a value here; omit the key instead");
    if constexpr (std::is_same_v<T, std::string>) {
      if (v.kind != json::Value::Kind::kString) return At(pointer, "expected a string" + Found(v));
      *out = v.text;
    } else if constexpr (std::is_same_v<T, bool>) {
      if (v.kind != json::Value::Kind::kBool) return At(pointer, "expected true or false" + Found(v));
      *out = v.boolean;
    } else if constexpr (std::is_unsigned_v<T>) {
      return ReadUnsigned(v, pointer, out);
    } else if constexpr (IsOptional<T>::value) {
      typename T::value_type inner{};
      SQLX_RETURN_IF_ERROR(Read(v, pointer, &inner));
      *out = std::move(inner);
    } else if constexpr (IsVector<T>::value) {
      if (v.kind != json::Value::Kind::kArray) return At(pointer, "expected an array" + Found(v));
      out->assign(v.items.size(), typename T::value_type{});
      for (size_t i = 0; i < v.items.size(); ++i)
        SQLX_RETURN_IF_ERROR(Read(v.items[i], pointer + "/" + std::to_string(i), &(*out)[i]));
    } else {
      if (v.kind != json::Value::Kind::kObject) return At(pointer, "expected an object" + Found(v));
      Reader reader(v, pointer);
      Fields(*out, reader);
      return reader.Finish();
    }
    return Status::Ok();
  }

 private:
  template <class T>
  static Status ReadUnsigned(const json::Value& v, const std::string& pointer, T* out) {
    const std::string range = "an integer 0.." + std::to_string(std::numeric_limits<T>::max());
    if (v.kind != json::Value::Kind::kNumber) return At(pointer, "expected " + range + Found(v));
    uint64_t n = 0;
    const char* end = v.text.data() + v.text.size();
    auto [ptr, ec] = std::from_chars(v.text.data(), end, n);
    if (ec != std::errc() || ptr != end || n > std::numeric_limits<T>::max())
      return At(pointer, "expected " + range + ", found " + v.text);
    *out = static_cast<T>(n);
    return Status::Ok();
  }

  const json::Value& object_;
  const std::string& pointer_;
  std::vector<const char*> known_;
  Status status_;
};

}  // namespace

std::string ToCanonicalJson(const Database& db, bool for_hash) {
  std::string out;
  Writer writer(for_hash, &out);
  writer.Write(db);
  return out;
}

void WriteCanonicalJson(const Database& db, bool for_hash, const std::function<void(std::string_view)>& sink) {
  std::string piece;
  piece.reserve(2 * 64 * 1024);
  Writer writer(for_hash, &piece, &sink);
  writer.Write(db);
  if (!piece.empty()) sink(piece);
}

Result<Database> FromJson(const std::string& json_text) {
  SQLX_ASSIGN_OR_RETURN(json::Value root, json::ReadJson(json_text));
  // A snapshot file (`sqlx snapshot`) carries its profile_hash beside the IR:
  // take it out, and check it against the content (a hand-edited or damaged
  // file is caught here rather than trusted).
  std::string stated_hash;
  if (root.kind == json::Value::Kind::kObject) {
    for (size_t i = 0; i < root.keys.size(); ++i) {
      if (root.keys[i] != "profile_hash") continue;
      if (root.items[i].kind != json::Value::Kind::kString) return At("/profile_hash", "expected a string");
      stated_hash = root.items[i].text;
      root.keys.erase(root.keys.begin() + static_cast<std::ptrdiff_t>(i));
      root.items.erase(root.items.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  }
  Database db;
  SQLX_RETURN_IF_ERROR(Reader::Read(root, "", &db));
  if (!stated_hash.empty() && stated_hash != ProfileHash(db)) {
    return At("/profile_hash", "does not match the content (" + ProfileHash(db) +
                                   "): the file was edited or damaged; remove the key to accept the content");
  }
  return db;
}

}  // namespace sqlx::ir
