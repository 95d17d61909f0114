// What generate.cpp and its two backends (generate_images_api.cpp, generate_command.cpp) share: checking a returned
// image, and the Driver that puts finished images in place and journals them. Private to the curation stage.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "chexgen/core/files.h"
#include "chexgen/curation/generate.h"
#include "chexgen/curation/journal.h"

namespace chexgen::generate_detail {

namespace fs = std::filesystem;

inline constexpr std::size_t kProblemsListed = 5;  // bad images named in one message; the rest counted

std::span<const std::uint8_t> as_bytes(std::string_view s);
std::string sha256_of(std::string_view s);
// Where a sample's row is, for messages: manifest:row, or the image file of a folder manifest.
std::string row_name(const Dataset& dataset, const Sample& sample);
std::string backend_name(const GenerationBackend& b);
std::string backend_model(const GenerationBackend& b);

// An image as it will be saved: PNG bytes (PNG input as it came; JPEG decoded and re-encoded) and its size.
struct CheckedImage {
  std::string png;
  int width = 0;
  int height = 0;
  bool reencoded = false;  // true: `png` is not the bytes that came (a JPEG)
};

// Decodes `bytes` (named `source` in messages) to check it is a whole PNG or JPEG; a JPEG is re-encoded as PNG (gray
// when its channels are equal). Throws InputError saying why not.
CheckedImage check_image(std::string bytes, const std::string& source);
// "8x8, not the 16x16 asked for (--size)"
std::string size_mismatch(const CheckedImage& image, const ImageSize& size);

// The settings besides backend, model, prompt and seed that decide an image: its size and, for the Images API, the
// field the seed is sent in. A journaled image is reused only when they are the same as this run's.
nlohmann::json image_settings(const GenerationOptions& options);

// Serialises the caller's callbacks and does the bookkeeping every finished image needs.
class Driver {
 public:
  Driver(const Dataset& dataset, const fs::path& out_dir, const GenerationOptions& options, Journal& journal)
      : dataset_(dataset), images_dir_(out_dir / "images"), options_(options), journal_(journal) {}

  void log(const std::string& line) {
    if (!options_.callbacks.log) return;
    std::lock_guard lock(mutex_);
    options_.callbacks.log(line);
  }

  // Puts a checked image in place (writing `image.png`, or moving `staged` when it holds those very bytes), then
  // journals it. Only after the journal record is on disk does the image count as done.
  void finish(const GenerationJob& job, const CheckedImage& image, const fs::path& staged = {}) {
    const fs::path target = images_dir_ / job.file_name;
    bool moved = false;
    if (!staged.empty()) {
      std::error_code ec;
      fs::rename(staged, target, ec);
      moved = !ec;
    }
    if (!moved) write_file_atomically(target, image.png);
    journal_.append({{"file_name", job.file_name},
                     {"sample_id", job.sample_id},
                     {"k", job.k},
                     {"seed", job.seed},
                     {"prompt_sha256", sha256_of(job.prompt)},
                     {"image_sha256", sha256_of(image.png)},
                     {"backend", backend_name(options_.backend)},
                     {"model", backend_model(options_.backend)},
                     {"settings", image_settings(options_)}});
    std::lock_guard lock(mutex_);
    ++generated_;
    if (options_.callbacks.image_done) options_.callbacks.image_done();
  }

  std::size_t generated() const { return generated_; }
  const Dataset& dataset() const { return dataset_; }

 private:
  const Dataset& dataset_;
  fs::path images_dir_;
  const GenerationOptions& options_;
  Journal& journal_;
  std::mutex mutex_;
  std::size_t generated_ = 0;
};

// The backends: each generates `jobs` (none done yet) and hands every finished image to the driver.
void run_images_api(const ImagesApiBackend& backend, const ImageSize& size,
                    const std::vector<const GenerationJob*>& jobs, Driver& driver, GenerationRun& run);
void run_command_batches(const CommandBackend& backend, const ImageSize& size,
                         const std::vector<const GenerationJob*>& jobs, const fs::path& out_dir, Driver& driver,
                         GenerationRun& run);

}  // namespace chexgen::generate_detail
