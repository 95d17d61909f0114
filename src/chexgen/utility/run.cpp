#include "chexgen/utility/run.h"

#include <algorithm>
#include <cmath>
#include <map>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/version.h"
#include "chexgen/data/csv_table.h"
#include "chexgen/data/link.h"
#include "chexgen/metrics/bootstrap.h"
#include "chexgen/metrics/sampling.h"

namespace chexgen::utility {
namespace {

using results::Metric;
using results::MetricRecord;

std::uint8_t positive(const Sample& s, std::size_t label_index) {
  return s.labels.at(label_index) == LabelValue::positive ? 1 : 0;
}

struct Bootstrapped {
  std::optional<metrics::Interval> auroc, average_precision;
  std::vector<std::optional<metrics::Interval>> label_auroc;
  std::size_t groups = 0;
};

// Test rows resampled by patient (rows without a patient id are their own group), `resamples` times; each time the
// macro AUROC and average precision over the labels with both classes in the resample, and each label's AUROC.
Bootstrapped bootstrap_by_patient(const Dataset& test, const std::vector<std::size_t>& test_samples,
                                  const std::vector<std::uint8_t>& truth, MatrixViewD probabilities,
                                  const ScoringOptions& o) {
  Bootstrapped b;
  std::map<std::string, std::vector<std::size_t>> groups;
  for (std::size_t r = 0; r < test_samples.size(); ++r) {
    const Sample& s = test.samples[test_samples[r]];
    groups[s.patient_id ? "1" + *s.patient_id : "0" + s.id].push_back(r);
  }
  std::vector<const std::vector<std::size_t>*> members;
  for (const auto& [key, rows] : groups) members.push_back(&rows);
  b.groups = members.size();
  const std::size_t labels = probabilities.cols;
  b.label_auroc.resize(labels);
  if (o.bootstrap == 0 || members.size() < 2) return b;
  metrics::IndexSampler sampler(o.seed);
  std::vector<double> macro_auroc, macro_ap;
  std::vector<std::vector<double>> per_label(labels);
  std::vector<std::uint8_t> t;
  std::vector<double> s;
  for (std::size_t k = 0; k < o.bootstrap; ++k) {
    std::vector<std::size_t> rows;
    for (std::size_t g : sampler.with_replacement(members.size(), members.size()))
      rows.insert(rows.end(), members[g]->begin(), members[g]->end());
    t.resize(rows.size());
    s.resize(rows.size());
    double sum_auroc = 0, sum_ap = 0;
    std::size_t with_both = 0;
    for (std::size_t l = 0; l < labels; ++l) {
      std::size_t pos = 0;
      for (std::size_t i = 0; i < rows.size(); ++i) {
        t[i] = truth[rows[i] * labels + l];
        s[i] = probabilities(rows[i], l);
        pos += t[i];
      }
      if (pos == 0 || pos == rows.size()) continue;
      const double a = metrics::roc_auc(t, s);
      sum_auroc += a;
      sum_ap += metrics::average_precision(t, s);
      per_label[l].push_back(a);
      ++with_both;
    }
    if (with_both == 0) continue;
    macro_auroc.push_back(sum_auroc / static_cast<double>(with_both));
    macro_ap.push_back(sum_ap / static_cast<double>(with_both));
  }
  if (!macro_auroc.empty()) {
    b.auroc = metrics::percentile_interval(macro_auroc, o.confidence);
    b.average_precision = metrics::percentile_interval(macro_ap, o.confidence);
  }
  for (std::size_t l = 0; l < labels; ++l)
    if (!per_label[l].empty()) b.label_auroc[l] = metrics::percentile_interval(per_label[l], o.confidence);
  return b;
}

nlohmann::ordered_json optional_json(const std::optional<double>& v) {
  return v ? nlohmann::ordered_json(*v) : nlohmann::ordered_json();
}

nlohmann::ordered_json scores_json(const metrics::MultilabelScores& s) {
  nlohmann::ordered_json j;
  j["accuracy"] = s.accuracy;
  j["precision_micro"] = s.micro.precision;
  j["recall_micro"] = s.micro.recall;
  j["f1_micro"] = s.micro.f1;
  j["precision_macro"] = s.macro.precision;
  j["recall_macro"] = s.macro.recall;
  j["f1_macro"] = s.macro.f1;
  j["auc_macro"] = optional_json(s.macro_auroc);
  j["average_precision_macro"] = optional_json(s.macro_average_precision);
  return j;
}

std::string number(double v) { return fmt::format("{}", v); }
std::string optional_number(const std::optional<double>& v) { return v ? number(*v) : "nan"; }

}  // namespace

UtilityRun start_run(const Dataset* real, const Dataset* synthetic, const Dataset& test,
                     const TrainingSetOptions& training, const std::vector<std::string>& labels,
                     const std::string& generator, bool synthetic_named, double threshold) {
  UtilityRun run;
  run.threshold = threshold;
  run.training = build_training_set(real, synthetic, training);
  const Dataset& source = real != nullptr ? *real : *synthetic;
  run.labels = labels.empty() ? source.labels.names() : labels;
  for (const std::string& name : run.labels) {
    if (!source.labels.index(name))
      throw UsageError(fmt::format("--labels: '{}' is not a label of {} (its labels: {})", name, source.source.string(),
                                   source.labels.joined()));
    if (!test.labels.index(name))
      throw InputError(Location{test.source.string()},
                       fmt::format("the test images have no label '{}' (their labels: {}); give --test-label-set or "
                                   "--labels",
                                   name, test.labels.joined()));
  }
  if (run.labels.empty()) throw UsageError(fmt::format("{} has no labels to classify", source.source.string()));
  if (test.samples.empty()) throw InputError(Location{test.source.string()}, "no test images");
  if (synthetic_named) {  // prompt–label agreement
    if (synthetic == nullptr)
      throw UsageError("--agreement scores the synthetic images (--train-synthetic) against their prompts' labels");
    if (run.training.setting != Setting::all_original)
      throw UsageError("--agreement needs a classifier trained on real images only: --setting all_original");
  }
  const bool uses_synthetic =
      std::any_of(run.training.rows.begin(), run.training.rows.end(), [](const TrainingRow& r) { return r.synthetic; });
  results::Results& res = run.results;
  res.evaluation = "utility";
  res.generator = !generator.empty() ? generator
                  : synthetic != nullptr && (uses_synthetic || synthetic_named)
                      ? synthetic->source.parent_path().filename().string()
                      : source.source.parent_path().filename().string();
  res.per_label.resize(run.labels.size());
  for (std::size_t l = 0; l < run.labels.size(); ++l) res.per_label[l].label = run.labels[l];
  return run;
}

std::uint8_t row_truth(const UtilityRun& run, const Dataset* real, const Dataset* synthetic, const TrainingRow& row,
                       std::size_t l) {
  const Pair& p = run.training.pairs[row.pair];
  const Dataset& owner = p.real ? *real : *synthetic;
  return positive(owner.samples[p.real ? *p.real : *p.synthetic], *owner.labels.index(run.labels[l]));
}

std::vector<std::uint8_t> prompt_truth(const UtilityRun& run, const Dataset& real, const Dataset& synthetic,
                                       const std::string& source_column) {
  const auto prompt_rows = link_generations(real, synthetic, source_column);
  std::vector<std::uint8_t> truth;
  for (std::size_t g = 0; g < synthetic.samples.size(); ++g)
    for (std::size_t l = 0; l < run.labels.size(); ++l) {
      if (prompt_rows[g]) {
        truth.push_back(positive(real.samples[*prompt_rows[g]], *real.labels.index(run.labels[l])));
        continue;
      }
      const auto index = synthetic.labels.index(run.labels[l]);
      if (!index)
        throw InputError(sample_location(synthetic, synthetic.samples[g]),
                         fmt::format("names no real row and its manifest has no label '{}'", run.labels[l]));
      truth.push_back(positive(synthetic.samples[g], *index));
    }
  return truth;
}

void set_test_rows(UtilityRun& run, const Dataset& test, const std::vector<std::size_t>& samples,
                   const std::string& what) {
  if (run.classifiers.empty() && run.test_truth.empty()) {
    run.test_samples = samples;
    for (std::size_t s : samples)
      for (const std::string& name : run.labels)
        run.test_truth.push_back(positive(test.samples[s], *test.labels.index(name)));
    run.results.overall.n_real = samples.size();
    return;
  }
  if (samples != run.test_samples)
    throw InputError(Location{test.source.string()},
                     fmt::format("{} left out other test images than the first classifier", what));
}

void choose_labels(TestedClassifier& c, const UtilityRun& run, const std::vector<std::uint8_t>& train_truth,
                   std::size_t n, const std::string& source) {
  const std::size_t labels = run.labels.size();
  for (std::size_t l = 0; l < labels; ++l) {
    std::size_t pos = 0;
    for (std::size_t i = 0; i < n; ++i) pos += train_truth[i * labels + l];
    if (pos == 0 || pos == n)
      c.skipped.push_back(
          fmt::format("{}: every training row is {}", run.labels[l], pos == 0 ? "negative" : "positive"));
    else
      c.fitted.push_back(l);
  }
  if (c.fitted.empty()) throw InputError(Location{source}, "no label has both classes among the training rows");
}

std::vector<std::uint8_t> select_labels(const std::vector<std::uint8_t>& truth, std::size_t n, std::size_t labels,
                                        const std::vector<std::size_t>& fitted) {
  std::vector<std::uint8_t> out;
  out.reserve(n * fitted.size());
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t l : fitted) out.push_back(truth[i * labels + l]);
  return out;
}

void add_classifier(UtilityRun& run, const Dataset& test, TestedClassifier c,
                    const std::vector<std::uint8_t>& validation_truth, MatrixViewD validation_probabilities,
                    const ScoringOptions& o) {
  const std::size_t n_test = run.test_samples.size(), k_labels = c.fitted.size();
  CHEXGEN_ASSERT(c.test_probabilities.rows() == n_test && c.test_probabilities.cols() == k_labels,
                 "add_classifier: the probabilities are not test rows x fitted labels");
  const std::vector<std::uint8_t> test_truth = select_labels(run.test_truth, n_test, run.labels.size(), c.fitted);
  c.test = metrics::multilabel_scores(test_truth, c.test_probabilities, o.threshold);
  if (validation_probabilities.rows > 0)
    c.validation = metrics::multilabel_scores(validation_truth, validation_probabilities, o.threshold);
  std::vector<std::uint8_t> column(n_test);
  std::vector<double> scores(n_test);
  for (std::size_t k = 0; k < k_labels; ++k) {
    if (!c.test.auroc[k]) {
      c.roc.emplace_back();
      continue;
    }
    for (std::size_t i = 0; i < n_test; ++i) {
      column[i] = test_truth[i * k_labels + k];
      scores[i] = c.test_probabilities(i, k);
    }
    c.roc.push_back(metrics::roc_curve(column, scores));
  }
  const Bootstrapped boot = bootstrap_by_patient(test, run.test_samples, test_truth, c.test_probabilities, o);

  results::Results& res = run.results;
  std::vector<std::string> one_class;
  for (std::size_t k = 0; k < k_labels; ++k)
    if (!c.test.auroc[k]) one_class.push_back(run.labels[c.fitted[k]]);
  MetricRecord auroc{{Metric::utility_auroc, c.space}, c.test.macro_auroc, "", boot.auroc, {}};
  if (!auroc.value) auroc.skipped = "no classified label has both classes among the test images";
  auroc.details["labels"] = k_labels - one_class.size();
  auroc.details["labels_one_class_in_test"] = one_class;
  auroc.details["labels_not_classified"] = c.skipped;
  auroc.details["bootstrap"] = {{"resamples", o.bootstrap}, {"by", "patient"}, {"groups", boot.groups}};
  MetricRecord ap{
      {Metric::utility_average_precision, c.space}, c.test.macro_average_precision, "", boot.average_precision, {}};
  if (!ap.value) ap.skipped = auroc.skipped;
  MetricRecord f1{{Metric::utility_f1, c.space}, c.test.macro.f1, "", std::nullopt, {}};
  f1.details["threshold"] = o.threshold;
  f1.details["test"] = scores_json(c.test);
  if (validation_probabilities.rows > 0) f1.details["validation"] = scores_json(c.validation);
  for (auto* rec : {&auroc, &ap, &f1}) {
    res.columns.push_back(rec->key);
    res.overall.records.push_back(*rec);
  }
  if (c.agreement) {
    MetricRecord agree{{Metric::prompt_agreement, c.space}, c.agreement->macro_auroc, "", std::nullopt, {}};
    if (!agree.value) agree.skipped = "no classified label has both classes among the synthetic images' prompts";
    agree.details["synthetic_images"] = c.agreement_images;
    agree.details["real_test_auroc"] = optional_json(auroc.value);
    agree.details["scores"] = scores_json(*c.agreement);
    res.columns.push_back(agree.key);
    res.overall.records.push_back(std::move(agree));
  }
  for (std::size_t k = 0; k < k_labels; ++k) {
    results::Comparison& cmp = res.per_label[c.fitted[k]];
    cmp.n_real = n_test;
    const metrics::PrecisionRecallF1& p = c.test.per_label[k];
    MetricRecord la{{Metric::utility_auroc, c.space}, c.test.auroc[k], "", boot.label_auroc[k], {}};
    if (!la.value) la.skipped = "one class among the test images";
    la.details["positives"] = p.support;
    MetricRecord lap{{Metric::utility_average_precision, c.space}, c.test.average_precision[k], "", {}, {}};
    if (!lap.value) lap.skipped = la.skipped;
    MetricRecord lf{{Metric::utility_f1, c.space}, p.f1, "", {}, {}};
    lf.details["precision"] = p.precision;
    lf.details["recall"] = p.recall;
    cmp.records.push_back(std::move(la));
    cmp.records.push_back(std::move(lap));
    cmp.records.push_back(std::move(lf));
    if (c.agreement) {
      MetricRecord lg{{Metric::prompt_agreement, c.space}, c.agreement->auroc[k], "", {}, {}};
      if (!lg.value) lg.skipped = "one class among the synthetic images' prompts";
      cmp.records.push_back(std::move(lg));
    }
  }
  res.overall.details["classifiers"][c.space] = c.details;
  run.classifiers.push_back(std::move(c));
}

void finish_run(UtilityRun& run, const Dataset* real, const Dataset* synthetic, const Dataset& test,
                nlohmann::ordered_json options, nlohmann::ordered_json classifiers) {
  const TrainingSet& t = run.training;
  results::Results& res = run.results;
  std::size_t synthetic_rows = 0;
  for (const auto& r : t.rows) synthetic_rows += r.synthetic ? 1 : 0;
  res.overall.n_synthetic = synthetic_rows;
  res.overall.details["setting"] = setting_name(t.setting);
  res.overall.details["protocol"] = protocol_name(t.protocol);
  res.overall.details["pairs"] = t.pairs.size();
  res.overall.details["prompts_deduplicated"] = t.prompts_deduplicated;
  res.overall.details["training_rows"] = t.train.size();
  res.overall.details["validation_rows"] = t.validation.size();
  if (t.protocol == Protocol::fixed)
    res.overall.details["validation_groups"] = {{"chosen", t.validation_groups}, {"of", t.groups}};
  res.overall.details["labels"] = run.labels;
  res.provenance["chexgen"] = version_string();
  res.provenance["train_real"] = real != nullptr ? real->source.string() : "";
  res.provenance["train_synthetic"] = synthetic != nullptr ? synthetic->source.string() : "";
  res.provenance["test"] = test.source.string();
  res.provenance["options"] = std::move(options);
  res.provenance["classifiers"] = std::move(classifiers);
}

UtilityRun combine_seeds(std::vector<UtilityRun> runs, const std::vector<std::uint64_t>& seeds) {
  CHEXGEN_ASSERT(!runs.empty() && runs.size() == seeds.size(), "combine_seeds: one seed per run");
  UtilityRun out = runs.front();
  out.classifiers.clear();
  auto combine = [&](results::Comparison& into, auto comparison_of) {
    for (results::MetricRecord& rec : into.records) {
      std::vector<double> values;
      nlohmann::ordered_json per_seed = nlohmann::ordered_json::object();
      for (std::size_t i = 0; i < runs.size(); ++i) {
        const results::MetricRecord* r = comparison_of(runs[i]).find(rec.key);
        const std::optional<double> v = r ? r->value : std::nullopt;
        per_seed[std::to_string(seeds[i])] = optional_json(v);
        if (v) values.push_back(*v);
      }
      rec.interval.reset();
      rec.details["seeds"] = per_seed;
      if (values.size() != runs.size()) {
        rec.value.reset();
        if (rec.skipped.empty()) rec.skipped = "not every seed's run has a value";
        continue;
      }
      double mean = 0;
      for (double v : values) mean += v;
      mean /= static_cast<double>(values.size());
      double ss = 0;
      for (double v : values) ss += (v - mean) * (v - mean);
      rec.value = mean;
      rec.details["sd"] = values.size() > 1
                              ? nlohmann::ordered_json(std::sqrt(ss / static_cast<double>(values.size() - 1)))
                              : nlohmann::ordered_json();
    }
  };
  combine(out.results.overall, [](const UtilityRun& r) -> const results::Comparison& { return r.results.overall; });
  for (std::size_t l = 0; l < out.results.per_label.size(); ++l)
    combine(out.results.per_label[l],
            [l](const UtilityRun& r) -> const results::Comparison& { return r.results.per_label[l]; });
  out.results.overall.details["seeds"] = seeds;
  for (std::size_t i = 0; i < runs.size(); ++i)
    for (TestedClassifier& c : runs[i].classifiers) {
      c.space += fmt::format(", seed {}", seeds[i]);
      out.classifiers.push_back(std::move(c));
    }
  return out;
}

std::vector<std::string> metrics_csv(const UtilityRun& run) {
  std::vector<std::string> header = {"features",        "accuracy",     "precision_micro", "recall_micro", "f1_micro",
                                     "precision_macro", "recall_macro", "f1_macro",        "auc_macro"};
  for (const char* m : {"precision", "recall", "f1", "auc"})
    for (const auto& l : run.labels) header.push_back(fmt::format("{}_{}", m, l));
  std::vector<std::string> lines = {csv_record(header)};
  for (const TestedClassifier& c : run.classifiers) {
    const auto& s = c.test;
    std::vector<std::string> f = {c.space,
                                  number(s.accuracy),
                                  number(s.micro.precision),
                                  number(s.micro.recall),
                                  number(s.micro.f1),
                                  number(s.macro.precision),
                                  number(s.macro.recall),
                                  number(s.macro.f1),
                                  optional_number(s.macro_auroc)};
    for (int m = 0; m < 4; ++m)
      for (std::size_t l = 0; l < run.labels.size(); ++l) {
        const auto k = std::find(c.fitted.begin(), c.fitted.end(), l);
        if (k == c.fitted.end()) {
          f.push_back("");  // not classified
          continue;
        }
        const auto i = static_cast<std::size_t>(k - c.fitted.begin());
        const auto& p = s.per_label[i];
        f.push_back(m == 0   ? number(p.precision)
                    : m == 1 ? number(p.recall)
                    : m == 2 ? number(p.f1)
                             : optional_number(s.auroc[i]));
      }
    lines.push_back(csv_record(f));
  }
  return lines;
}

std::vector<std::string> per_class_csv(const UtilityRun& run) {
  std::vector<std::string> lines = {
      csv_record({"features", "class", "precision", "recall", "f1", "auc", "average_precision", "support"})};
  for (const TestedClassifier& c : run.classifiers)
    for (std::size_t k = 0; k < c.fitted.size(); ++k) {
      const auto& p = c.test.per_label[k];
      lines.push_back(csv_record({c.space, run.labels[c.fitted[k]], number(p.precision), number(p.recall), number(p.f1),
                                  optional_number(c.test.auroc[k]), optional_number(c.test.average_precision[k]),
                                  std::to_string(p.support)}));
    }
  return lines;
}

std::vector<std::string> predictions_csv(const UtilityRun& run, const Dataset& test) {
  std::vector<std::string> header = {"image"};
  for (const TestedClassifier& c : run.classifiers)
    for (std::size_t l : c.fitted) {
      const std::string prefix = run.classifiers.size() > 1 ? c.space + ": " : "";
      header.push_back(prefix + run.labels[l] + "_prob");
      header.push_back(prefix + run.labels[l] + "_pred");
    }
  for (const auto& l : run.labels) header.push_back(l + "_true");
  std::vector<std::string> lines = {csv_record(header)};
  const std::size_t labels = run.labels.size();
  for (std::size_t i = 0; i < run.test_samples.size(); ++i) {
    std::vector<std::string> f = {test.samples[run.test_samples[i]].image_ref};
    for (const TestedClassifier& c : run.classifiers)
      for (std::size_t k = 0; k < c.fitted.size(); ++k) {
        const double p = c.test_probabilities(i, k);
        f.push_back(number(p));
        f.push_back(p >= run.threshold ? "1" : "0");
      }
    for (std::size_t l = 0; l < labels; ++l) f.push_back(std::to_string(run.test_truth[i * labels + l]));
    lines.push_back(csv_record(f));
  }
  return lines;
}

std::vector<std::string> roc_csv(const UtilityRun& run) {
  std::vector<std::string> lines = {csv_record({"features", "class", "fpr", "tpr", "threshold"})};
  for (const TestedClassifier& c : run.classifiers)
    for (std::size_t k = 0; k < c.fitted.size(); ++k) {
      if (!c.roc[k]) continue;
      const metrics::RocCurve& r = *c.roc[k];
      for (std::size_t i = 0; i < r.fpr.size(); ++i)
        lines.push_back(csv_record(
            {c.space, run.labels[c.fitted[k]], number(r.fpr[i]), number(r.tpr[i]), number(r.thresholds[i])}));
    }
  return lines;
}

}  // namespace chexgen::utility
