#include "chexgen/rrg/radgraph.h"

#include <algorithm>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "chexgen/core/error.h"
#include "chexgen/core/files.h"
#include "chexgen/core/json.h"
#include "chexgen/metrics/numpy_random.h"

namespace chexgen::rrg {
namespace {

[[noreturn]] void fail(const std::string& file, const std::string& path, const std::string& reason) {
  throw InputError(Location(file), fmt::format("{}: {}", path, reason));
}

const nlohmann::json& member(const nlohmann::json& j, const char* key, const std::string& file,
                             const std::string& path) {
  if (!j.is_object()) fail(file, path, "not an object");
  const auto it = j.find(key);
  if (it == j.end()) fail(file, path, fmt::format("no \"{}\"", key));
  return *it;
}

}  // namespace

RadGraphAnnotation radgraph_annotation_from_json(const nlohmann::json& j, const std::string& file,
                                                 const std::string& path) {
  const nlohmann::json& entities = member(j, "entities", file, path);
  if (!entities.is_object()) fail(file, path + ".entities", "not an object");
  RadGraphAnnotation a;
  a.entity_count = entities.size();
  for (const auto& [id, e] : entities.items()) {
    const std::string at = fmt::format("{}.entities[\"{}\"]", path, id);
    const nlohmann::json& tokens = member(e, "tokens", file, at);
    const nlohmann::json& label = member(e, "label", file, at);
    const nlohmann::json& relations = member(e, "relations", file, at);
    if (!tokens.is_string()) fail(file, at + ".tokens", "not a string");
    if (!label.is_string()) fail(file, at + ".label", "not a string");
    if (!relations.is_array()) fail(file, at + ".relations", "not an array");
    // (tokens, label) or (tokens, label, True), written unambiguously: lengths before the strings.
    const std::string& t = tokens.get_ref<const std::string&>();
    const std::string& l = label.get_ref<const std::string&>();
    a.entities.push_back(fmt::format("{}:{}{}:{}{}", t.size(), t, l.size(), l, relations.empty() ? '-' : '+'));
  }
  std::sort(a.entities.begin(), a.entities.end());
  a.entities.erase(std::unique(a.entities.begin(), a.entities.end()), a.entities.end());
  return a;
}

std::vector<RadGraphAnnotation> read_radgraph_annotations(const std::filesystem::path& file, std::size_t n,
                                                          const std::vector<bool>& empty) {
  const std::string name = file.string();
  const nlohmann::json j = parse_json(read_file_bytes(file), Location(name));
  if (!j.is_object() && !j.is_array())
    throw InputError(Location(name), "RadGraph annotations must be an object keyed \"0\"..\"2n-1\" or an array");
  if (j.is_array() && j.size() != 2 * n)
    throw InputError(Location(name), fmt::format("{} annotations for {} report pairs (predictions then references: "
                                                 "{} expected)", j.size(), n, 2 * n));
  std::vector<RadGraphAnnotation> out(2 * n);
  for (std::size_t i = 0; i < 2 * n; ++i) {
    if (empty[i % n]) continue;
    const std::string key = std::to_string(i);
    const nlohmann::json* a = nullptr;
    if (j.is_array()) {
      a = &j[i];
    } else {
      const auto it = j.find(key);
      if (it == j.end())
        throw InputError(Location(name), fmt::format("no annotation \"{}\" ({} {}): annotate predictions then "
                                                     "references, in the order of the reports", key,
                                                     i < n ? "prediction" : "reference", i % n + 1));
      a = &*it;
    }
    out[i] = radgraph_annotation_from_json(*a, name, "[" + key + "]");
  }
  return out;
}

RadGraphReward radgraph_partial_reward(const RadGraphAnnotation& hypothesis, const RadGraphAnnotation& reference) {
  if (hypothesis.entity_count == 0 || reference.entity_count == 0) return {};
  std::vector<std::string> common;
  std::set_intersection(hypothesis.entities.begin(), hypothesis.entities.end(), reference.entities.begin(),
                        reference.entities.end(), std::back_inserter(common));
  const auto matched = static_cast<double>(common.size());
  RadGraphReward r;
  r.precision = hypothesis.entities.empty() ? 0.0 : matched / static_cast<double>(hypothesis.entities.size());
  r.recall = reference.entities.empty() ? 0.0 : matched / static_cast<double>(reference.entities.size());
  r.f1 = r.precision + r.recall > 0 ? 2 * r.precision * r.recall / (r.precision + r.recall) : 0.0;
  return r;
}

F1RadGraph f1_radgraph(const std::vector<RadGraphAnnotation>& annotations, const std::vector<bool>& empty,
                       std::size_t resamples, double confidence, std::uint32_t seed) {
  const std::size_t n = empty.size();
  CHEXGEN_ASSERT(n >= 1 && annotations.size() == 2 * n, "f1_radgraph: n predictions then n references");
  CHEXGEN_ASSERT(resamples >= 1, "f1_radgraph: no resamples");
  F1RadGraph out;
  out.rewards.resize(n);
  for (std::size_t i = 0; i < n; ++i)
    if (!empty[i]) out.rewards[i] = radgraph_partial_reward(annotations[i], annotations[n + i]);
  // np.mean(rewards, axis=0) of an (n, 3) matrix: the rows added in order.
  double sum = 0;
  for (const RadGraphReward& r : out.rewards) sum += r.f1;
  out.mean = sum / static_cast<double>(n);
  std::vector<double> dist;
  dist.reserve(resamples);
  metrics::scipy_bootstrap_rows(n, resamples, seed, [&](std::span<const std::size_t> rows) {
    double s = 0;
    for (std::size_t i : rows) s += out.rewards[i].f1;
    dist.push_back(s / static_cast<double>(n));
  });
  out.median = metrics::numpy_median(dist);
  const metrics::Interval ci = metrics::scipy_percentile_interval(dist, confidence);
  out.low = ci.low;
  out.high = ci.high;
  out.resamples = resamples;
  return out;
}

}  // namespace chexgen::rrg
