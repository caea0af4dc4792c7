#include "replica_lag.h"

#include <algorithm>
#include <cstdlib>

#include "connection_learning.h"

namespace sqlx::cli {

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

Result<std::shared_ptr<ReplicaLagProbe>> ReplicaLagProbe::Open(const GlobalOptions& g,
                                                               const std::vector<std::string>& urls) {
  std::shared_ptr<ReplicaLagProbe> probe(new ReplicaLagProbe(g));
  for (const std::string& raw : urls) {
    auto url = ResolveConnection({raw, ""});
    if (!url.ok()) return url.error();
    url->database.clear();
    Replica replica{*url, nullptr, ""};
    auto lag = probe->Lag(replica);
    if (!lag.ok()) {
      Error e = lag.error();
      e.message = "replica " + url->ConnectionName() + ": " + e.message;
      return e;
    }
    probe->replicas_.push_back(std::move(replica));
  }
  return probe;
}

Result<std::optional<double>> ReplicaLagProbe::Lag(Replica& replica) {
  if (replica.session == nullptr || !replica.session->usable()) {
    SQLX_ASSIGN_OR_RETURN(replica.session, OpenSession(g_, replica.url));
  }
  return ReadReplicaLag(*replica.session, replica.statement);
}

Result<planner::ReplicaLag> ReplicaLagProbe::Worst() {
  planner::ReplicaLag worst{0.0, ""};
  for (Replica& replica : replicas_) {
    auto lag = Lag(replica);
    if (!lag.ok()) {
      Error e = lag.error();
      e.message = "replica " + replica.url.ConnectionName() + ": " + e.message;
      return e;
    }
    if (!*lag) return planner::ReplicaLag{std::nullopt, replica.url.ConnectionName()};
    if (worst.replica.empty() || **lag > *worst.seconds) worst = {*lag, replica.url.ConnectionName()};
  }
  return worst;
}

}  // namespace sqlx::cli
