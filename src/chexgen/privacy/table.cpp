// CheXGenBench's per-prompt table: each generation linked to its prompt's training image, the pixel distances
// (corrected or exactly as CheXGenBench), and the paper's aggregates.
#include "chexgen/privacy/privacy_pvt.h"

#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/log.h"
#include "chexgen/core/parallel.h"

#include "chexgen/data/csv_table.h"
#include "chexgen/image/decode.h"
#include "chexgen/image/resize.h"
#include "chexgen/metrics/sampling.h"

namespace chexgen::privacy {
namespace {

using results::Metric;
using results::MetricKey;
using results::MetricRecord;

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

}  // namespace

// The image of a sample as CheXGenBench compares pixels: RGB (or gray), side x side (Pillow's bicubic when another
// size).
Image8 pixel_image(const Dataset& d, const Sample& s, int side, ColorMode mode) {
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

void for_each_image_task(std::size_t n, int threads, const std::string& label, const Log& log,
                         const std::function<void(std::size_t)>& fn) {
  std::vector<std::optional<InputError>> failures(n);
  Progress progress(label, n, log.progress());
  parallel_for(
      n, threads,
      [&](std::size_t i) {
        try {
          fn(i);
        } catch (const InputError& e) {
          failures[i] = e;
        }
      },
      &progress);
  progress.finish();
  for (const auto& f : failures)
    if (f) throw *f;
}

std::vector<std::size_t> chexgenbench_prompt_subset(const Dataset& train, std::size_t n, std::uint64_t seed) {
  if (seed > 0xffffffffULL)
    throw UsageError(fmt::format("--seed {} is beyond numpy's seeds (below 2^32), which the subset draw uses", seed));
  std::vector<std::size_t> eligible;
  std::set<std::string> seen;
  for (std::size_t i = 0; i < train.samples.size(); ++i)
    if (const auto& p = train.samples[i].prompt; p && seen.insert(*p).second) eligible.push_back(i);
  if (n > eligible.size())
    throw UsageError(fmt::format("--subset {}: {} has only {} training rows with distinct prompts", n,
                                 train.source.string(), eligible.size()));
  std::vector<std::size_t> out;
  for (std::size_t k : metrics::numpy_legacy_choice(static_cast<std::uint32_t>(seed), eligible.size(), n))
    out.push_back(eligible[k]);
  return out;
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

}  // namespace chexgen::privacy
