// Reading a replica's lag (planner/online.h, ReadReplicaLag).
#include <algorithm>
#include <cstdlib>
#include <optional>

#include "sqlx/planner/online.h"
#include "sqlx/transports/session.h"

namespace sqlx::planner {

namespace {

constexpr int kParseError = 1064;  // ER_PARSE_ERROR: the server does not know the statement

// The statements that show replication status, newest spelling first per
// server kind.
constexpr const char* kStatusStatements[] = {"SHOW ALL SLAVES STATUS", "SHOW REPLICA STATUS", "SHOW SLAVE STATUS"};

// The lag of each row of the status result (one row per channel): nullopt
// for a NULL Seconds_Behind_Master.
Result<std::vector<std::optional<double>>> ChannelLags(transports::Session& session, const std::string& statement) {
  SQLX_ASSIGN_OR_RETURN(auto stream, session.Query(statement));
  SQLX_ASSIGN_OR_RETURN(bool has, stream->NextResult());
  std::vector<std::optional<double>> out;
  if (!has) return out;
  const auto& columns = stream->columns();
  auto column = std::find_if(columns.begin(), columns.end(), [](const transports::Column& c) {
    return c.name == "Seconds_Behind_Master" || c.name == "Seconds_Behind_Source";
  });
  if (column == columns.end())
    return MakeError(ErrorCode::kUnsupported, statement + " has no Seconds_Behind_Master column");
  const size_t index = static_cast<size_t>(column - columns.begin());
  for (;;) {
    SQLX_ASSIGN_OR_RETURN(const transports::RowBatch* batch, stream->NextBatch());
    if (batch == nullptr) break;
    for (size_t r = 0; r < batch->rows(); ++r) {
      auto cell = batch->cell(r, index);
      out.push_back(cell ? std::optional<double>(std::strtod(std::string(*cell).c_str(), nullptr)) : std::nullopt);
    }
  }
  return out;
}

}  // namespace

Result<std::optional<double>> ReadReplicaLag(transports::Session& session, std::string& statement) {
  std::vector<std::optional<double>> lags;
  if (!statement.empty()) {
    SQLX_ASSIGN_OR_RETURN(lags, ChannelLags(session, statement));
  } else {
    for (const char* candidate : kStatusStatements) {
      auto read = ChannelLags(session, candidate);
      if (!read.ok() && read.error().server_code == kParseError) continue;
      if (!read.ok()) return read.error();
      statement = candidate;
      lags = std::move(*read);
      break;
    }
    if (statement.empty())
      return MakeError(ErrorCode::kUnsupported, "the server knows none of SHOW ALL SLAVES STATUS, SHOW REPLICA "
                                                "STATUS, SHOW SLAVE STATUS");
  }
  if (lags.empty())
    return MakeError(ErrorCode::kInvalidArgument,
                     "not a replica: " + statement + " returned no row (no replication is configured)");
  std::optional<double> worst = 0.0;
  for (const std::optional<double>& lag : lags) {
    if (!lag) return std::optional<double>();
    worst = std::max(*worst, *lag);
  }
  return worst;
}

Result<std::vector<ReplicaAddress>> DiscoverReplicas(transports::Session& session) {
  const Error none =
      MakeError(ErrorCode::kUnsupported, "the server knows none of SHOW REPLICA HOSTS, SHOW SLAVE HOSTS, SHOW REPLICAS");
  for (const char* statement : {"SHOW REPLICA HOSTS", "SHOW SLAVE HOSTS", "SHOW REPLICAS"}) {
    auto stream = session.Query(statement);
    if (!stream.ok() && stream.error().server_code == kParseError) continue;
    if (!stream.ok()) return stream.error();
    auto has = (*stream)->NextResult();
    if (!has.ok() && has.error().server_code == kParseError) continue;
    if (!has.ok()) return has.error();
    std::vector<ReplicaAddress> out;
    if (!*has) return out;
    const auto& columns = (*stream)->columns();
    auto find = [&](const char* name) -> std::optional<size_t> {
      for (size_t i = 0; i < columns.size(); ++i)
        if (columns[i].name == name) return i;
      return std::nullopt;
    };
    const auto id = find("Server_id"), host = find("Host"), port = find("Port");
    if (!id || !host || !port)
      return MakeError(ErrorCode::kUnsupported, std::string(statement) + " has no Server_id, Host and Port columns");
    for (;;) {
      SQLX_ASSIGN_OR_RETURN(const transports::RowBatch* batch, (*stream)->NextBatch());
      if (batch == nullptr) break;
      for (size_t r = 0; r < batch->rows(); ++r) {
        ReplicaAddress a;
        a.server_id = std::strtoull(std::string(batch->cell(r, *id).value_or("0")).c_str(), nullptr, 10);
        a.host = std::string(batch->cell(r, *host).value_or(""));
        a.port = static_cast<uint16_t>(std::strtoul(std::string(batch->cell(r, *port).value_or("0")).c_str(), nullptr, 10));
        out.push_back(std::move(a));
      }
    }
    return out;
  }
  return none;
}

}  // namespace sqlx::planner
