#include "chexgen/radiomics/firstorder.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <vector>

#include "chexgen/core/numeric.h"

namespace chexgen::radiomics {
namespace {

// getter names of RadiomicsFirstOrder in inspect.getmembers order; StandardDeviation is deprecated and left out.
constexpr std::array<std::string_view, 18> kNames = {"10Percentile",
                                                     "90Percentile",
                                                     "Energy",
                                                     "Entropy",
                                                     "InterquartileRange",
                                                     "Kurtosis",
                                                     "Maximum",
                                                     "MeanAbsoluteDeviation",
                                                     "Mean",
                                                     "Median",
                                                     "Minimum",
                                                     "Range",
                                                     "RobustMeanAbsoluteDeviation",
                                                     "RootMeanSquared",
                                                     "Skewness",
                                                     "TotalEnergy",
                                                     "Uniformity",
                                                     "Variance"};

constexpr double kEps = std::numeric_limits<double>::epsilon();  // np.spacing(1)

// Counts per level 0..max (level 0 unused), growing with the largest level seen. Four interleaved partial
// histograms keep runs of equal levels, common in images, from queueing on one counter.
std::vector<std::int64_t> level_histogram(std::span<const std::int32_t> levels) {
  std::size_t bins = 256;
  std::vector<std::int32_t> partial(4 * bins, 0);
  const auto count = [&](std::size_t lane, std::int32_t g) {
    if (g < 1 || static_cast<std::size_t>(g) >= bins) [[unlikely]] {
      if (g < 1) throw std::invalid_argument("first-order features: a gray level below 1 inside the ROI");
      const std::size_t wider = static_cast<std::size_t>(g) + 1;
      std::vector<std::int32_t> grown(4 * wider, 0);
      for (std::size_t l = 0; l < 4; ++l) std::copy_n(&partial[l * bins], bins, &grown[l * wider]);
      partial.swap(grown);
      bins = wider;
    }
    ++partial[lane * bins + static_cast<std::size_t>(g)];
  };
  const std::size_t n = levels.size();
  std::size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    count(0, levels[i]);
    count(1, levels[i + 1]);
    count(2, levels[i + 2]);
    count(3, levels[i + 3]);
  }
  for (; i < n; ++i) count(0, levels[i]);
  std::vector<std::int64_t> counts(bins);
  for (std::size_t g = 0; g < bins; ++g) {
    counts[g] = std::int64_t{partial[g]} + partial[bins + g] + partial[2 * bins + g] + partial[3 * bins + g];
  }
  return counts;
}

// Values of the given ranks (0-based, ascending order) of `values`, written to out[position]: radix selection on the
// values' order-preserving 64-bit keys. Each round spreads the keys between their minimum and maximum over at most
// 2048 buckets by their high bits, counts them, and continues with the keys of each bucket that holds a wanted rank;
// a handful of keys, or equal ones, end it. Linear per round, and branch-free where comparison-based selection
// mispredicts half its branches (a wavelet band puts half its pixels in the two bins around 0, ~10^4 values each).
// -0.0 and +0.0 compare equal and are both taken as +0.0.
std::uint64_t order_key(double v) {
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(v + 0.0);  // -0.0 + 0.0 = +0.0
  return bits & (std::uint64_t{1} << 63) ? ~bits : bits | (std::uint64_t{1} << 63);
}

double key_value(std::uint64_t key) {
  return std::bit_cast<double>(key & (std::uint64_t{1} << 63) ? key & ~(std::uint64_t{1} << 63) : ~key);
}

void select_keys(std::vector<std::uint64_t>& keys, std::vector<std::pair<std::int64_t, std::size_t>> ranks,
                 std::vector<double>& out) {
  constexpr std::size_t kFew = 32;
  if (keys.size() <= kFew) {
    std::sort(keys.begin(), keys.end());
    for (const auto& [rank, q] : ranks) out[q] = key_value(keys[static_cast<std::size_t>(rank)]);
    return;
  }
  const auto [lo_it, hi_it] = std::minmax_element(keys.begin(), keys.end());
  const std::uint64_t lo = *lo_it, range = *hi_it - lo;
  if (range == 0) {
    for (const auto& [rank, q] : ranks) out[q] = key_value(lo);
    return;
  }
  constexpr int kBucketBits = 11;
  const int shift = std::max(0, static_cast<int>(std::bit_width(range)) - kBucketBits);
  std::vector<std::int64_t> first_of((range >> shift) + 2, 0);  // keys in the buckets before each one
  for (std::uint64_t k : keys) ++first_of[((k - lo) >> shift) + 1];
  for (std::size_t b = 1; b < first_of.size(); ++b) first_of[b] += first_of[b - 1];
  std::sort(ranks.begin(), ranks.end());
  for (std::size_t r = 0; r < ranks.size();) {
    const auto bucket = static_cast<std::size_t>(
        std::upper_bound(first_of.begin(), first_of.end(), ranks[r].first) - first_of.begin() - 1);
    std::vector<std::pair<std::int64_t, std::size_t>> inside;
    for (; r < ranks.size() && ranks[r].first < first_of[bucket + 1]; ++r)
      inside.emplace_back(ranks[r].first - first_of[bucket], ranks[r].second);
    std::vector<std::uint64_t> members;
    members.reserve(static_cast<std::size_t>(first_of[bucket + 1] - first_of[bucket]));
    for (std::uint64_t k : keys)
      if (((k - lo) >> shift) == bucket) members.push_back(k);
    select_keys(members, std::move(inside), out);
  }
}

void select_ranks(std::span<const double> values, const std::vector<std::pair<std::int64_t, std::size_t>>& ranks,
                  std::vector<double>& out) {
  if (ranks.empty()) return;
  std::vector<std::uint64_t> keys(values.size());
  for (std::size_t i = 0; i < values.size(); ++i) keys[i] = order_key(values[i]);
  select_keys(keys, ranks, out);
}

// Values of the given ranks (0-based, ascending order of the ROI values), in the order asked. Levels rise with the
// values, so rank r lies in the level bin whose cumulative count first exceeds r: only the values of the few bins
// that hold a wanted rank are gathered (one sweep over `values` and their `levels`, in any order, level 0 = not in
// the ROI), then selected by radix selection.
std::vector<double> order_statistics(std::span<const double> values, std::span<const std::int32_t> levels,
                                     const std::vector<std::int64_t>& level_counts,
                                     std::span<const std::int64_t> ranks) {
  std::vector<std::int64_t> cumulative(level_counts.size());  // values at each level or below
  std::int64_t total = 0;
  for (std::size_t g = 0; g < level_counts.size(); ++g) cumulative[g] = total += level_counts[g];
  const auto below = [&](std::size_t g) { return g == 0 ? std::int64_t{0} : cumulative[g - 1]; };

  std::vector<std::size_t> bins;  // the level holding each rank
  for (std::int64_t r : ranks) {
    bins.push_back(
        static_cast<std::size_t>(std::upper_bound(cumulative.begin(), cumulative.end(), r) - cumulative.begin()));
  }
  std::vector<std::size_t> wanted = bins;
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());

  // One buffer, a segment per wanted bin; slot[level] is the segment or -1.
  if (wanted.size() > 127) throw std::invalid_argument("first-order features: too many order statistics at once");
  std::vector<std::int8_t> slot(level_counts.size(), -1);
  std::vector<std::size_t> start(wanted.size() + 1, 0);
  for (std::size_t s = 0; s < wanted.size(); ++s) {
    slot[wanted[s]] = static_cast<std::int8_t>(s);
    start[s + 1] = start[s] + static_cast<std::size_t>(level_counts[wanted[s]]);
  }
  const auto gathered = std::make_unique_for_overwrite<double[]>(start.back());
  std::vector<double*> cursor(wanted.size());
  for (std::size_t s = 0; s < wanted.size(); ++s) cursor[s] = gathered.get() + start[s];
  const double* x = values.data();
  const std::int32_t* level = levels.data();
  const std::int8_t* slot_of = slot.data();
  for (std::size_t i = 0; i < values.size(); ++i) {
    const std::int8_t s = slot_of[level[i]];
    if (s >= 0) *cursor[static_cast<std::size_t>(s)]++ = x[i];
  }

  // Per bin, its wanted ranks among the bin's values, by radix selection.
  std::vector<double> out(ranks.size());
  for (std::size_t s = 0; s < wanted.size(); ++s) {
    std::vector<std::pair<std::int64_t, std::size_t>> local;  // (rank within the bin, position in `ranks`)
    for (std::size_t q = 0; q < ranks.size(); ++q)
      if (bins[q] == wanted[s]) local.emplace_back(ranks[q] - below(wanted[s]), q);
    select_ranks(std::span<const double>(gathered.get() + start[s], start[s + 1] - start[s]), local, out);
  }
  return out;
}

// numpy.nanpercentile(x, q) with the default linear method, given the order statistics `lo` (rank floor(v)) and `hi`
// (rank floor(v) + 1) around the virtual index v = (n - 1) * q / 100; numpy's _lerp with its t >= 0.5 branch.
double numpy_lerp(double lo, double hi, double t) {
  const double diff = hi - lo;
  return t >= 0.5 ? hi - diff * (1.0 - t) : lo + diff * t;
}

struct PercentilePlan {
  std::int64_t lo_rank = 0, hi_rank = 0;
  double gamma = 0;
};

PercentilePlan plan_percentile(std::int64_t n, double q) {
  const double virtual_index = static_cast<double>(n - 1) * (q / 100.0);
  const double previous = std::floor(virtual_index);
  PercentilePlan plan;
  if (virtual_index >= static_cast<double>(n - 1)) {  // numpy takes the last element twice
    plan.lo_rank = plan.hi_rank = n - 1;
  } else {
    plan.lo_rank = static_cast<std::int64_t>(previous);
    plan.hi_rank = plan.lo_rank + 1;
  }
  plan.gamma = virtual_index - previous;
  return plan;
}

// The features of n >= 1 ROI values in ROI order, given the level histogram (np.unique(..., return_counts=True) over
// the ROI levels, indexed by level) and the same values with their levels in any order, with level 0 for values to
// skip (`values_by_level`, `levels`: the ROI itself, or a whole plane).
FeatureClassValues features_of_roi(std::span<const double> roi_values, const std::vector<std::int64_t>& level_counts,
                                   std::span<const double> values_by_level, std::span<const std::int32_t> levels,
                                   const FirstOrderSettings& settings) {
  const std::size_t n = roi_values.size();
  const auto n_double = static_cast<double>(n);
  const auto x = roi_values.data();
  const double shift = settings.voxel_array_shift;

  // Sum of values and of shifted squares (Energy).
  const auto [sum, energy] =
      numpy_pairwise_sums<2>(0, n, [x, shift](std::size_t first, std::size_t count, NumpyTermBlock<2>& t) {
        for (std::size_t i = 0; i < count; ++i) {
          const double v = x[first + i], shifted = v + shift;
          t[0][i] = v;
          t[1][i] = shifted * shifted;
        }
      });
  if (!std::isfinite(sum)) throw std::invalid_argument("first-order features: non-finite value inside the ROI");
  const double mean = sum / n_double;

  // Percentiles, median, minimum and maximum from the order statistics they need.
  const auto signed_n = static_cast<std::int64_t>(n);
  const std::array<double, 4> quantiles = {10, 25, 75, 90};
  std::array<PercentilePlan, 4> plans;
  std::vector<std::int64_t> ranks;
  for (std::size_t k = 0; k < quantiles.size(); ++k) {
    plans[k] = plan_percentile(signed_n, quantiles[k]);
    ranks.push_back(plans[k].lo_rank);
    ranks.push_back(plans[k].hi_rank);
  }
  ranks.push_back((signed_n - 1) / 2);  // median: the middle value, or the two around the middle
  ranks.push_back(signed_n / 2);
  ranks.push_back(0);
  ranks.push_back(signed_n - 1);
  const std::vector<double> ordered = order_statistics(values_by_level, levels, level_counts, ranks);
  std::array<double, 4> percentile;
  for (std::size_t k = 0; k < plans.size(); ++k) {
    percentile[k] = numpy_lerp(ordered[2 * k], ordered[2 * k + 1], plans[k].gamma);
  }
  const double p10 = percentile[0], p25 = percentile[1], p75 = percentile[2], p90 = percentile[3];
  const double median = (ordered[8] + ordered[9]) / 2.0;
  const double minimum = ordered[10], maximum = ordered[11];

  // Central moments (_moment, np.nanstd, MeanAbsoluteDeviation) and the 10-90 subset of RobustMeanAbsoluteDeviation,
  // whose nanmean sums the full array with the excluded values as zeros.
  const auto [sq, cube, fourth, absolute, robust_sum, robust_count] =
      numpy_pairwise_sums<6>(0, n, [x, mean, p10, p90](std::size_t first, std::size_t count, NumpyTermBlock<6>& t) {
        for (std::size_t i = 0; i < count; ++i) {
          const double v = x[first + i], d = v - mean, d2 = d * d;
          const bool in = (v - p10 >= 0) & (v - p90 <= 0);  // inside the closed 10-90 range
          t[0][i] = d2;
          t[1][i] = d2 * d;
          t[2][i] = d2 * d2;
          t[3][i] = std::abs(d);
          t[4][i] = in ? v : 0.0;
          t[5][i] = in ? 1.0 : 0.0;
        }
      });
  double robust_mad = std::numeric_limits<double>::quiet_NaN();  // nanmean of an all-NaN row
  if (robust_count > 0) {
    const double robust_mean = robust_sum / robust_count;
    const auto [robust_abs] = numpy_pairwise_sums<1>(
        0, n, [x, p10, p90, robust_mean](std::size_t first, std::size_t count, NumpyTermBlock<1>& t) {
          const double* v = x + first;
          double* out = t[0].data();
          for (std::size_t i = 0; i < count; ++i) {
            const bool in = (v[i] - p10 >= 0) & (v[i] - p90 <= 0);  // inside the closed 10-90 range
            const double keep = in ? 1.0 : 0.0;
            out[i] = std::abs(v[i] - robust_mean) * keep;  // (finite values: 0 outside)
          }
        });
    robust_mad = robust_abs / robust_count;
  }
  double m2 = sq / n_double;
  const double m3 = cube / n_double;
  const double m4 = fourth / n_double;
  const double sd = std::sqrt(sq / n_double);
  if (m2 == 0) m2 = 1;  // flat region: skewness and kurtosis come out 0

  // Histogram entropy and uniformity over the levels present (p_i), ascending.
  std::vector<double> p;
  for (std::int64_t c : level_counts) {
    if (c > 0) p.push_back(static_cast<double>(c) / n_double);
  }
  const auto [plogp, p_squared] =
      numpy_pairwise_sums<2>(0, p.size(), [&p](std::size_t first, std::size_t count, NumpyTermBlock<2>& t) {
        for (std::size_t i = 0; i < count; ++i) {
          const double pi = p[first + i];
          t[0][i] = pi * std::log2(pi + kEps);
          t[1][i] = pi * pi;
        }
      });

  FeatureClassValues out;
  out.names = kNames;
  out.values = {
      p10,                             // 10Percentile
      p90,                             // 90Percentile
      energy,                          // Energy
      -1.0 * plogp,                    // Entropy
      p75 - p25,                       // InterquartileRange
      m4 / (m2 * m2),                  // Kurtosis (not excess: IBSI's + 3)
      maximum,                         // Maximum
      absolute / n_double,             // MeanAbsoluteDeviation
      mean,                            // Mean
      median,                          // Median
      minimum,                         // Minimum
      maximum - minimum,               // Range
      robust_mad,                      // RobustMeanAbsoluteDeviation
      std::sqrt(energy / n_double),    // RootMeanSquared
      m3 / std::pow(m2, 1.5),          // Skewness
      energy * settings.voxel_volume,  // TotalEnergy
      p_squared,                       // Uniformity
      sd * sd,                         // Variance (np.nanstd ** 2)
  };
  return out;
}

}  // namespace

std::span<const std::string_view> firstorder_feature_names() { return kNames; }

FeatureClassValues firstorder_features(std::span<const double> roi_values, std::span<const std::int32_t> roi_levels,
                                       const FirstOrderSettings& settings) {
  if (roi_values.empty()) throw std::invalid_argument("first-order features of an empty region of interest");
  if (roi_values.size() != roi_levels.size()) {
    throw std::invalid_argument("first-order features: values and levels differ in number");
  }
  return features_of_roi(roi_values, level_histogram(roi_levels), roi_values, roi_levels, settings);
}

FeatureClassValues firstorder_features(const ImageD& image, const Discretized& d, const FirstOrderSettings& settings) {
  const auto pixels = static_cast<std::size_t>(d.width) * static_cast<std::size_t>(d.height);
  if (image.channels != 1 || image.width != d.width || image.height != d.height || image.data.size() != pixels ||
      d.levels.size() != pixels) {
    throw std::invalid_argument("first-order features: the image and its discretised levels differ in size");
  }
  // The ROI values in row-major order and the level histogram in one sweep: every pixel is written at the next free
  // place, which only advances inside the ROI (one spare place at the end); four interleaved partial histograms
  // (bin 0 counts the pixels outside).
  if (d.ng < 0) throw std::invalid_argument("first-order features: negative gray level count");
  const auto bins = static_cast<std::size_t>(d.ng) + 1;
  std::vector<std::int32_t> partial(4 * bins, 0);
  const auto values = std::make_unique_for_overwrite<double[]>(pixels + 1);
  const std::int32_t* level = d.levels.data();
  const double* pixel = image.data.data();
  std::size_t roi = 0;
  const auto take = [&](std::size_t lane, std::size_t i) {
    const auto g = static_cast<std::uint32_t>(level[i]);
    if (g >= bins) throw std::invalid_argument("first-order features: a level outside 0..ng");
    values[roi] = pixel[i];
    ++partial[lane * bins + g];
    roi += g > 0 ? 1 : 0;
  };
  std::size_t i = 0;
  for (; i + 4 <= pixels; i += 4) {
    take(0, i);
    take(1, i + 1);
    take(2, i + 2);
    take(3, i + 3);
  }
  for (; i < pixels; ++i) take(0, i);
  if (roi == 0) throw std::invalid_argument("first-order features of an empty region of interest");
  std::vector<std::int64_t> counts(bins, 0);
  for (std::size_t g = 1; g < bins; ++g) {
    counts[g] = std::int64_t{partial[g]} + partial[bins + g] + partial[2 * bins + g] + partial[3 * bins + g];
  }
  return features_of_roi(std::span<const double>(values.get(), roi), counts, image.data, d.levels, settings);
}

}  // namespace chexgen::radiomics
