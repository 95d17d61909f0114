// bench_store: the feature store at scale (docs/benchmarks.md, "Feature store"). Fills a store with N rows of D
// random columns (once; a rerun reuses it), then, in a second run, opens it and reads every row back, as an
// evaluation does, optionally without keeping them. Prints one JSON object; run it under /usr/bin/time -v for the
// peak resident memory.
//   bench_store --store DIR --rows 75000 --columns 3056 fill
//   bench_store --store DIR --rows 75000 --columns 3056 read [--keep]
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "chexgen/core/hash.h"
#include "chexgen/features/feature_store.h"

namespace {

chexgen::Sha256 key(std::size_t i) {
  const std::string text = "image " + std::to_string(i);
  return chexgen::sha256(std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Feature store benchmark");
  std::string store_dir, mode;
  std::size_t rows = 1000, columns = 3056;
  bool keep = false;
  app.add_option("--store", store_dir, "Store folder")->required();
  app.add_option("--rows", rows, "Rows (images)");
  app.add_option("--columns", columns, "Columns per row (Inception pool + logits: 3056)");
  app.add_flag("--keep", keep, "read: keep every row in one matrix, as an evaluation assembles its features");
  app.add_option("mode", mode, "fill | read")->required()->check(CLI::IsMember({"fill", "read"}));
  CLI11_PARSE(app, argc, argv);

  std::vector<std::string> names;
  for (std::size_t c = 0; c < columns; ++c) names.push_back("f" + std::to_string(c));
  using clock = std::chrono::steady_clock;
  const auto t0 = clock::now();
  double checksum = 0;
  std::size_t found = 0;
  {
    chexgen::features::FeatureStore store(store_dir, "bench_store", names);
    const double opened = std::chrono::duration<double>(clock::now() - t0).count();
    if (mode == "fill") {
      std::mt19937_64 rng(1);
      std::normal_distribution<double> normal;
      std::vector<double> row(columns);
      for (std::size_t i = store.size(); i < rows; ++i) {
        for (double& v : row) v = normal(rng);
        store.put(key(i), row);
      }
    } else {
      std::vector<double> matrix;
      if (keep) matrix.reserve(rows * columns);
      for (std::size_t i = 0; i < rows; ++i) {
        const auto row = store.find(key(i));
        if (!row) continue;
        ++found;
        checksum += (*row)[i % columns];
        if (keep) matrix.insert(matrix.end(), row->begin(), row->end());
      }
    }
    nlohmann::ordered_json j;
    j["mode"] = mode;
    j["rows"] = rows;
    j["columns"] = columns;
    j["keep"] = keep;
    j["open_seconds"] = opened;
    j["total_seconds"] = std::chrono::duration<double>(clock::now() - t0).count();
    j["found"] = found;
    j["checksum"] = checksum;
    std::printf("%s\n", j.dump(1).c_str());
  }
  return 0;
}
