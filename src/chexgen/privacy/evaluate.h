// chexgen privacy as a library call (docs/privacy.md): the training set, the generations and (optionally) real
// held-out images in; CheXGenBench's per-prompt table and the held-out-calibrated search of the whole training set
// out. Features go through the feature store; the caller reads manifests, builds extractors and writes files.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "chexgen/data/link.h"
#include "chexgen/data/manifest.h"
#include "chexgen/features/extractor.h"
#include "chexgen/image/image.h"
#include "chexgen/metrics/privacy.h"
#include "chexgen/privacy/reid.h"
#include "chexgen/results/results.h"

namespace chexgen {
class Log;
}

namespace chexgen::privacy {

enum class Compat {
  corrected,     // pixel RMS in floating point, each generation against its own image
  chexgenbench,  // CheXGenBench's numbers bit for bit: uint8 wrap-around, the prompt's last generation every time
};

struct PrivacyOptions {
  Compat compat = Compat::corrected;
  bool link = true;           // false: the generations were not made from training rows (no per-prompt table)
  std::string source_column;  // the generations' column naming their training row's id; empty: sample_id, else
                              // source_id, else none (linked by prompt)
  int pixel_side = 512;       // CheXGenBench's common size for pixel distances (bicubic, as Image.resize)
  double quantile = 0.99;     // τ: this quantile of the held-out images' nearest-training similarity
  double confidence = 0.95;   // of the Clopper–Pearson intervals
  double reid_threshold = kDefaultReidThreshold;  // δ of "Count Re-ID > δ"
  std::uint64_t seed = 42;  // the held-out images' split (by patient) into calibration and null halves
  int threads = 0;
  bool skip_bad = false;
  std::string generator;   // the results' name; empty: the generations manifest's folder name
  std::size_t subset = 0;  // > 0: the table keeps CheXGenBench's `subset` prompts (chexgenbench_prompt_subset, seed)
};

// CheXGenBench's choice of the prompts of its privacy table (train_df.drop_duplicates(subset=["annotated_prompt"])
// .dropna().sample(n, random_state=seed)): the first training row of each prompt, rows without a prompt left out,
// then n of them drawn as pandas draws them (numpy's legacy RandomState(seed).choice(rows, n, replace=False)), in the
// order drawn. Dataset::samples indices. More than there are, or a seed numpy does not take (>= 2^32): a UsageError.
std::vector<std::size_t> chexgenbench_prompt_subset(const Dataset& train, std::size_t n, std::uint64_t seed);

// One row of CheXGenBench's privacy table: a training image and the generations made from its prompt.
struct PromptRow {
  std::size_t train = 0;                 // Dataset::samples index in the training set
  std::vector<std::size_t> generations;  // in manifest order
  std::vector<double> pixel;             // per generation (compat: every value the last generation's)
  std::vector<double> reid;              // per generation, with a re-identification model
  // Latent distance per network extractor (in the order given), per generation.
  std::vector<std::vector<double>> latent;
};

// The calibrated search of the whole training set in one feature space (cosine similarity), or with the
// re-identification model (space "Re-ID": the pair score stands for the similarity).
struct SpaceSearch {
  std::string space;
  std::vector<double> generated_similarity;    // per kept generation: to its nearest (best-scoring) training image
  std::vector<std::size_t> generated_nearest;  // that training image (Dataset::samples index)
  std::vector<std::size_t> generated_samples;  // the generations (Dataset::samples index) of those rows
  std::optional<metrics::CopyRate> rate;       // with held-out images
};

// A generation nearer a training image than τ in some space.
struct FlaggedPair {
  std::size_t generation = 0, train = 0;  // Dataset::samples indices
  std::string space;
  double similarity = 0, threshold = 0;
  bool linked = false;        // the training image is the generation's own prompt's
  double tiled_distance = 0;  // Carlini et al.'s, of the two images at the pixel distances' size, gray
};

struct PrivacyRun {
  results::Results results;
  std::vector<PromptRow> prompts;  // empty when the generations are not linked to training rows
  std::vector<std::string> latent_spaces;
  bool with_reid = false;
  std::vector<SpaceSearch> searches;  // the pixel thumbnails first, then each extractor, then Re-ID
  std::vector<FlaggedPair> flagged;   // by space, then most similar first
};

// Runs the privacy evaluation. `extractors` are the user's networks (their features give latent distances and a
// search each); the pixel-thumbnail space is always searched; `reid` (optional) gives CheXGenBench's re-id scores.
// `holdout` (may be null) must share no patient with `train`; without it the calibrated rates are skipped (said in
// the results).
PrivacyRun evaluate_privacy(const Dataset& train, const Dataset& generations, const Dataset* holdout,
                            const std::vector<features::Extractor>& extractors, const std::optional<ReidModel>& reid,
                            const std::filesystem::path& store, const PrivacyOptions& options, const Log& log);

// privacy_per_prompt.csv: CheXGenBench's columns (Real Path, Prompt, Mean_reid_scores, Max_reid_scores with a
// re-id model, Mean_pixel_distance, Min_pixel_distance, and Mean_latent_distance, Min_latent_distance per network)
// plus the number of generations and the nearest (highest-scoring) generation of each measure.
std::vector<std::string> per_prompt_csv(const PrivacyRun& run, const Dataset& train, const Dataset& generations);

// flagged_pairs.csv: generation, training image, patient ids, same patient, space, similarity, τ, linked, tiled
// distance, and the pair's place on the contact sheet (1-based, left to right and top to bottom; empty when it is
// not on the sheet).
std::vector<std::string> flagged_pairs_csv(const PrivacyRun& run, const Dataset& train, const Dataset& generations,
                                           std::size_t sheet_pairs);

// contact_sheet.png: the first `pairs` flagged pairs (in flagged_pairs.csv's order), each as the generation and,
// to its right, the training image, both gray at tile x tile pixels, `columns` pairs to a row on white. An empty
// image when nothing is flagged.
struct ContactSheetLayout {
  std::size_t pairs = 24;
  int tile = 192;
  int columns = 3;
  int threads = 0;  // workers reading the images (0: every core)
};
Image8 contact_sheet(const PrivacyRun& run, const Dataset& train, const Dataset& generations,
                     const ContactSheetLayout& layout, const Log& log);

}  // namespace chexgen::privacy
