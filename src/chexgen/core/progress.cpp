#include "chexgen/core/progress.h"

#include <unistd.h>

#include <fmt/format.h>

namespace chexgen {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

Progress::Progress(std::string label, std::size_t total, ProgressOptions options, std::FILE* out)
    : label_(std::move(label)),
      total_(total),
      options_(options),
      out_(out),
      tty_(out != nullptr && isatty(fileno(out)) == 1),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

Progress::~Progress() { finish(); }

void Progress::advance(std::size_t k) {
  const std::size_t now_done = done_.fetch_add(k) + k;
  if (!options_.enabled || out_ == nullptr) return;
  std::unique_lock lock(print_mutex_, std::try_to_lock);
  if (!lock.owns_lock() || finished_) return;
  const double since_last = seconds_since(last_print_);
  const bool due =
      tty_
          ? since_last >= 0.1
          : since_last >= options_.line_interval_s ||
                (since_last >= options_.min_line_gap_s && total_ > 0 &&
                 static_cast<double>(now_done - last_printed_) >= options_.line_fraction * static_cast<double>(total_));
  if (due && now_done < total_) print(now_done, false);
}

void Progress::finish() {
  if (!options_.enabled || out_ == nullptr) return;
  std::lock_guard lock(print_mutex_);
  if (finished_) return;
  finished_ = true;
  print(done_.load(), true);
}

void Progress::print(std::size_t done, bool final_line) {
  const double elapsed = seconds_since(start_);
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  std::string eta;
  if (!final_line && rate > 0 && total_ > done)
    eta = fmt::format(", ~{:.0f} s left", static_cast<double>(total_ - done) / rate);
  const double pct = total_ > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total_) : 100.0;
  if (tty_) {
    constexpr int width = 30;
    const int filled = static_cast<int>(pct / 100.0 * width);
    fmt::print(out_, "\r{}: [{}{}] {}/{} ({:.0f}%), {:.1f}/s{}\033[K", label_, std::string(filled, '#'),
               std::string(width - filled, ' '), done, total_, pct, rate, eta);
    if (final_line) fmt::print(out_, " in {:.1f} s\n", elapsed);
  } else {
    fmt::print(out_, "{}: {}/{} ({:.0f}%), {:.1f}/s{}{}\n", label_, done, total_, pct, rate, eta,
               final_line ? fmt::format(", done in {:.1f} s", elapsed) : std::string());
  }
  std::fflush(out_);
  last_print_ = std::chrono::steady_clock::now();
  last_printed_ = done;
}

}  // namespace chexgen
