#include "chexgen/radiomics/glszm.h"
#include "chexgen/radiomics/texture_plane.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <vector>

namespace chexgen::radiomics {
namespace {

// getter names of RadiomicsGLSZM in inspect.getmembers order.
constexpr std::array<std::string_view, 16> kNames = {"GrayLevelNonUniformity",
                                                     "GrayLevelNonUniformityNormalized",
                                                     "GrayLevelVariance",
                                                     "HighGrayLevelZoneEmphasis",
                                                     "LargeAreaEmphasis",
                                                     "LargeAreaHighGrayLevelEmphasis",
                                                     "LargeAreaLowGrayLevelEmphasis",
                                                     "LowGrayLevelZoneEmphasis",
                                                     "SizeZoneNonUniformity",
                                                     "SizeZoneNonUniformityNormalized",
                                                     "SmallAreaEmphasis",
                                                     "SmallAreaHighGrayLevelEmphasis",
                                                     "SmallAreaLowGrayLevelEmphasis",
                                                     "ZoneEntropy",
                                                     "ZonePercentage",
                                                     "ZoneVariance"};

enum Feature : std::size_t {
  kGln,
  kGlnn,
  kGlv,
  kHglze,
  kLae,
  kLahgle,
  kLalgle,
  kLglze,
  kSzn,
  kSznn,
  kSae,
  kSahgle,
  kSalgle,
  kZe,
  kZp,
  kZv,
  kFeatureCount
};
static_assert(kFeatureCount == kNames.size());

constexpr double kEps = std::numeric_limits<double>::epsilon();  // np.spacing(1)
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::int32_t kSmallZones = 16;  // zones up to this size are counted in a table, larger ones listed

// The size zone matrix as zone counts: a table for small zones, a list for the others.
struct ZoneMatrix {
  std::vector<std::int32_t> small_zones;   // [rank][size - 1], size <= kSmallZones
  std::vector<std::uint64_t> large_zones;  // size << 32 | rank
};

// Root of a provisional label in a union-find whose links all point to smaller labels, halving the path.
std::int32_t root_of(std::int32_t* parent, std::int32_t l) {
  while (parent[l] != l) {
    parent[l] = parent[parent[l]];
    l = parent[l];
  }
  return l;
}

// The zones of calculate_glszm (8-connected pixels of one level) in one pass over the rows with provisional labels:
// a pixel takes the label of its north neighbour if that has its level (west, north-west and north-east, its
// neighbours, are then in the zone already), else of its west or north-west one, uniting it with the north-east
// one's when that matches too, else of the north-east one; without any, a new label. Links point to smaller labels,
// so resolving the labels in increasing order gives every label its root, and the zone sizes follow from the pixels
// counted per label.
ZoneMatrix find_zones(const TexturePlane& p) {
  const std::ptrdiff_t s = p.stride;
  const std::int32_t* q = p.cells.data();
  const std::size_t cells = p.cells.size();
  // Per ROI pixel its label (read only where the level matches, so only once written); per label its parent, rank
  // and pixel count, at most one label per pixel.
  const std::unique_ptr<std::int32_t[]> label(new std::int32_t[cells]);
  const std::unique_ptr<std::int32_t[]> parent(new std::int32_t[cells]);
  const std::unique_ptr<std::int32_t[]> rank(new std::int32_t[cells]);
  const std::unique_ptr<std::int32_t[]> pixels(new std::int32_t[cells]);
  std::int32_t next = 0;
  for (int y = 0; y < p.height; ++y) {
    for (std::ptrdiff_t i = static_cast<std::ptrdiff_t>(p.at(0, y)), end = i + p.width; i < end; ++i) {
      const std::int32_t v = q[i];
      if (v == 0) continue;
      std::int32_t l;
      if (q[i - s] == v) {
        l = label[i - s];
      } else if (q[i - 1] == v || q[i - s - 1] == v) {
        l = q[i - 1] == v ? label[i - 1] : label[i - s - 1];
        if (q[i - s + 1] == v) {
          const std::int32_t a = root_of(parent.get(), l), b = root_of(parent.get(), label[i - s + 1]);
          parent[std::max(a, b)] = std::min(a, b);
        }
      } else if (q[i - s + 1] == v) {
        l = label[i - s + 1];
      } else {
        l = next++;
        parent[l] = l;
        rank[l] = v - 1;
        pixels[l] = 0;
      }
      label[i] = l;
      ++pixels[l];
    }
  }
  ZoneMatrix m;
  m.small_zones.assign(p.gray.size() * kSmallZones, 0);
  for (std::int32_t l = 0; l < next; ++l) {
    parent[l] = parent[parent[l]];
    if (parent[l] != l) pixels[parent[l]] += pixels[l];
  }
  for (std::int32_t l = 0; l < next; ++l) {
    if (parent[l] != l) continue;
    const std::int32_t zone = pixels[l];
    if (zone <= kSmallZones) {
      ++m.small_zones[static_cast<std::size_t>(rank[l]) * kSmallZones + static_cast<std::size_t>(zone - 1)];
    } else {
      m.large_zones.push_back(static_cast<std::uint64_t>(zone) << 32 | static_cast<std::uint32_t>(rank[l]));
    }
  }
  return m;
}

// One nonzero cell of the GLSZM.
struct Cell {
  std::uint32_t rank = 0;
  double size = 0, count = 0;
};

// glszm.py's coefficients and getters over the nonzero cells.
std::vector<double> zone_features(const ZoneMatrix& m, const std::vector<double>& gray) {
  const std::size_t n = gray.size();
  std::vector<Cell> cells;
  for (std::size_t r = 0; r < n; ++r) {
    for (std::int32_t z = 1; z <= kSmallZones; ++z) {
      const std::int32_t c = m.small_zones[r * kSmallZones + static_cast<std::size_t>(z - 1)];
      if (c != 0) cells.push_back({static_cast<std::uint32_t>(r), static_cast<double>(z), static_cast<double>(c)});
    }
  }
  // ps over the sizes: the small ones from the table, the large ones from the sorted list (size is the major key).
  std::vector<std::pair<double, double>> ps;  // (size, zones)
  for (std::int32_t z = 1; z <= kSmallZones; ++z) {
    double c = 0;
    for (std::size_t r = 0; r < n; ++r) c += m.small_zones[r * kSmallZones + static_cast<std::size_t>(z - 1)];
    if (c != 0) ps.emplace_back(z, c);
  }
  std::vector<std::uint64_t> large = m.large_zones;
  std::sort(large.begin(), large.end());
  for (std::size_t k = 0; k < large.size();) {
    std::size_t e = k;
    while (e < large.size() && large[e] == large[k]) ++e;
    const double size = static_cast<double>(large[k] >> 32);
    cells.push_back({static_cast<std::uint32_t>(large[k] & 0xffffffffu), size, static_cast<double>(e - k)});
    if (ps.empty() || ps.back().first != size) ps.emplace_back(size, 0.0);
    ps.back().second += static_cast<double>(e - k);
    k = e;
  }

  std::vector<double> pg(n, 0.0);
  double nz = 0, salgle = 0, sahgle = 0, lalgle = 0, lahgle = 0;
  for (const Cell& c : cells) {
    const double i2 = gray[c.rank] * gray[c.rank], j2 = c.size * c.size;
    pg[c.rank] += c.count;
    nz += c.count;
    salgle += c.count / (i2 * j2);
    sahgle += c.count * i2 / j2;
    lalgle += c.count * j2 / i2;
    lahgle += c.count * i2 * j2;
  }
  double entropy = 0;
  for (const Cell& c : cells) {
    const double pz = c.count / nz;
    entropy -= pz * std::log2(pz + kEps);
  }
  double gln = 0, lglze = 0, hglze = 0, ui = 0;
  for (std::size_t r = 0; r < n; ++r) {
    const double i2 = gray[r] * gray[r];
    gln += pg[r] * pg[r];
    lglze += pg[r] / i2;
    hglze += pg[r] * i2;
    ui += pg[r] / nz * gray[r];
  }
  double glv = 0;
  for (std::size_t r = 0; r < n; ++r) glv += pg[r] / nz * (gray[r] - ui) * (gray[r] - ui);
  double sae = 0, lae = 0, szn = 0, np = 0, uj = 0;
  for (const auto& [j, c] : ps) {
    sae += c / (j * j);
    lae += c * j * j;
    szn += c * c;
    np += c * j;
    uj += c / nz * j;
  }
  double zv = 0;
  for (const auto& [j, c] : ps) zv += c / nz * (j - uj) * (j - uj);

  std::vector<double> f(kFeatureCount);
  f[kSae] = sae / nz;
  f[kLae] = lae / nz;
  f[kGln] = gln / nz;
  f[kGlnn] = gln / (nz * nz);
  f[kSzn] = szn / nz;
  f[kSznn] = szn / (nz * nz);
  f[kZp] = nz / np;
  f[kGlv] = glv;
  f[kZv] = zv;
  f[kZe] = entropy;
  f[kLglze] = lglze / nz;
  f[kHglze] = hglze / nz;
  f[kSalgle] = salgle / nz;
  f[kSahgle] = sahgle / nz;
  f[kLalgle] = lalgle / nz;
  f[kLahgle] = lahgle / nz;
  return f;
}

}  // namespace

std::span<const std::string_view> glszm_feature_names() { return kNames; }

FeatureClassValues glszm_features(const Discretized& d) {
  return glszm_features(texture_plane(d, LevelCoding::rank, "GLSZM"));
}

FeatureClassValues glszm_features(const TexturePlane& p) {
  require_rank_coding(p, "GLSZM");
  if (p.box_width == 1 && p.box_height == 1) return {kNames, std::vector<double>(kFeatureCount, kNaN)};
  return {kNames, zone_features(find_zones(p), p.gray)};
}

}  // namespace chexgen::radiomics
