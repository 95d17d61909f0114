// bench_privacy_search: the privacy search's core (docs/privacy.md, docs/benchmarks.md): for every generation the
// most similar training row by cosine, exact: each set scaled to unit length in place and searched by
// metrics::nearest_unit_rows, in float32 (default; the ranks still decided by canonical double distances) or float64.
//
//   bench_privacy_search --generations 10000 --train 50000 --dim 768 --write-features DIR   # make the data once
//   bench_privacy_search --features DIR [--threads 0] [--precision float32|float64]        # time the search
//
// The data: rows ~ N(0, 1) per feature (seed 1 and 2); every 100th generation is a copy of training row
// (7919 · i) mod M plus noise of sd 0.01, so the answer can be checked. Files are float32 .npy (C order), which
// bench/privacy_search_reference.py (the chunked numpy search of Somepalli et al.'s code) reads too. Prints one JSON
// object: seconds (reading and searching), the planted copies found, a checksum of the answers, peak RSS.
#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <utility>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "chexgen/features/npy.h"
#include "chexgen/metrics/privacy.h"

namespace {

using chexgen::MatrixD;
using chexgen::MatrixF;

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

std::size_t planted_source(std::size_t i, std::size_t train_rows) { return (7919 * i) % train_rows; }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Time the privacy search on random features (docs/benchmarks.md)", "bench_privacy_search"};
  std::size_t generations = 10000, train = 50000, dim = 768;
  std::string write_dir, features;
  int threads = 0;
  app.add_option("--generations", generations, "Generation rows")->capture_default_str();
  app.add_option("--train", train, "Training rows")->capture_default_str();
  app.add_option("--dim", dim, "Features per row")->capture_default_str();
  app.add_option("--write-features", write_dir, "Make generations.npy and train.npy in this folder, then stop");
  app.add_option("--features", features, "Search the files of this folder");
  app.add_option("--threads", threads, "Workers (0 = all cores)")->capture_default_str();
  std::string precision = "float32";
  app.add_option("--precision", precision, "float32 (the full-scale search) or float64")
      ->check(CLI::IsMember({"float32", "float64"}))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  if (!write_dir.empty()) {
    std::mt19937_64 rng(1);
    std::normal_distribution<float> dist(0.0f, 1.0f);
    MatrixF t(train, dim), g(generations, dim);
    for (std::size_t i = 0; i < train * dim; ++i) t.data()[i] = dist(rng);
    rng.seed(2);
    for (std::size_t i = 0; i < generations * dim; ++i) g.data()[i] = dist(rng);
    for (std::size_t i = 0; i < generations; i += 100)
      for (std::size_t j = 0; j < dim; ++j) g(i, j) = t(planted_source(i, train), j) + 0.01f * dist(rng);
    std::filesystem::create_directories(write_dir);
    chexgen::features::write_npy(std::filesystem::path(write_dir) / "train.npy", t.view());
    chexgen::features::write_npy(std::filesystem::path(write_dir) / "generations.npy", g.view());
    return 0;
  }
  if (features.empty()) {
    std::fprintf(stderr, "give --write-features DIR or --features DIR\n");
    return 2;
  }
  const auto t0 = std::chrono::steady_clock::now();
  const std::filesystem::path dir(features);
  const chexgen::metrics::DistanceTiling tiling{256, 4096, threads};
  chexgen::metrics::CosineNeighbours near;
  double read_s = 0, search_s = 0;
  std::size_t train_rows = 0, dims = 0;
  // Each set read, scaled to unit length where it is, and searched: no copy of either.
  const auto search = [&](auto t, auto g) {
    read_s = seconds_since(t0);
    train_rows = t.rows();
    dims = t.cols();
    const auto t1 = std::chrono::steady_clock::now();
    chexgen::metrics::normalise_rows_in_place(t, "train.npy");
    chexgen::metrics::normalise_rows_in_place(g, "generations.npy");
    near = chexgen::metrics::nearest_unit_rows(g.view(), t.view(), 1, tiling);
    search_s = seconds_since(t1);
  };
  // One statement per file: the file's own buffer is gone before the next is read.
  if (precision == "float32") {
    MatrixF t = chexgen::features::read_npy(dir / "train.npy").to_f32();
    MatrixF g = chexgen::features::read_npy(dir / "generations.npy").to_f32();
    search(std::move(t), std::move(g));
  } else {
    MatrixD t = chexgen::features::read_npy(dir / "train.npy").to_f64();
    MatrixD g = chexgen::features::read_npy(dir / "generations.npy").to_f64();
    search(std::move(t), std::move(g));
  }
  std::size_t found = 0, planted = 0;
  std::uint64_t checksum = 0;
  const std::size_t generation_rows = near.similarity.size();
  for (std::size_t i = 0; i < generation_rows; ++i) {
    checksum += (i + 1) * near.best_index(i);
    if (i % 100 == 0) {
      ++planted;
      found += near.best_index(i) == planted_source(i, train_rows) ? 1 : 0;
    }
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  nlohmann::json out = {{"implementation", "chexgen nearest_unit_rows (" + precision + ")"},
                        {"generations", generation_rows},
                        {"train", train_rows},
                        {"dim", dims},
                        {"read_s", read_s},
                        {"search_s", search_s},
                        {"planted", planted},
                        {"planted_found", found},
                        {"checksum", checksum},
                        {"max_rss_mib", static_cast<double>(usage.ru_maxrss) / 1024.0}};
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}
