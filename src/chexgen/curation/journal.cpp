#include "chexgen/core/json.h"
#include "chexgen/curation/journal.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/files.h"

namespace chexgen {

namespace {
[[noreturn]] void fail_output(const std::filesystem::path& path, const char* what) {
  throw OutputError(fmt::format("{}: cannot {}: {}", path.string(), what, std::strerror(errno)));
}
}  // namespace

Journal::Journal(std::filesystem::path path) : path_(std::move(path)) {
  std::string text;
  std::error_code ec;
  if (std::filesystem::exists(path_, ec)) text = read_file_bytes(path_, ReadAs::own_output);

  std::size_t complete = 0;  // bytes up to and including the last newline
  std::size_t line_start = 0;
  std::size_t line_number = 0;
  while (line_start < text.size()) {
    const std::size_t newline = text.find('\n', line_start);
    if (newline == std::string::npos) break;  // a torn last line; cut off below
    ++line_number;
    const std::string_view line(text.data() + line_start, newline - line_start);
    line_start = newline + 1;
    complete = line_start;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    nlohmann::json record = try_parse_json(line).value_or(nlohmann::json());
    if (!record.is_object()) {
      throw InputError(Location(path_.string(), line_number),
                       "journal line is not a JSON object; the journal is damaged (move it away to start over)");
    }
    records_.push_back(std::move(record));
  }
  torn_tail_bytes_ = text.size() - complete;

  fd_ = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) fail_output(path_, "open the journal for appending");
  if (torn_tail_bytes_ > 0) {
    if (::ftruncate(fd_, static_cast<off_t>(complete)) != 0) fail_output(path_, "cut off the torn last line");
    if (::fdatasync(fd_) != 0) fail_output(path_, "sync the journal");
  }
}

Journal::~Journal() {
  if (fd_ >= 0) ::close(fd_);
}

void Journal::append(const nlohmann::json& record) {
  CHEXGEN_ASSERT(record.is_object(), "journal records are JSON objects");
  // dump() escapes control characters, so a record never spans two lines.
  const std::string line = record.dump() + "\n";
  std::lock_guard lock(mutex_);
  std::size_t written = 0;
  while (written < line.size()) {
    const ssize_t n = ::write(fd_, line.data() + written, line.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail_output(path_, "append to the journal");
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fdatasync(fd_) != 0) fail_output(path_, "sync the journal");
}

}  // namespace chexgen
