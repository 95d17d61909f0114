#include "chexgen/radiomics/glrlm.h"
#include "chexgen/radiomics/texture_plane.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <utility>
#include <vector>

namespace chexgen::radiomics {
namespace {

// getter names of RadiomicsGLRLM in inspect.getmembers order.
constexpr std::array<std::string_view, 16> kNames = {"GrayLevelNonUniformity",
                                                     "GrayLevelNonUniformityNormalized",
                                                     "GrayLevelVariance",
                                                     "HighGrayLevelRunEmphasis",
                                                     "LongRunEmphasis",
                                                     "LongRunHighGrayLevelEmphasis",
                                                     "LongRunLowGrayLevelEmphasis",
                                                     "LowGrayLevelRunEmphasis",
                                                     "RunEntropy",
                                                     "RunLengthNonUniformity",
                                                     "RunLengthNonUniformityNormalized",
                                                     "RunPercentage",
                                                     "RunVariance",
                                                     "ShortRunEmphasis",
                                                     "ShortRunHighGrayLevelEmphasis",
                                                     "ShortRunLowGrayLevelEmphasis"};

enum Feature : std::size_t {
  kGln,
  kGlnn,
  kGlv,
  kHglre,
  kLre,
  kLrhgle,
  kLrlgle,
  kLglre,
  kRe,
  kRln,
  kRlnn,
  kRp,
  kRv,
  kSre,
  kSrhgle,
  kSrlgle,
  kFeatureCount
};
static_assert(kFeatureCount == kNames.size());
using Values = std::array<double, kFeatureCount>;

constexpr double kEps = std::numeric_limits<double>::epsilon();  // np.spacing(1)
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::int32_t kShortRuns = 16;  // runs up to this length are counted in a table, longer ones listed

// The four in-plane directions (dy, dx) in generateAngles' order for distance 1.
enum Angle : std::size_t { kDiagonal, kVertical, kAntiDiagonal, kHorizontal, kAngleCount };
constexpr std::array<std::array<int, 2>, kAngleCount> kOffsets = {{{1, 1}, {1, 0}, {1, -1}, {0, 1}}};

// The angles generateAngles keeps for a box of this size: the first (Na_d - Na_dd) / 2 of those that fit.
std::vector<Angle> angles_for_box(int width, int height) {
  const std::size_t wanted = static_cast<std::size_t>(((height > 1 ? 3 : 1) * (width > 1 ? 3 : 1) - 1) / 2);
  std::vector<Angle> out;
  for (std::size_t a = 0; a < kAngleCount && out.size() < wanted; ++a) {
    if (std::abs(kOffsets[a][0]) < height && std::abs(kOffsets[a][1]) < width) out.push_back(static_cast<Angle>(a));
  }
  return out;
}

// The run-length matrix of one angle as run counts: a table for short runs, a list for the others.
constexpr std::size_t kRow = kShortRuns + 1;  // table columns: lengths 1 .. kShortRuns, then all longer runs
constexpr std::int32_t kLongColumn = kShortRuns + 1;
struct RunMatrix {
  // [1 + rank][min(length, kShortRuns + 1) - 1]; row 0 (pixels outside the ROI) and the last column are not read
  std::vector<std::int32_t> table;
  std::vector<std::uint64_t> long_runs;  // length << 32 | rank, one entry per run longer than kShortRuns
};

// calculate_glrlm for the four directions, row by row: a pixel continues the run of its predecessor along the
// direction when that has the same level (pixels outside the ROI hold 0 and never match a ROI pixel), and a run is
// counted at its last pixel, where the successor differs. Run lengths of a row are computed first (branch-free),
// then counted; pixels outside the ROI are counted in row 0 of the tables, which is never read.
void count_runs(const TexturePlane& p, std::size_t n, std::array<RunMatrix, kAngleCount>& m) {
  for (RunMatrix& a : m) {
    a.table.assign((n + 1) * kRow, 0);
    a.long_runs.clear();
  }
  const std::ptrdiff_t s = p.stride;
  const auto w = static_cast<std::ptrdiff_t>(p.width);
  // Length of the run ending at each pixel (x = -1 .. w) of the previous and of the current row, per direction with a
  // vertical step, and of the current row horizontally.
  std::vector<std::int32_t> buffers(7 * static_cast<std::size_t>(w + 2), 0);
  std::array<std::int32_t*, 7> rows{};
  for (std::size_t k = 0; k < 7; ++k) rows[k] = buffers.data() + k * static_cast<std::size_t>(w + 2) + 1;
  auto [prev_d, prev_v, prev_a, cur_d, cur_v, cur_a, cur_h] = rows;
  std::int32_t* t_d = m[kDiagonal].table.data();
  std::int32_t* t_v = m[kVertical].table.data();
  std::int32_t* t_a = m[kAntiDiagonal].table.data();
  std::int32_t* t_h = m[kHorizontal].table.data();
  auto column = [](std::int32_t length) { return static_cast<std::size_t>(std::min(length, kLongColumn)) - 1; };
  auto note_long = [&](Angle a, std::int32_t length, bool ends, std::int32_t rank) {
    if (length > kShortRuns && ends) {
      m[a].long_runs.push_back(static_cast<std::uint64_t>(length) << 32 | static_cast<std::uint32_t>(rank));
    }
  };
  // Run length = 1 + (previous length if the predecessor matches, else 0), in integer arithmetic: the matches of a
  // smooth image follow no pattern a branch predictor could learn.
  auto match = [](std::int32_t a, std::int32_t b) { return -static_cast<std::int32_t>(a == b); };
  for (int y = 0; y < p.height; ++y) {
    const std::int32_t* c = p.cells.data() + p.at(0, y);
    for (std::ptrdiff_t x = 0; x < w; ++x) {
      cur_d[x] = 1 + (prev_d[x - 1] & match(c[x], c[x - s - 1]));
      cur_v[x] = 1 + (prev_v[x] & match(c[x], c[x - s]));
      cur_a[x] = 1 + (prev_a[x + 1] & match(c[x], c[x - s + 1]));
    }
    std::int32_t horizontal = 0;
    for (std::ptrdiff_t x = 0; x < w; ++x) {
      horizontal = 1 + (horizontal & match(c[x], c[x - 1]));
      cur_h[x] = horizontal;
    }
    for (std::ptrdiff_t x = 0; x < w; ++x) {
      const std::int32_t v = c[x];
      const std::size_t base = static_cast<std::size_t>(v) * kRow;
      t_h[base + column(cur_h[x])] += c[x + 1] != v;
      t_d[base + column(cur_d[x])] += c[x + s + 1] != v;
      t_v[base + column(cur_v[x])] += c[x + s] != v;
      t_a[base + column(cur_a[x])] += c[x + s - 1] != v;
      if (std::max(std::max(cur_h[x], cur_d[x]), std::max(cur_v[x], cur_a[x])) > kShortRuns && v != 0) {
        note_long(kHorizontal, cur_h[x], c[x + 1] != v, v - 1);
        note_long(kDiagonal, cur_d[x], c[x + s + 1] != v, v - 1);
        note_long(kVertical, cur_v[x], c[x + s] != v, v - 1);
        note_long(kAntiDiagonal, cur_a[x], c[x + s - 1] != v, v - 1);
      }
    }
    std::swap(prev_d, cur_d);
    std::swap(prev_v, cur_v);
    std::swap(prev_a, cur_a);
  }
}

// Whether every run of the matrix has length 1.
bool only_single_pixel_runs(const RunMatrix& m, std::size_t n) {
  if (!m.long_runs.empty()) return false;
  for (std::size_t r = 1; r <= n; ++r) {
    for (std::size_t k = 1; k < kRow; ++k) {
      if (m.table[r * kRow + k] != 0) return false;
    }
  }
  return true;
}

// calculate_glrlm's multiElement test: whether some line along the angle holds at least two ROI pixels (gaps
// allowed). Only needed when every run of the angle has length 1.
bool some_line_holds_two(const TexturePlane& p, Angle a) {
  const int dy = kOffsets[a][0], dx = kOffsets[a][1];
  // Line index: y for horizontal lines, x for vertical ones, x - y or x + y for the diagonals.
  std::vector<std::int32_t> count(static_cast<std::size_t>(p.width + p.height), 0);
  for (int y = 0; y < p.height; ++y) {
    for (int x = 0; x < p.width; ++x) {
      if (p.cells[p.at(x, y)] == 0) continue;
      const int line = dy == 0 ? y : dx == 0 ? x : dx > 0 ? x - y + p.height : x + y;
      if (++count[static_cast<std::size_t>(line)] == 2) return true;
    }
  }
  return false;
}

// -sum p log2(p + eps) over cells, p = count / total; cells of equal count share one logarithm.
class CountEntropy {
 public:
  void add(std::int64_t count) {
    if (count < kGrouped) {
      ++cells_[static_cast<std::size_t>(count)];
    } else {
      large_.push_back(static_cast<double>(count));
    }
  }
  double value(double total) const {
    double h = 0;
    for (std::size_t c = 1; c < cells_.size(); ++c) {
      if (cells_[c] == 0) continue;
      const double p = static_cast<double>(c) / total;
      h -= static_cast<double>(cells_[c]) * p * std::log2(p + kEps);
    }
    for (double c : large_) h -= c / total * std::log2(c / total + kEps);
    return h;
  }

 private:
  static constexpr std::int64_t kGrouped = 1024;
  std::vector<std::int64_t> cells_ = std::vector<std::int64_t>(kGrouped, 0);
  std::vector<double> large_;
};

// The features of one angle with at least one run (glrlm.py's coefficients and getters), from the nonzero cells.
Values angle_features(const RunMatrix& m, const std::vector<double>& gray) {
  const std::size_t n = gray.size();
  std::vector<std::uint64_t> long_runs = m.long_runs;
  std::sort(long_runs.begin(), long_runs.end());
  const std::size_t longest = long_runs.empty() ? kShortRuns : static_cast<std::size_t>(long_runs.back() >> 32);
  std::vector<double> pg(n, 0.0), pr(longest + 1, 0.0);
  double nr = 0, srlgle = 0, srhgle = 0, lrlgle = 0, lrhgle = 0;
  CountEntropy entropy;
  auto add_cell = [&](std::size_t r, std::size_t length, std::int64_t count) {
    const double c = static_cast<double>(count);
    const double j2 = static_cast<double>(length * length), i2 = gray[r] * gray[r];
    pg[r] += c;
    pr[length] += c;
    nr += c;
    srlgle += c / (i2 * j2);
    srhgle += c * i2 / j2;
    lrlgle += c * j2 / i2;
    lrhgle += c * i2 * j2;
    entropy.add(count);
  };
  for (std::size_t r = 0; r < n; ++r) {
    for (std::size_t k = 0; k < kShortRuns; ++k) {
      if (const std::int32_t c = m.table[(r + 1) * kRow + k]; c != 0) add_cell(r, k + 1, c);
    }
  }
  for (std::size_t k = 0; k < long_runs.size();) {
    std::size_t e = k;
    while (e < long_runs.size() && long_runs[e] == long_runs[k]) ++e;
    const auto length = static_cast<std::size_t>(long_runs[k] >> 32);
    add_cell(long_runs[k] & 0xffffffffu, length, static_cast<std::int64_t>(e - k));
    k = e;
  }

  double gln = 0, lglre = 0, hglre = 0, ui = 0;
  for (std::size_t r = 0; r < n; ++r) {
    const double i2 = gray[r] * gray[r];
    gln += pg[r] * pg[r];
    lglre += pg[r] / i2;
    hglre += pg[r] * i2;
    ui += pg[r] / nr * gray[r];
  }
  double glv = 0;
  for (std::size_t r = 0; r < n; ++r) glv += pg[r] / nr * (gray[r] - ui) * (gray[r] - ui);
  double sre = 0, lre = 0, rln = 0, np = 0, uj = 0;
  for (std::size_t l = 1; l < pr.size(); ++l) {
    if (pr[l] == 0) continue;
    const double j = static_cast<double>(l);
    sre += pr[l] / (j * j);
    lre += pr[l] * j * j;
    rln += pr[l] * pr[l];
    np += pr[l] * j;
    uj += pr[l] / nr * j;
  }
  double rv = 0;
  for (std::size_t l = 1; l < pr.size(); ++l) {
    const double dev = static_cast<double>(l) - uj;
    rv += pr[l] / nr * dev * dev;
  }

  Values f{};
  f[kSre] = sre / nr;
  f[kLre] = lre / nr;
  f[kGln] = gln / nr;
  f[kGlnn] = gln / (nr * nr);
  f[kRln] = rln / nr;
  f[kRlnn] = rln / (nr * nr);
  f[kRp] = nr / np;
  f[kGlv] = glv;
  f[kRv] = rv;
  f[kRe] = entropy.value(nr);
  f[kLglre] = lglre / nr;
  f[kHglre] = hglre / nr;
  f[kSrlgle] = srlgle / nr;
  f[kSrhgle] = srhgle / nr;
  f[kLrlgle] = lrlgle / nr;
  f[kLrhgle] = lrhgle / nr;
  return f;
}

}  // namespace

std::span<const std::string_view> glrlm_feature_names() { return kNames; }

FeatureClassValues glrlm_features(const Discretized& d) {
  return glrlm_features(texture_plane(d, LevelCoding::rank, "GLRLM"));
}

FeatureClassValues glrlm_features(const TexturePlane& p) {
  require_rank_coding(p, "GLRLM");
  const std::size_t n = p.gray.size();
  std::array<RunMatrix, kAngleCount> matrices;
  count_runs(p, n, matrices);

  std::vector<Values> per_angle;
  for (Angle a : angles_for_box(p.box_width, p.box_height)) {
    // calculate_glrlm zeroes an angle none of whose lines holds two ROI pixels; it is then deleted as empty.
    if (only_single_pixel_runs(matrices[a], n) && !some_line_holds_two(p, a)) continue;
    per_angle.push_back(angle_features(matrices[a], p.gray));
  }
  FeatureClassValues out{kNames, std::vector<double>(kFeatureCount, kNaN)};
  if (per_angle.empty()) return out;
  for (std::size_t f = 0; f < kFeatureCount; ++f) {
    double sum = 0;
    for (const Values& v : per_angle) sum += v[f];
    out.values[f] = sum / static_cast<double>(per_angle.size());
  }
  return out;
}

}  // namespace chexgen::radiomics
