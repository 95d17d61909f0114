#include "chexgen/data/dataset_summary.h"

#include <algorithm>
#include <filesystem>
#include <limits>
#include <unordered_map>

#include <fmt/format.h>

#include "chexgen/core/files.h"
#include "chexgen/core/hash.h"
#include "chexgen/core/parallel.h"
#include "chexgen/core/utf8.h"

namespace chexgen {
namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

// Accumulates min / max / mean of counts.
struct LengthAccumulator {
  std::size_t n = 0;
  std::size_t min = std::numeric_limits<std::size_t>::max();
  std::size_t max = 0;
  double sum = 0.0;
  void add(std::size_t x) {
    ++n;
    min = std::min(min, x);
    max = std::max(max, x);
    sum += static_cast<double>(x);
  }
  LengthStats stats() const {
    if (n == 0) return {};
    return LengthStats{min, max, sum / static_cast<double>(n)};
  }
};

}  // namespace

double LabelCounts::positive_fraction() const {
  const std::size_t n = total();
  return n == 0 ? 0.0 : static_cast<double>(positive) / static_cast<double>(n);
}

std::vector<LabelCounts> label_prevalence(const Dataset& dataset) {
  std::vector<LabelCounts> counts(dataset.labels.size());
  for (const Sample& s : dataset.samples) {
    CHEXGEN_ASSERT(s.labels.size() == counts.size(), "sample labels do not match the label set");
    for (std::size_t k = 0; k < counts.size(); ++k) {
      switch (s.labels[k]) {
        case LabelValue::positive: ++counts[k].positive; break;
        case LabelValue::negative: ++counts[k].negative; break;
        case LabelValue::uncertain: ++counts[k].uncertain; break;
        case LabelValue::missing: ++counts[k].missing; break;
      }
    }
  }
  return counts;
}

std::size_t count_words(std::string_view text) {
  std::size_t words = 0;
  bool in_word = false;
  for (const char c : text) {
    const bool space = is_space(c);
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

PromptStats prompt_stats(const Dataset& dataset) {
  LengthAccumulator words, chars;
  for (const Sample& s : dataset.samples) {
    if (!s.prompt) continue;
    words.add(count_words(*s.prompt));
    chars.add(count_code_points(*s.prompt));
  }
  return PromptStats{words.n, words.stats(), chars.stats()};
}

Duplicates find_duplicates(const std::vector<std::optional<std::string>>& keys) {
  std::unordered_map<std::string_view, std::size_t> group_of;  // key -> index into groups
  std::vector<DuplicateGroup> groups;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    if (!keys[i]) continue;
    const auto [it, inserted] = group_of.emplace(*keys[i], groups.size());
    if (inserted) groups.push_back(DuplicateGroup{*keys[i], {}});
    groups[it->second].samples.push_back(i);
  }
  Duplicates out;
  for (auto& g : groups) {
    if (g.samples.size() < 2) continue;
    ++out.n_groups;
    out.n_samples += g.samples.size();
    out.groups.push_back(std::move(g));
  }
  return out;
}

Duplicates find_duplicate_prompts(const Dataset& dataset) {
  std::vector<std::optional<std::string>> keys;
  keys.reserve(dataset.samples.size());
  for (const Sample& s : dataset.samples) keys.push_back(s.prompt);
  return find_duplicates(keys);
}

std::vector<ImageCheck> check_images(const Dataset& dataset, const ImageCheckOptions& options,
                                     const ImageDecodeCheck& decode, ErrorReport& errors, Progress* progress) {
  std::vector<ImageCheck> checks(dataset.samples.size());
  parallel_for(
      dataset.samples.size(), options.threads,
      [&](std::size_t i) {
        const Sample& s = dataset.samples[i];
        ImageCheck& c = checks[i];
        std::error_code ec;
        if (!std::filesystem::exists(s.image_path, ec)) {
          c.status = ImageStatus::missing;
          c.reason = fmt::format("image '{}' not found", s.image_path.string());
          return;
        }
        try {
          const std::string bytes = read_file_bytes(s.image_path);
          const std::span<const std::uint8_t> view(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
          c.sha256 = sha256_hex(view);
          if (options.decode) decode(view, s.image_path.string());
        } catch (const InputError& e) {
          c.status = ImageStatus::unreadable;
          c.sha256.clear();
          c.reason = fmt::format("image '{}' cannot be read: {}", s.image_path.string(), e.reason());
        }
      },
      progress);
  for (std::size_t i = 0; i < checks.size(); ++i) {
    if (checks[i].status == ImageStatus::ok) continue;
    const Sample& s = dataset.samples[i];
    const bool folder_missing = s.row == 0 && checks[i].status == ImageStatus::missing;  // the location names it
    errors.add(InputError(sample_location(dataset, s), folder_missing ? "not found" : checks[i].reason));
  }
  return checks;
}

}  // namespace chexgen
