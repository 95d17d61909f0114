// The calibrated search of the whole training set in one feature space: the copy rate, the patient-aware NNDR rate,
// membership inference, and the flagged pairs with Carlini et al.'s tiled distance.
#include "chexgen/privacy/privacy_pvt.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/log.h"
#include "chexgen/core/parallel.h"

#include "chexgen/data/csv_table.h"
#include "chexgen/metrics/data_copying.h"
#include "chexgen/metrics/frd.h"
#include "chexgen/metrics/sampling.h"

namespace chexgen::privacy {
namespace {

using results::Metric;
using results::MetricKey;
using results::MetricRecord;

nlohmann::ordered_json rate_json(const metrics::Rate& r) {
  return {{"above", r.above},
          {"n", r.n},
          {"rate", r.rate},
          {"interval", {{"low", r.interval.low}, {"high", r.interval.high}}}};
}

inline constexpr double kNndrThreshold = 1.0 / 3.0;  // DiffMemorize's mem_ratio threshold

// 0, 1, ..., n − 1.
std::vector<std::size_t> indices(std::size_t n) {
  std::vector<std::size_t> v(n);
  std::iota(v.begin(), v.end(), std::size_t{0});
  return v;
}

// The given rows of m, in the given order.
MatrixD rows_at(const MatrixD& m, const std::vector<std::size_t>& rows) {
  MatrixD out(rows.size(), m.cols());
  for (std::size_t i = 0; i < rows.size(); ++i) std::copy(m.row(rows[i]), m.row(rows[i]) + m.cols(), out.row(i));
  return out;
}

// Said when the held-out null half exceeds τ more often than an unseen image can (its whole interval above the
// exchangeable range): the held-out images are not exchangeable with each other (patients with many images, mixed
// sources), so τ has more spread than the ranks say and `excess` overstates; the null half's rate is the baseline.
std::string nonexchangeable_warning(const metrics::CopyRate& c) {
  return fmt::format(
      "the held-out null half is above τ at {:.4g} [{:.4g}, {:.4g}], more often than an unseen image can be "
      "({:.4g} to {:.4g}): the held-out images are not exchangeable (patients with many images? another source?); "
      "compare the generations' rate with the null half's (excess_over_null) rather than with the exchangeable range",
      c.null.rate, c.null.interval.low, c.null.interval.high, c.exchangeable.low, c.exchangeable.high);
}

}  // namespace

// Distance-based membership inference in one space: n training images (members) and n held-out images
// (non-members), n the smaller count, each chosen by a seeded draw from the samples ordered by id (so the choice does
// not depend on the order of the rows); each scored by its most similar generation. The calibrated variant scores
// x by s_G(x) − s_R(x), its similarity to the most similar generation less that to the most similar image of a
// separate real reference set R (how typical x is of real radiographs): non-members from the null half of the
// held-out images, R its calibration half.
MetricRecord membership_record(const Dataset& train, const std::vector<std::size_t>& train_kept, const MatrixD& t,
                               const Dataset& holdout, const std::vector<std::size_t>& holdout_kept, const MatrixD& h,
                               const fidelity::Split& halves, const MatrixD& g, const std::string& space,
                               const PrivacyOptions& o) {
  // n rows of `rows` (rows of the samples `kept`, or of the subset `among` of them), drawn by id.
  const auto pick = [&](const Dataset& d, const std::vector<std::size_t>& kept, const std::vector<std::size_t>& among,
                        const MatrixD& rows, std::size_t n, std::uint64_t stream) {
    std::vector<std::size_t> by_id = among;
    std::sort(by_id.begin(), by_id.end(),
              [&](std::size_t a, std::size_t b) { return d.samples[kept[a]].id < d.samples[kept[b]].id; });
    std::vector<std::size_t> chosen = metrics::IndexSampler(o.seed ^ stream).without_replacement(by_id.size(), n);
    for (std::size_t& c : chosen) c = by_id[c];
    return rows_at(rows, chosen);
  };
  const auto best = [](const MatrixD& x, const MatrixD& y) {
    const auto near = metrics::nearest_by_cosine(x.view(), y.view(), 1);
    std::vector<double> s(x.rows());
    for (std::size_t i = 0; i < x.rows(); ++i) s[i] = near.best(i);
    return s;
  };
  const auto attack = [](const std::vector<double>& members, const std::vector<double>& others) {
    return nlohmann::ordered_json{{"auc", metrics::roc_auc(members, others)},
                                  {"tpr_at_fpr",
                                   {{"0.01", metrics::tpr_at_fpr(members, others, 0.01)},
                                    {"0.001", metrics::tpr_at_fpr(members, others, 0.001)}}}};
  };
  const std::size_t n = std::min(train_kept.size(), holdout_kept.size());
  const MatrixD members = pick(train, train_kept, indices(train_kept.size()), t, n, 0x6d656d62ULL),
                others = pick(holdout, holdout_kept, indices(holdout_kept.size()), h, n, 0x686f6c64ULL);
  const std::vector<double> member_scores = best(members, g), other_scores = best(others, g);
  const auto plain = attack(member_scores, other_scores);
  MetricRecord rec{{Metric::membership_auc, space}, plain["auc"].get<double>(), "", std::nullopt, {}};
  rec.details["members"] = n;
  rec.details["non_members"] = n;
  rec.details["score"] = "cosine similarity to the most similar generation";
  rec.details["tpr_at_fpr"] = plain["tpr_at_fpr"];

  const std::size_t nc = std::min(train_kept.size(), halves.held_out.size());
  if (nc == 0 || halves.reference.empty()) {
    rec.details["calibrated"] = "no null half or no reference half of the held-out images";
    return rec;
  }
  const MatrixD reference = rows_at(h, halves.reference);
  const MatrixD cm = pick(train, train_kept, indices(train_kept.size()), t, nc, 0x63616c6dULL),
                co = pick(holdout, holdout_kept, halves.held_out, h, nc, 0x63616c6fULL);
  const auto calibrated = [&](const MatrixD& x) {
    std::vector<double> to_g = best(x, g), to_r = best(x, reference);
    for (std::size_t i = 0; i < to_g.size(); ++i) to_g[i] -= to_r[i];
    return to_g;
  };
  nlohmann::ordered_json c = attack(calibrated(cm), calibrated(co));
  c["members"] = nc;
  c["non_members"] = nc;
  c["reference"] = halves.reference.size();
  c["score"] = "similarity to the most similar generation less that to the most similar reference image";
  rec.details["calibrated"] = c;
  return rec;
}

// A calibrated rate (copy rate, re-identification rate) with everything that says what it means.
MetricRecord calibrated_rate_record(const MetricKey& key, const metrics::CopyRate& c, const PrivacyOptions& o) {
  MetricRecord rec{key, c.generated.rate, "", c.generated.interval, {}};
  rec.details["interval"] = fmt::format("Clopper-Pearson, {}", o.confidence);
  rec.details["quantile"] = c.quantile;
  rec.details["threshold"] = c.threshold;
  rec.details["generated"] = rate_json(c.generated);
  rec.details["null"] = rate_json(c.null);
  rec.details["nominal"] = 1.0 - c.quantile;
  rec.details["exchangeable"] = {{"low", c.exchangeable.low}, {"high", c.exchangeable.high}};
  rec.details["excess"] = c.excess;
  rec.details["excess_over_null"] = c.generated.rate - c.null.rate;
  if (c.null.interval.low > c.exchangeable.high)
    rec.details["warning"] = nonexchangeable_warning(c);
  rec.details["calibration_size"] = c.calibration_size;
  rec.details["similarity"] = {{"median_generated", c.median_generated},
                               {"p95_generated", c.p95_generated},
                               {"median_null", c.median_null},
                               {"p95_null", c.p95_null}};
  return rec;
}

// Re-identification of the prompt's own patient: each linked generation's highest score against the training images
// of its training image's patient (that image included), beside the best over all training images.
void add_own_patient_scores(MetricRecord& rec, const SpaceSearch& s, const Dataset& train,
                            const std::vector<std::size_t>& train_kept, const MatrixD& t, const MatrixD& g,
                            const std::vector<std::optional<std::size_t>>& links, const ReidHead& head,
                            const PrivacyOptions& o) {
  std::map<std::string, std::vector<std::size_t>> rows_of_patient;  // rows of t
  for (std::size_t i = 0; i < train_kept.size(); ++i)
    if (const auto& p = train.samples[train_kept[i]].patient_id) rows_of_patient[*p].push_back(i);
  std::vector<double> own;
  std::size_t best_is_own = 0;
  for (std::size_t i = 0; i < s.generated_samples.size(); ++i) {
    const auto& link = links[s.generated_samples[i]];
    if (!link) continue;
    const auto& patient = train.samples[*link].patient_id;
    if (!patient || !rows_of_patient.count(*patient)) continue;
    double top = 0;
    for (std::size_t row : rows_of_patient.at(*patient))
      top = std::max(top, head.score({g.row(i), g.cols()}, {t.row(row), t.cols()}));
    own.push_back(top);
    if (train.samples[s.generated_nearest[i]].patient_id == patient) ++best_is_own;
  }
  if (own.empty()) {
    rec.details["own_patient"] = "no generation is linked to a training image with a patient id";
    return;
  }
  nlohmann::ordered_json j;
  j["generations"] = own.size();
  double sum = 0;
  for (double v : own) sum += v;
  j["mean"] = sum / static_cast<double>(own.size());
  j["best_is_own_patient"] = best_is_own;
  if (s.rate) {
    const auto above = static_cast<std::size_t>(
        std::count_if(own.begin(), own.end(), [&](double v) { return v > s.rate->threshold; }));
    j["above_threshold"] = rate_json(metrics::binomial_rate(above, own.size(), o.confidence));
  }
  rec.details["own_patient"] = j;
}

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

// Meehan et al.'s C_T in one space, on unit-length rows: the calibration half of the held-out images is the test
// sample, the generations and then the null half are tested against it in the same cells.
MetricRecord data_copying_record(const MatrixD& t, const MatrixD& g, const MatrixD& h, const fidelity::Split& halves,
                                 const std::string& space, const PrivacyOptions& o, const std::string& train_name,
                                 const std::string& generations_name) {
  const MetricKey key{Metric::data_copying, space};
  if (t.rows() < 2) return {key, std::nullopt, "fewer than 2 training images", std::nullopt, {}};
  const MatrixD train = metrics::unit_rows(t.view(), train_name),
                generated = metrics::unit_rows(g.view(), generations_name);
  const MatrixD test = metrics::unit_rows(rows_at(h, halves.reference).view(), "held-out images"),
                null = metrics::unit_rows(rows_at(h, halves.held_out).view(), "held-out images");
  metrics::DataCopyingOptions dc;
  dc.seed = o.seed;
  const MatrixViewD null_view = null.view();
  const metrics::DataCopyingTest result =
      metrics::data_copying_test(train.view(), test.view(), generated.view(), null.rows() ? &null_view : nullptr, dc);
  const auto cells_json = [](const metrics::DataCopying& d) {
    nlohmann::ordered_json cells = nlohmann::ordered_json::array();
    for (const auto& c : d.cells) {
      nlohmann::ordered_json j = {
          {"train", c.train}, {"test", c.test}, {"generated", c.generated}, {"counted", c.counted}};
      j["zu"] = c.zu ? nlohmann::ordered_json(*c.zu) : nlohmann::ordered_json();
      cells.push_back(j);
    }
    return cells;
  };
  const std::string none = fmt::format("no cell holds more than {} of the generations (τ = {}/m)", dc.min_generated,
                                       dc.min_generated);
  MetricRecord rec{key, result.generated.c_t, result.generated.c_t ? "" : none, std::nullopt, {}};
  rec.details["components"] = result.components;
  rec.details["explained_variance"] = result.explained;
  rec.details["cells"] = result.cells;
  rec.details["test_images"] = test.rows();
  rec.details["tau"] = result.generated.tau;
  rec.details["per_cell"] = cells_json(result.generated);
  if (result.null) {
    if (result.null->c_t)
      rec.details["null"] = {{"c_t", *result.null->c_t}, {"images", null.rows()}, {"tau", result.null->tau}};
    else
      rec.details["null"] = {{"c_t", nullptr},
                             {"images", null.rows()},
                             {"skipped", fmt::format("no cell holds more than {} of the null half's {} images",
                                                     dc.min_generated, null.rows())}};
  }
  return rec;
}

// Radiomic features made comparable by cosine: z-scored with the training images' column means and population
// standard deviations, as FRD does (metrics::standardise_with_real), the columns with a non-finite value in any
// image (or constant over the training set) left out. The generations and the held-out images are standardised
// together so that both keep the same columns.
nlohmann::ordered_json standardise_radiomics(MatrixD& t, MatrixD& g, MatrixD* h) {
  const std::size_t hg = h ? h->rows() : 0, d = t.cols();
  MatrixD others(g.rows() + hg, d);
  std::copy(g.values().begin(), g.values().end(), others.data());
  if (h) std::copy(h->values().begin(), h->values().end(), others.data() + g.rows() * d);
  metrics::StandardisedFeatures z =
      metrics::standardise_with_real(t.view(), indices(t.rows()), others.view(), indices(others.rows()));
  const std::size_t used = z.columns_used.size();
  if (used == 0)
    throw InputError(Location{"radiomic features"},
                     "no radiomic feature is finite for every image and varies over the training set");
  t = std::move(z.real);
  g = MatrixD(g.rows(), used, std::vector<double>(z.synthetic.data(), z.synthetic.data() + g.rows() * used));
  if (h)
    *h = MatrixD(hg, used, std::vector<double>(z.synthetic.data() + g.rows() * used, z.synthetic.data() + (g.rows() + hg) * used));
  return {{"standardised", "z-scored with the training images' means and standard deviations"},
          {"columns_used", used},
          {"columns_left_out", z.columns_dropped.size()}};
}

// Carlini et al.'s tiled distance of every flagged pair, on the two images in gray at the pixel distances' size.
void add_tiled_distances(std::vector<FlaggedPair>& pairs, const Dataset& train, const Dataset& generations,
                         const PrivacyOptions& o, const Log& log) {
  if (pairs.empty()) return;
  const auto gray = [&](const Dataset& d, std::size_t i) {
    return pixel_image(d, d.samples[i], o.pixel_side, ColorMode::gray);
  };
  for_each_image_task(pairs.size(), o.threads, "privacy: tiled distances of the flagged pairs", log,
                      [&](std::size_t i) {
                        const Image8 a = gray(generations, pairs[i].generation), b = gray(train, pairs[i].train);
                        pairs[i].tiled_distance = metrics::tiled_pixel_distance(a.data, b.data, a.width, a.height, 1);
                      });
}

std::vector<std::string> flagged_pairs_csv(const PrivacyRun& run, const Dataset& train, const Dataset& generations,
                                           std::size_t sheet_pairs) {
  std::vector<std::string> lines = {
      csv_record({"generation", "training_image", "generation_patient", "training_patient", "same_patient", "space",
                  "similarity", "threshold", "own_prompt", "tiled_distance", "contact_sheet"})};
  for (std::size_t i = 0; i < run.flagged.size(); ++i) {
    const FlaggedPair& f = run.flagged[i];
    const Sample& g = generations.samples[f.generation];
    const Sample& t = train.samples[f.train];
    const std::string same = g.patient_id && t.patient_id ? (*g.patient_id == *t.patient_id ? "yes" : "no") : "";
    lines.push_back(csv_record({g.image_ref, t.image_ref, g.patient_id.value_or(""), t.patient_id.value_or(""), same,
                                f.space, fmt::format("{}", f.similarity), fmt::format("{}", f.threshold),
                                f.linked ? "yes" : "no", fmt::format("{}", f.tiled_distance),
                                i < sheet_pairs ? fmt::format("{}", i + 1) : ""}));
  }
  return lines;
}

}  // namespace chexgen::privacy
