// The one mapping from a metrics::FidelityReport (FID, KID, PRDC, Inception Score, with bootstrap intervals) to
// result records (docs/results.md), shared by `chexgen metrics` and the fidelity suite.
#pragma once

#include <string>
#include <vector>

#include "chexgen/metrics/fidelity.h"
#include "chexgen/results/results.h"

namespace chexgen::fidelity {

// Records of the metrics the report holds, in this order: FID, KID, Precision, Recall, Density, Coverage (keyed by
// `space`), the Inception Score (keyed by `logits_space`). Details:
//  - KID: std (population, over subsets), subset_size, subsets;
//  - PRDC: k and the count behind the fraction (precision: synthetic rows inside some real ball; recall: real rows
//    inside some synthetic ball; density: ball memberships of synthetic rows; coverage: real rows whose ball holds a
//    synthetic row);
//  - Inception Score: std, splits, split_scores, `from` (what the logits are, when given), and `real` (the same
//    statistic of the real logits: the measure's null) when real logits were given. With real logits only, the
//    record is skipped ("no synthetic logits") and still carries `real`.
std::vector<results::MetricRecord> fidelity_records(const metrics::FidelityReport& report, const std::string& space,
                                                    const std::string& logits_space,
                                                    const std::string& logits_name = "");

}  // namespace chexgen::fidelity
