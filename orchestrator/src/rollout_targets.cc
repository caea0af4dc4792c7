#include "rollout_targets.h"

#include <fnmatch.h>

#include <algorithm>
#include <charconv>
#include <map>
#include <set>
#include <utility>

namespace sqlx::orchestrator {

namespace {

constexpr std::string_view kSelectorForms = "give all, name:CONNECTION or tag:TAG, each optionally followed by /DB_GLOB";

Error BadSelector(std::string_view text, const std::string& why) {
  return MakeError(ErrorCode::kInvalidArgument,
                   "target '" + std::string(text) + "': " + why + " (" + std::string(kSelectorForms) + ")");
}

bool Matches(const TargetSelector& s, const TargetCandidate& c) {
  switch (s.kind) {
    case TargetSelector::Kind::kAll:
      return true;
    case TargetSelector::Kind::kName:
      return c.connection == s.value;
    case TargetSelector::Kind::kTag:
      return std::find(c.tags.begin(), c.tags.end(), s.value) != c.tags.end();
  }
  return false;
}

}  // namespace

Result<TargetSelector> ParseTargetSelector(std::string_view text) {
  TargetSelector s;
  std::string_view head = text;
  if (const size_t slash = text.find('/'); slash != std::string_view::npos) {
    head = text.substr(0, slash);
    s.db_glob = std::string(text.substr(slash + 1));
    if (s.db_glob.empty()) return BadSelector(text, "the database pattern after '/' is empty");
    if (s.db_glob.find('/') != std::string::npos) return BadSelector(text, "a database pattern has no '/'");
  }
  if (head == "all") return s;
  const size_t colon = head.find(':');
  if (colon == std::string_view::npos) return BadSelector(text, "'" + std::string(head) + "' is not a selector");
  const std::string_view kind = head.substr(0, colon);
  s.value = std::string(head.substr(colon + 1));
  if (kind == "name") {
    s.kind = TargetSelector::Kind::kName;
  } else if (kind == "tag") {
    s.kind = TargetSelector::Kind::kTag;
  } else {
    return BadSelector(text, "unknown selector kind '" + std::string(kind) + "'");
  }
  if (s.value.empty()) return BadSelector(text, "the " + std::string(kind) + " after ':' is empty");
  return s;
}

std::string TargetSelectorText(const TargetSelector& s) {
  std::string out = s.kind == TargetSelector::Kind::kAll    ? "all"
                    : s.kind == TargetSelector::Kind::kName ? "name:" + s.value
                                                            : "tag:" + s.value;
  if (s.db_glob != "*") out += "/" + s.db_glob;
  return out;
}

Result<std::vector<ResolvedTarget>> ResolveTargets(const std::vector<TargetSelector>& selectors,
                                                   const std::vector<TargetCandidate>& candidates) {
  if (selectors.empty()) return MakeError(ErrorCode::kInvalidArgument, "no targets: " + std::string(kSelectorForms));
  std::set<std::pair<std::string, std::string>> picked;  // (connection, database)
  std::map<std::string, std::string> server_of;
  std::vector<std::string> empty;
  for (const TargetSelector& s : selectors) {
    bool named = false, any = false;
    for (const TargetCandidate& c : candidates) {
      if (!Matches(s, c)) continue;
      named = true;
      server_of[c.connection] = c.server;
      if (s.db_glob.find_first_of("*?[") == std::string::npos) {
        // A database named outright is a target even when not learned (yet).
        picked.emplace(c.connection, s.db_glob);
        any = true;
        continue;
      }
      for (const std::string& db : c.databases) {
        if (::fnmatch(s.db_glob.c_str(), db.c_str(), 0) != 0) continue;
        picked.emplace(c.connection, db);
        any = true;
      }
    }
    if (s.kind == TargetSelector::Kind::kName && !named)
      return MakeError(ErrorCode::kNotFound,
                       "target '" + TargetSelectorText(s) + "': no connection named '" + s.value +
                           "' (see `sqlx connections list`)");
    if (!any) empty.push_back(TargetSelectorText(s));
  }
  if (picked.empty()) {
    std::string which;
    for (const std::string& e : empty) which += (which.empty() ? "" : ", ") + e;
    return MakeError(ErrorCode::kInvalidArgument,
                     "the targets " + which +
                         " select no database: check the connections' tags and learn their databases first "
                         "(`sqlx fleet learn`)");
  }
  // Per server, its targets in (connection, database) order (the set's);
  // then the servers take turns.
  std::map<std::string, std::vector<ResolvedTarget>> per_server;
  for (const auto& [connection, database] : picked) {
    const std::string& server = server_of[connection];
    per_server[server].push_back(ResolvedTarget{connection, database, server});
  }
  std::vector<ResolvedTarget> out;
  out.reserve(picked.size());
  for (size_t round = 0; out.size() < picked.size(); ++round) {
    for (const auto& [server, targets] : per_server) {
      if (round < targets.size()) out.push_back(targets[round]);
    }
  }
  return out;
}

Result<std::vector<WaveSpec>> ParseWaves(std::string_view text) {
  std::vector<WaveSpec> out;
  if (text.empty()) return out;
  uint32_t last_percent = 0;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    std::string_view entry = text.substr(start, comma - start);
    start = comma + 1;
    WaveSpec w;
    if (!entry.empty() && entry.back() == '%') {
      w.percent = true;
      entry.remove_suffix(1);
    }
    auto [ptr, ec] = std::from_chars(entry.data(), entry.data() + entry.size(), w.value);
    const std::string shown = std::string(entry) + (w.percent ? "%" : "");
    if (entry.empty() || ec != std::errc() || ptr != entry.data() + entry.size() || w.value == 0 ||
        (w.percent && w.value > 100))
      return MakeError(ErrorCode::kInvalidArgument,
                       "wave '" + shown +
                           "': give a percentage 1%..100% of the targets after the canary, or a count >= 1 "
                           "(e.g. --waves 10%,50%,100%)");
    if (w.percent) {
      if (w.value < last_percent)
        return MakeError(ErrorCode::kInvalidArgument, "wave '" + shown + "' goes below the " +
                                                          std::to_string(last_percent) +
                                                          "% before it: percentages are cumulative");
      last_percent = w.value;
    }
    out.push_back(w);
  }
  return out;
}

std::string WavesText(const std::vector<WaveSpec>& waves) {
  std::string out;
  for (const WaveSpec& w : waves) out += (out.empty() ? "" : ",") + std::to_string(w.value) + (w.percent ? "%" : "");
  return out;
}

std::vector<size_t> PlanWaves(size_t targets, size_t canary, const std::vector<WaveSpec>& waves) {
  std::vector<size_t> sizes;
  size_t placed = std::min(canary, targets);
  if (placed > 0) sizes.push_back(placed);
  const size_t rest = targets - placed;
  for (const WaveSpec& w : waves) {
    // A percentage is a cumulative share of `rest`, rounded up.
    const size_t end = w.percent ? std::max(placed, targets - rest + (rest * w.value + 99) / 100)
                                 : std::min(targets, placed + w.value);
    if (end > placed) sizes.push_back(end - placed);
    placed = std::max(placed, end);
  }
  if (placed < targets) sizes.push_back(targets - placed);
  return sizes;
}

}  // namespace sqlx::orchestrator
