#include "chexgen/features/extract.h"

#include <chrono>
#include <cmath>
#include <mutex>
#include <optional>
#include <stdexcept>

#include <fmt/format.h>

#include "chexgen/core/files.h"
#include "chexgen/core/hash.h"
#include "chexgen/core/parallel.h"
#include "chexgen/image/decode.h"

namespace chexgen::features {
namespace {

InputError sample_error(const Dataset& dataset, const Sample& s, const std::string& reason) {
  if (s.row == 0) return InputError(sample_location(dataset, s), reason);  // the location is the image itself
  return InputError(sample_location(dataset, s), fmt::format("image '{}': {}", s.image_path.string(), reason));
}

}  // namespace

DatasetFeatures extract_dataset_features(const Dataset& dataset, const ImageFeatureExtractor& extractor,
                                         FeatureStore& store, const ExtractionOptions& options, ErrorReport& errors,
                                         Progress* progress) {
  CHEXGEN_ASSERT(store.columns() == extractor.columns, "extract_dataset_features: store opened for another extractor");
  const auto start = std::chrono::steady_clock::now();
  const std::size_t n = dataset.samples.size();
  std::vector<std::optional<std::vector<double>>> rows(n);
  std::vector<std::optional<InputError>> failures(n);
  std::vector<char> reused(n, 0);
  parallel_for(
      n, options.threads,
      [&](std::size_t i) {
        const Sample& s = dataset.samples[i];
        try {
          const std::string bytes = read_file_bytes(s.image_path);
          const std::span<const std::uint8_t> view(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
          const ContentHash key = sha256(view);
          if (auto stored = store.find(key)) {
            rows[i] = std::move(stored);
            reused[i] = 1;
            return;
          }
          const Image8 image = decode_image_u8(view, s.image_path.string(), extractor.color);
          std::vector<double> values = extractor.compute(image);
          CHEXGEN_ASSERT(values.size() == extractor.columns.size(), "extractor returned a row of the wrong length");
          store.put(key, values);
          rows[i] = std::move(values);
        } catch (const InputError& e) {
          failures[i] = sample_error(dataset, s, e.reason());
        } catch (const std::invalid_argument& e) {
          failures[i] = sample_error(dataset, s, fmt::format("cannot measure the image: {}", e.what()));
        }
      },
      progress);
  store.flush();

  DatasetFeatures out;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (failures[i]) errors.add(*failures[i]);
    else ++kept;
  }
  if (kept < n && !options.skip_bad)
    throw InputError(Location{dataset.source.string()},
                     fmt::format("{} of {} images could not be measured (listed above; --skip-bad leaves them out)",
                                 n - kept, n));
  out.values = metrics::MatrixD(kept, extractor.columns.size());
  std::size_t r = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!rows[i]) continue;
    std::copy(rows[i]->begin(), rows[i]->end(), out.values.row(r));
    out.samples.push_back(i);
    (reused[i] ? out.reused : out.computed) += 1;
    ++r;
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace chexgen::features
