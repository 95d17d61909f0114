// bench_radiomics: per-image time of a radiomics configuration on real radiographs, on one thread and on all
// threads (docs/benchmarks.md, "Radiomics"). Prints one JSON object.
//   bench_radiomics [--config frd-v1] [--size 0] [--repeat 3] [--threads 0] [--default-allocator] IMAGE...
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "chexgen/core/allocator.h"
#include "chexgen/core/parallel.h"
#include "chexgen/image/decode.h"
#include "chexgen/radiomics/extractor.h"

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Radiomics extraction benchmark");
  std::vector<std::string> paths;
  std::string config = "frd-v1";
  int size = 0;
  int repeat = 3;
  int threads = 0;
  double spacing = -1;
  app.add_option("images", paths, "8-bit gray images (e.g. tests/golden/radiomics/nih24/*.png)")->required();
  app.add_option("--config", config, "frd-v1 | full");
  app.add_option("--size", size, "Resize to SIZE x SIZE first (0: as they are)");
  app.add_option("--resample-spacing", spacing, "Override the configuration's resampling (0: off)");
  app.add_option("--repeat", repeat, "Passes over the images, per mode");
  app.add_option("--threads", threads, "Threads of the all-threads run (0 = all cores)");
  bool default_allocator = false;
  app.add_flag("--default-allocator", default_allocator,
               "Leave glibc's allocator settings as they are (the chexgen command keeps freed memory for reuse)");
  CLI11_PARSE(app, argc, argv);
  if (!default_allocator) chexgen::keep_freed_memory_for_reuse();

  chexgen::radiomics::RadiomicsConfig c = chexgen::radiomics::radiomics_preset(config);
  c.image_size = size;
  if (spacing >= 0) c.resample_spacing = spacing;
  const chexgen::radiomics::RadiomicsExtractor extractor(c);
  std::vector<chexgen::Image8> images;
  for (const auto& p : paths) images.push_back(chexgen::read_image_u8(p, chexgen::ColorMode::gray));

  using clock = std::chrono::steady_clock;
  // One thread: every image timed on its own, PNG decoding included (as the reference's timing includes its
  // Image.open), `repeat` passes.
  std::vector<double> per_image;
  double checksum = 0;
  for (int r = 0; r < repeat; ++r)
    for (const auto& path : paths) {
      const auto t0 = clock::now();
      const auto v = extractor.extract(chexgen::read_image_u8(path, chexgen::ColorMode::gray));
      per_image.push_back(std::chrono::duration<double>(clock::now() - t0).count());
      checksum += v[20];
    }
  // All threads: images per second over `repeat` passes (decoded images, extraction only).
  const int workers = chexgen::resolve_threads(threads);
  const std::size_t jobs = images.size() * static_cast<std::size_t>(repeat);
  const auto t0 = clock::now();
  chexgen::parallel_for(jobs, workers, [&](std::size_t i) { (void)extractor.extract(images[i % images.size()]); });
  const double wall = std::chrono::duration<double>(clock::now() - t0).count();

  nlohmann::ordered_json j;
  j["config"] = config;
  j["config_id"] = c.id();
  j["images"] = images.size();
  j["width"] = images.empty() ? 0 : images[0].width;
  j["features"] = extractor.columns().size();
  j["single_thread_ms_median"] = 1e3 * median(per_image);
  j["single_thread_ms_min"] = 1e3 * *std::min_element(per_image.begin(), per_image.end());
  j["single_thread_ms_max"] = 1e3 * *std::max_element(per_image.begin(), per_image.end());
  j["threads"] = workers;
  j["allocator"] = default_allocator ? "glibc defaults" : "keep_freed_memory_for_reuse";
  j["all_threads_images_per_s"] = jobs / wall;
  j["all_threads_ms_per_image_per_core"] = 1e3 * wall * workers / jobs;
  j["checksum"] = checksum;
  std::printf("%s\n", j.dump(1).c_str());
  return 0;
}
