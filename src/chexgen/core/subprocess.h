// Running a shell command as a child process (the command backend of chexgen generate): its output lines handed
// over as they come, the tail of its standard error kept for the message when it fails. POSIX only.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace chexgen {

struct ShellOutcome {
  int status = 0;  // the exit status, or the signal number when signalled
  bool signalled = false;
  std::string stderr_tail;  // the last stderr_tail_bytes bytes of its standard error
};

// Runs `command` through /bin/sh -c with stdin from /dev/null and waits for it. Every line it writes on stdout or
// stderr goes to on_line as it comes (without the line end). Failing to start it is a std::runtime_error.
ShellOutcome run_shell(const std::string& command, const std::function<void(const std::string&)>& on_line,
                       std::size_t stderr_tail_bytes = 2000);

// `text` as one word for /bin/sh: in single quotes, each ' written as '\''.
std::string shell_quote(std::string_view text);

}  // namespace chexgen
