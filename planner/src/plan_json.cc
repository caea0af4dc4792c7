// plan.json: docs/formats/plan.md.
#include <nlohmann/json.hpp>

#include "sqlx/planner/duration.h"
#include "sqlx/planner/plan.h"

namespace sqlx::planner {

namespace {

using nlohmann::json;

Result<OpClass> ClassFromName(const std::string& name, const std::string& where) {
  for (OpClass c : {OpClass::kSafe, OpClass::kDataDependent, OpClass::kDestructive, OpClass::kBackwardIncompatible}) {
    if (name == OpClassName(c)) return c;
  }
  return MakeError(ErrorCode::kInvalidArgument, "plan JSON at \"" + where + "\": unknown class '" + name +
                                                    "' (safe, data-dependent, destructive, backward-incompatible)");
}

template <class T>
Status Read(const json& j, const char* key, const std::string& where, T* out) {
  if (!j.contains(key)) return MakeError(ErrorCode::kInvalidArgument, "plan JSON at \"" + where + "/" + key + "\": missing");
  try {
    *out = j.at(key).get<T>();
  } catch (const json::exception&) {
    return MakeError(ErrorCode::kInvalidArgument, "plan JSON at \"" + where + "/" + key + "\": wrong type");
  }
  return Status::Ok();
}

// Keys added to version 1 after its first release: absent in older files.
template <class T>
Status ReadOptional(const json& j, const char* key, const std::string& where, T* out) {
  if (!j.contains(key)) return Status::Ok();
  return Read(j, key, where, out);
}

json PreChecksJson(const std::vector<PreCheck>& checks) {
  json out = json::array();
  for (const PreCheck& c : checks) out.push_back({{"what", c.what}, {"sql", c.sql}});
  return out;
}

Status ReadStrategy(const json& j, const std::string& where, Operation* op) {
  std::string name = StrategyName(Strategy::kUnknown);
  SQLX_RETURN_IF_ERROR(ReadOptional(j, "strategy", where, &name));
  if (!StrategyFromName(name, &op->strategy))
    return MakeError(ErrorCode::kInvalidArgument, "plan JSON at \"" + where + "/strategy\": unknown strategy '" + name +
                                                      "' (instant, inplace, online-copy, copy, none, unknown)");
  SQLX_RETURN_IF_ERROR(ReadOptional(j, "strategy_reason", where, &op->strategy_reason));
  SQLX_RETURN_IF_ERROR(ReadOptional(j, "bytes_estimate", where, &op->bytes_estimate));
  SQLX_RETURN_IF_ERROR(ReadOptional(j, "duration_estimate_ms", where, &op->duration_estimate_ms));
  if (!j.contains("prechecks")) return Status::Ok();
  if (!j["prechecks"].is_array())
    return MakeError(ErrorCode::kInvalidArgument, "plan JSON at \"" + where + "/prechecks\": not an array");
  for (size_t i = 0; i < j["prechecks"].size(); ++i) {
    const std::string at = where + "/prechecks/" + std::to_string(i);
    PreCheck c;
    SQLX_RETURN_IF_ERROR(Read(j["prechecks"][i], "what", at, &c.what));
    SQLX_RETURN_IF_ERROR(Read(j["prechecks"][i], "sql", at, &c.sql));
    op->prechecks.push_back(std::move(c));
  }
  return Status::Ok();
}

}  // namespace

std::string PlanToJson(const Plan& plan) {
  json ops = json::array();
  for (const Operation& op : plan.operations) {
    ops.push_back({{"id", op.id},
                   {"kind", op.kind},
                   {"object", op.object},
                   {"class", OpClassName(op.op_class)},
                   {"changes", op.changes},
                   {"notes", op.notes},
                   {"sql", op.sql},
                   {"sql_mode", op.sql_mode},
                   {"reverse_sql", op.reverse_sql},
                   {"reverse_loses_data", op.reverse_loses_data},
                   {"rows_estimate", op.rows_estimate},
                   {"bytes_estimate", op.bytes_estimate},
                   {"duration_estimate_ms", op.duration_estimate_ms},
                   {"strategy", StrategyName(op.strategy)},
                   {"strategy_reason", op.strategy_reason},
                   {"prechecks", PreChecksJson(op.prechecks)}});
  }
  json doc = {{"format", "sqlx-plan"},
              {"format_version", Plan::kFormatVersion},
              {"database", plan.database},
              {"from_hash", plan.from_hash},
              {"to_hash", plan.to_hash},
              {"strategy_basis", plan.strategy_basis},
              {"duration_basis", plan.duration_basis},
              {"duration_estimate_ms", TotalDurationEstimateMs(plan)},
              {"operations", ops},
              {"policy_findings", plan.policy_findings}};
  return doc.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Result<Plan> PlanFromJson(const std::string& text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object())
    return MakeError(ErrorCode::kInvalidArgument, "plan JSON is not a JSON object (is this a plan.json file?)");
  std::string format;
  SQLX_RETURN_IF_ERROR(Read(doc, "format", "", &format));
  if (format != "sqlx-plan")
    return MakeError(ErrorCode::kInvalidArgument, "plan JSON at \"/format\": expected \"sqlx-plan\", found \"" + format + "\"");
  int version = 0;
  SQLX_RETURN_IF_ERROR(Read(doc, "format_version", "", &version));
  if (version != Plan::kFormatVersion)
    return MakeError(ErrorCode::kInvalidArgument, "plan JSON at \"/format_version\": this sqlx reads version " +
                                                      std::to_string(Plan::kFormatVersion) + ", the file has " +
                                                      std::to_string(version) + " (re-create the plan)");
  Plan plan;
  SQLX_RETURN_IF_ERROR(Read(doc, "database", "", &plan.database));
  SQLX_RETURN_IF_ERROR(Read(doc, "from_hash", "", &plan.from_hash));
  SQLX_RETURN_IF_ERROR(Read(doc, "to_hash", "", &plan.to_hash));
  SQLX_RETURN_IF_ERROR(Read(doc, "policy_findings", "", &plan.policy_findings));
  SQLX_RETURN_IF_ERROR(ReadOptional(doc, "strategy_basis", "", &plan.strategy_basis));
  SQLX_RETURN_IF_ERROR(ReadOptional(doc, "duration_basis", "", &plan.duration_basis));
  if (!doc.contains("operations") || !doc["operations"].is_array())
    return MakeError(ErrorCode::kInvalidArgument, "plan JSON at \"/operations\": missing or not an array");
  for (size_t i = 0; i < doc["operations"].size(); ++i) {
    const json& j = doc["operations"][i];
    const std::string where = "/operations/" + std::to_string(i);
    if (!j.is_object()) return MakeError(ErrorCode::kInvalidArgument, "plan JSON at \"" + where + "\": not an object");
    Operation op;
    std::string cls;
    SQLX_RETURN_IF_ERROR(Read(j, "id", where, &op.id));
    SQLX_RETURN_IF_ERROR(Read(j, "kind", where, &op.kind));
    SQLX_RETURN_IF_ERROR(Read(j, "object", where, &op.object));
    SQLX_RETURN_IF_ERROR(Read(j, "class", where, &cls));
    SQLX_ASSIGN_OR_RETURN(op.op_class, ClassFromName(cls, where + "/class"));
    SQLX_RETURN_IF_ERROR(Read(j, "changes", where, &op.changes));
    SQLX_RETURN_IF_ERROR(Read(j, "notes", where, &op.notes));
    SQLX_RETURN_IF_ERROR(Read(j, "sql", where, &op.sql));
    SQLX_RETURN_IF_ERROR(Read(j, "sql_mode", where, &op.sql_mode));
    SQLX_RETURN_IF_ERROR(Read(j, "reverse_sql", where, &op.reverse_sql));
    SQLX_RETURN_IF_ERROR(Read(j, "reverse_loses_data", where, &op.reverse_loses_data));
    SQLX_RETURN_IF_ERROR(Read(j, "rows_estimate", where, &op.rows_estimate));
    SQLX_RETURN_IF_ERROR(ReadStrategy(j, where, &op));
    if (op.id != static_cast<int>(i) + 1)
      return MakeError(ErrorCode::kInvalidArgument, "plan JSON at \"" + where + "/id\": expected " + std::to_string(i + 1) +
                                                        " (operations run in id order)");
    plan.operations.push_back(std::move(op));
  }
  return plan;
}

}  // namespace sqlx::planner
