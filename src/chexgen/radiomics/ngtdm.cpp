#include "chexgen/radiomics/ngtdm.h"
#include "chexgen/radiomics/texture_plane.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

namespace chexgen::radiomics {
namespace {

// getter names of RadiomicsNGTDM in inspect.getmembers order.
constexpr std::array<std::string_view, 5> kNames = {"Busyness", "Coarseness", "Complexity", "Contrast", "Strength"};
enum Feature : std::size_t { kBusyness, kCoarseness, kComplexity, kContrast, kStrength, kFeatureCount };
static_assert(kFeatureCount == kNames.size());

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// One gray level of the NGTDM: its value i, pixel count n_i and sum of differences s_i.
struct Row {
  double level = 0, count = 0, s = 0;
};

// calculate_ngtdm: per ROI pixel, |level - mean level of its neighbours inside the ROI| (0 when it has none), a row
// at a time. The integer sums come first: per row, the level sum and the ROI count of each horizontal triple, so a
// pixel's 8 neighbours are the triples above and below plus its left and right neighbours (the padding rows and
// columns hold 0 and add nothing). Then the differences of the row (branch-free, the same double operations as one
// neighbour at a time), then the sums per level in row-major order, as cmatrices.c adds them up. Pixels outside the
// ROI land in level 0, which is never read.
std::vector<Row> count_differences(const TexturePlane& p, std::int32_t ng) {
  std::vector<std::int64_t> count(static_cast<std::size_t>(ng) + 1, 0);
  std::vector<double> sum_diff(static_cast<std::size_t>(ng) + 1, 0.0);
  const auto w = static_cast<std::size_t>(p.width);
  std::vector<double> diff(w);
  // Triple sums and counts of rows y - 1, y, y + 1 (rolling), for x = 0 .. w - 1.
  std::vector<std::int32_t> triples(6 * w);
  std::array<std::int32_t*, 3> sums{}, inside{};
  for (std::size_t k = 0; k < 3; ++k) {
    sums[k] = triples.data() + 2 * k * w;
    inside[k] = sums[k] + w;
  }
  const auto fill = [&](int y, std::int32_t* sum, std::int32_t* in) {  // y in -1 .. height (padding rows: 0)
    const std::int32_t* c = p.cells.data() + static_cast<std::size_t>(y + 1) * p.stride + 1;
    for (std::size_t x = 0; x < w; ++x) {
      sum[x] = c[x - 1] + c[x] + c[x + 1];
      in[x] = (c[x - 1] != 0) + (c[x] != 0) + (c[x + 1] != 0);
    }
  };
  fill(-1, sums[0], inside[0]);
  fill(0, sums[1], inside[1]);
  for (int y = 0; y < p.height; ++y) {
    fill(y + 1, sums[2], inside[2]);
    const std::int32_t* c = p.cells.data() + p.at(0, y);
    const std::int32_t *above = sums[0], *below = sums[2], *in_above = inside[0], *in_below = inside[2];
    for (std::size_t x = 0; x < w; ++x) {
      const std::int32_t left = c[x - 1], right = c[x + 1];
      const std::int32_t sum = above[x] + below[x] + left + right;
      const std::int32_t in = in_above[x] + in_below[x] + (left != 0) + (right != 0);
      const double d = std::fabs(static_cast<double>(c[x]) - static_cast<double>(sum) / std::max(in, 1));
      diff[x] = in == 0 ? 0.0 : d;
    }
    for (std::size_t x = 0; x < w; ++x) {
      const auto v = static_cast<std::size_t>(c[x]);
      ++count[v];
      sum_diff[v] += diff[x];
    }
    std::rotate(sums.begin(), sums.begin() + 1, sums.end());
    std::rotate(inside.begin(), inside.begin() + 1, inside.end());
  }
  std::vector<Row> rows;
  for (std::size_t level = 1; level < count.size(); ++level) {
    if (count[level] != 0) rows.push_back({static_cast<double>(level), static_cast<double>(count[level]), sum_diff[level]});
  }
  return rows;
}

// ngtdm.py's getters over the gray levels present (p_i > 0). The double sums over level pairs are rewritten where an
// exact identity allows: sum_ij p_i p_j (i - j)^2 = 2 P sum_i p_i (i - mu)^2 (P = sum p_i, mu = sum p_i i / P);
// sum_ij (p_i + p_j)(i - j)^2 = 2 sum_i p_i (Ngp (i - c)^2 + sum_j (j - c)^2) (c the mean level); sum_ij |x_i - x_j|
// from the sorted x by its gaps, sum_k (x_(k) - x_(k-1)) k (Ngp - k), twice.
std::vector<double> difference_features(const std::vector<Row>& rows) {
  const std::size_t ngp = rows.size();
  double nvp = 0;
  for (const Row& r : rows) nvp += r.count;
  std::vector<double> p(ngp), ps(ngp), ip(ngp);
  double sum_ps = 0, sum_s = 0, sum_p = 0, sum_pi = 0, sum_level = 0;
  for (std::size_t k = 0; k < ngp; ++k) {
    p[k] = rows[k].count / nvp;
    ps[k] = p[k] * rows[k].s;
    ip[k] = rows[k].level * p[k];
    sum_ps += ps[k];
    sum_s += rows[k].s;
    sum_p += p[k];
    sum_pi += p[k] * rows[k].level;
    sum_level += rows[k].level;
  }
  const double mu = sum_pi / sum_p, centre = sum_level / static_cast<double>(ngp);
  double spread_p = 0, spread_levels = 0;
  for (std::size_t k = 0; k < ngp; ++k) {
    spread_p += p[k] * (rows[k].level - mu) * (rows[k].level - mu);
    spread_levels += (rows[k].level - centre) * (rows[k].level - centre);
  }
  double strength_sum = 0;
  for (std::size_t k = 0; k < ngp; ++k) {
    const double dev = rows[k].level - centre;
    strength_sum += p[k] * (static_cast<double>(ngp) * dev * dev + spread_levels);
  }
  strength_sum *= 2;

  std::sort(ip.begin(), ip.end());
  double abs_diff = 0;
  for (std::size_t k = 1; k < ngp; ++k) {
    abs_diff += (ip[k] - ip[k - 1]) * static_cast<double>(k) * static_cast<double>(ngp - k);
  }
  abs_diff *= 2;

  double complexity = 0;
  for (std::size_t a = 0; a < ngp; ++a) {
    for (std::size_t b = a + 1; b < ngp; ++b) {
      complexity += std::fabs(rows[a].level - rows[b].level) * (ps[a] + ps[b]) / (p[a] + p[b]);
    }
  }
  complexity *= 2;

  std::vector<double> f(kFeatureCount);
  f[kCoarseness] = sum_ps != 0 ? 1 / sum_ps : 1e6;
  const double div = static_cast<double>(ngp) * static_cast<double>(ngp - 1);
  f[kContrast] = div != 0 ? 2 * sum_p * spread_p * sum_s / nvp / div : 0.0;
  f[kBusyness] = abs_diff != 0 ? sum_ps / abs_diff : 0.0;
  f[kComplexity] = complexity / nvp;
  f[kStrength] = sum_s != 0 ? strength_sum / sum_s : 0.0;
  return f;
}

}  // namespace

std::span<const std::string_view> ngtdm_feature_names() { return kNames; }

FeatureClassValues ngtdm_features(const Discretized& d) {
  const TexturePlane p = texture_plane(d, LevelCoding::level, "NGTDM");
  if (p.box_width == 1 && p.box_height == 1) return {kNames, std::vector<double>(kFeatureCount, kNaN)};
  return {kNames, difference_features(count_differences(p, d.ng))};
}

FeatureClassValues ngtdm_features(const TexturePlane& ranks) {
  require_rank_coding(ranks, "NGTDM");
  if (ranks.box_width == 1 && ranks.box_height == 1) return {kNames, std::vector<double>(kFeatureCount, kNaN)};
  // The neighbour means need the levels themselves; ranks are the levels when every level 1..ng occurs.
  const auto ng = static_cast<std::int32_t>(ranks.gray.back());
  if (ranks.ranks_are_levels()) return {kNames, difference_features(count_differences(ranks, ng))};
  return {kNames, difference_features(count_differences(level_coded(ranks), ng))};
}

}  // namespace chexgen::radiomics
