// What a rollout runs on and in which order (docs/rollouts.md): target
// selectors (`all`, `name:CONN`, `tag:TAG`, each optionally `/DB_GLOB`)
// resolved against the fleet's connections and their learned databases, and
// the waves they are cut into (a canary, then percentages or counts). Pure:
// no store, no clock.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sqlx/messages/result.h"

namespace sqlx::orchestrator {

struct TargetSelector {
  enum class Kind { kAll, kName, kTag };
  Kind kind = Kind::kAll;
  std::string value;            // the connection name (kName) or the tag (kTag)
  std::string db_glob = "*";    // fnmatch(3) pattern over database names

  bool operator==(const TargetSelector&) const = default;
};

// One selector: `all`, `name:CONN` or `tag:TAG`, optionally followed by
// `/GLOB`. kInvalidArgument names what is wrong and what is accepted.
Result<TargetSelector> ParseTargetSelector(std::string_view text);
// The canonical text of `s` (ParseTargetSelector's inverse).
std::string TargetSelectorText(const TargetSelector& s);

// A connection of the fleet as resolution sees it: its tags, the server it
// leads to (host:port: the unit of the per-server concurrency budget) and
// its learned databases.
struct TargetCandidate {
  std::string connection;
  std::vector<std::string> tags;
  std::string server;
  std::vector<std::string> databases;
};

struct ResolvedTarget {
  std::string connection;
  std::string database;
  std::string server;

  bool operator==(const ResolvedTarget&) const = default;
};

// Every (connection, database) some selector picks, each once, in rollout
// order: servers in name order taking turns (the first database of each
// server, then the second of each, ...), and within a server by connection
// then database. The same fleet always gives the same order. A `name:`
// selector naming no connection is kNotFound. A database pattern without
// wildcards (`name:db1/shop`) names its database outright, learned or not
// (the engine holds a target it has no snapshot of). An empty result is
// kInvalidArgument saying which selectors matched nothing.
Result<std::vector<ResolvedTarget>> ResolveTargets(const std::vector<TargetSelector>& selectors,
                                                   const std::vector<TargetCandidate>& candidates);

// One wave after the canary: a percentage of the targets left after the
// canary, cumulative ("10%,50%,100%": up to 10%, then up to 50%, then all),
// or a count of targets in this wave.
struct WaveSpec {
  bool percent = false;
  uint32_t value = 0;  // 1..100 with `percent`; else >= 1

  bool operator==(const WaveSpec&) const = default;
};

// "10%,50%,100%", "2,5", "1,50%": kInvalidArgument names the bad entry.
// Percentages must not go down.
Result<std::vector<WaveSpec>> ParseWaves(std::string_view text);
std::string WavesText(const std::vector<WaveSpec>& waves);

// How many of `targets` each wave takes, in order: the canary first (when
// `canary` > 0), then each spec; what no spec reaches is one last wave.
// Waves that come out empty are dropped, so every size is >= 1 and the
// sizes add up to `targets`.
std::vector<size_t> PlanWaves(size_t targets, size_t canary, const std::vector<WaveSpec>& waves);

}  // namespace sqlx::orchestrator
