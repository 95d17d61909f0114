// Progress of a long operation on standard error: a redrawn bar on a terminal, plain periodic
// lines otherwise (logs, CI). Thread-safe: workers call advance() concurrently.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <mutex>
#include <string>

namespace chexgen {

struct ProgressOptions {
  bool enabled = true;            // false: print nothing (--quiet)
  double line_interval_s = 10.0;  // without a terminal: at most one line per interval...
  double line_fraction = 0.1;     // ...or per this fraction of the total, whichever comes first,
  double min_line_gap_s = 1.0;    // ...but never two lines closer than this
};

class Progress {
 public:
  Progress(std::string label, std::size_t total, ProgressOptions options = {}, std::FILE* out = stderr);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void advance(std::size_t k = 1);
  // Prints the final line (once); called by the destructor if not called before.
  void finish();
  std::size_t done() const { return done_.load(); }

 private:
  void print(std::size_t done, bool final_line);

  std::string label_;
  std::size_t total_;
  ProgressOptions options_;
  std::FILE* out_;
  bool tty_;
  std::chrono::steady_clock::time_point start_;
  std::atomic<std::size_t> done_{0};
  std::mutex print_mutex_;
  std::chrono::steady_clock::time_point last_print_;
  std::size_t last_printed_ = 0;
  bool finished_ = false;
};

}  // namespace chexgen
