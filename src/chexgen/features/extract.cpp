#include "chexgen/features/extract.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>

#include <sys/stat.h>

#include <fmt/format.h>

#include "chexgen/core/files.h"
#include "chexgen/core/hash.h"
#include "chexgen/core/log.h"
#include "chexgen/core/parallel.h"
#include "chexgen/core/progress.h"
#include "chexgen/image/decode.h"

namespace chexgen::features {
namespace {


// Model inputs waiting for the inference thread. Bounded, so fast decoding cannot fill memory; `fail` wakes and
// stops the producers when inference has failed.
struct PendingInput {
  std::size_t index = 0;
  ContentHash key{};
  PlanarImageF input;
};

class InputQueue {
 public:
  explicit InputQueue(std::size_t capacity) : capacity_(capacity) {}

  bool push(PendingInput&& item) {
    std::unique_lock lock(mutex_);
    not_full_.wait(lock, [&] { return items_.size() < capacity_ || failed_; });
    if (failed_) return false;
    items_.push_back(std::move(item));
    not_empty_.notify_one();
    return true;
  }

  // Up to `max` items: waits until there are `max`, or no more will come. Empty: nothing is left.
  std::vector<PendingInput> pop_batch(std::size_t max) {
    std::unique_lock lock(mutex_);
    not_empty_.wait(lock, [&] { return items_.size() >= max || closed_ || failed_; });
    std::vector<PendingInput> batch;
    while (!items_.empty() && batch.size() < max && !failed_) {
      batch.push_back(std::move(items_.front()));
      items_.pop_front();
    }
    not_full_.notify_all();
    return batch;
  }

  void close() {
    std::lock_guard lock(mutex_);
    closed_ = true;
    not_empty_.notify_all();
  }
  void fail() {
    std::lock_guard lock(mutex_);
    failed_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
  }

 private:
  std::size_t capacity_;
  std::mutex mutex_;
  std::condition_variable not_full_, not_empty_;
  std::deque<PendingInput> items_;
  bool closed_ = false, failed_ = false;
};

}  // namespace

DatasetFeatures extract_dataset_features(const Dataset& dataset, const ImageFeatureExtractor& extractor,
                                         FeatureStore& store, const ExtractionOptions& options, ErrorReport& errors,
                                         Progress* progress) {
  CHEXGEN_ASSERT(store.columns() == extractor.columns, "extract_dataset_features: store opened for another extractor");
  CHEXGEN_ASSERT(static_cast<bool>(extractor.compute) != extractor.batched.has_value(),
                 "an extractor has either compute or batched");
  const auto start = std::chrono::steady_clock::now();
  const std::size_t n = dataset.samples.size();
  const std::size_t dim = extractor.columns.size();
  std::vector<std::optional<std::vector<double>>> rows(n);
  std::vector<std::optional<InputError>> failures(n);
  std::vector<char> reused(n, 0);
  // Nanoseconds per part of TimeBreakdown, added to by every thread.
  std::atomic<std::int64_t> reading_ns{0}, preparing_ns{0}, computing_ns{0}, waiting_ns{0};
  using clock = std::chrono::steady_clock;
  const auto add_since = [](std::atomic<std::int64_t>& total, clock::time_point since) {
    total += std::chrono::duration_cast<std::chrono::nanoseconds>(clock::now() - since).count();
  };

  // Reads and hashes image i; returns its decoded pixels when the store does not hold its row yet. A file the store
  // has seen unchanged (same stat values) is neither read nor hashed again when its row is stored.
  const auto load = [&](std::size_t i, ContentHash& key) -> std::optional<Image8> {
    const Sample& s = dataset.samples[i];
    const auto read_start = clock::now();
    struct stat st {};
    const bool stated = ::stat(s.image_path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
    if (stated) {
      if (const auto known = store.known_hash(s.image_path, st)) {
        if (auto stored = store.find(*known)) {
          note_input_file(s.image_path);
          key = *known;
          rows[i] = std::move(stored);
          reused[i] = 1;
          add_since(reading_ns, read_start);
          return std::nullopt;
        }
      }
    }
    const std::string bytes = read_file_bytes(s.image_path);
    const std::span<const std::uint8_t> view(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    key = sha256(view);
    if (stated) store.remember_hash(s.image_path, st, key);
    if (auto stored = store.find(key)) {
      rows[i] = std::move(stored);
      reused[i] = 1;
      add_since(reading_ns, read_start);
      return std::nullopt;
    }
    const auto decode_start = clock::now();
    add_since(reading_ns, read_start);
    Image8 image = decode_image_u8(view, s.image_path.string(), extractor.color);
    add_since(preparing_ns, decode_start);
    return image;
  };
  // Keeps a freshly computed row, or records why it cannot be kept.
  const auto finish = [&](std::size_t i, const ContentHash& key, std::vector<double> values) {
    CHEXGEN_ASSERT(values.size() == dim, "extractor returned a row of the wrong length");
    if (extractor.require_finite) {
      const auto bad = std::find_if(values.begin(), values.end(), [](double v) { return !std::isfinite(v); });
      if (bad != values.end()) {
        failures[i] = sample_error(
            dataset, dataset.samples[i],
            fmt::format("the model returned {} for feature '{}'", *bad, extractor.columns[bad - values.begin()]));
        return;
      }
    }
    store.put(key, values);
    rows[i] = std::move(values);
  };
  // Runs `body` for sample i, turning what is wrong with that sample into its failure.
  const auto guarded = [&](std::size_t i, const auto& body) {
    try {
      body();
    } catch (const InputError& e) {
      failures[i] = sample_error(dataset, dataset.samples[i], e.reason());
    } catch (const std::invalid_argument& e) {
      failures[i] = sample_error(dataset, dataset.samples[i], fmt::format("cannot measure the image: {}", e.what()));
    }
  };

  if (!extractor.batched) {
    parallel_for(
        n, options.threads,
        [&](std::size_t i) {
          guarded(i, [&] {
            ContentHash key{};
            if (auto image = load(i, key)) {
              const auto compute_start = clock::now();
              std::vector<double> values = extractor.compute(*image);
              add_since(computing_ns, compute_start);
              finish(i, key, std::move(values));
            }
          });
        },
        progress);
  } else {
    const auto& b = *extractor.batched;
    InputQueue queue(2 * b.batch_size);
    std::exception_ptr inference_failure;
    std::thread inference([&] {
      try {
        std::vector<double> out;
        for (;;) {
          const auto wait_start = clock::now();
          std::vector<PendingInput> batch = queue.pop_batch(b.batch_size);
          add_since(waiting_ns, wait_start);
          if (batch.empty()) break;
          std::vector<const PlanarImageF*> inputs;
          for (const auto& p : batch) inputs.push_back(&p.input);
          out.assign(batch.size() * dim, 0.0);
          const auto infer_start = clock::now();
          b.infer(inputs, out);
          add_since(computing_ns, infer_start);
          for (std::size_t k = 0; k < batch.size(); ++k) {
            const double* row = out.data() + k * dim;
            finish(batch[k].index, batch[k].key, std::vector<double>(row, row + dim));
          }
          store.flush();  // a model batch is seconds of work: keep it even if the process is killed next
          if (progress) progress->advance(batch.size());
        }
      } catch (...) {
        inference_failure = std::current_exception();
        queue.fail();
      }
    });
    try {
      parallel_for(n, options.threads, [&](std::size_t i) {
        bool queued = false;
        guarded(i, [&] {
          ContentHash key{};
          if (auto image = load(i, key)) {
            const auto prepare_start = clock::now();
            PlanarImageF input = b.prepare(*image);
            add_since(preparing_ns, prepare_start);
            queued = queue.push(PendingInput{i, key, std::move(input)});
          }
        });
        if (!queued && progress) progress->advance();
      });
    } catch (...) {
      queue.fail();
      inference.join();
      throw;
    }
    queue.close();
    inference.join();
    if (inference_failure) {
      store.flush();
      std::rethrow_exception(inference_failure);
    }
  }
  store.flush();

  DatasetFeatures out;
  std::size_t kept = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (failures[i])
      errors.add(*failures[i]);
    else
      ++kept;
  }
  if (kept < n && !options.skip_bad)
    throw InputError(
        Location{dataset.source.string()},
        fmt::format("{} of {} images could not be measured (listed above; --skip-bad leaves them out)", n - kept, n));
  out.values = MatrixD(kept, extractor.columns.size());
  std::size_t r = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!rows[i]) continue;
    std::copy(rows[i]->begin(), rows[i]->end(), out.values.row(r));
    out.samples.push_back(i);
    (reused[i] ? out.reused : out.computed) += 1;
    ++r;
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  out.time = {reading_ns * 1e-9, preparing_ns * 1e-9, computing_ns * 1e-9, waiting_ns * 1e-9};
  return out;
}

DatasetFeatures extract_dataset_features(const Dataset& dataset, const ImageFeatureExtractor& extractor,
                                         FeatureStore& store, const ExtractionOptions& options, const Log& log,
                                         const std::string& what, const std::string& label) {
  ErrorReport errors;
  Progress progress(fmt::format("{}: {}", what, label), dataset.samples.size(), log.progress());
  DatasetFeatures f;
  try {
    f = extract_dataset_features(dataset, extractor, store, options, errors, &progress);
  } catch (const InputError&) {
    progress.finish();
    log.problems(errors);
    throw;
  }
  progress.finish();
  log.problems(errors);
  log.info("{}: {}: {} images ({} computed, {} from the store{}) in {:.1f} s, {:.1f} images/s", what, label,
           f.samples.size(), f.computed, f.reused, errors.empty() ? "" : fmt::format(", {} left out", errors.size()),
           f.seconds, f.seconds > 0 ? f.samples.size() / f.seconds : 0.0);
  if (f.computed > 0) log.info("{}: {}: {}", what, label, describe(f.time));
  return f;
}

std::string describe(const TimeBreakdown& t) {
  std::string text = fmt::format("time summed over threads: reading {:.2f} s, decoding and preparing {:.2f} s, ",
                                 t.reading, t.preparing);
  if (t.waiting > 0) return text + fmt::format("inference {:.2f} s, inference waiting for inputs {:.2f} s",
                                               t.computing, t.waiting);
  return text + fmt::format("extracting {:.2f} s", t.computing);
}

MatrixD select_rows(const DatasetFeatures& f, const std::vector<std::size_t>& take, std::size_t first_col,
                    std::size_t cols) {
  std::map<std::size_t, std::size_t> row_of;
  for (std::size_t r = 0; r < f.samples.size(); ++r) row_of[f.samples[r]] = r;
  MatrixD m(take.size(), cols);
  for (std::size_t i = 0; i < take.size(); ++i)
    std::copy_n(f.values.row(row_of.at(take[i])) + first_col, cols, m.row(i));
  return m;
}

InputError sample_error(const Dataset& dataset, const Sample& s, const std::string& reason) {
  if (s.row == 0) return InputError(sample_location(dataset, s), reason);  // the location is the image itself
  return InputError(sample_location(dataset, s), fmt::format("image '{}': {}", s.image_path.string(), reason));
}

}  // namespace chexgen::features
