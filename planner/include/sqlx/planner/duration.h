// How long a plan's operations may take: an estimate from each operation's
// strategy and the bytes it rewrites (bytes_estimate, the table's learned
// data + index length), at rewrite rates that are stated with their source
// (docs/formats/plan.md#duration). Pure: the rates are passed in.
#pragma once

#include <cstdint>
#include <string>

#include "sqlx/planner/plan.h"

namespace sqlx::planner {

// Bytes per second a server rewrites a table at.
struct RewriteRates {
  double copy_bytes_per_s = 0;     // ALGORITHM=COPY: strategies copy, online-copy and unknown ALTERs
  double inplace_bytes_per_s = 0;  // ALGORITHM=INPLACE, LOCK=NONE: a rebuild or an index build
  std::string basis;               // for people: where the rates come from
};

// The assumption used when nothing better is known: copy 30 MB/s, in place
// 40 MB/s, measured on MariaDB 10.11 with a 60 MB InnoDB table on a 2-core
// machine (docs/formats/plan.md#duration). A server with faster storage or
// more cores rewrites faster; one under load, slower.
RewriteRates AssumedRewriteRates();

// The estimated duration of `op` in milliseconds: 0 for instant and none
// (metadata only), bytes_estimate at the strategy's rate otherwise (an
// ALTER whose strategy is unknown is taken as a copy: the server may choose
// one). 0 when nothing is known of the table's size.
uint64_t EstimateDurationMs(const Operation& op, const RewriteRates& rates);

// Sets every operation's duration_estimate_ms and plan->duration_basis.
// REQUIRES: the strategies are chosen (ChooseStrategies).
void EstimateDurations(const RewriteRates& rates, Plan* plan);

// The sum of the operations' estimates (they run one after another).
uint64_t TotalDurationEstimateMs(const Plan& plan);

}  // namespace sqlx::planner
