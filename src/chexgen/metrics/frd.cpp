#include "chexgen/metrics/frd.h"

#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "chexgen/metrics/fid.h"
#include "chexgen/metrics/sampling.h"

namespace chexgen::metrics {
namespace {

void require_rows(std::size_t n, const char* which) {
  if (n < 2)
    throw InputError(Location{which},
                     fmt::format("FRD needs at least 2 feature rows without NaN in the {} set, got {}", which, n));
}

}  // namespace

std::vector<std::size_t> rows_without_nan(MatrixViewD x, std::vector<std::size_t>* with_nan) {
  std::vector<std::size_t> keep;
  for (std::size_t i = 0; i < x.rows; ++i) {
    bool nan = false;
    for (std::size_t j = 0; j < x.cols && !nan; ++j) nan = std::isnan(x(i, j));
    if (!nan)
      keep.push_back(i);
    else if (with_nan)
      with_nan->push_back(i);
  }
  return keep;
}

StandardisedFeatures standardise_with_real(MatrixViewD real, std::span<const std::size_t> real_rows,
                                           MatrixViewD synthetic, std::span<const std::size_t> synthetic_rows) {
  CHEXGEN_ASSERT(real.cols == synthetic.cols && !real_rows.empty(), "standardise_with_real: bad shapes");
  // Column statistics of the real rows: mean, then the population standard deviation (numpy's std). Each column's
  // sums run over the rows in order, visited row by row (the matrix is row-major).
  const std::size_t d = real.cols;
  std::vector<long double> sum(d, 0.0L), sq(d, 0.0L);
  for (std::size_t i : real_rows) {
    const double* row = real.data + i * d;
    for (std::size_t j = 0; j < d; ++j) sum[j] += row[j];
  }
  std::vector<double> mean(d, 0.0), sd(d, 0.0);
  for (std::size_t j = 0; j < d; ++j) mean[j] = static_cast<double>(sum[j] / real_rows.size());
  for (std::size_t i : real_rows) {
    const double* row = real.data + i * d;
    for (std::size_t j = 0; j < d; ++j) {
      const double dev = row[j] - mean[j];
      sq[j] += dev * dev;
    }
  }
  for (std::size_t j = 0; j < d; ++j) sd[j] = std::sqrt(static_cast<double>(sq[j] / real_rows.size()));
  auto z = [&](MatrixViewD x, std::size_t i, std::size_t j) { return (x(i, j) - mean[j]) / sd[j]; };
  StandardisedFeatures out;
  std::vector<char> finite(d, 1);
  auto check = [&](MatrixViewD x, std::span<const std::size_t> rows) {
    for (std::size_t i : rows)
      for (std::size_t j = 0; j < d; ++j) finite[j] = finite[j] && std::isfinite(z(x, i, j));
  };
  check(real, real_rows);
  check(synthetic, synthetic_rows);
  for (std::size_t j = 0; j < d; ++j) (finite[j] ? out.columns_used : out.columns_dropped).push_back(j);
  auto standardised = [&](MatrixViewD x, std::span<const std::size_t> rows) {
    MatrixD m(rows.size(), out.columns_used.size());
    for (std::size_t r = 0; r < rows.size(); ++r)
      for (std::size_t c = 0; c < out.columns_used.size(); ++c) m(r, c) = z(x, rows[r], out.columns_used[c]);
    return m;
  };
  out.real = standardised(real, real_rows);
  out.synthetic = standardised(synthetic, synthetic_rows);
  return out;
}

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

  std::vector<std::size_t> real_keep = rows_without_nan(real, &out.real_rows_with_nan);
  std::vector<std::size_t> syn_keep = rows_without_nan(synthetic, &out.synthetic_rows_with_nan);
  if (options.match_sample_count) {
    auto subsample = [&](std::vector<std::size_t>& rows, std::size_t m) {
      std::vector<std::size_t> chosen;
      for (std::size_t k : numpy_legacy_choice(options.seed, rows.size(), m)) chosen.push_back(rows[k]);
      rows = std::move(chosen);
    };
    if (real_keep.size() > syn_keep.size())
      subsample(real_keep, syn_keep.size());
    else if (syn_keep.size() > real_keep.size())
      subsample(syn_keep, real_keep.size());
  }
  require_rows(real_keep.size(), "real");
  require_rows(syn_keep.size(), "synthetic");
  out.real_used = real_keep.size();
  out.synthetic_used = syn_keep.size();

  const StandardisedFeatures z = standardise_with_real(real, real_keep, synthetic, syn_keep);
  for (std::size_t j : z.columns_dropped) out.dropped_columns.push_back(column_names[j]);
  out.columns_used = z.columns_used.size();
  if (z.columns_used.empty())
    throw InputError(Location{"real"}, "FRD: no feature column is finite after standardisation");
  out.frechet_distance = frechet_distance(gaussian_stats(z.real.view()), gaussian_stats(z.synthetic.view()));
  out.log_frechet_distance =
      out.frechet_distance > 0 ? std::log(out.frechet_distance) : -std::numeric_limits<double>::infinity();
  out.frd = options.paper_log ? out.log_frechet_distance : out.frechet_distance;
  return out;
}

}  // namespace chexgen::metrics
