// The manifest options every subcommand that reads a dataset shares (--format, --image-root, label and column
// names, --skip-bad), optionally under a prefix ("--real-format", "--synthetic-image-root", ...).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"
#include "chexgen/data/manifest.h"

namespace chexgen::cli {

struct ManifestArgs {
  std::string format = "auto";
  std::string image_root;
  std::vector<std::string> labels;
  std::string label_set;
  std::string label_columns;
  std::string image_column, prompt_column, labels_column, patient_column, id_column;
  bool skip_bad = false;

  ManifestOptions options() const;  // UsageError for contradictory options
};

// Adds the options to `cmd`. With a prefix "real", "--format" becomes "--real-format" and so on; --skip-bad is
// never prefixed (add it once per command with add_skip_bad_flag).
void add_manifest_options(CLI::App* cmd, ManifestArgs& args, const std::string& prefix = "");
void add_skip_bad_flag(CLI::App* cmd, bool& skip_bad);

// Reads a manifest; on failure prints every problem and rethrows (exit code 3 through main).
Dataset read_manifest_or_report(const std::string& path, const ManifestOptions& options, ErrorReport& errors);

// "chexgen: error: <message>" on stderr, the message made safe for a terminal (printable_text: a file name or a
// server's words with escape sequences cannot drive it).
void print_error(std::string_view message);

void print_errors(const ErrorReport& errors);
// Writes JSON (2-space indent) atomically: a reader never sees half a file.
void write_json_file(const std::string& path, const nlohmann::ordered_json& j);

}  // namespace chexgen::cli
