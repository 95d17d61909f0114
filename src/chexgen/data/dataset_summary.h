// What `chexgen inspect` reports about a dataset: label prevalence, prompt statistics, duplicate
// prompts and images, and which images are missing or unreadable.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chexgen/core/error.h"
#include "chexgen/data/manifest.h"

namespace chexgen {

class Progress;

struct LabelCounts {
  std::size_t positive = 0;
  std::size_t negative = 0;
  std::size_t uncertain = 0;
  std::size_t missing = 0;
  std::size_t total() const { return positive + negative + uncertain + missing; }
  // positive / number of samples (0 for an empty dataset).
  double positive_fraction() const;
};

// One entry per label of dataset.labels, in label order.
std::vector<LabelCounts> label_prevalence(const Dataset& dataset);

struct LengthStats {
  std::size_t min = 0;
  std::size_t max = 0;
  double mean = 0.0;
};

struct PromptStats {
  std::size_t n_with_prompt = 0;
  LengthStats words;       // words = runs of non-whitespace (whitespace: space, \t, \n, \v, \f, \r)
  LengthStats characters;  // Unicode code points
};

// Words as defined above.
std::size_t count_words(std::string_view text);
PromptStats prompt_stats(const Dataset& dataset);

// Samples sharing a key (a prompt, an image hash), as sample indices in dataset order.
struct DuplicateGroup {
  std::string key;
  std::vector<std::size_t> samples;
};
struct Duplicates {
  std::size_t n_groups = 0;            // keys held by more than one sample
  std::size_t n_samples = 0;           // samples in those groups
  std::vector<DuplicateGroup> groups;  // every group, ordered by its first sample
};
// keys[i] is sample i's key; samples without a key are ignored.
Duplicates find_duplicates(const std::vector<std::optional<std::string>>& keys);
Duplicates find_duplicate_prompts(const Dataset& dataset);

enum class ImageStatus { ok, missing, unreadable };

struct ImageCheck {
  ImageStatus status = ImageStatus::ok;
  std::string sha256;  // of the file bytes; empty when missing or unreadable
  std::string reason;  // why missing/unreadable
};

struct ImageCheckOptions {
  int threads = 0;     // 0 = all cores
  bool decode = true;  // false: existence and hash only (--no-decode)
};

// Decodes `bytes` (named `source_name` in errors) and throws InputError if it cannot. Passed in by
// the caller so that this stage does not depend on the image decoders.
using ImageDecodeCheck = std::function<void(std::span<const std::uint8_t> bytes, const std::string& source_name)>;

// Reads (and, with options.decode, decodes) every sample's image on a thread pool. A missing or
// unreadable image is an InputError `<manifest>:<row>: column '<image column>': <reason>` added to
// `errors`, in sample order. Returns one entry per sample.
std::vector<ImageCheck> check_images(const Dataset& dataset, const ImageCheckOptions& options,
                                     const ImageDecodeCheck& decode, ErrorReport& errors, Progress* progress = nullptr);

}  // namespace chexgen
