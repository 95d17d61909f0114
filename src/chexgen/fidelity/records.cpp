#include "chexgen/fidelity/records.h"

#include <optional>

namespace chexgen::fidelity {
namespace {

using results::Metric;
using results::MetricRecord;
using S = metrics::FidelityScalar;

std::optional<metrics::Interval> interval_of(const metrics::FidelityReport& r, S scalar) {
  if (auto it = r.intervals.find(scalar); it != r.intervals.end()) return it->second;
  return std::nullopt;
}

nlohmann::ordered_json interval_json(const std::optional<metrics::Interval>& i) {
  if (!i) return nullptr;
  return {results::number_to_json(i->low), results::number_to_json(i->high)};
}

}  // namespace

std::vector<MetricRecord> fidelity_records(const metrics::FidelityReport& report, const std::string& space,
                                           const std::string& logits_space, const std::string& logits_name) {
  const metrics::FidelityValues& v = report.values;
  std::vector<MetricRecord> out;
  const auto add = [&](Metric m, const std::string& in_space, std::optional<double> value, S scalar) -> MetricRecord& {
    MetricRecord r;
    r.key = {m, in_space};
    r.value = value;
    r.interval = interval_of(report, scalar);
    out.push_back(std::move(r));
    return out.back();
  };
  if (v.fid) add(Metric::fid, space, *v.fid, S::fid);
  if (v.kid)
    add(Metric::kid, space, v.kid->mean, S::kid_mean).details = {
        {"std", v.kid->std}, {"subset_size", v.kid->subset_size}, {"subsets", v.kid->subset_mmd2.size()}};
  if (const auto& p = v.prdc) {
    add(Metric::precision, space, p->precision, S::precision).details = {{"k", p->k}, {"count", p->precision_fakes}};
    add(Metric::recall, space, p->recall, S::recall).details = {{"k", p->k}, {"count", p->recall_reals}};
    add(Metric::density, space, p->density, S::density).details = {{"k", p->k}, {"count", p->density_memberships}};
    add(Metric::coverage, space, p->coverage, S::coverage).details = {{"k", p->k}, {"count", p->coverage_reals}};
  }
  if (v.synthetic_is || v.real_is) {
    MetricRecord& r = add(Metric::inception_score, logits_space,
                          v.synthetic_is ? std::optional<double>(v.synthetic_is->mean) : std::nullopt, S::is_mean);
    if (v.synthetic_is) {
      r.details = {{"std", v.synthetic_is->std},
                   {"splits", v.synthetic_is->split_scores.size()},
                   {"split_scores", v.synthetic_is->split_scores}};
    } else {
      r.skipped = "no synthetic logits";
    }
    if (!logits_name.empty()) r.details["from"] = logits_name;
    if (v.real_is)
      r.details["real"] = {{"value", v.real_is->mean},
                           {"std", v.real_is->std},
                           {"split_scores", v.real_is->split_scores},
                           {"interval", interval_json(interval_of(report, S::real_is_mean))}};
  }
  return out;
}

}  // namespace chexgen::fidelity
