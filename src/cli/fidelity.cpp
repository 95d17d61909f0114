// chexgen fidelity: every fidelity metric of a synthetic set against a real set, overall and per label, in
// CheXGenBench's tables (docs/fidelity.md). Replaces CheXGenBench's fid.py, frd.py and img_text_alignment_scores.py.
#include <algorithm>
#include <cstdint>
#include <span>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"
#include "chexgen/core/files.h"
#include "chexgen/core/hash.h"
#include "chexgen/core/parallel.h"
#include "chexgen/core/progress.h"
#include "chexgen/core/version.h"
#include "chexgen/deep/text_model.h"
#include "chexgen/deep/torch_model.h"
#include "chexgen/fidelity/suite.h"
#include "chexgen/metrics/alignment.h"
#include "cli/commands.h"
#include "cli/extraction.h"
#include "cli/manifest_args.h"

namespace chexgen::cli {
namespace {

using ojson = nlohmann::ordered_json;

struct FidelityArgs {
  std::string real, synthetic;
  ManifestArgs real_args, synthetic_args;
  bool skip_bad = false;
  std::vector<std::string> models;
  std::string text_model;
  bool no_radiomics = false;
  bool radiomics_metrics = false;
  ExtractorArgs radiomics;
  bool conditional = false;
  std::size_t bootstrap = 0;
  std::uint64_t seed = 42;
  std::size_t kid_subsets = 100;
  bool keep_duplicate_prompts = false;
  bool frd_match_sample_count = false;
  std::string is_from = "logits";
  std::string extra_info;
  std::string device = "auto";
  bool no_optimize = false;
  std::string out;
};

// One image extractor's features over the real and the synthetic set.
struct Extracted {
  std::string name, id, preset;
  bool radiomic = false;
  std::vector<std::string> columns;
  features::DatasetFeatures real, synthetic;
  std::shared_ptr<deep::TorchModel> model;
};

Dataset only_samples(const Dataset& d, const std::vector<std::size_t>& keep) {
  Dataset out = d;
  out.samples.clear();
  for (std::size_t i : keep) out.samples.push_back(d.samples[i]);
  return out;
}

// Rows of `f` (whose samples index `dataset`) for the dataset samples `take`, in that order.
metrics::MatrixD rows_for(const features::DatasetFeatures& f, const std::vector<std::size_t>& take,
                          std::size_t first_col, std::size_t cols) {
  std::map<std::size_t, std::size_t> row_of;
  for (std::size_t r = 0; r < f.samples.size(); ++r) row_of[f.samples[r]] = r;
  metrics::MatrixD m(take.size(), cols);
  for (std::size_t i = 0; i < take.size(); ++i)
    std::copy_n(f.values.row(row_of.at(take[i])) + first_col, cols, m.row(i));
  return m;
}

// The samples every extractor measured (with --skip-bad an image one extractor cannot read is left out of all).
std::vector<std::size_t> measured_by_all(std::size_t n, const std::vector<const features::DatasetFeatures*>& sets) {
  std::vector<int> count(n, 0);
  for (const auto* f : sets)
    for (std::size_t s : f->samples) ++count[s];
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < n; ++i)
    if (count[i] == static_cast<int>(sets.size())) out.push_back(i);
  return out;
}

// Prompt embeddings through the feature store, keyed by the SHA-256 of the prompt's bytes under the text model's id:
// a second evaluation of the same prompts (another generator, another seed) embeds nothing again.
metrics::MatrixD embed_prompts(deep::TextModel& text, const std::vector<std::string>& prompts,
                               const std::vector<Location>& where, const std::filesystem::path& store_dir,
                               const GlobalOptions& global) {
  std::vector<std::string> columns;
  for (int i = 0; i < text.dim(); ++i) columns.push_back(fmt::format("text_{}", i));
  features::FeatureStore store(store_dir, text.extractor_id(), columns);
  const auto key_of = [](const std::string& prompt) {
    return sha256({reinterpret_cast<const std::uint8_t*>(prompt.data()), prompt.size()});
  };
  metrics::MatrixD out(prompts.size(), columns.size());
  std::vector<std::string> missing;
  std::vector<Location> missing_where;
  std::vector<std::size_t> missing_rows;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    if (auto row = store.find(key_of(prompts[i]))) {
      std::copy(row->begin(), row->end(), out.row(i));
    } else {
      missing.push_back(prompts[i]);
      missing_where.push_back(where[i]);
      missing_rows.push_back(i);
    }
  }
  if (!global.quiet)
    fmt::print(stderr, "fidelity: prompts: {} to embed with {}, {} from the store\n", missing.size(), text.name(),
               prompts.size() - missing.size());
  if (!missing.empty()) {
    const metrics::MatrixD fresh = text.embed(missing, missing_where);
    for (std::size_t k = 0; k < missing.size(); ++k) {
      std::copy_n(fresh.row(k), fresh.cols(), out.row(missing_rows[k]));
      store.put(key_of(missing[k]), std::span<const double>(fresh.row(k), fresh.cols()));
    }
    store.flush();
  }
  return out;
}

int run_fidelity(const FidelityArgs& a, const GlobalOptions& global) {
  (void)resolve_threads(global.threads);
  if (a.is_from != "logits" && a.is_from != "pool")
    throw UsageError(fmt::format("--inception-score-from must be logits or pool, not '{}'", a.is_from));
  if (a.no_radiomics && a.models.empty())
    throw UsageError("--no-radiomics leaves no feature extractor: give --model M.pt as well");

  // ---- the two sets ----
  ErrorReport errors;
  ManifestOptions real_options = a.real_args.options(), synthetic_options = a.synthetic_args.options();
  real_options.skip_bad = synthetic_options.skip_bad = a.skip_bad;
  Dataset real_all = read_manifest_or_report(a.real, real_options, errors);
  Dataset synthetic = read_manifest_or_report(a.synthetic, synthetic_options, errors);
  print_errors(errors);
  if (real_all.samples.empty()) throw InputError(Location{a.real}, "the manifest lists no images");
  if (synthetic.samples.empty()) throw InputError(Location{a.synthetic}, "the manifest lists no images");
  std::vector<std::size_t> all(real_all.samples.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  fidelity::Deduplication dedup{all, 0, 0};
  if (!a.keep_duplicate_prompts) dedup = fidelity::deduplicate_by_prompt(real_all, all);
  const Dataset real = only_samples(real_all, dedup.kept);
  if (!global.quiet) {
    if (a.keep_duplicate_prompts)
      fmt::print(stderr, "fidelity: real: {} images (duplicate prompts kept: --keep-duplicate-prompts)\n",
                 real.samples.size());
    else
      fmt::print(stderr,
                 "fidelity: real: {} images; {} with a prompt already seen left out, as CheXGenBench does "
                 "(--keep-duplicate-prompts keeps them){}\n",
                 real.samples.size(), dedup.duplicates,
                 dedup.without_prompt ? fmt::format("; {} have no prompt and are all kept", dedup.without_prompt) : "");
  }

  // ---- features, through the store ----
  const std::filesystem::path store_dir = store_root(a.radiomics.store);
  std::vector<Extracted> extracted;
  const auto run_extractor = [&](Extracted& e, const features::ImageFeatureExtractor& x) {
    features::FeatureStore store(store_dir, x.id, x.columns);
    e.id = x.id;
    e.columns = x.columns;
    e.real = extract_dataset(real, a.skip_bad, x, store, global, e.name, "real");
    e.synthetic = extract_dataset(synthetic, a.skip_bad, x, store, global, e.name, "synthetic");
  };
  for (const std::string& path : a.models) {
    Extracted e;
    deep::ModelSpec spec = deep::load_model_spec(path);
    e.model = std::make_shared<deep::TorchModel>(
        spec, deep::RunOptions{deep::parse_device(a.device), global.threads, !a.no_optimize});
    e.preset = spec.preprocessing.preset;
    e.name = e.preset == "inception-fid" ? "Inception" : e.preset == "raddino" ? "RadDino" : spec.name;
    run_extractor(e, deep::as_image_extractor(e.model));
    extracted.push_back(std::move(e));
  }
  if (!a.no_radiomics) {
    Extracted e;
    e.name = "Radiomics";
    e.radiomic = true;
    e.preset = "radiomics";
    run_extractor(e, as_image_extractor(std::make_shared<const radiomics::RadiomicsExtractor>(
                         radiomics_config(a.radiomics))));
    extracted.push_back(std::move(e));
  }
  // CheXGenBench's table order: Inception first, RadDino second, other models, radiomics last.
  const auto rank = [](const Extracted& e) {
    return e.preset == "inception-fid" ? 0 : e.preset == "raddino" ? 1 : e.radiomic ? 3 : 2;
  };
  std::stable_sort(extracted.begin(), extracted.end(),
                   [&](const Extracted& x, const Extracted& y) { return rank(x) < rank(y); });

  // ---- the suite's inputs ----
  std::vector<const features::DatasetFeatures*> real_sets, syn_sets;
  for (const auto& e : extracted) {
    real_sets.push_back(&e.real);
    syn_sets.push_back(&e.synthetic);
  }
  fidelity::SuiteInputs in;
  in.real = &real;
  in.synthetic = &synthetic;
  in.real_samples = measured_by_all(real.samples.size(), real_sets);
  in.synthetic_samples = measured_by_all(synthetic.samples.size(), syn_sets);
  const bool any_deep = !a.models.empty();
  const Extracted* alignment_images = nullptr;
  ojson extractors = ojson::array();
  for (const auto& e : extracted) {
    ojson info = {{"name", e.name}, {"preset", e.preset}, {"id", e.id}};
    if (e.model) {
      info["model"] = e.model->spec().model_path.string();
      info["device"] = e.model->device_name();
    }
    extractors.push_back(info);
    if (e.preset == "biovil-image") {  // the image side of the alignment score, not a FID/KID extractor
      alignment_images = &e;
      continue;
    }
    const std::size_t cols = e.model ? static_cast<std::size_t>(e.model->spec().outputs.front().dim) : e.columns.size();
    fidelity::FeatureBlock b;
    b.space = e.name;
    b.extractor_id = e.id;
    b.radiomic = e.radiomic;
    b.real = rows_for(e.real, in.real_samples, 0, cols);
    b.synthetic = rows_for(e.synthetic, in.synthetic_samples, 0, cols);
    if (e.radiomic) {
      in.frd = b;
      in.frd_columns = e.columns;
      if (any_deep && !a.radiomics_metrics) continue;  // radiomics gives FRD only, unless asked for more
    }
    in.blocks.push_back(std::move(b));
    // PRDC on RadDino as CheXGenBench; else on the first deep extractor; else on radiomic features.
    if (e.preset == "raddino" || !in.prdc_block) in.prdc_block = in.blocks.size() - 1;
    if (e.preset == "inception-fid") {
      const deep::ModelSpec& spec = e.model->spec();
      const bool pool = a.is_from == "pool";
      const std::string output = pool ? spec.outputs.front().name : "logits";
      const int offset = spec.column_offset(output);  // UsageError when the model has no logits output
      int dim = 0;
      for (const auto& o : spec.outputs)
        if (o.name == output) dim = o.dim;
      in.synthetic_logits = rows_for(e.synthetic, in.synthetic_samples, offset, dim);
      in.logits_name = pool ? "Inception pool features (as CheXGenBench: torchmetrics InceptionScore(feature=2048))"
                            : "Inception logits (logits_unbiased, 1008)";
    }
  }
  if (in.blocks.empty() && !in.frd) throw UsageError("no metric to compute");

  // ---- image-text alignment ----
  std::optional<std::string> text_model_id;
  if (!a.text_model.empty()) {
    if (!alignment_images)
      throw UsageError("--text-model needs the BioViL-T image encoder too: give --model with a biovil-image sidecar");
    deep::TextModel text(a.text_model, deep::RunOptions{deep::parse_device(a.device), global.threads, !a.no_optimize});
    text_model_id = text.extractor_id();
    std::vector<std::string> prompts;
    std::vector<Location> where;
    for (std::size_t s : in.synthetic_samples) {
      const Sample& sample = synthetic.samples[s];
      if (!sample.prompt)
        throw InputError(sample_location(synthetic, sample), "no prompt: the alignment score compares each image "
                                                              "with its prompt");
      prompts.push_back(*sample.prompt);
      where.push_back(sample_location(synthetic, sample));
    }
    const metrics::MatrixD texts = embed_prompts(text, prompts, where, store_dir, global);
    const metrics::MatrixD images = rows_for(alignment_images->synthetic, in.synthetic_samples, 0,
                                             static_cast<std::size_t>(alignment_images->model->spec().outputs[0].dim));
    in.alignment = metrics::image_text_alignment(images.view(), texts.view(), "synthetic BioViL-T image embeddings",
                                                 "prompt embeddings")
                       .per_sample;
  }

  // ---- the suite ----
  fidelity::SuiteOptions o;
  o.conditional = a.conditional;
  o.seed = a.seed;
  o.kid_subsets = a.kid_subsets;
  o.frd_match_sample_count = a.frd_match_sample_count;
  o.bootstrap = a.bootstrap;
  o.threads = global.threads;
  const std::size_t comparisons = 1 + (a.conditional ? real.labels.size() : 0);
  Progress progress("fidelity: metrics", comparisons, ProgressOptions{.enabled = !global.quiet});
  results::Results result = fidelity::run_fidelity_suite(in, o, &progress);
  progress.finish();

  // ---- outputs ----
  result.generator =
      a.extra_info.empty() ? std::filesystem::path(a.synthetic).parent_path().filename().string() : a.extra_info;
  const std::filesystem::path out(a.out);
  std::error_code ec;
  std::filesystem::create_directories(out, ec);
  if (ec) throw OutputError(fmt::format("cannot create {}: {}", out.string(), ec.message()));
  ojson& j = result.provenance;
  j["chexgen_version"] = version_string();
  j["options"] = {{"conditional", a.conditional},
                  {"bootstrap", a.bootstrap},
                  {"seed", a.seed},
                  {"kid_subsets", a.kid_subsets},
                  {"kid_subset_size", "min(n_real, n_synthetic)"},
                  {"prdc_k", o.prdc_k},
                  {"inception_score_splits", o.is_splits},
                  {"inception_score_from", a.is_from},
                  {"frd_match_sample_count", a.frd_match_sample_count},
                  {"deduplicate_real_prompts", !a.keep_duplicate_prompts},
                  {"radiomics", a.no_radiomics ? ojson(nullptr) : ojson(radiomics_config(a.radiomics).name)},
                  {"radiomics_size", a.radiomics.size}};
  j["real"] = {{"manifest", a.real},
               {"images", real_all.samples.size()},
               {"duplicate_prompts_left_out", dedup.duplicates},
               {"without_prompt", dedup.without_prompt},
               {"used", in.real_samples.size()}};
  j["synthetic"] = {{"manifest", a.synthetic}, {"images", synthetic.samples.size()},
                    {"used", in.synthetic_samples.size()}};
  j["extractors"] = extractors;
  if (text_model_id) j["text_model"] = {{"model", a.text_model}, {"id", *text_model_id}};
  j["store"] = store_dir.string();
  results::write_results(out / "results.json", result);
  write_file_atomically(out / "image_generation_metrics.csv", fidelity::overall_table_csv(result));
  if (a.conditional)
    write_file_atomically(out / "conditional_image_generation_metrics.csv", fidelity::conditional_table_csv(result));
  if (in.alignment) {  // per image, as CheXGenBench's loop computes them (unrounded)
    std::vector<std::string> lines = {"id,image,prompt,alignment_score"};
    for (std::size_t r = 0; r < in.synthetic_samples.size(); ++r) {
      const Sample& s = synthetic.samples[in.synthetic_samples[r]];
      lines.push_back(fmt::format("{},{},{},{}", csv_field(s.id), csv_field(s.image_ref), csv_field(*s.prompt),
                                  (*in.alignment)[r]));
    }
    write_lines(out / "alignment_scores.csv", lines);
  }

  fmt::print("{}: {} real and {} synthetic images\n", result.generator, in.real_samples.size(),
             in.synthetic_samples.size());
  for (const auto& r : result.overall.records)
    fmt::print("  {:<24} {:.6g}\n", results::column_title(r.key), *r.value);
  if (a.conditional) {
    std::size_t skipped = 0;
    for (const auto& c : result.per_label)
      skipped += std::any_of(c.records.begin(), c.records.end(), [](const auto& r) { return !r.value; }) ? 1 : 0;
    fmt::print("  conditional: {} labels, {} with a metric skipped for a small subset (see results.json)\n",
               result.per_label.size(), skipped);
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
  cmd->add_option("--out", args->out,
                  "Results folder: results.json, image_generation_metrics.csv, conditional_image_generation_metrics.csv")
      ->required();
  cmd->add_option("--model", args->models,
                  "TorchScript image model with its sidecar (repeatable): inception-fid gives FID, KID and the "
                  "Inception Score; raddino FID (RadDino), KID (RadDino) and PRDC; biovil-image the image side of "
                  "the alignment score");
  cmd->add_option("--text-model", args->text_model, "BioViL-T text encoder (sidecar kind text): the alignment score");
  cmd->add_flag("--conditional", args->conditional, "Also every metric per label of the real set's label set");
  cmd->add_option("--bootstrap", args->bootstrap, "Percentile intervals from this many resamples (0: none)")
      ->default_val(0);
  cmd->add_option("--seed", args->seed, "Seed of KID subsets, bootstrap resamples and FRD's subsample")->default_val(42);
  cmd->add_option("--kid-subsets", args->kid_subsets, "KID: number of subsets (each of min(n_real, n_synthetic))")
      ->default_val(100)
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--keep-duplicate-prompts", args->keep_duplicate_prompts,
                "Keep real rows whose prompt was already seen (CheXGenBench keeps the first one only)");
  cmd->add_flag("--no-radiomics", args->no_radiomics, "No radiomic features, so no FRD");
  cmd->add_flag("--radiomics-metrics", args->radiomics_metrics,
                "Also FID (Radiomics) and KID (Radiomics) when deep models are given (without any, they are always on)");
  cmd->add_flag("--frd-match-sample-count", args->frd_match_sample_count,
                "FRD: subsample the larger set to the smaller one's size");
  cmd->add_option("--inception-score-from", args->is_from,
                  "logits (the Inception Score) | pool (CheXGenBench's number: softmax over the 2048 pool features)")
      ->default_val("logits");
  cmd->add_option("--extra-info", args->extra_info,
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
