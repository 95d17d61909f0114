// Baseline "generators" made from a real dataset, for checking that fidelity metrics order generators sensibly
// (docs/baselines.md): the real set is split into a reference half and a held-out half by patient; each generator
// turns the held-out half (or, for `copies`, the reference half) into a synthetic set of known quality, with the
// degradations of chexgen/image/filters.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "chexgen/core/error.h"
#include "chexgen/data/manifest.h"
#include "chexgen/image/image.h"

namespace chexgen {
class Progress;
}

namespace chexgen::fidelity {

// ---- The split ----

// A seeded Fisher-Yates shuffle of 0..n-1 on mt19937_64 with unbiased bounded draws: the same permutation from
// every standard library (std::shuffle and std::uniform_int_distribution are implementation-defined).
std::vector<std::size_t> seeded_permutation(std::size_t n, std::uint64_t seed);

struct Split {
  std::vector<std::size_t> reference;                             // Dataset::samples indices, in manifest order
  std::vector<std::size_t> held_out;                              // the same
  bool by_patient = false;                                        // false: no sample had a patient id, split by sample
  std::size_t n_reference_patients = 0, n_held_out_patients = 0;  // groups on each side (samples when !by_patient)
  std::size_t n_without_patient = 0;  // samples without a patient id (each its own group when by_patient)
};

// Chooses whole groups of items until about `target` items are chosen: the distinct keys (one per item) sorted, shuffled
// with seeded_permutation(seed), then each group in turn is chosen if that brings the chosen count closer to
// `target`. Per item: chosen or not. split_by_patient's halves and the utility suite's validation split.
std::vector<bool> choose_groups(const std::vector<std::string>& keys, std::size_t target, std::uint64_t seed,
                                std::size_t* groups_chosen = nullptr, std::size_t* groups_total = nullptr);

// Splits the samples into two disjoint halves, every patient's images on one side. Groups (patients; samples that
// have no patient id are groups of one) are sorted by key, shuffled with seeded_permutation(seed), then each in turn
// joins the reference half if that brings its image count closer to floor(n / 2), else the held-out half.
// Fewer than two groups is an InputError naming the manifest.
Split split_by_patient(const Dataset& dataset, std::uint64_t seed);

// ---- The generators ----

enum class BaselineKind {
  held_out,  // the held-out images unchanged
  copies,    // the reference images themselves (a memorising generator)
  blur,      // gaussian_blur of the held-out images, parameter = sigma in pixels
  noise,     // add_gaussian_noise of the held-out images, parameter = sd in gray levels
  downup,    // down_up of the held-out images, parameter = factor
};

struct BaselineGenerator {
  std::string name;  // the output folder: "held-out", "copies", "blur-2", ...
  BaselineKind kind = BaselineKind::held_out;
  double parameter = 0;
  std::string description;
};

// held-out, copies, blur-1, blur-2, blur-4, noise-8, noise-16, noise-32, downup-2, downup-4, downup-8.
std::vector<BaselineGenerator> standard_baselines();

// The generator's image for one source image; `index` is the image's position in the set the generator draws from
// (it seeds the noise).
Image8 apply_baseline(const BaselineGenerator& generator, const Image8& source, std::uint64_t seed, std::size_t index);

// ---- The whole run ----

struct BaselineOptions {
  std::uint64_t seed = 42;
  int threads = 0;  // 0 = all cores
};

struct BaselineSet {
  std::string name;                  // "reference" or a generator's name
  std::vector<std::size_t> samples;  // source Dataset::samples indices
};

struct BaselineRun {
  Split split;
  std::vector<std::string> file_names;  // per source sample: the PNG name written for it ("" if not used)
  std::vector<BaselineSet> sets;        // reference first, then each generator
};

// The PNG names for the samples: each image's file name with the extension .png; a name taken by an earlier
// sample gets "_2", "_3", ... before the extension.
std::vector<std::string> output_file_names(const Dataset& dataset);

// Writes out_dir/reference/ and out_dir/<generator>/ (PNG images + metadata.jsonl each) and out_dir/baselines.json.
// Each folder is built as out_dir/<name>.partial and then replaces out_dir/<name>, so a rerun never mixes old and new
// files. Images are read as 8-bit gray on options.threads workers. Unreadable images are added to `errors` (manifest,
// row, image column) and, if any, the first one is thrown after every image was tried; nothing is replaced then.
BaselineRun write_baselines(const Dataset& dataset, const std::filesystem::path& out_dir,
                            const BaselineOptions& options, ErrorReport& errors, Progress* progress = nullptr);

}  // namespace chexgen::fidelity
