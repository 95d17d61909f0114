// The fidelity metrics of one synthetic set against one real set, computed together from feature
// matrices (FID, KID, PRDC) and classifier logits (Inception Score), with optional bootstrap
// intervals. What `chexgen metrics` and the fidelity suite run; fidelity/records.h turns a report into result
// records (docs/results.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "chexgen/core/matrix.h"
#include "chexgen/metrics/bootstrap.h"
#include "chexgen/metrics/fid.h"
#include "chexgen/metrics/inception_score.h"
#include "chexgen/metrics/kid.h"
#include "chexgen/metrics/prdc.h"

namespace chexgen::metrics {

struct FidelityOptions {
  bool fid = true;
  bool kid = true;
  bool prdc = true;
  bool inception_score = true;  // only computed for the logits that are given
  std::uint64_t seed = 42;      // KID subsets, and (seed XOR kBootstrapSeedMix) for bootstrap resamples
  FidOptions fid_options;
  KidOptions kid_options;  // its seed is replaced by `seed`
  PrdcOptions prdc_options;
  InceptionScoreOptions is_options;
  BootstrapOptions bootstrap;
  bool show_progress = false;  // a progress line per bootstrap resample, on stderr
};

// Bootstrap resamples use IndexSampler(seed ^ kBootstrapSeedMix) so that they do not reuse the KID
// subset stream of the same seed.
inline constexpr std::uint64_t kBootstrapSeedMix = 0x9E3779B97F4A7C15ULL;

template <class T>
struct FidelityInputs {
  MatrixView<T> real;
  MatrixView<T> synthetic;
  std::optional<MatrixViewD> real_logits;
  std::optional<MatrixViewD> synthetic_logits;
  std::string real_source = "real";  // how errors name each input (e.g. its path)
  std::string synthetic_source = "synthetic";
  std::string real_logits_source = "real logits";
  std::string synthetic_logits_source = "synthetic logits";
};

// The scalars of a report, each of which gets a bootstrap interval. (What they are called in results is the
// results stage's business: fidelity/records.h maps them to result records.)
enum class FidelityScalar {
  fid,
  kid_mean,
  kid_std,
  precision,
  recall,
  density,
  coverage,
  is_mean,
  is_std,
  real_is_mean,
  real_is_std,
};

// Point values of the metrics that were computed.
struct FidelityValues {
  std::optional<double> fid;
  std::optional<KidResult> kid;
  std::optional<PrdcResult> prdc;
  std::optional<InceptionScoreResult> synthetic_is;
  std::optional<InceptionScoreResult> real_is;

  // Every scalar of the metrics that were computed.
  std::map<FidelityScalar, double> scalars() const;
};

struct FidelityReport {
  FidelityValues values;
  std::map<FidelityScalar, Interval> intervals;  // bootstrap intervals, with options.bootstrap
  std::size_t bootstrap_resamples = 0;
  std::map<std::string, double> seconds;  // wall time per metric (and "bootstrap")
};

// Validates every input (InputError naming the source and the 1-based row), computes the selected
// metrics, then the bootstrap intervals when options.bootstrap.resamples > 0: each resample draws
// n_real real rows and n_synthetic synthetic rows with replacement (and the logits rows likewise,
// independently), all from one IndexSampler, and recomputes every selected metric.
template <class T>
FidelityReport evaluate_fidelity(const FidelityInputs<T>& inputs, const FidelityOptions& options);

}  // namespace chexgen::metrics
