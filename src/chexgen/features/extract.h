// Feature extraction over a dataset, through the feature store: every image is read once, hashed, and either
// found in the store or decoded, measured and added to it. An interrupted run resumes where it stopped; a second
// run (another metric, another subset, another synthetic set against the same real one) reads the store only.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "chexgen/core/error.h"
#include "chexgen/core/matrix.h"
#include "chexgen/data/manifest.h"
#include "chexgen/features/feature_store.h"
#include "chexgen/image/image.h"

namespace chexgen {
class Log;
class Progress;
}  // namespace chexgen

namespace chexgen::features {

// What an extractor is to this driver: a stable id (the store's key), its columns, and either
//  - `compute`, a function of a decoded image giving its row (radiomics), run on the worker threads; or
//  - `batched` (a network): `prepare` turns a decoded image into the model input on the worker threads, while one
//    inference thread runs `infer` on batches of those inputs, so decoding overlaps inference.
// `compute` and `prepare` may throw std::invalid_argument for an image they cannot measure.
struct ImageFeatureExtractor {
  std::string id;
  std::vector<std::string> columns;
  ColorMode color = ColorMode::gray;
  std::function<std::vector<double>(const Image8&)> compute;

  struct Batched {
    std::size_t batch_size = 32;
    std::function<PlanarImageF(const Image8&)> prepare;
    // inputs.size() rows of columns.size() values, row-major, into `rows` (already sized).
    std::function<void(const std::vector<const PlanarImageF*>& inputs, std::vector<double>& rows)> infer;
  };
  std::optional<Batched> batched;
  // A row with a NaN or an infinity is an error for that image (networks) rather than a value (radiomics, where a
  // one-pixel ROI gives NaN by definition).
  bool require_finite = false;
};

struct ExtractionOptions {
  int threads = 0;        // 0 = all cores
  bool skip_bad = false;  // true: leave unusable images out (reported); false: any unusable image is fatal
};

// Where the time of an extraction went, in seconds summed over the threads that spent it (so the parts of a pass
// on several threads add up to more than its wall time).
struct TimeBreakdown {
  double reading = 0;    // reading and hashing image files (a stat for a file the store knows unchanged)
  double preparing = 0;  // decoding the images, and for a network preparing its inputs (resize, crop, normalise)
  double computing = 0;  // the extractor itself: per image, or a network's inference on batches (one thread)
  double waiting = 0;    // a network only: its inference thread waiting for prepared inputs
};

struct DatasetFeatures {
  MatrixD values;                    // one row per kept sample, in manifest order
  std::vector<std::size_t> samples;  // the Dataset::samples index of each row
  std::size_t computed = 0;          // rows measured in this run
  std::size_t reused = 0;            // rows found in the store
  double seconds = 0;                // wall time of the whole pass
  TimeBreakdown time;                // where it went
};

// One line for a log: "time summed over threads: reading 0.12 s, decoding and preparing 3.40 s, inference ...".
std::string describe(const TimeBreakdown& t);

// A problem with a sample's image, at the sample's manifest row (the image itself for a folder manifest), naming the
// image file.
InputError sample_error(const Dataset& dataset, const Sample& s, const std::string& reason);

// The rows of `f` for the dataset samples `take` (each one measured in `f`), columns [first_col, first_col + cols).
MatrixD select_rows(const DatasetFeatures& f, const std::vector<std::size_t>& take, std::size_t first_col,
                    std::size_t cols);

// Runs `extractor` over every sample of `dataset`. Missing, unreadable and unmeasurable images are added to
// `errors` with the manifest file and row; unless options.skip_bad, an InputError is thrown after the pass (the
// rows computed so far stay in the store, so a rerun after fixing the input only does what is left).
DatasetFeatures extract_dataset_features(const Dataset& dataset, const ImageFeatureExtractor& extractor,
                                         FeatureStore& store, const ExtractionOptions& options, ErrorReport& errors,
                                         Progress* progress = nullptr);

// The same, with what the person running it sees on `log`: a progress line "<what>: <label>", every image left out
// or unusable ("chexgen: error: file:row: ..."), and a closing line with the counts and images/s.
DatasetFeatures extract_dataset_features(const Dataset& dataset, const ImageFeatureExtractor& extractor,
                                         FeatureStore& store, const ExtractionOptions& options, const Log& log,
                                         const std::string& what, const std::string& label);

}  // namespace chexgen::features
