// The chexgen program: one file per subcommand, each adding itself to the CLI11 app.
// Subcommands parse arguments and call the library; nothing else lives here.
#pragma once

#include <CLI/CLI.hpp>

namespace chexgen::cli {

// Options every subcommand understands, set before the subcommand name or after it.
struct GlobalOptions {
  int threads = 0;     // 0 = all cores
  bool quiet = false;  // no progress output
};

// Each add_* registers a subcommand whose callback stores its exit code in `exit_code`.
void add_inspect_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_resize_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_metrics_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_radiomics_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_frd_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_extract_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_fidelity_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_leaderboard_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_baselines_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_generate_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_filter_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_export_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_privacy_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_utility_command(CLI::App& app, const GlobalOptions& global, int& exit_code);
void add_reports_command(CLI::App& app, const GlobalOptions& global, int& exit_code);

}  // namespace chexgen::cli
