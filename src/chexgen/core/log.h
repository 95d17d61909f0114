// What a long operation tells the person running it, on standard error: what was read, computed, reused or left
// out, and progress lines. The library writes through a Log so that a caller can silence it (--quiet) without the
// library knowing about command lines. Errors are not logged here: they are exceptions (error.h).
#pragma once

#include <cstdio>
#include <utility>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/progress.h"

namespace chexgen {

class Log {
 public:
  explicit Log(bool enabled = true, std::FILE* out = stderr) : enabled_(enabled), out_(out) {}

  bool enabled() const { return enabled_; }
  // Progress bars follow the log: none when it is silent.
  ProgressOptions progress() const { return ProgressOptions{.enabled = enabled_}; }

  // One line (a newline is added).
  template <class... Args>
  void info(fmt::format_string<Args...> format, Args&&... args) const {
    if (enabled_) fmt::print(out_, "{}\n", fmt::format(format, std::forward<Args>(args)...));
  }

  // Problems that do not stop the run (rows left out with skip_bad), or that are reported all together before it
  // stops: "chexgen: error: <file:row: reason>", one per line. Printed even when the log is silent.
  void problems(const ErrorReport& errors) const {
    for (const auto& e : errors.errors()) fmt::print(out_, "chexgen: error: {}\n", e.what());
  }

 private:
  bool enabled_;
  std::FILE* out_;
};

}  // namespace chexgen
