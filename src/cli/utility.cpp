// chexgen utility: classifiers trained on a setting's images (synthetic, real, or both), tested on real ones
// (docs/utility.md). `utility probe` is the fast mode (per-label logistic regression on stored features),
// `utility train` trains a network on LibTorch. The evaluations are utility::evaluate_probe and
// utility::train_and_test; this file reads the options and the manifests and writes the outputs.
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
#include "chexgen/utility/train.h"
#endif
#include "chexgen/utility/probe.h"
#include "cli/commands.h"
#include "cli/extraction.h"
#include "cli/manifest_args.h"
#include "cli/neural_stage.h"

namespace chexgen::cli {
namespace {

// What both subcommands take: the three sets, the setting and protocol, the labels, the scoring.
struct CommonArgs {
  std::string train_real, train_synthetic, test;
  ManifestArgs real_args, synthetic_args, test_args;
  bool skip_bad = false;
  std::string setting = "all_synthetic", protocol = "fixed";
  std::string device = "auto";
  std::string out;
  utility::UtilityOptions options;
};

struct Inputs {
  std::optional<Dataset> real, synthetic, test;
  const Dataset* real_ptr() const { return real ? &*real : nullptr; }
  const Dataset* synthetic_ptr() const { return synthetic ? &*synthetic : nullptr; }
};

// Reads the manifests; completes a.options (setting, protocol, threads) from the arguments.
Inputs read_inputs(CommonArgs& a, const GlobalOptions& global) {
  a.options.training.setting = utility::parse_setting(a.setting);
  a.options.training.protocol = utility::parse_protocol(a.protocol);
  a.options.threads = global.threads;
  if (a.train_real.empty() && a.train_synthetic.empty())
    throw UsageError("give the training images: --train-real, --train-synthetic or both");
  claim_output_folder(a.out, "chexgen utility");
  ErrorReport errors;
  auto read = [&](const std::string& path, const ManifestArgs& args) -> std::optional<Dataset> {
    if (path.empty()) return std::nullopt;
    ManifestOptions options = args.options();
    options.skip_bad = a.skip_bad;
    return read_manifest_or_report(path, options, errors);
  };
  Inputs in;
  in.real = read(a.train_real, a.real_args);
  in.synthetic = read(a.train_synthetic, a.synthetic_args);
  in.test = read(a.test, a.test_args);
  print_errors(errors);
  return in;
}

void add_common_options(CLI::App* cmd, CommonArgs& a, const std::string& outputs) {
  cmd->add_option("--train-real", a.train_real,
                  "Real training images with labels (CheXGenBench's `path` column and its chexpert_labels)");
  cmd->add_option("--train-synthetic", a.train_synthetic,
                  "Synthetic training images, each naming its real row (sample_id or source_id column, or "
                  "--source-column) or carrying its prompt; alone (no --train-real), labelled by their own labels");
  cmd->add_option("--test", a.test, "Real test images with labels (all rows are tested)")->required();
  cmd->add_option("--setting", a.setting,
                  "all_synthetic (default) | all_original | mixed (half the pairs by their twin) | augmented (both)")
      ->default_val("all_synthetic");
  cmd->add_option("--protocol", a.protocol,
                  "fixed (default): validation split by patient and pair | chexgenbench: its draws exactly "
                  "(random.sample, train_test_split(0.05, random_state=42))")
      ->default_val("fixed");
  cmd->add_option("--out", a.out, "Results folder: " + outputs)->required();
  cmd->add_option("--labels", a.options.labels, "Classify these labels only (default: every label of the training set)")
      ->delimiter(',');
  cmd->add_option("--seed", a.options.training.seed, "Seed of the mixed subset, the validation split and the bootstrap")
      ->default_val(42);
  cmd->add_option("--validation-fraction", a.options.training.validation_fraction,
                  "Share of the training images held out for validation (CheXGenBench: 0.05)")
      ->default_val(0.05);
  cmd->add_option("--source-column", a.options.training.source_column,
                  "The synthetic images' column holding their real row's id (default: sample_id, else source_id, "
                  "else the prompt links them)");
  cmd->add_option("--bootstrap", a.options.scoring.bootstrap, "Test resamples by patient for the intervals (0: none)")
      ->default_val(1000);
  cmd->add_option("--confidence", a.options.scoring.confidence, "Of the bootstrap intervals")
      ->default_val(0.95)
      ->check(CLI::Range(0.5, 0.9999));
  cmd->add_option("--threshold", a.options.scoring.threshold, "Predicted positive at this probability or above")
      ->default_val(0.5)
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--agreement", a.options.agreement,
                "With --setting all_original: also score the --train-synthetic images against their prompts' labels "
                "(prompt-label agreement)");
  cmd->add_option("--extra-info", a.options.generator,
                  "The generator's name in the results (default: the synthetic manifest's folder name)");
  cmd->add_option("--device", a.device, "auto | cpu | cuda")->default_val("auto");
  add_manifest_options(cmd, a.real_args, "real");
  add_manifest_options(cmd, a.synthetic_args, "synthetic");
  add_manifest_options(cmd, a.test_args, "test");
  add_skip_bad_flag(cmd, a.skip_bad);
}

void write_outputs(const utility::UtilityRun& result, const Dataset& test, const std::filesystem::path& out) {
  results::write_results(out / "results.json", result.results);
  write_lines(out / "metrics.csv", utility::metrics_csv(result));
  write_lines(out / "per_class_metrics.csv", utility::per_class_csv(result));
  write_lines(out / "predictions.csv", utility::predictions_csv(result, test));
  write_lines(out / "roc.csv", utility::roc_csv(result));

  const results::Results& r = result.results;
  const utility::TrainingSet& t = result.training;
  fmt::print("{}: setting {} ({} protocol): {} training and {} validation images, {} real test images\n", r.generator,
             utility::setting_name(t.setting), utility::protocol_name(t.protocol), t.train.size(), t.validation.size(),
             r.overall.n_real);
  for (const auto& record : r.overall.records) {
    const std::string title = results::column_title(record.key);
    if (!record.value) {
      fmt::print("  {:<48} skipped: {}\n", title, record.skipped);
      continue;
    }
    std::string extra;
    if (record.interval)
      extra = fmt::format("  [{:.4f}, {:.4f}] by patient", record.interval->low, record.interval->high);
    if (record.details.contains("sd") && record.details["sd"].is_number())
      extra = fmt::format(" ± {:.4f} (sd over {} seeds)", record.details["sd"].get<double>(),
                          record.details["seeds"].size());
    fmt::print("  {:<48} {:.4f}{}\n", title, *record.value, extra);
    if (record.details.contains("labels_not_classified"))
      for (const auto& s : record.details["labels_not_classified"])
        fmt::print("    not classified: {}\n", s.get<std::string>());
  }
  fmt::print("  results: {}\n", (out / "results.json").string());
}

struct ProbeArgs {
  CommonArgs common;
  std::vector<std::string> models;
  bool radiomics = false;
  ExtractorArgs radiomics_args;
  bool no_optimize = false;
  utility::ProbeOptions options;
};

int run_probe(ProbeArgs& a, const GlobalOptions& global) {
#if !CHEXGEN_NEURAL
  if (!a.models.empty()) needs_neural_stage("utility probe --model");
#endif
  const Inputs in = read_inputs(a.common, global);
  utility::ProbeOptions& o = a.options;
  static_cast<utility::UtilityOptions&>(o) = a.common.options;
  o.skip_bad = a.common.skip_bad;
  std::vector<features::Extractor> extractors;
#if CHEXGEN_NEURAL
  const deep::RunOptions run{deep::parse_device(a.common.device), global.threads, !a.no_optimize};
  for (const std::string& path : a.models) extractors.push_back(deep::load_image_extractor(path, run));
#endif
  if (a.radiomics)
    extractors.push_back(radiomics::as_extractor(
        std::make_shared<const radiomics::RadiomicsExtractor>(radiomics_config(a.radiomics_args))));
  if (extractors.empty()) throw UsageError("give the features to probe: --model M.pt (repeatable) or --radiomics");
  const Log log(!global.quiet);
  const utility::UtilityRun result = utility::evaluate_probe(in.real_ptr(), in.synthetic_ptr(), *in.test, extractors,
                                                             store_root(a.radiomics_args.store), o, log);
  write_outputs(result, *in.test, a.common.out);
  return static_cast<int>(ExitCode::success);
}

void add_probe_command(CLI::App* utility, const GlobalOptions& global, int& exit_code) {
  auto args = std::make_shared<ProbeArgs>();
  CLI::App* cmd = utility->add_subcommand(
      "probe",
      "The fast mode: per-label L2 logistic regression on stored features (radiomics or a network's), trained on "
      "the setting's images and tested on real ones");
  add_common_options(cmd, args->common, "results.json, metrics.csv, per_class_metrics.csv, predictions.csv, roc.csv");
  cmd->add_option("--model", args->models, "TorchScript image model with its sidecar (repeatable): probe its features");
  cmd->add_flag("--radiomics", args->radiomics, "Probe the radiomic features (weight-free)");
  add_extractor_options(cmd, args->radiomics_args);
  cmd->add_option("--C", args->options.logistic.C, "Inverse L2 strength, as scikit-learn's LogisticRegression(C)")
      ->default_val(1.0)
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--no-optimize", args->no_optimize, "Run the models as loaded (bit-for-bit the plain modules)");
  cmd->callback([args, &global, &exit_code] { exit_code = run_probe(*args, global); });
}

constexpr const char* kTrainDescription =
    "Train a network (ResNet-18/50, DenseNet-121) on the setting's images as CheXGenBench does, test the best "
    "checkpoint on real images; resumable";
constexpr const char* kEvaluateDescription =
    "Test a network that `chexgen utility train` trained (its best.pt) on other real images";

#if CHEXGEN_NEURAL
struct TrainArgs {
  CommonArgs common;
  int seeds = 1;
  std::string architecture = "resnet50";
  std::string weights;
  utility::TrainOptions options;
};

int run_train(TrainArgs& a, const GlobalOptions& global) {
  const Inputs in = read_inputs(a.common, global);
  utility::TrainOptions& o = a.options;
  static_cast<utility::UtilityOptions&>(o) = a.common.options;
  o.device = deep::parse_device(a.common.device);
  o.architecture = deep::parse_architecture(a.architecture);
  o.weights = a.weights;
  if (a.common.skip_bad) throw UsageError("--skip-bad: training needs every image; fix or remove the bad rows");
  if (a.seeds > 1 && o.training.protocol == utility::Protocol::chexgenbench)
    throw UsageError("--seeds: CheXGenBench's protocol has one fixed seed (42); use --protocol fixed");
  const Log log(!global.quiet);
  const std::filesystem::path out(a.common.out);
  if (a.seeds <= 1) {
    write_outputs(utility::train_and_test(in.real_ptr(), in.synthetic_ptr(), *in.test, o, out, log), *in.test, out);
    return static_cast<int>(ExitCode::success);
  }
  // N runs, seeds --seed .. --seed + N - 1, each in its own folder (resumable on its own); reported as mean ± sd.
  std::vector<utility::UtilityRun> runs;
  std::vector<std::uint64_t> seeds;
  for (int k = 0; k < a.seeds; ++k) {
    utility::TrainOptions run_options = o;
    run_options.training.seed = o.training.seed + static_cast<std::uint64_t>(k);
    seeds.push_back(run_options.training.seed);
    log.info("seed {} ({} of {})", run_options.training.seed, k + 1, a.seeds);
    const std::filesystem::path work = out / fmt::format("seed-{}", run_options.training.seed);
    runs.push_back(utility::train_and_test(in.real_ptr(), in.synthetic_ptr(), *in.test, run_options, work, log));
    write_outputs(runs.back(), *in.test, work);
  }
  write_outputs(utility::combine_seeds(std::move(runs), seeds), *in.test, out);
  return static_cast<int>(ExitCode::success);
}

void add_train_command(CLI::App* utility, const GlobalOptions& global, int& exit_code) {
  auto args = std::make_shared<TrainArgs>();
  CLI::App* cmd = utility->add_subcommand(
      "train",
      kTrainDescription);
  add_common_options(cmd, args->common,
                     "results.json, metrics.csv, per_class_metrics.csv, predictions.csv, roc.csv, training_log.csv, "
                     "checkpoint.pt (every epoch: a rerun resumes), best.pt");
  utility::TrainOptions& o = args->options;
  cmd->add_option("--arch", args->architecture, "resnet50 (CheXGenBench's) | resnet18 | densenet121")
      ->default_val("resnet50");
  cmd->add_option("--weights", args->weights,
                  "Initial weights: a state dict from tools/export_models.py --models classifier (its head is "
                  "replaced); without it the network is trained from scratch, which the results say");
  cmd->add_option("--seeds", args->seeds,
                  "Train N times (seeds --seed .. --seed + N - 1, each in <out>/seed-<s>/) and report mean and sd")
      ->default_val(1)
      ->check(CLI::Range(1, 100));
  cmd->add_option("--epochs", o.epochs, "Epochs (CheXGenBench: 20)")->default_val(20)->check(CLI::Range(1, 100000));
  cmd->add_option("--batch-size", o.batch_size, "Images per step")->default_val(32)->check(CLI::Range(1, 4096));
  cmd->add_option("--image-size", o.image_size, "Network input side in pixels (CheXGenBench: 224)")
      ->default_val(224)
      ->check(CLI::Range(32, 2048));
  cmd->add_option("--lr", o.learning_rate, "Adam's learning rate (CheXGenBench: 1e-4)")
      ->default_val(1e-4)
      ->check(CLI::PositiveNumber);
  cmd->add_option("--weight-decay", o.weight_decay, "Adam's L2 term (CheXGenBench: 1e-5)")
      ->default_val(1e-5)
      ->check(CLI::NonNegativeNumber);
  cmd->callback([args, &global, &exit_code] { exit_code = run_train(*args, global); });
}

struct EvaluateArgs {
  std::string checkpoint, test, out, device = "auto";
  ManifestArgs test_args;
  utility::EvaluateOptions options;
};

int run_evaluate(EvaluateArgs& a, const GlobalOptions& global) {
  claim_output_folder(a.out, "chexgen utility evaluate");
  ErrorReport errors;
  ManifestOptions options = a.test_args.options();
  const Dataset test = read_manifest_or_report(a.test, options, errors);
  print_errors(errors);
  a.options.threads = global.threads;
  a.options.device = deep::parse_device(a.device);
  const Log log(!global.quiet);
  const utility::UtilityRun result = utility::evaluate_checkpoint(a.checkpoint, test, a.options, log);
  write_outputs(result, test, a.out);
  return static_cast<int>(ExitCode::success);
}

void add_evaluate_command(CLI::App* utility, const GlobalOptions& global, int& exit_code) {
  auto args = std::make_shared<EvaluateArgs>();
  CLI::App* cmd = utility->add_subcommand(
      "evaluate", kEvaluateDescription);
  cmd->add_option("--checkpoint", args->checkpoint, "best.pt of a utility train folder (model.json beside it)")
      ->required();
  cmd->add_option("--test", args->test, "Real test images with labels (all rows are tested)")->required();
  cmd->add_option("--out", args->out,
                  "Results folder: results.json, metrics.csv, per_class_metrics.csv, predictions.csv, roc.csv")
      ->required();
  utility::EvaluateOptions& o = args->options;
  cmd->add_option("--seed", o.seed, "Seed of the bootstrap")->default_val(42);
  cmd->add_option("--bootstrap", o.scoring.bootstrap, "Test resamples by patient for the intervals (0: none)")
      ->default_val(1000);
  cmd->add_option("--confidence", o.scoring.confidence, "Of the bootstrap intervals")
      ->default_val(0.95)
      ->check(CLI::Range(0.5, 0.9999));
  cmd->add_option("--threshold", o.scoring.threshold, "Predicted positive at this probability or above")
      ->default_val(0.5)
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--batch-size", o.batch_size, "Images per forward pass")->default_val(32)->check(CLI::Range(1, 4096));
  cmd->add_option("--extra-info", o.generator, "The generator's name in the results (default: the training run's)");
  cmd->add_option("--device", args->device, "auto | cpu | cuda")->default_val("auto");
  add_manifest_options(cmd, args->test_args, "test");
  cmd->callback([args, &global, &exit_code] { exit_code = run_evaluate(*args, global); });
}

#else
// Without the neural-network stage (cli/neural_stage.h): the same subcommands, which hand all their arguments,
// --help included, to chexgen-torch.
void add_neural_subcommand(CLI::App* utility, const std::string& name, const char* description) {
  CLI::App* cmd = utility->add_subcommand(name, description);
  cmd->set_help_flag();
  cmd->fallthrough(false);
  cmd->prefix_command();  // every argument is kept for chexgen-torch, none is parsed here
  cmd->callback([name] { needs_neural_stage("utility " + name); });
}

void add_train_command(CLI::App* utility, const GlobalOptions&, int&) {
  add_neural_subcommand(utility, "train", kTrainDescription);
}

void add_evaluate_command(CLI::App* utility, const GlobalOptions&, int&) {
  add_neural_subcommand(utility, "evaluate", kEvaluateDescription);
}
#endif

}  // namespace

void add_utility_command(CLI::App& app, const GlobalOptions& global, int& exit_code) {
  CLI::App* cmd = app.add_subcommand(
      "utility",
      "Utility of a generator: classifiers trained on its images (or beside real ones), tested on real ones");
  cmd->require_subcommand(1);
  add_probe_command(cmd, global, exit_code);
  add_train_command(cmd, global, exit_code);
  add_evaluate_command(cmd, global, exit_code);
}

}  // namespace chexgen::cli
