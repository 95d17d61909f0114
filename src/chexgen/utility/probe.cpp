#include "chexgen/utility/probe.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/log.h"
#include "chexgen/features/extract.h"
#include "chexgen/metrics/frd.h"

namespace chexgen::utility {
namespace {

// Where each sample's features are in a pass (absent when the pass left the image out, with skip_bad).
std::vector<std::optional<std::size_t>> feature_rows(const features::DatasetFeatures& f, std::size_t samples) {
  std::vector<std::optional<std::size_t>> where(samples);
  for (std::size_t r = 0; r < f.samples.size(); ++r) where[f.samples[r]] = r;
  return where;
}

}  // namespace

UtilityRun evaluate_probe(const Dataset* real, const Dataset* synthetic, const Dataset& test,
                          const std::vector<features::Extractor>& extractors, const std::filesystem::path& store,
                          const ProbeOptions& o, const Log& log) {
  if (extractors.empty()) throw UsageError("the probe needs features: give --model or --radiomics");
  UtilityRun run =
      start_run(real, synthetic, test, o.training, o.labels, o.generator, o.agreement, o.scoring.threshold);
  ScoringOptions scoring = o.scoring;
  scoring.seed = o.training.seed;
  const TrainingSet& t = run.training;
  const std::size_t labels = run.labels.size();
  const std::string source = (real != nullptr ? *real : *synthetic).source.string();
  std::vector<std::uint8_t> agreement_truth;
  if (o.agreement) agreement_truth = prompt_truth(run, *real, *synthetic, o.training.source_column);
  const bool uses_real = std::any_of(t.rows.begin(), t.rows.end(), [](const auto& r) { return !r.synthetic; });
  const bool uses_synthetic = std::any_of(t.rows.begin(), t.rows.end(), [](const auto& r) { return r.synthetic; });

  nlohmann::ordered_json described = nlohmann::ordered_json::array();
  for (const features::Extractor& x : extractors) {
    described.push_back({{"space", x.space()}, {"description", x.description}});
    TestedClassifier c;
    c.space = fmt::format("{} probe, {}", x.space(), setting_name(t.setting));
    const features::ExtractionOptions extraction{o.threads, o.skip_bad};
    features::FeatureStore fs(store, x.rows.id, x.rows.columns);
    const std::string label = x.space();
    features::DatasetFeatures real_f, synthetic_f, agreement_f;
    if (uses_real)
      real_f = features::extract_dataset_features(*real, x.rows, fs, extraction, log, label, "training real");
    if (uses_synthetic)
      synthetic_f =
          features::extract_dataset_features(*synthetic, x.rows, fs, extraction, log, label, "training synthetic");
    const features::DatasetFeatures test_f =
        features::extract_dataset_features(test, x.rows, fs, extraction, log, label, "test");
    if (o.agreement)
      agreement_f = features::extract_dataset_features(*synthetic, x.rows, fs, extraction, log, label, "synthetic");
    set_test_rows(run, test, test_f.samples, "the " + label + " features");
    const auto real_at =
        uses_real ? feature_rows(real_f, real->samples.size()) : std::vector<std::optional<std::size_t>>{};
    const auto synthetic_at = uses_synthetic ? feature_rows(synthetic_f, synthetic->samples.size())
                                             : std::vector<std::optional<std::size_t>>{};
    const std::size_t d = x.outputs.empty() ? x.rows.columns.size() : x.outputs.front().dim;
    const std::size_t offset = x.outputs.empty() ? 0 : x.outputs.front().offset;

    // One matrix: the training rows, the validation rows, the test rows, then the synthetic images scored for
    // agreement (rows whose image was left out with --skip-bad are not in it, and are counted).
    std::vector<const double*> sources;
    std::vector<std::uint8_t> truth_train, truth_validation, truth_agreement;
    std::size_t n_train = 0, n_validation = 0, left_out = 0;
    auto add_rows = [&](const std::vector<std::size_t>& rows, std::vector<std::uint8_t>& truth, std::size_t& count) {
      for (std::size_t r : rows) {
        const TrainingRow& row = t.rows[r];
        const auto& at = row.synthetic ? synthetic_at : real_at;
        if (!at[row.sample]) {
          ++left_out;
          continue;
        }
        sources.push_back((row.synthetic ? synthetic_f : real_f).values.row(*at[row.sample]) + offset);
        for (std::size_t l = 0; l < labels; ++l) truth.push_back(row_truth(run, real, synthetic, row, l));
        ++count;
      }
    };
    add_rows(t.train, truth_train, n_train);
    add_rows(t.validation, truth_validation, n_validation);
    const std::size_t n_test = test_f.samples.size(), n_agreement = agreement_f.samples.size();
    for (std::size_t r = 0; r < n_test; ++r) sources.push_back(test_f.values.row(r) + offset);
    for (std::size_t r = 0; r < n_agreement; ++r) {
      sources.push_back(agreement_f.values.row(r) + offset);
      const auto first = agreement_truth.begin() + static_cast<std::ptrdiff_t>(agreement_f.samples[r] * labels);
      truth_agreement.insert(truth_agreement.end(), first, first + static_cast<std::ptrdiff_t>(labels));
    }
    if (n_train == 0 || n_validation == 0 || n_test == 0)
      throw InputError(Location{source}, "no training, validation or test rows left to probe");
    MatrixD all(sources.size(), d);
    for (std::size_t i = 0; i < sources.size(); ++i) std::copy(sources[i], sources[i] + d, all.row(i));
    std::vector<std::size_t> train_rows(n_train), every_row(all.rows());
    for (std::size_t i = 0; i < all.rows(); ++i) every_row[i] = i;
    for (std::size_t i = 0; i < n_train; ++i) train_rows[i] = i;
    // z-scored with the training rows' means and standard deviations; a column constant on them, or with a NaN or an
    // infinity in any row, is left out (counted).
    const metrics::StandardisedFeatures z = metrics::standardise_with_real(all, train_rows, all, every_row);
    const std::size_t columns = z.columns_used.size();
    if (columns == 0)
      throw InputError(Location{source},
                       fmt::format("no {} feature column varies and is finite on the training rows", label));
    auto block = [&](std::size_t first, std::size_t count) {
      MatrixD m(count, columns);
      for (std::size_t i = 0; i < count; ++i)
        std::copy(z.synthetic.row(first + i), z.synthetic.row(first + i) + columns, m.row(i));
      return m;
    };

    choose_labels(c, run, truth_train, n_train, source);
    const auto started = std::chrono::steady_clock::now();
    const std::vector<metrics::LogisticModel> models = metrics::fit_logistic_l2(
        block(0, n_train), select_labels(truth_train, n_train, labels, c.fitted), c.fitted.size(), o.logistic);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    std::size_t unconverged = 0;
    for (const auto& m : models) unconverged += m.converged ? 0 : 1;
    log.info("{}: {} label model(s) on {} training rows x {} columns in {:.2f} s{}", c.space, models.size(), n_train,
             columns, seconds,
             unconverged ? fmt::format(" ({} did not reach the gradient tolerance)", unconverged) : "");
    c.test_probabilities = metrics::logistic_probabilities(block(n_train + n_validation, n_test), models);
    const MatrixD validation_probabilities = metrics::logistic_probabilities(block(n_train, n_validation), models);
    if (o.agreement && n_agreement > 0) {
      c.agreement_images = n_agreement;
      c.agreement = metrics::multilabel_scores(
          select_labels(truth_agreement, n_agreement, labels, c.fitted),
          metrics::logistic_probabilities(block(n_train + n_validation + n_test, n_agreement), models),
          o.scoring.threshold);
    }
    c.details = {{"training_rows", n_train}, {"validation_rows", n_validation},
                 {"test_rows", n_test},      {"rows_left_out", left_out},
                 {"columns_used", columns},  {"columns_dropped", z.columns_dropped.size()},
                 {"seconds", seconds}};
    nlohmann::ordered_json fits = nlohmann::ordered_json::array();
    for (std::size_t k = 0; k < models.size(); ++k)
      fits.push_back({{"label", run.labels[c.fitted[k]]},
                      {"iterations", models[k].iterations},
                      {"converged", models[k].converged},
                      {"gradient_max", models[k].gradient_max}});
    c.details["fits"] = fits;
    const std::vector<std::uint8_t> validation_truth = select_labels(truth_validation, n_validation, labels, c.fitted);
    add_classifier(run, test, std::move(c), validation_truth, validation_probabilities, scoring);
  }
  finish_run(run, real, synthetic, test,
             {{"mode", "probe"},
              {"setting", setting_name(t.setting)},
              {"protocol", protocol_name(t.protocol)},
              {"seed", o.training.seed},
              {"validation_fraction", o.training.validation_fraction},
              {"C", o.logistic.C},
              {"gradient_tolerance", o.logistic.gradient_tolerance},
              {"threshold", o.scoring.threshold},
              {"bootstrap", o.scoring.bootstrap},
              {"confidence", o.scoring.confidence},
              {"agreement", o.agreement},
              {"store", store.string()}},
             described);
  return run;
}

}  // namespace chexgen::utility
