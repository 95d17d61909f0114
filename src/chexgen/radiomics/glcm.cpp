#include "chexgen/radiomics/glcm.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <numbers>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

// Eigen 3.4 (header-only, linked privately as Eigen3::Eigen): the eigenvalues of MCC's Q matrix.
#include <Eigen/Eigenvalues>

namespace chexgen::radiomics {
namespace {

// getter names of RadiomicsGLCM in inspect.getmembers order; Dissimilarity, Homogeneity1/2 and SumVariance are
// deprecated and left out.
constexpr std::array<std::string_view, 24> kNames = {"Autocorrelation",
                                                     "ClusterProminence",
                                                     "ClusterShade",
                                                     "ClusterTendency",
                                                     "Contrast",
                                                     "Correlation",
                                                     "DifferenceAverage",
                                                     "DifferenceEntropy",
                                                     "DifferenceVariance",
                                                     "Id",
                                                     "Idm",
                                                     "Idmn",
                                                     "Idn",
                                                     "Imc1",
                                                     "Imc2",
                                                     "InverseVariance",
                                                     "JointAverage",
                                                     "JointEnergy",
                                                     "JointEntropy",
                                                     "MCC",
                                                     "MaximumProbability",
                                                     "SumAverage",
                                                     "SumEntropy",
                                                     "SumSquares"};

enum Feature : std::size_t {
  kAutocorrelation,
  kClusterProminence,
  kClusterShade,
  kClusterTendency,
  kContrast,
  kCorrelation,
  kDifferenceAverage,
  kDifferenceEntropy,
  kDifferenceVariance,
  kId,
  kIdm,
  kIdmn,
  kIdn,
  kImc1,
  kImc2,
  kInverseVariance,
  kJointAverage,
  kJointEnergy,
  kJointEntropy,
  kMcc,
  kMaximumProbability,
  kSumAverage,
  kSumEntropy,
  kSumSquares,
  kFeatureCount
};
static_assert(kFeatureCount == kNames.size());

using Values = std::array<double, kFeatureCount>;

constexpr double kEps = std::numeric_limits<double>::epsilon();  // np.spacing(1)
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr std::int32_t kSmallCounts = 4096;  // cell counts below this are grouped for the joint entropy

struct Offset {
  int dy = 0, dx = 0;
};

// generateAngles (cmatrices.c get_angle_count / build_angles) for distance 1 on a (1, height, width) volume with
// force2D along dimension 0, one direction per angle: offsets run 1, 0, -1 per dimension with x fastest, the ones that
// do not fit in the plane are skipped, and the first (Na_d - Na_dd) / 2 valid ones are kept.
std::vector<Offset> in_plane_angles(int width, int height) {
  const int wanted = ((height > 1 ? 3 : 1) * (width > 1 ? 3 : 1) - 1) / 2;
  std::vector<Offset> out;
  for (int dy = 1; dy >= -1; --dy) {
    for (int dx = 1; dx >= -1; --dx) {
      if (static_cast<int>(out.size()) == wanted) return out;
      if ((dy == 0 && dx == 0) || std::abs(dy) >= height || std::abs(dx) >= width) continue;
      out.push_back({dy, dx});
    }
  }
  return out;
}

// One nonzero cell (r <= c) of the symmetric co-occurrence counts, r and c indexing the gray levels present.
struct Cell {
  std::int16_t r, c;
  std::int32_t count;  // GLCM + transpose: both directions of the pairs (twice the pairs for r == c)
};
constexpr std::int32_t kMaxLevels = 16384;                // ranks fit Cell's indices; the counts take 1 GiB at most
constexpr std::size_t kMaxPixels = std::size_t{1} << 29;  // 2 x pairs of one angle fit Cell's count

// The symmetric matrix of one angle, as PyRadiomics builds it before normalising, kept as integer counts.
struct AngleMatrix {
  std::unique_ptr<Cell[]> cell_buffer;  // room for every upper-triangle cell and one spare
  std::span<const Cell> cells;          // the nonzero ones, in cell_buffer
  std::vector<double> margin;           // per present level: its row (= column) sum
  double total = 0;                     // sum of all cells
};

class GlcmCalculator {
 public:
  GlcmCalculator(const Discretized& d, const GlcmSettings& settings);
  Values run();

 private:
  void count_pairs(const std::vector<Offset>& angles);
  void collect_cells(std::size_t angle);
  Values angle_features() const;
  double mcc_eigenvalue() const;

  const Discretized& d_;
  GlcmSettings settings_;
  std::int32_t n_ = 0;                // gray levels present
  std::vector<double> gray_;          // their values, ascending (PyRadiomics' i, j)
  int stride_ = 0;                    // row length of the padded rank plane
  std::vector<std::int32_t> plane_;   // rank of each ROI pixel; n_ outside the ROI and in the padding
  std::vector<std::int32_t> counts_;  // per angle, (n_ + 1)^2 pair counts: row = rank of a pixel, column = neighbour
  AngleMatrix m_;
};

GlcmCalculator::GlcmCalculator(const Discretized& d, const GlcmSettings& settings) : d_(d), settings_(settings) {
  if (d.width < 1 || d.height < 1 ||
      d.levels.size() != static_cast<std::size_t>(d.width) * static_cast<std::size_t>(d.height)) {
    throw std::invalid_argument("GLCM: the discretised plane's size does not match its levels");
  }
  if (d.present.empty() || d.ng < 1 || d.present.back() != d.ng || d.present.front() < 1 ||
      std::adjacent_find(d.present.begin(), d.present.end(), std::greater_equal<>()) != d.present.end()) {
    throw std::invalid_argument("GLCM: empty region of interest or inconsistent gray level list");
  }
  if (d.present.size() >= static_cast<std::size_t>(kMaxLevels)) {
    throw std::invalid_argument("GLCM: too many gray levels (" + std::to_string(d.present.size()) +
                                ") for a co-occurrence matrix");
  }
  if (d.levels.size() >= kMaxPixels) throw std::invalid_argument("GLCM: plane too large");
  n_ = static_cast<std::int32_t>(d.present.size());
  gray_.assign(d.present.begin(), d.present.end());
  // rank[level]: n_ for 0 (outside the ROI), -1 for a level not listed and, at ng + 1, for any level out of range.
  std::vector<std::int32_t> rank(static_cast<std::size_t>(d.ng) + 2, -1);
  rank[0] = n_;
  for (std::int32_t r = 0; r < n_; ++r) rank[d.present[r]] = r;
  const auto out_of_range = static_cast<std::uint32_t>(d.ng) + 1;

  // Rank plane padded with n_ by one column on each side and one row below (every in-plane offset points right or
  // down, see in_plane_angles), plus one element so that the last padding pixel still has a neighbour.
  stride_ = d.width + 2;
  plane_.assign(static_cast<std::size_t>(d.height + 1) * stride_ + 1, n_);
  std::vector<std::uint8_t> seen(static_cast<std::size_t>(n_) + 1, 0);
  for (int y = 0; y < d.height; ++y) {
    const std::int32_t* level = d.levels.data() + static_cast<std::size_t>(y) * d.width;
    std::int32_t* out = plane_.data() + static_cast<std::size_t>(y) * stride_ + 1;
    std::int32_t missing = 0;
    for (int x = 0; x < d.width; ++x) {
      const std::int32_t r = rank[std::min(static_cast<std::uint32_t>(level[x]), out_of_range)];
      missing |= r;  // negative once any rank is -1
      out[x] = r;
      seen[static_cast<std::size_t>(r < 0 ? n_ : r)] = 1;  // -1 is refused below
    }
    if (missing < 0) throw std::invalid_argument("GLCM: a gray level inside the ROI is missing from the level list");
  }
  if (std::find(seen.begin(), seen.end() - 1, 0) != seen.end() - 1) {
    throw std::invalid_argument("GLCM: a listed gray level does not occur inside the ROI");
  }
}

// calculate_glcm: for every pixel and angle, one count in the cell (pixel's rank, neighbour's rank). Pairs with a
// pixel outside the ROI land in row or column n_, which is never read. The four angles of a plane are counted in
// one sweep: four independent counters per pixel, so runs of equal pairs do not serialise on one memory cell.
void GlcmCalculator::count_pairs(const std::vector<Offset>& angles) {
  const std::size_t row = static_cast<std::size_t>(n_) + 1;
  const std::size_t cells = row * row;
  counts_.assign(angles.size() * cells, 0);
  std::vector<std::size_t> offsets;
  for (const Offset& a : angles) offsets.push_back(static_cast<std::size_t>(a.dy) * stride_ + a.dx);  // all > 0
  const std::size_t end = static_cast<std::size_t>(d_.height) * stride_;
  const std::int32_t* p = plane_.data();
  if (angles.size() == 4) {
    std::int32_t* c0 = counts_.data();
    std::int32_t* c1 = c0 + cells;
    std::int32_t* c2 = c1 + cells;
    std::int32_t* c3 = c2 + cells;
    const std::int32_t* q0 = p + offsets[0];
    const std::int32_t* q1 = p + offsets[1];
    const std::int32_t* q2 = p + offsets[2];
    const std::int32_t* q3 = p + offsets[3];
    for (std::size_t i = 0; i < end; ++i) {
      const std::size_t a = static_cast<std::size_t>(p[i]) * row;
      ++c0[a + static_cast<std::size_t>(q0[i])];
      ++c1[a + static_cast<std::size_t>(q1[i])];
      ++c2[a + static_cast<std::size_t>(q2[i])];
      ++c3[a + static_cast<std::size_t>(q3[i])];
    }
    return;
  }
  for (std::size_t k = 0; k < angles.size(); ++k) {
    std::int32_t* c = counts_.data() + k * cells;
    const std::int32_t* q = p + offsets[k];
    for (std::size_t i = 0; i < end; ++i) {
      ++c[static_cast<std::size_t>(p[i]) * row + static_cast<std::size_t>(q[i])];
    }
  }
}

// The nonzero cells of the symmetric matrix counts + transpose (n x n of a row x row buffer), upper triangle, into
// `out` (room for every upper-triangle cell and one spare); returns how many. Each cell is written at the next free
// place, which only advances past a nonzero one.
std::size_t nonzero_symmetric_cells(const std::int32_t* counts, std::size_t row, std::int32_t n, Cell* out) {
  std::size_t k = 0;
  for (std::int32_t r = 0; r < n; ++r) {
    const auto r16 = static_cast<std::int16_t>(r);
    const std::int32_t* right = counts + static_cast<std::size_t>(r) * row + r;  // (r, r), then along row r
    const std::int32_t* below = right;                                           // (r, r), then down column r
    out[k] = {r16, r16, 2 * *right};
    k += *right != 0 ? 1 : 0;
    for (std::int32_t c = r + 1; c < n; ++c) {
      ++right;
      below += row;
      const std::int32_t both = *right + *below;
      out[k] = {r16, static_cast<std::int16_t>(c), both};
      k += both != 0 ? 1 : 0;
    }
  }
  return k;
}

// The symmetric matrix of one angle into m_.
void GlcmCalculator::collect_cells(std::size_t angle) {
  const std::size_t row = static_cast<std::size_t>(n_) + 1;
  if (!m_.cell_buffer) {
    m_.cell_buffer = std::make_unique_for_overwrite<Cell[]>(static_cast<std::size_t>(n_) * (n_ + 1) / 2 + 1);
  }
  Cell* cells = m_.cell_buffer.get();
  const std::size_t k = nonzero_symmetric_cells(counts_.data() + angle * row * row, row, n_, cells);
  m_.cells = std::span<const Cell>(cells, k);
  m_.margin.assign(static_cast<std::size_t>(n_), 0.0);
  for (const Cell& cell : m_.cells) {
    m_.margin[cell.r] += cell.count;
    if (cell.c != cell.r) m_.margin[cell.c] += cell.count;
  }
  m_.total = 0;
  for (double v : m_.margin) m_.total += v;
}

// -p * log2(p + eps) summed over a distribution of counts (entropies in glcm.py).
double entropy_of_counts(const std::vector<double>& counts, double total) {
  double h = 0;
  for (double c : counts) {
    if (c == 0) continue;
    const double p = c / total;
    h -= p * std::log2(p + kEps);
  }
  return h;
}

// The features of one non-empty angle (glcm.py's _calculateCoefficients and getters). Sums over the normalised
// matrix are taken over its nonzero cells and over the sum / difference distributions, in integer counts where the
// formula allows; the entropies with the two marginals (HXY1, HXY2) use log2(a + eps) = log2(a) + eps / (a ln 2),
// a = px(i) py(j) >= 1 / S^2 for S pair counts, to first order: the next term is below eps^2 S^3 per cell, ~1e-14 for
// a 512 x 512 plane.
Values GlcmCalculator::angle_features() const {
  Values f{};
  const double s = m_.total;
  const double ng = d_.ng;
  const auto& px = m_.margin;  // counts; px / s is PyRadiomics' px (= py: the matrix is symmetric)

  // Sum (i + j) and difference |i - j| distributions over the gray level values, joint statistics.
  std::vector<double> sum_dist(2 * static_cast<std::size_t>(d_.ng) + 1, 0.0);
  std::vector<double> diff_dist(static_cast<std::size_t>(d_.ng), 0.0);
  std::vector<double> small_counts(kSmallCounts, 0.0);
  double autocorrelation = 0, energy = 0, largest = 0, big_entropy = 0;
  for (const Cell& cell : m_.cells) {
    const double w = cell.r == cell.c ? 1.0 : 2.0;  // the cell and its mirror image
    const double gi = gray_[cell.r], gj = gray_[cell.c];
    const double v = static_cast<double>(cell.count);
    autocorrelation += w * v * gi * gj;
    sum_dist[static_cast<std::size_t>(gi + gj)] += w * v;
    diff_dist[static_cast<std::size_t>(gj - gi)] += w * v;
    energy += w * v * v;
    largest = std::max(largest, v);
    if (v < kSmallCounts) {
      small_counts[static_cast<std::size_t>(v)] += w;
    } else {
      const double p = v / s;
      big_entropy -= w * p * std::log2(p + kEps);
    }
  }
  double joint_entropy = big_entropy;  // HXY
  for (std::int32_t c = 1; c < kSmallCounts; ++c) {
    if (small_counts[c] == 0) continue;
    const double p = c / s;
    joint_entropy -= small_counts[c] * p * std::log2(p + kEps);
  }

  double ux_sum = 0;
  for (std::int32_t r = 0; r < n_; ++r) ux_sum += px[r] * gray_[r];
  const double ux = ux_sum / s;

  double variance = 0, hx = 0, px_log_px = 0, px_sum = 0, active = 0;
  for (std::int32_t r = 0; r < n_; ++r) {
    if (px[r] == 0) continue;
    const double p = px[r] / s;
    const double dev = gray_[r] - ux;
    variance += p * dev * dev;
    hx -= p * std::log2(p + kEps);
    px_log_px += p * std::log2(p);
    px_sum += p;
    active += 1;
  }
  std::vector<double> reciprocal(static_cast<std::size_t>(n_), 0.0);
  for (std::int32_t r = 0; r < n_; ++r) reciprocal[r] = px[r] == 0 ? 0.0 : 1.0 / px[r];
  double covariance = 0, inverse_margins = 0;
  for (const Cell& cell : m_.cells) {
    const double w = cell.r == cell.c ? 1.0 : 2.0;
    covariance += w * cell.count * (gray_[cell.r] - ux) * (gray_[cell.c] - ux);
    inverse_margins += w * cell.count * reciprocal[cell.r] * reciprocal[cell.c];
  }
  covariance /= s;

  f[kAutocorrelation] = autocorrelation / s;
  f[kJointAverage] = ux;
  f[kSumSquares] = variance;
  f[kJointEnergy] = energy / (s * s);
  f[kMaximumProbability] = largest / s;
  f[kJointEntropy] = joint_entropy;

  // Correlation: sigx = sigy = sqrt(SumSquares); 1 where that is 0.
  const double sig = std::sqrt(variance);
  f[kCorrelation] = sig * sig == 0 ? 1.0 : covariance / (sig * sig + kEps);

  // Cluster features from the sum distribution: i + j - ux - uy = k - 2 ux.
  double tendency = 0, shade = 0, prominence = 0, sum_average = 0;
  for (std::size_t k = 2; k < sum_dist.size(); ++k) {
    if (sum_dist[k] == 0) continue;
    const double p = sum_dist[k] / s;
    const double dev = static_cast<double>(k) - 2 * ux;
    const double dev2 = dev * dev;
    tendency += p * dev2;
    shade += p * dev2 * dev;
    prominence += p * dev2 * dev2;
    sum_average += sum_dist[k] * static_cast<double>(k);
  }
  f[kClusterTendency] = tendency;
  f[kClusterShade] = shade;
  f[kClusterProminence] = prominence;
  f[kSumAverage] = sum_average / s;
  f[kSumEntropy] = entropy_of_counts(sum_dist, s);

  // Difference distribution features, k = |i - j| = 0 .. Ng - 1.
  double contrast = 0, diff_average = 0, id = 0, idm = 0, idmn = 0, idn = 0, inverse_variance = 0;
  for (std::size_t k = 0; k < diff_dist.size(); ++k) {
    if (diff_dist[k] == 0) continue;
    const double p = diff_dist[k] / s;
    const double kd = static_cast<double>(k);
    contrast += diff_dist[k] * kd * kd;
    diff_average += diff_dist[k] * kd;
    id += p / (1 + kd);
    idm += p / (1 + kd * kd);
    idmn += p / (1 + (kd * kd) / (ng * ng));
    idn += p / (1 + kd / ng);
    if (k > 0) inverse_variance += p / (kd * kd);
  }
  diff_average /= s;
  double diff_variance = 0;
  for (std::size_t k = 0; k < diff_dist.size(); ++k) {
    if (diff_dist[k] == 0) continue;
    const double dev = static_cast<double>(k) - diff_average;
    diff_variance += diff_dist[k] / s * dev * dev;
  }
  f[kContrast] = contrast / s;
  f[kDifferenceAverage] = diff_average;
  f[kDifferenceVariance] = diff_variance;
  f[kDifferenceEntropy] = entropy_of_counts(diff_dist, s);
  f[kId] = id;
  f[kIdm] = idm;
  f[kIdmn] = idmn;
  f[kIdn] = idn;
  f[kInverseVariance] = inverse_variance;

  // Informational measures of correlation. HXY1 = -sum p log2(px py + eps), HXY2 = -sum px py log2(px py + eps);
  // with one level holding every pair all three entropies are the same number -log2(1 + eps), as in PyRadiomics.
  double hxy1 = joint_entropy, hxy2 = joint_entropy;
  if (active > 1) {
    hxy1 = -2 * px_log_px - kEps / std::numbers::ln2 * s * inverse_margins;
    hxy2 = -2 * px_log_px * px_sum - active * active * kEps / std::numbers::ln2;
  }
  f[kImc1] = hx != 0 ? (joint_entropy - hxy1) / hx : 0.0;  // div = fmax(HX, HY) = HX
  f[kImc2] = hxy2 == joint_entropy ? 0.0 : std::sqrt(1 - std::pow(std::numbers::e, -2 * (hxy2 - joint_entropy)));
  f[kMcc] = kNaN;
  return f;
}

// getMCC for one angle: the second largest eigenvalue of Q(i, j) = sum_k p(i, k) p(j, k) / (px(i) py(k) + eps) over
// the present levels (PyRadiomics then takes its square root), p the normalised matrix. Rows and columns of levels
// without pairs are zero and add zero eigenvalues, so only the block of levels with pairs is solved. Without the
// eps, Q would be similar to the square of the symmetric Dx^-1/2 P Dx^-1/2; with it (it weighs every term by
// px(i) py(k) / (px(i) py(k) + eps), ~1e-5 for the rarest levels of a 512 x 512 plane) it is not, so Q itself goes
// to a general eigenvalue solver, as numpy.linalg.eigvals does; eigenvalues sort by their real part, as numpy's
// sort orders complex values. NaN if the solver fails.
double GlcmCalculator::mcc_eigenvalue() const {
  std::vector<std::int32_t> index(static_cast<std::size_t>(n_), -1);  // present level -> row of the active block
  std::vector<double> margin;                                         // px = py of the active levels
  for (std::int32_t r = 0; r < n_; ++r) {
    if (m_.margin[r] == 0) continue;
    index[r] = static_cast<std::int32_t>(margin.size());
    margin.push_back(m_.margin[r] / m_.total);
  }
  const auto k = static_cast<Eigen::Index>(margin.size());
  Eigen::MatrixXd p = Eigen::MatrixXd::Zero(k, k);  // the normalised GLCM, symmetric
  for (const Cell& cell : m_.cells) {
    const Eigen::Index i = index[cell.r], j = index[cell.c];
    p(i, j) = p(j, i) = cell.count / m_.total;
  }
  // Q = W P with W(i, k) = p(i, k) / (px(i) py(k) + eps).
  Eigen::MatrixXd w(k, k);
  for (Eigen::Index c = 0; c < k; ++c)
    for (Eigen::Index r = 0; r < k; ++r) w(r, c) = p(r, c) / (margin[r] * margin[c] + kEps);
  const Eigen::MatrixXd q = w * p;
  const Eigen::EigenSolver<Eigen::MatrixXd> solver(q, false);
  if (solver.info() != Eigen::Success) return kNaN;
  std::vector<double> eigenvalues(static_cast<std::size_t>(n_ - k), 0.0);
  for (Eigen::Index i = 0; i < k; ++i) eigenvalues.push_back(solver.eigenvalues()[i].real());
  std::nth_element(eigenvalues.begin(), eigenvalues.end() - 2, eigenvalues.end());
  return eigenvalues[eigenvalues.size() - 2];
}

Values GlcmCalculator::run() {
  const std::vector<Offset> angles = in_plane_angles(d_.width, d_.height);
  std::vector<Values> per_angle;
  std::vector<double> mcc;  // per kept angle
  count_pairs(angles);
  for (std::size_t a = 0; a < angles.size(); ++a) {
    collect_cells(a);
    if (m_.total == 0) continue;  // an empty angle is deleted (or, alone, gives NaN: the same averages)
    per_angle.push_back(angle_features());
    if (settings_.compute_mcc && n_ >= 2) mcc.push_back(std::sqrt(mcc_eigenvalue()));
  }

  // np.nanmean over the angles (JointAverage: a plain mean; the same, as no kept angle gives NaN).
  Values out;
  out.fill(kNaN);
  for (std::size_t f = 0; f < kFeatureCount; ++f) {
    double sum = 0, count = 0;
    for (const Values& v : per_angle) {
      if (std::isnan(v[f])) continue;
      sum += v[f];
      count += 1;
    }
    if (count > 0) out[f] = sum / count;
  }

  // MCC: 1 for a ROI of one gray level (getMCC's "flat region", whatever the angles), else the nanmean over angles.
  if (!settings_.compute_mcc) {
    out[kMcc] = kNaN;
  } else if (n_ < 2) {
    out[kMcc] = 1.0;
  } else {
    double sum = 0, count = 0;
    for (double v : mcc) {
      if (std::isnan(v)) continue;
      sum += v;
      count += 1;
    }
    out[kMcc] = count > 0 ? sum / count : kNaN;
  }
  return out;
}

}  // namespace

std::span<const std::string_view> glcm_feature_names() { return kNames; }

FeatureClassValues glcm_features(const Discretized& d, const GlcmSettings& settings) {
  GlcmCalculator calculator(d, settings);
  const Values v = calculator.run();
  FeatureClassValues out;
  out.names = kNames;
  out.values.assign(v.begin(), v.end());
  return out;
}

}  // namespace chexgen::radiomics
