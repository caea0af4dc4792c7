// COLUMN_TYPE text as types with limits (column_types.h).
#include "column_types.h"

#include <algorithm>
#include <cctype>
#include <map>

namespace sqlx::planner {

std::string LowerAscii(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

ColumnType ParseColumnType(const std::string& column_type) {
  ColumnType t;
  const std::string lower = LowerAscii(column_type);
  const size_t open = lower.find('(');
  t.base = lower.substr(0, std::min(open, lower.find(' ')));
  t.is_unsigned = lower.find(" unsigned") != std::string::npos;
  if (open == std::string::npos) return t;
  std::string current;
  bool quoted = false;
  for (size_t i = open + 1; i < column_type.size(); ++i) {
    const char c = column_type[i];
    if (quoted) {
      current += c;
      if (c == '\'' && i + 1 < column_type.size() && column_type[i + 1] == '\'') {
        current += column_type[++i];
      } else if (c == '\'') {
        quoted = false;
      }
    } else if (c == '\'') {
      quoted = true;
      current += c;
    } else if (c == ',') {
      t.args.push_back(current);
      current.clear();
    } else if (c == ')') {
      t.args.push_back(current);
      break;
    } else {
      current += c;
    }
  }
  return t;
}

uint64_t LeadingNumber(const std::string& s) {
  uint64_t v = 0;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) break;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

uint32_t MaxBytesPerChar(const std::string& charset) {
  static const std::map<std::string, uint32_t> kMax = {
      {"utf8mb4", 4}, {"utf16", 4}, {"utf16le", 4}, {"utf32", 4}, {"gb18030", 4}, {"utf8mb3", 3},
      {"utf8", 3},    {"ujis", 3},  {"eucjpms", 3}, {"ucs2", 2},  {"big5", 2},    {"gbk", 2},
      {"gb2312", 2},  {"sjis", 2},  {"cp932", 2},   {"euckr", 2}};
  auto it = kMax.find(LowerAscii(charset));
  return it == kMax.end() ? 1 : it->second;
}

namespace {

const std::map<std::string, uint64_t>& LobBytes() {
  static const std::map<std::string, uint64_t> kBytes = {
      {"tinytext", 255},        {"text", 65535},           {"mediumtext", 16777215}, {"longtext", 4294967295},
      {"tinyblob", 255},        {"blob", 65535},           {"mediumblob", 16777215}, {"longblob", 4294967295}};
  return kBytes;
}

}  // namespace

std::optional<uint64_t> MaxChars(const ColumnType& t, const std::string& charset) {
  if ((t.base == "char" || t.base == "varchar") && !t.args.empty()) return LeadingNumber(t.args[0]);
  if (t.base == "char") return 1;
  auto it = LobBytes().find(t.base);
  if (it != LobBytes().end() && t.base.find("text") != std::string::npos) return it->second / MaxBytesPerChar(charset);
  return std::nullopt;
}

std::optional<uint64_t> MaxBytes(const ColumnType& t) {
  if ((t.base == "binary" || t.base == "varbinary") && !t.args.empty()) return LeadingNumber(t.args[0]);
  auto it = LobBytes().find(t.base);
  if (it != LobBytes().end() && t.base.find("blob") != std::string::npos) return it->second;
  return std::nullopt;
}

bool IsInteger(const ColumnType& t) {
  return t.base == "tinyint" || t.base == "smallint" || t.base == "mediumint" || t.base == "int" ||
         t.base == "integer" || t.base == "bigint";
}

bool IsCharacter(const ColumnType& t) {
  return t.base == "char" || t.base == "varchar" || (LobBytes().count(t.base) && t.base.find("text") != std::string::npos);
}

std::optional<std::pair<std::string, std::string>> IntegerRange(const ColumnType& t) {
  static const std::map<std::string, std::pair<const char*, const char*>> kSigned = {
      {"tinyint", {"-128", "127"}},
      {"smallint", {"-32768", "32767"}},
      {"mediumint", {"-8388608", "8388607"}},
      {"int", {"-2147483648", "2147483647"}},
      {"integer", {"-2147483648", "2147483647"}},
      {"bigint", {"-9223372036854775808", "9223372036854775807"}}};
  static const std::map<std::string, const char*> kUnsignedMax = {
      {"tinyint", "255"},        {"smallint", "65535"},     {"mediumint", "16777215"},
      {"int", "4294967295"},     {"integer", "4294967295"}, {"bigint", "18446744073709551615"}};
  if (!IsInteger(t)) return std::nullopt;
  if (t.is_unsigned) return std::make_pair(std::string("0"), std::string(kUnsignedMax.at(t.base)));
  const auto& r = kSigned.at(t.base);
  return std::make_pair(std::string(r.first), std::string(r.second));
}

}  // namespace sqlx::planner
