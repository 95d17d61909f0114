// chexgen leaderboard: one table of the overall records of several results.json files (chexgen fidelity, privacy,
// utility), one row per generator, ranked by a chosen column in that metric's better direction (docs/baselines.md).
#include <memory>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/report/leaderboard.h"
#include "cli/commands.h"
#include "cli/extraction.h"
#include "cli/manifest_args.h"

namespace chexgen::cli {
namespace {

struct LeaderboardArgs {
  std::vector<std::string> inputs;
  std::string sort;
  std::string csv_path;
};

int run_leaderboard(const LeaderboardArgs& a) {
  std::vector<results::Results> runs;
  std::size_t n_bad = 0;
  for (const auto& input : a.inputs) {
    try {
      runs.push_back(results::read_results(input));
    } catch (const InputError& e) {
      print_error(e.what());
      ++n_bad;
    }
  }
  if (n_bad > 0) {
    fmt::print(stderr, "chexgen: {} of {} results file(s) could not be used; no table was written\n", n_bad,
               a.inputs.size());
    return static_cast<int>(ExitCode::bad_input);
  }
  const report::Leaderboard board = report::make_leaderboard(std::move(runs), a.sort);
  fmt::print("{}", report::leaderboard_text(board));
  if (!a.csv_path.empty()) write_lines(a.csv_path, report::leaderboard_csv(board));
  return static_cast<int>(ExitCode::success);
}

}  // namespace

void add_leaderboard_command(CLI::App& app, const GlobalOptions&, int& exit_code) {
  auto args = std::make_shared<LeaderboardArgs>();
  CLI::App* cmd = app.add_subcommand(
      "leaderboard", "Rank generators by the overall metrics of their results.json files (chexgen fidelity)");
  cmd->add_option("results", args->inputs, "results.json files, or folders holding one")->required();
  cmd->add_option("--sort", args->sort,
                  "Metric column to rank by, e.g. FRD, \"FID (Radiomics)\", Coverage (default: FRD if every file "
                  "has it, else the first FID column)");
  cmd->add_option("--csv", args->csv_path, "Also write the table as CSV (full precision) to this file");
  cmd->callback([args, &exit_code] { exit_code = run_leaderboard(*args); });
}

}  // namespace chexgen::cli
