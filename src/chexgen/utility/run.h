// What every utility evaluation shares (docs/utility.md), whether its classifier is the linear probe or a network
// trained on LibTorch: the training set and the labels it classifies, the real test rows and their truth, each
// classifier's scores with CheXGenBench's metrics and intervals by patient, the records of results.json, and
// CheXGenBench's output tables.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chexgen/core/matrix.h"
#include "chexgen/data/manifest.h"
#include "chexgen/metrics/classification.h"
#include "chexgen/results/results.h"
#include "chexgen/utility/training_set.h"

namespace chexgen::utility {

// One classifier tested on the real test rows.
struct TestedClassifier {
  std::string space;                // the results' feature space: "<features> probe, <setting>", "ResNet-50, <setting>"
  std::vector<std::size_t> fitted;  // indices into UtilityRun::labels of the labels it predicts
  std::vector<std::string> skipped;                    // "<label>: <reason>" for the others
  MatrixD test_probabilities;                          // test rows x fitted labels
  metrics::MultilabelScores test, validation;          // over the fitted labels
  std::vector<std::optional<metrics::RocCurve>> roc;   // per fitted label; absent with one class in the test rows
  std::optional<metrics::MultilabelScores> agreement;  // synthetic images against their prompts' labels
  std::size_t agreement_images = 0;
  nlohmann::ordered_json details = nlohmann::ordered_json::object();  // the classifier's own: rows, fits, epochs...
};

struct UtilityRun {
  results::Results results;
  TrainingSet training;
  std::vector<std::string> labels;        // the classified labels, in the label set's order
  std::vector<std::size_t> test_samples;  // Dataset::samples index of each test row
  std::vector<std::uint8_t> test_truth;   // test rows x labels, 1 where positive (uncertain and blank are 0)
  std::vector<TestedClassifier> classifiers;
  double threshold = 0.5;  // of the predictions
};

struct ScoringOptions {
  double threshold = 0.5;        // predicted positive at probability >= threshold (CheXGenBench's 0.5)
  std::size_t bootstrap = 1000;  // test resamples by patient for the intervals (0: none)
  double confidence = 0.95;
  std::uint64_t seed = 42;
};

// What every utility evaluation is told, whatever its classifier.
struct UtilityOptions {
  TrainingSetOptions training;
  ScoringOptions scoring;           // its seed is the training set's (set by the evaluation)
  std::vector<std::string> labels;  // empty: every label of the training images' label set
  std::string generator;  // the results' name; empty: the synthetic (else real) training manifest's folder name
  // Prompt–label agreement: with a classifier trained on real images only (all_original), score every synthetic
  // image against its prompt's labels (its real row's, else its own).
  bool agreement = false;
  int threads = 0;  // 0: every core
};

// The parts of a run before any classifier: the training set (build_training_set), the labels (`labels`, else every
// label of the training images' label set; each must be in the training and the test set), the test set's checks,
// with `synthetic_named` (prompt–label agreement) its checks (synthetic images, a classifier trained on real ones),
// and the results' name (`generator`, else the synthetic manifest's folder when synthetic images are used or
// `synthetic_named`, else the real one's).
UtilityRun start_run(const Dataset* real, const Dataset* synthetic, const Dataset& test,
                     const TrainingSetOptions& training, const std::vector<std::string>& labels,
                     const std::string& generator, bool synthetic_named, double threshold);

// Label l of a training row: its pair's real image's, or a lone synthetic image's own; 1 where positive.
std::uint8_t row_truth(const UtilityRun& run, const Dataset* real, const Dataset* synthetic, const TrainingRow& row,
                       std::size_t l);

// Each synthetic image's prompt labels (images x labels): its real row's when it names one, by id or prompt, else its
// own (an InputError naming the image when its manifest lacks a label).
std::vector<std::uint8_t> prompt_truth(const UtilityRun& run, const Dataset& real, const Dataset& synthetic,
                                       const std::string& source_column);

// The test rows: the first classifier sets them (the test samples it could use, in manifest order); a later one must
// use the same (an InputError otherwise).
void set_test_rows(UtilityRun& run, const Dataset& test, const std::vector<std::size_t>& samples,
                   const std::string& what);

// The labels with both classes among the training rows (truth: n x labels) are the classifier's; the others are
// listed as skipped. None: an InputError naming `source`.
void choose_labels(TestedClassifier& c, const UtilityRun& run, const std::vector<std::uint8_t>& train_truth,
                   std::size_t n, const std::string& source);

// The columns `fitted` of an n x labels truth matrix.
std::vector<std::uint8_t> select_labels(const std::vector<std::uint8_t>& truth, std::size_t n, std::size_t labels,
                                        const std::vector<std::size_t>& fitted);

// Scores the classifier (its test_probabilities set): CheXGenBench's metrics on the test and validation rows, ROC
// curves, intervals by patient, and its records (overall and per label) added to run.results; then keeps it.
void add_classifier(UtilityRun& run, const Dataset& test, TestedClassifier c,
                    const std::vector<std::uint8_t>& validation_truth, MatrixViewD validation_probabilities,
                    const ScoringOptions& options);

// The run's closing details and provenance (`options` and `extractors` describe what made it).
void finish_run(UtilityRun& run, const Dataset* real, const Dataset* synthetic, const Dataset& test,
                nlohmann::ordered_json options, nlohmann::ordered_json classifiers);

// Runs of one classifier with different seeds (`seeds[i]` made `runs[i]`) as one: each record's value is the mean over
// the runs (absent unless every run has one), its details the seeds' values and their sample standard deviation
// ("sd"), no interval; the classifiers of every run are kept, named "<space>, seed <s>", for the output tables.
UtilityRun combine_seeds(std::vector<UtilityRun> runs, const std::vector<std::uint64_t>& seeds);

// CheXGenBench's outputs, one row per classifier: metrics.csv (accuracy, precision/recall/F1 micro and macro,
// auc_macro, then precision_<label>, recall_<label>, f1_<label>, auc_<label>), per_class_metrics.csv (class, precision,
// recall, f1, auc, plus average precision and support), predictions.csv (the test image, then <label>_prob and
// <label>_pred, and the truth), roc.csv (label, fpr, tpr, threshold per point).
std::vector<std::string> metrics_csv(const UtilityRun& run);
std::vector<std::string> per_class_csv(const UtilityRun& run);
std::vector<std::string> predictions_csv(const UtilityRun& run, const Dataset& test);
std::vector<std::string> roc_csv(const UtilityRun& run);

}  // namespace chexgen::utility
