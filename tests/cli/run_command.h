// Runs the built chexgen program (path in CHEXGEN_BINARY) and captures what it prints.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace chexgen::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;  // standard output
  std::string err;  // standard error
};

// Runs `chexgen args...` with the working directory `cwd` (default: the repository root).
CommandResult run_chexgen(const std::vector<std::string>& args, const std::string& cwd = CHEXGEN_SOURCE_DIR);

// The same, killed with SIGKILL as soon as `condition` (polled every 10 ms) holds; exit_code is then 137.
CommandResult run_chexgen_killed_when(const std::vector<std::string>& args, const std::function<bool()>& condition);

// A fresh empty directory under the system temporary directory.
std::string make_temp_dir();

// The whole content of a file ("" when it cannot be read).
std::string read_text(const std::string& path);

// The records of a JSON Lines file (a journal, a metadata.jsonl), blank lines skipped; none when it cannot be read.
std::vector<nlohmann::json> read_jsonl(const std::string& path);

// `chexgen baselines` of the first `rows` rows of the bundled sample, in `dir`/baselines (returned); fails the test
// when the command does.
std::filesystem::path make_sample_baselines(const std::filesystem::path& dir, int rows);

}  // namespace chexgen::testing
