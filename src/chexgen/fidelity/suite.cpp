#include "chexgen/fidelity/suite.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/progress.h"
#include "chexgen/data/csv_table.h"
#include "chexgen/metrics/fidelity.h"
#include "chexgen/metrics/frd.h"

namespace chexgen::fidelity {
namespace {

using json = nlohmann::ordered_json;

constexpr const char* kPrdcNames[] = {"Precision", "Recall", "Density", "Coverage"};

metrics::MatrixD select_rows(const metrics::MatrixD& m, const std::vector<std::size_t>& rows) {
  metrics::MatrixD out(rows.size(), m.cols());
  for (std::size_t r = 0; r < rows.size(); ++r) std::copy_n(m.row(rows[r]), m.cols(), out.row(r));
  return out;
}

// The metrics of one pair of subsets: positions R into the real rows and S into the synthetic rows.
SubsetResult evaluate_subset(const SuiteInputs& in, const SuiteOptions& o, const std::vector<std::string>& columns,
                             const std::vector<std::size_t>& R, const std::vector<std::size_t>& S, bool overall) {
  SubsetResult out;
  out.n_real = R.size();
  out.n_synthetic = S.size();
  std::map<std::string, double> values;
  const auto skip = [&](const std::string& column, const std::string& reason) {
    if (overall)
      throw InputError(Location{in.synthetic->source.string()}, fmt::format("cannot compute {}: {}", column, reason));
    out.skipped[column] = reason;
  };
  const auto keep_intervals = [&](const metrics::FidelityReport& rep, const std::string& scalar,
                                  const std::string& column) {
    if (auto it = rep.intervals.find(scalar); it != rep.intervals.end()) out.intervals[column] = it->second;
  };

  for (std::size_t b = 0; b < in.blocks.size(); ++b) {
    const FeatureBlock& block = in.blocks[b];
    const std::string fid = "FID" + block.suffix, kid = "KID" + block.suffix;
    metrics::MatrixD real = select_rows(block.real, R), syn = select_rows(block.synthetic, S);
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
        real = metrics::MatrixD(real_keep.size(), real.cols());
        syn = metrics::MatrixD(syn_keep.size(), syn.cols());
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
      const std::string why = fmt::format("{} real and {} synthetic samples{}; FID and KID need at least 2 of each",
                                          nr, ns, block.radiomic ? " without NaN features" : "");
      skip(fid, why);
      skip(kid, why);
    }
    fo.prdc = in.prdc_block == b && nr > static_cast<std::size_t>(o.prdc_k) &&
              ns > static_cast<std::size_t>(o.prdc_k);
    if (in.prdc_block == b && !fo.prdc)
      for (const char* p : kPrdcNames)
        skip(p + block.prdc_suffix,
             fmt::format("{} real and {} synthetic samples; PRDC with k = {} needs more than {} of each", nr, ns,
                         o.prdc_k, o.prdc_k));
    if (!fo.fid && !fo.prdc) continue;
    metrics::FidelityInputs<double> fi;
    fi.real = real.view();
    fi.synthetic = syn.view();
    fi.real_source = "real " + block.name + " features";
    fi.synthetic_source = "synthetic " + block.name + " features";
    const metrics::FidelityReport rep = metrics::evaluate_fidelity(fi, fo);
    const auto& v = rep.values;
    if (v.fid) {
      values[fid] = *v.fid;
      keep_intervals(rep, "fid", fid);
    }
    if (v.kid) {
      values[kid] = v.kid->mean;
      keep_intervals(rep, "kid_mean", kid);
      block_details["kid_std"] = v.kid->std;
      block_details["kid_subset_size"] = v.kid->subset_size;
      block_details["kid_subsets"] = o.kid_subsets;
    }
    if (v.prdc) {
      const double prdc[] = {v.prdc->precision, v.prdc->recall, v.prdc->density, v.prdc->coverage};
      const char* scalar[] = {"precision", "recall", "density", "coverage"};
      for (int k = 0; k < 4; ++k) {
        values[kPrdcNames[k] + block.prdc_suffix] = prdc[k];
        keep_intervals(rep, scalar[k], kPrdcNames[k] + block.prdc_suffix);
      }
    }
    out.details[block.name] = std::move(block_details);
  }

  if (in.synthetic_logits) {
    if (S.size() < o.is_splits) {
      skip("Inception Score", fmt::format("{} synthetic samples; the Inception Score with {} splits needs at least {}",
                                          S.size(), o.is_splits, o.is_splits));
    } else {
      const metrics::MatrixD logits = select_rows(*in.synthetic_logits, S);
      metrics::FidelityOptions fo;
      fo.fid = fo.kid = fo.prdc = false;
      fo.inception_score = true;
      fo.is_options.splits = o.is_splits;
      fo.seed = o.seed;
      fo.bootstrap.resamples = o.bootstrap;
      metrics::FidelityInputs<double> fi;
      fi.synthetic_logits = logits.view();
      fi.synthetic_logits_source = "synthetic " + in.logits_name;
      const metrics::FidelityReport rep = metrics::evaluate_fidelity(fi, fo);
      values["Inception Score"] = rep.values.synthetic_is->mean;
      keep_intervals(rep, "is_mean", "Inception Score");
      out.details["Inception Score"] = {{"std", rep.values.synthetic_is->std}, {"splits", o.is_splits},
                                        {"from", in.logits_name}};
    }
  }

  if (in.alignment) {
    std::vector<double> scores;
    for (std::size_t s : S) scores.push_back((*in.alignment)[s]);
    if (scores.empty()) {
      skip("Alignment_score", "no synthetic samples");
    } else {
      double sum = 0;
      for (double x : scores) sum += x;
      values["Alignment_score"] = sum / static_cast<double>(scores.size());
    }
  }

  if (in.frd) {
    const FeatureBlock& block = *in.frd;
    const metrics::MatrixD real = select_rows(block.real, R), syn = select_rows(block.synthetic, S);
    const std::size_t nr = metrics::rows_without_nan(real.view()).size();
    const std::size_t ns = metrics::rows_without_nan(syn.view()).size();
    if (nr < 2 || ns < 2) {
      skip("FRD", fmt::format("{} real and {} synthetic samples without NaN features; FRD needs at least 2 of each",
                              nr, ns));
    } else {
      metrics::FrdOptions fo;
      fo.paper_log = true;
      fo.match_sample_count = o.frd_match_sample_count;
      fo.seed = static_cast<std::uint32_t>(o.seed);
      const metrics::FrdResult frd = metrics::compute_frd(real.view(), syn.view(), in.frd_columns, fo);
      values["FRD"] = frd.frd;
      out.details["FRD"] = {{"frechet_distance", frd.frechet_distance},
                            {"real_used", frd.real_used},
                            {"synthetic_used", frd.synthetic_used},
                            {"real_rows_with_nan", frd.real_rows_with_nan.size()},
                            {"synthetic_rows_with_nan", frd.synthetic_rows_with_nan.size()},
                            {"columns_used", frd.columns_used},
                            {"columns", frd.columns}};
    }
  }

  for (const std::string& c : columns)
    if (auto it = values.find(c); it != values.end()) out.values.emplace_back(c, it->second);
  return out;
}

}  // namespace

std::optional<double> SubsetResult::value(const std::string& column) const {
  for (const auto& [c, v] : values)
    if (c == column) return v;
  return std::nullopt;
}

std::vector<std::string> suite_columns(const SuiteInputs& in) {
  std::vector<std::string> c;
  for (const auto& b : in.blocks) c.push_back("FID" + b.suffix);
  if (in.synthetic_logits) c.push_back("Inception Score");
  for (const auto& b : in.blocks) c.push_back("KID" + b.suffix);
  if (in.prdc_block)
    for (const char* p : kPrdcNames) c.push_back(p + in.blocks[*in.prdc_block].prdc_suffix);
  if (in.alignment) c.push_back("Alignment_score");
  if (in.frd) c.push_back("FRD");
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

SuiteResult run_fidelity_suite(const SuiteInputs& in, const SuiteOptions& o, Progress* progress) {
  CHEXGEN_ASSERT(in.real && in.synthetic, "run_fidelity_suite: datasets missing");
  const auto check = [&](const FeatureBlock& b) {
    CHEXGEN_ASSERT(b.real.rows() == in.real_samples.size() && b.synthetic.rows() == in.synthetic_samples.size(),
                   "run_fidelity_suite: a feature block does not match the samples");
  };
  for (const auto& b : in.blocks) check(b);
  if (in.frd) check(*in.frd);
  SuiteResult result;
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
    SubsetResult sub = evaluate_subset(in, o, result.columns, R, S, false);
    sub.label = label;
    sub.synthetic_rule = own_labels ? "synthetic samples labelled positive"
                                    : "synthetic samples whose prompt is one of the real subset's prompts";
    result.conditional.push_back(std::move(sub));
    if (progress) progress->advance();
  }
  return result;
}

json to_json(const SubsetResult& r) {
  json j;
  // JSON has no infinity: FRD of identical sets is ln 0 = -inf, written as the string "-inf" (as Python prints it).
  for (const auto& [c, v] : r.values) j[c] = std::isfinite(v) ? json(v) : json(fmt::format("{}", v));
  j["n_real"] = r.n_real;
  j["n_synthetic"] = r.n_synthetic;
  if (!r.synthetic_rule.empty()) j["synthetic_rule"] = r.synthetic_rule;
  j["skipped"] = json::object();
  for (const auto& [c, why] : r.skipped) j["skipped"][c] = why;
  if (!r.intervals.empty()) {
    j["intervals"] = json::object();
    for (const auto& [c, iv] : r.intervals) j["intervals"][c] = {iv.low, iv.high};
  }
  j["details"] = r.details.is_null() ? json::object() : r.details;
  return j;
}

namespace {

std::string table_csv(const SuiteResult& r, const std::string& extra_info, bool conditional) {
  std::string out;
  for (const auto& c : r.columns) out += csv_field(c) + ",";
  out += conditional ? "Extra Info,Pathology\n" : "Extra Info\n";
  const auto row = [&](const SubsetResult& s) {
    std::string line;
    for (const auto& c : r.columns) {
      if (auto v = s.value(c)) line += fmt::format("{}", *v);
      line += ",";
    }
    line += csv_field(extra_info);
    if (conditional) line += "," + csv_field(s.label);
    return line + "\n";
  };
  if (conditional)
    for (const auto& s : r.conditional) out += row(s);
  else
    out += row(r.overall);
  return out;
}

}  // namespace

std::string overall_table_csv(const SuiteResult& r, const std::string& extra_info) {
  return table_csv(r, extra_info, false);
}

std::string conditional_table_csv(const SuiteResult& r, const std::string& extra_info) {
  return table_csv(r, extra_info, true);
}

}  // namespace chexgen::fidelity
