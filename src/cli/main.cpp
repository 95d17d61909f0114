#include <cstdio>
#include <exception>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "chexgen/core/allocator.h"
#include "chexgen/core/error.h"
#include "chexgen/core/files.h"
#include "chexgen/core/json.h"
#include "chexgen/core/version.h"
#include "chexgen/image/decode.h"
#include "chexgen/metrics/blas_info.h"
#include "cli/commands.h"
#include "cli/neural_stage.h"

int main(int argc, char** argv) {
  using chexgen::ExitCode;
  chexgen::keep_freed_memory_for_reuse();
  chexgen::metrics::park_blas_threads();
  CLI::App app{"chexgen: evaluate and curate synthetic chest X-rays (docs/ in the source tree)", "chexgen"};
  app.require_subcommand(1);
  app.fallthrough();  // --threads and --quiet may also follow the subcommand name
  app.set_version_flag("--version", chexgen::version_string() + "\n  " + chexgen::metrics::blas_description());

  chexgen::cli::GlobalOptions global;
  // Checked here once for every subcommand (before any work); the library checks its own argument too.
  app.add_option("--threads", global.threads, "Worker threads (0 = all cores)")
      ->default_val(0)
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            int n = 0;
            const bool whole = CLI::detail::lexical_cast(value, n);
            return whole && n >= 0 ? "" : "must be 0 (all cores) or a positive number of threads, got " + value;
          },
          "N>=0"));
  app.add_flag("-q,--quiet", global.quiet, "No progress output");
  app.add_option_function<std::int64_t>(
         "--max-image-pixels", [](std::int64_t n) { chexgen::set_default_max_image_pixels(n); },
         fmt::format("Refuse images whose header declares more than N pixels (width x height), before decoding "
                     "(default {})",
                     chexgen::default_max_image_pixels()))
      ->check(CLI::PositiveNumber)
      ->trigger_on_parse();

  int exit_code = 0;
  chexgen::cli::add_inspect_command(app, global, exit_code);
  chexgen::cli::add_resize_command(app, global, exit_code);
  chexgen::cli::add_metrics_command(app, global, exit_code);
  chexgen::cli::add_radiomics_command(app, global, exit_code);
  chexgen::cli::add_frd_command(app, global, exit_code);
  chexgen::cli::add_extract_command(app, global, exit_code);
  chexgen::cli::add_fidelity_command(app, global, exit_code);
  chexgen::cli::add_privacy_command(app, global, exit_code);
  chexgen::cli::add_utility_command(app, global, exit_code);
  chexgen::cli::add_reports_command(app, global, exit_code);
  chexgen::cli::add_leaderboard_command(app, global, exit_code);
  chexgen::cli::add_baselines_command(app, global, exit_code);
  chexgen::cli::add_generate_command(app, global, exit_code);
  chexgen::cli::add_filter_command(app, global, exit_code);
  chexgen::cli::add_export_command(app, global, exit_code);

  const chexgen::InputFiles inputs;  // no output of this command may replace one of its inputs
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? 0 : static_cast<int>(ExitCode::usage);
  } catch (const chexgen::UsageError& e) {
    fmt::print(stderr, "chexgen: usage error: {}\n", chexgen::printable_text(e.what(), std::size_t{1} << 16));
    return static_cast<int>(ExitCode::usage);
  } catch (const chexgen::InputError& e) {
    fmt::print(stderr, "chexgen: error: {}\n", chexgen::printable_text(e.what(), std::size_t{1} << 16));
    return static_cast<int>(ExitCode::bad_input);
  } catch (const chexgen::OutputError& e) {
    fmt::print(stderr, "chexgen: cannot write output: {}\n", chexgen::printable_text(e.what(), std::size_t{1} << 16));
    return static_cast<int>(ExitCode::output);
  } catch (const chexgen::ServiceError& e) {
    fmt::print(stderr, "chexgen: service error: {}\n", chexgen::printable_text(e.what(), std::size_t{1} << 16));
    return static_cast<int>(ExitCode::service);
  } catch (const std::exception& e) {
    fmt::print(stderr, "chexgen: internal error: {}\n", chexgen::printable_text(e.what(), std::size_t{1} << 16));
    return static_cast<int>(ExitCode::internal);
  } catch (const chexgen::cli::NeedsNeuralStage& e) {
    // chexgen without LibTorch reached a network: run chexgen-torch in its place (what this command did so far,
    // it will do again: the feature store keeps computed features).
    chexgen::cli::run_neural_program(argv, e.what);
    return static_cast<int>(ExitCode::internal);
  }
  return exit_code;
}
