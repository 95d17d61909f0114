#include "chexgen/metrics/frd.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "chexgen/metrics/fid.h"
#include "chexgen/metrics/sampling.h"

namespace chexgen::metrics {
namespace {

std::vector<std::size_t> rows_without_nan(MatrixViewD x, std::vector<std::size_t>& with_nan) {
  std::vector<std::size_t> keep;
  for (std::size_t i = 0; i < x.rows; ++i) {
    bool nan = false;
    for (std::size_t j = 0; j < x.cols && !nan; ++j) nan = std::isnan(x(i, j));
    (nan ? with_nan : keep).push_back(i);
  }
  return keep;
}

void require_rows(std::size_t n, const char* which) {
  if (n < 2)
    throw InputError(Location{which},
                     fmt::format("FRD needs at least 2 feature rows without NaN in the {} set, got {}", which, n));
}

}  // namespace

FrdResult compute_frd(MatrixViewD real, MatrixViewD synthetic, std::span<const std::string> column_names,
                      const FrdOptions& options) {
  if (real.cols != synthetic.cols)
    throw InputError(Location{"synthetic"}, fmt::format("the real features have {} columns, the synthetic ones {}",
                                                        real.cols, synthetic.cols));
  CHEXGEN_ASSERT(column_names.size() == real.cols, "compute_frd: one name per column");
  FrdResult out;
  out.real_rows = real.rows;
  out.synthetic_rows = synthetic.rows;
  out.columns = real.cols;

  std::vector<std::size_t> real_keep = rows_without_nan(real, out.real_rows_with_nan);
  std::vector<std::size_t> syn_keep = rows_without_nan(synthetic, out.synthetic_rows_with_nan);
  if (options.match_sample_count) {
    auto subsample = [&](std::vector<std::size_t>& rows, std::size_t m) {
      std::vector<std::size_t> chosen;
      for (std::size_t k : numpy_legacy_choice(options.seed, rows.size(), m)) chosen.push_back(rows[k]);
      rows = std::move(chosen);
    };
    if (real_keep.size() > syn_keep.size()) subsample(real_keep, syn_keep.size());
    else if (syn_keep.size() > real_keep.size()) subsample(syn_keep, real_keep.size());
  }
  require_rows(real_keep.size(), "real");
  require_rows(syn_keep.size(), "synthetic");
  out.real_used = real_keep.size();
  out.synthetic_used = syn_keep.size();

  // Column statistics of the real rows in use: mean, then the population standard deviation (numpy's std).
  const std::size_t d = real.cols;
  std::vector<double> mean(d, 0.0), sd(d, 0.0);
  for (std::size_t j = 0; j < d; ++j) {
    long double sum = 0;
    for (std::size_t i : real_keep) sum += real(i, j);
    mean[j] = static_cast<double>(sum / real_keep.size());
    long double sq = 0;
    for (std::size_t i : real_keep) {
      const double dev = real(i, j) - mean[j];
      sq += dev * dev;
    }
    sd[j] = std::sqrt(static_cast<double>(sq / real_keep.size()));
  }
  auto z = [&](MatrixViewD x, std::size_t i, std::size_t j) { return (x(i, j) - mean[j]) / sd[j]; };
  std::vector<std::size_t> used;
  for (std::size_t j = 0; j < d; ++j) {
    bool finite = true;
    for (std::size_t i : real_keep) finite = finite && std::isfinite(z(real, i, j));
    for (std::size_t i : syn_keep) finite = finite && std::isfinite(z(synthetic, i, j));
    if (finite) used.push_back(j);
    else out.dropped_columns.push_back(column_names[j]);
  }
  out.columns_used = used.size();
  if (used.empty()) throw InputError(Location{"real"}, "FRD: no feature column is finite after standardisation");

  auto standardised = [&](MatrixViewD x, const std::vector<std::size_t>& rows) {
    MatrixD m(rows.size(), used.size());
    for (std::size_t r = 0; r < rows.size(); ++r)
      for (std::size_t c = 0; c < used.size(); ++c) m(r, c) = z(x, rows[r], used[c]);
    return m;
  };
  const MatrixD zr = standardised(real, real_keep);
  const MatrixD zs = standardised(synthetic, syn_keep);
  out.frechet_distance = frechet_distance(gaussian_stats(zr.view()), gaussian_stats(zs.view()));
  out.log_frechet_distance =
      out.frechet_distance > 0 ? std::log(out.frechet_distance) : -std::numeric_limits<double>::infinity();
  out.frd = options.paper_log ? out.log_frechet_distance : out.frechet_distance;
  return out;
}

}  // namespace chexgen::metrics
