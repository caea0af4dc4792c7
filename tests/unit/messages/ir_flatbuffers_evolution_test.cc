// Evolution of the IR schema: today's messages/schemas/ir.fbs must stay an
// evolution of the older form in ir_v0.fbs (flatc's conformance check), a
// buffer written with that older schema reads with today's IR defaults for
// every field it lacks, and a reader with the older schema skips today's new
// fields.
#include <flatbuffers/idl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "ir_compare.h"
#include "ir_sample.h"
#include "ir_schema_parser.h"
#include "sqlx/messages/ir_flatbuffers.h"

namespace sqlx::ir {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::DiffIr;
using testing::LoadSchema;

constexpr const char* kSchema = "messages/schemas/ir.fbs";
constexpr const char* kOldSchema = "tests/unit/messages/ir_v0.fbs";

TEST(IrFlatBufferEvolutionTest, TodaysSchemaIsAnEvolutionOfTheOldOne) {
  auto current = LoadSchema(kSchema);
  auto old_schema = LoadSchema(kOldSchema);
  EXPECT_EQ(current->ConformTo(*old_schema), "");
}

TEST(IrFlatBufferEvolutionTest, TheConformanceCheckCatchesARenumberedField) {
  // So that the test above cannot pass vacuously (it matches tables by
  // their full name, namespace included).
  auto current = LoadSchema(kSchema);
  flatbuffers::Parser renumbered;
  ASSERT_TRUE(renumbered.Parse(
      "namespace sqlx.fb.ir; table Column { position:uint (id: 0); name:string (id: 1); }"));
  EXPECT_THAT(current->ConformTo(renumbered), HasSubstr("offsets differ for field: name"));
}

TEST(IrFlatBufferEvolutionTest, AnOldBufferReadsWithTodaysDefaults) {
  auto old_schema = LoadSchema(kOldSchema);
  const std::string old_bytes = testing::BufferFromJson(*old_schema, R"json({
    "name": "shop", "charset": "utf8mb4",
    "tables": [{"name": "t", "engine": "InnoDB",
                "columns": [{"name": "id", "position": 1, "column_type": "int(11)"}]}]})json");
  auto db = FromFlatBuffer(old_bytes);
  ASSERT_TRUE(db.ok()) << db.error().message;

  Database expected;
  expected.name = "shop";
  expected.charset = "utf8mb4";
  expected.tables.resize(1);
  expected.tables[0].name = "t";
  expected.tables[0].engine = "InnoDB";
  expected.tables[0].columns = {testing::MakeColumn("id", 1, "int(11)")};
  EXPECT_THAT(DiffIr(*db, expected), IsEmpty());
  // Fields the old schema did not have take the IR's defaults, not
  // FlatBuffers' zeros: a column is nullable, has no default, no partitioning.
  const Column& id = db->tables[0].columns[0];
  EXPECT_TRUE(id.nullable);
  EXPECT_FALSE(id.default_value.has_value());
  EXPECT_FALSE(db->tables[0].partitioning.has_value());
  EXPECT_TRUE(db->views.empty());
}

TEST(IrFlatBufferEvolutionTest, AnOldReaderSkipsTodaysFields) {
  auto old_schema = LoadSchema(kOldSchema);
  const std::string bytes = ToFlatBuffer(testing::SampleDatabase());
  std::string text;
  ASSERT_TRUE(flatbuffers::GenerateText(*old_schema, bytes.data(), &text));
  EXPECT_THAT(text, HasSubstr("\"column_type\": \"int(10) unsigned\""));
  EXPECT_THAT(text, Not(HasSubstr("views")));
  EXPECT_THAT(text, Not(HasSubstr("nullable")));
}

}  // namespace
}  // namespace sqlx::ir
