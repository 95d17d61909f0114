// Results as typed records (docs/results.md): every evaluation (fidelity, the metrics of two feature files, and the
// privacy and utility suites to come) returns a Results, and every output (results.json, CheXGenBench's CSV tables,
// the leaderboard) is a way of printing one. Nothing downstream parses a display string back.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "chexgen/metrics/bootstrap.h"
#include "chexgen/results/metric.h"

namespace chexgen::results {

// One metric of one comparison: its value, or why it was not computed.
struct MetricRecord {
  MetricKey key;
  std::optional<double> value;                                        // absent when skipped
  std::string skipped;                                                // why there is no value
  std::optional<metrics::Interval> interval;                          // bootstrap percentile interval
  nlohmann::ordered_json details = nlohmann::ordered_json::object();  // KID std and subset size, IS splits, ...
};

// The metrics of one pair of sets: the whole sets, or the subsets positive for one label.
struct Comparison {
  std::string label;           // empty for the whole sets
  std::string synthetic_rule;  // how the synthetic subset was chosen (per label)
  std::size_t n_real = 0, n_synthetic = 0;
  std::vector<MetricRecord> records;
  nlohmann::ordered_json details = nlohmann::ordered_json::object();  // per comparison, not per metric

  const MetricRecord* find(const MetricKey& key) const;
  std::optional<double> value(const MetricKey& key) const;  // absent when missing or skipped
};

struct Results {
  std::string evaluation;          // "fidelity", "metrics"
  std::string generator;           // the synthetic set's name: CheXGenBench's "Extra Info", the leaderboard's row
  std::vector<MetricKey> columns;  // every metric the inputs allow, in the evaluation's table order
  Comparison overall;
  std::vector<Comparison> per_label;
  // How the numbers were made: chexgen's version, options and seeds, inputs, extractors. Written at the top level of
  // results.json beside the records.
  nlohmann::ordered_json provenance = nlohmann::ordered_json::object();
};

inline constexpr const char* kResultsFormat = "chexgen-results/1";

// JSON has no infinity or NaN: a value that is not finite is written as the string "inf", "-inf" or "nan" (FRD of a
// set against itself is ln 0 = -inf), and read back as the number.
nlohmann::ordered_json number_to_json(double v);
std::optional<double> number_from_json(const nlohmann::json& j);  // absent when j is neither

nlohmann::ordered_json to_json(const Results& r);
// Any problem is an InputError at `file` naming the JSON path ("overall.records[3].metric").
Results results_from_json(const nlohmann::json& j, const std::string& file);

// results.json of `path`, or of the folder `path`. InputError when missing, not JSON, or not chexgen results. A
// results file without a generator name gets its folder's name.
Results read_results(const std::filesystem::path& path);
// Written atomically.
void write_results(const std::filesystem::path& file, const Results& r);

}  // namespace chexgen::results
