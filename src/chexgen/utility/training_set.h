// The utility suite's training rows (docs/utility.md): real training images, their synthetic twins, and the four
// settings CheXGenBench trains on (Downstream/Classification/downstream_classification.py), with its validation split
// reproduced exactly (--protocol chexgenbench) or split by patient and by real/synthetic pair (the default).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chexgen/data/manifest.h"

namespace chexgen::utility {

enum class Setting { all_original, all_synthetic, mixed, augmented };
enum class Protocol {
  fixed,         // validation by patient and by pair; --seed drives every draw
  chexgenbench,  // CheXGenBench's draws: random.seed(42) for mixed, train_test_split(0.05, random_state=42)
};

std::string_view setting_name(Setting s);      // "all_original", ...
Setting parse_setting(std::string_view name);  // UsageError listing the four otherwise
std::string_view protocol_name(Protocol p);
Protocol parse_protocol(std::string_view name);

// One real training image and its synthetic twin (CheXGenBench's CSV row: `path` and `synthetic_filename`).
struct Pair {
  std::optional<std::size_t> real;       // Dataset::samples index in the real training set
  std::optional<std::size_t> synthetic;  // in the synthetic set
};

// A training image as the classifier sees it: which set, which sample, and the pair whose labels it carries (the
// real image's, as CheXGenBench's; a synthetic set given alone carries its own).
struct TrainingRow {
  bool synthetic = false;
  std::size_t sample = 0;
  std::size_t pair = 0;
};

struct TrainingSet {
  Setting setting = Setting::all_synthetic;
  Protocol protocol = Protocol::fixed;
  std::vector<Pair> pairs;
  std::vector<TrainingRow> rows;                  // in CheXGenBench's order for the setting
  std::vector<std::size_t> train, validation;     // indices into rows (chexgenbench: in its permutation's order)
  std::size_t prompts_deduplicated = 0;           // real rows left out as a repeat of an earlier row's prompt
  std::size_t validation_groups = 0, groups = 0;  // fixed protocol: patients (or pairs) on the validation side
};

struct TrainingSetOptions {
  Setting setting = Setting::all_synthetic;
  Protocol protocol = Protocol::fixed;
  std::uint64_t seed = 42;            // fixed: the mixed subset and the validation split
  double validation_fraction = 0.05;  // of the rows, as train_test_split's test_size
  std::string source_column;          // the synthetic images' column naming their real row (link_generations)
};

// The pairs: each real row (the first of each prompt, as CheXGenBench's deduplicated CSV; rows without a prompt all
// kept) with the first synthetic image linked to it; or, with no real set, each synthetic image alone. A setting that
// needs a twin the real row lacks is an InputError naming that row; a setting that needs a set not given is a
// UsageError. Then the setting's rows and the validation split.
TrainingSet build_training_set(const Dataset* real, const Dataset* synthetic, const TrainingSetOptions& options);

}  // namespace chexgen::utility
