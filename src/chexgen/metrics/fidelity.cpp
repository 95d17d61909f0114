#include "chexgen/metrics/fidelity.h"

#include <chrono>
#include <vector>

#include "chexgen/core/error.h"
#include "chexgen/core/progress.h"
#include "chexgen/metrics/feature_checks.h"
#include "chexgen/metrics/sampling.h"

namespace chexgen::metrics {
namespace {

class Stopwatch {
 public:
  double seconds() const { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

template <class T>
void validate(const FidelityInputs<T>& in, const FidelityOptions& o) {
  if (!o.fid && !o.kid && !o.prdc && !o.inception_score) throw UsageError("no metric selected");
  const bool features_needed = o.fid || o.kid || o.prdc;
  if (features_needed) {
    require_feature_pair(in.real, in.real_source, in.synthetic, in.synthetic_source, 2, "FID, KID and PRDC");
  }
  if (o.fid || o.kid) {
    require_moderate(in.real, in.real_source);
    require_moderate(in.synthetic, in.synthetic_source);
  }
  if (o.inception_score) {
    if (in.real_logits) {
      require_rows(*in.real_logits, in.real_logits_source, o.is_options.splits, "the Inception Score");
      require_finite(*in.real_logits, in.real_logits_source);
    }
    if (in.synthetic_logits) {
      require_rows(*in.synthetic_logits, in.synthetic_logits_source, o.is_options.splits, "the Inception Score");
      require_finite(*in.synthetic_logits, in.synthetic_logits_source);
    }
  }
  if (o.kid) (void)kid_subset_size(o.kid_options, in.real.rows, in.synthetic.rows);
  if (o.bootstrap.resamples > 0 && !(o.bootstrap.confidence > 0.0 && o.bootstrap.confidence < 1.0)) {
    throw UsageError("bootstrap confidence must be strictly between 0 and 1");
  }
}

// One evaluation of every selected metric on the given matrices (already validated).
template <class T>
FidelityValues compute_values(MatrixView<T> real, MatrixView<T> synthetic,
                              const std::optional<MatrixViewD>& real_logits,
                              const std::optional<MatrixViewD>& synthetic_logits, const FidelityInputs<T>& names,
                              const FidelityOptions& o, std::uint64_t kid_seed,
                              std::map<std::string, double>* seconds) {
  FidelityValues v;
  auto timed = [&](const char* key, auto&& fn) {
    Stopwatch watch;
    fn();
    if (seconds != nullptr) (*seconds)[key] = watch.seconds();
  };
  if (o.fid) timed("fid", [&] { v.fid = fid(real, synthetic, o.fid_options); });
  if (o.kid) {
    timed("kid", [&] {
      KidOptions k = o.kid_options;
      k.seed = kid_seed;
      v.kid = kid(real, synthetic, k);
    });
  }
  if (o.prdc) {
    timed("prdc", [&] {
      PrdcOptions p = o.prdc_options;
      p.real_source = names.real_source;
      p.fake_source = names.synthetic_source;
      v.prdc = compute_prdc(real, synthetic, p);
    });
  }
  if (o.inception_score && (real_logits || synthetic_logits)) {
    timed("inception_score", [&] {
      if (synthetic_logits)
        v.synthetic_is = inception_score(*synthetic_logits, o.is_options, names.synthetic_logits_source);
      if (real_logits) v.real_is = inception_score(*real_logits, o.is_options, names.real_logits_source);
    });
  }
  return v;
}

}  // namespace

std::map<FidelityScalar, double> FidelityValues::scalars() const {
  using S = FidelityScalar;
  std::map<S, double> out;
  if (fid) out[S::fid] = *fid;
  if (kid) {
    out[S::kid_mean] = kid->mean;
    out[S::kid_std] = kid->std;
  }
  if (prdc) {
    out[S::precision] = prdc->precision;
    out[S::recall] = prdc->recall;
    out[S::density] = prdc->density;
    out[S::coverage] = prdc->coverage;
  }
  if (synthetic_is) {
    out[S::is_mean] = synthetic_is->mean;
    out[S::is_std] = synthetic_is->std;
  }
  if (real_is) {
    out[S::real_is_mean] = real_is->mean;
    out[S::real_is_std] = real_is->std;
  }
  return out;
}

template <class T>
FidelityReport evaluate_fidelity(const FidelityInputs<T>& in, const FidelityOptions& o) {
  validate(in, o);
  FidelityReport report;
  report.values =
      compute_values(in.real, in.synthetic, in.real_logits, in.synthetic_logits, in, o, o.seed, &report.seconds);

  const std::size_t b = o.bootstrap.resamples;
  if (b == 0) return report;
  Stopwatch watch;
  IndexSampler sampler(o.seed ^ kBootstrapSeedMix);
  std::map<FidelityScalar, std::vector<double>> samples;
  Progress progress("bootstrap", b, ProgressOptions{.enabled = o.show_progress});
  for (std::size_t r = 0; r < b; ++r) {
    // Draw order per resample: real rows, synthetic rows, real logits rows, synthetic logits rows,
    // then one word that seeds this resample's KID subsets.
    const bool features_needed = o.fid || o.kid || o.prdc;
    const Matrix<T> real =
        features_needed ? take_rows(in.real, sampler.with_replacement(in.real.rows, in.real.rows)) : Matrix<T>();
    const Matrix<T> synthetic =
        features_needed ? take_rows(in.synthetic, sampler.with_replacement(in.synthetic.rows, in.synthetic.rows))
                        : Matrix<T>();
    std::optional<MatrixD> real_logits, synthetic_logits;
    std::optional<MatrixViewD> real_logits_view, synthetic_logits_view;
    if (o.inception_score && in.real_logits) {
      real_logits = take_rows(*in.real_logits, sampler.with_replacement(in.real_logits->rows, in.real_logits->rows));
      real_logits_view = real_logits->view();
    }
    if (o.inception_score && in.synthetic_logits) {
      synthetic_logits = take_rows(*in.synthetic_logits,
                                   sampler.with_replacement(in.synthetic_logits->rows, in.synthetic_logits->rows));
      synthetic_logits_view = synthetic_logits->view();
    }
    const std::uint64_t kid_seed = sampler.next_word();
    const FidelityValues v = compute_values(real.view(), synthetic.view(), real_logits_view, synthetic_logits_view, in,
                                            o, kid_seed, nullptr);
    for (const auto& [name, value] : v.scalars()) samples[name].push_back(value);
    progress.advance();
  }
  progress.finish();
  for (const auto& [name, values] : samples) {
    report.intervals[name] = percentile_interval(values, o.bootstrap.confidence);
  }
  report.bootstrap_resamples = b;
  report.seconds["bootstrap"] = watch.seconds();
  return report;
}

template FidelityReport evaluate_fidelity(const FidelityInputs<float>&, const FidelityOptions&);
template FidelityReport evaluate_fidelity(const FidelityInputs<double>&, const FidelityOptions&);

}  // namespace chexgen::metrics
