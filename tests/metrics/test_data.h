// Shared helpers of the metrics tests: committed golden files and tolerance checks.
#pragma once

#include <cmath>
#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/matrix.h"
#include "chexgen/features/npy.h"
#include "support/tolerance.h"

namespace chexgen::testing {

// tests/golden/metrics/<name>
inline std::string golden_path(const std::string& name) {
  return std::string(CHEXGEN_SOURCE_DIR) + "/tests/golden/metrics/" + name;
}

// tests/golden/metrics/golden.json, written by tests/fixtures/make_metrics_golden.py.
const nlohmann::json& golden();

// The feature-pair cases of golden.json ("features"), each <case>_real.npy / <case>_synthetic.npy.
inline const std::vector<std::string> kFeatureCases = {"basic",     "square", "n_lt_dim",  "duplicates",
                                                       "identical", "scales", "far_apart", "f32"};

inline MatrixD load_f64(const std::string& name) { return features::read_npy(golden_path(name)).to_f64(); }
inline MatrixF load_f32(const std::string& name) { return features::read_npy(golden_path(name)).to_f32(); }

// n x d matrix of N(0, 1)·scale + shift from a fixed seed.
template <class T>
Matrix<T> random_matrix(std::size_t n, std::size_t d, unsigned seed, double scale = 1.0, double shift = 0.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  Matrix<T> m(n, d);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < d; ++j) m(i, j) = static_cast<T>(normal(rng) * scale + shift);
  }
  return m;
}

template <class To, class From>
Matrix<To> cast_matrix(const Matrix<From>& m) {
  Matrix<To> out(m.rows(), m.cols());
  for (std::size_t k = 0; k < m.rows() * m.cols(); ++k) out.data()[k] = static_cast<To>(m.data()[k]);
  return out;
}

}  // namespace chexgen::testing
