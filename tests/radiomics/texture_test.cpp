// GLRLM, GLSZM, GLDM and NGTDM against PyRadiomics and IBSI:
//  - the IBSI digital phantom, per slice then averaged, against PyRadiomics' values
//    (tests/golden/radiomics/pyradiomics_ibsi_phantom_2d_per_slice_avg.csv) and the IBSI 1 reference values of the
//    features pyradiomics_vs_ibsi_digital_phantom_2d.csv marks as matched;
//  - the 24 NIH images, CheXGenBench's configuration without resampling, against PyRadiomics
//    (pyradiomics_frd_v1_noresample_nih24.csv, GLRLM / GLSZM / NGTDM columns);
//  - random planes of awkward sizes, masks with holes and pieces, against a naive transcription of cmatrices.c and
//    the numpy formulas of glrlm.py / glszm.py / gldm.py / ngtdm.py (dense matrices, literal double sums);
//  - small cases worked out by hand (single pixel, flat ROI, holes, two pieces, angles that PyRadiomics deletes).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "chexgen/data/csv_table.h"
#include "chexgen/radiomics/discretize.h"
#include "chexgen/radiomics/gldm.h"
#include "chexgen/radiomics/glrlm.h"
#include "chexgen/radiomics/glszm.h"
#include "chexgen/radiomics/ngtdm.h"
#include "chexgen/radiomics/preprocess.h"
#include "test_support.h"

namespace chexgen::radiomics {
namespace {

using testing::close;
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kEps = std::numeric_limits<double>::epsilon();

struct TextureClass {
  std::string name;  // PyRadiomics' class name
  std::function<FeatureClassValues(const Discretized&)> compute;
  std::function<FeatureClassValues(const TexturePlane&)> from_ranks;  // the extractor's shared rank-coded plane
};
const std::vector<TextureClass>& texture_classes() {
  using Levels = FeatureClassValues (*)(const Discretized&);
  using Plane = FeatureClassValues (*)(const TexturePlane&);
  static const std::vector<TextureClass> classes = {
      {"glrlm", static_cast<Levels>(glrlm_features), static_cast<Plane>(glrlm_features)},
      {"glszm", static_cast<Levels>(glszm_features), static_cast<Plane>(glszm_features)},
      {"gldm", static_cast<Levels>(gldm_features), static_cast<Plane>(gldm_features)},
      {"ngtdm", static_cast<Levels>(ngtdm_features), static_cast<Plane>(ngtdm_features)}};
  return classes;
}

double feature(const FeatureClassValues& f, std::string_view name) {
  for (std::size_t i = 0; i < f.names.size(); ++i) {
    if (f.names[i] == name) return f.values[i];
  }
  ADD_FAILURE() << "no feature " << name;
  return kNaN;
}

// ---------------------------------------------------------------------------------------------------------------
// Naive reference: cmatrices.c's loops on the cropped plane and the numpy formulas, dense matrices throughout.

struct Crop {
  int h = 0, w = 0;              // array shape (y, x)
  std::vector<int> image;        // levels, 0 outside
  std::vector<int> gray_levels;  // coefficients["grayLevels"]
  int ng = 0;
  bool in(int y, int x) const { return y >= 0 && y < h && x >= 0 && x < w; }
  int at(int y, int x) const { return image[static_cast<std::size_t>(y) * w + x]; }
};

Crop crop_to_roi(const Discretized& d) {
  int x0 = d.width, x1 = -1, y0 = d.height, y1 = -1;
  for (int y = 0; y < d.height; ++y) {
    for (int x = 0; x < d.width; ++x) {
      if (d.at(x, y) > 0) x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, y), y1 = std::max(y1, y);
    }
  }
  Crop c;
  c.h = y1 - y0 + 1;
  c.w = x1 - x0 + 1;
  for (int y = y0; y <= y1; ++y) {
    for (int x = x0; x <= x1; ++x) c.image.push_back(d.at(x, y));
  }
  c.gray_levels = d.present;
  c.ng = d.ng;
  return c;
}

// get_angle_count + build_angles for distance 1 on a 2-D array of shape {h, w}.
std::vector<std::array<int, 2>> build_angles(int h, int w, bool bidirectional) {
  const int size[2] = {h, w};
  int na_d = 1, na_dd = 1;
  for (int s : size) {
    na_d *= 1 < s ? 3 : 2 * (s - 1) + 1;
    na_dd *= 1 < s ? 1 : 2 * (s - 1) + 1;
  }
  int na = na_d - na_dd;
  if (!bidirectional) na /= 2;
  std::vector<std::array<int, 2>> angles;
  for (int idx = 0; static_cast<int>(angles.size()) < na; ++idx) {
    std::array<int, 2> a{};
    int dist = 0;
    for (int d = 0; d < 2; ++d) {
      const int offset = 1 - (idx / (d == 0 ? 3 : 1)) % 3;
      if (offset >= size[d] || offset <= -size[d]) {
        dist = -1;
        break;
      }
      a[d] = offset;
      dist = std::max(dist, std::abs(offset));
    }
    if (dist == 1) angles.push_back(a);
  }
  return angles;
}

double nanmean(const std::vector<double>& v) {
  double s = 0, n = 0;
  for (double x : v) {
    if (!std::isnan(x)) s += x, n += 1;
  }
  return n > 0 ? s / n : kNaN;
}

std::map<std::string, double> naive_glrlm(const Crop& c) {
  const auto angles = build_angles(c.h, c.w, false);
  const int nr_max = std::max(c.h, c.w);
  // P[angle][gl - 1][run length - 1]
  std::vector<std::vector<std::vector<double>>> P(
      angles.size(), std::vector<std::vector<double>>(c.ng, std::vector<double>(nr_max, 0.0)));
  for (std::size_t a = 0; a < angles.size(); ++a) {
    const int dy = angles[a][0], dx = angles[a][1];
    bool multi = false;
    for (int y = 0; y < c.h; ++y) {
      for (int x = 0; x < c.w; ++x) {
        if (c.in(y - dy, x - dx)) continue;  // not a start position
        int gl = -1, rl = 0, elements = 0;
        for (int yy = y, xx = x; c.in(yy, xx); yy += dy, xx += dx) {
          const int v = c.at(yy, xx);
          if (v > 0) {
            ++elements;
            if (gl == -1) {
              gl = v;
            } else if (v == gl) {
              ++rl;
            } else {
              P[a][gl - 1][rl] += 1;
              gl = v, rl = 0;
            }
          } else if (gl > -1) {
            P[a][gl - 1][rl] += 1;
            gl = -1, rl = 0;
          }
        }
        if (gl > -1) P[a][gl - 1][rl] += 1;
        if (elements > 1) multi = true;
      }
    }
    if (!multi) {
      for (auto& row : P[a]) row[0] = 0;
    }
  }
  // Rows of present levels only; empty angles deleted (when more than one); empty run lengths deleted.
  std::vector<std::size_t> kept;
  for (std::size_t a = 0; a < angles.size(); ++a) {
    double s = 0;
    for (int g : c.gray_levels) {
      for (double v : P[a][g - 1]) s += v;
    }
    if (s > 0 || angles.size() == 1) kept.push_back(a);
  }
  std::vector<int> lengths;
  for (int j = 0; j < nr_max; ++j) {
    double s = 0;
    for (std::size_t a : kept) {
      for (int g : c.gray_levels) s += P[a][g - 1][j];
    }
    if (s > 0) lengths.push_back(j + 1);
  }
  std::map<std::string, std::vector<double>> per_angle;
  for (std::size_t a : kept) {
    auto p = [&](int g, int j) { return P[a][g - 1][j - 1]; };
    double nr = 0;
    for (int g : c.gray_levels) {
      for (int j : lengths) nr += p(g, j);
    }
    if (nr == 0) nr = kNaN;
    std::map<int, double> pg, pr;
    for (int g : c.gray_levels) {
      for (int j : lengths) pg[g] += p(g, j), pr[j] += p(g, j);
    }
    auto sum_ij = [&](auto f) {
      double s = 0;
      for (int g : c.gray_levels) {
        for (int j : lengths) s += f(p(g, j), double(g), double(j));
      }
      return s;
    };
    double sre = 0, lre = 0, rln = 0, np = 0, gln = 0, lg = 0, hg = 0, ui = 0, uj = 0;
    for (auto [j, v] : pr) sre += v / (double(j) * j), lre += v * j * j, rln += v * v, np += v * j, uj += v / nr * j;
    for (auto [g, v] : pg) gln += v * v, lg += v / (double(g) * g), hg += v * g * g, ui += v / nr * g;
    double glv = 0, rv = 0;
    for (auto [g, v] : pg) glv += v / nr * (g - ui) * (g - ui);
    for (auto [j, v] : pr) rv += v / nr * (j - uj) * (j - uj);
    auto& f = per_angle;
    f["ShortRunEmphasis"].push_back(sre / nr);
    f["LongRunEmphasis"].push_back(lre / nr);
    f["GrayLevelNonUniformity"].push_back(gln / nr);
    f["GrayLevelNonUniformityNormalized"].push_back(gln / (nr * nr));
    f["RunLengthNonUniformity"].push_back(rln / nr);
    f["RunLengthNonUniformityNormalized"].push_back(rln / (nr * nr));
    f["RunPercentage"].push_back(nr / np);
    f["GrayLevelVariance"].push_back(glv);
    f["RunVariance"].push_back(rv);
    f["RunEntropy"].push_back(-sum_ij([&](double v, double, double) { return v / nr * std::log2(v / nr + kEps); }));
    f["LowGrayLevelRunEmphasis"].push_back(lg / nr);
    f["HighGrayLevelRunEmphasis"].push_back(hg / nr);
    using Term = double (*)(double, double, double);
    const Term srlgle = [](double v, double i, double j) { return v / (i * i * j * j); };
    const Term srhgle = [](double v, double i, double j) { return v * i * i / (j * j); };
    const Term lrlgle = [](double v, double i, double j) { return v * j * j / (i * i); };
    const Term lrhgle = [](double v, double i, double j) { return v * i * i * j * j; };
    f["ShortRunLowGrayLevelEmphasis"].push_back(sum_ij(srlgle) / nr);
    f["ShortRunHighGrayLevelEmphasis"].push_back(sum_ij(srhgle) / nr);
    f["LongRunLowGrayLevelEmphasis"].push_back(sum_ij(lrlgle) / nr);
    f["LongRunHighGrayLevelEmphasis"].push_back(sum_ij(lrhgle) / nr);
  }
  std::map<std::string, double> out;
  for (std::string_view name : glrlm_feature_names()) out[std::string(name)] = nanmean(per_angle[std::string(name)]);
  return out;
}

// The features shared by GLSZM and GLDM from a dense matrix P[g][j] (rows: present levels; j = column + 1) with
// empty columns deleted; normaliser nz.
struct ZoneLike {
  std::map<std::string, double> f;
};
ZoneLike zone_like(const std::map<int, std::vector<double>>& P, std::size_t columns) {
  std::vector<int> js;
  for (std::size_t j = 0; j < columns; ++j) {
    double s = 0;
    for (const auto& [g, row] : P) s += row[j];
    if (s > 0) js.push_back(static_cast<int>(j) + 1);
  }
  double nz = 0;
  std::map<int, double> pg, pj;
  for (const auto& [g, row] : P) {
    for (int j : js) nz += row[j - 1], pg[g] += row[j - 1], pj[j] += row[j - 1];
  }
  auto sum_gj = [&](auto f) {
    double s = 0;
    for (const auto& [g, row] : P) {
      for (int j : js) s += f(row[j - 1], double(g), double(j));
    }
    return s;
  };
  double se = 0, le = 0, jn = 0, np = 0, gln = 0, lg = 0, hg = 0, ui = 0, uj = 0;
  for (auto [j, v] : pj) se += v / (double(j) * j), le += v * j * j, jn += v * v, np += v * j, uj += v / nz * j;
  for (auto [g, v] : pg) gln += v * v, lg += v / (double(g) * g), hg += v * g * g, ui += v / nz * g;
  double glv = 0, jv = 0;
  for (auto [g, v] : pg) glv += v / nz * (g - ui) * (g - ui);
  for (auto [j, v] : pj) jv += v / nz * (j - uj) * (j - uj);
  ZoneLike z;
  z.f["small"] = se / nz;
  z.f["large"] = le / nz;
  z.f["gln"] = gln / nz;
  z.f["glnn"] = gln / (nz * nz);
  z.f["jn"] = jn / nz;
  z.f["jnn"] = jn / (nz * nz);
  z.f["percentage"] = nz / np;
  z.f["glv"] = glv;
  z.f["jv"] = jv;
  z.f["entropy"] = -sum_gj([&](double v, double, double) { return v / nz * std::log2(v / nz + kEps); });
  z.f["lg"] = lg / nz;
  z.f["hg"] = hg / nz;
  z.f["slg"] = sum_gj([](double v, double i, double j) { return v / (i * i * j * j); }) / nz;
  z.f["shg"] = sum_gj([](double v, double i, double j) { return v * i * i / (j * j); }) / nz;
  z.f["llg"] = sum_gj([](double v, double i, double j) { return v * j * j / (i * i); }) / nz;
  z.f["lhg"] = sum_gj([](double v, double i, double j) { return v * i * i * j * j; }) / nz;
  return z;
}

std::map<std::string, double> naive_glszm(const Crop& c) {
  const auto angles = build_angles(c.h, c.w, true);
  if (angles.empty()) return {};
  std::size_t ns = 0;
  for (int v : c.image) ns += v > 0;
  std::map<int, std::vector<double>> P;
  for (int g : c.gray_levels) P[g].assign(ns, 0.0);
  std::vector<char> mask(c.image.size());
  for (std::size_t i = 0; i < mask.size(); ++i) mask[i] = c.image[i] > 0;
  for (int y = 0; y < c.h; ++y) {
    for (int x = 0; x < c.w; ++x) {
      if (!mask[static_cast<std::size_t>(y) * c.w + x]) continue;
      const int gl = c.at(y, x);
      std::vector<std::array<int, 2>> stack = {{y, x}};
      mask[static_cast<std::size_t>(y) * c.w + x] = 0;
      int region = 0;
      while (!stack.empty()) {
        const auto [ky, kx] = stack.back();
        stack.pop_back();
        ++region;
        for (const auto& a : angles) {
          const int jy = ky + a[0], jx = kx + a[1];
          if (!c.in(jy, jx)) continue;
          const std::size_t j = static_cast<std::size_t>(jy) * c.w + jx;
          if (mask[j] && c.image[j] == gl) {
            mask[j] = 0;
            stack.push_back({jy, jx});
          }
        }
      }
      P[gl][static_cast<std::size_t>(region) - 1] += 1;
    }
  }
  const auto z = zone_like(P, ns).f;
  return {{"SmallAreaEmphasis", z.at("small")},
          {"LargeAreaEmphasis", z.at("large")},
          {"GrayLevelNonUniformity", z.at("gln")},
          {"GrayLevelNonUniformityNormalized", z.at("glnn")},
          {"SizeZoneNonUniformity", z.at("jn")},
          {"SizeZoneNonUniformityNormalized", z.at("jnn")},
          {"ZonePercentage", z.at("percentage")},
          {"GrayLevelVariance", z.at("glv")},
          {"ZoneVariance", z.at("jv")},
          {"ZoneEntropy", z.at("entropy")},
          {"LowGrayLevelZoneEmphasis", z.at("lg")},
          {"HighGrayLevelZoneEmphasis", z.at("hg")},
          {"SmallAreaLowGrayLevelEmphasis", z.at("slg")},
          {"SmallAreaHighGrayLevelEmphasis", z.at("shg")},
          {"LargeAreaLowGrayLevelEmphasis", z.at("llg")},
          {"LargeAreaHighGrayLevelEmphasis", z.at("lhg")}};
}

std::map<std::string, double> naive_gldm(const Crop& c) {
  const auto angles = build_angles(c.h, c.w, true);
  if (angles.empty()) return {};
  const std::size_t columns = angles.size() + 1;
  std::map<int, std::vector<double>> P;
  for (int g : c.gray_levels) P[g].assign(columns, 0.0);
  for (int y = 0; y < c.h; ++y) {
    for (int x = 0; x < c.w; ++x) {
      const int v = c.at(y, x);
      if (v == 0) continue;
      int dep = 0;
      for (const auto& a : angles) {
        if (c.in(y + a[0], x + a[1]) && c.at(y + a[0], x + a[1]) > 0 && c.at(y + a[0], x + a[1]) == v) ++dep;
      }
      P[v][static_cast<std::size_t>(dep)] += 1;
    }
  }
  const auto z = zone_like(P, columns).f;
  return {{"SmallDependenceEmphasis", z.at("small")},
          {"LargeDependenceEmphasis", z.at("large")},
          {"GrayLevelNonUniformity", z.at("gln")},
          {"DependenceNonUniformity", z.at("jn")},
          {"DependenceNonUniformityNormalized", z.at("jnn")},
          {"GrayLevelVariance", z.at("glv")},
          {"DependenceVariance", z.at("jv")},
          {"DependenceEntropy", z.at("entropy")},
          {"LowGrayLevelEmphasis", z.at("lg")},
          {"HighGrayLevelEmphasis", z.at("hg")},
          {"SmallDependenceLowGrayLevelEmphasis", z.at("slg")},
          {"SmallDependenceHighGrayLevelEmphasis", z.at("shg")},
          {"LargeDependenceLowGrayLevelEmphasis", z.at("llg")},
          {"LargeDependenceHighGrayLevelEmphasis", z.at("lhg")}};
}

std::map<std::string, double> naive_ngtdm(const Crop& c) {
  const auto angles = build_angles(c.h, c.w, true);
  if (angles.empty()) return {};
  std::vector<double> n(static_cast<std::size_t>(c.ng), 0.0), s(static_cast<std::size_t>(c.ng), 0.0);
  for (int y = 0; y < c.h; ++y) {
    for (int x = 0; x < c.w; ++x) {
      const int v = c.at(y, x);
      if (v == 0) continue;
      double count = 0, sum = 0;
      for (const auto& a : angles) {
        if (c.in(y + a[0], x + a[1]) && c.at(y + a[0], x + a[1]) > 0) count += 1, sum += c.at(y + a[0], x + a[1]);
      }
      double diff = count == 0 ? 0 : double(v) - sum / count;
      if (diff < 0) diff = -diff;
      n[v - 1] += 1;
      s[v - 1] += diff;
    }
  }
  std::vector<double> p, si, iv;
  double nvp = 0;
  for (double v : n) nvp += v;
  for (std::size_t g = 0; g < n.size(); ++g) {
    if (n[g] == 0) continue;
    p.push_back(n[g] / nvp), si.push_back(s[g]), iv.push_back(double(g) + 1);
  }
  const std::size_t k = p.size();
  double sum_ps = 0, sum_s = 0, contrast = 0, absdiff = 0, complexity = 0, strength = 0;
  for (std::size_t a = 0; a < k; ++a) sum_ps += p[a] * si[a], sum_s += si[a];
  for (std::size_t a = 0; a < k; ++a) {
    for (std::size_t b = 0; b < k; ++b) {
      contrast += p[a] * p[b] * (iv[a] - iv[b]) * (iv[a] - iv[b]);
      absdiff += std::fabs(iv[a] * p[a] - iv[b] * p[b]);
      complexity += std::fabs(iv[a] - iv[b]) * (p[a] * si[a] + p[b] * si[b]) / (p[a] + p[b]);
      strength += (p[a] + p[b]) * (iv[a] - iv[b]) * (iv[a] - iv[b]);
    }
  }
  const double div = double(k) * (double(k) - 1);
  return {{"Coarseness", sum_ps != 0 ? 1 / sum_ps : 1e6},
          {"Contrast", div != 0 ? contrast * sum_s / nvp / div : 0},
          {"Busyness", absdiff != 0 ? sum_ps / absdiff : 0},
          {"Complexity", complexity / nvp},
          {"Strength", sum_s != 0 ? strength / sum_s : 0}};
}

std::map<std::string, double> naive(const std::string& cls, const Discretized& d) {
  const Crop c = crop_to_roi(d);
  if (cls == "glrlm") return naive_glrlm(c);
  if (cls == "glszm") return naive_glszm(c);
  if (cls == "gldm") return naive_gldm(c);
  return naive_ngtdm(c);
}

void expect_matches_naive(const Discretized& d, const std::string& what) {
  for (const TextureClass& cls : texture_classes()) {
    const FeatureClassValues fast = cls.compute(d);
    const auto slow = naive(cls.name, d);
    ASSERT_EQ(fast.values.size(), fast.names.size());
    for (std::size_t i = 0; i < fast.names.size(); ++i) {
      const std::string name(fast.names[i]);
      const double ref = slow.count(name) ? slow.at(name) : kNaN;  // no angle: PyRadiomics gives no value
      EXPECT_TRUE(close(fast.values[i], ref, 1e-12, 1e-12))
          << what << ": " << cls.name << "_" << name << " = " << fast.values[i] << ", naive " << ref;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------

TEST(Texture, NamesInPyRadiomicsOrder) {
  const std::vector<std::pair<std::span<const std::string_view>, std::size_t>> lists = {
      {glrlm_feature_names(), 16}, {glszm_feature_names(), 16}, {gldm_feature_names(), 14}, {ngtdm_feature_names(), 5}};
  for (const auto& [names, count] : lists) {
    EXPECT_EQ(names.size(), count);
    EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));  // inspect.getmembers sorts the getters by name
  }
  // The golden PyRadiomics table lists the GLRLM, GLSZM and NGTDM columns in output order.
  const auto table = testing::read_feature_table(testing::golden_dir() / "pyradiomics_frd_v1_noresample_nih24.csv");
  for (const TextureClass& cls : texture_classes()) {
    if (cls.name == "gldm") continue;
    std::vector<std::string> golden;
    for (const auto& c : table.columns) {
      if (c.starts_with("original_" + cls.name + "_")) golden.push_back(c.substr(cls.name.size() + 10));
    }
    const auto names = cls.compute(testing::plane_from_levels(2, 1, {1, 2})).names;
    EXPECT_EQ(golden, std::vector<std::string>(names.begin(), names.end())) << cls.name;
  }
}

TEST(Texture, MatchesNaiveTranscriptionOnRandomPlanes) {
  std::mt19937 rng(20240607);
  struct Case {
    int width, height, levels;
    double hole_probability;
    bool blocky;  // long runs and large zones (beyond the fast tables' direct range)
  };
  const std::vector<Case> cases = {{1, 7, 3, 0, false},     {7, 1, 3, 0.2, false},    {2, 2, 2, 0, false},
                                   {13, 9, 40, 0.2, false}, {31, 17, 6, 0.1, false},  {64, 3, 2, 0, true},
                                   {3, 64, 2, 0.05, true},  {40, 37, 3, 0.1, true},   {25, 25, 1, 0.3, false},
                                   {17, 23, 200, 0, false}, {20, 20, 4, 0.85, false}, {50, 45, 2, 0.02, true}};
  for (std::size_t k = 0; k < cases.size(); ++k) {
    const Case& c = cases[k];
    std::uniform_int_distribution<int> level(1, c.levels);
    std::bernoulli_distribution hole(c.hole_probability);
    std::vector<std::int32_t> v(static_cast<std::size_t>(c.width) * c.height);
    for (int y = 0; y < c.height; ++y) {
      for (int x = 0; x < c.width; ++x) {
        const int block = c.blocky ? ((x / 20 + y / 7) % c.levels) + 1 : level(rng);
        v[static_cast<std::size_t>(y) * c.width + x] = block + (c.levels == 200 ? 0 : 2);  // levels need not start at 1
      }
    }
    for (auto& x : v) {
      if (hole(rng)) x = 0;
    }
    if (std::none_of(v.begin(), v.end(), [](auto x) { return x > 0; })) v[0] = 3;
    const Discretized d = testing::plane_from_levels(c.width, c.height, v);
    expect_matches_naive(d, "case " + std::to_string(k));
    // The shared rank-coded plane gives the same bits (NGTDM recodes it by level where levels are missing: every
    // case but the 200-level one starts at level 3).
    const TexturePlane ranks = texture_plane(d, LevelCoding::rank, "test");
    for (const TextureClass& cls : texture_classes()) {
      const auto a = cls.compute(d).values, b = cls.from_ranks(ranks).values;
      for (std::size_t i = 0; i < a.size(); ++i)
        EXPECT_TRUE(a[i] == b[i] || (std::isnan(a[i]) && std::isnan(b[i]))) << cls.name << " case " << k << " " << i;
    }
    EXPECT_THROW(ngtdm_features(texture_plane(d, LevelCoding::level, "test")), std::logic_error);
  }
}

TEST(Texture, UncroppedPlaneGivesTheCroppedValues) {
  // PyRadiomics crops to the ROI's bounding box; a margin outside the ROI changes nothing, also where the box is one
  // pixel wide (GLRLM then has one angle) and where the ROI does not reach every side of the plane.
  const std::vector<std::pair<int, std::vector<std::int32_t>>> rois = {
      {1, {3, 4, 4}}, {3, {2, 2, 5}}, {3, {1, 2, 1, 0, 3, 3, 2, 0, 1}}, {2, {7, 0, 0, 7}}};
  for (const auto& [w, roi] : rois) {
    const int h = static_cast<int>(roi.size()) / w;
    const Discretized cropped = testing::plane_from_levels(w, h, roi);
    std::vector<std::int32_t> framed(static_cast<std::size_t>((w + 3) * (h + 4)), 0);
    for (int y = 0; y < h; ++y) {
      for (int x = 0; x < w; ++x) framed[static_cast<std::size_t>((y + 1) * (w + 3) + x + 2)] = roi[y * w + x];
    }
    const Discretized uncropped = testing::plane_from_levels(w + 3, h + 4, framed);
    for (const TextureClass& cls : texture_classes()) {
      const auto a = cls.compute(cropped).values, b = cls.compute(uncropped).values;
      for (std::size_t i = 0; i < a.size(); ++i) EXPECT_TRUE(close(a[i], b[i], 1e-15, 0)) << cls.name << " " << i;
    }
    expect_matches_naive(uncropped, "framed");
  }
}

TEST(Texture, SinglePixelRoiHasNoValue) {
  // PyRadiomics finds no angle for a 1x1 bounding box (cMatrices raises "Error getting angle count"): NaN.
  for (const Discretized& d :
       {testing::plane_from_levels(1, 1, {4}), testing::plane_from_levels(3, 3, {0, 0, 0, 0, 7, 0, 0, 0, 0})}) {
    for (const TextureClass& cls : texture_classes()) {
      const FeatureClassValues f = cls.compute(d);
      ASSERT_EQ(f.values.size(), f.names.size());
      for (double v : f.values) EXPECT_TRUE(std::isnan(v)) << cls.name;
    }
  }
}

TEST(Texture, FlatRoiByHand) {
  const Discretized d = testing::plane_from_levels(3, 3, std::vector<std::int32_t>(9, 4));
  // GLRLM: the diagonals hold runs 1, 2, 3, 2, 1 (5 runs), rows and columns 3 runs of 3.
  const auto rl = glrlm_features(d);
  EXPECT_NEAR(feature(rl, "ShortRunEmphasis"), ((2 + 0.5 + 1.0 / 9) / 5 + 1.0 / 9) / 2, 1e-15);
  EXPECT_NEAR(feature(rl, "LongRunEmphasis"), ((2 + 8 + 9) / 5.0 + 9) / 2, 1e-14);
  EXPECT_NEAR(feature(rl, "RunPercentage"), (5.0 / 9 + 3.0 / 9) / 2, 1e-15);
  EXPECT_NEAR(feature(rl, "GrayLevelNonUniformity"), (5.0 + 3.0) / 2, 1e-14);
  EXPECT_NEAR(feature(rl, "HighGrayLevelRunEmphasis"), 16, 1e-13);
  EXPECT_EQ(feature(rl, "GrayLevelVariance"), 0);
  const double diagonal_entropy = -(0.8 * std::log2(0.4 + kEps) + 0.2 * std::log2(0.2 + kEps));
  EXPECT_NEAR(feature(rl, "RunEntropy"), (diagonal_entropy - std::log2(1 + kEps)) / 2, 1e-15);
  // GLSZM: one zone of 9 pixels.
  const auto sz = glszm_features(d);
  EXPECT_NEAR(feature(sz, "SmallAreaEmphasis"), 1.0 / 81, 1e-16);
  EXPECT_EQ(feature(sz, "LargeAreaEmphasis"), 81);
  EXPECT_NEAR(feature(sz, "ZonePercentage"), 1.0 / 9, 1e-16);
  EXPECT_EQ(feature(sz, "ZoneVariance"), 0);
  EXPECT_EQ(feature(sz, "ZoneEntropy"), -std::log2(1 + kEps));
  EXPECT_EQ(feature(sz, "SizeZoneNonUniformityNormalized"), 1);
  // GLDM: 4 corners with 3 dependent neighbours, 4 edges with 5, the centre with 8.
  const auto dm = gldm_features(d);
  EXPECT_NEAR(feature(dm, "SmallDependenceEmphasis"), (4.0 / 16 + 4.0 / 36 + 1.0 / 81) / 9, 1e-16);
  EXPECT_NEAR(feature(dm, "LargeDependenceEmphasis"), (4.0 * 16 + 4 * 36 + 81) / 9, 1e-13);
  EXPECT_NEAR(feature(dm, "DependenceNonUniformity"), (16.0 + 16 + 1) / 9, 1e-14);
  EXPECT_NEAR(feature(dm, "GrayLevelNonUniformity"), 9, 1e-14);
  EXPECT_EQ(feature(dm, "GrayLevelVariance"), 0);
  // NGTDM: every difference is 0; PyRadiomics' fallbacks.
  const auto nt = ngtdm_features(d);
  EXPECT_EQ(feature(nt, "Coarseness"), 1e6);
  EXPECT_EQ(feature(nt, "Contrast"), 0);
  EXPECT_EQ(feature(nt, "Busyness"), 0);
  EXPECT_EQ(feature(nt, "Complexity"), 0);
  EXPECT_EQ(feature(nt, "Strength"), 0);
}

TEST(Texture, NgtdmNeighboursOutsideTheRoiByHand) {
  // Row 1 3 _ 2: the 3 sees only the 1; the 2 sees no ROI pixel (difference 0, but it counts in n_i).
  const auto f = ngtdm_features(testing::plane_from_levels(4, 1, {1, 3, 0, 2}));
  // p = 1/3 each; s = 2, 0, 2 for levels 1, 2, 3.
  EXPECT_NEAR(feature(f, "Coarseness"), 0.75, 1e-15);
  EXPECT_NEAR(feature(f, "Contrast"), 8.0 / 27, 1e-15);
  EXPECT_NEAR(feature(f, "Busyness"), 0.5, 1e-15);
  EXPECT_NEAR(feature(f, "Complexity"), 4, 1e-14);
  EXPECT_NEAR(feature(f, "Strength"), 2, 1e-14);
}

TEST(Texture, HolesAndPiecesByHand) {
  // Two pieces of level 2, separated by a column outside the ROI: two zones of 4.
  const Discretized two = testing::plane_from_levels(5, 2, {2, 2, 0, 2, 2, 2, 2, 0, 2, 2});
  const auto sz = glszm_features(two);
  EXPECT_NEAR(feature(sz, "SmallAreaEmphasis"), 1.0 / 16, 1e-16);
  EXPECT_EQ(feature(sz, "LargeAreaEmphasis"), 16);
  EXPECT_EQ(feature(sz, "ZonePercentage"), 0.25);
  EXPECT_EQ(feature(sz, "SizeZoneNonUniformity"), 2);
  EXPECT_EQ(feature(sz, "ZoneEntropy"), -std::log2(1 + kEps));  // both zones fall in one cell
  // GLRLM: rows and columns give 4 runs of 2; each diagonal direction runs of 2, 1, 1, 2, 1, 1 (the gap cuts them).
  const auto rl = glrlm_features(two);
  EXPECT_NEAR(feature(rl, "ShortRunEmphasis"), (0.25 + 0.25 + 2 * (2 * 0.25 + 4) / 6) / 4, 1e-15);
  EXPECT_NEAR(feature(rl, "RunPercentage"), (0.5 + 0.5 + 2 * 6.0 / 8) / 4, 1e-15);
  expect_matches_naive(two, "two pieces");
  // Pixels touching at a corner are one 8-connected zone.
  EXPECT_EQ(feature(glszm_features(testing::plane_from_levels(2, 2, {3, 0, 0, 3})), "LargeAreaEmphasis"), 4);
  // A ring (hole in the middle) is one zone of 8.
  const Discretized ring = testing::plane_from_levels(3, 3, {5, 5, 5, 5, 0, 5, 5, 5, 5});
  EXPECT_EQ(feature(glszm_features(ring), "LargeAreaEmphasis"), 64);
  expect_matches_naive(ring, "ring");
}

TEST(Texture, GlrlmDeletesAnglesWhoseLinesHoldOnePixel) {
  // (0,0) and (1,1): only the diagonal angle has a line with two ROI pixels, one run of 2; the others are zeroed
  // (calculate_glrlm's multiElement) and deleted.
  const auto one = glrlm_features(testing::plane_from_levels(2, 2, {5, 0, 0, 5}));
  EXPECT_EQ(feature(one, "ShortRunEmphasis"), 0.25);
  EXPECT_EQ(feature(one, "LongRunEmphasis"), 4);
  EXPECT_EQ(feature(one, "RunPercentage"), 0.5);
  // Two pixels of one row with a gap: the row holds both (runs of 1 are kept), the other angles are deleted.
  const auto gap = glrlm_features(testing::plane_from_levels(3, 2, {5, 0, 6, 0, 0, 0}));
  EXPECT_EQ(feature(gap, "RunPercentage"), 1);
  EXPECT_EQ(feature(gap, "ShortRunEmphasis"), 1);
  // (0,0) and (2,1): no line holds both pixels, every angle is deleted, no value.
  for (double v : glrlm_features(testing::plane_from_levels(3, 2, {5, 0, 0, 0, 0, 5})).values)
    EXPECT_TRUE(std::isnan(v));
}

TEST(Texture, RefusesInconsistentPlanes) {
  for (const TextureClass& cls : texture_classes()) {
    Discretized bad = testing::plane_from_levels(2, 2, {1, 2, 2, 1});
    bad.levels.pop_back();
    EXPECT_THROW(cls.compute(bad), std::invalid_argument) << cls.name;
    Discretized missing = testing::plane_from_levels(2, 2, {1, 2, 2, 1});
    missing.present = {2};
    EXPECT_THROW(cls.compute(missing), std::invalid_argument) << cls.name;
    Discretized empty = testing::plane_from_levels(2, 2, {0, 0, 0, 0});
    EXPECT_THROW(cls.compute(empty), std::invalid_argument) << cls.name;
    Discretized beyond = testing::plane_from_levels(2, 2, {1, 2, 2, 1});
    beyond.levels[0] = 3;
    EXPECT_THROW(cls.compute(beyond), std::invalid_argument) << cls.name;
  }
}

// The phantom's features: each z-slice discretised on its own with bin width 1, then the mean over the slices.
std::map<std::string, double> phantom_slice_average() {
  const auto& ph = testing::phantom();
  std::map<std::string, double> sum;
  for (int z = 0; z < ph.nz; ++z) {
    const Discretized d = discretize(ph.slice_image(z), ph.slice_mask(z), 1);
    for (const TextureClass& cls : texture_classes()) {
      const FeatureClassValues f = cls.compute(d);
      for (std::size_t i = 0; i < f.names.size(); ++i) sum[cls.name + "_" + std::string(f.names[i])] += f.values[i];
    }
  }
  for (auto& [name, v] : sum) v /= ph.nz;
  return sum;
}

TEST(Texture, IbsiPhantomMatchesPyRadiomics) {
  const auto golden =
      testing::read_named_values(testing::golden_dir() / "pyradiomics_ibsi_phantom_2d_per_slice_avg.csv");
  const auto ours = phantom_slice_average();
  std::size_t compared = 0;
  for (const auto& [name, value] : ours) {
    const auto it = golden.find("original_" + name);
    ASSERT_NE(it, golden.end()) << name;
    EXPECT_TRUE(close(value, it->second, 5e-9, 0)) << name << ": " << value << ", PyRadiomics " << it->second;
    ++compared;
  }
  EXPECT_EQ(compared, 16u + 16 + 14 + 5);
}

TEST(Texture, IbsiPhantomMatchesIbsiReference) {
  const std::set<std::string> classes = {"glrlm", "glszm", "ngtdm"};
  ErrorReport errors;
  const CsvTable matched = read_csv_file(testing::golden_dir() / "pyradiomics_vs_ibsi_digital_phantom_2d.csv", errors);
  const auto ours = phantom_slice_average();
  std::size_t compared = 0;
  for (const CsvRecord& row : matched.records) {
    const std::string& name = row.fields[matched.column("pyradiomics_feature")];
    if (!classes.count(name.substr(0, name.find('_'))) || row.fields[matched.column("match_3sf")] != "True") continue;
    const std::string& aggregation = row.fields[matched.column("ibsi_aggregation")];
    const testing::IbsiReference ref = testing::ibsi_reference(row.fields[matched.column("ibsi_feature")], aggregation,
                                                               row.fields[matched.column("ibsi_code")]);
    EXPECT_NEAR(ours.at(name), ref.value, ref.tolerance)
        << name << " (IBSI " << row.fields[matched.column("ibsi_feature")] << ", " << aggregation << ")";
    ++compared;
  }
  EXPECT_EQ(compared, 16u + 16 + 5);
}

// The NIH images with CheXGenBench's configuration without resampling: normalise (scale 100), the ROI all but
// pixel (0, 0), bin width 5 (the bounding box is the whole 512x512 image). All 24 in an optimised build; every third
// under Debug and the sanitizers, which are about 20 times slower.
#ifdef NDEBUG
constexpr std::size_t kNihImageStep = 1;
#else
constexpr std::size_t kNihImageStep = 3;
#endif

TEST(Texture, NihImagesMatchPyRadiomics) {
  const auto table = testing::read_feature_table(testing::golden_dir() / "pyradiomics_frd_v1_noresample_nih24.csv");
  std::size_t values = 0, within = 0;
  double worst = 0;
  std::string worst_where;
  for (std::size_t r = 0; r < table.images.size(); r += kNihImageStep) {
    const Discretized d = testing::nih_original(table.images[r]).levels;
    for (const TextureClass& cls : texture_classes()) {
      if (cls.name == "gldm") continue;  // not in frd-v1
      const FeatureClassValues f = cls.compute(d);
      for (std::size_t i = 0; i < f.names.size(); ++i) {
        const std::string column = "original_" + cls.name + "_" + std::string(f.names[i]);
        const double ref = table.value(r, column);
        ++values;
        if (close(f.values[i], ref, 1e-6, 1e-9)) ++within;
        EXPECT_TRUE(close(f.values[i], ref, 1e-3, 1e-9))
            << table.images[r] << " " << column << ": " << f.values[i] << ", PyRadiomics " << ref;
        const double rel = std::fabs(f.values[i] - ref) / std::max({std::fabs(ref), std::fabs(f.values[i]), 1e-9});
        if (!(rel <= worst)) worst = rel, worst_where = table.images[r] + " " + column;
      }
    }
  }
  std::printf("%zu of %zu values within 1e-6; worst relative difference %.3g at %s\n", within, values, worst,
              worst_where.c_str());
  EXPECT_GE(static_cast<double>(within), 0.99 * static_cast<double>(values));
}

}  // namespace
}  // namespace chexgen::radiomics
