// chexgen privacy: CheXGenBench's privacy table (corrected, or exactly as it computes it with --compat
// chexgenbench) and the held-out-calibrated search of the whole training set for copies (docs/privacy.md). Replaces
// CheXGenBench's privacy_metrics.py. The evaluation is privacy::evaluate_privacy; this file reads the options and the
// manifests and writes the outputs.
#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "chexgen/core/files.h"
#include "chexgen/core/error.h"
#include "chexgen/core/log.h"
#if CHEXGEN_NEURAL
#include "chexgen/deep/torch_model.h"
#endif
#include "chexgen/image/decode.h"
#include "chexgen/privacy/evaluate.h"
#include "cli/commands.h"
#include "cli/extraction.h"
#include "cli/manifest_args.h"
#include "cli/neural_stage.h"

namespace chexgen::cli {
namespace {

struct PrivacyArgs {
  std::string train, generations, holdout;
  ManifestArgs train_args, generations_args, holdout_args;
  bool skip_bad = false;
  std::vector<std::string> models;
  bool radiomics = false;
  ExtractorArgs radiomics_args;
  std::string reid_model, reid_head;
  std::string compat = "corrected";
  std::string device = "auto";
  bool no_optimize = false;
  bool no_link = false;
  std::string store;
  std::string out;
  privacy::PrivacyOptions options;
  privacy::ContactSheetLayout sheet;
};

int run_privacy(PrivacyArgs& a, const GlobalOptions& global) {
#if !CHEXGEN_NEURAL
  if (!a.models.empty() || !a.reid_model.empty()) needs_neural_stage("privacy --model / --reid-model");
#endif
  privacy::PrivacyOptions& o = a.options;
  o.threads = global.threads;
  o.skip_bad = a.skip_bad;
  o.link = !a.no_link;
  if (!o.link && !o.source_column.empty()) throw UsageError("--no-link and --source-column contradict each other");
  if (a.compat == "chexgenbench")
    o.compat = privacy::Compat::chexgenbench;
  else if (a.compat != "corrected")
    throw UsageError(fmt::format("--compat must be corrected or chexgenbench, not '{}'", a.compat));
  const std::filesystem::path out(a.out);
  claim_output_folder(out, "chexgen privacy");

  ErrorReport errors;
  ManifestOptions train_options = a.train_args.options(), generation_options = a.generations_args.options(),
                  holdout_options = a.holdout_args.options();
  train_options.skip_bad = generation_options.skip_bad = holdout_options.skip_bad = a.skip_bad;
  const Dataset train = read_manifest_or_report(a.train, train_options, errors);
  const Dataset generations = read_manifest_or_report(a.generations, generation_options, errors);
  std::optional<Dataset> holdout;
  if (!a.holdout.empty()) holdout = read_manifest_or_report(a.holdout, holdout_options, errors);
  print_errors(errors);

  std::vector<features::Extractor> extractors;
  std::optional<privacy::ReidModel> reid;
  if (!a.models.empty() || !a.reid_model.empty()) {
#if CHEXGEN_NEURAL
    const deep::RunOptions run{deep::parse_device(a.device), global.threads, !a.no_optimize};
    for (const std::string& path : a.models) extractors.push_back(deep::load_image_extractor(path, run));
    if (!a.reid_model.empty()) {
      const std::filesystem::path head =
          a.reid_head.empty() ? privacy::reid_head_path(a.reid_model) : std::filesystem::path(a.reid_head);
      reid = privacy::ReidModel{deep::load_image_extractor(a.reid_model, run), privacy::read_reid_head(head)};
    }
#endif
  }
  if (a.reid_model.empty() && !a.reid_head.empty()) throw UsageError("--reid-head needs --reid-model");
  if (a.radiomics)
    extractors.push_back(radiomics::as_extractor(
        std::make_shared<const radiomics::RadiomicsExtractor>(radiomics_config(a.radiomics_args))));


  const Log log(!global.quiet);
  const privacy::PrivacyRun result = privacy::evaluate_privacy(train, generations, holdout ? &*holdout : nullptr,
                                                               extractors, reid, store_root(a.store), o, log);
  results::write_results(out / "results.json", result.results);
  if (!result.prompts.empty())
    write_lines(out / "privacy_per_prompt.csv", privacy::per_prompt_csv(result, train, generations));
  std::size_t sheet_pairs = 0;
  if (holdout) {
    a.sheet.threads = global.threads;
    const Image8 sheet = privacy::contact_sheet(result, train, generations, a.sheet, log);
    if (!sheet.empty()) {
      write_png(out / "contact_sheet.png", sheet);
      sheet_pairs = std::min(a.sheet.pairs, result.flagged.size());
    }
    write_lines(out / "flagged_pairs.csv", privacy::flagged_pairs_csv(result, train, generations, sheet_pairs));
  }

  const results::Results& r = result.results;
  fmt::print("{}: {} generations against {} training images{}{}\n", r.generator, r.overall.n_synthetic,
             r.overall.n_real, holdout ? fmt::format(", {} held-out", holdout->samples.size()) : "",
             o.compat == privacy::Compat::chexgenbench ? " (CheXGenBench's computation: --compat chexgenbench)" : "");
  for (const auto& record : r.overall.records) {
    if (!record.value) {
      fmt::print("  {:<28} skipped: {}\n", results::column_title(record.key), record.skipped);
      continue;
    }
    std::string extra;
    if (record.interval) extra = fmt::format("  [{:.4g}, {:.4g}]", record.interval->low, record.interval->high);
    const auto& d = record.details;
    if (d.contains("null") && d["null"].contains("rate"))
      extra += fmt::format("  held-out images {:.4g}", d["null"]["rate"].get<double>());
    if (d.contains("null") && d["null"].contains("c_t") && d["null"]["c_t"].is_number())
      extra += fmt::format("  held-out images {:.4g}", d["null"]["c_t"].get<double>());
    if (d.contains("exchangeable"))
      extra += fmt::format("; an unseen image {:.4g} to {:.4g}", d["exchangeable"]["low"].get<double>(),
                           d["exchangeable"]["high"].get<double>());
    fmt::print("  {:<28} {:.6g}{}\n", results::column_title(record.key), *record.value, extra);
    if (d.contains("warning")) fmt::print("    warning: {}\n", d["warning"].get<std::string>());
  }
  if (holdout)
    fmt::print("  flagged pairs: {}{}\n", result.flagged.size(),
               sheet_pairs ? fmt::format(" (the first {} on {})", sheet_pairs, (out / "contact_sheet.png").string())
                           : "");
  fmt::print("  results: {}\n", (out / "results.json").string());
  return static_cast<int>(ExitCode::success);
}

}  // namespace

void add_privacy_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  auto args = std::make_shared<PrivacyArgs>();
  CLI::App* cmd = app.add_subcommand(
      "privacy",
      "Privacy of a generator: CheXGenBench's distances to each prompt's training image, and the share of "
      "generations nearer a training image than real held-out images are");
  cmd->add_option("--train", args->train, "The generator's training images: a manifest")->required();
  cmd->add_option("--generations", args->generations,
                  "The generated images: a manifest whose rows name their training row (column sample_id or "
                  "source_id, or --source-column), else carry its prompt")
      ->required();
  cmd->add_option("--holdout", args->holdout,
                  "Real images of patients not in the training set, from the same source: the calibration of the "
                  "copy rate (without it the rate is skipped)");
  cmd->add_option("--out", args->out,
                  "Results folder: results.json, privacy_per_prompt.csv, flagged_pairs.csv, contact_sheet.png")
      ->required();
  cmd->add_option("--model", args->models,
                  "TorchScript image model with its sidecar (repeatable): its first output gives the latent "
                  "distance (CheXGenBench: raddino) and a copy search of its own");
  cmd->add_flag("--radiomics", args->radiomics,
                "Search the radiomic features too (weight-free; z-scored with the training images' statistics)");
  add_radiomics_options(cmd, args->radiomics_args);
  cmd->add_option("--reid-model", args->reid_model,
                  "The re-identification branch (tools/export_models.py --models reid): CheXGenBench's re-id scores, "
                  "and the re-identification rate over the whole training set");
  cmd->add_option("--reid-head", args->reid_head, "Its pair head (default: <model>.head.json beside the model)");
  privacy::PrivacyOptions& o = args->options;
  cmd->add_option("--reid-threshold", o.reid_threshold, "δ of 'Count Re-ID > δ' (Packhäuser et al.'s 0.5)")
      ->default_val(privacy::kDefaultReidThreshold)
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--compat", args->compat,
                  "corrected (default): pixel RMS in floating point, each generation against its own image | "
                  "chexgenbench: its numbers exactly (uint8 wrap-around, the prompt's last generation every time)")
      ->default_val("corrected");
  cmd->add_option("--source-column", o.source_column,
                  "The generations' column holding their training row's id (default: sample_id, else source_id, "
                  "else the prompt links them)");
  cmd->add_flag("--no-link", args->no_link,
                "The generations were not made from the training rows' prompts: no per-prompt table");
  cmd->add_option("--quantile", o.quantile, "τ is this quantile of the held-out images' nearest-training similarity")
      ->default_val(0.99);
  cmd->add_option("--confidence", o.confidence, "Of the Clopper-Pearson intervals")->default_val(0.95);
  cmd->add_option("--seed", o.seed,
                  "Seed of the held-out images' split into calibration and null halves, and of --subset's draw")
      ->default_val(42);
  cmd->add_option("--subset", o.subset,
                  "Keep CheXGenBench's N prompts in the per-prompt table: the first row of each prompt, then N drawn "
                  "as pandas' sample(n=N, random_state=--seed) (CheXGenBench: 2000, 42)");
  cmd->add_option("--pixel-size", o.pixel_side, "Common side of the pixel distances (CheXGenBench: 512)")
      ->default_val(512)
      ->check(CLI::Range(8, 4096));
  cmd->add_option("--sheet-pairs", args->sheet.pairs,
                  "Flagged pairs on contact_sheet.png, in flagged_pairs.csv's order (0: no sheet)")
      ->default_val(24);
  cmd->add_option("--extra-info", o.generator,
                  "The generator's name in the results (default: the generations manifest's folder name)");
  cmd->add_option("--device", args->device, "auto | cpu | cuda")->default_val("auto");
  cmd->add_flag("--no-optimize", args->no_optimize, "Run the models as loaded (bit-for-bit the plain modules)");
  add_store_option(cmd, args->store);
  add_manifest_options(cmd, args->train_args, "train");
  add_manifest_options(cmd, args->generations_args, "generations");
  add_manifest_options(cmd, args->holdout_args, "holdout");
  add_skip_bad_flag(cmd, args->skip_bad);
  cmd->callback([args, &global, &exit_code] { exit_code = run_privacy(*args, global); });
}

}  // namespace chexgen::cli
