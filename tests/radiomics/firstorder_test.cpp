// First-order features (radiomics/firstorder.h) against
// - PyRadiomics on the IBSI digital phantom (pyradiomics_ibsi_phantom_2d_per_slice_avg.csv, 10 significant digits)
//   and the IBSI reference values it matches (pyradiomics_vs_ibsi_digital_phantom_2d.csv,
//   ibsi1_digital_phantom_reference.csv),
// - PyRadiomics on the 24 NIH images, CheXGenBench's configuration without resampling
//   (pyradiomics_frd_v1_noresample_nih24.csv),
// - numpy 1.24 values worked out by hand or printed by /usr/bin/python3 (quoted where used),
// - a sort-based restatement of the numpy calls on random data of awkward sizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <random>
#include <string>

#include "chexgen/data/csv_table.h"
#include "chexgen/radiomics/discretize.h"
#include "chexgen/radiomics/firstorder.h"
#include "chexgen/radiomics/preprocess.h"
#include "test_support.h"

namespace chexgen::radiomics {
namespace {

using testing::close;

constexpr double kEps = std::numeric_limits<double>::epsilon();

std::map<std::string, double> phantom_features() {
  const std::vector<double> values = testing::phantom().roi_values();
  const std::vector<std::int32_t> levels = discretize_values(values, 1);
  return testing::as_map(firstorder_features(values, levels, FirstOrderSettings{}));
}

TEST(FirstOrder, NamesInPyRadiomicsOrder) {
  const auto names = firstorder_feature_names();
  const std::vector<std::string_view> expected = {"10Percentile",
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
  EXPECT_EQ(std::vector<std::string_view>(names.begin(), names.end()), expected);
}

TEST(FirstOrder, IbsiPhantomMatchesPyRadiomics) {
  const auto golden =
      testing::read_named_values(testing::golden_dir() / "pyradiomics_ibsi_phantom_2d_per_slice_avg.csv");
  const auto ours = phantom_features();
  int compared = 0;
  for (const auto& [name, value] : ours) {
    const auto it = golden.find("original_firstorder_" + name);
    if (name == "TotalEnergy") continue;  // not in the table; checked below
    ASSERT_NE(it, golden.end()) << name;
    // The table prints 10 significant digits: half a unit of the last is at most 5e-10 relative.
    EXPECT_TRUE(close(value, it->second, 1e-9, 1e-12)) << name << ": " << value << " vs " << it->second;
    ++compared;
  }
  EXPECT_EQ(compared, 17);
  EXPECT_EQ(ours.at("Energy"), 567);  // sum of squares of integer values, exact
  // TotalEnergy is Energy times the pixel volume.
  const std::vector<double> values = testing::phantom().roi_values();
  const auto scaled = testing::as_map(firstorder_features(values, discretize_values(values, 1), {.voxel_volume = 8}));
  EXPECT_EQ(scaled.at("TotalEnergy"), 8 * 567);
  EXPECT_EQ(scaled.at("Energy"), 567);
}

TEST(FirstOrder, IbsiPhantomMatchesIbsiReference) {
  ErrorReport errors;
  const CsvTable versus = read_csv_file(testing::golden_dir() / "pyradiomics_vs_ibsi_digital_phantom_2d.csv", errors);
  const auto ours = phantom_features();
  int compared = 0;
  for (const auto& r : versus.records) {
    const std::string feature = r.fields[versus.column("pyradiomics_feature")];
    if (feature.rfind("firstorder_", 0) != 0) continue;
    const std::string name = feature.substr(11);
    const double ibsi = std::stod(r.fields[versus.column("ibsi_value")]);
    const std::string aggregation = r.fields[versus.column("ibsi_aggregation")];
    ASSERT_EQ(aggregation, "3D ROI");  // the reference lists these rows without an aggregation
    const testing::IbsiReference reference =
        testing::ibsi_reference(r.fields[versus.column("ibsi_feature")], "", r.fields[versus.column("ibsi_code")]);
    EXPECT_EQ(reference.value, ibsi) << name;
    const double tolerance = reference.tolerance;
    if (name == "Kurtosis") {  // PyRadiomics' kurtosis is not the excess kurtosis IBSI defines: 3 more
      EXPECT_EQ(r.fields[versus.column("match_3sf")], "False");
      EXPECT_NEAR(ours.at(name) - 3, ibsi, tolerance);
    } else {
      ASSERT_EQ(r.fields[versus.column("match_3sf")], "True") << name;
      EXPECT_NEAR(ours.at(name), ibsi, tolerance) << name;
    }
    ++compared;
  }
  EXPECT_EQ(compared, 17);
}

TEST(FirstOrder, MatchesPyRadiomicsOnNihImages) {
  const auto table = testing::read_feature_table(testing::golden_dir() / "pyradiomics_frd_v1_noresample_nih24.csv");
  ASSERT_EQ(table.images.size(), 24u);
  const FirstOrderSettings settings{.voxel_array_shift = 300, .voxel_volume = 1};
  double worst = 0;
  std::string worst_at;
  for (std::size_t row = 0; row < table.images.size(); ++row) {
    const testing::NihPlane c = testing::nih_original(table.images[row]);
    const FeatureClassValues f = firstorder_features(c.image, c.levels, settings);
    for (std::size_t i = 0; i < f.names.size(); ++i) {
      const double golden = table.value(row, "original_firstorder_" + std::string(f.names[i]));
      // The table holds PyRadiomics' doubles (17 digits). Measured worst 5e-15 relative, except Mean: the normalised
      // image's mean is ~1e-3, and last-bit differences of the normalised pixels (preprocess.h against SimpleITK)
      // leave up to 2.5e-14 absolute there.
      EXPECT_TRUE(close(f.values[i], golden, 1e-12, 1e-13))
          << table.images[row] << " " << f.names[i] << ": " << f.values[i] << " vs " << golden;
      const double rel = std::abs(f.values[i] - golden) / std::max(std::abs(golden), 1e-300);
      if (rel > worst) {
        worst = rel;
        worst_at = table.images[row] + " " + std::string(f.names[i]);
      }
    }
  }
  RecordProperty("worst_relative_difference", std::to_string(worst) + " at " + worst_at);
}

// numpy.nanpercentile / nanmedian restated on a sorted copy (linear method, _lerp's two branches).
double sorted_percentile(const std::vector<double>& sorted, double q) {
  const auto n = static_cast<double>(sorted.size());
  const double vi = (n - 1) * (q / 100.0);
  const double lo = std::floor(vi);
  if (vi >= n - 1) return sorted.back();
  const double a = sorted[static_cast<std::size_t>(lo)], b = sorted[static_cast<std::size_t>(lo) + 1];
  const double t = vi - lo;
  return t >= 0.5 ? b - (b - a) * (1 - t) : a + (b - a) * t;
}

TEST(FirstOrder, AgreesWithSortBasedStatisticsOnAwkwardSizes) {
  std::mt19937_64 rng(7);
  std::normal_distribution<double> normal(0, 40);
  // Three kinds of values: many ties; all distinct; a wavelet detail band's mix of values that are zero up to
  // rounding (both signs, -0.0 included, all in the bins around 0) and ordinary ones (several selection rounds).
  for (int kind = 0; kind < 3; ++kind)
  for (std::size_t n : {1u, 2u, 3u, 7u, 8u, 9u, 127u, 128u, 129u, 136u, 1000u, 4097u, 65536u}) {
    SCOPED_TRACE(::testing::Message() << "kind " << kind << ", n " << n);
    std::vector<double> values(n);
    for (std::size_t i = 0; i < n; ++i) {
      const double v = normal(rng);
      values[i] = kind == 0 ? std::round(v * 8) / 8 : kind == 1 || i % 2 ? v : i % 6 == 0 ? -0.0 : v * 1e-17;
    }
    const auto levels = discretize_values(values, 5);
    const auto f = testing::as_map(firstorder_features(values, levels, {.voxel_array_shift = 300, .voxel_volume = 2}));

    std::vector<double> sorted = values;
    std::sort(sorted.begin(), sorted.end());
    const double count = static_cast<double>(n);
    EXPECT_EQ(f.at("Minimum"), sorted.front());
    EXPECT_EQ(f.at("Maximum"), sorted.back());
    EXPECT_EQ(f.at("Range"), sorted.back() - sorted.front());
    EXPECT_EQ(f.at("10Percentile"), sorted_percentile(sorted, 10));
    EXPECT_EQ(f.at("90Percentile"), sorted_percentile(sorted, 90));
    EXPECT_EQ(f.at("InterquartileRange"), sorted_percentile(sorted, 75) - sorted_percentile(sorted, 25));
    EXPECT_EQ(f.at("Median"), (sorted[(n - 1) / 2] + sorted[n / 2]) / 2);

    long double sum = 0, energy = 0;
    for (double v : values) {
      sum += v;
      energy += (v + 300.0L) * (v + 300.0L);
    }
    const double mean = static_cast<double>(sum / count);
    long double m2 = 0, m3 = 0, m4 = 0, mad = 0;
    for (double v : values) {
      const long double d = v - static_cast<long double>(mean);
      m2 += d * d;
      m3 += d * d * d;
      m4 += d * d * d * d;
      mad += std::abs(d);
    }
    m2 /= count;
    m3 /= count;
    m4 /= count;
    const double p10 = sorted_percentile(sorted, 10), p90 = sorted_percentile(sorted, 90);
    long double robust_sum = 0, robust_count = 0;
    for (double v : values) {
      if (v >= p10 && v <= p90) {
        robust_sum += v;
        robust_count += 1;
      }
    }
    long double robust_mad = 0;
    for (double v : values) {
      if (v >= p10 && v <= p90) robust_mad += std::abs(v - robust_sum / robust_count);
    }
    std::map<std::int32_t, double> histogram;
    for (auto g : levels) histogram[g] += 1;
    double entropy = 0, uniformity = 0;
    for (const auto& [g, c] : histogram) {
      entropy -= c / count * std::log2(c / count + kEps);
      uniformity += (c / count) * (c / count);
    }
    const double rel = 1e-12;
    EXPECT_TRUE(close(f.at("Mean"), mean, rel, 1e-12));
    EXPECT_TRUE(close(f.at("Energy"), static_cast<double>(energy), rel, 0));
    EXPECT_TRUE(close(f.at("TotalEnergy"), 2 * static_cast<double>(energy), rel, 0));
    EXPECT_TRUE(close(f.at("RootMeanSquared"), std::sqrt(static_cast<double>(energy) / count), rel, 0));
    EXPECT_TRUE(close(f.at("Variance"), static_cast<double>(m2), rel, 1e-12));
    EXPECT_TRUE(close(f.at("MeanAbsoluteDeviation"), static_cast<double>(mad / count), rel, 1e-12));
    if (robust_count == 0) {
      EXPECT_TRUE(std::isnan(f.at("RobustMeanAbsoluteDeviation")));
    } else {
      EXPECT_TRUE(
          close(f.at("RobustMeanAbsoluteDeviation"), static_cast<double>(robust_mad / robust_count), rel, 1e-12));
    }
    if (m2 > 0) {
      EXPECT_TRUE(close(f.at("Skewness"), static_cast<double>(m3 / std::pow(m2, 1.5L)), 1e-10, 1e-12));
      EXPECT_TRUE(close(f.at("Kurtosis"), static_cast<double>(m4 / (m2 * m2)), 1e-10, 0));
    }
    EXPECT_TRUE(close(f.at("Entropy"), entropy, rel, 1e-15));
    EXPECT_TRUE(close(f.at("Uniformity"), uniformity, rel, 0));
  }
}

TEST(FirstOrder, PercentileTakesNumpysUpperLerpBranch) {
  // np.nanpercentile([[-0.339, 1.257, -0.93, -0.045, -2.577, -1.134]], 90, axis=1) == 0.606 (numpy 1.24): the virtual
  // index is 4.5, so numpy computes b - (b - a) * 0.5; a + (b - a) * 0.5 would give 0.6059999999999999.
  const std::vector<double> values = {-0.339, 1.257, -0.93, -0.045, -2.577, -1.134};
  const auto f = testing::as_map(firstorder_features(values, discretize_values(values, 0.1), {}));
  EXPECT_EQ(f.at("90Percentile"), 0.606);
}

TEST(FirstOrder, SinglePixel) {
  const std::vector<double> values = {7.5};
  const std::vector<std::int32_t> levels = {1};
  const auto f = testing::as_map(firstorder_features(values, levels, {.voxel_array_shift = 300, .voxel_volume = 2}));
  for (const char* name : {"10Percentile", "90Percentile", "Maximum", "Mean", "Median", "Minimum"}) {
    EXPECT_EQ(f.at(name), 7.5) << name;
  }
  for (const char* name : {"InterquartileRange", "Kurtosis", "MeanAbsoluteDeviation", "Range",
                           "RobustMeanAbsoluteDeviation", "Skewness", "Variance"}) {
    EXPECT_EQ(f.at(name), 0.0) << name;
  }
  EXPECT_EQ(f.at("Energy"), 307.5 * 307.5);
  EXPECT_EQ(f.at("TotalEnergy"), 2 * 307.5 * 307.5);
  EXPECT_EQ(f.at("RootMeanSquared"), 307.5);
  EXPECT_EQ(f.at("Uniformity"), 1.0);
  EXPECT_EQ(f.at("Entropy"), -std::log2(1 + kEps));  // p = 1: -1 * log2(1 + eps), a tiny negative number
}

TEST(FirstOrder, FlatRegion) {
  // Exactly representable mean: the moments are 0, and m2 == 0 turns skewness and kurtosis into 0.
  const std::vector<double> flat(10, -4.0);
  const auto f = testing::as_map(firstorder_features(flat, std::vector<std::int32_t>(10, 1), {}));
  EXPECT_EQ(f.at("Skewness"), 0.0);
  EXPECT_EQ(f.at("Kurtosis"), 0.0);
  EXPECT_EQ(f.at("Variance"), 0.0);
  EXPECT_EQ(f.at("Median"), -4.0);
  EXPECT_EQ(f.at("InterquartileRange"), 0.0);
  EXPECT_EQ(f.at("Energy"), 160.0);
  // numpy's mean of [0.1, 0.1, 0.1] is 0.1 + 2^-56 (pairwise sum 0.30000000000000004, / 3), so the deviations are
  // all -1.39e-17 and PyRadiomics reports skewness -1 and kurtosis 1 (numpy 1.24, _moment restated).
  const std::vector<double> tenths(3, 0.1);
  const auto g = testing::as_map(firstorder_features(tenths, std::vector<std::int32_t>(3, 1), {}));
  EXPECT_NEAR(g.at("Skewness"), -1.0, 1e-12);
  EXPECT_NEAR(g.at("Kurtosis"), 1.0, 1e-12);
  EXPECT_EQ(g.at("Mean"), 0.30000000000000004 / 3);
}

TEST(FirstOrder, TwoValuesLeaveTheRobustRangeEmpty) {
  // 10th and 90th percentiles of {0, 10} are 1 and 9: no value lies in [1, 9], np.nanmean of nothing is NaN.
  const std::vector<double> values = {0, 10};
  const auto f = testing::as_map(firstorder_features(values, discretize_values(values, 5), {}));
  EXPECT_EQ(f.at("10Percentile"), 1.0);
  EXPECT_EQ(f.at("90Percentile"), 9.0);
  EXPECT_TRUE(std::isnan(f.at("RobustMeanAbsoluteDeviation")));
  EXPECT_EQ(f.at("Median"), 5.0);
  EXPECT_EQ(f.at("Uniformity"), 0.5);
  EXPECT_NEAR(f.at("Entropy"), 1.0, 1e-15);
}

TEST(FirstOrder, MaskWithHolesUsesRoiPixelsOnly) {
  // 4x3 plane; the ROI is a ring around two holes whose values (1000) must not count.
  ImageD image(4, 3, 1);
  image.data = {1, 2, 3, 4, 5, 1000, 1000, 8, 9, 10, 11, 12};
  Mask mask(4, 3, 1);
  mask.data = {1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1};
  const Discretized d = discretize(image, mask, 5);
  const auto f = testing::as_map(firstorder_features(image, d, {}));
  // ROI values 1 2 3 4 5 8 9 10 11 12: mean 6.5, median (5 + 8) / 2, 10th percentile 1 + 0.9 * (2 - 1),
  // 90th 11 + 0.1 * (12 - 11) (virtual index 8.1), levels (edges 0, 5, 10, 15): 4 x 1, 3 x 2, 3 x 3.
  EXPECT_EQ(f.at("Mean"), 6.5);
  EXPECT_EQ(f.at("Median"), 6.5);
  EXPECT_EQ(f.at("Minimum"), 1);
  EXPECT_EQ(f.at("Maximum"), 12);
  EXPECT_DOUBLE_EQ(f.at("10Percentile"), 1.9);
  EXPECT_DOUBLE_EQ(f.at("90Percentile"), 11.1);
  EXPECT_DOUBLE_EQ(f.at("Uniformity"), 0.16 + 0.09 + 0.09);
  EXPECT_DOUBLE_EQ(f.at("Variance"), (5.5 * 5.5 + 4.5 * 4.5 + 3.5 * 3.5 + 2.5 * 2.5 + 1.5 * 1.5 + 1.5 * 1.5 +
                                      2.5 * 2.5 + 3.5 * 3.5 + 4.5 * 4.5 + 5.5 * 5.5) /
                                         10);
  EXPECT_EQ(f.at("Energy"), 1 + 4 + 9 + 16 + 25 + 64 + 81 + 100 + 121 + 144);
}

TEST(FirstOrder, RefusesBadInput) {
  const std::vector<double> values = {1, 2};
  EXPECT_THROW(firstorder_features(std::vector<double>{}, std::vector<std::int32_t>{}, {}), std::invalid_argument);
  EXPECT_THROW(firstorder_features(values, std::vector<std::int32_t>{1}, {}), std::invalid_argument);
  EXPECT_THROW(firstorder_features(values, std::vector<std::int32_t>{1, 0}, {}), std::invalid_argument);
  EXPECT_THROW(firstorder_features(std::vector<double>{1, NAN}, std::vector<std::int32_t>{1, 1}, {}),
               std::invalid_argument);
  ImageD image(2, 1, 1);
  Discretized d;
  d.width = 3;
  d.height = 1;
  d.levels = {1, 1, 1};
  EXPECT_THROW(firstorder_features(image, d, {}), std::invalid_argument);
}

}  // namespace
}  // namespace chexgen::radiomics
