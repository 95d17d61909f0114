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

// One privacy evaluation, phase by phase; evaluate_privacy runs the phases in order.
class Evaluation {
 public:
  Evaluation(const Dataset& train, const Dataset& generations, const Dataset* holdout,
             const std::optional<ReidModel>& reid, const std::filesystem::path& store, const PrivacyOptions& o,
             const Log& log)
      : train_(train), generations_(generations), holdout_(holdout), reid_(reid), store_(store), o_(o), log_(log) {
    results::Results& r = run_.results;
    r.evaluation = "privacy";
    r.generator = o.generator.empty() ? generations.source.parent_path().filename().string() : o.generator;
    r.overall.n_real = train.samples.size();
    r.overall.n_synthetic = generations.samples.size();
    // Linked before anything is measured: a generation that names no training row stops the run at once.
    links_ = o.link ? link_generations(train, generations, o.source_column)
                    : std::vector<std::optional<std::size_t>>(generations.samples.size());
  }

  // The features, through the store: the pixel thumbnails, then each extractor, then the re-id branch; and the
  // samples every pass measured.
  void measure(const std::vector<features::Extractor>& extractors) {
    spaces_.push_back(features::pixel_thumbnail_extractor());
    for (const auto& x : extractors) spaces_.push_back(x);
    for (const auto& x : spaces_) measured_.push_back(measure_one(x, x.space()));
    if (reid_) reid_measured_ = measure_one(reid_->branch, "Re-ID");
    train_kept_ = usable(train_.samples.size(), &Measured::train);
    generations_kept_ = usable(generations_.samples.size(), &Measured::generations);
    if (holdout_) holdout_kept_ = usable(holdout_->samples.size(), &Measured::holdout);
    if (train_kept_.empty() || generations_kept_.empty())
      throw InputError(Location{(train_kept_.empty() ? train_ : generations_).source.string()},
                       "no usable image is left");
    // The latent distance is CheXGenBench's for networks; radiomic features only serve the search (standardised).
    for (std::size_t x = 1; x < spaces_.size(); ++x)
      if (!is_radiomic(x)) run_.latent_spaces.push_back(spaces_[x].space());
  }

  // CheXGenBench's table: each generation against its prompt's training image.
  void table() {
    if (std::none_of(links_.begin(), links_.end(), [](const auto& l) { return l.has_value(); })) {
      no_table(o_.link ? "the generations name no training row (no sample_id or source_id column, no prompts)"
                       : "the generations are not linked to training rows (--no-link)");
      return;
    }
    collect_prompts();
    log_.info("privacy: {} generations linked to {} training images; pixel distances at {}x{}{}",
              generations_kept_.size(), run_.prompts.size(), o_.pixel_side, o_.pixel_side,
              o_.compat == Compat::chexgenbench ? " (CheXGenBench's uint8 wrap-around and last-generation image)"
                                                : "");
    for_each_image_task(run_.prompts.size(), o_.threads, "privacy: pixel distances", log_, [&](std::size_t i) {
      run_.prompts[i].pixel = prompt_pixel_distances(train_, generations_, run_.prompts[i], o_);
    });
    for (std::size_t x = 1; x < spaces_.size(); ++x) {
      if (is_radiomic(x)) continue;
      const Rows train_rows(measured_[x].train), gen_rows(measured_[x].generations);
      const auto& out = spaces_[x].outputs.front();
      for (PromptRow& p : run_.prompts) {
        std::vector<double> d;
        for (std::size_t g : p.generations)
          d.push_back(metrics::latent_distance(gen_rows.row(g, out.offset, out.dim),
                                               train_rows.row(p.train, out.offset, out.dim)));
        p.latent.push_back(std::move(d));
      }
    }
    if (reid_measured_) {
      run_.with_reid = true;
      const Rows train_rows(reid_measured_->train), gen_rows(reid_measured_->generations);
      const std::size_t dim = reid_->branch.outputs.front().dim, first = reid_->branch.outputs.front().offset;
      for (PromptRow& p : run_.prompts)
        for (std::size_t g : p.generations)
          p.reid.push_back(reid_->head.score(gen_rows.row(g, first, dim), train_rows.row(p.train, first, dim)));
      add(reid_records(run_.prompts, o_, generations_kept_.size()));
    }
    add(distance_records(run_.prompts, run_.latent_spaces, o_));
  }

  // The held-out images split by patient into the calibration half (τ) and the null half.
  void split_holdout() {
    if (!holdout_) return;
    holdout_kept_set_ = *holdout_;
    holdout_kept_set_.samples.clear();
    for (std::size_t i : holdout_kept_) holdout_kept_set_.samples.push_back(holdout_->samples[i]);
    halves_ = fidelity::split_by_patient(holdout_kept_set_, o_.seed);
    log_.info("privacy: held-out images split by patient into {} for the threshold and {} as the null",
              halves_->reference.size(), halves_->held_out.size());
  }

  // The calibrated search of the whole training set in every space: copy rate, NNDR, C_T, membership.
  void search_spaces() {
    for (std::size_t x = 0; x < spaces_.size(); ++x) {
      const auto& out = spaces_[x].outputs.front();
      const Rows train_rows(measured_[x].train), gen_rows(measured_[x].generations);
      MatrixD t = train_rows.matrix(train_kept_, out.offset, out.dim);
      MatrixD g = gen_rows.matrix(generations_kept_, out.offset, out.dim);
      std::optional<MatrixD> h;
      if (holdout_) h = Rows(measured_[x].holdout).matrix(holdout_kept_, out.offset, out.dim);
      nlohmann::ordered_json standardised;
      if (is_radiomic(x)) standardised = standardise_radiomics(t, g, h ? &*h : nullptr);
      const metrics::CosineNeighbours near = metrics::nearest_by_cosine(g.view(), t.view(), 1, {},
                                                                        generations_name(), train_name());
      SpaceSearch s;
      s.space = spaces_[x].space();
      s.generated_samples = generations_kept_;
      for (std::size_t i = 0; i < generations_kept_.size(); ++i) {
        s.generated_similarity.push_back(near.best(i));
        s.generated_nearest.push_back(train_kept_[near.best_index(i)]);
      }
      results::Results& r = run_.results;
      const std::size_t first_record = r.overall.records.size();
      r.overall.records.push_back(
          nndr_record(train_, train_kept_, t, g, h ? &*h : nullptr, s.space, o_, generations_name()));
      if (halves_) {
        const metrics::CosineNeighbours hn =
            metrics::nearest_by_cosine(h->view(), t.view(), 1, {}, holdout_->source.string(), train_name());
        std::vector<double> holdout_best(h->rows());
        for (std::size_t i = 0; i < h->rows(); ++i) holdout_best[i] = hn.best(i);
        calibrate(s, Metric::copy_rate, holdout_best);
        r.overall.records.push_back(
            data_copying_record(t, g, *h, *halves_, s.space, o_, train_name(), generations_name()));
        r.overall.records.push_back(
            membership_record(train_, train_kept_, t, *holdout_, holdout_kept_, *h, *halves_, g, s.space, o_));
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
      run_.searches.push_back(std::move(s));
    }
  }

  // Patient re-identification over the whole training set: each generation's best-scoring training image.
  void search_reid() {
    if (!reid_measured_) return;
    const auto& out = reid_->branch.outputs.front();
    const Rows train_rows(reid_measured_->train), gen_rows(reid_measured_->generations);
    const MatrixD t = train_rows.matrix(train_kept_, out.offset, out.dim);
    const MatrixD g = gen_rows.matrix(generations_kept_, out.offset, out.dim);
    SpaceSearch s;
    s.space = "Re-ID";  // the pair score is the "similarity"
    s.generated_samples = generations_kept_;
    {
      Progress progress("privacy: re-identification against every training image", g.rows(), log_.progress());
      const BestMatches best = best_matches(reid_->head, g.view(), t.view(), o_.threads, &progress);
      progress.finish();
      s.generated_similarity = best.score;
      for (std::size_t i : best.index) s.generated_nearest.push_back(train_kept_[i]);
    }
    results::Results& r = run_.results;
    if (halves_) {
      const MatrixD h = Rows(reid_measured_->holdout).matrix(holdout_kept_, out.offset, out.dim);
      Progress progress("privacy: re-identification of the held-out images", h.rows(), log_.progress());
      const BestMatches held = best_matches(reid_->head, h.view(), t.view(), o_.threads, &progress);
      progress.finish();
      calibrate(s, Metric::reid_rate, held.score);
    } else {
      r.overall.records.push_back(no_holdout({Metric::reid_rate, s.space}));
    }
    add_own_patient_scores(r.overall.records.back(), s, train_, train_kept_, t, g, links_, reid_->head, o_);
    run_.searches.push_back(std::move(s));
  }

  // The flagged pairs' tiled distances, the columns and the provenance.
  PrivacyRun finish() {
    add_tiled_distances(run_.flagged, train_, generations_, o_, log_);
    results::Results& r = run_.results;
    for (const auto& rec : r.overall.records) r.columns.push_back(rec.key);
    r.provenance["chexgen"] = version_string();
    r.provenance["training"] = train_name();
    r.provenance["generations"] = generations_name();
    r.provenance["holdout"] = holdout_ ? holdout_->source.string() : "";
    r.provenance["store"] = store_.string();
    r.provenance["options"] = {{"link", o_.link},
                               {"compat", o_.compat == Compat::chexgenbench ? "chexgenbench" : "corrected"},
                               {"quantile", o_.quantile},
                               {"confidence", o_.confidence},
                               {"seed", o_.seed},
                               {"pixel_side", o_.pixel_side},
                               {"reid_threshold", o_.reid_threshold},
                               {"subset", o_.subset}};
    nlohmann::ordered_json described = nlohmann::ordered_json::array();
    for (const auto& x : spaces_) described.push_back({{"space", x.space()}, {"description", x.description}});
    if (reid_) described.push_back({{"space", "Re-ID"}, {"description", reid_->branch.description}});
    r.provenance["extractors"] = described;
    r.overall.details["n_holdout"] = holdout_kept_.size();
    r.overall.details["n_flagged"] = run_.flagged.size();
    return std::move(run_);
  }

 private:
  struct Measured {
    features::DatasetFeatures train, generations, holdout;
  };

  Measured measure_one(const features::Extractor& x, const std::string& label) const {
    const features::ExtractionOptions extraction{o_.threads, o_.skip_bad};
    features::FeatureStore fs(store_, x.rows.id, x.rows.columns);
    Measured m;
    m.train = features::extract_dataset_features(train_, x.rows, fs, extraction, log_, label, "training");
    m.generations =
        features::extract_dataset_features(generations_, x.rows, fs, extraction, log_, label, "generations");
    if (holdout_)
      m.holdout = features::extract_dataset_features(*holdout_, x.rows, fs, extraction, log_, label, "held-out");
    return m;
  }

  // A sample is usable when every pass that measured its set measured it (with skip_bad, the others were reported
  // and left out).
  std::vector<std::size_t> usable(std::size_t n, features::DatasetFeatures Measured::*which) const {
    std::vector<const Measured*> passes;
    for (const Measured& m : measured_) passes.push_back(&m);
    if (reid_measured_) passes.push_back(&*reid_measured_);
    std::vector<std::size_t> count(n, 0), kept;
    for (const Measured* m : passes)
      for (std::size_t sample : (m->*which).samples) ++count[sample];
    for (std::size_t i = 0; i < n; ++i)
      if (count[i] == passes.size()) kept.push_back(i);
    return kept;
  }

  bool is_radiomic(std::size_t x) const { return spaces_[x].preset == features::ExtractorPreset::radiomics; }
  std::string train_name() const { return train_.source.string(); }
  std::string generations_name() const { return generations_.source.string(); }
  void add(std::vector<MetricRecord> records) {
    for (auto& rec : records) run_.results.overall.records.push_back(std::move(rec));
  }

  // The table's rows: each usable training image with its generations, in training order, or with --subset in the
  // order CheXGenBench draws its prompts.
  void collect_prompts() {
    std::map<std::size_t, std::size_t> prompt_of_train;
    const std::set<std::size_t> train_usable(train_kept_.begin(), train_kept_.end());
    for (std::size_t g : generations_kept_) {
      const std::size_t t = *links_[g];
      if (!train_usable.count(t)) continue;  // its training image was left out (reported) with skip_bad
      auto [it, fresh] = prompt_of_train.emplace(t, run_.prompts.size());
      if (fresh) {
        run_.prompts.emplace_back();
        run_.prompts.back().train = t;
      }
      run_.prompts[it->second].generations.push_back(g);
    }
    std::sort(run_.prompts.begin(), run_.prompts.end(),
              [](const PromptRow& a, const PromptRow& b) { return a.train < b.train; });
    if (o_.subset == 0) return;
    const std::vector<std::size_t> chosen = chexgenbench_prompt_subset(train_, o_.subset, o_.seed);
    std::map<std::size_t, std::size_t> position;
    for (std::size_t k = 0; k < chosen.size(); ++k) position[chosen[k]] = k;
    std::size_t left_out = 0;
    std::vector<PromptRow> kept;
    for (PromptRow& p : run_.prompts)
      if (position.count(p.train))
        kept.push_back(std::move(p));
      else
        left_out += p.generations.size();
    std::sort(kept.begin(), kept.end(),
              [&](const PromptRow& a, const PromptRow& b) { return position.at(a.train) < position.at(b.train); });
    run_.prompts = std::move(kept);
    run_.results.overall.details["subset"] = {{"prompts", o_.subset},
                                              {"seed", o_.seed},
                                              {"prompts_with_generations", run_.prompts.size()},
                                              {"generations_left_out_of_the_table", left_out}};
    log_.info("privacy: CheXGenBench's {} prompts (seed {}): {} of them have generations; {} generations of other "
              "prompts are left out of the table (not of the search)",
              o_.subset, o_.seed, run_.prompts.size(), left_out);
  }

  // Without links, the table's records say why they have no value.
  void no_table(const std::string& why) {
    log_.info("privacy: {}: no per-prompt table", why);
    std::vector<MetricRecord> records;
    if (reid_)
      for (Metric m : {Metric::reid_mean, Metric::reid_max, Metric::reid_count})
        records.push_back({{m, "Re-ID"}, std::nullopt, why, std::nullopt, {}});
    records.push_back({{Metric::pixel_distance, "Pixels"}, std::nullopt, why, std::nullopt, {}});
    for (const auto& space : run_.latent_spaces)
      records.push_back({{Metric::latent_distance, space}, std::nullopt, why, std::nullopt, {}});
    add(std::move(records));
  }

  // τ from the calibration half of the held-out images' best values, the null half beside it, and the pairs above
  // τ flagged.
  void calibrate(SpaceSearch& s, Metric metric, const std::vector<double>& holdout_best) {
    std::vector<double> calibration, null;
    for (std::size_t i : halves_->reference) calibration.push_back(holdout_best[i]);
    for (std::size_t i : halves_->held_out) null.push_back(holdout_best[i]);
    s.rate = metrics::calibrated_copy_rate(s.generated_similarity, calibration, null, o_.quantile, o_.confidence);
    const metrics::CopyRate& c = *s.rate;
    const MetricRecord& rec =
        run_.results.overall.records.emplace_back(calibrated_rate_record({metric, s.space}, c, o_));
    std::vector<FlaggedPair> flagged;
    for (std::size_t i = 0; i < s.generated_similarity.size(); ++i)
      if (s.generated_similarity[i] > c.threshold) {
        const std::size_t gen = s.generated_samples[i], tr = s.generated_nearest[i];
        flagged.push_back({gen, tr, s.space, s.generated_similarity[i], c.threshold, links_[gen] == tr});
      }
    std::stable_sort(flagged.begin(), flagged.end(),
                     [](const FlaggedPair& a, const FlaggedPair& b) { return a.similarity > b.similarity; });
    run_.flagged.insert(run_.flagged.end(), flagged.begin(), flagged.end());
    log_.info(
        "privacy: {}: {} of {} generations above τ = {:.6g} ({:.4g}; held-out null {:.4g}; an unseen image "
        "{:.4g} to {:.4g})",
        s.space, c.generated.above, c.generated.n, c.threshold, c.generated.rate, c.null.rate, c.exchangeable.low,
        c.exchangeable.high);
    if (rec.details.contains("warning"))
      log_.info("privacy: {}: {}", s.space, rec.details["warning"].get<std::string>());
  }

  const Dataset& train_;
  const Dataset& generations_;
  const Dataset* holdout_;
  const std::optional<ReidModel>& reid_;
  const std::filesystem::path& store_;
  const PrivacyOptions& o_;
  const Log& log_;
  PrivacyRun run_;
  std::vector<std::optional<std::size_t>> links_;
  std::vector<features::Extractor> spaces_;  // the pixel thumbnails, then the caller's extractors
  std::vector<Measured> measured_;           // per space
  std::optional<Measured> reid_measured_;
  std::vector<std::size_t> train_kept_, generations_kept_, holdout_kept_;  // usable samples
  Dataset holdout_kept_set_;
  std::optional<fidelity::Split> halves_;  // of holdout_kept_ (indices into it)
};

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

  Evaluation e(train, generations, holdout, reid, store, o, log);
  e.measure(extractors);
  e.table();
  e.split_holdout();
  e.search_spaces();
  e.search_reid();
  return e.finish();
}

}  // namespace chexgen::privacy
