// How the actors run a plan for the CLI's processes: the driver's ApplyPlan
// on the connection actor's session (actors/ cannot link the driver:
// sqlx/actors/plan_runner.h). `sqlx apply` and `sqlx worker` both pass it.
#pragma once

#include <functional>

#include "server_health.h"
#include "sqlx/actors/plan_runner.h"
#include "sqlx/apply.h"

namespace sqlx::cli {

// A runner that applies each request's plan with `base` (its hooks, store
// and audit log: the caller's, in process), the request's database and
// consents, and the request's hooks when it has them (a cluster worker's:
// its fence, checkpoints, audit forwarding and migrations to resume).
// `keep`, when set, is given the whole report before the summary is made
// (`sqlx apply` prints it). With `replicas` (a worker's), each run samples
// the server's health (ServerHealthSampler: at the start, after each
// operation and each online-copy chunk, at the end) into the summary's
// `health`, reaching the replicas with it, and online copies open their
// second session (OnlineOptions::open_session) with it. The runner runs on the
// connection actor's thread; base's hooks are called there.
actors::PlanRunner DriverPlanRunner(ApplyOptions base = {}, std::function<void(const ApplyReport&)> keep = {},
                                    ReplicaOpener replicas = {});

}  // namespace sqlx::cli
