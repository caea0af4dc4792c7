// The IR's FlatBuffers form: exact round trips (of the sample and of every
// field changed in turn), the schema checked field by field against the
// field table, interchange with flatc's own reader and writer, and hostile
// bytes answered with an error instead of a crash.
#include "sqlx/messages/ir_flatbuffers.h"

#include <flatbuffers/idl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "ir_compare.h"
#include "ir_fields.h"
#include "ir_generated.h"
#include "ir_mutations.h"
#include "ir_sample.h"
#include "ir_schema_parser.h"

namespace sqlx::ir {
namespace {

namespace fb = ::sqlx::fb::ir;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::DiffIr;
using testing::LoadSchema;
using testing::Mutation;
using testing::SampleDatabase;

constexpr const char* kSchema = "messages/schemas/ir.fbs";

// Decodes `bytes`, which must be valid, and checks that encoding the result
// gives an IR that decodes the same again.
void ExpectRoundTrip(const Database& db, const std::string& what) {
  const std::string bytes = ToFlatBuffer(db);
  auto back = FromFlatBuffer(bytes);
  ASSERT_TRUE(back.ok()) << what << ": " << back.error().message;
  EXPECT_THAT(DiffIr(*back, db), IsEmpty()) << what;
  EXPECT_EQ(ToCanonicalJson(*back), ToCanonicalJson(db)) << what;
  EXPECT_EQ(ToFlatBuffer(*back), bytes) << what << ": the same IR must give the same bytes";
}

std::string Bytes(const flatbuffers::FlatBufferBuilder& fbb) {
  return std::string(reinterpret_cast<const char*>(fbb.GetBufferPointer()), fbb.GetSize());
}

TEST(IrFlatBufferTest, SampleRoundTripsExactly) {
  const Database sample = SampleDatabase();
  const std::string bytes = ToFlatBuffer(sample);
  EXPECT_EQ(bytes.substr(4, 4), "SQIR");
  EXPECT_EQ(kFlatBufferIdentifier, fb::DatabaseIdentifier());
  ExpectRoundTrip(sample, "sample");
}

TEST(IrFlatBufferTest, EmptyAndDefaultValuedStructsRoundTrip) {
  ExpectRoundTrip(Database{}, "empty database");
  Database db;
  db.tables.resize(2);
  db.tables[0].columns.resize(2);
  db.tables[0].columns[1].nullable = false;  // the one default that is not zero
  db.tables[1].partitioning = Partitioning{};
  db.tables[1].indexes.resize(1);
  db.tables[1].indexes[0].parts.resize(1);
  db.tables[1].indexes[0].parts[0].prefix_length = 0;
  ExpectRoundTrip(db, "default-valued structs");
}

TEST(IrFlatBufferTest, EveryFieldChangedInTurnRoundTripsAndChangesTheBytes) {
  const Database base = SampleDatabase();
  std::vector<Mutation> all = testing::HashedMutations();
  for (const Mutation& m : testing::UnhashedMutations()) all.push_back(m);
  std::set<std::string> seen{ToFlatBuffer(base)};
  for (const Mutation& m : all) {
    Database d = base;
    m.apply(d);
    const std::string what = std::string(m.path) + " (" + m.what + ")";
    // Distinct bytes: the field is stored, not dropped on the way.
    EXPECT_TRUE(seen.insert(ToFlatBuffer(d)).second) << what << ": bytes equal to the base or another change";
    ExpectRoundTrip(d, what);
  }
}

TEST(IrFlatBufferTest, DefaultValueKeepsNoDefaultEmptyAndNullApart) {
  Database db;
  db.tables.resize(1);
  db.tables[0].columns.resize(3);
  db.tables[0].columns[1].default_value = "";
  db.tables[0].columns[2].default_value = "NULL";
  const std::string bytes = ToFlatBuffer(db);
  auto back = FromFlatBuffer(bytes);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back->tables[0].columns[0].default_value, std::nullopt);
  EXPECT_EQ(back->tables[0].columns[1].default_value, "");
  EXPECT_EQ(back->tables[0].columns[2].default_value, "NULL");
  // Readers generated from the schema, in any language, see the same three.
  const auto* columns = fb::GetDatabase(bytes.data())->tables()->Get(0)->columns();
  EXPECT_EQ(columns->Get(0)->default_value(), nullptr);
  ASSERT_NE(columns->Get(1)->default_value(), nullptr);
  EXPECT_EQ(columns->Get(1)->default_value()->str(), "");
  EXPECT_EQ(columns->Get(2)->default_value()->str(), "NULL");
  EXPECT_TRUE(columns->Get(0)->nullable());
}

// Walks the field table (ir_fields.h) beside the schema as flatc's parser
// reads it: each key a live field of the same type, scalar defaults equal to
// the C++ defaults, optionals optional, nothing required.
class SchemaWalker {
 public:
  SchemaWalker(const flatbuffers::StructDef* def, std::vector<std::string>* problems,
               std::set<const flatbuffers::FieldDef*>* bound)
      : def_(def), problems_(problems), bound_(bound) {}

  template <class M>
  void operator()(const char* key, const M& member, Hashed = Hashed::kYes) {
    const std::string where = def_->name + "." + key;
    const flatbuffers::FieldDef* field = def_->fields.Lookup(key);
    if (field == nullptr || field->deprecated) {
      problems_->push_back(where + ": in ir_fields.h, not in ir.fbs");
      return;
    }
    bound_->insert(field);
    if (field->IsRequired()) problems_->push_back(where + ": (required) breaks the evolution rule");
    const flatbuffers::Type& type = field->value.type;
    const bool is_list = IsVector<M>::value;
    if ((type.base_type == flatbuffers::BASE_TYPE_VECTOR) != is_list) {
      problems_->push_back(where + ": list in one, not in the other");
      return;
    }
    CheckElement(where, is_list ? type.element : type.base_type, type.struct_def, *field, member);
  }

 private:
  template <class M>
  void CheckElement(const std::string& where, flatbuffers::BaseType base, const flatbuffers::StructDef* def,
                    const flatbuffers::FieldDef& field, const M& member) {
    using E = std::remove_cvref_t<decltype(Element(member))>;
    flatbuffers::BaseType expected = flatbuffers::BASE_TYPE_STRUCT;
    if constexpr (std::is_same_v<E, std::string>) expected = flatbuffers::BASE_TYPE_STRING;
    if constexpr (std::is_same_v<E, bool>) expected = flatbuffers::BASE_TYPE_BOOL;
    if constexpr (std::is_same_v<E, uint32_t>) expected = flatbuffers::BASE_TYPE_UINT;
    if constexpr (std::is_same_v<E, uint64_t>) expected = flatbuffers::BASE_TYPE_ULONG;
    if (base != expected) {
      problems_->push_back(where + ": type differs");
      return;
    }
    if constexpr (std::is_arithmetic_v<E>) {
      if constexpr (IsOptional<M>::value) {
        if (!field.IsOptional()) problems_->push_back(where + ": optional in ir.h, needs `= null` in ir.fbs");
      } else {
        const std::string cpp_default = std::to_string(static_cast<uint64_t>(member));
        if (field.IsOptional() || field.value.constant != cpp_default)
          problems_->push_back(where + ": default " + field.value.constant + " in ir.fbs, " + cpp_default + " in ir.h");
      }
    } else if constexpr (!std::is_same_v<E, std::string>) {
      if (def == nullptr || def->fixed) {
        problems_->push_back(where + ": must be a table");
        return;
      }
      SchemaWalker inner(def, problems_, bound_);
      E probe{};
      Fields(probe, inner);
    }
  }

  template <class M>
  static const M& Element(const M& m) { return m; }
  template <class M>
  static const M& Element(const std::vector<M>&) { static const M kProbe{}; return kProbe; }
  template <class M>
  static const M& Element(const std::optional<M>&) { static const M kProbe{}; return kProbe; }

  const flatbuffers::StructDef* def_;
  std::vector<std::string>* problems_;
  std::set<const flatbuffers::FieldDef*>* bound_;
};

TEST(IrFlatBufferTest, SchemaMirrorsEveryFieldOfTheFieldTable) {
  auto parser = LoadSchema(kSchema);
  ASSERT_NE(parser->root_struct_def_, nullptr);
  EXPECT_EQ(parser->file_identifier_, std::string(kFlatBufferIdentifier));
  std::vector<std::string> problems;
  std::set<const flatbuffers::FieldDef*> bound;
  SchemaWalker walker(parser->root_struct_def_, &problems, &bound);
  const Database probe;
  Fields(probe, walker);
  for (const flatbuffers::StructDef* def : parser->structs_.vec) {
    for (const flatbuffers::FieldDef* field : def->fields.vec) {
      if (!field->deprecated && bound.count(field) == 0)
        problems.push_back(def->name + "." + field->name + ": in ir.fbs, not in ir_fields.h (deprecate instead)");
    }
  }
  EXPECT_THAT(problems, IsEmpty());
}

TEST(IrFlatBufferTest, ReadsWhatFlatcBuildsFromTheCanonicalJson) {
  auto parser = LoadSchema(kSchema);
  const Database sample = SampleDatabase();
  auto back = FromFlatBuffer(testing::BufferFromJson(*parser, ToCanonicalJson(sample)));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_THAT(DiffIr(*back, sample), IsEmpty());
}

TEST(IrFlatBufferTest, FlatcReadsWhatToFlatBufferWrites) {
  auto parser = LoadSchema(kSchema);
  const Database sample = SampleDatabase();
  const std::string bytes = ToFlatBuffer(sample);
  std::string text;
  ASSERT_TRUE(flatbuffers::GenerateText(*parser, bytes.data(), &text));
  auto back = FromJson(text);  // flatc's JSON leaves out what the buffer does not hold
  ASSERT_TRUE(back.ok()) << back.error().message << "\n" << text;
  EXPECT_THAT(DiffIr(*back, sample), IsEmpty());
}

// ---- hostile bytes ----------------------------------------------------------

void ExpectRejected(std::string_view bytes, const std::string& message_part) {
  auto db = FromFlatBuffer(bytes);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(db.error().message, HasSubstr(message_part));
}

TEST(IrFlatBufferTest, TooShortBuffersAreRejected) {
  const std::string bytes = ToFlatBuffer(SampleDatabase());
  for (size_t n = 0; n < 8; ++n) ExpectRejected(std::string_view(bytes).substr(0, n), "too short");
}

TEST(IrFlatBufferTest, AWrongFileIdentifierIsRejected) {
  std::string bytes = ToFlatBuffer(SampleDatabase());
  bytes[7] = 'X';
  ExpectRejected(bytes, "file identifier \"SQIX\", expected \"SQIR\"");
  bytes[7] = '\0';
  ExpectRejected(bytes, "file identifier \"SQI\\x00\"");
  // A sound FlatBuffer of another schema.
  flatbuffers::Parser other;
  ASSERT_TRUE(other.Parse("table Ping { seq:uint; } root_type Ping; file_identifier \"PING\";"));
  ExpectRejected(testing::BufferFromJson(other, R"({"seq": 7})"), "file identifier \"PING\"");
}

TEST(IrFlatBufferTest, EveryTruncationIsAnError) {
  const std::string bytes = ToFlatBuffer(SampleDatabase());
  for (size_t n = 8; n < bytes.size(); ++n) {
    auto db = FromFlatBuffer(std::string_view(bytes).substr(0, n));
    EXPECT_FALSE(db.ok()) << "truncated to " << n << " of " << bytes.size() << " bytes";
  }
}

// A decoded damaged buffer is still an IR: it encodes and decodes the same.
void ExpectConsistentIfAccepted(std::string_view bytes, const std::string& what) {
  auto db = FromFlatBuffer(bytes);
  if (!db.ok()) {
    EXPECT_EQ(db.error().code, ErrorCode::kInvalidArgument) << what;
    return;
  }
  auto again = FromFlatBuffer(ToFlatBuffer(*db));
  ASSERT_TRUE(again.ok()) << what;
  EXPECT_THAT(DiffIr(*again, *db), IsEmpty()) << what;
}

TEST(IrFlatBufferTest, EveryBitFlipIsAnErrorOrAConsistentIr) {
  const std::string bytes = ToFlatBuffer(SampleDatabase());
  size_t rejected = 0;
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string damaged = bytes;
      damaged[i] = static_cast<char>(damaged[i] ^ (1 << bit));
      ExpectConsistentIfAccepted(damaged, "byte " + std::to_string(i) + " bit " + std::to_string(bit));
      rejected += FromFlatBuffer(damaged).ok() ? 0 : 1;
    }
  }
  EXPECT_GT(rejected, bytes.size());  // offsets and lengths are everywhere
}

TEST(IrFlatBufferTest, RandomBytesAreRejected) {
  std::mt19937 random(20261126);
  size_t accepted = 0;
  for (int round = 0; round < 20000; ++round) {
    std::string bytes(8 + random() % 300, '\0');
    for (char& c : bytes) c = static_cast<char>(random());
    bytes.replace(4, 4, "SQIR");
    if (round % 2 == 0) {  // a root offset that lands inside the buffer
      bytes.replace(0, 4, std::string(4, '\0'));
      bytes[0] = static_cast<char>(8 + 4 * (random() % 8));
    }
    ExpectConsistentIfAccepted(bytes, "round " + std::to_string(round));
    accepted += FromFlatBuffer(bytes).ok() ? 1 : 0;
  }
  EXPECT_LT(accepted, 100u);
}

TEST(IrFlatBufferTest, SharedStringsCannotBlowUpASmallBuffer) {
  // 10000 references to one 1000-byte string: sound for the verifier, 10 MB
  // of IR out of a 41 kB buffer.
  flatbuffers::FlatBufferBuilder fbb;
  const auto text = fbb.CreateString(std::string(1000, 'x'));
  const auto list = fbb.CreateVector(std::vector<flatbuffers::Offset<flatbuffers::String>>(10000, text));
  fb::DatabaseBuilder db(fbb);
  db.add_not_visible(list);
  fb::FinishDatabaseBuffer(fbb, db.Finish());
  ExpectRejected(Bytes(fbb), "expands to more than");
}

TEST(IrFlatBufferTest, SharedTablesHitTheVerifierLimit) {
  // 2000 tables listing one table of 2000 columns: 4 million tables to walk
  // in 16 kB.
  flatbuffers::FlatBufferBuilder fbb;
  const auto column = fb::CreateColumn(fbb, fbb.CreateString("c"));
  const auto columns = fbb.CreateVector(std::vector<flatbuffers::Offset<fb::Column>>(2000, column));
  fb::TableDefBuilder table(fbb);
  table.add_columns(columns);
  const auto shared = table.Finish();
  const auto tables = fbb.CreateVector(std::vector<flatbuffers::Offset<fb::TableDef>>(2000, shared));
  fb::DatabaseBuilder db(fbb);
  db.add_tables(tables);
  fb::FinishDatabaseBuffer(fbb, db.Finish());
  ExpectRejected(Bytes(fbb), "failed verification");
}

TEST(IrFlatBufferTest, UnalignedBytesAreRead) {
  const Database sample = SampleDatabase();
  const std::string padded = "!" + ToFlatBuffer(sample);
  auto back = FromFlatBuffer(std::string_view(padded).substr(1));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_THAT(DiffIr(*back, sample), IsEmpty());
}

}  // namespace
}  // namespace sqlx::ir
