// bench_probe: the utility probe's fit (docs/utility.md, docs/benchmarks.md): 14 L2 logistic regressions on n x d
// standardised features, all labels in lockstep (metrics::fit_logistic_l2), then the probabilities of every row.
//
//   bench_probe --rows 75000 --dim 768 --write-features DIR   # make the data once (x.npy float64, y.npy float64 0/1)
//   bench_probe --features DIR [--C 1]                         # time standardising, fitting and predicting
//
// The data: x ~ N(0, 1) (seed 3); label l is 1 where x . w_l + noise > t_l, w_l ~ N(0, 1/d), noise sd 1, the
// thresholds spread the prevalences from 2 % to 50 %. bench/probe_reference.py fits the same files with
// scikit-learn. Prints one JSON object: seconds, iterations per label, the largest final gradient, peak RSS.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "chexgen/features/npy.h"
#include "chexgen/metrics/frd.h"
#include "chexgen/metrics/logistic.h"

int main(int argc, char** argv) {
  CLI::App app{"Time the utility probe's fit on random features (docs/benchmarks.md)", "bench_probe"};
  std::size_t rows = 75000, dim = 768, labels = 14;
  std::string write_dir, features;
  double C = 1.0;
  app.add_option("--rows", rows, "Training rows")->capture_default_str();
  app.add_option("--dim", dim, "Features per row")->capture_default_str();
  app.add_option("--write-features", write_dir, "Make x.npy and y.npy in this folder, then stop");
  app.add_option("--features", features, "Fit the files of this folder");
  app.add_option("--C", C, "Inverse L2 strength")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (!write_dir.empty()) {
    std::mt19937_64 rng(3);
    std::normal_distribution<double> normal(0.0, 1.0);
    chexgen::MatrixD x(rows, dim), y(rows, labels), w(dim, labels);
    for (std::size_t i = 0; i < rows * dim; ++i) x.data()[i] = normal(rng);
    for (std::size_t i = 0; i < dim * labels; ++i) w.data()[i] = normal(rng) / std::sqrt(static_cast<double>(dim));
    for (std::size_t i = 0; i < rows; ++i)
      for (std::size_t l = 0; l < labels; ++l) {
        double z = normal(rng);
        for (std::size_t j = 0; j < dim; ++j) z += x(i, j) * w(j, l);
        const double threshold = 2.0 - 2.0 * static_cast<double>(l) / static_cast<double>(labels - 1);  // 2 .. 0
        y(i, l) = z > threshold ? 1.0 : 0.0;
      }
    std::filesystem::create_directories(write_dir);
    chexgen::features::write_npy(std::filesystem::path(write_dir) / "x.npy", x);
    chexgen::features::write_npy(std::filesystem::path(write_dir) / "y.npy", y);
    return 0;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const chexgen::MatrixD x = chexgen::features::read_npy(std::filesystem::path(features) / "x.npy").to_f64();
  const chexgen::MatrixD y = chexgen::features::read_npy(std::filesystem::path(features) / "y.npy").to_f64();
  const auto t1 = std::chrono::steady_clock::now();
  std::vector<std::size_t> all(x.rows());
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
  const chexgen::metrics::StandardisedFeatures z = chexgen::metrics::standardise_with_real(x, all, x, all);
  std::vector<std::uint8_t> truth(y.rows() * y.cols());
  for (std::size_t i = 0; i < truth.size(); ++i) truth[i] = y.data()[i] != 0 ? 1 : 0;
  chexgen::metrics::LogisticOptions o;
  o.C = C;
  const auto models = chexgen::metrics::fit_logistic_l2(z.real, truth, y.cols(), o);
  const chexgen::MatrixD p = chexgen::metrics::logistic_probabilities(z.real, models);
  const auto t2 = std::chrono::steady_clock::now();
  nlohmann::json out;
  out["read_seconds"] = std::chrono::duration<double>(t1 - t0).count();
  out["fit_seconds"] = std::chrono::duration<double>(t2 - t1).count();
  std::vector<int> iterations;
  double gradient = 0, checksum = 0;
  for (const auto& m : models) {
    iterations.push_back(m.iterations);
    gradient = std::max(gradient, m.gradient_max);
  }
  for (std::size_t i = 0; i < p.rows() * p.cols(); ++i) checksum += p.data()[i];
  out["iterations"] = iterations;
  out["gradient_max"] = gradient;
  out["probability_sum"] = checksum;
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  out["peak_rss_mib"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
