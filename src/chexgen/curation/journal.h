// An append-only JSON Lines journal: what a long curation run has finished, written so that a run killed at any
// moment (kill -9, power aside) can be restarted and continue without doing anything twice or losing anything.
// Each record is one JSON object on one line, written with a single write() and fsynced before append() returns.
#pragma once

#include <cstddef>
#include <filesystem>
#include <mutex>
#include <vector>

#include <nlohmann/json.hpp>

namespace chexgen {

class Journal {
 public:
  // Opens `path`, creating it if absent, and reads every record already there. A last line with no newline (a
  // write cut short by a crash) is cut off the file and counted in torn_tail_bytes(). A complete line that is not
  // a JSON object is an InputError naming the file and line: the journal is damaged, and guessing would lose work.
  explicit Journal(std::filesystem::path path);
  ~Journal();
  Journal(const Journal&) = delete;
  Journal& operator=(const Journal&) = delete;

  const std::filesystem::path& path() const { return path_; }
  // The records present when the journal was opened, in file order (later appends are not added here).
  const std::vector<nlohmann::json>& records() const { return records_; }
  std::size_t torn_tail_bytes() const { return torn_tail_bytes_; }

  // Appends one record (a JSON object) and fsyncs. Thread-safe. Failure: OutputError naming the file.
  void append(const nlohmann::json& record);

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::vector<nlohmann::json> records_;
  std::size_t torn_tail_bytes_ = 0;
  std::mutex mutex_;
};

}  // namespace chexgen
