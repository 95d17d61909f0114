// chexgen baselines: splits a real dataset by patient into a reference half and a held-out half and writes
// baseline "generators" made from them (held-out, copies, blur, noise, down-up), each with a metadata.jsonl
// manifest, for checking what the fidelity suite ranks (docs/baselines.md).
#include <memory>
#include <string>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/progress.h"
#include "chexgen/fidelity/baselines.h"
#include "cli/commands.h"
#include "cli/manifest_args.h"

namespace chexgen::cli {
namespace {

struct BaselinesArgs {
  std::string manifest;
  std::string out;
  std::uint64_t seed = 42;
  ManifestArgs manifest_args;
};

int run_baselines(const BaselinesArgs& a, const GlobalOptions& global) {
  const ManifestOptions options = a.manifest_args.options();
  ErrorReport errors;
  const Dataset dataset = read_manifest_or_report(a.manifest, options, errors);
  if (dataset.n_skipped > 0) {
    print_errors(errors);
    fmt::print(stderr, "chexgen: {}: {} bad row(s) left out (--skip-bad)\n", a.manifest, dataset.n_skipped);
  }
  const std::size_t n_row_errors = errors.size();

  fidelity::BaselineRun run;
  try {
    Progress progress("baselines: " + a.manifest, dataset.samples.size(), ProgressOptions{.enabled = !global.quiet});
    run =
        fidelity::write_baselines(dataset, a.out, fidelity::BaselineOptions{a.seed, global.threads}, errors, &progress);
  } catch (const InputError&) {
    for (std::size_t i = n_row_errors; i < errors.size(); ++i) {
      print_error(errors.errors()[i].what());
    }
    if (errors.size() > n_row_errors) {
      fmt::print(stderr, "chexgen: {}: {} image(s) could not be read; nothing was written to {}\n", a.manifest,
                 errors.size() - n_row_errors, a.out);
      return static_cast<int>(ExitCode::bad_input);
    }
    throw;  // the split itself failed
  }

  const auto& sp = run.split;
  if (!sp.by_patient) {
    fmt::print(stderr,
               "chexgen: {}: no sample has a patient id; the halves are split by sample, so images of one "
               "patient may be on both sides\n",
               a.manifest);
  } else if (sp.n_without_patient > 0) {
    fmt::print(stderr, "chexgen: {}: {} sample(s) have no patient id; each of them was placed on its own\n", a.manifest,
               sp.n_without_patient);
  }
  const char* unit = sp.by_patient ? "patients" : "samples";
  fmt::print("split of {} images by {} (seed {}): reference {} images ({} {}), held-out {} images ({} {})\n",
             dataset.samples.size(), sp.by_patient ? "patient" : "sample", a.seed, sp.reference.size(),
             sp.n_reference_patients, unit, sp.held_out.size(), sp.n_held_out_patients, unit);
  const auto generators = fidelity::standard_baselines();
  fmt::print("{:<10} {:>7}  {}\n", "set", "images", "what");
  fmt::print("{:<10} {:>7}  {}\n", "reference", run.sets[0].samples.size(), "the real reference half");
  for (std::size_t g = 0; g < generators.size(); ++g) {
    fmt::print("{:<10} {:>7}  {}\n", generators[g].name, run.sets[g + 1].samples.size(), generators[g].description);
  }
  fmt::print("wrote {}/<set>/metadata.jsonl and {}/baselines.json\n", a.out, a.out);
  return 0;
}

}  // namespace

void add_baselines_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto args = std::make_shared<BaselinesArgs>();
  CLI::App* cmd = app.add_subcommand(
      "baselines",
      "Split a real dataset by patient and write baseline generators (held-out, copies, blur, noise, "
      "down-up) with metadata.jsonl manifests");
  cmd->add_option("manifest", args->manifest, "Real dataset manifest (or folder of images)")->required();
  cmd->add_option("--out", args->out, "Output folder: reference/, one folder per generator, baselines.json")
      ->required();
  cmd->add_option("--seed", args->seed, "Seed of the split and of the noise")->default_val(42);
  add_manifest_options(cmd, args->manifest_args);
  add_skip_bad_flag(cmd, args->manifest_args.skip_bad);
  cmd->callback([args, &global, &exit_code] { exit_code = run_baselines(*args, global); });
}

}  // namespace chexgen::cli
