// bench_prdc: times compute_prdc on random float32 features (docs/benchmarks.md).
//
//   bench_prdc --real-rows 10000 --fake-rows 10000 --dim 768 [--k 5] [--threads 0] [--seed 1]
//              [--precision float|double] [--tile-rows 256] [--tile-cols 4096]
//              [--write-features DIR] [--skip-prdc]
//
// Real rows ~ N(0, 1), fake rows ~ N(0.05, 1) per feature (a mild distribution shift, so that none
// of the four numbers is trivially 0 or 1). --write-features DIR saves DIR/real.npy and DIR/fake.npy
// (float32, C order) so that bench/prdc_reference.py, and `chexgen metrics` for FID/KID, can run on
// exactly the same data. Prints one JSON object on stdout.
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "chexgen/core/progress.h"
#include "chexgen/metrics/prdc.h"

extern "C" char* openblas_get_corename(void);  // OpenBLAS: the kernel set it chose for this CPU

namespace {

using chexgen::MatrixD;
using chexgen::MatrixF;

MatrixF random_features(std::size_t rows, std::size_t dim, double mean, double sd, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> dist(static_cast<float>(mean), static_cast<float>(sd));
  MatrixF m(rows, dim);
  float* p = m.data();
  for (std::size_t i = 0; i < rows * dim; ++i) p[i] = dist(rng);
  return m;
}

// NumPy .npy version 1.0: magic, header length, a Python dict literal padded to 64 bytes, raw data.
void write_npy(const std::filesystem::path& path, const MatrixF& m) {
  std::string header =
      fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}, {}), }}", m.rows(), m.cols());
  const std::size_t unpadded = 10 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY\x01\x00", 8);
  const std::uint16_t len = static_cast<std::uint16_t>(header.size());
  const char len_bytes[2] = {static_cast<char>(len & 0xff), static_cast<char>(len >> 8)};
  out.write(len_bytes, 2);
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  out.write(reinterpret_cast<const char*>(m.data()), static_cast<std::streamsize>(m.rows() * m.cols() * sizeof(float)));
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

MatrixD to_double(const MatrixF& m) {
  MatrixD out(m.rows(), m.cols());
  for (std::size_t i = 0; i < m.rows() * m.cols(); ++i) out.data()[i] = m.data()[i];
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Time compute_prdc on random features (docs/benchmarks.md)", "bench_prdc"};
  std::size_t real_rows = 10000, fake_rows = 10000, dim = 768;
  std::uint64_t seed = 1;
  std::string precision = "float";
  std::string write_dir;
  bool skip_prdc = false;
  chexgen::metrics::PrdcOptions options;
  app.add_option("--real-rows", real_rows, "Real feature rows")->capture_default_str();
  app.add_option("--fake-rows", fake_rows, "Fake feature rows")->capture_default_str();
  app.add_option("--dim", dim, "Features per row")->capture_default_str();
  app.add_option("--k", options.k, "nearest_k")->capture_default_str();
  app.add_option("--threads", options.threads, "Workers (0 = all cores)")->capture_default_str();
  app.add_option("--tile-rows", options.tile_rows, "Distance tile rows")->capture_default_str();
  app.add_option("--tile-cols", options.tile_cols, "Distance tile columns")->capture_default_str();
  app.add_option("--seed", seed, "Random seed")->capture_default_str();
  app.add_option("--precision", precision, "Input precision handed to compute_prdc")
      ->check(CLI::IsMember({"float", "double"}))
      ->capture_default_str();
  app.add_option("--write-features", write_dir, "Write real.npy and fake.npy (float32) into this folder");
  app.add_flag("--skip-prdc", skip_prdc, "Only generate (and write) the features");
  CLI11_PARSE(app, argc, argv);

  nlohmann::json out;
  auto t0 = std::chrono::steady_clock::now();
  const MatrixF real = random_features(real_rows, dim, 0.0, 1.0, seed);
  const MatrixF fake = random_features(fake_rows, dim, 0.05, 1.0, seed + 1);
  out["generate_s"] = seconds_since(t0);
  if (!write_dir.empty()) {
    std::filesystem::create_directories(write_dir);
    write_npy(std::filesystem::path(write_dir) / "real.npy", real);
    write_npy(std::filesystem::path(write_dir) / "fake.npy", fake);
  }
  out["real_rows"] = real_rows;
  out["fake_rows"] = fake_rows;
  out["dim"] = dim;
  out["k"] = options.k;
  out["seed"] = seed;
  out["precision"] = precision;
  out["threads"] = options.threads;
  out["tile_rows"] = options.tile_rows;
  out["tile_cols"] = options.tile_cols;
  out["openblas_core"] = openblas_get_corename();

  if (!skip_prdc) {
    chexgen::metrics::PrdcResult r;
    chexgen::Progress progress("prdc row blocks", chexgen::metrics::prdc_progress_total(real_rows, fake_rows, options));
    t0 = std::chrono::steady_clock::now();
    if (precision == "double") {
      const MatrixD real_d = to_double(real);
      const MatrixD fake_d = to_double(fake);
      t0 = std::chrono::steady_clock::now();  // conversion not timed
      r = chexgen::metrics::compute_prdc(real_d.view(), fake_d.view(), options, &progress);
    } else {
      r = chexgen::metrics::compute_prdc(real.view(), fake.view(), options, &progress);
    }
    out["prdc_s"] = seconds_since(t0);
    progress.finish();
    out["precision_value"] = r.precision;
    out["recall"] = r.recall;
    out["density"] = r.density;
    out["coverage"] = r.coverage;
    out["counts"] = {{"precision_fakes", r.precision_fakes},
                     {"recall_reals", r.recall_reals},
                     {"density_memberships", r.density_memberships},
                     {"coverage_reals", r.coverage_reals}};
    out["exact_recomputations"] = r.exact_recomputations;
    const double pairs = static_cast<double>(real_rows) * real_rows + static_cast<double>(fake_rows) * fake_rows +
                         static_cast<double>(real_rows) * fake_rows;
    out["exact_recomputation_fraction"] = static_cast<double>(r.exact_recomputations) / pairs;
    // The GEMM work of the package's three full matrices (n², m², n·m pairs at 2·d flops) per second;
    // chexgen computes about two thirds of it (the within-set passes are symmetric).
    out["package_equivalent_gflops"] = 2.0 * pairs * static_cast<double>(dim) / out["prdc_s"].get<double>() / 1e9;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  out["max_rss_mib"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
