#include "chexgen/radiomics/gldm.h"
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

// getter names of RadiomicsGLDM in inspect.getmembers order; GrayLevelNonUniformityNormalized and
// DependencePercentage are deprecated and left out.
constexpr std::array<std::string_view, 14> kNames = {"DependenceEntropy",
                                                     "DependenceNonUniformity",
                                                     "DependenceNonUniformityNormalized",
                                                     "DependenceVariance",
                                                     "GrayLevelNonUniformity",
                                                     "GrayLevelVariance",
                                                     "HighGrayLevelEmphasis",
                                                     "LargeDependenceEmphasis",
                                                     "LargeDependenceHighGrayLevelEmphasis",
                                                     "LargeDependenceLowGrayLevelEmphasis",
                                                     "LowGrayLevelEmphasis",
                                                     "SmallDependenceEmphasis",
                                                     "SmallDependenceHighGrayLevelEmphasis",
                                                     "SmallDependenceLowGrayLevelEmphasis"};

enum Feature : std::size_t {
  kDe,
  kDn,
  kDnn,
  kDv,
  kGln,
  kGlv,
  kHgle,
  kLde,
  kLdhgle,
  kLdlgle,
  kLgle,
  kSde,
  kSdhgle,
  kSdlgle,
  kFeatureCount
};
static_assert(kFeatureCount == kNames.size());

constexpr double kEps = std::numeric_limits<double>::epsilon();  // np.spacing(1)
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t kDependences = 9;  // 1 + up to 8 dependent neighbours

// calculate_gldm with alpha 0: per ROI pixel, the number of its 8 neighbours with the same level (pixels outside the
// ROI hold 0 and never match a ROI pixel). Counts as [1 + rank][dependent neighbours], a row at a time: the counts of
// the row first (branch-free), then the tally, where the pixels outside the ROI land in row 0, which is never read.
std::vector<std::int32_t> count_dependences(const TexturePlane& p) {
  std::vector<std::int32_t> counts((p.gray.size() + 1) * kDependences, 0);
  std::vector<std::int32_t> dependent(static_cast<std::size_t>(p.width));
  const std::ptrdiff_t s = p.stride;
  for (int y = 0; y < p.height; ++y) {
    const std::int32_t* c = p.cells.data() + p.at(0, y);
    for (std::ptrdiff_t x = 0; x < p.width; ++x) {
      const std::int32_t v = c[x];
      dependent[static_cast<std::size_t>(x)] = (c[x - s - 1] == v) + (c[x - s] == v) + (c[x - s + 1] == v) +
                                               (c[x - 1] == v) + (c[x + 1] == v) + (c[x + s - 1] == v) +
                                               (c[x + s] == v) + (c[x + s + 1] == v);
    }
    for (std::ptrdiff_t x = 0; x < p.width; ++x) {
      const auto row = static_cast<std::size_t>(c[x]) * kDependences;
      ++counts[row + static_cast<std::size_t>(dependent[static_cast<std::size_t>(x)])];
    }
  }
  counts.erase(counts.begin(), counts.begin() + kDependences);
  return counts;
}

// gldm.py's coefficients and getters over the nonzero cells; dependence j = 1 + dependent neighbours.
std::vector<double> dependence_features(const std::vector<std::int32_t>& counts, const std::vector<double>& gray) {
  const std::size_t n = gray.size();
  std::vector<double> pg(n, 0.0);
  std::array<double, kDependences> pd{};
  double nz = 0, sdlgle = 0, sdhgle = 0, ldlgle = 0, ldhgle = 0;
  for (std::size_t r = 0; r < n; ++r) {
    const double i2 = gray[r] * gray[r];
    for (std::size_t k = 0; k < kDependences; ++k) {
      const double c = counts[r * kDependences + k];
      if (c == 0) continue;
      const double j = static_cast<double>(k + 1), j2 = j * j;
      pg[r] += c;
      pd[k] += c;
      nz += c;
      sdlgle += c / (i2 * j2);
      sdhgle += c * i2 / j2;
      ldlgle += c * j2 / i2;
      ldhgle += c * i2 * j2;
    }
  }
  double entropy = 0;
  for (std::int32_t c : counts) {
    if (c == 0) continue;
    const double p = c / nz;
    entropy -= p * std::log2(p + kEps);
  }
  double gln = 0, lgle = 0, hgle = 0, ui = 0;
  for (std::size_t r = 0; r < n; ++r) {
    const double i2 = gray[r] * gray[r];
    gln += pg[r] * pg[r];
    lgle += pg[r] / i2;
    hgle += pg[r] * i2;
    ui += pg[r] / nz * gray[r];
  }
  double glv = 0;
  for (std::size_t r = 0; r < n; ++r) glv += pg[r] / nz * (gray[r] - ui) * (gray[r] - ui);
  double sde = 0, lde = 0, dn = 0, uj = 0;
  for (std::size_t k = 0; k < kDependences; ++k) {
    const double j = static_cast<double>(k + 1);
    sde += pd[k] / (j * j);
    lde += pd[k] * j * j;
    dn += pd[k] * pd[k];
    uj += pd[k] / nz * j;
  }
  double dv = 0;
  for (std::size_t k = 0; k < kDependences; ++k) {
    const double dev = static_cast<double>(k + 1) - uj;
    dv += pd[k] / nz * dev * dev;
  }

  std::vector<double> f(kFeatureCount);
  f[kSde] = sde / nz;
  f[kLde] = lde / nz;
  f[kGln] = gln / nz;
  f[kDn] = dn / nz;
  f[kDnn] = dn / (nz * nz);
  f[kGlv] = glv;
  f[kDv] = dv;
  f[kDe] = entropy;
  f[kLgle] = lgle / nz;
  f[kHgle] = hgle / nz;
  f[kSdlgle] = sdlgle / nz;
  f[kSdhgle] = sdhgle / nz;
  f[kLdlgle] = ldlgle / nz;
  f[kLdhgle] = ldhgle / nz;
  return f;
}

}  // namespace

std::span<const std::string_view> gldm_feature_names() { return kNames; }

FeatureClassValues gldm_features(const Discretized& d) {
  return gldm_features(texture_plane(d, LevelCoding::rank, "GLDM"));
}

FeatureClassValues gldm_features(const TexturePlane& p) {
  require_rank_coding(p, "GLDM");
  if (p.box_width == 1 && p.box_height == 1) return {kNames, std::vector<double>(kFeatureCount, kNaN)};
  return {kNames, dependence_features(count_dependences(p), p.gray)};
}

}  // namespace chexgen::radiomics
