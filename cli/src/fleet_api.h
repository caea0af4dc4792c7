// The client side of the orchestrator's HTTP API (docs/cluster.md), shared
// by the commands that talk to it (fleet_client.cc, rollout_client.cc).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "commands.h"
#include "sqlx/messages/result.h"

namespace sqlx::cli {

struct Api {
  std::string base;
  std::string token;
  std::string ca;  // PEM file the orchestrator's certificate must chain to; empty: the system's
};

// --orchestrator (else $SQLX_ORCHESTRATOR), --orchestrator-ca (else
// $SQLX_ORCHESTRATOR_CA) and $SQLX_TOKEN; kInvalidArgument saying what is missing.
Result<Api> ApiOf(const ClusterArgs& a);
// One request; the JSON answer, or an Error carrying the API's message
// (401/403: kAuth, 400: kInvalidArgument, 404: kNotFound, else kServer).
Result<nlohmann::json> Call(const Api& api, const std::string& method, const std::string& path,
                            const nlohmann::json* body = nullptr);
// `base` + "/" + `id`, the id query-encoded.
std::string Path(std::string_view base, std::string_view id);
void PrintJson(const nlohmann::json& j);
// RFC 3339 to the second; "-" for 0.
std::string Time(int64_t ns);
// One request's answer: as JSON with --format json, else as `text` prints it.
int Answer(const GlobalOptions& g, const Result<nlohmann::json>& answer,
           const std::function<void(const nlohmann::json&)>& text);

// rollout create|list|status|pause|resume|abort|revert|approve (rollout_client.cc).
int RunRolloutClient(const GlobalOptions& g, const ClusterArgs& a, const Api& api);

}  // namespace sqlx::cli
