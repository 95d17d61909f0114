// chexgen fidelity: every fidelity metric of a synthetic set against a real set, overall and per label, in
// CheXGenBench's tables (docs/fidelity.md). Replaces CheXGenBench's fid.py, frd.py and img_text_alignment_scores.py.
// The evaluation is fidelity::evaluate_fidelity; this file reads the options and the manifests and writes the outputs.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/files.h"
#include "chexgen/core/log.h"
#if CHEXGEN_NEURAL
#include "chexgen/deep/text_model.h"
#include "chexgen/deep/torch_model.h"
#endif
#include "chexgen/fidelity/evaluate.h"
#include "cli/commands.h"
#include "cli/extraction.h"
#include "cli/manifest_args.h"
#include "cli/neural_stage.h"

namespace chexgen::cli {
namespace {

struct FidelityArgs {
  std::string real, synthetic;
  ManifestArgs real_args, synthetic_args;
  bool skip_bad = false;
  std::vector<std::string> models;
  std::string text_model;
  bool no_radiomics = false;
  ExtractorArgs radiomics;
  bool keep_duplicate_prompts = false;
  std::string is_from = "logits";
  std::string device = "auto";
  bool no_optimize = false;
  std::string out;
  fidelity::FidelityOptions options;
};

int run_fidelity(FidelityArgs& a, const GlobalOptions& global) {
#if !CHEXGEN_NEURAL
  if (!a.models.empty() || !a.text_model.empty()) needs_neural_stage("fidelity --model / --text-model");
#endif
  fidelity::FidelityOptions& o = a.options;
  o.suite.threads = global.threads;
  if (a.is_from != "logits" && a.is_from != "pool")
    throw UsageError(fmt::format("--inception-score-from must be logits or pool, not '{}'", a.is_from));
  o.inception_score_from =
      a.is_from == "pool" ? fidelity::InceptionScoreFrom::pool : fidelity::InceptionScoreFrom::logits;
  o.deduplicate_real_prompts = !a.keep_duplicate_prompts;
  o.skip_bad = a.skip_bad;
  if (a.no_radiomics && a.models.empty())
    throw UsageError("--no-radiomics leaves no feature extractor: give --model M.pt as well");
  const std::filesystem::path out(a.out);
  claim_output_folder(out, "chexgen fidelity");  // before the work: a folder we may not write is refused at once

  ErrorReport errors;
  ManifestOptions real_options = a.real_args.options(), synthetic_options = a.synthetic_args.options();
  real_options.skip_bad = synthetic_options.skip_bad = a.skip_bad;
  const Dataset real = read_manifest_or_report(a.real, real_options, errors);
  const Dataset synthetic = read_manifest_or_report(a.synthetic, synthetic_options, errors);
  print_errors(errors);

  std::vector<features::Extractor> extractors;
  std::optional<features::TextFeatureExtractor> text;
  if (!a.models.empty() || !a.text_model.empty()) {
#if CHEXGEN_NEURAL
    const deep::RunOptions run{deep::parse_device(a.device), global.threads, !a.no_optimize};
    for (const std::string& path : a.models) extractors.push_back(deep::load_image_extractor(path, run));
    if (!a.text_model.empty()) text = deep::as_text_extractor(std::make_shared<deep::TextModel>(a.text_model, run));
#endif
  }
  if (!a.no_radiomics)
    extractors.push_back(
        radiomics::as_extractor(std::make_shared<const radiomics::RadiomicsExtractor>(radiomics_config(a.radiomics))));

  const fidelity::FidelityRun result = fidelity::evaluate_fidelity(
      real, synthetic, extractors, text, store_root(a.radiomics.store), o, Log(!global.quiet));
  const results::Results& r = result.results;
  results::write_results(out / "results.json", r);
  write_file_atomically(out / "image_generation_metrics.csv", fidelity::overall_table_csv(r));
  if (o.suite.conditional)
    write_file_atomically(out / "conditional_image_generation_metrics.csv", fidelity::conditional_table_csv(r));
  if (text) write_lines(out / "alignment_scores.csv", fidelity::alignment_scores_csv(result, synthetic));

  fmt::print("{}: {} real and {} synthetic images\n", r.generator, r.overall.n_real, r.overall.n_synthetic);
  for (const auto& record : r.overall.records)
    fmt::print("  {:<24} {:.6g}\n", results::column_title(record.key), *record.value);
  if (o.suite.conditional) {
    std::size_t skipped = 0;
    for (const auto& c : r.per_label)
      skipped += std::any_of(c.records.begin(), c.records.end(), [](const auto& x) { return !x.value; }) ? 1 : 0;
    fmt::print("  conditional: {} labels, {} with a metric skipped for a small subset (see results.json)\n",
               r.per_label.size(), skipped);
  }
  fmt::print("  results: {}\n", (out / "results.json").string());
  return static_cast<int>(ExitCode::success);
}

}  // namespace

void add_fidelity_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto args = std::make_shared<FidelityArgs>();
  CLI::App* cmd = app.add_subcommand(
      "fidelity", "Every fidelity metric of a synthetic set against a real set, overall and per label (CheXGenBench)");
  cmd->add_option("--real", args->real, "Real images: a manifest (CSV, metadata.jsonl or folder)")->required();
  cmd->add_option("--synthetic", args->synthetic, "Synthetic images: a manifest")->required();
  cmd->add_option(
         "--out", args->out,
         "Results folder: results.json, image_generation_metrics.csv, conditional_image_generation_metrics.csv")
      ->required();
  cmd->add_option("--model", args->models,
                  "TorchScript image model with its sidecar (repeatable): inception-fid gives FID, KID and the "
                  "Inception Score; raddino FID (RadDino), KID (RadDino) and PRDC; biovil-image the image side of "
                  "the alignment score");
  cmd->add_option("--text-model", args->text_model, "BioViL-T text encoder (sidecar kind text): the alignment score");
  fidelity::FidelityOptions& o = args->options;
  cmd->add_flag("--conditional", o.suite.conditional, "Also every metric per label of the real set's label set");
  cmd->add_option("--bootstrap", o.suite.bootstrap, "Percentile intervals from this many resamples (0: none)")
      ->default_val(0)
      ->check(CLI::Range(0, 1000000));
  cmd->add_option("--seed", o.suite.seed, "Seed of KID subsets, bootstrap resamples and FRD's subsample")
      ->default_val(42);
  cmd->add_option("--kid-subsets", o.suite.kid_subsets, "KID: number of subsets (each of min(n_real, n_synthetic))")
      ->default_val(100)
      ->check(CLI::Range(1, 1000000));
  cmd->add_flag("--keep-duplicate-prompts", args->keep_duplicate_prompts,
                "Keep real rows whose prompt was already seen (CheXGenBench keeps the first one only)");
  cmd->add_flag("--no-radiomics", args->no_radiomics, "No radiomic features, so no FRD");
  cmd->add_flag(
      "--radiomics-metrics", o.radiomics_metrics,
      "Also FID (Radiomics) and KID (Radiomics) when deep models are given (without any, they are always on)");
  cmd->add_flag("--frd-match-sample-count", o.suite.frd_match_sample_count,
                "FRD: subsample the larger set to the smaller one's size");
  cmd->add_option("--inception-score-from", args->is_from,
                  "logits (the Inception Score) | pool (CheXGenBench's number: softmax over the 2048 pool features)")
      ->default_val("logits");
  cmd->add_option("--extra-info", o.generator,
                  "The 'Extra Info' cell: which generator this is (default: the synthetic manifest's folder name)");
  cmd->add_option("--device", args->device, "auto | cpu | cuda")->default_val("auto");
  cmd->add_flag("--no-optimize", args->no_optimize, "Run the models as loaded (bit-for-bit the plain modules)");
  add_store_option(cmd, args->radiomics.store);
  add_radiomics_options(cmd->add_option_group("Radiomics"), args->radiomics);
  add_manifest_options(cmd, args->real_args, "real");
  add_manifest_options(cmd, args->synthetic_args, "synthetic");
  add_skip_bad_flag(cmd, args->skip_bad);
  cmd->callback([args, &global, &exit_code] { exit_code = run_fidelity(*args, global); });
}

}  // namespace chexgen::cli
