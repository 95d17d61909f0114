// Errors, in two tiers (see docs/errors.md):
//  - a user error (bad file, bad row, bad option) is an exception that names where it happened;
//  - a broken internal invariant is a bug: CHEXGEN_ASSERT aborts with file and line.
#pragma once

#include <cstddef>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace chexgen {

// Process exit codes, the one documented list (docs/errors.md).
enum class ExitCode : int {
  success = 0,
  internal = 1,   // a bug or an unexpected system failure
  usage = 2,      // bad command line
  bad_input = 3,  // one or more input files, rows or values are unusable
  output = 4,     // a result could not be written
  service = 5,    // a remote service (text-to-image or VLM server) refused or kept failing a request
};

// Where a problem was found: a file, optionally a 1-based row (a line, or a record of a table)
// and a column name. Rendered as `file:row: column 'c'`.
struct Location {
  Location(std::string file_ = {}, std::optional<std::size_t> row_ = {}, std::string column_ = {})
      : file(std::move(file_)), row(row_), column(std::move(column_)) {}

  std::string file;
  std::optional<std::size_t> row;
  std::string column;

  std::string render() const;
};

// A problem with something the user gave us. Its message is `<location>: <reason>`,
// e.g. `manifest.csv:17: column 'path': file 'p10/s5.jpg' not found`.
class InputError : public std::runtime_error {
 public:
  InputError(Location where, std::string reason);
  const Location& where() const { return where_; }
  const std::string& reason() const { return reason_; }

 private:
  Location where_;
  std::string reason_;
};

// A bad command-line option or a combination of options that cannot work.
class UsageError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A result file could not be written.
class OutputError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A remote service refused a request for a reason retrying cannot fix (HTTP 4xx other than 408 and 429: a wrong
// model name, a missing API key, a request it cannot read), or kept failing it after every retry. The message names
// the URL, the status and what the service said.
class ServiceError : public std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Input errors gathered across a whole run, so that the user sees every bad sample at once.
class ErrorReport {
 public:
  void add(const InputError& e) { errors_.push_back(e); }
  bool empty() const { return errors_.empty(); }
  std::size_t size() const { return errors_.size(); }
  const std::vector<InputError>& errors() const { return errors_; }
  void merge(const ErrorReport& other);
  // [{"file":..., "row":..., "column":..., "reason":..., "message":...}, ...]
  nlohmann::json to_json() const;

 private:
  std::vector<InputError> errors_;
};

[[noreturn]] void assertion_failed(const char* expr, const char* file, int line, const std::string& message);

}  // namespace chexgen

// Internal invariant: a failure is a bug in chexgen, never a user error.
#define CHEXGEN_ASSERT(cond, message)                                               \
  do {                                                                              \
    if (!(cond)) ::chexgen::assertion_failed(#cond, __FILE__, __LINE__, (message)); \
  } while (0)
