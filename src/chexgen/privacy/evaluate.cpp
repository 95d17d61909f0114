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
#include "chexgen/data/csv_table.h"
#include "chexgen/features/extract.h"
#include "chexgen/features/feature_store.h"
#include "chexgen/features/pixel_thumbnail.h"
#include "chexgen/fidelity/baselines.h"
#include "chexgen/image/decode.h"
#include "chexgen/image/resize.h"
#include "chexgen/metrics/sampling.h"

namespace chexgen::privacy {
namespace {

using results::Metric;
using results::MetricKey;
using results::MetricRecord;

// The value of a generation's column `name`, if it has that column.
const std::string* extra_value(const Sample& s, const std::string& name) {
  for (const auto& [column, value] : s.extra)
    if (column == name) return &value;
  return nullptr;
}

bool has_column(const Dataset& d, const std::string& name) {
  return !d.samples.empty() && extra_value(d.samples.front(), name) != nullptr;
}

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

// The image of a sample as CheXGenBench compares pixels: RGB (or gray), side x side (Pillow's bicubic when another
// size).
Image8 pixel_image(const Dataset& d, const Sample& s, int side, ColorMode mode = ColorMode::rgb) {
  try {
    Image8 image = read_image_u8(s.image_path, mode);
    if (image.width != side || image.height != side) image = resize(image, side, side, ResampleFilter::bicubic);
    return image;
  } catch (const InputError& e) {
    throw InputError(sample_location(d, s), e.reason());
  } catch (const std::exception& e) {
    throw InputError(sample_location(d, s), e.what());
  }
}

// CheXGenBench's pixel distances of one prompt's generations to its training image.
std::vector<double> prompt_pixel_distances(const Dataset& train, const Dataset& generations, const PromptRow& p,
                                           const PrivacyOptions& o) {
  const Image8 real = pixel_image(train, train.samples[p.train], o.pixel_side);
  std::vector<double> out;
  if (o.compat == Compat::chexgenbench) {
    // Its loop computes the distance with gen_image, the last image the seed loop made, for every seed.
    const Image8 last = pixel_image(generations, generations.samples[p.generations.back()], o.pixel_side);
    out.assign(p.generations.size(), metrics::chexgenbench_pixel_distance(real.data, last.data));
    return out;
  }
  for (std::size_t g : p.generations) {
    const Image8 image = pixel_image(generations, generations.samples[g], o.pixel_side);
    out.push_back(metrics::pixel_rms_distance(real.data, image.data));
  }
  return out;
}

// In the given order (a prompt's generations, as CheXGenBench's np.mean of up to 10 values).
double mean_of(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return s / static_cast<double>(v.size());
}

// Summed in increasing order: the same bits whatever the order of the rows (the aggregates over prompts).
double order_free_mean(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return mean_of(v);
}

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

nlohmann::ordered_json rate_json(const metrics::Rate& r) {
  return {{"above", r.above},
          {"n", r.n},
          {"rate", r.rate},
          {"interval", {{"low", r.interval.low}, {"high", r.interval.high}}}};
}

// Distance-based membership inference in one space: n training images (members) and n held-out images
// (non-members), n the smaller count, each chosen by a seeded draw from the samples ordered by id (so the choice does
// not depend on the order of the rows); each scored by its most similar generation.
MetricRecord membership_record(const Dataset& train, const std::vector<std::size_t>& train_kept, const MatrixD& t,
                               const Dataset& holdout, const std::vector<std::size_t>& holdout_kept, const MatrixD& h,
                               const MatrixD& g, const std::string& space, const PrivacyOptions& o) {
  const std::size_t n = std::min(train_kept.size(), holdout_kept.size());
  const auto pick = [&](const Dataset& d, const std::vector<std::size_t>& kept, const MatrixD& rows,
                        std::uint64_t stream) {
    std::vector<std::size_t> by_id(kept.size());
    for (std::size_t i = 0; i < by_id.size(); ++i) by_id[i] = i;
    std::sort(by_id.begin(), by_id.end(),
              [&](std::size_t a, std::size_t b) { return d.samples[kept[a]].id < d.samples[kept[b]].id; });
    std::vector<std::size_t> chosen = metrics::IndexSampler(o.seed ^ stream).without_replacement(kept.size(), n);
    MatrixD m(n, rows.cols());
    for (std::size_t i = 0; i < n; ++i)
      std::copy(&rows(by_id[chosen[i]], 0), &rows(by_id[chosen[i]], 0) + rows.cols(), &m(i, 0));
    return m;
  };
  const MatrixD members = pick(train, train_kept, t, 0x6d656d62ULL),
                others = pick(holdout, holdout_kept, h, 0x686f6c64ULL);
  const auto nm = metrics::nearest_by_cosine(members.view(), g.view(), 1),
             nh = metrics::nearest_by_cosine(others.view(), g.view(), 1);
  std::vector<double> member_scores, other_scores;
  for (std::size_t i = 0; i < n; ++i) {
    member_scores.push_back(nm.best(i));
    other_scores.push_back(nh.best(i));
  }
  MetricRecord rec{
      {Metric::membership_auc, space}, metrics::roc_auc(member_scores, other_scores), "", std::nullopt, {}};
  rec.details["members"] = n;
  rec.details["non_members"] = n;
  rec.details["score"] = "cosine similarity to the most similar generation";
  rec.details["tpr_at_fpr"] = {{"0.01", metrics::tpr_at_fpr(member_scores, other_scores, 0.01)},
                               {"0.001", metrics::tpr_at_fpr(member_scores, other_scores, 0.001)}};
  return rec;
}

// The paper's re-identification aggregates over the prompts' scores.
std::vector<MetricRecord> reid_records(const std::vector<PromptRow>& prompts, const PrivacyOptions& o,
                                       std::size_t n_generations) {
  std::vector<double> means;
  double highest = 0;
  std::size_t prompts_above = 0, generations_above = 0;
  std::vector<std::size_t> histogram(20, 0);  // each prompt's highest score, bins of 0.05: any δ can be read off
  for (const PromptRow& p : prompts) {
    means.push_back(mean_of(p.reid));
    const double m = *std::max_element(p.reid.begin(), p.reid.end());
    highest = std::max(highest, m);
    prompts_above += m > o.reid_threshold ? 1 : 0;
    for (double v : p.reid) generations_above += v > o.reid_threshold ? 1 : 0;
    ++histogram[std::min<std::size_t>(19, static_cast<std::size_t>(m * 20.0))];
  }
  std::vector<MetricRecord> out;
  out.push_back({{Metric::reid_mean, "Re-ID"}, order_free_mean(means), "", std::nullopt, {}});
  out.push_back({{Metric::reid_max, "Re-ID"}, highest, "", std::nullopt, {}});
  MetricRecord count{{Metric::reid_count, "Re-ID"}, static_cast<double>(prompts_above), "", std::nullopt, {}};
  count.details["threshold"] = o.reid_threshold;
  count.details["prompts"] = prompts.size();
  count.details["generations_above"] = generations_above;
  count.details["generations"] = n_generations;
  count.details["max_score_histogram"] = histogram;
  out.push_back(std::move(count));
  return out;
}

// The paper's distance aggregates: the mean over prompts of each prompt's mean, pixels then each latent space.
std::vector<MetricRecord> distance_records(const std::vector<PromptRow>& prompts,
                                           const std::vector<std::string>& latent_spaces, const PrivacyOptions& o) {
  std::vector<MetricRecord> out;
  std::vector<double> pixel_means;
  for (const auto& p : prompts) pixel_means.push_back(mean_of(p.pixel));
  MetricRecord pixel{{Metric::pixel_distance, "Pixels"}, order_free_mean(pixel_means), "", std::nullopt, {}};
  pixel.details["compat"] = o.compat == Compat::chexgenbench ? "chexgenbench" : "corrected";
  pixel.details["prompts"] = prompts.size();
  pixel.details["side"] = o.pixel_side;
  out.push_back(std::move(pixel));
  for (std::size_t x = 0; x < latent_spaces.size(); ++x) {
    std::vector<double> means;
    for (const auto& p : prompts) means.push_back(mean_of(p.latent[x]));
    MetricRecord latent{{Metric::latent_distance, latent_spaces[x]}, order_free_mean(means), "", std::nullopt, {}};
    latent.details["prompts"] = prompts.size();
    out.push_back(std::move(latent));
  }
  return out;
}

// The copy rate of one space with everything that says what it means.
MetricRecord copy_rate_record(const MetricKey& key, const metrics::CopyRate& c, const PrivacyOptions& o) {
  MetricRecord rec{key, c.generated.rate, "", c.generated.interval, {}};
  rec.details["interval"] = fmt::format("Clopper-Pearson, {}", o.confidence);
  rec.details["quantile"] = c.quantile;
  rec.details["threshold"] = c.threshold;
  rec.details["generated"] = rate_json(c.generated);
  rec.details["null"] = rate_json(c.null);
  rec.details["nominal"] = 1.0 - c.quantile;
  rec.details["exchangeable"] = {{"low", c.exchangeable.low}, {"high", c.exchangeable.high}};
  rec.details["excess"] = c.excess;
  rec.details["calibration_size"] = c.calibration_size;
  rec.details["similarity"] = {{"median_generated", c.median_generated},
                               {"p95_generated", c.p95_generated},
                               {"median_null", c.median_null},
                               {"p95_null", c.p95_null}};
  return rec;
}

inline constexpr double kNndrThreshold = 1.0 / 3.0;  // DiffMemorize's mem_ratio threshold

// The patient-aware NNDR rate of the generations in one space, and of the held-out images as its null.
MetricRecord nndr_record(const Dataset& train, const std::vector<std::size_t>& train_kept, const MatrixD& t,
                         const MatrixD& g, const MatrixD* h, const std::string& space, const PrivacyOptions& o,
                         const std::string& generations_name) {
  const MetricKey key{Metric::nndr_rate, space};
  std::map<std::string, std::size_t> patient_number;
  std::vector<std::size_t> patient(train_kept.size());
  for (std::size_t i = 0; i < train_kept.size(); ++i) {
    const Sample& s = train.samples[train_kept[i]];
    // An image without a patient id is a patient of its own (its id cannot collide: a different prefix).
    const std::string group = s.patient_id ? "p:" + *s.patient_id : "i:" + s.id;
    patient[i] = patient_number.emplace(group, patient_number.size()).first->second;
  }
  if (patient_number.size() < 2)
    return {key,
            std::nullopt,
            "the training images are of one patient: no other patient to compare with",
            std::nullopt,
            {}};
  const auto rate = [&](const MatrixD& q, const std::string& name) {
    const std::vector<double> ratio =
        metrics::patient_aware_nndr(q.view(), t.view(), patient, {}, name, train.source.string());
    const auto below = static_cast<std::size_t>(
        std::count_if(ratio.begin(), ratio.end(), [](double v) { return v < kNndrThreshold; }));
    return metrics::binomial_rate(below, ratio.size(), o.confidence);
  };
  const metrics::Rate generated = rate(g, generations_name);
  MetricRecord rec{key, generated.rate, "", generated.interval, {}};
  rec.details["threshold"] = kNndrThreshold;
  rec.details["generated"] = rate_json(generated);
  if (h) rec.details["null"] = rate_json(rate(*h, "held-out images"));
  rec.details["patients"] = patient_number.size();
  rec.details["interval"] = fmt::format("Clopper-Pearson, {}", o.confidence);
  return rec;
}

// Carlini et al.'s tiled distance of every flagged pair, on the two images in gray at the pixel distances' size.
void add_tiled_distances(std::vector<FlaggedPair>& pairs, const Dataset& train, const Dataset& generations,
                         const PrivacyOptions& o, const Log& log) {
  if (pairs.empty()) return;
  const auto gray = [&](const Dataset& d, std::size_t i) {
    return pixel_image(d, d.samples[i], o.pixel_side, ColorMode::gray);
  };
  std::vector<std::optional<InputError>> failures(pairs.size());
  Progress progress("privacy: tiled distances of the flagged pairs", pairs.size(), log.progress());
  parallel_for(
      pairs.size(), o.threads,
      [&](std::size_t i) {
        try {
          const Image8 a = gray(generations, pairs[i].generation), b = gray(train, pairs[i].train);
          pairs[i].tiled_distance = metrics::tiled_pixel_distance(a.data, b.data, a.width, a.height, 1);
        } catch (const InputError& e) {
          failures[i] = e;
        }
      },
      &progress);
  progress.finish();
  for (const auto& f : failures)
    if (f) throw *f;
}

}  // namespace

std::vector<std::optional<std::size_t>> link_generations(const Dataset& train, const Dataset& generations,
                                                         const std::string& source_column) {
  std::vector<std::optional<std::size_t>> links(generations.samples.size());
  std::string column = source_column;
  if (column.empty()) {
    if (has_column(generations, "sample_id"))
      column = "sample_id";
    else if (has_column(generations, "source_id"))
      column = "source_id";
  } else if (!has_column(generations, column)) {
    throw InputError(Location{generations.source.string()},
                     fmt::format("no column '{}' to link generations to training rows", column));
  }
  if (!column.empty()) {
    std::map<std::string, std::size_t> by_id;
    for (std::size_t i = 0; i < train.samples.size(); ++i) by_id.emplace(train.samples[i].id, i);
    for (std::size_t g = 0; g < generations.samples.size(); ++g) {
      const Sample& s = generations.samples[g];
      const std::string* id = extra_value(s, column);
      const auto it = id ? by_id.find(*id) : by_id.end();
      if (it == by_id.end())
        throw InputError(
            Location{generations.source.string(), s.row, column},
            fmt::format("'{}' is the id of no training image in {}", id ? *id : "", train.source.string()));
      links[g] = it->second;
    }
    return links;
  }
  const bool any_prompt = std::any_of(generations.samples.begin(), generations.samples.end(),
                                      [](const Sample& s) { return s.prompt.has_value(); });
  if (!any_prompt) return links;
  std::map<std::string, std::size_t> by_prompt;
  for (std::size_t i = 0; i < train.samples.size(); ++i)
    if (train.samples[i].prompt) by_prompt.emplace(*train.samples[i].prompt, i);  // the first row of a prompt
  for (std::size_t g = 0; g < generations.samples.size(); ++g) {
    const Sample& s = generations.samples[g];
    const auto it = s.prompt ? by_prompt.find(*s.prompt) : by_prompt.end();
    if (it == by_prompt.end())
      throw InputError(Location{generations.source.string(), s.row, "prompt"},
                       s.prompt ? "no training image has this prompt" : "no prompt to link it to a training image");
    links[g] = it->second;
  }
  return links;
}

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

  // ---- features, through the store: the pixel thumbnails, then each network ----
  std::vector<features::Extractor> spaces;
  spaces.push_back(features::pixel_thumbnail_extractor());
  for (const auto& x : extractors) spaces.push_back(x);
  const features::ExtractionOptions extraction{o.threads, o.skip_bad};
  struct Measured {
    features::DatasetFeatures train, generations, holdout;
  };
  std::vector<Measured> measured;
  for (const auto& x : spaces) {
    features::FeatureStore fs(store, x.rows.id, x.rows.columns);
    Measured m;
    m.train = features::extract_dataset_features(train, x.rows, fs, extraction, log, x.space(), "training");
    m.generations =
        features::extract_dataset_features(generations, x.rows, fs, extraction, log, x.space(), "generations");
    if (holdout)
      m.holdout = features::extract_dataset_features(*holdout, x.rows, fs, extraction, log, x.space(), "held-out");
    measured.push_back(std::move(m));
  }
  // The re-identification branch, for the table only: one embedding per training image and generation.
  std::optional<Measured> reid_measured;
  if (reid) {
    const auto& x = reid->branch;
    features::FeatureStore fs(store, x.rows.id, x.rows.columns);
    reid_measured.emplace();
    reid_measured->train = features::extract_dataset_features(train, x.rows, fs, extraction, log, "Re-ID", "training");
    reid_measured->generations =
        features::extract_dataset_features(generations, x.rows, fs, extraction, log, "Re-ID", "generations");
  }
  // A sample is usable when every space measured it (with skip_bad, the others were reported and left out).
  const auto usable = [&](std::size_t n, features::DatasetFeatures Measured::*which) {
    std::vector<std::size_t> count(n, 0), kept;
    for (const Measured& m : measured)
      for (std::size_t sample : (m.*which).samples) ++count[sample];
    for (std::size_t i = 0; i < n; ++i)
      if (count[i] == measured.size()) kept.push_back(i);
    return kept;
  };
  if (reid_measured) measured.push_back(*reid_measured);  // counted in `usable`, removed just below
  const std::vector<std::size_t> train_kept = usable(train.samples.size(), &Measured::train);
  const std::vector<std::size_t> generations_kept = usable(generations.samples.size(), &Measured::generations);
  if (reid_measured) measured.pop_back();
  const std::vector<std::size_t> holdout_kept =
      holdout ? usable(holdout->samples.size(), &Measured::holdout) : std::vector<std::size_t>{};
  if (train_kept.empty() || generations_kept.empty())
    throw InputError(Location{(train_kept.empty() ? train : generations).source.string()}, "no usable image is left");

  // ---- CheXGenBench's table: each generation against its prompt's training image ----
  const auto links = o.link ? link_generations(train, generations, o.source_column)
                            : std::vector<std::optional<std::size_t>>(generations.samples.size());
  const bool linked = std::any_of(links.begin(), links.end(), [](const auto& l) { return l.has_value(); });
  for (std::size_t x = 1; x < spaces.size(); ++x) run.latent_spaces.push_back(spaces[x].space());
  if (linked) {
    std::map<std::size_t, std::size_t> prompt_of_train;
    const std::set<std::size_t> train_usable(train_kept.begin(), train_kept.end());
    for (std::size_t g : generations_kept) {
      const std::size_t t = *links[g];
      if (!train_usable.count(t)) continue;  // its training image was left out (reported) with skip_bad
      auto [it, fresh] = prompt_of_train.emplace(t, run.prompts.size());
      if (fresh) run.prompts.push_back(PromptRow{.train = t});
      run.prompts[it->second].generations.push_back(g);
    }
    // CheXGenBench's table follows the training rows.
    std::sort(run.prompts.begin(), run.prompts.end(),
              [](const PromptRow& a, const PromptRow& b) { return a.train < b.train; });
    log.info("privacy: {} generations linked to {} training images; pixel distances at {}x{}{}",
             generations_kept.size(), run.prompts.size(), o.pixel_side, o.pixel_side,
             o.compat == Compat::chexgenbench ? " (CheXGenBench's uint8 wrap-around and last-generation image)" : "");
    std::vector<std::optional<InputError>> failures(run.prompts.size());
    {
      Progress progress("privacy: pixel distances", run.prompts.size(), log.progress());
      parallel_for(
          run.prompts.size(), o.threads,
          [&](std::size_t i) {
            try {
              run.prompts[i].pixel = prompt_pixel_distances(train, generations, run.prompts[i], o);
            } catch (const InputError& e) {
              failures[i] = e;
            }
          },
          &progress);
    }
    for (const auto& f : failures)
      if (f) throw *f;
    for (std::size_t x = 1; x < spaces.size(); ++x) {
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
  for (std::size_t x = 0; x < spaces.size(); ++x) {
    const auto& out = spaces[x].outputs.front();
    const Rows train_rows(measured[x].train), gen_rows(measured[x].generations);
    const MatrixD t = train_rows.matrix(train_kept, out.offset, out.dim);
    const MatrixD g = gen_rows.matrix(generations_kept, out.offset, out.dim);
    const auto where_train = train.source.string(), where_generations = generations.source.string();
    const metrics::CosineNeighbours near =
        metrics::nearest_by_cosine(g.view(), t.view(), 1, {}, where_generations, where_train);
    SpaceSearch s;
    s.space = spaces[x].space();
    s.generated_samples = generations_kept;
    for (std::size_t i = 0; i < generations_kept.size(); ++i) {
      s.generated_similarity.push_back(near.best(i));
      s.generated_nearest.push_back(train_kept[near.best_index(i)]);
    }
    const MetricKey key{Metric::copy_rate, s.space};
    std::optional<MatrixD> holdout_matrix;
    if (holdout) holdout_matrix = Rows(measured[x].holdout).matrix(holdout_kept, out.offset, out.dim);
    r.overall.records.push_back(nndr_record(train, train_kept, t, g, holdout_matrix ? &*holdout_matrix : nullptr,
                                            s.space, o, where_generations));
    if (halves) {
      const MatrixD& h = *holdout_matrix;
      const metrics::CosineNeighbours hn =
          metrics::nearest_by_cosine(h.view(), t.view(), 1, {}, holdout->source.string(), where_train);
      std::vector<double> calibration, null;
      for (std::size_t i : halves->reference) calibration.push_back(hn.best(i));
      for (std::size_t i : halves->held_out) null.push_back(hn.best(i));
      s.rate = metrics::calibrated_copy_rate(s.generated_similarity, calibration, null, o.quantile, o.confidence);
      const metrics::CopyRate& c = *s.rate;
      r.overall.records.push_back(copy_rate_record(key, c, o));
      std::vector<FlaggedPair> flagged;
      for (std::size_t i = 0; i < s.generated_similarity.size(); ++i)
        if (s.generated_similarity[i] > c.threshold) {
          const std::size_t gen = s.generated_samples[i], tr = s.generated_nearest[i];
          flagged.push_back({gen, tr, s.space, s.generated_similarity[i], c.threshold, links[gen] == tr});
        }
      std::stable_sort(flagged.begin(), flagged.end(),
                       [](const FlaggedPair& a, const FlaggedPair& b) { return a.similarity > b.similarity; });
      run.flagged.insert(run.flagged.end(), flagged.begin(), flagged.end());
      r.overall.records.push_back(membership_record(train, train_kept, t, *holdout, holdout_kept, h, g, s.space, o));
      log.info(
          "privacy: {}: {} of {} generations above τ = {:.6g} ({:.4g}; held-out null {:.4g}; an unseen image "
          "{:.4g} to {:.4g})",
          s.space, c.generated.above, c.generated.n, c.threshold, c.generated.rate, c.null.rate, c.exchangeable.low,
          c.exchangeable.high);
    } else {
      r.overall.records.push_back({key,
                                   std::nullopt,
                                   "no held-out images (--holdout): nothing to calibrate the threshold on",
                                   std::nullopt,
                                   {}});
      r.overall.records.push_back({{Metric::membership_auc, s.space},
                                   std::nullopt,
                                   "no held-out images (--holdout): no non-members",
                                   std::nullopt,
                                   {}});
    }
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
                             {"reid_threshold", o.reid_threshold}};
  nlohmann::ordered_json described = nlohmann::ordered_json::array();
  for (const auto& x : spaces) described.push_back({{"space", x.space()}, {"description", x.description}});
  if (reid) described.push_back({{"space", "Re-ID"}, {"description", reid->branch.description}});
  r.provenance["extractors"] = described;
  r.overall.details["n_holdout"] = holdout_kept.size();
  r.overall.details["n_flagged"] = run.flagged.size();
  return run;
}

std::vector<std::string> per_prompt_csv(const PrivacyRun& run, const Dataset& train, const Dataset& generations) {
  const auto suffix = [](const std::string& space) { return space == "RadDino" ? "" : " (" + space + ")"; };
  std::vector<std::string> header = {"Real Path", "Prompt", "Generations"};
  if (run.with_reid)
    for (const char* c : {"Mean_reid_scores", "Max_reid_scores", "Highest_reid_generation"}) header.push_back(c);
  for (const char* c : {"Mean_pixel_distance", "Min_pixel_distance", "Nearest_pixel_generation"}) header.push_back(c);
  for (const auto& space : run.latent_spaces) {
    header.push_back("Mean_latent_distance" + suffix(space));
    header.push_back("Min_latent_distance" + suffix(space));
    header.push_back("Nearest_latent_generation" + suffix(space));
  }
  std::vector<std::string> lines = {csv_record(header)};
  const auto nearest = [&](const PromptRow& p, const std::vector<double>& d) {
    const std::size_t i = static_cast<std::size_t>(std::min_element(d.begin(), d.end()) - d.begin());
    return generations.samples[p.generations[i]].image_ref;
  };
  for (const PromptRow& p : run.prompts) {
    const Sample& t = train.samples[p.train];
    std::vector<std::string> f = {t.image_ref, t.prompt.value_or(""), std::to_string(p.generations.size())};
    if (run.with_reid) {
      const auto highest = std::max_element(p.reid.begin(), p.reid.end());
      f.push_back(fmt::format("{}", mean_of(p.reid)));
      f.push_back(fmt::format("{}", *highest));
      f.push_back(generations.samples[p.generations[static_cast<std::size_t>(highest - p.reid.begin())]].image_ref);
    }
    f.push_back(fmt::format("{}", mean_of(p.pixel)));
    f.push_back(fmt::format("{}", *std::min_element(p.pixel.begin(), p.pixel.end())));
    f.push_back(nearest(p, p.pixel));
    for (const auto& d : p.latent) {
      f.push_back(fmt::format("{}", mean_of(d)));
      f.push_back(fmt::format("{}", *std::min_element(d.begin(), d.end())));
      f.push_back(nearest(p, d));
    }
    lines.push_back(csv_record(f));
  }
  return lines;
}

std::vector<std::string> flagged_pairs_csv(const PrivacyRun& run, const Dataset& train, const Dataset& generations) {
  std::vector<std::string> lines = {
      csv_record({"generation", "training_image", "generation_patient", "training_patient", "same_patient", "space",
                  "similarity", "threshold", "own_prompt", "tiled_distance"})};
  for (const FlaggedPair& f : run.flagged) {
    const Sample& g = generations.samples[f.generation];
    const Sample& t = train.samples[f.train];
    const std::string same = g.patient_id && t.patient_id ? (*g.patient_id == *t.patient_id ? "yes" : "no") : "";
    lines.push_back(csv_record({g.image_ref, t.image_ref, g.patient_id.value_or(""), t.patient_id.value_or(""), same,
                                f.space, fmt::format("{}", f.similarity), fmt::format("{}", f.threshold),
                                f.linked ? "yes" : "no", fmt::format("{}", f.tiled_distance)}));
  }
  return lines;
}

}  // namespace chexgen::privacy
