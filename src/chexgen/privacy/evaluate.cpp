#include "chexgen/privacy/evaluate.h"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/log.h"
#include "chexgen/core/parallel.h"
#include "chexgen/core/version.h"
#include "chexgen/features/extract.h"
#include "chexgen/features/feature_store.h"
#include "chexgen/features/pixel_thumbnail.h"
#include "chexgen/fidelity/baselines.h"
#include "chexgen/privacy/privacy_pvt.h"

namespace chexgen::privacy {
namespace {

using results::Metric;
using results::MetricKey;
using results::MetricRecord;

// A feature matrix's rows by Dataset::samples index.
struct Rows {
  const features::DatasetFeatures* features = nullptr;
  std::map<std::size_t, std::size_t> row_of;  // sample -> row
  explicit Rows(const features::DatasetFeatures& f) : features(&f) {
    for (std::size_t r = 0; r < f.samples.size(); ++r) row_of[f.samples[r]] = r;
  }
  std::span<const double> row(std::size_t sample, std::size_t first, std::size_t cols) const {
    return {&features->values(row_of.at(sample), first), cols};
  }
  MatrixD matrix(const std::vector<std::size_t>& samples, std::size_t first, std::size_t cols) const {
    return features::select_rows(*features, samples, first, cols);
  }
};

// Holdout patients that are also training patients: an error naming them.
void check_disjoint_patients(const Dataset& train, const Dataset& holdout) {
  std::set<std::string> train_patients;
  for (const auto& s : train.samples)
    if (s.patient_id) train_patients.insert(*s.patient_id);
  std::set<std::string> shared;
  for (const auto& s : holdout.samples)
    if (s.patient_id && train_patients.count(*s.patient_id)) shared.insert(*s.patient_id);
  if (shared.empty()) return;
  std::string names;
  std::size_t listed = 0;
  for (const auto& p : shared) {
    if (listed++ == 10) {
      names += ", ...";
      break;
    }
    names += (names.empty() ? "" : ", ") + p;
  }
  throw InputError(Location{holdout.source.string()},
                   fmt::format("{} patient(s) of the held-out images are also in the training set ({}): held-out "
                               "images must come from patients the model never saw",
                               shared.size(), names));
}

// A calibrated rate that cannot be computed: no held-out images.
MetricRecord no_holdout(const MetricKey& key) {
  return {key, std::nullopt, "no held-out images (--holdout): nothing to calibrate the threshold on", std::nullopt,
          {}};
}

}  // namespace

PrivacyRun evaluate_privacy(const Dataset& train, const Dataset& generations, const Dataset* holdout,
                            const std::vector<features::Extractor>& extractors, const std::optional<ReidModel>& reid,
                            const std::filesystem::path& store, const PrivacyOptions& o, const Log& log) {
  if (train.samples.empty()) throw InputError(Location{train.source.string()}, "the manifest lists no images");
  if (generations.samples.empty())
    throw InputError(Location{generations.source.string()}, "the manifest lists no images");
  if (holdout && holdout->samples.empty())
    throw InputError(Location{holdout->source.string()}, "the manifest lists no images");
  if (!(o.quantile > 0 && o.quantile < 1)) throw UsageError(fmt::format("--quantile {} is not in (0, 1)", o.quantile));
  if (holdout) check_disjoint_patients(train, *holdout);
  if (reid && reid->head.weight.size() != reid->branch.outputs.front().dim)
    throw UsageError(fmt::format("the re-identification head has {} weights but the model's embedding has {} values",
                                 reid->head.weight.size(), reid->branch.outputs.front().dim));

  PrivacyRun run;
  results::Results& r = run.results;
  r.evaluation = "privacy";
  r.generator = o.generator.empty() ? generations.source.parent_path().filename().string() : o.generator;
  r.overall.n_real = train.samples.size();
  r.overall.n_synthetic = generations.samples.size();

  // Linked before anything is measured: a generation that names no training row stops the run at once.
  const auto links = o.link ? link_generations(train, generations, o.source_column)
                            : std::vector<std::optional<std::size_t>>(generations.samples.size());

  // ---- features, through the store: the pixel thumbnails, then each network, then the re-id branch ----
  std::vector<features::Extractor> spaces;
  spaces.push_back(features::pixel_thumbnail_extractor());
  for (const auto& x : extractors) spaces.push_back(x);
  const features::ExtractionOptions extraction{o.threads, o.skip_bad};
  struct Measured {
    features::DatasetFeatures train, generations, holdout;
  };
  const auto measure = [&](const features::Extractor& x, const std::string& label, bool with_holdout) {
    features::FeatureStore fs(store, x.rows.id, x.rows.columns);
    Measured m;
    m.train = features::extract_dataset_features(train, x.rows, fs, extraction, log, label, "training");
    m.generations = features::extract_dataset_features(generations, x.rows, fs, extraction, log, label, "generations");
    if (holdout && with_holdout)
      m.holdout = features::extract_dataset_features(*holdout, x.rows, fs, extraction, log, label, "held-out");
    return m;
  };
  std::vector<Measured> measured;
  for (const auto& x : spaces) measured.push_back(measure(x, x.space(), true));
  std::optional<Measured> reid_measured;
  if (reid) reid_measured = measure(reid->branch, "Re-ID", true);

  // A sample is usable when every pass that measured its set measured it (with skip_bad, the others were reported
  // and left out).
  const auto usable = [&](std::size_t n, features::DatasetFeatures Measured::*which) {
    std::vector<const Measured*> passes;
    for (const Measured& m : measured) passes.push_back(&m);
    if (reid_measured) passes.push_back(&*reid_measured);
    std::vector<std::size_t> count(n, 0), kept;
    for (const Measured* m : passes)
      for (std::size_t sample : (m->*which).samples) ++count[sample];
    for (std::size_t i = 0; i < n; ++i)
      if (count[i] == passes.size()) kept.push_back(i);
    return kept;
  };
  const std::vector<std::size_t> train_kept = usable(train.samples.size(), &Measured::train);
  const std::vector<std::size_t> generations_kept = usable(generations.samples.size(), &Measured::generations);
  const std::vector<std::size_t> holdout_kept =
      holdout ? usable(holdout->samples.size(), &Measured::holdout) : std::vector<std::size_t>{};
  if (train_kept.empty() || generations_kept.empty())
    throw InputError(Location{(train_kept.empty() ? train : generations).source.string()}, "no usable image is left");

  // ---- CheXGenBench's table: each generation against its prompt's training image ----
  const bool linked = std::any_of(links.begin(), links.end(), [](const auto& l) { return l.has_value(); });
  // The latent distance is CheXGenBench's for networks; radiomic features only serve the search (standardised).
  const auto is_radiomic = [&](std::size_t x) { return spaces[x].preset == features::ExtractorPreset::radiomics; };
  for (std::size_t x = 1; x < spaces.size(); ++x)
    if (!is_radiomic(x)) run.latent_spaces.push_back(spaces[x].space());
  if (linked) {
    std::map<std::size_t, std::size_t> prompt_of_train;
    const std::set<std::size_t> train_usable(train_kept.begin(), train_kept.end());
    for (std::size_t g : generations_kept) {
      const std::size_t t = *links[g];
      if (!train_usable.count(t)) continue;  // its training image was left out (reported) with skip_bad
      auto [it, fresh] = prompt_of_train.emplace(t, run.prompts.size());
      if (fresh) {
        run.prompts.emplace_back();
        run.prompts.back().train = t;
      }
      run.prompts[it->second].generations.push_back(g);
    }
    // CheXGenBench's table follows the training rows, or with a subset the order in which its prompts were drawn.
    std::sort(run.prompts.begin(), run.prompts.end(),
              [](const PromptRow& a, const PromptRow& b) { return a.train < b.train; });
    if (o.subset > 0) {
      const std::vector<std::size_t> chosen = chexgenbench_prompt_subset(train, o.subset, o.seed);
      std::map<std::size_t, std::size_t> position;
      for (std::size_t k = 0; k < chosen.size(); ++k) position[chosen[k]] = k;
      std::size_t left_out = 0;
      std::vector<PromptRow> kept;
      for (PromptRow& p : run.prompts)
        if (position.count(p.train))
          kept.push_back(std::move(p));
        else
          left_out += p.generations.size();
      std::sort(kept.begin(), kept.end(), [&](const PromptRow& a, const PromptRow& b) {
        return position.at(a.train) < position.at(b.train);
      });
      run.prompts = std::move(kept);
      r.overall.details["subset"] = {{"prompts", o.subset},
                                     {"seed", o.seed},
                                     {"prompts_with_generations", run.prompts.size()},
                                     {"generations_left_out_of_the_table", left_out}};
      log.info("privacy: CheXGenBench's {} prompts (seed {}): {} of them have generations; {} generations of other "
               "prompts are left out of the table (not of the search)",
               o.subset, o.seed, run.prompts.size(), left_out);
    }
    log.info("privacy: {} generations linked to {} training images; pixel distances at {}x{}{}",
             generations_kept.size(), run.prompts.size(), o.pixel_side, o.pixel_side,
             o.compat == Compat::chexgenbench ? " (CheXGenBench's uint8 wrap-around and last-generation image)" : "");
    for_each_image_task(run.prompts.size(), o.threads, "privacy: pixel distances", log, [&](std::size_t i) {
      run.prompts[i].pixel = prompt_pixel_distances(train, generations, run.prompts[i], o);
    });
    for (std::size_t x = 1; x < spaces.size(); ++x) {
      if (is_radiomic(x)) continue;
      const Rows train_rows(measured[x].train), gen_rows(measured[x].generations);
      const auto& out = spaces[x].outputs.front();
      for (PromptRow& p : run.prompts) {
        std::vector<double> d;
        for (std::size_t g : p.generations)
          d.push_back(metrics::latent_distance(gen_rows.row(g, out.offset, out.dim),
                                               train_rows.row(p.train, out.offset, out.dim)));
        p.latent.push_back(std::move(d));
      }
    }
    if (reid_measured) {
      run.with_reid = true;
      const Rows train_rows(reid_measured->train), gen_rows(reid_measured->generations);
      const std::size_t dim = reid->branch.outputs.front().dim, first = reid->branch.outputs.front().offset;
      for (PromptRow& p : run.prompts)
        for (std::size_t g : p.generations)
          p.reid.push_back(reid->head.score(gen_rows.row(g, first, dim), train_rows.row(p.train, first, dim)));
      for (auto& rec : reid_records(run.prompts, o, generations_kept.size()))
        r.overall.records.push_back(std::move(rec));
    }
    for (auto& rec : distance_records(run.prompts, run.latent_spaces, o)) r.overall.records.push_back(std::move(rec));
  } else {
    const std::string why = o.link ? "the generations name no training row (no sample_id or source_id column, no "
                                     "prompts)"
                                   : "the generations are not linked to training rows (--no-link)";
    log.info("privacy: {}: no per-prompt table", why);
    if (reid)
      for (Metric m : {Metric::reid_mean, Metric::reid_max, Metric::reid_count})
        r.overall.records.push_back({{m, "Re-ID"}, std::nullopt, why, std::nullopt, {}});
    r.overall.records.push_back({{Metric::pixel_distance, "Pixels"}, std::nullopt, why, std::nullopt, {}});
    for (const auto& space : run.latent_spaces)
      r.overall.records.push_back({{Metric::latent_distance, space}, std::nullopt, why, std::nullopt, {}});
  }

  // ---- the calibrated search of the whole training set, in every space ----
  std::optional<fidelity::Split> halves;
  Dataset holdout_kept_set;
  if (holdout) {
    holdout_kept_set = *holdout;
    holdout_kept_set.samples.clear();
    for (std::size_t i : holdout_kept) holdout_kept_set.samples.push_back(holdout->samples[i]);
    halves = fidelity::split_by_patient(holdout_kept_set, o.seed);
    log.info("privacy: held-out images split by patient into {} for the threshold and {} as the null",
             halves->reference.size(), halves->held_out.size());
  }
  // τ from the calibration half of the held-out images' best values, the null half beside it, and the pairs above τ.
  const auto calibrate = [&](SpaceSearch& s, Metric metric, const std::vector<double>& holdout_best) {
    std::vector<double> calibration, null;
    for (std::size_t i : halves->reference) calibration.push_back(holdout_best[i]);
    for (std::size_t i : halves->held_out) null.push_back(holdout_best[i]);
    s.rate = metrics::calibrated_copy_rate(s.generated_similarity, calibration, null, o.quantile, o.confidence);
    const metrics::CopyRate& c = *s.rate;
    r.overall.records.push_back(calibrated_rate_record({metric, s.space}, c, o));
    std::vector<FlaggedPair> flagged;
    for (std::size_t i = 0; i < s.generated_similarity.size(); ++i)
      if (s.generated_similarity[i] > c.threshold) {
        const std::size_t gen = s.generated_samples[i], tr = s.generated_nearest[i];
        flagged.push_back({gen, tr, s.space, s.generated_similarity[i], c.threshold, links[gen] == tr});
      }
    std::stable_sort(flagged.begin(), flagged.end(),
                     [](const FlaggedPair& a, const FlaggedPair& b) { return a.similarity > b.similarity; });
    run.flagged.insert(run.flagged.end(), flagged.begin(), flagged.end());
    log.info(
        "privacy: {}: {} of {} generations above τ = {:.6g} ({:.4g}; held-out null {:.4g}; an unseen image "
        "{:.4g} to {:.4g})",
        s.space, c.generated.above, c.generated.n, c.threshold, c.generated.rate, c.null.rate, c.exchangeable.low,
        c.exchangeable.high);
    if (c.null.interval.low > c.exchangeable.high) log.info("privacy: {}: {}", s.space, nonexchangeable_warning(c));
  };
  const auto where_train = train.source.string(), where_generations = generations.source.string();
  for (std::size_t x = 0; x < spaces.size(); ++x) {
    const auto& out = spaces[x].outputs.front();
    const Rows train_rows(measured[x].train), gen_rows(measured[x].generations);
    MatrixD t = train_rows.matrix(train_kept, out.offset, out.dim);
    MatrixD g = gen_rows.matrix(generations_kept, out.offset, out.dim);
    std::optional<MatrixD> holdout_matrix;
    if (holdout) holdout_matrix = Rows(measured[x].holdout).matrix(holdout_kept, out.offset, out.dim);
    nlohmann::ordered_json standardised;
    if (is_radiomic(x)) standardised = standardise_radiomics(t, g, holdout_matrix ? &*holdout_matrix : nullptr);
    const metrics::CosineNeighbours near =
        metrics::nearest_by_cosine(g.view(), t.view(), 1, {}, where_generations, where_train);
    SpaceSearch s;
    s.space = spaces[x].space();
    s.generated_samples = generations_kept;
    for (std::size_t i = 0; i < generations_kept.size(); ++i) {
      s.generated_similarity.push_back(near.best(i));
      s.generated_nearest.push_back(train_kept[near.best_index(i)]);
    }
    const std::size_t first_record = r.overall.records.size();
    r.overall.records.push_back(nndr_record(train, train_kept, t, g, holdout_matrix ? &*holdout_matrix : nullptr,
                                            s.space, o, where_generations));
    if (halves) {
      const MatrixD& h = *holdout_matrix;
      const metrics::CosineNeighbours hn =
          metrics::nearest_by_cosine(h.view(), t.view(), 1, {}, holdout->source.string(), where_train);
      std::vector<double> holdout_best(h.rows());
      for (std::size_t i = 0; i < h.rows(); ++i) holdout_best[i] = hn.best(i);
      calibrate(s, Metric::copy_rate, holdout_best);
      r.overall.records.push_back(data_copying_record(t, g, h, *halves, s.space, o, where_train, where_generations));
      r.overall.records.push_back(membership_record(train, train_kept, t, *holdout, holdout_kept, h, *halves, g, s.space, o));
    } else {
      r.overall.records.push_back(no_holdout({Metric::copy_rate, s.space}));
      r.overall.records.push_back(no_holdout({Metric::data_copying, s.space}));
      r.overall.records.push_back({{Metric::membership_auc, s.space},
                                   std::nullopt,
                                   "no held-out images (--holdout): no non-members",
                                   std::nullopt,
                                   {}});
    }
    if (!standardised.empty())
      for (std::size_t i = first_record; i < r.overall.records.size(); ++i)
        r.overall.records[i].details["features"] = standardised;
    run.searches.push_back(std::move(s));
  }

  // ---- patient re-identification over the whole training set: each generation's best-scoring training image ----
  if (reid_measured) {
    const auto& out = reid->branch.outputs.front();
    const Rows train_rows(reid_measured->train), gen_rows(reid_measured->generations);
    const MatrixD t = train_rows.matrix(train_kept, out.offset, out.dim);
    const MatrixD g = gen_rows.matrix(generations_kept, out.offset, out.dim);
    SpaceSearch s;
    s.space = "Re-ID";  // the pair score is the "similarity"
    s.generated_samples = generations_kept;
    {
      Progress progress("privacy: re-identification against every training image", g.rows(), log.progress());
      const BestMatches best = best_matches(reid->head, g.view(), t.view(), o.threads, &progress);
      progress.finish();
      s.generated_similarity = best.score;
      for (std::size_t i : best.index) s.generated_nearest.push_back(train_kept[i]);
    }
    std::optional<metrics::CopyRate> own_threshold;
    if (halves) {
      const MatrixD h = Rows(reid_measured->holdout).matrix(holdout_kept, out.offset, out.dim);
      Progress progress("privacy: re-identification of the held-out images", h.rows(), log.progress());
      const BestMatches held = best_matches(reid->head, h.view(), t.view(), o.threads, &progress);
      progress.finish();
      calibrate(s, Metric::reid_rate, held.score);
    } else {
      r.overall.records.push_back(no_holdout({Metric::reid_rate, s.space}));
    }
    add_own_patient_scores(r.overall.records.back(), s, train, train_kept, t, g, links, reid->head, o);
    run.searches.push_back(std::move(s));
  }

  add_tiled_distances(run.flagged, train, generations, o, log);

  for (const auto& rec : r.overall.records) r.columns.push_back(rec.key);
  r.provenance["chexgen"] = version_string();
  r.provenance["training"] = train.source.string();
  r.provenance["generations"] = generations.source.string();
  r.provenance["holdout"] = holdout ? holdout->source.string() : "";
  r.provenance["store"] = store.string();
  r.provenance["options"] = {{"link", o.link},
                             {"compat", o.compat == Compat::chexgenbench ? "chexgenbench" : "corrected"},
                             {"quantile", o.quantile},
                             {"confidence", o.confidence},
                             {"seed", o.seed},
                             {"pixel_side", o.pixel_side},
                             {"reid_threshold", o.reid_threshold},
                             {"subset", o.subset}};
  nlohmann::ordered_json described = nlohmann::ordered_json::array();
  for (const auto& x : spaces) described.push_back({{"space", x.space()}, {"description", x.description}});
  if (reid) described.push_back({{"space", "Re-ID"}, {"description", reid->branch.description}});
  r.provenance["extractors"] = described;
  r.overall.details["n_holdout"] = holdout_kept.size();
  r.overall.details["n_flagged"] = run.flagged.size();
  return run;
}

}  // namespace chexgen::privacy
