#include "chexgen/fidelity/suite.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_set>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/progress.h"
#include "chexgen/data/csv_table.h"
#include "chexgen/fidelity/records.h"
#include "chexgen/metrics/fidelity.h"
#include "chexgen/metrics/frd.h"

namespace chexgen::fidelity {
namespace {

using json = nlohmann::ordered_json;
using results::Metric;
using results::MetricKey;
using results::MetricRecord;

constexpr Metric kPrdc[] = {Metric::precision, Metric::recall, Metric::density, Metric::coverage};

MatrixD select_rows(const MatrixD& m, const std::vector<std::size_t>& rows) {
  MatrixD out(rows.size(), m.cols());
  for (std::size_t r = 0; r < rows.size(); ++r) std::copy_n(m.row(rows[r]), m.cols(), out.row(r));
  return out;
}

// The records of one comparison as they are made; emitted in the table's column order.
class Records {
 public:
  Records(const SuiteInputs& in, bool overall) : in_(in), overall_(overall) {}

  MetricRecord& put(MetricKey key, double value) {
    MetricRecord& r = records_[key];
    r.key = std::move(key);
    r.value = value;
    return r;
  }
  void put(MetricRecord record) { records_[record.key] = std::move(record); }
  // Overall, too small a set is the user's error; per label, a skipped record with the reason.
  void skip(MetricKey key, const std::string& reason) {
    if (overall_)
      throw InputError(Location{in_.synthetic->source.string()},
                       fmt::format("cannot compute {}: {}", results::column_title(key), reason));
    MetricRecord& r = records_[key];
    r.key = std::move(key);
    r.skipped = reason;
  }
  std::vector<MetricRecord> in_order(const std::vector<MetricKey>& columns) {
    std::vector<MetricRecord> out;
    for (const MetricKey& c : columns)
      if (auto it = records_.find(c); it != records_.end()) out.push_back(std::move(it->second));
    return out;
  }

 private:
  const SuiteInputs& in_;
  bool overall_;
  std::map<MetricKey, MetricRecord> records_;
};

// FID and KID on one block, and PRDC when it is the PRDC block.
void evaluate_block(const SuiteInputs& in, const SuiteOptions& o, std::size_t b, const std::vector<std::size_t>& R,
                    const std::vector<std::size_t>& S, Records& out, json& details) {
  const FeatureBlock& block = in.blocks[b];
  const MetricKey fid{Metric::fid, block.space}, kid{Metric::kid, block.space};
  MatrixD real = select_rows(block.real, R), syn = select_rows(block.synthetic, S);
  json block_details;
  if (block.radiomic) {
    std::vector<std::size_t> real_nan, syn_nan;
    const auto real_keep = metrics::rows_without_nan(real.view(), &real_nan);
    const auto syn_keep = metrics::rows_without_nan(syn.view(), &syn_nan);
    if (real_keep.size() >= 2 && syn_keep.size() >= 2) {
      metrics::StandardisedFeatures z = metrics::standardise_with_real(real.view(), real_keep, syn.view(), syn_keep);
      block_details = {{"rows_with_nan_left_out", {{"real", real_nan.size()}, {"synthetic", syn_nan.size()}}},
                       {"columns_used", z.columns_used.size()},
                       {"columns_left_out", z.columns_dropped.size()}};
      real = std::move(z.real);
      syn = std::move(z.synthetic);
    } else {
      real = MatrixD(real_keep.size(), real.cols());
      syn = MatrixD(syn_keep.size(), syn.cols());
    }
  }
  const std::size_t nr = real.rows(), ns = syn.rows();
  metrics::FidelityOptions fo;
  fo.seed = o.seed;
  fo.inception_score = false;
  fo.kid_options.subsets = o.kid_subsets;
  fo.kid_options.subset_size = std::min(nr, ns);
  fo.prdc_options.k = o.prdc_k;
  fo.prdc_options.threads = o.threads;
  fo.bootstrap.resamples = o.bootstrap;
  fo.fid = fo.kid = nr >= 2 && ns >= 2;
  if (!fo.fid) {
    const std::string why = fmt::format("{} real and {} synthetic samples{}; FID and KID need at least 2 of each", nr,
                                        ns, block.radiomic ? " without NaN features" : "");
    out.skip(fid, why);
    out.skip(kid, why);
  }
  const bool prdc_block = in.prdc_block == b;
  fo.prdc = prdc_block && nr > static_cast<std::size_t>(o.prdc_k) && ns > static_cast<std::size_t>(o.prdc_k);
  if (prdc_block && !fo.prdc)
    for (Metric m : kPrdc)
      out.skip({m, block.space}, fmt::format("{} real and {} synthetic samples; PRDC with k = {} needs more than {} "
                                             "of each",
                                             nr, ns, o.prdc_k, o.prdc_k));
  if (fo.fid || fo.prdc) {
    metrics::FidelityInputs<double> fi;
    fi.real = real.view();
    fi.synthetic = syn.view();
    fi.real_source = "real " + block.space + " features";
    fi.synthetic_source = "synthetic " + block.space + " features";
    for (MetricRecord& r : fidelity_records(metrics::evaluate_fidelity(fi, fo), block.space, in.logits_space))
      out.put(std::move(r));
  }
  if (!block_details.empty()) details[block.space] = std::move(block_details);
}

// The records of one pair of subsets: positions R into the real rows and S into the synthetic rows.
results::Comparison evaluate_subset(const SuiteInputs& in, const SuiteOptions& o, const std::vector<MetricKey>& columns,
                                    const std::vector<std::size_t>& R, const std::vector<std::size_t>& S,
                                    bool overall) {
  results::Comparison out;
  out.n_real = R.size();
  out.n_synthetic = S.size();
  Records records(in, overall);

  for (std::size_t b = 0; b < in.blocks.size(); ++b) evaluate_block(in, o, b, R, S, records, out.details);

  if (in.synthetic_logits) {
    const MetricKey is{Metric::inception_score, in.logits_space};
    if (S.size() < o.is_splits) {
      records.skip(is, fmt::format("{} synthetic samples; the Inception Score with {} splits needs at least {}",
                                   S.size(), o.is_splits, o.is_splits));
    } else {
      const MatrixD logits = select_rows(*in.synthetic_logits, S);
      metrics::FidelityOptions fo;
      fo.fid = fo.kid = fo.prdc = false;
      fo.inception_score = true;
      fo.is_options.splits = o.is_splits;
      fo.seed = o.seed;
      fo.bootstrap.resamples = o.bootstrap;
      metrics::FidelityInputs<double> fi;
      fi.synthetic_logits = logits.view();
      fi.synthetic_logits_source = "synthetic " + in.logits_name;
      for (MetricRecord& r : fidelity_records(metrics::evaluate_fidelity(fi, fo), "", in.logits_space, in.logits_name))
        records.put(std::move(r));
    }
  }

  if (in.alignment) {
    const MetricKey alignment{Metric::alignment, in.alignment_space};
    if (S.empty()) {
      records.skip(alignment, "no synthetic samples");
    } else {
      double sum = 0;
      for (std::size_t s : S) sum += (*in.alignment)[s];
      records.put(alignment, sum / static_cast<double>(S.size()));
    }
  }

  if (in.frd) {
    const FeatureBlock& block = *in.frd;
    const MetricKey frd{Metric::frd, block.space};
    const MatrixD real = select_rows(block.real, R), syn = select_rows(block.synthetic, S);
    const std::size_t nr = metrics::rows_without_nan(real.view()).size();
    const std::size_t ns = metrics::rows_without_nan(syn.view()).size();
    if (nr < 2 || ns < 2) {
      records.skip(frd, fmt::format("{} real and {} synthetic samples without NaN features; FRD needs at least 2 of "
                                    "each",
                                    nr, ns));
    } else {
      metrics::FrdOptions fo;
      fo.paper_log = true;
      fo.match_sample_count = o.frd_match_sample_count;
      fo.seed = static_cast<std::uint32_t>(o.seed);
      const metrics::FrdResult r = metrics::compute_frd(real.view(), syn.view(), in.frd_columns, fo);
      records.put(frd, r.frd).details = {{"frechet_distance", r.frechet_distance},
                                         {"real_used", r.real_used},
                                         {"synthetic_used", r.synthetic_used},
                                         {"real_rows_with_nan", r.real_rows_with_nan.size()},
                                         {"synthetic_rows_with_nan", r.synthetic_rows_with_nan.size()},
                                         {"columns_used", r.columns_used},
                                         {"columns", r.columns}};
    }
  }
  out.records = records.in_order(columns);
  return out;
}

}  // namespace

std::vector<MetricKey> suite_columns(const SuiteInputs& in) {
  std::vector<MetricKey> c;
  for (const auto& b : in.blocks) c.push_back({Metric::fid, b.space});
  if (in.synthetic_logits) c.push_back({Metric::inception_score, in.logits_space});
  for (const auto& b : in.blocks) c.push_back({Metric::kid, b.space});
  if (in.prdc_block)
    for (Metric m : kPrdc) c.push_back({m, in.blocks[*in.prdc_block].space});
  if (in.alignment) c.push_back({Metric::alignment, in.alignment_space});
  if (in.frd) c.push_back({Metric::frd, in.frd->space});
  return c;
}

Deduplication deduplicate_by_prompt(const Dataset& dataset, const std::vector<std::size_t>& samples) {
  Deduplication d;
  std::unordered_set<std::string> seen;
  for (std::size_t i : samples) {
    const auto& prompt = dataset.samples[i].prompt;
    if (!prompt) {
      ++d.without_prompt;
      d.kept.push_back(i);
    } else if (seen.insert(*prompt).second) {
      d.kept.push_back(i);
    } else {
      ++d.duplicates;
    }
  }
  return d;
}

results::Results run_fidelity_suite(const SuiteInputs& in, const SuiteOptions& o, Progress* progress) {
  CHEXGEN_ASSERT(in.real && in.synthetic, "run_fidelity_suite: datasets missing");
  const auto check = [&](const FeatureBlock& b) {
    CHEXGEN_ASSERT(b.real.rows() == in.real_samples.size() && b.synthetic.rows() == in.synthetic_samples.size(),
                   "run_fidelity_suite: a feature block does not match the samples");
  };
  for (const auto& b : in.blocks) check(b);
  if (in.frd) check(*in.frd);
  results::Results result;
  result.evaluation = "fidelity";
  result.columns = suite_columns(in);
  std::vector<std::size_t> all_real(in.real_samples.size()), all_syn(in.synthetic_samples.size());
  for (std::size_t i = 0; i < all_real.size(); ++i) all_real[i] = i;
  for (std::size_t i = 0; i < all_syn.size(); ++i) all_syn[i] = i;
  result.overall = evaluate_subset(in, o, result.columns, all_real, all_syn, true);
  if (progress) progress->advance();
  if (!o.conditional) return result;

  const Dataset& real = *in.real;
  const Dataset& syn = *in.synthetic;
  for (const std::string& label : real.labels.names()) {
    std::vector<std::size_t> R, S;
    std::unordered_set<std::string> prompts;
    for (std::size_t r = 0; r < in.real_samples.size(); ++r) {
      if (real.label(in.real_samples[r], label) != LabelValue::positive) continue;
      R.push_back(r);
      if (const auto& p = real.samples[in.real_samples[r]].prompt) prompts.insert(*p);
    }
    const bool own_labels = syn.labels.index(label).has_value();
    for (std::size_t s = 0; s < in.synthetic_samples.size(); ++s) {
      const Sample& sample = syn.samples[in.synthetic_samples[s]];
      const bool in_subset = own_labels ? syn.label(in.synthetic_samples[s], label) == LabelValue::positive
                                        : (sample.prompt && prompts.count(*sample.prompt) > 0);
      if (in_subset) S.push_back(s);
    }
    results::Comparison sub = evaluate_subset(in, o, result.columns, R, S, false);
    sub.label = label;
    sub.synthetic_rule = own_labels ? "synthetic samples labelled positive"
                                    : "synthetic samples whose prompt is one of the real subset's prompts";
    result.per_label.push_back(std::move(sub));
    if (progress) progress->advance();
  }
  return result;
}

namespace {

std::string table_csv(const results::Results& r, bool conditional) {
  std::string out;
  for (const auto& c : r.columns) out += csv_field(results::column_title(c)) + ",";
  out += conditional ? "Extra Info,Pathology\n" : "Extra Info\n";
  const auto row = [&](const results::Comparison& s) {
    std::string line;
    for (const auto& c : r.columns) {
      if (auto v = s.value(c)) line += fmt::format("{}", *v);
      line += ",";
    }
    line += csv_field(r.generator);
    if (conditional) line += "," + csv_field(s.label);
    return line + "\n";
  };
  if (conditional)
    for (const auto& s : r.per_label) out += row(s);
  else
    out += row(r.overall);
  return out;
}

}  // namespace

std::string overall_table_csv(const results::Results& r) { return table_csv(r, false); }

std::string conditional_table_csv(const results::Results& r) { return table_csv(r, true); }

}  // namespace chexgen::fidelity
