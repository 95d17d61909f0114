#include "chexgen/core/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>

namespace chexgen {

ShellOutcome run_shell(const std::string& command, const std::function<void(const std::string&)>& on_line,
                       std::size_t stderr_tail_bytes) {
  int out_pipe[2], err_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0) throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
  if (::pipe2(err_pipe, O_CLOEXEC) != 0) {
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    throw std::runtime_error(fmt::format("pipe: {}", std::strerror(errno)));
  }
  const pid_t pid = ::fork();
  if (pid < 0) {
    const int error = errno;
    for (const int fd : {out_pipe[0], out_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    throw std::runtime_error(fmt::format("fork: {}", std::strerror(error)));
  }
  if (pid == 0) {
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd >= 0) ::dup2(null_fd, 0);
    ::dup2(out_pipe[1], 1);
    ::dup2(err_pipe[1], 2);
    ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  ::close(out_pipe[1]);
  ::close(err_pipe[1]);

  ShellOutcome outcome;
  std::string pending[2];
  auto emit_lines = [&](std::string& buffer, bool all) {
    std::size_t start = 0;
    for (;;) {
      const std::size_t end = buffer.find_first_of("\r\n", start);
      if (end == std::string::npos) break;
      if (end > start) on_line(buffer.substr(start, end - start));
      start = end + 1;
    }
    buffer.erase(0, start);
    if (all && !buffer.empty()) {
      on_line(buffer);
      buffer.clear();
    }
  };
  // The command is done when its shell exits, not when every process that inherited its output has closed it: a
  // server it started in the background may hold the pipes for hours. After the exit, what is already in the pipes
  // is read (for at most a second), and the rest belongs to whatever the command left running.
  pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
  int open_fds = 2;
  char chunk[4096];
  int status = 0;
  bool exited = false;
  std::chrono::steady_clock::time_point drain_until;
  const auto check_exit = [&] {
    if (!exited && ::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      drain_until = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    }
  };
  while (open_fds > 0) {
    const int ready = ::poll(fds, 2, exited ? 0 : 100);
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (ready == 0 || (exited && std::chrono::steady_clock::now() > drain_until)) {
      if (exited) break;
      check_exit();
      continue;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      const ssize_t n = ::read(fds[i].fd, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
        emit_lines(pending[i], true);
        continue;
      }
      pending[i].append(chunk, static_cast<std::size_t>(n));
      if (i == 1) {
        outcome.stderr_tail.append(chunk, static_cast<std::size_t>(n));
        if (outcome.stderr_tail.size() > 2 * stderr_tail_bytes) {
          outcome.stderr_tail.erase(0, outcome.stderr_tail.size() - stderr_tail_bytes);
        }
      }
      emit_lines(pending[i], false);
    }
    check_exit();
  }
  for (int i = 0; i < 2; ++i) {
    if (fds[i].fd < 0) continue;
    ::close(fds[i].fd);
    emit_lines(pending[i], true);
  }
  while (!exited && ::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    outcome.status = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    outcome.signalled = true;
    outcome.status = WTERMSIG(status);
  }
  if (outcome.stderr_tail.size() > stderr_tail_bytes) {
    outcome.stderr_tail.erase(0, outcome.stderr_tail.size() - stderr_tail_bytes);
  }
  return outcome;
}

std::string shell_quote(std::string_view text) {
  std::string quoted = "'";
  for (const char c : text) {
    if (c == '\'') {
      quoted += "'\\''";
    } else {
      quoted += c;
    }
  }
  return quoted + "'";
}

}  // namespace chexgen
