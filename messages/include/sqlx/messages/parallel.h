// Runs independent per-item work on the machine's cores: a learn of many
// databases hands over one IR per database, and each is decoded, checked,
// encoded for the store on its own (actors' snapshot, storage's PutSchemas).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <thread>
#include <vector>

namespace sqlx {

// Calls fn(i) for every i in [0, n), on up to hardware_concurrency threads
// (the calling one included), and returns when all calls have. Calls for
// different i may run at the same time: fn must only touch item i's state.
template <class Fn>
void ForEachIndex(size_t n, Fn&& fn) {
  const size_t threads = std::min<size_t>(n, std::max(1u, std::thread::hardware_concurrency()));
  if (threads <= 1) {
    for (size_t i = 0; i < n; ++i) fn(i);
    return;
  }
  std::atomic<size_t> next{0};
  auto work = [&] {
    for (size_t i = next++; i < n; i = next++) fn(i);
  };
  std::vector<std::thread> helpers;
  helpers.reserve(threads - 1);
  for (size_t t = 1; t < threads; ++t) helpers.emplace_back(work);
  work();
  for (std::thread& h : helpers) h.join();
}

}  // namespace sqlx
