// GLCM features (radiomics/glcm.h) against
// - PyRadiomics on the IBSI digital phantom, per slice and averaged over the 4 slices
//   (pyradiomics_ibsi_phantom_2d_per_slice_avg.csv, 10 significant digits), and the IBSI "2D, averaged" reference
//   values it matches (pyradiomics_vs_ibsi_digital_phantom_2d.csv, ibsi1_digital_phantom_reference.csv),
// - PyRadiomics on the 24 NIH images, CheXGenBench's configuration without resampling
//   (pyradiomics_frd_v1_noresample_nih24.csv),
// - glcm.py and calculate_glcm restated literally below (dense Ng x Ng matrices over all gray levels, deletion of the
//   absent ones, eps inside every log, per-angle features, nanmean) on random planes with holes, gaps between gray
//   levels and one-pixel-wide shapes,
// - values worked out by hand from glcm.py for the degenerate ROIs.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <complex>
#include <limits>
#include <map>
#include <numbers>
#include <random>
#include <set>
#include <string>

#include <Eigen/Eigenvalues>

#include "chexgen/data/csv_table.h"
#include "chexgen/radiomics/discretize.h"
#include "chexgen/radiomics/glcm.h"
#include "chexgen/radiomics/preprocess.h"
#include "test_support.h"

namespace chexgen::radiomics {
namespace {

using testing::close;

constexpr double kEps = std::numeric_limits<double>::epsilon();
const double kNaN = std::numeric_limits<double>::quiet_NaN();

// ---- glcm.py restated literally ----

using Matrix = std::vector<std::vector<double>>;

double nanmean(const std::vector<double>& v) {
  double sum = 0, n = 0;
  for (double x : v) {
    if (std::isnan(x)) continue;
    sum += x;
    n += 1;
  }
  return n > 0 ? sum / n : kNaN;
}

std::map<std::string, double> literal_glcm(const Discretized& d) {
  const int ng = d.ng;
  const std::vector<std::int32_t>& gl = d.present;
  const auto n = gl.size();
  // generateAngles: offsets 1, 0, -1 per dimension (z, y, x), x fastest, z fixed at 0, out-of-plane ones skipped;
  // get_angle_count gives (prod(3 or 1) - 1) / 2 of them.
  const int count = ((d.height > 1 ? 3 : 1) * (d.width > 1 ? 3 : 1) - 1) / 2;
  std::vector<std::pair<int, int>> angles;
  for (int dy = 1; dy >= -1; --dy) {
    for (int dx = 1; dx >= -1; --dx) {
      if ((dy == 0 && dx == 0) || std::abs(dy) >= d.height || std::abs(dx) >= d.width) continue;
      if (static_cast<int>(angles.size()) < count) angles.emplace_back(dy, dx);
    }
  }
  // calculate_glcm, then P[:, GrayLevels - 1][:, :, GrayLevels - 1], P + P^T.
  std::vector<Matrix> p;
  for (const auto& [dy, dx] : angles) {
    Matrix full(ng, std::vector<double>(ng, 0.0));
    for (int y = 0; y < d.height; ++y) {
      for (int x = 0; x < d.width; ++x) {
        const int yy = y + dy, xx = x + dx;
        if (d.at(x, y) == 0 || yy < 0 || yy >= d.height || xx < 0 || xx >= d.width || d.at(xx, yy) == 0) continue;
        full[d.at(x, y) - 1][d.at(xx, yy) - 1] += 1;
      }
    }
    Matrix m(n, std::vector<double>(n, 0.0));
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) m[i][j] = full[gl[i] - 1][gl[j] - 1] + full[gl[j] - 1][gl[i] - 1];
    }
    p.push_back(m);
  }
  // Delete empty angles when there are several; normalise (an empty one left alone becomes NaN).
  std::vector<Matrix> kept;
  for (auto& m : p) {
    double s = 0;
    for (auto& row : m) {
      for (double v : row) s += v;
    }
    if (s == 0 && p.size() > 1) continue;
    for (auto& row : m) {
      for (double& v : row) v = s == 0 ? kNaN : v / s;
    }
    kept.push_back(m);
  }

  std::map<std::string, std::vector<double>> per;
  for (const Matrix& m : kept) {
    std::vector<double> px(n, 0), py(n, 0);
    double ux = 0, uy = 0, hxy = 0;
    std::vector<double> add(2 * ng + 1, 0), sub(ng, 0);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        px[i] += m[i][j];
        py[j] += m[i][j];
        ux += gl[i] * m[i][j];
        uy += gl[j] * m[i][j];
        add[gl[i] + gl[j]] += m[i][j];
        sub[std::abs(gl[i] - gl[j])] += m[i][j];
        hxy -= m[i][j] * std::log2(m[i][j] + kEps);
      }
    }
    double ac = 0, cp = 0, cs = 0, ct = 0, cont = 0, sigx = 0, sigy = 0, corm = 0, ene = 0, maxp = 0, ss = 0;
    double hx = 0, hy = 0, hxy1 = 0, hxy2 = 0;
    for (std::size_t i = 0; i < n; ++i) {
      hx -= px[i] * std::log2(px[i] + kEps);
      hy -= py[i] * std::log2(py[i] + kEps);
      for (std::size_t j = 0; j < n; ++j) {
        const double v = m[i][j], gi = gl[i], gj = gl[j];
        ac += v * gi * gj;
        cp += v * std::pow(gi + gj - ux - uy, 4);
        cs += v * std::pow(gi + gj - ux - uy, 3);
        ct += v * std::pow(gi + gj - ux - uy, 2);
        cont += v * (gi - gj) * (gi - gj);
        sigx += v * (gi - ux) * (gi - ux);
        sigy += v * (gj - uy) * (gj - uy);
        corm += v * (gi - ux) * (gj - uy);
        ene += v * v;
        maxp = std::max(maxp, v);
        ss += v * (gi - ux) * (gi - ux);
        hxy1 -= v * std::log2(px[i] * py[j] + kEps);
        hxy2 -= px[i] * py[j] * std::log2(px[i] * py[j] + kEps);
      }
    }
    sigx = std::sqrt(sigx);
    sigy = std::sqrt(sigy);
    double davg = 0, dent = 0, idm = 0, idmn = 0, id = 0, idn = 0, iv = 0;
    for (int k = 0; k < ng; ++k) {
      davg += k * sub[k];
      dent -= sub[k] * std::log2(sub[k] + kEps);
      idm += sub[k] / (1 + k * k);
      idmn += sub[k] / (1 + static_cast<double>(k * k) / (ng * ng));
      id += sub[k] / (1 + k);
      idn += sub[k] / (1 + static_cast<double>(k) / ng);
      if (k > 0) iv += sub[k] / (k * k);
    }
    double dvar = 0;
    for (int k = 0; k < ng; ++k) dvar += sub[k] * (k - davg) * (k - davg);
    double savg = 0, sent = 0;
    for (int k = 2; k <= 2 * ng; ++k) {
      savg += k * add[k];
      sent -= add[k] * std::log2(add[k] + kEps);
    }
    const double div = std::fmax(hx, hy);
    per["Autocorrelation"].push_back(ac);
    per["JointAverage"].push_back(ux);
    per["ClusterProminence"].push_back(cp);
    per["ClusterShade"].push_back(cs);
    per["ClusterTendency"].push_back(ct);
    per["Contrast"].push_back(cont);
    per["Correlation"].push_back(sigx * sigy == 0 ? 1.0 : corm / (sigx * sigy + kEps));
    per["DifferenceAverage"].push_back(davg);
    per["DifferenceEntropy"].push_back(dent);
    per["DifferenceVariance"].push_back(dvar);
    per["JointEnergy"].push_back(ene);
    per["JointEntropy"].push_back(hxy);
    per["Imc1"].push_back(div != 0 ? (hxy - hxy1) / div : 0.0);
    per["Imc2"].push_back(hxy2 == hxy ? 0.0 : std::sqrt(1 - std::pow(std::numbers::e, -2 * (hxy2 - hxy))));
    per["Idm"].push_back(idm);
    per["Idmn"].push_back(idmn);
    per["Id"].push_back(id);
    per["Idn"].push_back(idn);
    per["InverseVariance"].push_back(iv);
    per["MaximumProbability"].push_back(maxp);
    per["SumAverage"].push_back(savg);
    per["SumEntropy"].push_back(sent);
    per["SumSquares"].push_back(ss);
    // MCC: eigenvalues of Q over all present levels, the second largest.
    Eigen::MatrixXd q = Eigen::MatrixXd::Zero(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j) {
        for (std::size_t k = 0; k < n; ++k) q(i, j) += m[i][k] * m[j][k] / (px[i] * py[k] + kEps);
      }
    }
    if (n >= 2) {
      const Eigen::VectorXcd e = Eigen::EigenSolver<Eigen::MatrixXd>(q, false).eigenvalues();
      std::vector<double> re;
      for (Eigen::Index i = 0; i < e.size(); ++i) re.push_back(e[i].real());
      std::sort(re.begin(), re.end());
      per["MCC"].push_back(std::sqrt(std::max(re[re.size() - 2], 0.0)));
    }
  }
  std::map<std::string, double> out;
  for (const auto name : glcm_feature_names()) out[std::string(name)] = nanmean(per[std::string(name)]);
  if (n < 2) out["MCC"] = 1;
  return out;
}

void expect_matches_literal(const Discretized& d, double rel) {
  const auto ours = testing::as_map(glcm_features(d));
  const auto expected = literal_glcm(d);
  for (const auto& [name, value] : expected) {
    if (std::isnan(value)) {
      EXPECT_TRUE(std::isnan(ours.at(name))) << name << ": " << ours.at(name);
    } else {
      EXPECT_TRUE(close(ours.at(name), value, rel, 1e-12)) << name << ": " << ours.at(name) << " vs " << value;
    }
  }
}

TEST(Glcm, NamesInPyRadiomicsOrder) {
  const auto names = glcm_feature_names();
  const std::vector<std::string_view> expected = {"Autocorrelation",
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
  EXPECT_EQ(std::vector<std::string_view>(names.begin(), names.end()), expected);
}

std::map<std::string, double> phantom_slice_average() {
  const auto& ph = testing::phantom();
  std::map<std::string, double> sum;
  for (int z = 0; z < ph.nz; ++z) {
    const Discretized d = discretize(ph.slice_image(z), ph.slice_mask(z), 1);
    for (const auto& [name, value] : testing::as_map(glcm_features(d))) sum[name] += value / ph.nz;
  }
  return sum;
}

TEST(Glcm, IbsiPhantomPerSliceMatchesPyRadiomics) {
  const auto golden =
      testing::read_named_values(testing::golden_dir() / "pyradiomics_ibsi_phantom_2d_per_slice_avg.csv");
  const auto ours = phantom_slice_average();
  ASSERT_EQ(ours.size(), 24u);
  for (const auto& [name, value] : ours) {
    const auto it = golden.find("original_glcm_" + name);
    ASSERT_NE(it, golden.end()) << name;
    // The table prints 10 significant digits: half a unit of the last is at most 5e-10 relative.
    EXPECT_TRUE(close(value, it->second, 1e-9, 1e-12)) << name << ": " << value << " vs " << it->second;
  }
}

TEST(Glcm, IbsiPhantomPerSliceMatchesIbsiReference) {
  ErrorReport errors;
  const CsvTable versus = read_csv_file(testing::golden_dir() / "pyradiomics_vs_ibsi_digital_phantom_2d.csv", errors);
  const auto ours = phantom_slice_average();
  int compared = 0;
  for (const auto& r : versus.records) {
    const std::string feature = r.fields[versus.column("pyradiomics_feature")];
    if (feature.rfind("glcm_", 0) != 0) continue;
    const std::string name = feature.substr(5);
    const std::string code = r.fields[versus.column("ibsi_code")];
    const std::string aggregation = r.fields[versus.column("ibsi_aggregation")];
    ASSERT_EQ(aggregation, "2D, averaged");
    ASSERT_EQ(r.fields[versus.column("match_3sf")], "True") << name;
    const double ibsi = std::stod(r.fields[versus.column("ibsi_value")]);
    const testing::IbsiReference reference =
        testing::ibsi_reference(r.fields[versus.column("ibsi_feature")], aggregation, code);
    EXPECT_EQ(reference.value, ibsi) << name;
    const double tolerance = reference.tolerance;
    EXPECT_NEAR(ours.at(name), ibsi, tolerance) << name;
    ++compared;
  }
  EXPECT_EQ(compared, 23);  // every GLCM feature IBSI defines for the 2-D averaged aggregation, MCC aside
}

TEST(Glcm, MatchesPyRadiomicsOnNihImages) {
  const auto table = testing::read_feature_table(testing::golden_dir() / "pyradiomics_frd_v1_noresample_nih24.csv");
  ASSERT_EQ(table.images.size(), 24u);
  double worst = 0;
  std::string worst_at;
  int compared = 0;
  for (std::size_t row = 0; row < table.images.size(); ++row) {
    const Discretized d = testing::nih_original(table.images[row]).levels;
    const FeatureClassValues f = glcm_features(d, {.compute_mcc = false});
    for (std::size_t i = 0; i < f.names.size(); ++i) {
      const std::string column = "original_glcm_" + std::string(f.names[i]);
      if (std::find(table.columns.begin(), table.columns.end(), column) == table.columns.end()) continue;
      const double golden = table.value(row, column);
      // Sums over the cells in another order and grouping: measured worst 2.4e-13 relative (ClusterShade, a sum of
      // terms of both signs). Tight enough to see HXY1's eps term (Imc1 moves by up to 5e-11 without it).
      EXPECT_TRUE(close(f.values[i], golden, 1e-11, 1e-12))
          << table.images[row] << " " << f.names[i] << ": " << f.values[i] << " vs " << golden;
      const double rel = std::abs(f.values[i] - golden) / std::max(std::abs(golden), 1e-300);
      if (rel > worst) {
        worst = rel;
        worst_at = table.images[row] + " " + std::string(f.names[i]);
      }
      ++compared;
    }
  }
  EXPECT_EQ(compared, 24 * 22);
  RecordProperty("worst_relative_difference", std::to_string(worst) + " at " + worst_at);
}

TEST(Glcm, MatchesLiteralFormulasOnRandomPlanes) {
  std::mt19937 rng(11);
  const std::vector<std::pair<int, int>> sizes = {{2, 2}, {5, 4}, {1, 9}, {9, 1}, {13, 7}, {31, 29}, {64, 3}};
  for (const auto& [w, h] : sizes) {
    for (int levels : {2, 5, 23}) {
      SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h) + " levels " + std::to_string(levels));
      std::uniform_int_distribution<int> level(1, levels);
      std::bernoulli_distribution hole(0.2), skip(0.3);
      std::vector<bool> unused(levels + 1);
      for (int g = 1; g < levels; ++g) unused[g] = skip(rng);  // gaps between the gray levels present
      std::vector<std::int32_t> v(static_cast<std::size_t>(w) * h);
      for (auto& g : v) {
        do g = level(rng);
        while (unused[g]);
        if (hole(rng)) g = 0;
      }
      v[v.size() / 2] = 1;  // never an empty ROI
      // Smooth half: neighbours often equal, as in images.
      for (std::size_t i = 1; i < v.size(); i += 2) {
        if (v[i] != 0 && v[i - 1] != 0 && skip(rng)) v[i] = v[i - 1];
      }
      expect_matches_literal(testing::plane_from_levels(w, h, v), 1e-10);
    }
  }
}

TEST(Glcm, SinglePixelRoi) {
  // No pair in any angle: all four angles are deleted and every nanmean is over nothing (NaN); getMCC returns 1
  // before looking at them, as the matrix has one gray level.
  const Discretized d = testing::plane_from_levels(3, 3, {0, 0, 0, 0, 4, 0, 0, 0, 0});
  const auto f = testing::as_map(glcm_features(d));
  for (const auto& [name, value] : f) {
    if (name == "MCC") {
      EXPECT_EQ(value, 1.0);
    } else {
      EXPECT_TRUE(std::isnan(value)) << name << ": " << value;
    }
  }
}

TEST(Glcm, IsolatedPixelsOfTwoLevels) {
  // Two gray levels but no neighbouring pair: NaN everywhere, MCC included (its mean over no angle).
  const Discretized d = testing::plane_from_levels(4, 3, {1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3});
  for (const auto& [name, value] : testing::as_map(glcm_features(d))) EXPECT_TRUE(std::isnan(value)) << name;
}

TEST(Glcm, FlatRoi) {
  // One gray level (g = 2) with pairs in every angle: P = [[1]] per angle. Worked out from glcm.py: the entropies
  // are -1 * log2(1 + eps); HXY1 and HXY2 equal HXY, so Imc1 is 0 / HX = 0 and Imc2 is 0; sigx = 0 makes the
  // correlation 1; MCC is 1 (a single gray level).
  const Discretized d = testing::plane_from_levels(4, 3, {0, 2, 2, 0, 2, 2, 2, 2, 0, 2, 2, 0});
  const auto f = testing::as_map(glcm_features(d));
  const double tiny = -std::log2(1 + kEps);
  const std::map<std::string, double> expected = {{"Autocorrelation", 4},
                                                  {"ClusterProminence", 0},
                                                  {"ClusterShade", 0},
                                                  {"ClusterTendency", 0},
                                                  {"Contrast", 0},
                                                  {"Correlation", 1},
                                                  {"DifferenceAverage", 0},
                                                  {"DifferenceEntropy", tiny},
                                                  {"DifferenceVariance", 0},
                                                  {"Id", 1},
                                                  {"Idm", 1},
                                                  {"Idmn", 1},
                                                  {"Idn", 1},
                                                  {"Imc1", 0},
                                                  {"Imc2", 0},
                                                  {"InverseVariance", 0},
                                                  {"JointAverage", 2},
                                                  {"JointEnergy", 1},
                                                  {"JointEntropy", tiny},
                                                  {"MCC", 1},
                                                  {"MaximumProbability", 1},
                                                  {"SumAverage", 4},
                                                  {"SumEntropy", tiny},
                                                  {"SumSquares", 0}};
  for (const auto& [name, value] : expected) EXPECT_EQ(f.at(name), value) << name;
  expect_matches_literal(d, 1e-12);
}

TEST(Glcm, MaskWithHoles) {
  // One row 1 3 _ 3 1 1 with a hole (level 0): a one-pixel-high plane has the single angle (0, 1), and pairs through
  // the hole do not count. Pairs (1,3), (3,1), (1,1); with the transpose the counts over levels {1, 3} are
  // [[2, 2], [2, 0]], so P = [[1/3, 1/3], [1/3, 0]], px = (2/3, 1/3), ux = 1 * 2/3 + 3 * 1/3 = 5/3.
  const Discretized d = testing::plane_from_levels(6, 1, {1, 3, 0, 3, 1, 1});
  const auto f = testing::as_map(glcm_features(d));
  EXPECT_DOUBLE_EQ(f.at("JointAverage"), 5.0 / 3);
  EXPECT_DOUBLE_EQ(f.at("Autocorrelation"), (1.0 + 3 + 3) / 3);
  EXPECT_DOUBLE_EQ(f.at("Contrast"), 2 * 4.0 / 3);
  EXPECT_DOUBLE_EQ(f.at("MaximumProbability"), 1.0 / 3);
  EXPECT_DOUBLE_EQ(f.at("JointEnergy"), 3.0 / 9);
  EXPECT_DOUBLE_EQ(f.at("SumAverage"), (2.0 + 4 + 4) / 3);
  EXPECT_DOUBLE_EQ(f.at("DifferenceAverage"), 2 * 2.0 / 3);
  EXPECT_NEAR(f.at("JointEntropy"), std::log2(3.0), 1e-14);
  expect_matches_literal(d, 1e-12);
  // A 2-D ring: 5 x 4 with a 2 x 1 hole.
  expect_matches_literal(testing::plane_from_levels(5, 4, {1, 2, 2, 4, 4, 1, 0, 0, 4, 2, 2, 2, 1, 1, 2, 4, 4, 4, 2, 1}),
                         1e-12);
}

TEST(Glcm, MccCanBeLeftOut) {
  const Discretized d = testing::plane_from_levels(5, 4, {1, 2, 2, 4, 4, 1, 3, 3, 4, 2, 2, 2, 1, 1, 2, 4, 4, 4, 2, 1});
  const auto all = glcm_features(d);
  const auto without = glcm_features(d, {.compute_mcc = false});
  for (std::size_t i = 0; i < all.names.size(); ++i) {
    if (all.names[i] == "MCC") {
      EXPECT_TRUE(std::isnan(without.values[i]));
      EXPECT_GT(all.values[i], 0.0);
    } else {
      EXPECT_EQ(all.values[i], without.values[i]) << all.names[i];
    }
  }
}

TEST(Glcm, RefusesInconsistentInput) {
  Discretized d = testing::plane_from_levels(2, 2, {1, 2, 2, 1});
  d.levels.pop_back();
  EXPECT_THROW(glcm_features(d), std::invalid_argument);
  EXPECT_THROW(glcm_features(testing::plane_from_levels(2, 1, {0, 0})), std::invalid_argument);  // empty ROI
  Discretized missing = testing::plane_from_levels(2, 2, {1, 2, 2, 1});
  missing.present = {1};  // level 2 not listed
  missing.ng = 1;
  EXPECT_THROW(glcm_features(missing), std::invalid_argument);
  Discretized stale = testing::plane_from_levels(2, 2, {1, 2, 2, 1});
  stale.present = {1, 2, 3};  // level 3 listed but absent
  stale.ng = 3;
  EXPECT_THROW(glcm_features(stale), std::invalid_argument);
  Discretized repeated = testing::plane_from_levels(2, 2, {1, 2, 2, 1});
  repeated.present = {1, 2, 2};
  EXPECT_THROW(glcm_features(repeated), std::invalid_argument);
}

}  // namespace
}  // namespace chexgen::radiomics
