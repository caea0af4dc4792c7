// Reading COLUMN_TYPE text ("varchar(20)", "enum('a','b')", "int(10) unsigned")
// for strategy choice and pre-checks: its base type, its arguments, and the
// limits a type puts on values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace sqlx::planner {

std::string LowerAscii(std::string s);

struct ColumnType {
  std::string base;               // "int", "varchar", "decimal", "enum", ...
  std::vector<std::string> args;  // inside the parentheses, split on top-level commas (enum values stay quoted)
  bool is_unsigned = false;
};
ColumnType ParseColumnType(const std::string& column_type);

// Leading decimal digits of `s` (0 when none).
uint64_t LeadingNumber(const std::string& s);

// Bytes per character at most in `charset` (utf8mb4: 4, latin1: 1); 1 when unknown.
uint32_t MaxBytesPerChar(const std::string& charset);

// The most characters a character type holds (char/varchar: its length;
// tinytext…longtext: by bytes / MaxBytesPerChar), nullopt for other types.
std::optional<uint64_t> MaxChars(const ColumnType& t, const std::string& charset);
// The most bytes a binary or text type holds (tinyblob 255 … longblob; binary/varbinary(n)), nullopt otherwise.
std::optional<uint64_t> MaxBytes(const ColumnType& t);

// The range of an integer type as SQL literals ("-128", "127"); nullopt for others.
std::optional<std::pair<std::string, std::string>> IntegerRange(const ColumnType& t);

// True for the integer family (tinyint … bigint).
bool IsInteger(const ColumnType& t);
bool IsCharacter(const ColumnType& t);  // char, varchar, the text family

}  // namespace sqlx::planner
