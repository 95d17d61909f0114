#include "chexgen/fidelity/evaluate.h"

#include <algorithm>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/log.h"
#include "chexgen/core/progress.h"
#include "chexgen/core/version.h"
#include "chexgen/data/csv_table.h"
#include "chexgen/features/feature_store.h"
#include "chexgen/metrics/alignment.h"

namespace chexgen::fidelity {
namespace {

using json = nlohmann::ordered_json;
using features::FeatureRole;

Dataset only_samples(const Dataset& d, const std::vector<std::size_t>& keep) {
  Dataset out = d;
  out.samples.clear();
  for (std::size_t i : keep) out.samples.push_back(d.samples[i]);
  return out;
}

// One extractor's rows over both sets.
struct Measured {
  const features::Extractor* x = nullptr;
  features::DatasetFeatures real, synthetic;
};

// The samples every extractor measured (with skip_bad an image one extractor cannot read is left out of all).
std::vector<std::size_t> measured_by_all(std::size_t n, const std::vector<Measured>& all, bool synthetic) {
  std::vector<std::size_t> count(n, 0);
  for (const Measured& m : all)
    for (std::size_t s : (synthetic ? m.synthetic : m.real).samples) ++count[s];
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < n; ++i)
    if (count[i] == all.size()) out.push_back(i);
  return out;
}

const features::Extractor::Output& inception_score_output(const features::Extractor& x, InceptionScoreFrom from) {
  if (from == InceptionScoreFrom::pool) return x.outputs.front();
  for (const auto& o : x.outputs)
    if (o.name == "logits") return o;
  std::vector<std::string> names;
  for (const auto& o : x.outputs) names.push_back(o.name);
  throw UsageError(
      fmt::format("the Inception Score needs a 'logits' output, and {} has only '{}' (or compute it "
                  "from the pool features, as CheXGenBench does)",
                  x.name, fmt::join(names, "', '")));
}

json options_json(const FidelityOptions& o) {
  return {{"conditional", o.suite.conditional},
          {"bootstrap", o.suite.bootstrap},
          {"seed", o.suite.seed},
          {"kid_subsets", o.suite.kid_subsets},
          {"kid_subset_size", "min(n_real, n_synthetic)"},
          {"prdc_k", o.suite.prdc_k},
          {"inception_score_splits", o.suite.is_splits},
          {"inception_score_from", o.inception_score_from == InceptionScoreFrom::pool ? "pool" : "logits"},
          {"frd_match_sample_count", o.suite.frd_match_sample_count},
          {"deduplicate_real_prompts", o.deduplicate_real_prompts}};
}

}  // namespace

FidelityRun evaluate_fidelity(const Dataset& real_all, const Dataset& synthetic,
                              const std::vector<features::Extractor>& extractors,
                              const std::optional<features::TextFeatureExtractor>& text,
                              const std::filesystem::path& store, const FidelityOptions& o, const Log& log) {
  if (extractors.empty()) throw UsageError("no feature extractor: give a network model or radiomics");
  const auto role = [](const features::Extractor& x) { return features::preset_info(x.preset).role; };
  if (text && std::none_of(extractors.begin(), extractors.end(),
                           [&](const auto& x) { return role(x) == FeatureRole::alignment_image; }))
    throw UsageError("the alignment score needs the BioViL-T image encoder too: a model with the biovil-image preset");
  if (real_all.samples.empty()) throw InputError(Location{real_all.source.string()}, "the manifest lists no images");
  if (synthetic.samples.empty()) throw InputError(Location{synthetic.source.string()}, "the manifest lists no images");

  // ---- the real set, one row per prompt as CheXGenBench ----
  std::vector<std::size_t> all(real_all.samples.size());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  Deduplication dedup{all, 0, 0};
  if (o.deduplicate_real_prompts) dedup = deduplicate_by_prompt(real_all, all);
  const Dataset real = only_samples(real_all, dedup.kept);
  if (o.deduplicate_real_prompts)
    log.info("fidelity: real: {} images; {} with a prompt already seen left out, as CheXGenBench does{}",
             real.samples.size(), dedup.duplicates,
             dedup.without_prompt ? fmt::format("; {} have no prompt and are all kept", dedup.without_prompt) : "");
  else
    log.info("fidelity: real: {} images (duplicate prompts kept)", real.samples.size());

  // ---- features, through the store, in CheXGenBench's table order ----
  std::vector<const features::Extractor*> order;
  for (const auto& x : extractors) order.push_back(&x);
  std::stable_sort(order.begin(), order.end(), [](const features::Extractor* a, const features::Extractor* b) {
    return features::preset_info(a->preset).table_rank < features::preset_info(b->preset).table_rank;
  });
  const features::ExtractionOptions extraction{o.suite.threads, o.skip_bad};
  std::vector<Measured> measured;
  for (const features::Extractor* x : order) {
    features::FeatureStore fs(store, x->rows.id, x->rows.columns);
    Measured m{x, {}, {}};
    m.real = features::extract_dataset_features(real, x->rows, fs, extraction, log, x->space(), "real");
    m.synthetic = features::extract_dataset_features(synthetic, x->rows, fs, extraction, log, x->space(), "synthetic");
    measured.push_back(std::move(m));
  }

  // ---- the suite's inputs ----
  SuiteInputs in;
  in.real = &real;
  in.synthetic = &synthetic;
  in.real_samples = measured_by_all(real.samples.size(), measured, false);
  in.synthetic_samples = measured_by_all(synthetic.samples.size(), measured, true);
  const bool any_network = std::any_of(extractors.begin(), extractors.end(),
                                       [&](const auto& x) { return role(x) != FeatureRole::radiomic; });
  const Measured* alignment_images = nullptr;
  json described = json::array();
  for (const Measured& m : measured) {
    const features::Extractor& x = *m.x;
    const features::ExtractorPresetInfo& preset = features::preset_info(x.preset);
    json d = {{"name", x.space()}, {"preset", preset.name}, {"id", x.rows.id}};
    for (const auto& [k, v] : x.description.items()) d[k] = v;
    described.push_back(std::move(d));
    if (preset.role == FeatureRole::alignment_image) {
      alignment_images = &m;
      continue;
    }
    const features::Extractor::Output& features = x.outputs.front();
    FeatureBlock b;
    b.space = x.space();
    b.extractor_id = x.rows.id;
    b.radiomic = preset.role == FeatureRole::radiomic;
    b.real = features::select_rows(m.real, in.real_samples, features.offset, features.dim);
    b.synthetic = features::select_rows(m.synthetic, in.synthetic_samples, features.offset, features.dim);
    if (b.radiomic) {
      in.frd = b;
      in.frd_columns.assign(x.rows.columns.begin() + features.offset,
                            x.rows.columns.begin() + features.offset + features.dim);
      if (any_network && !o.radiomics_metrics) continue;  // radiomics gives FRD only, unless asked for more
    }
    in.blocks.push_back(std::move(b));
    if (preset.prdc || !in.prdc_block) in.prdc_block = in.blocks.size() - 1;
    if (preset.inception_score) {
      const features::Extractor::Output& logits = inception_score_output(x, o.inception_score_from);
      in.synthetic_logits = features::select_rows(m.synthetic, in.synthetic_samples, logits.offset, logits.dim);
      in.logits_space = x.space();
      in.logits_name = o.inception_score_from == InceptionScoreFrom::pool
                           ? "Inception pool features (as CheXGenBench: torchmetrics InceptionScore(feature=2048))"
                           : "Inception logits (logits_unbiased, 1008)";
    }
  }
  if (in.blocks.empty() && !in.frd) throw UsageError("no metric to compute");

  // ---- image-text alignment ----
  FidelityRun run;
  json text_described;
  if (text) {
    std::vector<std::string> prompts;
    std::vector<Location> where;
    for (std::size_t s : in.synthetic_samples) {
      const Sample& sample = synthetic.samples[s];
      if (!sample.prompt)
        throw InputError(sample_location(synthetic, sample),
                         "no prompt: the alignment score compares each image "
                         "with its prompt");
      prompts.push_back(*sample.prompt);
      where.push_back(sample_location(synthetic, sample));
    }
    const features::TextFeatures texts = features::embed_texts(*text, prompts, where, store, log, "fidelity: prompts");
    const features::Extractor::Output& embedding = alignment_images->x->outputs.front();
    const MatrixD images =
        features::select_rows(alignment_images->synthetic, in.synthetic_samples, embedding.offset, embedding.dim);
    in.alignment = metrics::image_text_alignment(images.view(), texts.values.view(),
                                                 "synthetic BioViL-T image embeddings", "prompt embeddings")
                       .per_sample;
    in.alignment_space = alignment_images->x->space();
    for (std::size_t r = 0; r < in.synthetic_samples.size(); ++r)
      run.alignment.push_back({in.synthetic_samples[r], (*in.alignment)[r]});
    text_described = {{"model", text->source}, {"id", text->id}};
  }

  // ---- the suite ----
  const std::size_t comparisons = 1 + (o.suite.conditional ? real.labels.size() : 0);
  Progress progress("fidelity: metrics", comparisons, log.progress());
  run.results = run_fidelity_suite(in, o.suite, &progress);
  progress.finish();

  results::Results& r = run.results;
  r.generator = o.generator.empty() ? synthetic.source.parent_path().filename().string() : o.generator;
  r.provenance["chexgen_version"] = version_string();
  r.provenance["options"] = options_json(o);
  r.provenance["real"] = {{"manifest", real_all.source.string()},
                          {"images", real_all.samples.size()},
                          {"duplicate_prompts_left_out", dedup.duplicates},
                          {"without_prompt", dedup.without_prompt},
                          {"used", in.real_samples.size()}};
  r.provenance["synthetic"] = {{"manifest", synthetic.source.string()},
                               {"images", synthetic.samples.size()},
                               {"used", in.synthetic_samples.size()}};
  r.provenance["extractors"] = std::move(described);
  if (text) r.provenance["text_model"] = std::move(text_described);
  r.provenance["store"] = store.string();
  return run;
}

std::vector<std::string> alignment_scores_csv(const FidelityRun& run, const Dataset& synthetic) {
  std::vector<std::string> lines = {"id,image,prompt,alignment_score"};
  for (const AlignmentScore& a : run.alignment) {
    const Sample& s = synthetic.samples[a.sample];
    lines.push_back(fmt::format("{},{},{},{}", csv_field(s.id), csv_field(s.image_ref), csv_field(*s.prompt), a.score));
  }
  return lines;
}

}  // namespace chexgen::fidelity
