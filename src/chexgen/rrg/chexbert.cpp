#include "chexgen/rrg/chexbert.h"

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/numeric.h"
#include "chexgen/data/csv_table.h"
#include "chexgen/metrics/numpy_random.h"
#include "chexgen/rrg/text.h"

namespace chexgen::rrg {
namespace {

// The five observations of the "-5" scores, in CheXbert's order (as np.isin keeps them).
constexpr std::array<std::size_t, 5> kFive = {1, 4, 5, 7, 9};

ChexbertClass parse_class(const std::string& cell, const Location& where) {
  if (cell.empty()) return ChexbertClass::blank;
  if (cell == "1" || cell == "1.0") return ChexbertClass::positive;
  if (cell == "0" || cell == "0.0") return ChexbertClass::negative;
  if (cell == "-1" || cell == "-1.0") return ChexbertClass::uncertain;
  throw InputError(where, fmt::format("'{}' is not a CheXbert label (1, 0, -1 or empty)", cell));
}

// Per report and observation: whether the prediction and the reference are positive, as bits 0 and 1.
struct Counts {
  std::array<std::int64_t, 14> tp{}, pred{}, truth{};
};

double divide_or_zero(std::int64_t num, std::int64_t den) {
  return den == 0 ? 0.0 : static_cast<double>(num) / static_cast<double>(den);
}

// scikit-learn 1.2's F-score from precision and recall: (1 + β²)·P·R / (β²·P + R), 0 where the denominator is 0.
double f_score(double precision, double recall) {
  double denom = precision + recall;
  if (denom == 0.0) denom = 1;
  return 2 * precision * recall / denom;
}

template <std::size_t K>
double micro_f1(const Counts& c, const std::array<std::size_t, K>& labels) {
  std::int64_t tp = 0, pred = 0, truth = 0;
  for (std::size_t k : labels) tp += c.tp[k], pred += c.pred[k], truth += c.truth[k];
  return f_score(divide_or_zero(tp, pred), divide_or_zero(tp, truth));
}

template <std::size_t K>
double macro_f1(const Counts& c, const std::array<std::size_t, K>& labels) {
  std::array<double, K> f{};
  for (std::size_t i = 0; i < K; ++i) {
    const std::size_t k = labels[i];
    f[i] = f_score(divide_or_zero(c.tp[k], c.pred[k]), divide_or_zero(c.tp[k], c.truth[k]));
  }
  return numpy_pairwise_sum(f.data(), K) / static_cast<double>(K);  // np.average
}

constexpr std::array<std::size_t, 14> all14() {
  std::array<std::size_t, 14> a{};
  for (std::size_t i = 0; i < 14; ++i) a[i] = i;
  return a;
}

bool positive(ChexbertClass c, bool uncertain_positive) {
  return c == ChexbertClass::positive || (uncertain_positive && c == ChexbertClass::uncertain);
}

}  // namespace

std::string chexbert_text(std::string_view report) {
  std::string out;
  out.reserve(report.size());
  bool space = false;
  for (std::size_t i = 0; i < report.size();) {
    if (const std::size_t w = python_space_at(report, i)) {
      space = true;
      i += w;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(report[i++]);
  }
  return out;  // leading and trailing whitespace gone (strip), inner runs one space
}

std::vector<ChexbertRow> chexbert_classes(const MatrixD& logits) {
  CHEXGEN_ASSERT(logits.cols() == 56, "chexbert_classes: 14 heads of 4 logits per row");
  std::vector<ChexbertRow> rows(logits.rows());
  for (std::size_t i = 0; i < logits.rows(); ++i)
    for (std::size_t k = 0; k < 14; ++k) {
      const double* h = logits.row(i) + 4 * k;
      const std::size_t width = k == 13 ? 2 : 4;
      std::size_t best = 0;
      for (std::size_t c = 1; c < width; ++c)
        if (h[c] > h[best]) best = c;
      rows[i][k] = static_cast<ChexbertClass>(best);
    }
  return rows;
}

std::vector<std::string> chexbert_labels_csv(const std::vector<ChexbertRow>& rows,
                                             const std::vector<std::string>& texts) {
  CHEXGEN_ASSERT(rows.size() == texts.size(), "chexbert_labels_csv: one text per row");
  std::vector<std::string> header{"Report Impression"};
  for (std::string_view c : kChexbertConditions) header.emplace_back(c);
  std::vector<std::string> lines{csv_record(header)};
  for (std::size_t i = 0; i < rows.size(); ++i) {
    std::vector<std::string> f{texts[i]};
    for (ChexbertClass c : rows[i])
      f.emplace_back(c == ChexbertClass::positive   ? "1.0"
                     : c == ChexbertClass::negative ? "0.0"
                     : c == ChexbertClass::uncertain ? "-1.0"
                                                     : "");
    lines.push_back(csv_record(f));
  }
  return lines;
}

std::vector<ChexbertRow> read_chexbert_labels(const std::filesystem::path& csv) {
  ErrorReport row_errors;
  const CsvTable table = read_csv_file(csv, row_errors);
  if (!row_errors.empty()) throw row_errors.errors().front();
  std::array<std::size_t, 14> column{};
  for (std::size_t k = 0; k < 14; ++k) {
    const std::ptrdiff_t c = table.column(kChexbertConditions[k]);
    if (c < 0)
      throw InputError(Location(table.source, table.header_line),
                       fmt::format("no column '{}' (CheXbert's label.py writes one per observation)",
                                   kChexbertConditions[k]));
    column[k] = static_cast<std::size_t>(c);
  }
  std::vector<ChexbertRow> rows;
  rows.reserve(table.records.size());
  for (const CsvRecord& r : table.records) {
    ChexbertRow row{};
    for (std::size_t k = 0; k < 14; ++k)
      row[k] = parse_class(r.fields[column[k]], Location(table.source, r.line, std::string(kChexbertConditions[k])));
    rows.push_back(row);
  }
  return rows;
}

ChexbertF1 chexbert_f1(const std::vector<ChexbertRow>& predicted, const std::vector<ChexbertRow>& reference,
                       std::size_t resamples, double confidence, std::uint32_t seed) {
  CHEXGEN_ASSERT(predicted.size() == reference.size() && !predicted.empty(), "chexbert_f1: one label row per pair");
  CHEXGEN_ASSERT(resamples >= 1, "chexbert_f1: no resamples");
  const std::size_t n = predicted.size();
  // Per pair and observation, for rrg (bits 0-2) and rrg+ (bits 3-5): true positive, predicted, true.
  std::vector<std::array<std::uint8_t, 14>> flags(n);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t k = 0; k < 14; ++k) {
      std::uint8_t f = 0;
      for (int plus = 0; plus < 2; ++plus) {
        const bool p = positive(predicted[i][k], plus), t = positive(reference[i][k], plus);
        f |= static_cast<std::uint8_t>(((p && t) | (p << 1) | (t << 2)) << (3 * plus));
      }
      flags[i][k] = f;
    }
  auto count = [&](std::span<const std::size_t> rows, bool plus) {
    Counts c;
    const int shift = plus ? 3 : 0;
    for (std::size_t i : rows)
      for (std::size_t k = 0; k < 14; ++k) {
        const int f = flags[i][k] >> shift;
        c.tp[k] += f & 1;
        c.pred[k] += (f >> 1) & 1;
        c.truth[k] += (f >> 2) & 1;
      }
    return c;
  };
  std::vector<std::size_t> everyone(n);
  for (std::size_t i = 0; i < n; ++i) everyone[i] = i;
  const Counts full = count(everyone, false), full_plus = count(everyone, true);

  // rrg_eval calls scipy's bootstrap once per number, each with random_state=3: the same rows every time. One pass
  // keeps the eight statistics of each resample.
  std::array<std::vector<double>, 8> dist;
  for (auto& d : dist) d.reserve(resamples);
  metrics::scipy_bootstrap_rows(n, resamples, seed, [&](std::span<const std::size_t> rows) {
    const Counts c = count(rows, false), cp = count(rows, true);
    dist[0].push_back(micro_f1(c, all14()));
    dist[1].push_back(macro_f1(c, all14()));
    dist[2].push_back(micro_f1(c, kFive));
    dist[3].push_back(macro_f1(c, kFive));
    dist[4].push_back(micro_f1(cp, all14()));
    dist[5].push_back(macro_f1(cp, all14()));
    dist[6].push_back(micro_f1(cp, kFive));
    dist[7].push_back(macro_f1(cp, kFive));
  });
  auto estimate = [&](int d, double full_value) {
    F1Estimate e;
    e.full = full_value;
    e.median = metrics::numpy_median(dist[static_cast<std::size_t>(d)]);
    const metrics::Interval ci = metrics::scipy_percentile_interval(dist[static_cast<std::size_t>(d)], confidence);
    e.low = ci.low;
    e.high = ci.high;
    return e;
  };
  ChexbertF1 out;
  out.micro14 = estimate(0, micro_f1(full, all14()));
  out.macro14 = estimate(1, macro_f1(full, all14()));
  out.micro5 = estimate(2, micro_f1(full, kFive));
  out.macro5 = estimate(3, macro_f1(full, kFive));
  out.micro14_plus = estimate(4, micro_f1(full_plus, all14()));
  out.macro14_plus = estimate(5, macro_f1(full_plus, all14()));
  out.micro5_plus = estimate(6, micro_f1(full_plus, kFive));
  out.macro5_plus = estimate(7, macro_f1(full_plus, kFive));
  out.resamples = resamples;
  out.seed = seed;
  return out;
}

}  // namespace chexgen::rrg
