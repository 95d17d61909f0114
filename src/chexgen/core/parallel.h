// The threading policy, stated once: `threads = 0` means every core; work is split into indices
// handed out one at a time; the first exception thrown by any worker stops the hand-out and is
// re-thrown on the calling thread after every worker has returned.
#pragma once

#include <cstddef>
#include <functional>

namespace chexgen {

class Progress;

// 0 -> std::thread::hardware_concurrency() (at least 1); negative values are a UsageError.
int resolve_threads(int requested);

// Calls fn(i) for every i in [0, n), on `threads` workers (0 = all cores). When `progress` is given,
// it is advanced once per finished index.
void parallel_for(std::size_t n, int threads, const std::function<void(std::size_t)>& fn, Progress* progress = nullptr);

}  // namespace chexgen
