#include "chexgen/core/json.h"
#include "chexgen/results/results.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "chexgen/core/error.h"
#include "chexgen/core/files.h"

namespace chexgen::results {
namespace {

using ojson = nlohmann::ordered_json;
using json = nlohmann::json;

// Reserved top-level keys of results.json; every other one is provenance.
constexpr const char* kReserved[] = {"format", "evaluation", "generator", "columns", "overall", "per_label"};

ojson key_to_json(const MetricKey& k) { return {{"metric", std::string(info(k.metric).id)}, {"space", k.space}}; }

ojson comparison_to_json(const Comparison& c) {
  ojson j;
  if (!c.label.empty()) j["label"] = c.label;
  if (!c.synthetic_rule.empty()) j["synthetic_rule"] = c.synthetic_rule;
  j["n_real"] = c.n_real;
  j["n_synthetic"] = c.n_synthetic;
  ojson records = ojson::array();
  for (const MetricRecord& r : c.records) {
    ojson e = key_to_json(r.key);
    e["title"] = column_title(r.key);  // for a person reading the file; never read back
    if (r.value) e["value"] = number_to_json(*r.value);
    if (!r.skipped.empty()) e["skipped"] = r.skipped;
    if (r.interval) e["interval"] = {number_to_json(r.interval->low), number_to_json(r.interval->high)};
    if (!r.details.empty()) e["details"] = r.details;
    records.push_back(std::move(e));
  }
  j["records"] = std::move(records);
  if (!c.details.empty()) j["details"] = c.details;
  return j;
}

// Reads a JSON document field by field; every error names the file and the path inside it.
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  [[noreturn]] void fail(const std::string& path, const std::string& reason) const {
    throw InputError(Location{file_}, path.empty() ? reason : fmt::format("{}: {}", path, reason));
  }

  const json& member(const json& j, const std::string& path, const char* name) const {
    const auto it = j.find(name);
    if (it == j.end()) fail(path, fmt::format("no \"{}\"", name));
    return *it;
  }

  std::string string(const json& j, const std::string& path) const {
    if (!j.is_string()) fail(path, "not a string");
    return j.get<std::string>();
  }

  std::size_t count(const json& j, const std::string& path) const {
    if (!j.is_number_unsigned()) fail(path, "not a count");
    return j.get<std::size_t>();
  }

  double number(const json& j, const std::string& path) const {
    const auto v = number_from_json(j);
    if (!v) fail(path, "not a number (nor \"inf\", \"-inf\", \"nan\")");
    return *v;
  }

  MetricKey key(const json& j, const std::string& path) const {
    if (!j.is_object()) fail(path, "not an object");
    const std::string id = string(member(j, path, "metric"), path + ".metric");
    const auto metric = metric_by_id(id);
    if (!metric) fail(path + ".metric", fmt::format("unknown metric '{}'", id));
    return {*metric, string(member(j, path, "space"), path + ".space")};
  }

  Comparison comparison(const json& j, const std::string& path) const {
    if (!j.is_object()) fail(path, "not an object");
    Comparison c;
    if (j.contains("label")) c.label = string(j["label"], path + ".label");
    if (j.contains("synthetic_rule")) c.synthetic_rule = string(j["synthetic_rule"], path + ".synthetic_rule");
    c.n_real = count(member(j, path, "n_real"), path + ".n_real");
    c.n_synthetic = count(member(j, path, "n_synthetic"), path + ".n_synthetic");
    const json& records = member(j, path, "records");
    if (!records.is_array()) fail(path + ".records", "not an array");
    for (std::size_t i = 0; i < records.size(); ++i) {
      const std::string at = fmt::format("{}.records[{}]", path, i);
      const json& e = records[i];
      MetricRecord r;
      r.key = key(e, at);
      if (e.contains("value")) r.value = number(e["value"], at + ".value");
      if (e.contains("skipped")) r.skipped = string(e["skipped"], at + ".skipped");
      if (!r.value && r.skipped.empty()) fail(at, "neither a value nor the reason it was skipped");
      if (e.contains("interval")) {
        const json& iv = e["interval"];
        if (!iv.is_array() || iv.size() != 2) fail(at + ".interval", "not [low, high]");
        r.interval = metrics::Interval{number(iv[0], at + ".interval[0]"), number(iv[1], at + ".interval[1]")};
      }
      if (e.contains("details")) r.details = e["details"];
      if (c.find(r.key)) fail(at, fmt::format("a second record of {}", column_title(r.key)));
      c.records.push_back(std::move(r));
    }
    if (j.contains("details")) c.details = j["details"];
    return c;
  }

 private:
  std::string file_;
};

}  // namespace

const MetricRecord* Comparison::find(const MetricKey& key) const {
  for (const MetricRecord& r : records)
    if (r.key == key) return &r;
  return nullptr;
}

std::optional<double> Comparison::value(const MetricKey& key) const {
  const MetricRecord* r = find(key);
  return r ? r->value : std::nullopt;
}

ojson number_to_json(double v) {
  if (std::isfinite(v)) return v;
  if (std::isnan(v)) return "nan";
  return v > 0 ? "inf" : "-inf";
}

std::optional<double> number_from_json(const json& j) {
  if (j.is_number()) return j.get<double>();
  if (j == "inf") return std::numeric_limits<double>::infinity();
  if (j == "-inf") return -std::numeric_limits<double>::infinity();
  if (j == "nan") return std::numeric_limits<double>::quiet_NaN();
  return std::nullopt;
}

ojson to_json(const Results& r) {
  ojson j;
  j["format"] = kResultsFormat;
  j["evaluation"] = r.evaluation;
  j["generator"] = r.generator;
  for (const auto& [k, v] : r.provenance.items()) j[k] = v;
  ojson columns = ojson::array();
  for (const MetricKey& k : r.columns) columns.push_back(key_to_json(k));
  j["columns"] = std::move(columns);
  j["overall"] = comparison_to_json(r.overall);
  if (!r.per_label.empty()) {
    j["per_label"] = ojson::array();
    for (const Comparison& c : r.per_label) j["per_label"].push_back(comparison_to_json(c));
  }
  return j;
}

Results results_from_json(const json& j, const std::string& file) {
  const Reader in(file);
  if (!j.is_object()) in.fail("", "not chexgen results: the top level is not a JSON object");
  const auto format = j.find("format");
  if (format == j.end() || *format != kResultsFormat) {
    in.fail("", fmt::format("not chexgen results: \"format\": \"{}\" expected (results written by an earlier "
                            "chexgen have none: run chexgen fidelity again)",
                            kResultsFormat));
  }
  Results r;
  r.evaluation = in.string(in.member(j, "", "evaluation"), "evaluation");
  r.generator = in.string(in.member(j, "", "generator"), "generator");
  const json& columns = in.member(j, "", "columns");
  if (!columns.is_array()) in.fail("columns", "not an array");
  for (std::size_t i = 0; i < columns.size(); ++i)
    r.columns.push_back(in.key(columns[i], fmt::format("columns[{}]", i)));
  r.overall = in.comparison(in.member(j, "", "overall"), "overall");
  if (j.contains("per_label")) {
    const json& per_label = j["per_label"];
    if (!per_label.is_array()) in.fail("per_label", "not an array");
    for (std::size_t i = 0; i < per_label.size(); ++i)
      r.per_label.push_back(in.comparison(per_label[i], fmt::format("per_label[{}]", i)));
  }
  for (const auto& [k, v] : j.items())
    if (std::find(std::begin(kReserved), std::end(kReserved), k) == std::end(kReserved)) r.provenance[k] = v;
  return r;
}

Results read_results(const std::filesystem::path& path) {
  std::error_code ec;
  const bool folder = std::filesystem::is_directory(path, ec);
  const std::filesystem::path file = folder ? path / "results.json" : path;
  if (!std::filesystem::exists(file, ec))
    throw InputError(Location{file.string()},
                     folder ? "no results.json in this folder (chexgen fidelity writes it)" : "file not found");
  const json j = parse_json(read_file_bytes(file), Location{file.string()});
  Results r = results_from_json(j, file.string());
  // Without a name, the results folder's ("results/blur-2/results.json" -> "blur-2").
  if (r.generator.empty()) r.generator = std::filesystem::absolute(file).parent_path().filename().string();
  return r;
}

void write_results(const std::filesystem::path& file, const Results& r) {
  write_file_atomically(file, to_json(r).dump(2) + "\n");
}

}  // namespace chexgen::results
